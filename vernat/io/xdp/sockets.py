"""One UMEM shared by two AF_XDP sockets (inside and outside), via libxdp.

A frame received on one interface is rewritten where it lies in the UMEM and its
address is handed to the other interface's TX ring: no copy in user space.  Each
socket has its own fill and completion rings (shared-UMEM sockets on different
devices must); the ring handling (rings.py) keeps every frame cycling on the side
that received it: RX(A) -> TX(B) -> completion(B) -> fill(A).

`ring_table()` gives the numba code what it needs as one int64 array: for each
socket and ring, the addresses of the producer index, consumer index, flags word and
descriptors, and the index mask.
"""

import ctypes
import mmap
import os

import numpy as np

from vernat.io.xdp import libs
from vernat.io.libc import RETRY_LATER
from vernat.io.xdp.program import XdpError

FRAME_SIZE = 4096          # one page per frame: any MTU up to ~3.5 KiB fits
RING_SIZE = 2048           # every ring; each side owns RING_SIZE frames (fits its fill ring)
NUM_FRAMES = 2 * RING_SIZE

# ring_table()[socket, ring, field]
FILL, COMP, RX, TX = range(4)
PRODUCER, CONSUMER, FLAGS, DESCS, MASK = range(5)


# Python's socket module cannot wrap an AF_XDP descriptor (it asks for a socket
# address the family does not have): the two calls we need go straight to libc.
libc = ctypes.CDLL(None, use_errno=True)
libc.sendto.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                        ctypes.c_void_p, ctypes.c_uint32]
libc.sendto.restype = ctypes.c_ssize_t
MSG_DONTWAIT = 0x40


class Umem:
    def __init__(self):
        self.area = mmap.mmap(-1, NUM_FRAMES * FRAME_SIZE,
                              flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | mmap.MAP_POPULATE,
                              prot=mmap.PROT_READ | mmap.PROT_WRITE)
        self.frames = np.frombuffer(self.area, dtype=np.uint8)   # what process_batch rewrites
        self.address = self.frames.ctypes.data
        self.handle = ctypes.c_void_p()
        self.fill, self.comp = libs.XskRing(), libs.XskRing()
        config = libs.XskUmemConfig(fill_size=RING_SIZE, comp_size=RING_SIZE,
                                    frame_size=FRAME_SIZE, frame_headroom=0, flags=0)
        rc = libs.libxdp().xsk_umem__create(ctypes.byref(self.handle), self.address,
                                            len(self.area), ctypes.byref(self.fill),
                                            ctypes.byref(self.comp), ctypes.byref(config))
        if rc:
            raise XdpError(f"cannot create the AF_XDP UMEM: {libs.strerror(rc)}")
        self.sockets = []

    def open_socket(self, ifname, queue=0):
        """An AF_XDP socket on ifname's queue, sharing this UMEM. The first socket uses
        the UMEM's own fill/completion rings, later ones get their own."""
        xsk = XdpSocket(ifname, queue)
        if not self.sockets:
            xsk.fill, xsk.comp = self.fill, self.comp
        config = libs.XskSocketConfig(rx_size=RING_SIZE, tx_size=RING_SIZE,
                                      libxdp_flags=libs.XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
                                      xdp_flags=0, bind_flags=libs.XDP_USE_NEED_WAKEUP)
        rc = libs.libxdp().xsk_socket__create_shared(
            ctypes.byref(xsk.handle), ifname.encode(), queue, self.handle,
            ctypes.byref(xsk.rx), ctypes.byref(xsk.tx), ctypes.byref(xsk.fill),
            ctypes.byref(xsk.comp), ctypes.byref(config))
        if rc:
            raise XdpError(f"cannot open an AF_XDP socket on {ifname} queue {queue}: "
                           f"{libs.strerror(rc)}")
        xsk.fd = libs.libxdp().xsk_socket__fd(xsk.handle)
        # Copy-mode TX sends at most this many frames per sendto(); the default (32)
        # would cost one system call per 32 frames.  Kernels before 6.17 refuse it.
        budget = ctypes.c_int(256)
        libc.setsockopt(xsk.fd, libs.SOL_XDP, libs.XDP_MAX_TX_SKB_BUDGET,
                        ctypes.byref(budget), ctypes.sizeof(budget))
        self.sockets.append(xsk)
        return xsk

    def ring_table(self):
        table = np.zeros((len(self.sockets), 4, 5), dtype=np.int64)
        for s, xsk in enumerate(self.sockets):
            for r, ring in ((FILL, xsk.fill), (COMP, xsk.comp), (RX, xsk.rx), (TX, xsk.tx)):
                table[s, r] = (ring.producer, ring.consumer, ring.flags, ring.ring, ring.mask)
        return table

    def close(self):
        xdp = libs.libxdp()
        for xsk in self.sockets:
            if xsk.handle:
                xdp.xsk_socket__delete(xsk.handle)
                xsk.handle = ctypes.c_void_p()
        self.sockets.clear()
        if self.handle:
            xdp.xsk_umem__delete(self.handle)
            self.handle = ctypes.c_void_p()
        # self.area is unmapped when the last numpy view of it is gone


class XdpSocket:
    def __init__(self, ifname, queue):
        self.ifname, self.queue = ifname, queue
        self.handle = ctypes.c_void_p()
        self.rx, self.tx = libs.XskRing(), libs.XskRing()
        self.fill, self.comp = libs.XskRing(), libs.XskRing()
        self.fd = -1

    def kick_tx(self):
        """Copy-mode TX happens inside sendto(): each call sends up to the budget;
        what is left (EAGAIN) is sent by the next round's call."""
        if libc.sendto(self.fd, None, 0, MSG_DONTWAIT, None, 0) < 0:
            code = ctypes.get_errno()
            if code not in RETRY_LATER:
                raise OSError(code, f"AF_XDP send on {self.ifname}: {os.strerror(code)}")

    def statistics(self):
        stats = libs.XdpStatistics()
        size = ctypes.c_uint32(ctypes.sizeof(stats))
        if libc.getsockopt(self.fd, libs.SOL_XDP, libs.XDP_STATISTICS, ctypes.byref(stats),
                           ctypes.byref(size)):
            return {}
        return {name: int(getattr(stats, name)) for name, _ in stats._fields_}
