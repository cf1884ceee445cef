"""`vernat bench` live, for real but very short (root: namespaces, XDP, nftables).
No speed is asserted: only that every device is measured, the JSON has the shape the
README promises, and nothing is left behind, even when a run fails or is stopped."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from vernat.bench import duts as D, suite
from vernat.cli import main

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the live benchmark needs root")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def namespaces():
    out = subprocess.run(("ip", "netns", "list"), capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def test_a_short_run_measures_every_device(tmp_path, capsys):
    before = namespaces()
    out, plots = tmp_path / "bench.json", tmp_path / "plots"
    assert main(["bench", "--quick", "--flows", "1", "--occupancies", "1",
                 "--trial-seconds", "0.2", "--json", str(out), "--plots", str(plots)]) == 0
    data = json.loads(out.read_text())
    for name in D.NAMES:
        r = data[name]
        assert set(r["loss_free_kpps"]) == {"1"} and r["loss_free_kpps"]["1"] > 0
        assert set(r["latency_p50_us"]) == set(r["latency_p99_us"]) == {"1"}
        assert 0 < r["latency_p50_us"]["1"] <= r["latency_p99_us"]["1"]
        assert r["latency_probes"]["1"]["received"] > 0
        assert isinstance(r["generator_bound"]["1"], bool)
        assert r["busy_ns_per_packet"]["1"] > 0
    assert data["calibration"]["loss_free_kpps"]["1"] > 0
    # the table really was filled to the occupancy (1 % of 64,512 flows, + the probe flow)
    for name in ("vernat", "unverified", "linux"):
        assert data[name]["table_flows"]["1"] >= D.CAPACITY // 100
    assert {row["target"].split(" ")[2] for row in data["targets"]} >= {"linux", "noop"}
    assert sorted(os.listdir(plots)) == ["busy.png", "latency.png", "throughput.png"]
    printed = capsys.readouterr().out
    assert all(name in printed for name in D.NAMES)
    assert namespaces() == before


def workdirs():
    return {d for d in os.listdir("/tmp") if d.startswith("vernat-bench-")}


def test_a_failing_run_leaves_nothing_behind(monkeypatch):
    before, dirs = namespaces(), workdirs()
    started = []
    real_start = D.Dut.start

    def start_then_fail(self):
        real_start(self)
        if self.name == "vernat":
            started.append(self.proc)
            raise RuntimeError("planted failure")
        return self
    monkeypatch.setattr(D.Dut, "start", start_then_fail)
    settings = suite.quick_settings(duts=("vernat",), flows=(1,), occupancies=(1,),
                                    trial_seconds=0.2, steps=2)
    with pytest.raises(RuntimeError, match="planted failure"):
        suite.run(settings, progress=False)
    assert started and started[0].poll() is not None       # the NAT's process is gone
    assert namespaces() == before                           # and its testbed with its XDP
    assert workdirs() == dirs


def test_sigterm_stops_the_run_and_removes_everything():
    before = namespaces()
    proc = subprocess.Popen([sys.executable, "-m", "vernat.cli", "bench", "--quick",
                             "--duts", "vernat", "--flows", "1", "--occupancies", "1"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:      # wait until vernat runs in a testbed
        nat = [ns for ns in namespaces() - before if ns.endswith("-nat")]
        if nat and subprocess.run(("ip", "netns", "pids", nat[0]), capture_output=True,
                                  text=True).stdout.strip():
            break
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    else:
        pytest.fail("the benchmark never started vernat")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err
    assert namespaces() == before


def test_busy_poll_devices_forward_too(tmp_path):
    """`--busy-poll` (vernat run's, passed through): the loop spins instead of sleeping
    in poll(), and frames still go through, probes included."""
    out = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--busy-poll", "--duts", "vernat", "--flows", "1",
                 "--occupancies", "1", "--trial-seconds", "0.2", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["settings"]["busy_poll"] is True
    assert data["vernat"]["loss_free_kpps"]["1"] > 0
    assert data["vernat"]["latency_probes"]["1"]["received"] > 0


def test_testbed_down_cleans_up_after_a_killed_run(capsys):
    """kill -9 of a running bench leaves its testbed and its work directory (the
    compiled tools, the devices' logs); `vernat testbed down` removes both, and leaves
    a running bench's work directory alone."""
    before, dirs = namespaces(), workdirs()
    proc = subprocess.Popen([sys.executable, "-m", "vernat.cli", "bench", "--quick",
                             "--duts", "linux", "--flows", "1", "--occupancies", "1"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    mine = f"vernat-bench-{proc.pid}-"
    live = tempfile.mkdtemp(prefix=f"vernat-bench-{os.getpid()}-")   # a running bench's
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:      # its work directory and a testbed exist
            if any(d.startswith(mine) for d in workdirs()) and namespaces() - before:
                break
            assert proc.poll() is None
            time.sleep(0.1)
        else:
            pytest.fail("the benchmark never built a testbed")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert any(d.startswith(mine) for d in workdirs())      # left behind by the kill
        assert main(["testbed", "down"]) == 0
        assert not any(d.startswith(mine) for d in workdirs())
        assert namespaces() == before
        assert os.path.isdir(live)
        assert "work directory" in capsys.readouterr().out
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(live, ignore_errors=True)
    assert workdirs() <= dirs | {os.path.basename(live)}

