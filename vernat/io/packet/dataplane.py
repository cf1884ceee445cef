"""The AF_PACKET data plane (`--io packet`): TPACKET_V3 receive and transmit rings on
both interfaces, the kernel kept off the traffic by an nftables netdev ingress rule.

Why each setting:
- ETH_P_ALL with a 4-instruction classic BPF filter for EtherType IPv4: the sockets see
  IPv4 only (ARP stays the kernel's business), and they see it *before* the netdev
  ingress hook (an ETH_P_IP-bound socket would see it after, i.e. never);
- PACKET_IGNORE_OUTGOING: our own transmissions are not received back;
- PACKET_QDISC_BYPASS: transmit straight to the driver, as AF_XDP does;
- `table netdev vernat_PID`: drops IPv4 at ingress, so that the NAT namespace's kernel
  neither answers nor forwards the translated traffic (packet sockets see frames before
  that hook); removed on exit, or by the next start after a kill -9;
- GRO off on the NAT's interfaces (put back on exit): a packet socket would otherwise
  receive merged super-frames it could not send on.
"""

import mmap
import os
import socket
import struct
import subprocess

import numpy as np

from vernat.io.loop import LoopBuffers, run_slices
from vernat.io.packet import rings as R

SOL_PACKET = 263
PACKET_RX_RING = 5
PACKET_VERSION = 10
PACKET_TX_RING = 13
PACKET_QDISC_BYPASS = 20
PACKET_IGNORE_OUTGOING = 23
PACKET_STATISTICS = 6
TPACKET_V3 = 2
ETH_P_IP = 0x0800
ETH_P_ALL = 0x0003
SO_ATTACH_FILTER = 26
# classic BPF: ldh [12]; jeq #0x800, 0, 1; ret #262144; ret #0
IPV4_ONLY = ((0x28, 0, 0, 12), (0x15, 0, 1, ETH_P_IP), (0x06, 0, 0, 1 << 18), (0x06, 0, 0, 0))

RX_BLOCK_SIZE = 1 << 16          # 64 KiB: ~40 full-size or ~500 small frames
RX_BLOCKS = 64
RX_BLOCK_TIMEOUT_MS = 1          # a partly filled block is handed over after 1 ms
TX_FRAME_SIZE = 2048
TX_FRAMES = 1024
MAX_FRAMES_PER_BLOCK = RX_BLOCK_SIZE // 64
MAX_BLOCKS_PER_ROUND = 8


class PacketError(RuntimeError):
    """AF_PACKET cannot be used as asked; one line."""


