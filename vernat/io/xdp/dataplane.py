"""The AF_XDP data plane: XDP program on both interfaces, one UMEM, the loop.

The loop runs inside numba (rings.serve_source), one call per slice
(vernat/io/loop.py): each round moves every ring of both sockets and runs the NAT on
the whole batch, calls sendto() on a socket whose TX ring got frames (copy-mode TX
happens only there) and, when a round was not full, sleeps in poll() on both
sockets. Python gets control back between slices, for the stop flag, signals and the
operator's tick.
"""

import os
import socket

import numpy as np

from vernat.io.loop import LoopBuffers, run_slices
from vernat.io.xdp import rings as R
from vernat.io.xdp.program import AttachedProgram, XdpError
from vernat.io.xdp.sockets import RING_SIZE, Umem

BUDGET = 256                 # frames taken from each RX ring per round


def receive_queues(ifname):
    try:
        return sum(q.startswith("rx-") for q in os.listdir(f"/sys/class/net/{ifname}/queues"))
    except OSError:
        return 1


class XdpDataPlane:
    """open() attaches and binds everything; close() undoes it, whatever failed."""

    def __init__(self, nat, inside, outside, mode="auto"):
        """nat: vernat.nat.engine.Nat; inside/outside: interface names."""
        self.nat = nat
        self.ifnames = (inside, outside)
        self.mode = mode
        self.busy_poll = False       # True: never sleep in poll(), spin on the rings
        self.programs = []
        self.umem = None
        self.counters = np.zeros(R.NUM_COUNTERS, dtype=np.int64)
        self.step = R.make_step(nat.kernel, nat.batch)
        self.offs = np.zeros(2 * BUDGET, dtype=np.int64)
        self.lens = np.zeros(2 * BUDGET, dtype=np.int64)
        self.times = np.zeros(2 * BUDGET, dtype=np.int64)
        self.sides = np.zeros(2 * BUDGET, dtype=np.uint8)
        self.verdicts = np.zeros(2 * BUDGET, dtype=np.uint8)
        self.reasons = np.zeros(2 * BUDGET, dtype=np.uint8)
        self.serve = R._serve
        self.loop = LoopBuffers()

    @property
    def modes(self):
        """XDP mode per interface ('native' or 'generic')."""
        return tuple(p.mode for p in self.programs)

    def open(self):
        for name in self.ifnames:
            queues = receive_queues(name)
            if queues > 1:
                # one socket, bound to queue 0: frames of other queues would reach the kernel
                raise XdpError(f"{name} has {queues} receive queues and vernat binds one "
                               f"AF_XDP socket to queue 0 (ethtool -L {name} combined 1)")
        try:
            for name in self.ifnames:
                self.programs.append(AttachedProgram(name, socket.if_nametoindex(name),
                                                     self.mode))
            self.umem = Umem()
            for name, program in zip(self.ifnames, self.programs):
                xsk = self.umem.open_socket(name, 0)
                program.add_socket(0, xsk.fd)
            self.rings = self.umem.ring_table()
            for side in (0, 1):
                R.prime_fill(self.rings, side, side * RING_SIZE, RING_SIZE)
            self.warm_up()
        except BaseException:
            self.close()
            raise
        return self

    def warm_up(self):
        """Compile the loop now (not on the first packet): a slice that ends at once."""
        self.loop.watch([xsk.fd for xsk in self.umem.sockets])
        self.serve_until(0, False)

    def serve_until(self, until_ns, busy):
        """Rounds until time.monotonic_ns() reaches until_ns (rings.serve_source)."""
        self.loop.check(self.serve(self.rings, self.umem.frames, self.nat.cfg, self.nat.clock,
                                   self.nat.tcp, self.nat.udp, BUDGET, self.offs, self.lens,
                                   self.times, self.sides, self.verdicts, self.reasons,
                                   self.counters, *self.loop.args(), until_ns, busy,
                                   self.loop.failure),
                        "AF_XDP", self.ifnames)

    def round(self, now):
        """One round from Python (the profile's measure of the old loop)."""
        n = self.step(self.rings, self.umem.frames, self.nat.cfg, self.nat.clock,
                      self.nat.tcp, self.nat.udp, now, BUDGET, self.offs, self.lens,
                      self.times, self.sides, self.verdicts, self.reasons, self.counters)
        for side, xsk in enumerate(self.umem.sockets):
            if R.tx_pending(self.rings, side):
                xsk.kick_tx()
        return n

    def run(self, should_stop, on_tick=None, tick_seconds=1.0):
        """Forward until should_stop() is true; on_tick() every tick_seconds.
        With busy_poll the loop never sleeps in poll(): it keeps the core, but not
        from the kernel's receive work when --cpu put that on the same core, in
        SCHED_FIFO threads (threaded NAPI), which preempt it."""
        run_slices(self.serve_until, bool(self.busy_poll), should_stop, on_tick, tick_seconds)

    def socket_statistics(self):
        return {name: xsk.statistics() for name, xsk in zip(self.ifnames, self.umem.sockets)} \
            if self.umem else {}

    def close(self):
        if self.umem is not None:
            self.umem.close()
            self.umem = None
        for program in self.programs:
            program.close()
        self.programs.clear()


__all__ = ["XdpDataPlane", "XdpError"]
