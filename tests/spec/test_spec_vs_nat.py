"""The executable specification (vernat/spec) side by side with the real NAT.

Each test runs the numba build of the NAT (vernat.nat.engine.Nat, through
process_batch) and the spec (vernat.spec.rfc3022.spec_frame over the abstract
tables of vernat.spec.abstract_state), each with its own state, over the same
frames, and compares for every frame the reason code (hence the verdict) and,
when the frame is forwarded, every byte of the output frame; after every
batch it also compares the number of live flows per table.

(a) the bundled example captures, (b) a reproducible stream of random and
mutated frames over several configurations, (c) direct spec unit tests for
rules that random frames rarely hit.
"""

import os
import random
import struct
from collections import Counter

import numpy as np

from tests.helpers import (EXT, GATEWAY_MAC, HOST, HOST_MAC, INSIDE_MAC, OUTSIDE_MAC, SERVER,
                           SEC, config, in_tcp, in_udp, l4_checksum_ok, ip_header_ok,
                           ones_sum, out_tcp, out_udp)
from vernat.io.pcap import read_capture
from vernat.nat import constants as C
from vernat.nat.config import load_toml, build_config
from vernat.nat.engine import Nat, frames_to_batch
from vernat.replay import merge
from vernat.spec import abstract_state as A
from vernat.spec.rfc3022 import spec_frame

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples")
SEED = 3022


