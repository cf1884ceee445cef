"""The Python side of the data-plane loops, AF_XDP's and AF_PACKET's alike.

Each data plane's loop runs inside numba (its rings module's `serve_source`) one
slice at a time; between slices Python looks at the stop flag, runs signal
handlers and the operator's tick. This module holds what both planes hand to
their loop (the sockets to poll, a timespec for the clock, where a failed send
is reported) and the slice loop itself.
"""

import os
import select
import time

import numpy as np

SLICE_MS = 200               # how often the loop looks at its stop flag


class LoopBuffers:
    """The memory the numba loop reads and writes through plain addresses."""

    def __init__(self):
        self.fds = np.zeros(2, dtype=np.int32)
        self.pollfds = np.zeros(4, dtype=np.int32)       # struct pollfd[2]: fd, events
        self.clock_buf = np.zeros(2, dtype=np.int64)     # struct timespec
        self.failure = np.zeros(2, dtype=np.int64)       # errno, side of a failed send

    def watch(self, fds):
        """The two sockets (inside, outside) the loop sends on and polls."""
        for side, fd in enumerate(fds):
            self.fds[side] = fd
            self.pollfds[2 * side] = fd
            self.pollfds[2 * side + 1] = select.POLLIN

    def args(self):
        """serve_source's fds, pollfds and clock_buf arguments."""
        return self.fds, self.pollfds.ctypes.data, self.clock_buf.ctypes.data

    def check(self, code, kind, ifnames):
        """serve_source's result: -1 is a send that retrying cannot cure."""
        if code < 0:
            errno, side = (int(v) for v in self.failure)
            raise OSError(errno, f"{kind} send on {ifnames[side]}: {os.strerror(errno)}")


def run_slices(serve_until, busy, should_stop, on_tick=None, tick_seconds=1.0):
    """serve_until(until_ns, busy) a slice at a time until should_stop() is true;
    on_tick() every tick_seconds."""
    tick_ns = int(tick_seconds * 1e9)
    next_tick = time.monotonic_ns() + tick_ns
    while not should_stop():
        serve_until(min(time.monotonic_ns() + SLICE_MS * 1_000_000, next_tick), busy)
        if on_tick is not None and time.monotonic_ns() >= next_tick:
            on_tick()
            next_tick = time.monotonic_ns() + tick_ns
