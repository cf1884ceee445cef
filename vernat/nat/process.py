"""The per-packet NAT: RFC 3022 NAPT for TCP and UDP over IPv4.

This is the code that is proven (vernat verify) and the code that runs:
numba compiles it for replay and the live data plane, CPython runs it in
tests. It is written in the subset of docs/subset.md; the numbered steps
refer to docs/semantics.md.

State is passed in explicitly: `clock` (int64[1], the last `now`), and one
flow table per protocol (`tcp`, `udp`, see vernat/state/). The frame is
rewritten in place.
"""

from vernat.packet.fields import (
    ETH_DST, ETH_SRC, ETH_TYPE, ETH_HLEN, ETHERTYPE_IPV4,
    IP_VER_IHL, IP_TOTAL_LEN, IP_FLAGS_FRAG, IP_TTL, IP_PROTO, IP_CSUM, IP_SRC, IP_DST,
    IP_MIN_HLEN, IP_MF_AND_OFFSET, PROTO_TCP, PROTO_UDP,
    L4_SPORT, L4_DPORT, TCP_CSUM, TCP_MIN_HLEN, UDP_CSUM, UDP_HLEN,
    load8, load16, load32, load48, store16, store32, store48,
)
from vernat.packet.checksum import ipv4_header_sum, csum_replace16, csum_replace32
from vernat.state.flowtable import (
    flow_lookup, flow_allocate, flow_refresh, flow_expire, flow_is_allocated,
    flow_key1, flow_key2, flow_mac, flow_prefetch_key, flow_prefetch_index,
)
from vernat.nat.constants import (
    CFG_EXTERNAL_IP, CFG_PORT_START, CFG_PORT_END, CFG_UDP_TIMEOUT, CFG_TCP_TIMEOUT,
    CFG_INSIDE_MAC, CFG_OUTSIDE_MAC, CFG_GATEWAY_MAC,
    DROP, TO_INSIDE, TO_OUTSIDE, FORWARD,
    DROP_BAD_DESCRIPTOR, DROP_NOT_IPV4, DROP_BAD_IP_HEADER, DROP_BAD_IP_CHECKSUM,
    DROP_FRAGMENT, DROP_TTL_EXPIRED, DROP_UNSUPPORTED_PROTOCOL, DROP_TRUNCATED_L4,
    DROP_TABLE_FULL, DROP_WRONG_DESTINATION, DROP_PORT_OUT_OF_RANGE, DROP_NO_FLOW,
    DROP_SPOOFED,
)


def rewrite_endpoint(buf, ip, l4, csum_at, is_udp, addr_field, port_field,
                     new_addr, new_port):
    """Replace one address/port pair (source or destination) and update the
    IPv4 header checksum and the TCP/UDP checksum incrementally (RFC 1624).
    A UDP checksum of 0 means "none" and stays 0; a computed 0 is sent as
    0xFFFF, its one's-complement twin (step 6)."""
    old_addr = load32(buf, ip + addr_field)
    old_port = load16(buf, l4 + port_field)
    store32(buf, ip + addr_field, new_addr)
    store16(buf, l4 + port_field, new_port)
    store16(buf, ip + IP_CSUM, csum_replace32(load16(buf, ip + IP_CSUM), old_addr, new_addr))
    l4sum = load16(buf, csum_at)
    if is_udp and l4sum == 0:
        return
    l4sum = csum_replace32(l4sum, old_addr, new_addr)
    l4sum = csum_replace16(l4sum, old_port, new_port)
    if is_udp and l4sum == 0:
        l4sum = 0xFFFF
    store16(buf, csum_at, l4sum)


def decrement_ttl(buf, ip):
    """TTL - 1, with the IPv4 header checksum updated for the TTL/protocol word."""
    old_word = load16(buf, ip + IP_TTL)
    new_word = old_word - 0x100
    store16(buf, ip + IP_TTL, new_word)
    store16(buf, ip + IP_CSUM, csum_replace16(load16(buf, ip + IP_CSUM), old_word, new_word))


