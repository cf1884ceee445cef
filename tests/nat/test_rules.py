"""One test (or more) per numbered rule of docs/semantics.md, on the numba
build and on the CPython run of the same source."""

import numpy as np
import pytest
from scapy.all import ARP, ICMP, IP, IPv6, TCP, UDP, Dot1Q, Ether, IPOption_NOP, IPOption_RR, raw

from vernat.nat import constants as C
from tests.helpers import (
    EXT, GATEWAY_MAC, HOST, HOST_MAC, INSIDE_MAC, OUTSIDE_MAC, SEC, SERVER,
    in_tcp, in_udp, ip_header_ok, l4_checksum_ok, make_run, out_tcp, out_udp,
    reason_name, table_snapshot,
)


def field(frame, start, size):
    return int.from_bytes(frame[start:start + size], "big")


# ---- step 4: outbound translation -------------------------------------------

@pytest.mark.parametrize("make", [out_udp, out_tcp], ids=["udp", "tcp"])
def test_outbound_rewrites_exactly_the_named_fields(jit, make):
    run = make_run(jit)
    frame = make(payload=b"payload bytes")
    verdict, reason, out = run.send(frame, "in", time=5)
    assert (verdict, reason) == (C.TO_OUTSIDE, C.FORWARD)
    pkt = Ether(out)
    assert pkt[IP].src == EXT and pkt[IP].dst == SERVER
    assert pkt.sport == 40000                       # S + index 0, network byte order
    assert out[34:36] == (40000).to_bytes(2, "big")
    assert pkt[IP].ttl == 63
    assert pkt.src == OUTSIDE_MAC and pkt.dst == GATEWAY_MAC
    assert ip_header_ok(out) and l4_checksum_ok(out)
    changed = {k for k in range(len(frame)) if frame[k] != out[k]}
    l4 = 34
    csum_at = l4 + (6 if make is out_udp else 16)
    allowed = set(range(0, 12)) | {22, 24, 25} | set(range(26, 30)) | {l4, l4 + 1, csum_at, csum_at + 1}
    assert changed <= allowed


def test_outbound_ports_follow_the_index_and_flows_are_reused(jit):
    run = make_run(jit)
    ports = []
    for sport in (1000, 1001, 1002):
        _, _, out = run.send(out_udp(sport=sport), "in", time=1)
        ports.append(Ether(out).sport)
    assert ports == [40000, 40001, 40002]
    _, _, out = run.send(out_udp(sport=1001), "in", time=2)
    assert Ether(out).sport == 40001                 # hit: same flow, same port


def test_same_inside_port_to_other_remote_is_a_new_flow(jit):
    run = make_run(jit)
    _, _, a = run.send(out_udp(dst="198.51.100.1"), "in")
    _, _, b = run.send(out_udp(dst="198.51.100.2"), "in")
    assert Ether(a).sport != Ether(b).sport


def test_tcp_and_udp_tables_are_separate(jit):
    run = make_run(jit)
    _, _, a = run.send(out_udp(), "in")
    _, _, b = run.send(out_tcp(), "in")
    assert Ether(a).sport == Ether(b).sport == 40000


# ---- step 5: inbound translation ---------------------------------------------

@pytest.mark.parametrize("proto", ["udp", "tcp"])
def test_inbound_reply_is_translated_back(jit, proto):
    run = make_run(jit)
    if proto == "udp":
        run.send(out_udp(sport=5000, dport=53), "in", time=1)
        reply = in_udp(dport=40000, sport=53, payload=b"answer")
    else:
        run.send(out_tcp(sport=33000, dport=80), "in", time=1)
        reply = in_tcp(dport=40000, sport=80, payload=b"answer")
    verdict, reason, out = run.send(reply, "out", time=2)
    assert (verdict, reason) == (C.TO_INSIDE, C.FORWARD)
    pkt = Ether(out)
    assert pkt[IP].dst == HOST and pkt[IP].src == SERVER
    assert pkt.dport == (5000 if proto == "udp" else 33000)
    assert pkt[IP].ttl == 63
    assert pkt.src == INSIDE_MAC and pkt.dst == HOST_MAC
    assert ip_header_ok(out) and l4_checksum_ok(out)


