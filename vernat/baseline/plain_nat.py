"""The `unverified` device of `vernat bench`: a NAT with vernat's semantics written the
plain way, with no proof to carry.

What "plain" means here: one numba function over the whole batch; a hash table from
flow (inside and remote endpoints) to index written the way one writes it in C (open
addressing, linear probing, tombstones on delete, a multiplicative hash: what DPDK's
rte_hash is to VigNAT's unverified NAT); a stack of free indices; per-flow records in a
numpy array; lazy expiry (a flow idle for the timeout or longer counts as absent
wherever it is looked at; a full table sweeps for idle flows before refusing a new one).
No state-library API, no contracts, no subset rules: the code reads and writes the
frame bytes directly.

Why not numba's typed Dict, the first choice: the data plane calls its per-round
function from Python, and numba's dispatcher takes ~50 µs per call to type a tuple
holding a typed Dict (measured: 104 µs for two such arguments, 0.24 µs for two arrays;
1.8 µs for a bare Dict), which alone capped that device far below the others; wrapping
the Dict in a jitclass (0.4 µs) defeats numba's on-disk cache (a jitclass type is new
in every process), so every start would recompile the data plane (~20 s).  Tombstones
are the shortcut a proof would not let through: under churn they lengthen the probe
chains for good (vernat's map uses libVig-style chain counters instead); the benchmark
never deletes a flow (the timeouts outlast it), so it does not pay for them.

Same semantics as docs/semantics.md as far as a peer can see (every check, every
drop reason in the same order, RFC 1624 checksum updates, TTL, MACs, external port =
first port + index, inbound frames must come from the flow's remote endpoint), except
which free index a new flow gets (the semantics leave it open) and that idle flows are
released when next looked at rather than at every frame (indistinguishable on the
wire).  Unlike vernat/baseline/dict_flowtable.py, which runs the *verified* per-packet
source over a typed dict through the flow-table API (and pays numba's reference
counting on every inlined helper call), this is what someone would write from scratch.

State of one protocol: one int64 array = [capacity, free_top, live, mask] + free stack
(capacity) + 4 words per flow (key1, key2, inside MAC, last_seen; last_seen = -1: free)
+ the hash table's slots (mask + 1 >= 2 x capacity): key1s, key2s, values (flow index,
EMPTY or TOMBSTONE).
"""

import numba
import numpy as np

from vernat.nat import constants as C

CAP, FREE_TOP, LIVE, MASK, HEAD = 0, 1, 2, 3, 4
EMPTY, TOMBSTONE = -1, -2


def new_state(capacity):
    slots = 1
    while slots < 2 * capacity:
        slots *= 2
    arr = np.zeros(HEAD + 5 * capacity + 3 * slots, dtype=np.int64)
    arr[CAP] = capacity
    arr[FREE_TOP] = capacity
    arr[MASK] = slots - 1
    arr[HEAD:HEAD + capacity] = np.arange(capacity - 1, -1, -1)   # index 0 first
    arr[HEAD + capacity + 3:HEAD + 5 * capacity:4] = -1
    arr[HEAD + 5 * capacity + 2 * slots:] = EMPTY
    return arr


@numba.njit(inline="always")
def _rec(a, i):
    return HEAD + a[CAP] + 4 * i


@numba.njit(inline="always")
def _slots(a):
    """Where the slots' key1s start; key2s and values follow, mask + 1 each."""
    return HEAD + 5 * a[CAP]


@numba.njit(inline="always")
def _hash(a, k1, k2):
    h = k1 * -7046029254386353131 + k2 * -4658895280553007687
    return (h ^ (h >> 29)) & a[MASK]


@numba.njit(inline="always")
def _find(a, k1, k2):
    """Slot holding (k1, k2), or -1."""
    base, n = _slots(a), a[MASK] + 1
    s = _hash(a, k1, k2)
    while True:
        v = a[base + 2 * n + s]
        if v == EMPTY:
            return -1
        if v >= 0 and a[base + s] == k1 and a[base + n + s] == k2:
            return s
        s = (s + 1) & a[MASK]


