"""The AF_XDP data plane: XDP program on both interfaces, one UMEM, the loop.

The loop makes one numba call per round (rings.make_step: every ring of both sockets
and the NAT on the whole batch), then the system calls numba cannot make: sendto()
on a socket whose TX ring got frames (copy-mode TX happens only there) and, when a
round was not full, poll() on both sockets, so an idle NAT sleeps in the kernel.
"""

import os
import select
import socket
import time

import numpy as np

from vernat.io.xdp import rings as R
from vernat.io.xdp.program import AttachedProgram, XdpError
from vernat.io.xdp.sockets import RING_SIZE, Umem

BUDGET = 256                 # frames taken from each RX ring per round
IDLE_POLL_MS = 200           # how often an idle loop looks at its stop flag


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
        """Compile the step function now (not on the first packet): a call on empty rings."""
        self.round(time.monotonic_ns())

    def round(self, now):
        n = self.step(self.rings, self.umem.frames, self.nat.cfg, self.nat.clock,
                      self.nat.tcp, self.nat.udp, now, BUDGET, self.offs, self.lens,
                      self.times, self.sides, self.verdicts, self.reasons, self.counters)
        for side, xsk in enumerate(self.umem.sockets):
            if R.tx_pending(self.rings, side):
                xsk.kick_tx()
        return n

    def run(self, should_stop, on_tick=None, tick_seconds=1.0):
        """Forward until should_stop() is true; on_tick() every tick_seconds."""
        poller = select.poll()
        for xsk in self.umem.sockets:
            poller.register(xsk.fd, select.POLLIN)
        next_tick = time.monotonic() + tick_seconds
        while not should_stop():
            n = self.round(time.monotonic_ns())
            pending = R.tx_pending(self.rings, 0) or R.tx_pending(self.rings, 1)
            if n < BUDGET and not pending and not self.busy_poll:
                # Caught up: wait in poll() (at once if frames came meanwhile).  Going
                # straight to the next round instead (busy_poll) keeps the CPU from the
                # kernel's receive work unless that preempts us: --cpu puts it on this
                # same core in SCHED_FIFO kernel threads (threaded NAPI), which do.
                poller.poll(IDLE_POLL_MS)
            if on_tick is not None and time.monotonic() >= next_tick:
                on_tick()
                next_tick = time.monotonic() + tick_seconds

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
