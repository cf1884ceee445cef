"""AF_XDP ring handling in numba: one call per batch moves frames RX -> NAT -> TX.

Memory ordering.  The rings are single-producer/single-consumer queues shared with
the kernel through mmap'd memory (Linux net/xdp/xsk_queue.h).  The rules are: the
consumer reads the producer index with *acquire* semantics before reading the
descriptors it covers, and publishes its consumer index with *release* semantics
after it is done with them; the producer writes descriptors (and, for TX, the frame
bytes) before publishing its producer index with *release*, and reads the consumer
index with *acquire* before reusing slots.  numba has no atomics, so two intrinsics
below emit LLVM `load atomic ... acquire` and `store atomic ... release`.  On x86-64
(TSO: loads are not reordered with loads, stores not with stores, nor a load with a
later store) both compile to plain `mov`s; what they add is *compiler* ordering:
LLVM may no longer cache the index in a register, or move descriptor or frame
accesses across them.  Our own index (the one only we write) is read with a plain
load.  Indices are free-running u32 counters; the slot is `index & mask`.

Frames stay on the side that received them: a frame received on side s is either
sent on side 1-s (TX) and comes back through 1-s's completion ring into s's fill
ring, or dropped and put straight back into s's fill ring.  Each side owns
RING_SIZE frames and every ring holds RING_SIZE entries, so a fill ring never
overflows.
"""

import sys

import numba
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from vernat.io import libc
from vernat.io.xdp.sockets import FILL, COMP, RX, TX, PRODUCER, CONSUMER, DESCS, MASK, FRAME_SIZE
from vernat.io.jit_step import compile_step
from vernat.nat import constants as C

# counters[...] (int64), read by the live table
RX_FRAMES = 0          # + side: frames received on inside (0) / outside (1)
TX_FRAMES = 2          # + side: frames sent on inside (0) / outside (1)
TX_RING_FULL = 4       # + side: forwarded by the NAT but no room in that side's TX ring
BATCHES = 6            # rounds that received frames
ROUNDS = 7             # every round of serve_source, empty ones too
REASONS = 8            # + reason code: the NAT's verdict reasons (FORWARD counts forwarded)
NUM_COUNTERS = REASONS + C.NUM_REASONS

FRAME_MASK = ~(FRAME_SIZE - 1)
U32 = 0xFFFFFFFF


def _pointer(builder, address, bits):
    return builder.inttoptr(address, ir.PointerType(ir.IntType(bits)))


@intrinsic
def load_acquire_u32(typingctx, address):
    def codegen(context, builder, signature, args):
        value = builder.load_atomic(_pointer(builder, args[0], 32), ordering="acquire", align=4)
        return builder.zext(value, ir.IntType(64))
    return types.int64(types.int64), codegen


@intrinsic
def store_release_u32(typingctx, address, value):
    def codegen(context, builder, signature, args):
        builder.store_atomic(builder.trunc(args[1], ir.IntType(32)),
                             _pointer(builder, args[0], 32), ordering="release", align=4)
        return context.get_dummy_value()
    return types.void(types.int64, types.int64), codegen


@intrinsic
def load_u32(typingctx, address):
    def codegen(context, builder, signature, args):
        return builder.zext(builder.load(_pointer(builder, args[0], 32), align=4),
                            ir.IntType(64))
    return types.int64(types.int64), codegen


@intrinsic
def load_u64(typingctx, address):
    def codegen(context, builder, signature, args):
        return builder.load(_pointer(builder, args[0], 64), align=8)
    return types.int64(types.int64), codegen


@intrinsic
def store_u64(typingctx, address, value):
    def codegen(context, builder, signature, args):
        builder.store(args[1], _pointer(builder, args[0], 64), align=8)
        return context.get_dummy_value()
    return types.void(types.int64, types.int64), codegen


@numba.njit(inline="always")
def consumer_available(rings, s, r):
    """(first index, entries ready) of a ring we consume."""
    mine = load_u32(rings[s, r, CONSUMER])
    theirs = load_acquire_u32(rings[s, r, PRODUCER])
    return mine, (theirs - mine) & U32