def ip_int(text):
    a, b, c, d = (int(x) for x in text.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def mac_int(text):
    return int(text.replace(":", ""), 16)


# ---------------------------------------------------------------------------
# Side by side
# ---------------------------------------------------------------------------

class Mismatch(AssertionError):
    pass


class SideBySide:
    """One real NAT and one spec instance with their own states."""

    def __init__(self, cfg, label=""):
        self.cfg = cfg
        self.label = label
        self.nat = Nat(cfg, jit=True)
        self.cfg_array = cfg.to_array()
        self.clock = np.zeros(1, dtype=np.int64)
        self.tcp = A.new_table(cfg.capacity)
        self.udp = A.new_table(cfg.capacity)
        self.frames = 0
        self.reasons = Counter()
        self.history = []           # the last few (time, side, spec reason) for messages

    def spec(self, frame, time, side):
        """The spec alone on one frame: (reason, output bytes)."""
        fa = np.frombuffer(bytes(frame), dtype=np.uint8).copy()
        out = fa.copy()
        reason = spec_frame(fa, len(fa), int(time), int(side), self.cfg_array, self.clock,
                            self.tcp, self.udp, out)
        assert np.array_equal(fa, np.frombuffer(bytes(frame), dtype=np.uint8)), \
            "the spec wrote into its input frame"
        if reason != C.FORWARD:    # the spec writes nothing before every check has passed
            assert np.array_equal(out, fa), "the spec rewrote a dropped frame"
        return int(reason), out.tobytes()

    def run(self, frames, times, sides):
        """Run a batch through both; raise Mismatch on the first disagreement.
        Returns the list of (reason, output) per frame."""
        frames = [bytes(f) for f in frames]
        buf, offs, lens, t, s = frames_to_batch(frames, times, sides)
        verdicts, reasons = self.nat.process_batch(buf, offs, lens, t, s)
        results = []
        for k, frame in enumerate(frames):
            time, side = int(times[k]), int(sides[k])
            self.clock_before = int(self.clock[0])
            spec_reason, spec_out = self.spec(frame, time, side)
            nat_reason, nat_verdict = int(reasons[k]), int(verdicts[k])
            nat_out = buf[offs[k]:offs[k] + lens[k]].tobytes()
            if spec_reason != C.FORWARD:
                want_verdict = C.DROP
            else:
                want_verdict = C.TO_INSIDE if side else C.TO_OUTSIDE
            problem = None
            if nat_reason != spec_reason:
                problem = "reason differs"
            elif nat_verdict != want_verdict:
                problem = "verdict differs"
            elif spec_reason == C.FORWARD and nat_out != spec_out:
                problem = "output bytes differ"
            if problem:
                raise Mismatch(self.message(problem, frame, time, side, nat_verdict, nat_reason,
                                            nat_out, spec_reason, spec_out))
            self.frames += 1
            self.reasons[C.REASON_NAMES[spec_reason]] += 1
            self.history = (self.history + [(time, side, C.REASON_NAMES[spec_reason])])[-6:]
            results.append((spec_reason, spec_out))
        counts = self.nat.flow_counts()
        mine = {"tcp": A.st_count(self.tcp), "udp": A.st_count(self.udp)}
        if counts != mine:
            raise Mismatch(f"[{self.label}] live flows after the batch ending at frame "
                           f"{self.frames}: NAT {counts}, spec {mine}\n"
                           f"config: {self.cfg.describe()}\nspec tcp: {self.tcp!r}\n"
                           f"spec udp: {self.udp!r}")
        return results

    def one(self, frame, time, side):
        """One frame through both; returns the (agreed) reason and output."""
        return self.run([frame], [time], [side])[0]

    def message(self, problem, frame, time, side, nat_verdict, nat_reason, nat_out,
                spec_reason, spec_out):
        diff = [k for k in range(min(len(nat_out), len(spec_out))) if nat_out[k] != spec_out[k]]
        return "\n".join([
            f"[{self.label}] spec and NAT disagree on frame #{self.frames} ({problem})",
            f"config: {self.cfg.describe()}",
            f"time: {time} ns (clock before: {self.clock_before}), arrived on the "
            f"{'outside' if side else 'inside'}",
            f"frame ({len(frame)} bytes): {frame.hex()}",
            f"NAT : verdict {C.VERDICT_NAMES[nat_verdict]}, reason {C.REASON_NAMES[nat_reason]}",
            f"      output {nat_out.hex()}",
            f"spec: reason {C.REASON_NAMES[spec_reason]}",
            f"      output {spec_out.hex()}" if spec_reason == C.FORWARD else "      (dropped)",
            f"bytes that differ (offsets): {diff[:40]}",
            f"previous frames (time, side, reason): {self.history}",
            f"spec tcp table now: {self.tcp!r}",
            f"spec udp table now: {self.udp!r}",
            f"spec clock now: {int(self.clock[0])}",
        ])


# ---------------------------------------------------------------------------
# A fast frame builder (struct), so that tens of thousands of frames are cheap
# ---------------------------------------------------------------------------

def fix_ip_checksum(frame):
    """Recompute the IPv4 header checksum in place when the header lies in
    the frame (used after a mutation, so the mutation reaches later checks)."""
    if len(frame) < 34:
        return frame
    ihl = (frame[14] & 0x0F) * 4
    if ihl < 20 or 14 + ihl > len(frame):
        return frame
    frame[24:26] = b"\0\0"
    frame[24:26] = struct.pack("!H", 0xFFFF ^ ones_sum(bytes(frame[14:14 + ihl])))
    return frame


def build(proto, src, dst, sport, dport, smac, dmac, ttl=64, payload=b"", options=b"",
          flags=0, ident=0, tos=0, udp_zero=False, l4_csum=None, tcp_offset=5, pad=b"",
          rng=None):
    """An Ethernet/IPv4/TCP-or-UDP frame with correct checksums (unless asked)."""
    if proto == 6:
        seq = rng.getrandbits(32) if rng else 1
        ack = rng.getrandbits(32) if rng else 0
        tflags = rng.getrandbits(8) if rng else 0x02
        win = rng.getrandbits(16) if rng else 8192
        l4 = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (tcp_offset & 0xF) << 4,
                         tflags, win, 0, 0) + payload
        csum_at = 16
    else:
        l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        csum_at = 6
    l4 = bytearray(l4)
    pseudo = struct.pack("!IIBBH", src, dst, 0, proto, len(l4))
    csum = 0xFFFF ^ ones_sum(pseudo + bytes(l4))
    if proto == 17:
        if csum == 0:
            csum = 0xFFFF
        if udp_zero:
            csum = 0
    if l4_csum is not None:
        csum = l4_csum
    l4[csum_at:csum_at + 2] = struct.pack("!H", csum)
    ihl = 5 + len(options) // 4
    total = 4 * ihl + len(l4)
    ip = bytearray(struct.pack("!BBHHHBBHII", 0x40 | ihl, tos, total, ident, flags, ttl, proto,
                               0, src, dst) + options)
    ip[10:12] = struct.pack("!H", 0xFFFF ^ ones_sum(bytes(ip)))
    eth = dmac.to_bytes(6, "big") + smac.to_bytes(6, "big") + b"\x08\x00"
    return bytearray(eth + bytes(ip) + bytes(l4) + pad)


# ---------------------------------------------------------------------------
# (b) the random stream
# ---------------------------------------------------------------------------

HOSTS = [(ip_int("10.0.0.2"), 0x020000001002), (ip_int("10.0.0.3"), 0x020000001003),
         (ip_int("10.0.1.7"), 0x020000001107), (ip_int("10.0.255.255"), 0x02000000FFFF),
         (ip_int("0.0.0.0"), 0x020000000000), (ip_int("255.255.255.255"), 0xFFFFFFFFFFFF)]
HOST_WEIGHTS = [40, 30, 15, 5, 5, 5]
REMOTES = [(ip_int("198.51.100.10"), 80), (ip_int("198.51.100.10"), 443),
           (ip_int("198.51.100.53"), 53), (ip_int("192.0.2.1"), 0), (ip_int("192.0.2.1"), 65535)]
