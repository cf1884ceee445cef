"""TPACKET_V3 ring handling in numba: one round (step_source) handles every ready
receive block of both sockets, calling the verified process_batch once per block; the
loop around the rounds (serve_source, with send() and poll()) runs in numba too.

Receive ring (TPACKET_V3): blocks; the kernel hands a block over by setting
TP_STATUS_USER in its block_status, we give it back by writing TP_STATUS_KERNEL.
Transmit ring: fixed-size frames; a frame is ours while its tp_status is
TP_STATUS_AVAILABLE, we hand it over with TP_STATUS_SEND_REQUEST, and send() tells the
kernel to look.  Every status word is read with acquire and written with release
semantics (the intrinsics of vernat/io/xdp/rings.py: plain moves on x86, but the
compiler keeps the frame accesses on the right side of them).

The NAT rewrites frames where they lie in the receive block (the block is ours until
we give it back); a forwarded frame is then copied into the other socket's transmit
ring: the one copy AF_PACKET cannot avoid (its rings are per socket).
"""

import sys

import numba

from vernat.io import libc
from vernat.io.xdp.rings import (IDLE_POLL_MS, last_errno, load_acquire_u32, load_u32,
                                 monotonic_ns, retry_later, store_release_u32)
from vernat.io.jit_step import compile_step
from vernat.nat import constants as C

TP_STATUS_KERNEL = 0
TP_STATUS_USER = 1
TP_STATUS_AVAILABLE = 0
TP_STATUS_SEND_REQUEST = 1
TP_STATUS_WRONG_FORMAT = 4

# struct tpacket_block_desc: u32 version, u32 offset_to_priv, struct tpacket_hdr_v1
BLOCK_STATUS = 8
BLOCK_NUM_PKTS = 12
BLOCK_FIRST_PKT = 16
# struct tpacket3_hdr
PKT_NEXT = 0
PKT_SNAPLEN = 12
PKT_LEN = 16
PKT_STATUS = 20
PKT_MAC = 24            # u16
TX_DATA = 48            # TPACKET_ALIGN(sizeof(struct tpacket3_hdr)): where TX data goes

# geometry[side, field]; RX_BASE is the address of the socket's mapping (RX ring, then TX)
RX_BASE, RX_BLOCK_SIZE, RX_BLOCKS, TX_OFFSET, TX_FRAME_SIZE, TX_SLOTS, NEXT_BLOCK, NEXT_TX = range(8)

# counters[...] (the same layout as the XDP data plane's, for the same live table)
RX_FRAMES = 0
TX_FRAMES = 2
TX_RING_FULL = 4
BATCHES = 6
REASONS = 8
NUM_COUNTERS = REASONS + C.NUM_REASONS

nat_process_batch = None
_step = None
_serve = None


def make_step(kernel):
    """The per-round function, bound to the verified entry point (vernat/io/jit_step.py)."""
    return compile_step(sys.modules[__name__], kernel)


@numba.njit(inline="always")
def u16(ring, off):
    return numba.int64(ring[off]) | (numba.int64(ring[off + 1]) << 8)


@numba.njit(inline="always")
def put_u32(ring, off, value):
    ring[off] = value & 0xFF
    ring[off + 1] = (value >> 8) & 0xFF
    ring[off + 2] = (value >> 16) & 0xFF
    ring[off + 3] = (value >> 24) & 0xFF


