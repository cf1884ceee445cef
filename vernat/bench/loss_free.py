"""Loss-free rate through one NAT at a time, including vernat's AF_PACKET path, which
`vernat bench` does not measure: `python -m vernat.bench.loss_free [--flows 1,1000,50000]
[--seconds 2] [--nat xdp,packet,nftables] [--unpinned]`.

The same instruments and search as `vernat bench` (vernat/bench/tools.py, search.py):
the generator in the client namespace on CPU 0, the sink counting at netdev ingress,
the NAT on CPU 1 (vernat with `--cpu 1`, nftables masquerade with RPS to CPU 1) or,
with --unpinned, wherever the scheduler puts it (which flatters every NAT: lab notes).
"""

import argparse
import json
import subprocess
import sys

from vernat.bench import search, tools
from vernat.bench.live import NFT_MASQUERADE, start_vernat
from vernat.testbed import new_testbed
from vernat.testbed.topology import sh, stop_process


def loss_free_rate(tb, gen, flows, seconds, high=1_000_000, steps=7):
    tools.prefill(tb, gen, flows)
    return search.loss_free_search(lambda rate: tools.trial(tb, gen, flows, rate, seconds),
                                   high, steps)["rate"]


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
    workdir = tools.new_workdir()
    try:
        results = measure_all(args, flows, workdir)
    finally:
        subprocess.run(("rm", "-rf", workdir))
    print(json.dumps(results))


def measure_all(args, flows, workdir):
    gen = tools.build_tools(workdir)["udpgen"]
    results = {}
    for nat in args.nat.split(","):
        tb = new_testbed()
        with tb:
            tools.install_sink(tb)
            if not args.unpinned:
                for ifname in (tb.if_nat_inside, tb.if_nat_outside):
                    tools.rps(tb.ns_nat, ifname, 1)
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