MAX_TIME = 1 << 62      # the largest time a capture can carry (vernat.io.pcap.MAX_TIME_NS)
NAT_IN = mac_int(INSIDE_MAC)
GW = mac_int(GATEWAY_MAC)
NAT_OUT = mac_int(OUTSIDE_MAC)

# label, config overrides, number of frames
SEGMENTS = [
    ("helpers config: 10 ports, 30 s / 120 s", {}, 20000),
    ("one port, 2 s / 3 s", {"port_range": "65535-65535", "udp_timeout": "2",
                             "tcp_timeout": "3"}, 14000),
    ("4 ports from 1, external IP 255.255.0.0, 0.5 s / 0.7 s",
     {"external_ip": "255.255.0.0", "port_range": "1-4", "udp_timeout": "0.5",
      "tcp_timeout": "0.7"}, 16000),
    ("all ports 1024-65535, default timeouts", {"port_range": "1024-65535",
                                                 "udp_timeout": "300", "tcp_timeout": "7440"},
     14000),
    ("6 top ports, external IP 255.255.255.255, 3 s / 3 s",
     {"external_ip": "255.255.255.255", "port_range": "65530-65535", "udp_timeout": "3",
      "tcp_timeout": "3"}, 16000),
    ("times near 2**62, timeouts of 10**9 s", {"port_range": "50000-50015",
                                                "udp_timeout": "1000000000",
                                                "tcp_timeout": "999999999.5"}, 8000),
    ("64 ports, timeouts of 1000 ns / 1500 ns",
     {"external_ip": "0.0.0.1", "port_range": "100-163", "udp_timeout": "0.000001",
      "tcp_timeout": "0.0000015"}, 20000),
]


def zero_sum_payload(src, dst, sport, dport):
    """A 2-byte UDP payload for which the checksum of the datagram
    src:sport -> dst:dport is 0 (sent as 0xFFFF)."""
    header = struct.pack("!HHHH", sport, dport, 10, 0) + b"\0\0"
    s = ones_sum(struct.pack("!IIBBH", src, dst, 0, 17, 10) + header)
    return (0xFFFF - s).to_bytes(2, "big")