def outbound(buf, off, ip, l4, csum_at, is_udp, now, cfg, table):
    """Step 4: a frame from the inside."""
    k1 = (load32(buf, ip + IP_SRC) << 16) | load16(buf, l4 + L4_SPORT)
    k2 = (load32(buf, ip + IP_DST) << 16) | load16(buf, l4 + L4_DPORT)
    i = flow_lookup(table, k1, k2)
    if i >= 0:
        flow_refresh(table, i, now)
    else:
        i = flow_allocate(table, k1, k2, load48(buf, off + ETH_SRC), now)
        if i < 0:
            return DROP_TABLE_FULL
    rewrite_endpoint(buf, ip, l4, csum_at, is_udp, IP_SRC, L4_SPORT,
                     cfg[CFG_EXTERNAL_IP], cfg[CFG_PORT_START] + i)
    decrement_ttl(buf, ip)
    store48(buf, off + ETH_SRC, cfg[CFG_OUTSIDE_MAC])
    store48(buf, off + ETH_DST, cfg[CFG_GATEWAY_MAC])
    return FORWARD


def inbound(buf, off, ip, l4, csum_at, is_udp, now, cfg, table):
    """Step 5: a frame from the outside. Every check comes before any state
    is touched, so a spoofed or misdirected frame changes nothing."""
    if load32(buf, ip + IP_DST) != cfg[CFG_EXTERNAL_IP]:
        return DROP_WRONG_DESTINATION
    port = load16(buf, l4 + L4_DPORT)
    if port < cfg[CFG_PORT_START] or port > cfg[CFG_PORT_END]:
        return DROP_PORT_OUT_OF_RANGE
    i = port - cfg[CFG_PORT_START]
    if not flow_is_allocated(table, i):
        return DROP_NO_FLOW
    remote = (load32(buf, ip + IP_SRC) << 16) | load16(buf, l4 + L4_SPORT)
    if flow_key2(table, i) != remote:
        return DROP_SPOOFED
    flow_refresh(table, i, now)
    inside = flow_key1(table, i)
    rewrite_endpoint(buf, ip, l4, csum_at, is_udp, IP_DST, L4_DPORT,
                     inside >> 16, inside & 0xFFFF)
    decrement_ttl(buf, ip)
    store48(buf, off + ETH_SRC, cfg[CFG_INSIDE_MAC])
    store48(buf, off + ETH_DST, flow_mac(table, i))
    return FORWARD


