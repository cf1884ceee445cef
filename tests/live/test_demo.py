"""The README's main command: the embedded demo carries every client through the NAT."""

import json
import subprocess
import sys

from tests.live.conftest import ROOT
from vernat.testbed.topology import sh


def test_demo_runs_every_client_through_the_nat_and_cleans_up(tmp_path):
    summary_path = tmp_path / "summary.json"
    proc = subprocess.run([sys.executable, "-m", "vernat.cli", "run", "--duration", "1",
                           "--summary-json", str(summary_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    summary = json.loads(summary_path.read_text())
    assert summary["ok"] and summary["stopped_by"] == "--duration"
    assert set(summary["clients"]) == {"NAT type (RFC 5780)", "HTTP", "DNS", "iperf3 TCP",
                                       "iperf3 UDP"}
    assert all(c["ok"] == c["runs"] >= 1 for c in summary["clients"].values())
    assert summary["server_saw"] == ["203.0.113.1"]
    assert summary["nat"]["sent_outside"] > (16 << 20) // 1514     # iperf3 TCP uploads
    assert summary["nat"]["sent_inside"] > (16 << 20) // 1514      # the 16 MiB download
    assert f"vn-{summary['testbed']}-" not in sh("ip", "netns", "list")