@numba.njit(inline="always")
def producer_free(rings, s, r):
    """(first index, free slots) of a ring we produce."""
    mine = load_u32(rings[s, r, PRODUCER])
    theirs = load_acquire_u32(rings[s, r, CONSUMER])
    return mine, rings[s, r, MASK] + 1 - ((mine - theirs) & U32)


@numba.njit(inline="always")
def address_slot(rings, s, r, index):
    """Address of an 8-byte slot (fill/completion rings)."""
    return rings[s, r, DESCS] + 8 * (index & rings[s, r, MASK])


@numba.njit(inline="always")
def desc_slot(rings, s, r, index):
    """Address of a 16-byte struct xdp_desc {u64 addr; u32 len; u32 options} (RX/TX)."""
    return rings[s, r, DESCS] + 16 * (index & rings[s, r, MASK])


@numba.njit(inline="always")
def recycle_completions(rings, s):
    """Frames side s finished sending belong to side 1-s: back into its fill ring."""
    first, ready = consumer_available(rings, s, COMP)
    fill_first, room = producer_free(rings, 1 - s, FILL)
    n = min(ready, room)
    for k in range(n):
        addr = load_u64(address_slot(rings, s, COMP, first + k))
        store_u64(address_slot(rings, 1 - s, FILL, fill_first + k), addr & FRAME_MASK)
    if n:
        store_release_u32(rings[1 - s, FILL, PRODUCER], (fill_first + n) & U32)
        store_release_u32(rings[s, COMP, CONSUMER], (first + n) & U32)


nat_process_batch = None     # the verified entry point, bound by make_step
_step = None
_serve = None


def make_step(kernel, batch=None):
    """The per-round function, bound to the verified entry point (or a benchmark's
    stand-in for it: vernat/io/jit_step.py)."""
    return compile_step(sys.modules[__name__], kernel, batch)


IDLE_POLL_MS = 200           # the longest an idle loop sleeps in poll()


@numba.njit(inline="always")
def monotonic_ns(clock_buf):
    """CLOCK_MONOTONIC in ns (= time.monotonic_ns()); clock_buf: a struct timespec."""
    libc.clock_gettime(libc.CLOCK_MONOTONIC, clock_buf)
    return load_u64(clock_buf) * 1_000_000_000 + load_u64(clock_buf + 8)


@numba.njit(inline="always")
def last_errno():
    return load_u32(libc.errno_location())


@numba.njit(inline="always")
def retry_later(code):
    """sendto() errors that the next round's call cures (the ring is busy or full)."""
    return code in libc.RETRY_LATER


