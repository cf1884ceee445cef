"""The devices under test of `vernat bench`, each set up in the NAT namespace of a fresh
testbed (vernat/testbed/): generator namespace -> DUT namespace -> sink namespace.

Same core budget for all: the DUT's work on CPU 1, the generator and the sink on CPU 0.
- vernat, noop, unverified: one process in the NAT namespace, `vernat run`'s operator
  mode with `--cpu 1` (data plane pinned, RPS, threaded NAPI pinned at SCHED_FIFO);
  noop and unverified are the same program with a stand-in for the NAT
  (vernat/bench/variants.py).
- linux: IPv4 forwarding and one nftables masquerade rule, conntrack timeouts set to
  ours, RPS on both interfaces to CPU 1 (lab notes: without it the kernel's NAT work
  runs on the sender's core).
- calibration: no DUT at all: the generator's veth straight to the sink's.
"""

import os
import subprocess
import sys

from vernat.bench import tools
from vernat.bench.live import NFT_MASQUERADE
from vernat.live import stats as S
from vernat.testbed.topology import Testbed, new_testbed, sh, stop_process

DUT_CPU = 1
PORT_RANGE = (1024, 65535)                 # the NAT's capacity: 64,512 flows per protocol
CAPACITY = PORT_RANGE[1] - PORT_RANGE[0] + 1
UDP_TIMEOUT = 300                          # s, vernat's default; linux gets the same
TCP_TIMEOUT = 7440
NAMES = ("vernat", "noop", "unverified", "linux")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class DirectBed(Testbed):
    """The calibration testbed: generator and sink namespaces on one veth pair, no DUT
    (same names as a testbed, so `vernat testbed down` finds a killed run's)."""

    direct = True           # the generator addresses the sink (vernat/bench/tools.py)

    def _create(self):
        for ns in (self.ns_inside, self.ns_outside):
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "set", "lo", "up", netns=ns)
        sh("ip", "link", "add", self.if_client, "netns", self.ns_inside, "type", "veth",
           "peer", "name", self.if_server, "netns", self.ns_outside)
        for ns, ifname, addr, other in ((self.ns_inside, self.if_client, self.client_ip,
                                         "203.0.113.0/24"),
                                        (self.ns_outside, self.if_server, self.server_ip,
                                         "10.77.0.0/24")):
            sh("ip", "addr", "add", f"{addr}/24", "dev", ifname, netns=ns)
            sh("ip", "link", "set", ifname, "up", netns=ns)
            sh("ip", "route", "add", other, "dev", ifname, netns=ns)
            sh("ethtool", "-K", ifname, "tx", "off", netns=ns)


def start_nat_process(bed, workdir, program, cpu=None, io="xdp", extra=(), name="nat"):
    """`python -m PROGRAM... run --inside --outside` in the testbed's NAT namespace (the
    gateway is the sink); waits until its data plane runs.  Returns (process, its live
    counters, vernat/live/stats.py)."""
    stats_path = os.path.join(workdir, f"{name}-{bed.id}.stats")
    log_path = os.path.join(workdir, f"{name}-{bed.id}.log")
    argv = [sys.executable, "-m", *program, "run", "--inside", bed.if_nat_inside,
            "--outside", bed.if_nat_outside, "--gateway", bed.server_ip, "--io", io,
            "--stats-file", stats_path, *extra]
    if cpu is not None:
        argv += ["--cpu", str(cpu)]
    with open(log_path, "w") as log:
        proc = bed.spawn(bed.ns_nat, argv, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    limit = 600                 # only a hang: a cold numba cache compiles first (~1 min here)
    try:
        stats = S.wait_running(proc, stats_path, limit)
    except TimeoutError:
        stop_process(proc)
        raise tools.ToolError(f"{name} did not start within {limit} s") from None
    if stats is None:
        with open(log_path) as f:
            lines = f.read().strip().splitlines()
        raise tools.ToolError(f"{name} did not start: {lines[-1] if lines else 'no output'}")
    return proc, stats


def new_bed(name):
    bed = new_testbed()
    return DirectBed(id=bed.id) if name == "calibration" else bed


def prepare(bed):
    """What every DUT's testbed gets: the sink, and the sink's MAC equal to the DUT's
    inside MAC, so that frames the noop forwards unchanged (addressed to the DUT) are
    the sink's own too (its probe socket gets them; a NAT addresses them to the
    gateway, the sink, anyway)."""
    tools.install_sink(bed)
    if not isinstance(bed, DirectBed):
        mac = bed.mac(bed.ns_nat, bed.if_nat_inside)
        sh("ip", "link", "set", bed.if_server, "address", mac, netns=bed.ns_outside)


class Dut:
    """start() in a prepared testbed, stop() before it goes; counters() for the
    data-plane DUTs (their in-loop counters), None for the others."""

    def __init__(self, name, bed, workdir, busy_poll=False):
        self.name, self.bed, self.workdir = name, bed, workdir
        self.busy_poll = busy_poll
        self.proc = None
        self.stats = None

    def start(self):
        if self.name == "calibration":
            return self
        if self.name == "linux":
            return self._start_linux()
        return self._start_process()

    def _start_linux(self):
        bed = self.bed
        sh("sysctl", "-q", "-w", "net.ipv4.ip_forward=1", netns=bed.ns_nat)
        subprocess.run(["ip", "netns", "exec", bed.ns_nat, "nft", "-f", "-"], check=True,
                       input=NFT_MASQUERADE % bed.if_nat_outside, text=True,
                       capture_output=True)
        for key, value in (("nf_conntrack_udp_timeout", UDP_TIMEOUT),
                           ("nf_conntrack_udp_timeout_stream", UDP_TIMEOUT),
                           ("nf_conntrack_tcp_timeout_established", TCP_TIMEOUT)):
            sh("sysctl", "-q", "-w", f"net.netfilter.{key}={value}", netns=bed.ns_nat)
        for ifname in (bed.if_nat_inside, bed.if_nat_outside):
            tools.rps(bed.ns_nat, ifname, DUT_CPU)
        return self

    def _start_process(self):
        bed = self.bed
        program = ["vernat.cli"] if self.name == "vernat" else ["vernat.bench.variants",
                                                                  self.name]
        self.proc, self.stats = start_nat_process(
            bed, self.workdir, program, cpu=DUT_CPU,
            extra=["--port-range", f"{PORT_RANGE[0]}-{PORT_RANGE[1]}",
                   "--udp-timeout", str(UDP_TIMEOUT), "--tcp-timeout", str(TCP_TIMEOUT)]
            + (["--busy-poll"] if self.busy_poll else []),
            name=self.name)
        return self

    def counters(self):
        """(frames received, batches) so far, or None."""
        if self.stats is None:
            return None
        c = S.counters(self.stats)
        from vernat.io.xdp import rings as R
        return int(c[R.RX_FRAMES] + c[R.RX_FRAMES + 1]), int(c[R.BATCHES])

    def stop(self):
        if self.proc is not None:
            stop_process(self.proc, grace=10)
            self.proc = None
