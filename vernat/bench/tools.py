"""The live benchmark's instruments: the generator and the probe sink (small C programs
compiled on first use), the sink's counter, the DUT core's busy time (/proc/stat)."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from vernat.testbed.topology import BENCH_WORKDIR, sh

HERE = os.path.dirname(os.path.abspath(__file__))
SINK_PORT = 9           # background frames: counted and dropped at the sink's ingress
PROBE_PORT = 7          # latency probes: to the probe sink's socket
SINK_RULES = """table netdev vernat_sink {
  chain in { type filter hook ingress device "%s" priority 0; udp dport %d counter drop; }
}"""
GENERATOR_CPU = 0       # the generator and the sink; the DUT gets the other core
USER_HZ = os.sysconf("SC_CLK_TCK")


class ToolError(RuntimeError):
    """Something the benchmark needs is missing or failed; one line for the user."""


REQUIRED = {"ip": "iproute2", "nft": "nftables", "clang": "clang", "ethtool": "ethtool",
            "taskset": "util-linux"}


def check_tools():
    for tool, package in REQUIRED.items():
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            raise ToolError(f"{tool} not found (Debian package {package}; "
                            f"bash scripts/setup.sh installs it)")


def new_workdir():
    """A work directory for the compiled tools and the devices' logs, named after this
    process (/tmp/vernat-bench-PID-*) so that `vernat testbed down` can tell a killed
    run's from a running one's."""
    return tempfile.mkdtemp(prefix=f"{BENCH_WORKDIR}{os.getpid()}-")


def build_tools(workdir):
    """{name: path} of the compiled generator and probe sink."""
    out = {}
    for name in ("udpgen", "probesink"):
        binary = os.path.join(workdir, name)
        proc = subprocess.run(("clang", "-O2", "-o", binary, os.path.join(HERE, f"{name}.c")),
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise ToolError(f"cannot compile {name}.c: {proc.stderr.strip().splitlines()[-1:]}")
        out[name] = binary
    return out


def install_sink(bed):
    """Count and drop the background frames at the sink's ingress; the sink's receive
    work stays on the generator's core (RPS)."""
    subprocess.run(["ip", "netns", "exec", bed.ns_outside, "nft", "-f", "-"], check=True,
                   input=SINK_RULES % (bed.if_server, SINK_PORT), text=True,
                   capture_output=True)
    rps(bed.ns_outside, bed.if_server, GENERATOR_CPU)


def rps(netns, ifname, cpu):
    sh("sh", "-c", f"echo {1 << cpu:x} > /sys/class/net/{ifname}/queues/rx-0/rps_cpus",
       netns=netns)


def sink_count(bed):
    out = sh("nft", "list", "table", "netdev", "vernat_sink", netns=bed.ns_outside)
    return int(re.search(r"counter packets (\d+)", out).group(1))


def next_hop_mac(bed):
    """The MAC the generator addresses its frames to: the device's inside interface,
    or with no device (calibration) the sink's."""
    mac = getattr(bed, "generator_next_hop", None)
    if mac is None:
        if getattr(bed, "direct", False):
            mac = bed.mac(bed.ns_outside, bed.if_server)
        else:
            mac = bed.mac(bed.ns_nat, bed.if_nat_inside)
        bed.generator_next_hop = mac
    return mac


def generate(bed, gen, flows, rate, seconds, probe_rate=0):
    """Run the generator in the inside namespace on the generator's core.
    Returns (frames offered, probes sent)."""
    argv = ["ip", "netns", "exec", bed.ns_inside, "taskset", "-c", str(GENERATOR_CPU), gen,
            bed.if_client, next_hop_mac(bed), bed.client_ip, bed.server_ip, str(SINK_PORT),
            str(flows), str(int(rate)), f"{seconds:.3f}"]
    if probe_rate:
        argv += [str(PROBE_PORT), str(probe_rate)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30)
    if proc.returncode != 0:
        raise ToolError(f"generator failed: {proc.stderr.strip()}")
    offered, probes, _refused = proc.stdout.split()
    return int(offered), int(probes)


def trial(bed, gen, flows, rate, seconds):
    """Offer `rate` frames/s for `seconds`: (frames offered, frames counted at the sink,
    seconds)."""
    before = sink_count(bed)
    offered, _ = generate(bed, gen, flows, rate, seconds)
    time.sleep(0.1)                        # the last frames still in flight
    return offered, sink_count(bed) - before, seconds


def prefill(bed, gen, flows, rate=50_000):
    """One pass over every flow (a little more), so that the device knows them all."""
    generate(bed, gen, flows, rate, max(0.2, flows / rate + 0.1))


def cpu_idle_ns(cpu):
    """(monotonic ns, idle+iowait ns) of one CPU, from /proc/stat."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(f"cpu{cpu} "):
                fields = [int(x) for x in line.split()[1:]]
                return time.monotonic_ns(), (fields[3] + fields[4]) * 10**9 // USER_HZ
    raise ToolError(f"/proc/stat has no cpu{cpu}")


class BusyMeter:
    """Busy time of a CPU between start() and stop(): wall time minus idle time (the lab
    notes' method: the softirq fields miss work done when an IPI wakes an idle CPU)."""

    def __init__(self, cpu):
        self.cpu = cpu

    def start(self):
        self.t0, self.idle0 = cpu_idle_ns(self.cpu)
        return self

    def stop(self):
        t1, idle1 = cpu_idle_ns(self.cpu)
        return max(0, (t1 - self.t0) - (idle1 - self.idle0))


def save_results(results, path):
    """End of a measurement: record the load after it, and write the results
    as JSON when a file was asked for (`--json FILE`)."""
    results["load_after"] = load_average()
    if path:
        with open(path, "w") as f:
            json.dump(results, f, indent=2)


def load_average():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]