def serve_source(rings, umem, cfg, clock, tcp, udp, budget, offs, lens, times, sides,
                 verdicts, reasons, counters, fds, pollfds, clock_buf, until_ns, busy,
                 failure):
    """Rounds (step_source, then sendto() on each socket whose TX ring got frames:
    copy-mode TX happens only there) until the monotonic clock reaches until_ns;
    between rounds an idle loop sleeps in poll() on both sockets unless `busy`.
    Returns 0, or -1 when a sendto() failed with an error retrying cannot cure:
    failure = [errno, side]. A signal that interrupts poll() returns at once, so
    that Python runs its handler. pollfds and clock_buf are addresses of a
    struct pollfd[2] and a struct timespec."""
    while True:
        now = monotonic_ns(clock_buf)
        if now >= until_ns:
            return 0
        n = _step(rings, umem, cfg, clock, tcp, udp, now, budget, offs, lens, times, sides,
                  verdicts, reasons, counters)
        counters[ROUNDS] += 1
        pending = False
        for s in range(2):
            if tx_pending(rings, s):
                if libc.sendto(fds[s], 0, 0, libc.MSG_DONTWAIT, 0, 0) < 0:
                    code = last_errno()
                    if not retry_later(code):
                        failure[0] = code
                        failure[1] = s
                        return -1
                if tx_pending(rings, s):
                    pending = True
        if n < budget and not pending and not busy:
            # caught up: sleep until frames come (at once if some came meanwhile)
            wait = min(IDLE_POLL_MS, (until_ns - now) // 1_000_000 + 1)
            if libc.poll(pollfds, 2, wait) < 0 and last_errno() == libc.EINTR:
                return 0


def step_source(rings, umem, cfg, clock, tcp, udp, now, budget,
                offs, lens, times, sides, verdicts, reasons, counters):
    """Returns the number of frames received (0: the rings were idle)."""
    recycle_completions(rings, 0)
    recycle_completions(rings, 1)

    # Take up to `budget` frames from each side's RX ring.
    count = 0
    for s in range(2):
        first, ready = consumer_available(rings, s, RX)
        n = min(ready, budget)
        for k in range(n):
            desc = desc_slot(rings, s, RX, first + k)
            offs[count] = load_u64(desc)
            lens[count] = load_u64(desc + 8) & U32
            times[count] = now
            sides[count] = s
            count += 1
        if n:
            # the descriptors are copied: the slots can go back to the kernel
            # (the frames themselves stay ours until they reach a TX or fill ring)
            store_release_u32(rings[s, RX, CONSUMER], (first + n) & U32)
        counters[RX_FRAMES + s] += n
    if count == 0:
        return 0
    counters[BATCHES] += 1

    nat_process_batch(umem, offs, lens, times, sides, count, cfg, clock, tcp, udp,
                  verdicts, reasons)

    # Forwarded frames to the other side's TX ring, the rest back to their fill ring.
    tx_first0, tx_room0 = producer_free(rings, 0, TX)
    tx_first1, tx_room1 = producer_free(rings, 1, TX)
    fill_first0, fill_room0 = producer_free(rings, 0, FILL)
    fill_first1, fill_room1 = producer_free(rings, 1, FILL)
    tx_n0 = 0
    tx_n1 = 0
    fill_n0 = 0
    fill_n1 = 0
    for k in range(count):
        counters[REASONS + reasons[k]] += 1
        v = verdicts[k]
        sent = False
        if v == C.TO_INSIDE:
            if tx_n0 < tx_room0:
                desc = desc_slot(rings, 0, TX, tx_first0 + tx_n0)
                store_u64(desc, offs[k])
                store_u64(desc + 8, lens[k])       # len, options = 0
                tx_n0 += 1
                sent = True
            else:
                counters[TX_RING_FULL + 0] += 1
        elif v == C.TO_OUTSIDE:
            if tx_n1 < tx_room1:
                desc = desc_slot(rings, 1, TX, tx_first1 + tx_n1)
                store_u64(desc, offs[k])
                store_u64(desc + 8, lens[k])
                tx_n1 += 1
                sent = True
            else:
                counters[TX_RING_FULL + 1] += 1
        if not sent:
            # by construction a side's fill ring has room for all its frames
            if sides[k] == 0 and fill_n0 < fill_room0:
                store_u64(address_slot(rings, 0, FILL, fill_first0 + fill_n0),
                          offs[k] & FRAME_MASK)
                fill_n0 += 1
            elif sides[k] == 1 and fill_n1 < fill_room1:
                store_u64(address_slot(rings, 1, FILL, fill_first1 + fill_n1),
                          offs[k] & FRAME_MASK)
                fill_n1 += 1
    # publish: descriptors and rewritten frames are written before these stores
    if tx_n0:
        store_release_u32(rings[0, TX, PRODUCER], (tx_first0 + tx_n0) & U32)
    if tx_n1:
        store_release_u32(rings[1, TX, PRODUCER], (tx_first1 + tx_n1) & U32)
    if fill_n0:
        store_release_u32(rings[0, FILL, PRODUCER], (fill_first0 + fill_n0) & U32)
    if fill_n1:
        store_release_u32(rings[1, FILL, PRODUCER], (fill_first1 + fill_n1) & U32)
    counters[TX_FRAMES + 0] += tx_n0
    counters[TX_FRAMES + 1] += tx_n1
    return count


@numba.njit(nogil=True)
def prime_fill(rings, s, first_frame, frames):
    """Give side s its frames at start-up."""
    first, room = producer_free(rings, s, FILL)
    n = min(room, frames)
    for k in range(n):
        store_u64(address_slot(rings, s, FILL, first + k), (first_frame + k) * FRAME_SIZE)
    store_release_u32(rings[s, FILL, PRODUCER], (first + n) & U32)
    return n


@numba.njit(nogil=True)
def tx_pending(rings, s):
    """Descriptors in side s's TX ring that the kernel has not taken yet."""
    return (load_u32(rings[s, TX, PRODUCER]) - load_acquire_u32(rings[s, TX, CONSUMER])) & U32
