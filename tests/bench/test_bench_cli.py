"""`vernat bench`'s errors: one line, a non-zero exit, no traceback, nothing started."""

import os
import subprocess
import sys

import pytest

from vernat.bench import tools
from vernat.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("argv, message", [
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--duts", "vernat,bsd"], "--duts: 'bsd' is not one of vernat, noop, unverified, linux"),
    (["--flows", "1,0"], "--flows: every value must be in 1..64,512"),
    (["--flows", "1,a"], "--flows '1,a': a comma-separated list of integers"),
    (["--occupancies", "100"], "--occupancies: every value must be in 1..99"),
    (["--trial-seconds", "0"], "--trial-seconds must be in 0.1..60"),
    (["--busy-rate", "10"], "--busy-rate must be in 1,000..5,000,000 frames/s"),
    (["--packets", "5000"], "--packets is for --in-memory"),
    (["--in-memory", "--quick"], "--quick is for the live benchmark, not --in-memory"),
    (["--plots", "/etc/hostname"], "--plots /etc/hostname: not a directory"),
    (["--in-memory", "--busy-poll"], "--busy-poll is for the live benchmark, not --in-memory"),
])
def test_bad_flags(argv, message, capsys):
    assert main(["bench", *argv]) == 2
    err = capsys.readouterr().err
    assert err == f"vernat: error: {message}\n"


def test_not_root():
    proc = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           sys.executable, "-m", "vernat.cli", "bench", "--quick"],
                          cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "HOME": "/tmp"})
    if os.geteuid() != 0:
        pytest.skip("setpriv needs root")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == "vernat: error: vernat bench needs root (namespaces, XDP, " \
                          "nftables)\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="the root check comes first")
def test_missing_tool(monkeypatch, capsys):
    monkeypatch.setitem(tools.REQUIRED, "no-such-tool-vernat", "imaginary-package")
    assert main(["bench", "--quick"]) == 1
    assert capsys.readouterr().err == ("vernat: error: no-such-tool-vernat not found (Debian "
                                       "package imaginary-package; bash scripts/setup.sh "
                                       "installs it)\n")


@pytest.mark.parametrize("argv, message", [
    (["--duts", "bsd"], "unknown device 'bsd' (calibration, vernat, noop, unverified, linux)"),
    (["--seconds", "0"], "--seconds must be in 0.2..60"),
    (["--background", "-1"], "--background must be in 0..5,000,000 frames/s"),
])
def test_latency_trace_bad_flags(argv, message, capsys):
    from vernat.bench import latency_trace
    assert latency_trace.main(argv) == 2
    assert capsys.readouterr().err == f"latency_trace: error: {message}\n"
