"""--cpu N: the data plane and the interfaces' receive work on one core, put back after."""

import os

import pytest

from tests.live.conftest import LiveNat
from vernat.live.placement import napi_threads
from vernat.testbed.topology import sh

pytestmark = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs 2 CPUs")


def sysfs(tb, ifname, name):
    return sh("cat", f"/sys/class/net/{ifname}/{name}", netns=tb.ns_nat).strip()


def test_cpu_pins_the_data_plane_and_napi_threads_and_restores_on_exit(fresh_testbed):
    tb, workdir = fresh_testbed
    cpu = max(os.sched_getaffinity(0))
    ifaces = (tb.if_nat_inside, tb.if_nat_outside)
    before = {i: (sysfs(tb, i, "threaded"), sysfs(tb, i, "queues/rx-0/rps_cpus")) for i in ifaces}
    nat = LiveNat(tb, workdir, ["--cpu", str(cpu)])
    assert os.sched_getaffinity(nat.proc.pid) == {cpu}
    for ifname in ifaces:
        assert sysfs(tb, ifname, "threaded") == "1"
        assert int(sysfs(tb, ifname, "queues/rx-0/rps_cpus"), 16) == 1 << cpu
        threads = napi_threads(ifname)
        assert threads
        assert all(os.sched_getaffinity(pid) == {cpu} for pid in threads)
        assert all(os.sched_getscheduler(pid) == os.SCHED_FIFO for pid in threads)
    assert nat.stop() == 0
    assert {i: (sysfs(tb, i, "threaded"), sysfs(tb, i, "queues/rx-0/rps_cpus"))
            for i in ifaces} == before
