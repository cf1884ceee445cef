"""The `unverified` device's NAT (vernat/baseline/plain_nat.py) must do what vernat
does, or comparing their speed would mean nothing: the same frames through both give
the same verdicts, reasons and bytes (flows get the same indices here: both hand out
index 0, 1, 2, ... to the first flows, and no index is reused in these sequences)."""

import numpy as np
from scapy.all import IP, UDP, Ether, raw

from tests.helpers import (SEC, config, in_tcp, in_udp, out_tcp, out_udp, INSIDE_MAC,
                           HOST, HOST_MAC)
from vernat.bench.variants import StandInNat, noop_batch
from vernat.nat import constants as C
from vernat.nat.engine import Nat, frames_to_batch


def run(nat, frames, sides, times):
    buf, offs, lens, t, s = frames_to_batch(frames, times, sides)
    v = np.zeros(len(frames), np.uint8)
    r = np.zeros(len(frames), np.uint8)
    nat.batch(buf, offs, lens, t, s, len(frames), nat.cfg, nat.clock, nat.tcp, nat.udp, v, r)
    return list(v), list(r), [bytes(buf[o:o + n]) for o, n in zip(offs, lens)]


def both(frames, sides, times, **cfg):
    return (run(Nat(config(**cfg)), frames, sides, times),
            run(StandInNat(config(**cfg), "unverified"), frames, sides, times))


def bad_checksum():
    f = bytearray(out_udp(sport=5100))
    f[24] ^= 0xFF
    return bytes(f)


def test_same_verdicts_reasons_and_bytes_on_every_rule():
    frames = [
        out_udp(sport=5000), out_tcp(sport=6000), out_udp(sport=5000),     # new, new, known
        in_udp(dport=40000), in_tcp(dport=40001),                          # replies
        in_udp(dport=40000, sport=54), in_udp(dport=40000, src="198.51.100.99"),  # spoofed
        in_udp(dport=40005), in_udp(dport=39999), in_udp(dport=40000, dst="203.0.113.9"),
        out_udp(sport=5001, ttl=1), out_udp(sport=5002, flags=1), bad_checksum(),
        raw(Ether(src=HOST_MAC, dst=INSIDE_MAC) / IP(src=HOST, dst="198.51.100.10", proto=1)
            / b"icmp-ish payload"),
        raw(Ether(src=HOST_MAC, dst=INSIDE_MAC, type=0x86DD) / (b"\x60" + b"\0" * 50)),
        out_udp(sport=5003, payload=b"") [:40],                             # truncated
        out_udp(sport=5004, chksum=0),
    ]
    sides = [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    verified, plain = both(frames, sides, [SEC] * len(frames))
    assert verified == plain
    assert C.FORWARD in verified[1] and C.DROP_SPOOFED in verified[1]


def test_same_table_full_and_expiry():
    # capacity 10 (ports 40000-40009), UDP timeout 30 s
    frames = [out_udp(sport=7000 + k) for k in range(11)]            # the 11th: table full
    frames += [in_udp(dport=40003)]                                    # live
    frames += [in_udp(dport=40004)]                                    # at 31 s: expired
    times = [SEC] * 12 + [31 * SEC]
    verified, plain = both(frames, [0] * 11 + [1, 1], times)
    assert verified == plain
    assert verified[1][10] == C.DROP_TABLE_FULL and verified[1][12] == C.DROP_NO_FLOW


def test_noop_forwards_every_frame_unchanged():
    nat = Nat(config())
    nat.batch = noop_batch
    frames = [out_udp(sport=5000), in_udp(dport=40000), b"\x00" * 20]
    verdicts, reasons, out = run(nat, frames, [0, 1, 0], [SEC] * 3)
    assert verdicts == [C.TO_OUTSIDE, C.TO_INSIDE, C.TO_OUTSIDE]
    assert out == frames
