"""Real traffic through the NAT over AF_XDP on the testbed."""

import subprocess

from tests.live.conftest import agent, result
from vernat.nat import constants as C
from vernat.io.xdp import rings as R
from vernat.live import stats as S


def test_tcp_bulk_arrives_intact_from_the_external_ip(live):
    tb, nat = live
    sink = agent(tb, tb.ns_outside, "tcp-sink", tb.server_ip, 9000, wait_listening=True)
    sender = agent(tb, tb.ns_inside, "tcp-send", tb.server_ip, 9000, 24, 7)
    sent, received = result(sender), result(sink)
    assert received["bytes"] == sent["bytes"] == 24 << 20
    assert received["sha256"] == sent["sha256"]
    assert received["peer"] == tb.external_ip


def test_tcp_frames_never_exceed_the_mtu(live):
    """No TSO super-frame reaches the NAT (it would be dropped as bad_ip_header, or
    refused as bad_descriptor when cut by the ring): XDP on a veth turns GSO off on its
    peer, and the testbed's peers send without checksum offload, hence without TSO."""
    tb, nat = live
    sink = agent(tb, tb.ns_outside, "tcp-sink", tb.server_ip, 9001, wait_listening=True)
    result(agent(tb, tb.ns_inside, "tcp-send", tb.server_ip, 9001, 8, 3))
    result(sink)
    counters = S.counters(nat.stats)
    assert counters[R.REASONS + C.DROP_BAD_IP_HEADER] == 0
    assert counters[R.REASONS + C.DROP_BAD_DESCRIPTOR] == 0
    assert counters[R.REASONS + C.FORWARD] > (8 << 20) // 1500


def test_udp_replies_come_back_through_the_nat(live):
    tb, nat = live
    echo = agent(tb, tb.ns_outside, "udp-echo", tb.server_ip, 9100, 50, wait_listening=True)
    asker = agent(tb, tb.ns_inside, "udp-ask", tb.server_ip, 9100, 50, 40000)
    assert result(asker)["replies"] == 50
    peers = result(echo)["peers"]
    assert {ip for ip, _ in peers} == {tb.external_ip}
    port = peers[0][1]
    assert all(p == port for _, p in peers)            # one flow, one external port
    assert 1024 <= port <= 65535                        # the NAT's (default) port range


def test_unsolicited_inbound_never_reaches_the_inside(live):
    tb, nat = live
    before = S.counters(nat.stats).copy()
    # the server may try to reach the inside directly too: route it via the NAT
    subprocess.run(("ip", "netns", "exec", tb.ns_outside, "ip", "route", "replace",
                    "10.77.0.0/24", "via", tb.external_ip), check=True)
    listener = agent(tb, tb.ns_inside, "listen-all", 9200, 3, wait_listening=True)
    result(agent(tb, tb.ns_outside, "send-unsolicited",
                 f"{tb.external_ip},{tb.client_ip}", 9200))
    assert result(listener)["received"] == []
    after = S.counters(nat.stats)
    dropped = lambda reason: after[R.REASONS + reason] - before[R.REASONS + reason]
    assert dropped(C.DROP_NO_FLOW) >= 6               # 5 datagrams + 1 SYN to the external IP
    assert dropped(C.DROP_WRONG_DESTINATION) >= 6     # the same to the client's own address
    assert after[R.TX_FRAMES + 0] == before[R.TX_FRAMES + 0]   # nothing sent to the inside
