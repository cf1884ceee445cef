"""The NAT's rules on live traffic: a full table, expiry, malformed and spoofed frames."""

import pytest
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import Ether

from tests.live.conftest import IO_PATHS, LiveNat, agent, result
from vernat.io.xdp import rings as R
from vernat.live import stats as S
from vernat.nat import constants as C


def drops(nat, reason):
    return int(S.counters(nat.stats)[R.REASONS + reason])


@pytest.mark.parametrize("io", IO_PATHS)
def test_a_full_table_refuses_new_flows_while_old_ones_work(fresh_testbed, io):
    tb, workdir = fresh_testbed
    nat = LiveNat(tb, workdir, ["--io", io, "--port-range", "2000-2001"])   # 2 flows per table
    # the echo server answers 4 datagrams: two new flows, then two of the first flow's
    echo = agent(tb, tb.ns_outside, "udp-echo", tb.server_ip, 9400, 4, wait_listening=True)
    for local_port in (41000, 41001):
        assert result(agent(tb, tb.ns_inside, "udp-ask", tb.server_ip, 9400, 1,
                            local_port))["replies"] == 1
    refused = result(agent(tb, tb.ns_inside, "udp-ask", tb.server_ip, 9400, 1, 41002))
    assert refused["replies"] == 0
    assert drops(nat, C.DROP_TABLE_FULL) >= 1
    # the first flows still work
    assert result(agent(tb, tb.ns_inside, "udp-ask", tb.server_ip, 9400, 2,
                        41000))["replies"] == 2
    peers = result(echo)["peers"]
    assert len(peers) == 4                                # the refused one never got there
    assert {port for _, port in peers} == {2000, 2001}


@pytest.mark.parametrize("io", IO_PATHS)
def test_a_reply_after_the_udp_timeout_is_dropped(fresh_testbed, io):
    tb, workdir = fresh_testbed
    nat = LiveNat(tb, workdir, ["--io", io, "--udp-timeout", "1"])
    server = agent(tb, tb.ns_outside, "udp-reply-late", tb.server_ip, 9500, 2.5,
                   wait_listening=True)
    before = drops(nat, C.DROP_NO_FLOW)
    client = result(agent(tb, tb.ns_inside, "udp-ask-listen", tb.server_ip, 9500, 4))
    result(server)
    assert client["first"] == "hello"
    assert client["later"] == []                           # the stale reply never came in
    assert drops(nat, C.DROP_NO_FLOW) == before + 1        # the NAT dropped it: no flow


@pytest.mark.parametrize("io", IO_PATHS)
def test_spoofed_replies_are_dropped(fresh_testbed, io):
    tb, workdir = fresh_testbed
    nat = LiveNat(tb, workdir, ["--io", io])
    server = agent(tb, tb.ns_outside, "udp-reply-late", tb.server_ip, 9600, 0.1,
                   wait_listening=True)
    client = agent(tb, tb.ns_inside, "udp-ask-listen", tb.server_ip, 9600, 3)
    external_port = result(server)["peer"][1]
    # while the flow is live, the server host sends to its external port from another port
    result(agent(tb, tb.ns_outside, "udp-send-from", tb.server_ip, 9601, tb.external_ip,
                 external_port))
    seen = result(client)
    assert seen["later"] == ["stale"]           # the real peer's second datagram only
    assert drops(nat, C.DROP_SPOOFED) == 1


@pytest.mark.parametrize("io", IO_PATHS)
def test_malformed_frames_are_dropped_and_the_nat_keeps_running(fresh_testbed, io):
    tb, workdir = fresh_testbed
    nat = LiveNat(tb, workdir, ["--io", io])
    nat_mac = tb.mac(tb.ns_nat, tb.if_nat_inside)
    client_mac = tb.mac(tb.ns_inside, tb.if_client)
    eth = Ether(src=client_mac, dst=nat_mac)
    good = eth / IP(src=tb.client_ip, dst=tb.server_ip) / UDP(sport=5000, dport=9) / (b"x" * 20)
    raw = bytes(good)
    bad_checksum = bytearray(raw)
    bad_checksum[24] ^= 0xFF                          # IPv4 header checksum
    truncated = bytearray(raw[:30])                   # shorter than an IPv4 header
    frames = {
        C.DROP_BAD_IP_CHECKSUM: bytes(bad_checksum),
        C.DROP_BAD_IP_HEADER: bytes(truncated),
        C.DROP_FRAGMENT: bytes(eth / IP(src=tb.client_ip, dst=tb.server_ip, flags="MF") /
                               UDP(sport=5000, dport=9) / (b"x" * 20)),
        C.DROP_TTL_EXPIRED: bytes(eth / IP(src=tb.client_ip, dst=tb.server_ip, ttl=1) /
                                  UDP(sport=5000, dport=9) / (b"x" * 20)),
        C.DROP_UNSUPPORTED_PROTOCOL: bytes(eth / IP(src=tb.client_ip, dst=tb.server_ip) /
                                           ICMP()),
        C.DROP_TRUNCATED_L4: bytes(eth / IP(src=tb.client_ip, dst=tb.server_ip, proto=17) /
                                   b"abc"),
    }
    before = {reason: drops(nat, reason) for reason in frames}
    result(agent(tb, tb.ns_inside, "send-raw", tb.if_client, *(f.hex() for f in frames.values())))
    # a real exchange afterwards: the NAT is still there, and it has seen the frames above
    echo = agent(tb, tb.ns_outside, "udp-echo", tb.server_ip, 9700, 3, wait_listening=True)
    assert result(agent(tb, tb.ns_inside, "udp-ask", tb.server_ip, 9700, 3))["replies"] == 3
    result(echo)
    for reason in frames:
        assert drops(nat, reason) == before[reason] + 1, C.REASON_NAMES[reason]
    assert nat.proc.poll() is None
