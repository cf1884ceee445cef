"""Shared helpers: build frames with scapy, run them through a NAT, check
checksums independently of vernat's own code."""

import numpy as np
from scapy.all import IP, TCP, UDP, Ether, raw

from vernat.nat import constants as C
from vernat.nat.config import build_config
from vernat.nat.engine import Nat, frames_to_batch

EXT = "203.0.113.1"
INSIDE_MAC = "02:00:00:00:01:01"
OUTSIDE_MAC = "02:00:00:00:02:01"
GATEWAY_MAC = "02:00:00:00:02:fe"
HOST, HOST_MAC = "10.0.0.2", "02:00:00:00:10:02"
SERVER = "198.51.100.10"
SEC = 10**9


def config(**overrides):
    values = {"external-ip": EXT, "port-range": "40000-40009", "udp-timeout": "30",
              "tcp-timeout": "120", "inside-mac": INSIDE_MAC, "outside-mac": OUTSIDE_MAC,
              "gateway-mac": GATEWAY_MAC}
    values.update({k.replace("_", "-"): v for k, v in overrides.items()})
    return build_config(values)


def out_udp(sport=5000, dport=53, src=HOST, dst=SERVER, payload=b"query", mac=HOST_MAC, **ip):
    return raw(Ether(src=mac, dst=INSIDE_MAC) / IP(src=src, dst=dst, **ip) /
               UDP(sport=sport, dport=dport) / payload)


def out_tcp(sport=33000, dport=80, src=HOST, dst=SERVER, payload=b"", mac=HOST_MAC, **ip):
    return raw(Ether(src=mac, dst=INSIDE_MAC) / IP(src=src, dst=dst, **ip) /
               TCP(sport=sport, dport=dport, flags="S") / payload)


def in_udp(dport=40000, sport=53, src=SERVER, dst=EXT, payload=b"reply", **ip):
    return raw(Ether(src=GATEWAY_MAC, dst=OUTSIDE_MAC) / IP(src=src, dst=dst, **ip) /
               UDP(sport=sport, dport=dport) / payload)


def in_tcp(dport=40000, sport=80, src=SERVER, dst=EXT, payload=b"", **ip):
    return raw(Ether(src=GATEWAY_MAC, dst=OUTSIDE_MAC) / IP(src=src, dst=dst, **ip) /
               TCP(sport=sport, dport=dport, flags="SA") / payload)


class Run:
    """Feeds frames one batch at a time to one NAT and keeps the results."""

    def __init__(self, nat):
        self.nat = nat

    def send(self, frame, side="in", time=0):
        """side: 'in' (arrives on the inside) or 'out'. Returns
        (verdict, reason, output bytes)."""
        buf, offs, lens, times, sides = frames_to_batch(
            [frame], [time], [0 if side == "in" else 1])
        verdicts, reasons = self.nat.process_batch(buf, offs, lens, times, sides)
        return int(verdicts[0]), int(reasons[0]), bytes(buf)


def make_run(jit=True, **overrides):
    return Run(Nat(config(**overrides), jit=jit, salt=12345))


def ones_sum(data):
    if len(data) % 2:
        data += b"\x00"
    total = sum(int.from_bytes(data[k:k + 2], "big") for k in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def ip_header_ok(frame):
    ihl = (frame[14] & 0x0F) * 4
    return ones_sum(frame[14:14 + ihl]) == 0xFFFF


def l4_checksum_ok(frame):
    """True when the TCP/UDP checksum verifies over the pseudo-header."""
    ihl = (frame[14] & 0x0F) * 4
    total = int.from_bytes(frame[16:18], "big")
    proto = frame[23]
    seg = frame[14 + ihl:14 + total]
    pseudo = frame[26:34] + bytes([0, proto]) + len(seg).to_bytes(2, "big")
    return ones_sum(pseudo + seg) == 0xFFFF


def reason_name(code):
    return C.REASON_NAMES[code]


def table_snapshot(nat):
    return np.copy(nat.tcp), np.copy(nat.udp), np.copy(nat.clock)