class Stream:
    """Reproducible frames for one configuration, steered by the spec's state
    (so that replies hit real flows and times hit expiry boundaries)."""

    def __init__(self, rng, cfg, pair):
        self.rng = rng
        self.cfg = cfg
        self.pair = pair
        self.t = 0 if cfg.udp_timeout_ns < 10 ** 17 else MAX_TIME - 3 * cfg.udp_timeout_ns
        self.ext = cfg.external_ip
        self.S, self.E = cfg.port_start, cfg.port_end
        self.tmin = min(cfg.udp_timeout_ns, cfg.tcp_timeout_ns)
        self.tmax = max(cfg.udp_timeout_ns, cfg.tcp_timeout_ns)
        self.ports = [5000, 5001, 33000, 0, 65535, self.S, min(self.S + 1, 65535),
                      rng.randrange(65536)]

    # times ----------------------------------------------------------------
    def next_time(self):
        r, rng = self.rng.random(), self.rng
        if r < 0.62:
            self.t += rng.randint(0, max(1, self.tmin // 30))
        elif r < 0.70:
            pass
        elif r < 0.80:
            flows = self.live_flows()
            if flows:      # exactly at (or next to) some flow's expiry boundary
                table, i, timeout = rng.choice(flows)
                at = A.st_last_seen(table, i) + timeout + rng.choice((-1, 0, 0, 1))
                self.t = max(self.t, at)
        elif r < 0.88:      # time goes backwards (the frame's time only)
            if rng.random() < 0.1:
                return -rng.randint(1, 10 ** 12)
            return self.t - rng.randint(1, self.tmax + 1)
        elif r < 0.895:
            self.t += rng.randint(self.tmin, 3 * self.tmax)
        else:
            self.t += rng.randint(0, self.tmin)
        self.t = min(self.t, MAX_TIME)
        return self.t

    def live_flows(self):
        out = []
        for table, timeout in ((self.pair.tcp, self.cfg.tcp_timeout_ns),
                               (self.pair.udp, self.cfg.udp_timeout_ns)):
            out.extend((table, i, timeout) for i in table.flows)
        return out

    # frames ---------------------------------------------------------------
    def valid(self, proto, src, dst, sport, dport, smac, dmac, payload=None):
        rng = self.rng
        options = b""
        if rng.random() < 0.15:
            n = rng.randint(1, 10)
            options = (bytes([1]) * (4 * n) if rng.random() < 0.5
                       else bytes(rng.getrandbits(8) for _ in range(4 * n)))
        if payload is None:
            payload = bytes(rng.getrandbits(8)
                            for _ in range(rng.choice((0, 0, 1, 5, 12, 30))))
        pad = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 20))) \
            if rng.random() < 0.15 else b""
        ttl = rng.choice((64, 64, 2, 3, 255, rng.randint(2, 255)))
        flags = rng.choice((0, 0, 0x4000, 0x8000 if rng.random() < 0.2 else 0))
        l4_csum = rng.getrandbits(16) if rng.random() < 0.1 else None
        if rng.random() < 0.02:
            l4_csum = rng.choice((0, 0xFFFF))
        return build(proto, src, dst, sport, dport, smac, dmac, ttl=ttl, payload=payload,
                     options=options, flags=flags, ident=rng.getrandbits(16),
                     tos=rng.getrandbits(8) if rng.random() < 0.2 else 0,
                     udp_zero=(proto == 17 and rng.random() < 0.15), l4_csum=l4_csum,
                     tcp_offset=rng.choice((5, 5, 5, rng.getrandbits(4))), pad=pad, rng=rng)

    def outbound(self):
        rng = self.rng
        ip, mac = rng.choices(HOSTS, HOST_WEIGHTS)[0]
        if rng.random() < 0.05:
            mac = rng.getrandbits(48)      # the same host seen with another MAC
        rip, rport = rng.choice(REMOTES)
        if rng.random() < 0.02:
            rip = self.ext                     # to the NAT's own external address
        proto, sport = rng.choice((6, 17)), rng.choice(self.ports)
        flows = self.live_flows()
        if flows and rng.random() < 0.35:      # more of a live flow's conversation
            table, i, _ = rng.choice(flows)
            proto = 6 if table is self.pair.tcp else 17
            ip, sport = A.st_inside_ip(table, i), A.st_inside_port(table, i)
            rip, rport = A.st_remote_ip(table, i), A.st_remote_port(table, i)
        payload = None
        if proto == 17 and rng.random() < 0.1:
            i = A.st_find(self.pair.udp, ip, sport, rip, rport)
            if i >= 0:      # a hit whose translated checksum will come out as 0
                payload = zero_sum_payload(self.ext, rip, self.S + i, rport)
        return self.valid(proto, ip, rip, sport, rport, mac, NAT_IN, payload), 0

    def reply(self):
        rng = self.rng
        flows = self.live_flows()
        if not flows:
            return self.outbound()
        table, i, _ = rng.choice(flows)
        proto = 6 if table is self.pair.tcp else 17
        src, sport = A.st_remote_ip(table, i), A.st_remote_port(table, i)
        dst, dport = self.ext, self.S + i
        r = rng.random()
        if r < 0.06:
            sport = (sport + 1) & 0xFFFF                       # spoofed port
        elif r < 0.12:
            src = rng.choice(REMOTES)[0] ^ rng.choice((0, 1))   # maybe spoofed address
        elif r < 0.16:
            dst ^= 1 << rng.randrange(32)                       # wrong destination
        elif r < 0.20:
            proto = 23 - proto                                  # the other table
        payload = None
        if proto == 17 and r > 0.9:     # the translated checksum will come out as 0
            payload = zero_sum_payload(src, A.st_inside_ip(table, i), sport,
                                       A.st_inside_port(table, i))
        return self.valid(proto, src, dst, sport, dport, GW, NAT_OUT, payload), 1

    def inbound_random(self):
        rng = self.rng
        rip, rport = rng.choice(REMOTES)
        dport = rng.choice((self.S - 1, self.E + 1, rng.randint(self.S, self.E),
                            rng.randint(self.S, self.E), rng.randrange(65536))) & 0xFFFF
        dst = self.ext if rng.random() < 0.9 else rng.getrandbits(32)
        return self.valid(rng.choice((6, 17)), rip, dst, rport, dport, GW, NAT_OUT), 1

    def mutated(self):
        rng = self.rng
        frame, side = (self.outbound, self.reply, self.inbound_random)[rng.randrange(3)]()
        head = min(len(frame), 14 + (frame[14] & 0x0F) * 4 + 20)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(head) if rng.random() < 0.8 else rng.randrange(len(frame))
            if rng.random() < 0.5:
                frame[at] ^= 1 << rng.randrange(8)
            else:
                frame[at] = rng.getrandbits(8)
        if rng.random() < 0.6:
            fix_ip_checksum(frame)
        return frame, side

    def special(self):
        """Frames aimed at one drop reason each (or just past it)."""
        rng = self.rng
        frame, side = (self.outbound, self.reply)[rng.randrange(2)]()
        ihl = (frame[14] & 0x0F) * 4
        kind = rng.randrange(9)
        if kind == 0:      # fragments
            frame[20:22] = struct.pack("!H", rng.choice((0x2000, 0x0001, 0x1FFF, 0x6000,
                                                         0x4000 | rng.getrandbits(13))))
        elif kind == 1:    # TTL 0, 1, 2
            frame[22] = rng.choice((0, 1, 2))
        elif kind == 2:    # other protocols
            frame[23] = rng.choice((1, 0, 41, 132, 255, rng.getrandbits(8)))
        elif kind == 3:    # total length around the header and L4 sizes
            total = rng.choice((ihl - 1, ihl, ihl + 7, ihl + 8, ihl + 19, ihl + 20,
                                len(frame) - 14, len(frame) - 13, rng.getrandbits(16)))
            frame[16:18] = struct.pack("!H", total & 0xFFFF)
        elif kind == 4:    # version
            frame[14] = (rng.choice((0, 6, 5, 15)) << 4) | (frame[14] & 0x0F)
        elif kind == 5:    # IHL
            frame[14] = 0x40 | rng.randrange(16)
        elif kind == 6:    # EtherType: VLAN, ARP, IPv6
            frame[12:14] = rng.choice((b"\x81\x00", b"\x08\x06", b"\x86\xdd", b"\x08\x01"))
        elif kind == 7:    # IP checksum off by one, or the other zero
            c = struct.unpack("!H", frame[24:26])[0]
            frame[24:26] = struct.pack("!H", rng.choice((c ^ 1, c ^ 0xFFFF, 0, 0xFFFF)))
            return frame, side
        else:              # truncate inside the IP/L4 headers
            frame = frame[:rng.randint(0, min(len(frame), 14 + ihl + 20))]
        if rng.random() < 0.85:
            fix_ip_checksum(frame)
        return frame, side

    def noise(self):
        rng = self.rng
        frame = bytearray(rng.getrandbits(8) for _ in range(rng.choice((0, 1, 13, 14, 33, 34,
                                                                       rng.randint(0, 90)))))
        if len(frame) >= 15 and rng.random() < 0.6:
            frame[12:14] = b"\x08\x00"
            frame[14] = 0x40 | (frame[14] & 0x0F)
            if rng.random() < 0.5:
                fix_ip_checksum(frame)
        return frame, rng.randrange(2)

    def frame(self):
        r = self.rng.random()
        if r < 0.38:
            frame, side = self.outbound()
        elif r < 0.63:
            frame, side = self.reply()
        elif r < 0.71:
            frame, side = self.inbound_random()
        elif r < 0.84:
            frame, side = self.mutated()
        elif r < 0.88:
            frame, side = self.outbound()
            frame = frame[:self.rng.randrange(len(frame))]
        elif r < 0.91:
            frame, side = self.noise()
        else:
            frame, side = self.special()
        if self.rng.random() < 0.02:
            side ^= 1      # arrives on the unexpected side
        return bytes(frame), side


