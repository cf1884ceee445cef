"""The system calls of the data-plane loops (AF_XDP, and AF_PACKET's too), callable
from numba.

numba calls these C functions by name (the JIT linker finds them in the process's
libc), so the whole loop (rings, NAT, sendto(), poll(), the clock) runs inside one
numba call per slice instead of returning to Python once per batch: the Python round
(the dispatcher unboxing fifteen arguments, two more numba calls, a ctypes call per
socket) cost ~8 µs per batch, as much as the kernel's own work for a dozen frames
(docs/progress-bench.md). Binding by name, not by a ctypes pointer, keeps the compiled
loop cacheable on disk. Pointers are passed as plain 64-bit addresses.
"""

import errno

from numba import types
from numba.core.types import ExternalFunction

# ssize_t sendto(int fd, const void *buf, size_t len, int flags,
#                const struct sockaddr *addr, socklen_t addrlen)
sendto = ExternalFunction("sendto", types.int64(types.intc, types.uint64, types.uint64,
                                                types.intc, types.uint64, types.uint32))
# int poll(struct pollfd *fds, nfds_t nfds, int timeout_ms)
poll = ExternalFunction("poll", types.intc(types.uint64, types.uint64, types.intc))
# int clock_gettime(clockid_t clock, struct timespec *ts)
clock_gettime = ExternalFunction("clock_gettime", types.intc(types.intc, types.uint64))
# int *__errno_location(void): errno of the calling thread
errno_location = ExternalFunction("__errno_location", types.uint64())

CLOCK_MONOTONIC = 1        # the clock of Python's time.monotonic_ns()
MSG_DONTWAIT = 0x40
EINTR = errno.EINTR
# send errors the next round's call cures (the ring is busy or full, the link is
# down for a moment, a signal came): the loop goes on
RETRY_LATER = (errno.EAGAIN, errno.EBUSY, errno.ENOBUFS, errno.ENETDOWN, errno.EINTR)