def process_frame(buf, off, length, time, from_outside, cfg, clock, tcp, udp):
    """Process one frame buf[off:off+length] in place; FORWARD or a DROP_* reason."""
    # 1. time never goes backwards
    now = time
    if now < clock[0]:
        now = clock[0]
    clock[0] = now
    # 2. expiry, in both tables, before anything else
    flow_expire(tcp, now, cfg[CFG_TCP_TIMEOUT])
    flow_expire(udp, now, cfg[CFG_UDP_TIMEOUT])
    # 3. parse and validate
    if off < 0 or length < 0 or off + length > len(buf):
        return DROP_BAD_DESCRIPTOR
    if length < ETH_HLEN:
        return DROP_NOT_IPV4
    if load16(buf, off + ETH_TYPE) != ETHERTYPE_IPV4:
        return DROP_NOT_IPV4
    if length < ETH_HLEN + IP_MIN_HLEN:
        return DROP_BAD_IP_HEADER
    ip = off + ETH_HLEN
    ver_ihl = load8(buf, ip + IP_VER_IHL)
    hlen = (ver_ihl & 0x0F) * 4
    total = load16(buf, ip + IP_TOTAL_LEN)
    if (ver_ihl >> 4) != 4 or hlen < IP_MIN_HLEN or ETH_HLEN + hlen > length:
        return DROP_BAD_IP_HEADER
    if hlen > total or ETH_HLEN + total > length:
        return DROP_BAD_IP_HEADER
    if ipv4_header_sum(buf, ip, hlen // 2) != 0xFFFF:
        return DROP_BAD_IP_CHECKSUM
    if (load16(buf, ip + IP_FLAGS_FRAG) & IP_MF_AND_OFFSET) != 0:
        return DROP_FRAGMENT
    if load8(buf, ip + IP_TTL) < 2:
        return DROP_TTL_EXPIRED
    proto = load8(buf, ip + IP_PROTO)
    if proto != PROTO_TCP and proto != PROTO_UDP:
        return DROP_UNSUPPORTED_PROTOCOL
    is_udp = proto == PROTO_UDP
    payload = total - hlen
    l4 = ip + hlen
    if is_udp:
        if payload < UDP_HLEN:
            return DROP_TRUNCATED_L4
        csum_at = l4 + UDP_CSUM
        table = udp
    else:
        if payload < TCP_MIN_HLEN:
            return DROP_TRUNCATED_L4
        csum_at = l4 + TCP_CSUM
        table = tcp
    # 4./5. translate
    if from_outside != 0:
        return inbound(buf, off, ip, l4, csum_at, is_udp, now, cfg, table)
    return outbound(buf, off, ip, l4, csum_at, is_udp, now, cfg, table)


PREFETCH_AHEAD = 8


def prefetch_frame(buf, off, length, from_outside, cfg, tcp, udp):
    """A hint, not a step: warm the cache line of the flow-table entry this
    frame will need, a few frames before it is processed. It only reads
    bytes inside the frame and changes nothing: results never depend on it."""
    if off < 0 or length < ETH_HLEN + IP_MIN_HLEN or off + length > len(buf):
        return
    ip = off + ETH_HLEN
    l4 = ip + (load8(buf, ip + IP_VER_IHL) & 0x0F) * 4
    if l4 + 4 > off + length:
        return
    table = udp
    if load8(buf, ip + IP_PROTO) == PROTO_TCP:
        table = tcp
    if from_outside != 0:
        flow_prefetch_index(table, load16(buf, l4 + L4_DPORT) - cfg[CFG_PORT_START])
    else:
        flow_prefetch_key(table, (load32(buf, ip + IP_SRC) << 16) | load16(buf, l4 + L4_SPORT),
                          (load32(buf, ip + IP_DST) << 16) | load16(buf, l4 + L4_DPORT))


def process_batch(buf, offs, lens, times, from_outside, count, cfg, clock, tcp, udp,
                  verdicts, reasons):
    """The one entry point for replay and the live data plane: frames
    0..count-1 of a batch, described by (offs, lens, times, from_outside),
    all inside buf. Fills verdicts (DROP / TO_INSIDE / TO_OUTSIDE) and
    reasons (FORWARD or DROP_*); returns how many were forwarded."""
    n = count
    if n > len(offs):
        n = len(offs)
    if n > len(lens):
        n = len(lens)
    if n > len(times):
        n = len(times)
    if n > len(from_outside):
        n = len(from_outside)
    if n > len(verdicts):
        n = len(verdicts)
    if n > len(reasons):
        n = len(reasons)
    forwarded = 0
    for k in range(n):
        ahead = k + PREFETCH_AHEAD
        if ahead < n:
            prefetch_frame(buf, offs[ahead], lens[ahead], from_outside[ahead], cfg, tcp, udp)
        side = from_outside[k]
        r = process_frame(buf, offs[k], lens[k], times[k], side, cfg, clock, tcp, udp)
        reasons[k] = r
        if r != FORWARD:
            verdicts[k] = DROP
        elif side != 0:
            verdicts[k] = TO_INSIDE
            forwarded += 1
        else:
            verdicts[k] = TO_OUTSIDE
            forwarded += 1
    return forwarded