def test_random_and_mutated_frames_agree():
    rng = random.Random(SEED)
    total = Counter()
    frames = 0
    for label, overrides, count in SEGMENTS:
        cfg = config(**overrides)
        pair = SideBySide(cfg, label)
        stream = Stream(rng, cfg, pair)
        done = 0
        while done < count:
            n = min(count - done, rng.choice((1, 2, 8, 16, 32, 64)))
            batch = [stream.frame() for _ in range(n)]
            times = [stream.next_time() for _ in range(n)]
            pair.run([f for f, _ in batch], times, [s for _, s in batch])
            done += n
        frames += pair.frames
        total.update(pair.reasons)
    assert frames >= 100_000
    # the stream must reach every reason the NAT can give for a frame of a batch
    missing = [name for name in C.REASON_NAMES[2:] if total[name] == 0] + \
        ([] if total["forwarded"] else ["forwarded"])
    assert not missing, f"reasons never produced: {missing} ({dict(total)})"
    print(f"\n{frames} frames compared: {dict(total)}")


# ---------------------------------------------------------------------------
# (a) the bundled example captures
# ---------------------------------------------------------------------------

def test_example_captures_agree():
    cfg = build_config(load_toml(os.path.join(EXAMPLES, "nat.toml")))
    inside = read_capture(os.path.join(EXAMPLES, "inside.pcap"))
    outside = read_capture(os.path.join(EXAMPLES, "outside.pcap"))
    buf, offs, lens, times, sides = merge(inside, outside)
    frames = [buf[o:o + n].tobytes() for o, n in zip(offs, lens)]
    pair = SideBySide(cfg, "examples/")
    pair.run(frames, times, sides)
    assert pair.frames == len(inside) + len(outside) == len(frames)
    assert pair.reasons["forwarded"] > 0


# ---------------------------------------------------------------------------
# (c) direct spec tests, each also run against the NAT
# ---------------------------------------------------------------------------

def pair_for(**overrides):
    return SideBySide(config(**overrides), "unit")