def test_flow_remembers_the_creating_mac(jit):
    run = make_run(jit)
    run.send(out_udp(mac="02:00:00:00:aa:01"), "in", time=1)
    run.send(out_udp(mac="02:00:00:00:aa:02"), "in", time=2)      # hit: MAC not updated
    _, _, out = run.send(in_udp(), "out", time=3)
    assert Ether(out).dst == "02:00:00:00:aa:01"


@pytest.mark.parametrize("reply, reason", [
    (lambda: in_udp(dst="203.0.113.2"), C.DROP_WRONG_DESTINATION),
    (lambda: in_udp(dport=39999), C.DROP_PORT_OUT_OF_RANGE),
    (lambda: in_udp(dport=40010), C.DROP_PORT_OUT_OF_RANGE),
    (lambda: in_udp(dport=22), C.DROP_PORT_OUT_OF_RANGE),
    (lambda: in_udp(dport=40001), C.DROP_NO_FLOW),
    (lambda: in_udp(src="192.0.2.66"), C.DROP_SPOOFED),
    (lambda: in_udp(sport=54), C.DROP_SPOOFED),
    (lambda: in_tcp(dport=40000, sport=53), C.DROP_NO_FLOW),      # the flow is UDP
], ids=["wrong-dst", "below-range", "above-range", "far-below", "no-flow", "spoofed-ip",
        "spoofed-port", "other-protocol"])
def test_inbound_drops_touch_no_state(jit, reply, reason):
    run = make_run(jit)
    run.send(out_udp(sport=5000, dport=53), "in", time=1 * SEC)
    before = table_snapshot(run.nat)
    frame = reply()
    verdict, got, out = run.send(frame, "out", time=1 * SEC)
    assert (verdict, reason_name(got)) == (C.DROP, reason_name(reason))
    after = table_snapshot(run.nat)
    assert all(np.array_equal(a, b) for a, b in zip(before, after))


def test_spoofed_packet_does_not_keep_a_flow_alive(jit):
    run = make_run(jit)
    run.send(out_udp(), "in", time=0)
    run.send(in_udp(src="192.0.2.66"), "out", time=29 * SEC)     # spoofed: no refresh
    verdict, reason, _ = run.send(in_udp(), "out", time=30 * SEC)
    assert reason == C.DROP_NO_FLOW


def test_port_range_end_is_usable(jit):
    run = make_run(jit, port_range="65535-65535")
    _, _, out = run.send(out_udp(), "in")
    assert Ether(out).sport == 65535
    verdict, _, out = run.send(in_udp(dport=65535), "out")
    assert verdict == C.TO_INSIDE


# ---- steps 1 and 2: time and expiry ------------------------------------------

def test_expiry_boundary_is_greater_or_equal(jit):
    run = make_run(jit)
    t1 = 10 * SEC
    run.send(out_udp(), "in", time=t1)
    t2 = t1 + 30 * SEC - 1                             # 1 ns before the timeout
    verdict, _, _ = run.send(in_udp(), "out", time=t2)
    assert verdict == C.TO_INSIDE                      # ...and refreshed at t2
    verdict, reason, _ = run.send(in_udp(), "out", time=t2 + 30 * SEC)
    assert reason == C.DROP_NO_FLOW                    # now - last_seen == timeout


def test_tcp_uses_its_own_timeout(jit):
    run = make_run(jit)
    run.send(out_tcp(), "in", time=0)
    verdict, _, _ = run.send(in_tcp(), "out", time=119 * SEC)
    assert verdict == C.TO_INSIDE
    verdict, reason, _ = run.send(in_tcp(), "out", time=(119 + 120) * SEC)
    assert reason == C.DROP_NO_FLOW


