"""Fixtures of the live tests: a testbed of their own (unique names, always torn
down) with the NAT running in it as `vernat run --inside ... --outside ...`."""

import json
import os
import subprocess
import sys
import tempfile

import pytest

from vernat.live import stats as S
from vernat.testbed import new_testbed
from vernat.testbed.topology import stop_process

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

def pytest_collection_modifyitems(config, items):
    """Live tests need root (namespaces, XDP); elsewhere they are skipped, not failed."""
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="live tests need root")
    for item in items:
        if "tests/live/" in str(item.fspath):
            item.add_marker(skip)


class LiveNat:
    def __init__(self, tb, workdir, extra_args=()):
        self.tb, self.workdir = tb, workdir
        self.stats_path = os.path.join(workdir, "stats")
        self.log_path = os.path.join(workdir, "nat.log")
        self.summary_path = os.path.join(workdir, "summary.json")
        argv = [sys.executable, "-m", "vernat.cli", "run", "--inside", tb.if_nat_inside,
                "--outside", tb.if_nat_outside, "--gateway", tb.server_ip,
                "--stats-file", self.stats_path, "--summary-json", self.summary_path,
                *extra_args]
        with open(self.log_path, "w") as log:
            self.proc = tb.spawn(tb.ns_nat, argv, stdout=log, stderr=subprocess.STDOUT,
                                 cwd=ROOT)
        self.stats = self._wait_running()

    def _wait_running(self, timeout=600):
        # generous: a cold numba cache compiles the data plane first (~1 min here; CI's
        # machine took over 240 s for AF_PACKET when it inlined the NAT twice)
        try:
            stats = S.wait_running(self.proc, self.stats_path, timeout)
        except TimeoutError:
            raise AssertionError(f"the NAT did not start: {self.log()}") from None
        assert stats is not None, f"the NAT exited: {self.log()}"
        return stats

    def log(self):
        with open(self.log_path) as f:
            return f.read()[-2000:]

    def summary(self):
        return S.summary(self.stats)

    def stop(self):
        """SIGTERM; returns the exit code."""
        self.proc.send_signal(15)
        return self.proc.wait(timeout=30)


def agent(tb, ns, *args, wait_listening=False):
    """Start a tests.live.agents program in a namespace."""
    proc = tb.spawn(ns, [sys.executable, "-m", "tests.live.agents", *map(str, args)],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, text=True)
    if wait_listening:
        line = proc.stdout.readline()
        assert json.loads(line) == {"listening": True}, proc.stderr.read()
    return proc


def result(proc, timeout=60):
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


IO_PATHS = ("xdp", "packet")


def _live(io):
    tb = new_testbed()
    workdir = tempfile.mkdtemp(prefix=f"vernat-test-{tb.id}-")
    try:
        tb.create()
        nat = LiveNat(tb, workdir, ["--io", io])
        yield tb, nat
    finally:
        tb.destroy()
        subprocess.run(("rm", "-rf", workdir))


@pytest.fixture(scope="module", params=IO_PATHS)
def live(request):
    """One testbed and NAT for a module's tests, on each I/O path."""
    yield from _live(request.param)


@pytest.fixture(scope="module")
def live_xdp():
    yield from _live("xdp")


@pytest.fixture
def fresh_testbed():
    """A testbed for one test (the test starts its own NAT)."""
    tb = new_testbed()
    workdir = tempfile.mkdtemp(prefix=f"vernat-test-{tb.id}-")
    try:
        tb.create()
        yield tb, workdir
    finally:
        tb.destroy()
        subprocess.run(("rm", "-rf", workdir))