def test_expiry_exactly_at_the_boundary():
    """2: a flow is removed when now - last_seen >= timeout (>=, exactly)."""
    p = pair_for()                         # udp timeout 30 s
    T = 30 * SEC
    assert p.one(out_udp(sport=5000), 0, 0)[0] == C.FORWARD                 # index 0
    assert p.one(out_udp(sport=5001), 0, 0)[0] == C.FORWARD                 # index 1
    # one ns before the boundary: still alive (and refreshed by the reply)
    assert p.one(in_udp(dport=40000), T - 1, 1)[0] == C.FORWARD
    assert A.st_last_seen(p.udp, 0) == T - 1
    # exactly at the boundary for the other one: gone
    assert p.one(in_udp(dport=40001), T, 1)[0] == C.DROP_NO_FLOW
    assert not A.st_live(p.udp, 1)
    assert A.st_live(p.udp, 0)
    assert p.one(in_udp(dport=40000), T - 1 + T - 1, 1)[0] == C.FORWARD
    # expiry happens for every frame, even one that is dropped at parsing
    assert p.one(b"\x00" * 10, 3 * T, 0)[0] == C.DROP_NOT_IPV4
    assert A.st_count(p.udp) == 0
    p.run([b""], [3 * T], [0])             # and the NAT agrees on the count (checked in run)


def test_expiry_boundary_reply_after_exact_timeout_is_no_flow():
    p = pair_for()
    assert p.one(out_tcp(), 5, 0)[0] == C.FORWARD
    assert p.one(in_tcp(), 5 + 120 * SEC, 1)[0] == C.DROP_NO_FLOW


def test_full_table_and_free_index_fifo():
    """4: table_full when the table holds N flows; a new flow takes the free
    index freed longest ago (0, 1, 2, ... at first)."""
    p = pair_for(port_range="40000-40002", udp_timeout="10")
    T = 10 * SEC
    for k, t in enumerate((0, 1 * SEC, 2 * SEC)):
        reason, out = p.one(out_udp(sport=6000 + k), t, 0)
        assert reason == C.FORWARD and out[34:36] == (40000 + k).to_bytes(2, "big")
    assert p.one(out_udp(sport=6003), 3 * SEC, 0)[0] == C.DROP_TABLE_FULL
    assert A.st_count(p.udp) == 3          # the drop allocated nothing
    # a hit on a full table is fine
    assert p.one(out_udp(sport=6002), 3 * SEC, 0)[0] == C.FORWARD
    # index 0 expires at T, then index 1 at T + 1 s: free = [0, 1] in that order
    assert p.one(b"", T, 0)[0] == C.DROP_NOT_IPV4
    assert p.one(b"", T + 1 * SEC, 0)[0] == C.DROP_NOT_IPV4
    assert A.st_count(p.udp) == 1
    reason, out = p.one(out_udp(sport=7000), T + 1 * SEC, 0)
    assert reason == C.FORWARD and out[34:36] == (40000).to_bytes(2, "big")
    reason, out = p.one(out_udp(sport=7001), T + 1 * SEC, 0)
    assert reason == C.FORWARD and out[34:36] == (40001).to_bytes(2, "big")
    assert p.one(out_udp(sport=7002), T + 1 * SEC, 0)[0] == C.DROP_TABLE_FULL
    # the TCP table is separate
    assert p.one(out_tcp(sport=7002), T + 1 * SEC, 0)[0] == C.FORWARD


def test_several_flows_expiring_together_free_oldest_first():
    """Several flows expiring on the same frame: the least recently used one
    is freed first (the reading the spec takes; see abstract_state)."""
    p = pair_for(port_range="40000-40002", udp_timeout="10")
    for k in range(3):
        assert p.one(out_udp(sport=6000 + k), k, 0)[0] == C.FORWARD   # indices 0, 1, 2
    assert p.one(out_udp(sport=6000), 5, 0)[0] == C.FORWARD            # 0 is now the newest
    # all three expire on this frame; freed in order 1, 2, 0
    for k, want in ((0, 40001), (1, 40002), (2, 40000)):
        reason, out = p.one(out_udp(sport=8000 + k), 100 * SEC, 0)
        assert reason == C.FORWARD and out[34:36] == want.to_bytes(2, "big")