@numba.njit(inline="always")
def _get(a, k1, k2):
    s = _find(a, k1, k2)
    return -1 if s < 0 else a[_slots(a) + 2 * (a[MASK] + 1) + s]


@numba.njit(inline="always")
def _put(a, k1, k2, i):
    """(k1, k2) -> i; the key is known to be absent."""
    base, n = _slots(a), a[MASK] + 1
    s = _hash(a, k1, k2)
    while a[base + 2 * n + s] >= 0:
        s = (s + 1) & a[MASK]
    a[base + s] = k1
    a[base + n + s] = k2
    a[base + 2 * n + s] = i


@numba.njit(inline="always")
def _u16(buf, at):
    return (np.int64(buf[at]) << 8) | np.int64(buf[at + 1])


@numba.njit(inline="always")
def _put16(buf, at, v):
    buf[at] = (v >> 8) & 0xFF
    buf[at + 1] = v & 0xFF


@numba.njit(inline="always")
def _u32(buf, at):
    return (_u16(buf, at) << 16) | _u16(buf, at + 2)


@numba.njit(inline="always")
def _csum_update(csum, old, new):
    """RFC 1624 eqn. 3 for one 16-bit word."""
    s = (0xFFFF ^ csum) + (0xFFFF ^ old) + new
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return 0xFFFF ^ s


@numba.njit(inline="always")
def _put_mac(buf, at, mac):
    for b in range(6):
        buf[at + b] = (mac >> (8 * (5 - b))) & 0xFF


@numba.njit(inline="always")
def _release(a, i):
    r = _rec(a, i)
    a[_slots(a) + 2 * (a[MASK] + 1) + _find(a, a[r], a[r + 1])] = TOMBSTONE
    a[r + 3] = -1
    a[HEAD + a[FREE_TOP]] = i
    a[FREE_TOP] += 1
    a[LIVE] -= 1


@numba.njit(inline="always")
def _rewrite(buf, ip, l4, csum_at, is_udp, addr_at, port_at, new_addr, new_port):
    """Replace an address/port pair, update both checksums (UDP 0 stays 0)."""
    ipsum = _u16(buf, ip + 10)
    l4sum = _u16(buf, csum_at)
    for w in range(2):
        old = _u16(buf, ip + addr_at + 2 * w)
        new = (new_addr >> (16 * (1 - w))) & 0xFFFF
        ipsum = _csum_update(ipsum, old, new)
        l4sum = _csum_update(l4sum, old, new)
        _put16(buf, ip + addr_at + 2 * w, new)
    old = _u16(buf, l4 + port_at)
    l4sum = _csum_update(l4sum, old, new_port)
    _put16(buf, l4 + port_at, new_port)
    # TTL - 1
    old = _u16(buf, ip + 8)
    ipsum = _csum_update(ipsum, old, old - 0x100)
    _put16(buf, ip + 8, old - 0x100)
    _put16(buf, ip + 10, ipsum)
    if is_udp and _u16(buf, csum_at) == 0:
        return
    if is_udp and l4sum == 0:
        l4sum = 0xFFFF
    _put16(buf, csum_at, l4sum)