@numba.njit(inline="always")
def handle_block(rx_ring, tx_ring, s, geometry, cfg, clock, tcp, udp, now,
                 offs, lens, times, sides, verdicts, reasons, counters):
    """Process the next receive block of side s if the kernel has handed it over;
    forwarded frames go into the other side's transmit ring.  Returns frames seen."""
    t = 1 - s
    block = geometry[s, NEXT_BLOCK]
    base = geometry[s, RX_BLOCK_SIZE] * block
    status_addr = geometry[s, RX_BASE] + base + BLOCK_STATUS
    if (load_acquire_u32(status_addr) & TP_STATUS_USER) == 0:
        return 0
    n = load_u32(geometry[s, RX_BASE] + base + BLOCK_NUM_PKTS)
    pkt = base + load_u32(geometry[s, RX_BASE] + base + BLOCK_FIRST_PKT)
    count = 0
    for _ in range(n):
        if count >= len(offs):
            break
        snaplen = load_u32(geometry[s, RX_BASE] + pkt + PKT_SNAPLEN)
        length = load_u32(geometry[s, RX_BASE] + pkt + PKT_LEN)
        offs[count] = pkt + u16(rx_ring, pkt + PKT_MAC)
        # a frame cut by the ring (longer than its slot) is not handed to the NAT whole:
        # give the NAT a length it will refuse (bad_descriptor) rather than a short frame
        lens[count] = snaplen if snaplen == length else len(rx_ring) + 1
        times[count] = now
        sides[count] = s
        count += 1
        pkt += load_u32(geometry[s, RX_BASE] + pkt + PKT_NEXT)
    counters[RX_FRAMES + s] += count
    counters[BATCHES] += 1
    nat_process_batch(rx_ring, offs, lens, times, sides, count, cfg, clock, tcp, udp,
                      verdicts, reasons)
    sent = 0
    for k in range(count):
        counters[REASONS + reasons[k]] += 1
        if verdicts[k] == C.DROP:
            continue
        frame = geometry[t, TX_OFFSET] + geometry[t, TX_FRAME_SIZE] * geometry[t, NEXT_TX]
        status = load_acquire_u32(geometry[t, RX_BASE] + frame + PKT_STATUS)
        length = lens[k]
        if status != TP_STATUS_AVAILABLE and status != TP_STATUS_WRONG_FORMAT or \
                TX_DATA + length > geometry[t, TX_FRAME_SIZE]:
            counters[TX_RING_FULL + t] += 1
            continue
        tx_ring[frame + TX_DATA:frame + TX_DATA + length] = rx_ring[offs[k]:offs[k] + length]
        put_u32(tx_ring, frame + PKT_LEN, length)
        put_u32(tx_ring, frame + PKT_SNAPLEN, length)
        store_release_u32(geometry[t, RX_BASE] + frame + PKT_STATUS, TP_STATUS_SEND_REQUEST)
        geometry[t, NEXT_TX] = (geometry[t, NEXT_TX] + 1) % geometry[t, TX_SLOTS]
        sent += 1
    counters[TX_FRAMES + t] += sent
    # the block goes back to the kernel only now: the frames were rewritten in it
    store_release_u32(status_addr, TP_STATUS_KERNEL)
    geometry[s, NEXT_BLOCK] = (block + 1) % geometry[s, RX_BLOCKS]
    return count


def step_source(ring0, ring1, geometry, cfg, clock, tcp, udp, now, max_blocks,
                offs, lens, times, sides, verdicts, reasons, counters, sent):
    """Up to max_blocks blocks per side. Returns frames received; sent[side] = frames
    queued for transmission on that side (the caller kicks those sockets)."""
    total = 0
    sent[0] = 0
    sent[1] = 0
    for _ in range(max_blocks):
        before0 = counters[TX_FRAMES + 0]
        before1 = counters[TX_FRAMES + 1]
        got = 0
        # one call site for both sides: handle_block inlines the whole NAT, and a
        # second site would compile it twice (the cold start was 2.5 min, not 1)
        for s in range(2):
            rx = ring0 if s == 0 else ring1
            tx = ring1 if s == 0 else ring0
            got += handle_block(rx, tx, s, geometry, cfg, clock, tcp, udp, now,
                                offs, lens, times, sides, verdicts, reasons, counters)
        sent[0] += counters[TX_FRAMES + 0] - before0
        sent[1] += counters[TX_FRAMES + 1] - before1
        total += got
        if got == 0:
            break
    return total


def serve_source(ring0, ring1, geometry, cfg, clock, tcp, udp, max_blocks, offs, lens,
                 times, sides, verdicts, reasons, counters, sent, fds, pollfds, clock_buf,
                 until_ns, busy, failure):
    """The loop, as vernat/io/xdp/rings.py's serve_source: rounds (step_source, then
    send() on each socket that got frames to transmit) until the monotonic clock
    reaches until_ns; an idle loop sleeps in poll() unless `busy`. Returns 0, or -1
    when a send() failed with an error retrying cannot cure: failure = [errno, side]."""
    while True:
        now = monotonic_ns(clock_buf)
        if now >= until_ns:
            return 0
        n = _step(ring0, ring1, geometry, cfg, clock, tcp, udp, now, max_blocks, offs, lens,
                  times, sides, verdicts, reasons, counters, sent)
        for s in range(2):
            if sent[s] and libc.sendto(fds[s], 0, 0, libc.MSG_DONTWAIT, 0, 0) < 0:
                code = last_errno()
                if not retry_later(code):
                    failure[0] = code
                    failure[1] = s
                    return -1
        if n == 0 and not busy:
            wait = min(IDLE_POLL_MS, (until_ns - now) // 1_000_000 + 1)
            if libc.poll(pollfds, 2, wait) < 0 and last_errno() == libc.EINTR:
                return 0