def test_rejected_inbound_touches_no_state():
    """5: spoofed, wrong_destination, port_out_of_range and no_flow frames
    neither refresh nor allocate."""
    p = pair_for()
    T = 30 * SEC
    assert p.one(out_udp(), 0, 0)[0] == C.FORWARD
    before = (A.st_last_seen(p.udp, 0), A.st_count(p.udp), A.st_count(p.tcp))
    assert p.one(in_udp(sport=54), T - 1, 1)[0] == C.DROP_SPOOFED
    assert p.one(in_udp(src="198.51.100.11"), T - 1, 1)[0] == C.DROP_SPOOFED
    assert p.one(in_udp(dst="203.0.113.2"), T - 1, 1)[0] == C.DROP_WRONG_DESTINATION
    assert p.one(in_udp(dport=40010), T - 1, 1)[0] == C.DROP_PORT_OUT_OF_RANGE
    assert p.one(in_udp(dport=39999), T - 1, 1)[0] == C.DROP_PORT_OUT_OF_RANGE
    assert p.one(in_udp(dport=40001), T - 1, 1)[0] == C.DROP_NO_FLOW
    assert p.one(in_tcp(dport=40000), T - 1, 1)[0] == C.DROP_NO_FLOW
    assert (A.st_last_seen(p.udp, 0), A.st_count(p.udp), A.st_count(p.tcp)) == before
    # had the spoofed frame refreshed the flow, this genuine reply would pass
    assert p.one(in_udp(), T, 1)[0] == C.DROP_NO_FLOW


def test_time_going_backwards_is_clamped():
    p = pair_for()
    assert p.one(out_udp(), 100 * SEC, 0)[0] == C.FORWARD
    assert p.one(out_udp(sport=1), 5, 0)[0] == C.FORWARD        # now = 100 s
    assert int(p.clock[0]) == 100 * SEC
    assert A.st_last_seen(p.udp, 1) == 100 * SEC
    assert p.one(in_udp(), 130 * SEC - 1, 1)[0] == C.FORWARD
    assert p.one(in_udp(dport=40001), 130 * SEC, 1)[0] == C.DROP_NO_FLOW


def test_hit_keeps_the_first_mac_and_rewrites_macs():
    p = pair_for()
    reason, out = p.one(out_udp(mac="02:00:00:00:10:99"), 0, 0)
    assert reason == C.FORWARD
    assert out[0:6] == bytes.fromhex(GATEWAY_MAC.replace(":", ""))
    assert out[6:12] == bytes.fromhex(OUTSIDE_MAC.replace(":", ""))
    assert p.one(out_udp(mac=HOST_MAC), 1, 0)[0] == C.FORWARD   # a hit: MAC not updated
    reason, out = p.one(in_udp(), 2, 1)
    assert reason == C.FORWARD
    assert out[0:6] == bytes.fromhex("020000001099")
    assert out[6:12] == bytes.fromhex(INSIDE_MAC.replace(":", ""))


def test_checksums_and_options_and_padding():
    """6 and 7: valid IP checksum on output with options; L4 checksum valid
    exactly when it was; padding and options kept."""
    from scapy.all import IPOption_NOP  # noqa: F401  (scapy is a test dependency)
    p = pair_for()
    f = bytearray(out_tcp(options=[IPOption_NOP()] * 8, payload=b"hello")) + b"\xAA" * 6
    reason, out = p.one(bytes(f), 0, 0)
    assert reason == C.FORWARD
    assert ip_header_ok(out) and l4_checksum_ok(out)
    assert out[34:42] == f[34:42] and out[-6:] == b"\xAA" * 6
    g = bytearray(out_udp(sport=9))
    g[40:42] = b"\x12\x34"                                       # invalid UDP checksum
    reason, out = p.one(bytes(g), 0, 0)
    assert reason == C.FORWARD and ip_header_ok(out) and not l4_checksum_ok(out)


def test_udp_checksum_zero_stays_zero():
    p = pair_for()
    f = bytearray(out_udp())
    f[40:42] = b"\0\0"
    reason, out = p.one(bytes(f), 0, 0)
    assert reason == C.FORWARD and out[40:42] == b"\0\0"
    g = bytearray(in_udp())
    g[40:42] = b"\0\0"
    reason, out = p.one(bytes(g), 1, 1)
    assert reason == C.FORWARD and out[40:42] == b"\0\0"


def test_udp_checksum_that_comes_out_zero_is_sent_as_ffff():
    """6: build an outbound UDP frame whose translated checksum is 0: the
    NAT must send 0xFFFF."""
    ext, port = ip_int(EXT), 40000
    host, server = ip_int(HOST), ip_int(SERVER)
    # the sum of the translated pseudo-header and header with payload word 0
    base = build(17, ext, server, port, 53, 1, 1, payload=b"\0\0")
    seg = bytes(base[34:])
    seg = seg[:6] + b"\0\0" + seg[8:]
    s = ones_sum(struct.pack("!IIBBH", ext, server, 0, 17, len(seg)) + seg)
    word = 0xFFFF - s            # makes the translated sum 0xFFFF, i.e. checksum 0
    f = build(17, host, server, 5000, 53, mac_int(HOST_MAC), NAT_IN,
              payload=word.to_bytes(2, "big"))
    assert l4_checksum_ok(bytes(f))
    p = pair_for()
    reason, out = p.one(bytes(f), 0, 0)
    assert reason == C.FORWARD and out[34:36] == port.to_bytes(2, "big")
    assert out[40:42] == b"\xff\xff" and l4_checksum_ok(out)


