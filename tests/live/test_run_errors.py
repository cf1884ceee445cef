"""`vernat run`'s one-line errors, each for a real situation built in a namespace."""

import subprocess
import sys

import pytest

from tests.live.conftest import ROOT
from vernat import cli
from vernat.testbed.topology import sh


def run_in(ns, *args):
    proc = subprocess.run(("ip", "netns", "exec", ns, sys.executable, "-m", "vernat.cli",
                           "run", *args), capture_output=True, text=True, cwd=ROOT, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def one_line_error(rc, out, err, wanted):
    assert rc != 0
    assert "Traceback" not in err + out
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vernat: error: "), err
    assert wanted in lines[0], lines[0]


def test_not_root(monkeypatch, capsys):
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert cli.main(["run", "--inside", "a", "--outside", "b"]) == 1
    assert "needs root" in capsys.readouterr().err


@pytest.fixture
def nat_ns(fresh_testbed):
    tb, _ = fresh_testbed
    return tb


def test_same_interface_twice(nat_ns):
    tb = nat_ns
    one_line_error(*run_in(tb.ns_nat, "--inside", tb.if_nat_inside, "--outside",
                           tb.if_nat_inside), "same interface")


def test_missing_interface(nat_ns):
    tb = nat_ns
    one_line_error(*run_in(tb.ns_nat, "--inside", "vn-nope", "--outside", tb.if_nat_outside),
                   "--inside vn-nope: no such interface")


def test_interface_down(nat_ns):
    tb = nat_ns
    sh("ip", "link", "set", tb.if_nat_outside, "down", netns=tb.ns_nat)
    one_line_error(*run_in(tb.ns_nat, "--inside", tb.if_nat_inside, "--outside",
                           tb.if_nat_outside), "is down")


def test_outside_without_ipv4(nat_ns):
    tb = nat_ns
    sh("ip", "addr", "flush", "dev", tb.if_nat_outside, netns=tb.ns_nat)
    one_line_error(*run_in(tb.ns_nat, "--inside", tb.if_nat_inside, "--outside",
                           tb.if_nat_outside, "--gateway-mac", "02:00:00:00:00:fe"),
                   "has no IPv4 address")


def test_gateway_that_does_not_answer(nat_ns):
    tb = nat_ns
    one_line_error(*run_in(tb.ns_nat, "--inside", tb.if_nat_inside, "--outside",
                           tb.if_nat_outside, "--gateway", "203.0.113.99"),
                   "203.0.113.99 does not answer ARP")


def test_no_default_route_and_no_gateway(nat_ns):
    tb = nat_ns
    one_line_error(*run_in(tb.ns_nat, "--inside", tb.if_nat_inside, "--outside",
                           tb.if_nat_outside), "no default route")


def test_bad_config_value(nat_ns, tmp_path):
    tb = nat_ns
    config = tmp_path / "nat.toml"
    config.write_text('udp-timeout = "soon"\n')
    one_line_error(*run_in(tb.ns_nat, "--inside", tb.if_nat_inside, "--outside",
                           tb.if_nat_outside, "--gateway", tb.server_ip,
                           "--config", str(config)), "udp-timeout")


def test_xdp_unavailable_when_another_program_is_attached(live_xdp):
    tb, nat = live_xdp         # this NAT's XDP programs occupy both interfaces
    one_line_error(*run_in(tb.ns_nat, "--inside", tb.if_nat_inside, "--outside",
                           tb.if_nat_outside, "--gateway", tb.server_ip, "--io", "xdp"),
                   "XDP unavailable")
    assert nat.proc.poll() is None        # and the running NAT is untouched


def test_xdp_refuses_an_interface_with_several_receive_queues(nat_ns):
    tb = nat_ns
    sh("ip", "link", "add", "vn-mq0", "numrxqueues", "2", "type", "veth", "peer", "name",
       "vn-mq1", netns=tb.ns_nat)
    sh("ip", "link", "set", "vn-mq0", "up", netns=tb.ns_nat)
    sh("ip", "link", "set", "vn-mq1", "up", netns=tb.ns_nat)
    one_line_error(*run_in(tb.ns_nat, "--inside", "vn-mq0", "--outside", tb.if_nat_outside,
                           "--gateway", tb.server_ip, "--io", "xdp"), "2 receive queues")
