"""Loss-free rate through a NAT on the testbed (the lab notes' method, simplified):
`python -m vernat.bench.loss_free [--flows 1,1000,50000] [--seconds 2]`.

The generator (vernat/bench/udpgen.c, compiled on first use) runs in the client
namespace on CPU 0 and offers 60-byte UDP frames at a fixed rate; the server's
interface counts and drops them at netdev ingress (nftables counter), so no
application is in the way.  Loss = offered - counted, so a frame refused anywhere
(a full veth queue counts as the sender's tx_dropped) is lost.  The NAT runs on CPU 1:
vernat with `--cpu 1`, Linux's nftables masquerade with RPS to CPU 1 (or, with
--unpinned, wherever the scheduler puts it).  A binary search
over the rate finds the highest one with < 0.1 % loss.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

from vernat.bench.live import NFT_MASQUERADE, start_vernat
from vernat.testbed import new_testbed
from vernat.testbed.topology import sh, stop_process

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "udpgen.c")
SINK_PORT = 9
SINK_RULES = """table netdev vernat_sink {
  chain in { type filter hook ingress device "%s" priority 0; udp dport %d counter drop; }
}"""
LOSS_FREE = 0.001


def build_generator(workdir):
    binary = os.path.join(workdir, "udpgen")
    subprocess.run(("clang", "-O2", "-o", binary, SOURCE), check=True)
    return binary


def sink_count(tb):
    out = sh("nft", "list", "table", "netdev", "vernat_sink", netns=tb.ns_outside)
    return int(re.search(r"counter packets (\d+)", out).group(1))


def trial(tb, gen, flows, rate, seconds):
    """(offered, received) for one run at `rate` frames/s."""
    before = sink_count(tb)
    out = subprocess.run(("ip", "netns", "exec", tb.ns_inside, "taskset", "-c", "0", gen,
                          tb.client_ip, tb.server_ip, str(SINK_PORT), str(flows), str(int(rate)),
                          str(seconds)), capture_output=True, text=True, check=True).stdout
    offered = int(out.strip())
    time.sleep(0.2)                      # the last frames still in flight
    return offered, sink_count(tb) - before


def loss_free_rate(tb, gen, flows, seconds, low=20_000, high=1_000_000, steps=7):
    trial(tb, gen, flows, 50_000, 1)     # create the flows first
    best = 0
    for _ in range(steps):
        rate = (low + high) / 2
        offered, received = trial(tb, gen, flows, rate, seconds)
        lossless = offered > 0 and (offered - received) / offered < LOSS_FREE
        if lossless:
            best, low = max(best, received / seconds), rate
        else:
            high = rate
    return best


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m vernat.bench.loss_free")
    p.add_argument("--flows", default="1,1000,50000")
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--nat", default="xdp,packet,nftables")
    p.add_argument("--unpinned", action="store_true",
                   help="no placement: the NAT anywhere, the kernel's receive work on the "
                        "sender's core (flatters every NAT; lab notes)")
    args = p.parse_args(argv)
    flows = [int(f) for f in args.flows.split(",")]
    workdir = tempfile.mkdtemp(prefix="vernat-bench-")
    try:
        results = measure_all(args, flows, workdir)
    finally:
        subprocess.run(("rm", "-rf", workdir))
    print(json.dumps(results))


def measure_all(args, flows, workdir):
    gen = build_generator(workdir)
    results = {}
    for nat in args.nat.split(","):
        tb = new_testbed()
        with tb:
            subprocess.run(["ip", "netns", "exec", tb.ns_outside, "nft", "-f", "-"], check=True,
                           input=SINK_RULES % (tb.if_server, SINK_PORT), text=True)
            # the sink's receive work on CPU 0 with the generator (lab notes' placement)
            sh("sh", "-c", f"echo 1 > /sys/class/net/{tb.if_server}/queues/rx-0/rps_cpus",
               netns=tb.ns_outside)
            for ifname in (tb.if_nat_inside, tb.if_nat_outside):
                if not args.unpinned:
                    sh("sh", "-c", f"echo 2 > /sys/class/net/{ifname}/queues/rx-0/rps_cpus",
                       netns=tb.ns_nat)
            if nat == "nftables":
                sh("sysctl", "-q", "-w", "net.ipv4.ip_forward=1", netns=tb.ns_nat)
                subprocess.run(["ip", "netns", "exec", tb.ns_nat, "nft", "-f", "-"], check=True,
                               input=NFT_MASQUERADE % tb.if_nat_outside, text=True)
                proc = None
            else:
                proc = start_vernat(tb, workdir, None if args.unpinned else 1, io=nat)
            results[nat] = {f: loss_free_rate(tb, gen, f, args.seconds) for f in flows}
            if proc is not None:
                stop_process(proc, grace=10)
        print(f"{nat:10s} " + "  ".join(f"{f:>6,} flows: {r / 1e3:6,.0f} kpps"
                                        for f, r in results[nat].items()), flush=True)
    return results


if __name__ == "__main__":
    sys.exit(main())