def test_checksum_negative_zero_inputs():
    """Input checksums of 0xFFFF (one's-complement -0) on paths where
    RFC 1624 eqn. 3 meets all-ones / all-zero words: spec and NAT agree."""
    def ip_ffff(frame):
        frame = bytearray(frame)
        for ident in range(65536):
            frame[18:20] = ident.to_bytes(2, "big")
            frame[24:26] = b"\0\0"
            if ones_sum(bytes(frame[14:34])) == 0xFFFF:
                frame[24:26] = b"\xff\xff"
                assert ip_header_ok(bytes(frame))
                return bytes(frame)
        raise AssertionError("no IP ID gives a checksum of 0")

    def l4(frame, at, value):
        frame = bytearray(frame)
        frame[at:at + 2] = value.to_bytes(2, "big")
        return bytes(frame)

    p = pair_for(external_ip="203.0.0.0")
    assert p.one(ip_ffff(out_udp(src="10.0.255.255")), 0, 0)[0] == C.FORWARD
    p = pair_for(external_ip="0.0.0.0")
    assert p.one(l4(ip_ffff(out_tcp(src="255.255.255.255", sport=40000)), 50, 0xFFFF),
                 0, 0)[0] == C.FORWARD
    p = pair_for(external_ip="255.255.255.255", port_range="65535-65535")
    assert p.one(out_tcp(src="0.0.0.0", sport=0), 0, 0)[0] == C.FORWARD
    assert p.one(out_udp(src="0.0.0.0", sport=0), 0, 0)[0] == C.FORWARD
    reason, out = p.one(l4(in_tcp(dst="255.255.255.255", dport=65535), 50, 0xFFFF), 1, 1)
    assert reason == C.FORWARD and out[50:52] == b"\xff\xff"   # every term of eqn. 3 is 0
    reason, out = p.one(l4(in_udp(dst="255.255.255.255", dport=65535), 40, 0xFFFF), 1, 1)
    assert reason == C.FORWARD and out[40:42] == b"\xff\xff"
    p = pair_for(external_ip="255.255.255.255")
    assert p.one(out_tcp(src="0.0.0.0", sport=40000), 0, 0)[0] == C.FORWARD
    reason, out = p.one(l4(in_tcp(dst="255.255.255.255", dport=40000), 50, 0xFFFF), 1, 1)
    assert reason == C.FORWARD and out[50:52] == b"\x00\x00"   # the unchanged port word counts


def test_every_parse_reason_in_order():
    """3: each parse reason, at its boundary, and the first one wins."""
    p = pair_for()
    ok = out_udp()
    assert p.one(ok[:13], 0, 0)[0] == C.DROP_NOT_IPV4
    assert p.one(ok[:14], 0, 0)[0] == C.DROP_BAD_IP_HEADER
    assert p.one(ok[:33], 0, 0)[0] == C.DROP_BAD_IP_HEADER
    bad = bytearray(ok)
    bad[12] = 0x81
    assert p.one(bytes(bad[:5]), 0, 0)[0] == C.DROP_NOT_IPV4
    # fragment beats TTL, TTL beats protocol, protocol beats truncated_l4
    f = bytearray(out_udp(ttl=1))
    f[20:22] = b"\x20\x00"
    f[23] = 1
    assert p.one(bytes(fix_ip_checksum(f)), 0, 0)[0] == C.DROP_FRAGMENT
    f[20:22] = b"\x40\x00"
    assert p.one(bytes(fix_ip_checksum(f)), 0, 0)[0] == C.DROP_TTL_EXPIRED
    f[22] = 2
    assert p.one(bytes(fix_ip_checksum(f)), 0, 0)[0] == C.DROP_UNSUPPORTED_PROTOCOL
    f[23] = 17
    f[16:18] = (20 + 7).to_bytes(2, "big")
    assert p.one(bytes(fix_ip_checksum(f)), 0, 0)[0] == C.DROP_TRUNCATED_L4
    f[16:18] = (20 + 8).to_bytes(2, "big")      # UDP header only; the rest is padding
    reason, out = p.one(bytes(fix_ip_checksum(f)), 0, 0)
    assert reason == C.FORWARD and out[22] == 1 and ip_header_ok(out)
    g = bytearray(out_tcp())
    g[16:18] = (20 + 19).to_bytes(2, "big")
    assert p.one(bytes(fix_ip_checksum(g)), 0, 0)[0] == C.DROP_TRUNCATED_L4
