"""Regenerate examples/inside.pcap and examples/outside.pcap (needs scapy).

A small day in the life of the NAT configured in examples/nat.toml: two
inside hosts open TCP and UDP flows, servers answer, and a few frames show
each kind of drop. The comments say what `vernat replay` does with each.
"""

import os
import sys

from scapy.all import ARP, ICMP, IP, TCP, UDP, DNS, DNSQR, Ether, IPOption_NOP, Raw, raw

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from vernat.io.pcap import write_pcap  # noqa: E402
from vernat.nat.engine import frames_to_batch  # noqa: E402

T0 = 1_700_000_000 * 10**9
MS = 10**6
NAT_IN = "02:00:00:00:01:01"
NAT_OUT = "02:00:00:00:02:01"
GW = "02:00:00:00:02:fe"
HOST_A, HOST_A_MAC = "10.0.0.2", "02:00:00:00:10:02"
HOST_B, HOST_B_MAC = "10.0.0.3", "02:00:00:00:10:03"
WEB, DNS_SRV, EXT = "198.51.100.10", "198.51.100.53", "203.0.113.1"


def from_a(ip):
    return Ether(src=HOST_A_MAC, dst=NAT_IN) / ip


def from_b(ip):
    return Ether(src=HOST_B_MAC, dst=NAT_IN) / ip


def from_gw(ip):
    return Ether(src=GW, dst=NAT_OUT) / ip


inside = [
    # A opens TCP to the web server: new flow, external port 40000
    (0 * MS, from_a(IP(src=HOST_A, dst=WEB) / TCP(sport=33000, dport=80, flags="S", seq=1000))),
    # A asks DNS: new UDP flow, external port 40000 in the UDP table
    (10 * MS, from_a(IP(src=HOST_A, dst=DNS_SRV) / UDP(sport=5353, dport=53) /
                     DNS(rd=1, qd=DNSQR(qname="example.org")))),
    # A completes the handshake and sends a request: same flow, refreshed
    (30 * MS, from_a(IP(src=HOST_A, dst=WEB) / TCP(sport=33000, dport=80, flags="A", seq=1001, ack=5001))),
    (31 * MS, from_a(IP(src=HOST_A, dst=WEB) / TCP(sport=33000, dport=80, flags="PA", seq=1001, ack=5001) /
                     Raw(b"GET / HTTP/1.1\r\nHost: example.org\r\n\r\n"))),
    # B opens TCP with IP options: new flow, port 40001; options kept, checksum right
    (32 * MS, from_b(IP(src=HOST_B, dst=WEB, options=[IPOption_NOP()] * 4) /
                     TCP(sport=44000, dport=80, flags="S"))),
    # dropped: ICMP (unsupported in version 1), a fragment, a bad IP checksum,
    # TTL 1, an ARP request, a UDP header cut short
    (40 * MS, from_a(IP(src=HOST_A, dst=WEB) / ICMP())),
    (50 * MS, from_a(IP(src=HOST_A, dst=WEB, flags="MF", frag=0) / UDP(sport=5000, dport=9) / Raw(b"x" * 16))),
    (60 * MS, from_a(IP(src=HOST_A, dst=WEB, chksum=0x1234) / UDP(sport=5001, dport=9))),
    (70 * MS, from_a(IP(src=HOST_A, dst=WEB, ttl=1) / UDP(sport=5002, dport=9))),
    (80 * MS, Ether(src=HOST_A_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc=HOST_A, pdst="10.0.0.1")),
    (90 * MS, from_a(IP(src=HOST_A, dst=WEB, proto=17, len=24) / Raw(b"\x13\x88\x00\x09"))),
    # 40 s later B asks DNS: A's UDP flow has expired (30 s), B gets port 40001
    (40_000 * MS, from_b(IP(src=HOST_B, dst=DNS_SRV) / UDP(sport=6000, dport=53) /
                         DNS(rd=1, qd=DNSQR(qname="example.net")))),
]

outside = [
    # the web server answers A: translated back to 10.0.0.2:33000
    (20 * MS, from_gw(IP(src=WEB, dst=EXT) / TCP(sport=80, dport=40000, flags="SA", seq=5000, ack=1001))),
    # the DNS reply to A, a short frame with Ethernet padding (kept)
    (25 * MS, from_gw(IP(src=DNS_SRV, dst=EXT) / UDP(sport=53, dport=40000) / Raw(b"ok"))),
    # dropped: a reply from the wrong source (spoofed), an unsolicited one
    # (no flow on that port), one for another address, one outside the range
    (26 * MS, from_gw(IP(src="192.0.2.66", dst=EXT) / UDP(sport=53, dport=40000) / Raw(b"evil"))),
    (27 * MS, from_gw(IP(src="198.51.100.99", dst=EXT) / UDP(sport=1234, dport=40005))),
    (28 * MS, from_gw(IP(src=WEB, dst="203.0.113.2") / TCP(sport=80, dport=40000, flags="A"))),
    (29 * MS, from_gw(IP(src=WEB, dst=EXT) / TCP(sport=80, dport=22, flags="S"))),
    # the web server answers B (IP options flow)
    (35 * MS, from_gw(IP(src=WEB, dst=EXT) / TCP(sport=80, dport=40001, flags="SA"))),
    # a late DNS reply to A at 35 s: its flow expired at 30.025 s, dropped
    (35_000 * MS, from_gw(IP(src=DNS_SRV, dst=EXT) / UDP(sport=53, dport=40000) / Raw(b"late"))),
]


def write(path, items):
    frames = []
    for _, pkt in items:
        frame = raw(pkt)
        frames.append(frame + b"\x00" * max(0, 60 - len(frame)))   # Ethernet minimum
    buf, offs, lens, _, _ = frames_to_batch(frames)
    write_pcap(path, buf, offs, lens, [T0 + t for t, _ in items])


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    write(os.path.join(here, "inside.pcap"), inside)
    write(os.path.join(here, "outside.pcap"), outside)
    print("wrote examples/inside.pcap and examples/outside.pcap")
