"""Stopping mid-traffic leaves nothing behind."""

import os
import re
import signal
import subprocess
import sys

from tests.live.conftest import ROOT, LiveNat, agent
from vernat.testbed.topology import sh


def nft_tables(tb):
    return sh("nft", "list", "tables", netns=tb.ns_nat).strip()


def test_sigterm_mid_traffic_on_af_packet_removes_its_rule(fresh_testbed):
    tb, workdir = fresh_testbed
    nat = LiveNat(tb, workdir, ["--io", "packet"])
    assert "vernat_" in nft_tables(tb)
    sink = agent(tb, tb.ns_outside, "tcp-sink", tb.server_ip, 9301, wait_listening=True)
    sender = agent(tb, tb.ns_inside, "tcp-send", tb.server_ip, 9301, 4096, 1)
    wait_for_traffic(nat)
    assert sender.poll() is None
    assert nat.stop() == 0
    assert nft_tables(tb) == ""
    assert "stopped (SIGTERM)" in nat.log()
    sender.kill()
    sink.kill()


def wait_for_traffic(nat):
    """Until the NAT has sent 1,000 frames outside (mid-transfer)."""
    import time
    from vernat.live import stats as S
    from vernat.io.xdp import rings as R
    deadline = time.monotonic() + 30
    while S.counters(nat.stats)[R.TX_FRAMES + 1] < 1000 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert S.counters(nat.stats)[R.TX_FRAMES + 1] >= 1000


def xdp_attached(tb):
    """Whether a link of the NAT namespace has an XDP program.  Programs attached through
    netlink outlive the process that attached them: only a clean shutdown removes them
    (the AF_XDP sockets close with the process)."""
    links = sh("ip", "-d", "link", "show", netns=tb.ns_nat)
    return "prog/xdp" in links


def test_sigterm_mid_traffic_detaches_everything(fresh_testbed):
    tb, workdir = fresh_testbed
    nat = LiveNat(tb, workdir)
    assert xdp_attached(tb)                           # the check below can see it
    sink = agent(tb, tb.ns_outside, "tcp-sink", tb.server_ip, 9300, wait_listening=True)
    sender = agent(tb, tb.ns_inside, "tcp-send", tb.server_ip, 9300, 4096, 1)
    wait_for_traffic(nat)
    assert sender.poll() is None                      # the transfer is still going
    assert nat.stop() == 0
    assert not xdp_attached(tb)
    assert "stopped (SIGTERM)" in nat.log()
    sender.kill()
    sink.kill()


def test_sigkill_leaves_no_xdp_program(fresh_testbed):
    """The programs hang on BPF links owned by the NAT process: they go with it."""
    tb, workdir = fresh_testbed
    nat = LiveNat(tb, workdir, ["--io", "xdp"])
    assert xdp_attached(tb)
    nat.proc.kill()
    nat.proc.wait(timeout=30)
    import time
    deadline = time.monotonic() + 5      # a link may be released just after the exit
    while xdp_attached(tb) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not xdp_attached(tb)


def test_sigterm_stops_the_embedded_demo_and_removes_its_testbed():
    proc = subprocess.Popen([sys.executable, "-m", "vernat.cli", "run"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    testbed_id, lines = None, []
    try:
        for line in proc.stdout:
            lines.append(line)
            found = re.search(r"building testbed ([0-9a-f]{6})", line)
            testbed_id = testbed_id or (found and found.group(1))
            if "HTTP: ok" in line:                     # clients are running: stop now
                break
        assert testbed_id, "".join(lines)
        assert any("HTTP: ok" in ln for ln in lines), "".join(lines)
        os.kill(proc.pid, signal.SIGTERM)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            subprocess.run([sys.executable, "-m", "vernat.cli", "testbed", "down", "--all"])
    assert proc.returncode == 0, rest
    assert "stopped by SIGTERM" in rest
    assert f"vn-{testbed_id}-" not in sh("ip", "netns", "list")
    leftovers = subprocess.run(("pgrep", "-af", f"vn-{testbed_id}-|vernat-{testbed_id}-"),
                               capture_output=True, text=True).stdout
    assert leftovers == ""
    assert not [d for d in os.listdir("/tmp") if d.startswith(f"vernat-{testbed_id}-")]