@numba.njit(inline="always")
def _frame(buf, off, length, now, side, cfg, tcp, udp):
    """FORWARD or a DROP_* reason, the frame rewritten in place."""
    if length < 14 or buf[off + 12] != 0x08 or buf[off + 13] != 0x00:
        return C.DROP_NOT_IPV4
    if length < 34:
        return C.DROP_BAD_IP_HEADER
    ip = off + 14
    hlen = (buf[ip] & 0x0F) * 4
    total = _u16(buf, ip + 2)
    if (buf[ip] >> 4) != 4 or hlen < 20 or 14 + hlen > length or hlen > total \
            or 14 + total > length:
        return C.DROP_BAD_IP_HEADER
    s = 0
    for w in range(hlen // 2):
        s += _u16(buf, ip + 2 * w)
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    if s != 0xFFFF:
        return C.DROP_BAD_IP_CHECKSUM
    if _u16(buf, ip + 6) & 0x3FFF:
        return C.DROP_FRAGMENT
    if buf[ip + 8] < 2:
        return C.DROP_TTL_EXPIRED
    proto = buf[ip + 9]
    if proto != 6 and proto != 17:
        return C.DROP_UNSUPPORTED_PROTOCOL
    is_udp = proto == 17
    l4 = ip + hlen
    if is_udp:
        if total - hlen < 8:
            return C.DROP_TRUNCATED_L4
        a = udp
        timeout = cfg[C.CFG_UDP_TIMEOUT]
        csum_at = l4 + 6
    else:
        if total - hlen < 20:
            return C.DROP_TRUNCATED_L4
        a = tcp
        timeout = cfg[C.CFG_TCP_TIMEOUT]
        csum_at = l4 + 16
    if side == 0:       # outbound
        k1 = (_u32(buf, ip + 12) << 16) | _u16(buf, l4)
        k2 = (_u32(buf, ip + 16) << 16) | _u16(buf, l4 + 2)
        i = _get(a, k1, k2)
        if i >= 0 and now - a[_rec(a, i) + 3] >= timeout:
            _release(a, i)
            i = -1
        if i < 0:
            if a[FREE_TOP] == 0:        # full: sweep for idle flows
                for j in range(a[CAP]):
                    seen = a[_rec(a, j) + 3]
                    if seen >= 0 and now - seen >= timeout:
                        _release(a, j)
                if a[FREE_TOP] == 0:
                    return C.DROP_TABLE_FULL
            a[FREE_TOP] -= 1
            i = a[HEAD + a[FREE_TOP]]
            r = _rec(a, i)
            a[r] = k1
            a[r + 1] = k2
            a[r + 2] = (_u16(buf, off + 6) << 32) | _u32(buf, off + 8)
            a[LIVE] += 1
            _put(a, k1, k2, i)
        a[_rec(a, i) + 3] = now
        _rewrite(buf, ip, l4, csum_at, is_udp, 12, 0, cfg[C.CFG_EXTERNAL_IP],
                 cfg[C.CFG_PORT_START] + i)
        _put_mac(buf, off + 6, cfg[C.CFG_OUTSIDE_MAC])
        _put_mac(buf, off, cfg[C.CFG_GATEWAY_MAC])
        return C.FORWARD
    # inbound
    if _u32(buf, ip + 16) != cfg[C.CFG_EXTERNAL_IP]:
        return C.DROP_WRONG_DESTINATION
    port = _u16(buf, l4 + 2)
    if port < cfg[C.CFG_PORT_START] or port > cfg[C.CFG_PORT_END]:
        return C.DROP_PORT_OUT_OF_RANGE
    i = port - cfg[C.CFG_PORT_START]
    if i >= a[CAP]:
        return C.DROP_NO_FLOW
    r = _rec(a, i)
    if a[r + 3] < 0:
        return C.DROP_NO_FLOW
    if now - a[r + 3] >= timeout:
        _release(a, i)
        return C.DROP_NO_FLOW
    if a[r + 1] != (_u32(buf, ip + 12) << 16) | _u16(buf, l4):
        return C.DROP_SPOOFED
    a[r + 3] = now
    inside = a[r]
    _rewrite(buf, ip, l4, csum_at, is_udp, 16, 2, inside >> 16, inside & 0xFFFF)
    _put_mac(buf, off + 6, cfg[C.CFG_INSIDE_MAC])
    _put_mac(buf, off, a[r + 2])
    return C.FORWARD


@numba.njit(inline="always")
def process_batch(buf, offs, lens, times, sides, count, cfg, clock, tcp, udp,
                  verdicts, reasons):
    """Same signature and results as the verified entry point's (vernat/nat/process.py)."""
    forwarded = 0
    for k in range(count):
        now = max(times[k], clock[0])
        clock[0] = now
        off = offs[k]
        length = lens[k]
        if off < 0 or length < 0 or off + length > len(buf):
            r = C.DROP_BAD_DESCRIPTOR
        else:
            r = _frame(buf, off, length, now, sides[k], cfg, tcp, udp)
        reasons[k] = r
        if r != C.FORWARD:
            verdicts[k] = C.DROP
        else:
            verdicts[k] = C.TO_INSIDE if sides[k] else C.TO_OUTSIDE
            forwarded += 1
    return forwarded


def flow_count(state):
    return int(state[LIVE])