class PacketSocket:
    def __init__(self, ifname):
        self.ifname = ifname
        # protocol 0: nothing is received until bind(), after the rings exist
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        s = self.sock
        attach_ipv4_filter(s)
        s.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
        s.setsockopt(SOL_PACKET, PACKET_QDISC_BYPASS, 1)
        s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
        s.setsockopt(SOL_PACKET, PACKET_RX_RING, struct.pack(
            "7I", RX_BLOCK_SIZE, RX_BLOCKS, TX_FRAME_SIZE, RX_BLOCK_SIZE * RX_BLOCKS // TX_FRAME_SIZE,
            RX_BLOCK_TIMEOUT_MS, 0, 0))
        tx_block = TX_FRAME_SIZE * 32
        s.setsockopt(SOL_PACKET, PACKET_TX_RING, struct.pack(
            "7I", tx_block, TX_FRAMES // 32, TX_FRAME_SIZE, TX_FRAMES, 0, 0, 0))
        self.rx_size = RX_BLOCK_SIZE * RX_BLOCKS
        self.map = mmap.mmap(s.fileno(), self.rx_size + TX_FRAMES * TX_FRAME_SIZE,
                             mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        self.ring = np.frombuffer(self.map, dtype=np.uint8)
        s.bind((ifname, ETH_P_ALL))

    def geometry(self):
        return [self.ring.ctypes.data, RX_BLOCK_SIZE, RX_BLOCKS, self.rx_size, TX_FRAME_SIZE,
                TX_FRAMES, 0, 0]

    def close(self):
        self.ring = None
        try:
            self.map.close()
        except BufferError:
            pass            # a numpy view is still alive; unmapped when it goes
        self.sock.close()


def attach_ipv4_filter(sock):
    import ctypes
    code = b"".join(struct.pack("HBBI", *insn) for insn in IPV4_ONLY)
    buffer = ctypes.create_string_buffer(code, len(code))
    prog = struct.pack("HxxxxxxQ", len(IPV4_ONLY), ctypes.addressof(buffer))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, prog)


def _run(*argv, input=None):
    proc = subprocess.run(argv, capture_output=True, text=True, input=input)
    if proc.returncode:
        raise PacketError(f"{' '.join(argv[:3])}: {(proc.stderr or proc.stdout).strip()}")
    return proc.stdout


class PacketDataPlane:
    """Same interface as vernat.io.xdp.dataplane.XdpDataPlane."""

    modes = ("packet", "packet")

    def __init__(self, nat, inside, outside):
        self.nat, self.ifnames = nat, (inside, outside)
        self.busy_poll = False       # True: never sleep in poll(), spin on the rings
        self.table = f"vernat_{os.getpid()}"
        self.sockets, self.gro = [], {}
        self.nft_added = False
        self.counters = np.zeros(R.NUM_COUNTERS, dtype=np.int64)
        self.step = R.make_step(nat.kernel)
        n = MAX_FRAMES_PER_BLOCK
        self.offs, self.lens, self.times = (np.zeros(n, np.int64) for _ in range(3))
        self.sides, self.verdicts, self.reasons = (np.zeros(n, np.uint8) for _ in range(3))
        self.sent = np.zeros(2, np.int64)
        self.serve = R._serve
        self.loop = LoopBuffers()

    def remove_stale_rules(self):
        """Tables of NATs killed before they could remove them (kill -9)."""
        listing = subprocess.run(("nft", "list", "tables", "netdev"), capture_output=True,
                                 text=True).stdout
        for line in listing.splitlines():
            name = line.split()[-1] if line.startswith("table netdev vernat_") else ""
            pid = name.removeprefix("vernat_")
            if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                subprocess.run(("nft", "delete", "table", "netdev", name), capture_output=True)

    def open(self):
        try:
            self.remove_stale_rules()
            chains = "".join(
                f'  chain in{k} {{ type filter hook ingress device "{name}" priority -500; '
                f"policy accept; meta protocol ip drop; }}\n"
                for k, name in enumerate(self.ifnames))
            _run("nft", "-f", "-", input=f"table netdev {self.table} {{\n{chains}}}\n")
            self.nft_added = True
            for name in self.ifnames:
                features = _run("ethtool", "-k", name)
                self.gro[name] = "generic-receive-offload: on" in features
                if self.gro[name]:
                    _run("ethtool", "-K", name, "gro", "off")
            for name in self.ifnames:
                self.sockets.append(PacketSocket(name))
            self.geometry = np.array([s.geometry() for s in self.sockets], dtype=np.int64)
            self.loop.watch([s.sock.fileno() for s in self.sockets])
            self.serve_until(0, False)           # compile now, not on the first frame
        except OSError as e:
            self.close()
            raise PacketError(f"AF_PACKET: {e.strerror or e}") from None
        except BaseException:
            self.close()
            raise
        return self

    def serve_until(self, until_ns, busy):
        """Rounds until time.monotonic_ns() reaches until_ns (rings.serve_source)."""
        self.loop.check(self.serve(self.sockets[0].ring, self.sockets[1].ring, self.geometry,
                                   self.nat.cfg, self.nat.clock, self.nat.tcp, self.nat.udp,
                                   MAX_BLOCKS_PER_ROUND, self.offs, self.lens, self.times,
                                   self.sides, self.verdicts, self.reasons, self.counters,
                                   self.sent, *self.loop.args(), until_ns, busy,
                                   self.loop.failure),
                        "AF_PACKET", self.ifnames)

    def run(self, should_stop, on_tick=None, tick_seconds=1.0):
        """Forward until should_stop() is true; on_tick() every tick_seconds. The loop
        runs inside numba, a slice (vernat.io.loop) at a time (as the AF_XDP data plane's)."""
        run_slices(self.serve_until, bool(self.busy_poll), should_stop, on_tick, tick_seconds)

    def socket_statistics(self):
        out = {}
        for s in self.sockets:
            raw = s.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 12)
            packets, drops, freeze = struct.unpack("3I", raw)
            out[s.ifname] = {"rx_dropped": drops}
        return out

    def close(self):
        for s in self.sockets:
            s.close()
        self.sockets.clear()
        for name, was_on in self.gro.items():
            if was_on:
                subprocess.run(("ethtool", "-K", name, "gro", "on"), capture_output=True)
        self.gro.clear()
        if self.nft_added:
            subprocess.run(("nft", "delete", "table", "netdev", self.table), capture_output=True)
            self.nft_added = False
