"""`vernat flows` lists the running NAT's translations."""

import json
import subprocess
import sys

from tests.live.conftest import ROOT, agent, result


def test_flows_lists_a_live_udp_translation(live):
    tb, nat = live
    echo = agent(tb, tb.ns_outside, "udp-echo", tb.server_ip, 9800, 1, wait_listening=True)
    assert result(agent(tb, tb.ns_inside, "udp-ask", tb.server_ip, 9800, 1, 41234))["replies"] == 1
    external_port = result(echo)["peers"][0][1]
    proc = subprocess.run([sys.executable, "-m", "vernat.cli", "flows", "--pid",
                           str(nat.proc.pid), "--json"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    listing = json.loads(proc.stdout)
    mine = [f for f in listing["flows"] if f["inside"] == f"{tb.client_ip}:41234"]
    assert len(mine) == 1
    flow = mine[0]
    assert flow["proto"] == "udp"
    assert flow["remote"] == f"{tb.server_ip}:9800"
    assert flow["external"] == f"{tb.external_ip}:{external_port}"
    assert flow["inside_mac"] == tb.mac(tb.ns_inside, tb.if_client)
    assert not flow["expired"]
