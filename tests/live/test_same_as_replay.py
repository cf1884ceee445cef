"""The live path runs the same entry point as replay: the same frames give the same
bytes out."""

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether

from tests.live.conftest import IO_PATHS, LiveNat, agent, result
from vernat.nat import constants as C
from vernat.nat.config import resolve
from vernat.nat.engine import Nat, frames_to_batch


@pytest.mark.parametrize("io", IO_PATHS)
def test_live_frames_equal_replayed_frames(fresh_testbed, io):
    tb, workdir = fresh_testbed
    nat = LiveNat(tb, workdir, ["--io", io])
    macs = {"inside-mac": tb.mac(tb.ns_nat, tb.if_nat_inside),
            "outside-mac": tb.mac(tb.ns_nat, tb.if_nat_outside),
            "gateway-mac": tb.mac(tb.ns_outside, tb.if_server)}
    client_mac = tb.mac(tb.ns_inside, tb.if_client)
    eth_in = Ether(src=client_mac, dst=macs["inside-mac"])
    eth_out = Ether(src=macs["gateway-mac"], dst=macs["outside-mac"])
    # two UDP flows, one TCP flow (with IP options and padding on one frame), then replies
    outbound = [
        eth_in / IP(src=tb.client_ip, dst=tb.server_ip, id=7) / UDP(sport=5000, dport=53) /
        (b"q" * 30),
        eth_in / IP(src=tb.client_ip, dst=tb.server_ip) / UDP(sport=5001, dport=53) / b"r",
        eth_in / IP(src=tb.client_ip, dst=tb.server_ip, options=b"\x01\x01\x01\x00") /
        TCP(sport=6000, dport=80, flags="S", seq=1000),
        eth_in / IP(src=tb.client_ip, dst=tb.server_ip) / UDP(sport=5000, dport=53, chksum=0) /
        (b"z" * 7),
    ]
    inbound = [   # the NAT gives the flows ports 1024, 1025 (UDP) and 1024 (TCP), in order
        eth_out / IP(src=tb.server_ip, dst=tb.external_ip) / UDP(sport=53, dport=1024) / b"a",
        eth_out / IP(src=tb.server_ip, dst=tb.external_ip) / UDP(sport=53, dport=1025) / b"b",
        eth_out / IP(src=tb.server_ip, dst=tb.external_ip) /
        TCP(sport=80, dport=1024, flags="SA", seq=5, ack=1001),
    ]
    outbound = [bytes(f) for f in outbound]
    inbound = [bytes(f) for f in inbound]

    at_server = agent(tb, tb.ns_outside, "capture", tb.if_server, len(outbound), 10,
                      wait_listening=True)
    result(agent(tb, tb.ns_inside, "send-raw", tb.if_client, *(f.hex() for f in outbound)))
    sent_out = [bytes.fromhex(f) for f in result(at_server)["frames"]]
    at_client = agent(tb, tb.ns_inside, "capture", tb.if_client, len(inbound), 10,
                      wait_listening=True)
    result(agent(tb, tb.ns_outside, "send-raw", tb.if_server, *(f.hex() for f in inbound)))
    sent_in = [bytes.fromhex(f) for f in result(at_client)["frames"]]

    replay = Nat(resolve({"external-ip": tb.external_ip, **macs}))
    buf, offs, lens, times, sides = frames_to_batch(outbound + inbound,
                                                    from_outside=[0] * 4 + [1] * 3)
    verdicts, _ = replay.process_batch(buf, offs, lens, times, sides)
    assert list(verdicts) == [C.TO_OUTSIDE] * 4 + [C.TO_INSIDE] * 3
    replayed = [buf[o:o + n].tobytes() for o, n in zip(offs, lens)]
    assert sent_out == replayed[:4]
    assert sent_in == replayed[4:]