def test_expiry_runs_for_every_frame_even_dropped_ones(jit):
    run = make_run(jit)
    run.send(out_udp(), "in", time=0)
    arp = raw(Ether(src=HOST_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP())
    verdict, reason, _ = run.send(arp, "in", time=31 * SEC)
    assert reason == C.DROP_NOT_IPV4
    assert run.nat.flow_counts()["udp"] == 0


def test_time_going_backwards_is_clamped(jit):
    run = make_run(jit)
    run.send(out_udp(), "in", time=100 * SEC)
    run.send(out_udp(sport=7), "in", time=50 * SEC)      # clamped to 100 s: refresh at 100
    assert int(run.nat.clock[0]) == 100 * SEC
    verdict, _, _ = run.send(in_udp(dport=40001, sport=53), "out", time=129 * SEC)
    assert verdict == C.TO_INSIDE                         # flow of sport 7 still alive


def test_expired_port_is_reused_last(jit):
    run = make_run(jit, port_range="40000-40002")
    run.send(out_udp(sport=1), "in", time=0)                # index 0
    run.send(out_udp(sport=2), "in", time=20 * SEC)         # index 1
    _, _, out = run.send(out_udp(sport=3), "in", time=31 * SEC)   # 0 expired; gets 2
    assert Ether(out).sport == 40002
    _, _, out = run.send(out_udp(sport=4), "in", time=31 * SEC)   # then the freed 0
    assert Ether(out).sport == 40000


# ---- full table ----------------------------------------------------------------

def test_full_table_refuses_new_flows_and_keeps_old_ones(jit):
    run = make_run(jit, port_range="40000-40001")
    run.send(out_udp(sport=1), "in", time=0)
    run.send(out_udp(sport=2), "in", time=0)
    before = table_snapshot(run.nat)
    verdict, reason, _ = run.send(out_udp(sport=3), "in", time=1)
    assert reason == C.DROP_TABLE_FULL
    assert np.array_equal(before[1], run.nat.udp)           # nothing overwritten
    verdict, _, out = run.send(in_udp(dport=40001, sport=53), "out", time=2)
    assert verdict == C.TO_INSIDE and Ether(out).dport == 2
    verdict, _, out = run.send(out_udp(sport=3), "in", time=31 * SEC)   # after expiry
    assert verdict == C.TO_OUTSIDE


# ---- step 3: parsing and drop reasons ----------------------------------------

def reason_of(frame, jit):
    return reason_name(make_run(jit).send(frame, "in")[1])


def ip_frame(**ip):
    return raw(Ether(src=HOST_MAC, dst=INSIDE_MAC) / IP(src=HOST, dst=SERVER, **ip) /
               UDP(sport=5000, dport=53) / b"data")


def with_ip_checksum(frame):
    """Recompute the IPv4 header checksum of a hand-damaged frame."""
    ihl = (frame[14] & 0x0F) * 4
    b = bytearray(frame)
    b[24:26] = b"\x00\x00"
    total = 0
    for k in range(14, min(14 + ihl, len(b) - 1), 2):   # an IHL may point past the frame
        total += (b[k] << 8) | b[k + 1]
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    b[24:26] = (0xFFFF ^ total).to_bytes(2, "big")
    return bytes(b)


def patch(frame, at, data):
    return frame[:at] + data + frame[at + len(data):]


@pytest.mark.parametrize("frame, reason", [
    (lambda: b"", "not_ipv4"),
    (lambda: b"\x00" * 13, "not_ipv4"),
    (lambda: raw(Ether() / ARP()), "not_ipv4"),
    (lambda: raw(Ether() / IPv6() / UDP()), "not_ipv4"),
    (lambda: raw(Ether() / Dot1Q(vlan=5) / IP(dst=SERVER) / UDP()), "not_ipv4"),
    (lambda: ip_frame()[:14], "bad_ip_header"),
    (lambda: ip_frame()[:33], "bad_ip_header"),
    (lambda: with_ip_checksum(patch(ip_frame(), 14, b"\x65")), "bad_ip_header"),   # version 6
    (lambda: with_ip_checksum(patch(ip_frame(), 14, b"\x44")), "bad_ip_header"),   # IHL 4
    (lambda: with_ip_checksum(patch(ip_frame(), 14, b"\x4f")), "bad_ip_header"),   # IHL > frame
    (lambda: with_ip_checksum(patch(ip_frame(), 16, (19).to_bytes(2, "big"))), "bad_ip_header"),
    (lambda: with_ip_checksum(patch(ip_frame(), 16, (1000).to_bytes(2, "big"))), "bad_ip_header"),
    (lambda: ip_frame(chksum=0x1234), "bad_ip_checksum"),
    (lambda: ip_frame(flags="MF"), "fragment"),
    (lambda: ip_frame(frag=1), "fragment"),
    (lambda: ip_frame(flags="MF", frag=100), "fragment"),
    (lambda: ip_frame(ttl=1), "ttl_expired"),
    (lambda: ip_frame(ttl=0), "ttl_expired"),
    (lambda: raw(Ether() / IP(dst=SERVER) / ICMP()), "unsupported_protocol"),
    (lambda: raw(Ether() / IP(dst=SERVER, proto=47) / (b"x" * 30)), "unsupported_protocol"),
    (lambda: raw(Ether() / IP(dst=SERVER, proto=17) / b"1234567"), "truncated_l4"),
    (lambda: raw(Ether() / IP(dst=SERVER, proto=6) / (b"x" * 19)), "truncated_l4"),
], ids=["empty", "13-bytes", "arp", "ipv6", "vlan", "eth-only", "short-ip", "version-6",
        "ihl-4", "ihl-beyond-frame", "total-below-ihl", "total-beyond-frame",
        "bad-checksum", "mf", "offset", "mf-and-offset", "ttl-1", "ttl-0", "icmp", "gre",
        "udp-7-bytes", "tcp-19-bytes"])
def test_drop_reasons(jit, frame, reason):
    assert reason_of(frame(), jit) == reason


def test_dont_fragment_is_not_a_fragment(jit):
    assert reason_of(ip_frame(flags="DF"), jit) == "forwarded"


def test_ttl_two_is_forwarded_with_ttl_one(jit):
    verdict, _, out = make_run(jit).send(ip_frame(ttl=2), "in")
    assert verdict == C.TO_OUTSIDE and Ether(out)[IP].ttl == 1


def test_exact_minimum_l4_lengths_pass(jit):
    udp = raw(Ether() / IP(dst=SERVER) / UDP(sport=1, dport=2))            # 8 bytes
    tcp = raw(Ether() / IP(dst=SERVER) / TCP(sport=1, dport=2))            # 20 bytes
    assert reason_of(udp, jit) == "forwarded"
    assert reason_of(tcp, jit) == "forwarded"


def test_bad_descriptor_is_dropped(jit):
    run = make_run(jit)
    buf = np.frombuffer(out_udp(), dtype=np.uint8).copy()
    for off, length in ((0, len(buf) + 1), (-1, 10), (5, -1), (len(buf), 1)):
        verdicts, reasons = run.nat.process_batch(
            buf, np.array([off]), np.array([length]), np.array([0]), np.zeros(1, np.uint8))
        assert reason_name(reasons[0]) == "bad_descriptor"


# ---- step 6: checksums -----------------------------------------------------------

def test_ip_options_are_kept_and_checksummed(jit):
    frame = raw(Ether(src=HOST_MAC, dst=INSIDE_MAC) /
                IP(src=HOST, dst=SERVER, options=[IPOption_RR(routers=["1.2.3.4"]), IPOption_NOP()]) /
                TCP(sport=1234, dport=80) / b"with options")
    ihl = (frame[14] & 0xF) * 4
    assert ihl > 20
    verdict, _, out = make_run(jit).send(frame, "in")
    assert verdict == C.TO_OUTSIDE
    assert out[34:14 + ihl] == frame[34:14 + ihl]
    assert ip_header_ok(out) and l4_checksum_ok(out)
    assert Ether(out)[TCP].sport == 40000


def test_invalid_l4_checksum_stays_invalid(jit):
    good = out_tcp(payload=b"abc")
    bad = patch(good, 50, (int.from_bytes(good[50:52], "big") ^ 0x0101).to_bytes(2, "big"))
    assert not l4_checksum_ok(bad)
    _, _, out = make_run(jit).send(bad, "in")
    assert not l4_checksum_ok(out)
    _, _, out = make_run(jit).send(good, "in")
    assert l4_checksum_ok(out)


def test_udp_checksum_zero_stays_zero(jit):
    frame = patch(out_udp(), 40, b"\x00\x00")
    _, _, out = make_run(jit).send(frame, "in")
    assert out[40:42] == b"\x00\x00"
    run = make_run(jit)
    run.send(out_udp(), "in")
    _, _, out = run.send(patch(in_udp(), 40, b"\x00\x00"), "out")
    assert out[40:42] == b"\x00\x00"


def test_udp_checksum_computed_as_zero_is_sent_as_ffff(jit):
    """Search a payload whose translated UDP checksum is 0 (one's-complement
    +0): the NAT must send it as 0xFFFF (RFC 768: 0 means 'no checksum')."""
    import struct
    from tests.helpers import ones_sum
    ext = bytes([203, 0, 113, 1])
    dst = bytes([198, 51, 100, 10])
    for word in range(65536):
        payload = struct.pack(">H", word) + b"zz"
        seg = struct.pack(">HHHH", 40000, 53, 8 + len(payload), 0) + payload
        if 0xFFFF ^ ones_sum(ext + dst + b"\x00\x11" + struct.pack(">H", len(seg)) + seg) == 0:
            break
    else:
        pytest.fail("no payload found")
    frame = out_udp(payload=payload)
    _, _, out = make_run(jit).send(frame, "in")
    assert out[34:36] == (40000).to_bytes(2, "big")
    assert out[40:42] == b"\xff\xff"
    assert l4_checksum_ok(out)


# ---- step 7: padding and other bytes ------------------------------------------------

def test_ethernet_padding_is_kept(jit):
    frame = out_udp(payload=b"") + b"\xAB" * 18
    verdict, _, out = make_run(jit).send(frame, "in")
    assert verdict == C.TO_OUTSIDE
    assert len(out) == len(frame) and out[-18:] == b"\xAB" * 18


def test_tos_id_flags_are_unchanged(jit):
    frame = ip_frame(tos=0xB8, id=0x4242, flags="DF")
    _, _, out = make_run(jit).send(frame, "in")
    assert out[15] == frame[15] and out[18:22] == frame[18:22]


# ---- the batch entry point ---------------------------------------------------------

def test_batch_verdicts_follow_the_side(jit):
    from vernat.nat.engine import Nat, frames_to_batch
    from tests.helpers import config
    nat = Nat(config(), jit=jit)
    frames = [out_udp(), in_udp(), in_udp(dport=40005), raw(Ether() / ARP())]
    batch = frames_to_batch(frames, [1, 2, 3, 4], [0, 1, 1, 0])
    verdicts, reasons = nat.process_batch(*batch)
    assert list(verdicts) == [C.TO_OUTSIDE, C.TO_INSIDE, C.DROP, C.DROP]
    assert [reason_name(r) for r in reasons] == ["forwarded", "forwarded", "no_flow", "not_ipv4"]
