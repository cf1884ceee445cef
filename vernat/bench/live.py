"""Live figures on the testbed: iperf3 through vernat (AF_XDP) and through Linux's
own NAT (nftables masquerade) in the same namespace, one after the other, in one
sitting.  `python -m vernat.bench.live [--seconds S] [--repeat N] [--cpu N]`.

Not the issue's loss-free-rate method (that needs a dedicated generator; lab notes):
iperf3 TCP throughput, and iperf3 UDP with 64-byte frames at an unlimited rate
(received packets per second, loss at the receiver).
"""

import argparse
import json
import statistics
import subprocess
import tempfile
import time

from vernat.testbed import new_testbed
from vernat.testbed.topology import sh, stop_process

NFT_MASQUERADE = """table ip vernat_bench {
  chain post { type nat hook postrouting priority srcnat; oifname "%s" masquerade; }
}"""


def iperf(tb, udp, seconds):
    argv = ["iperf3", "-c", tb.server_ip, "-t", str(seconds), "-J", "--connect-timeout", "3000"]
    if udp:
        argv += ["-u", "-b", "0", "-l", "18"]          # 18 bytes of payload: 60-byte frames
    proc = subprocess.run(["ip", "netns", "exec", tb.ns_inside, *argv], capture_output=True,
                          text=True, timeout=seconds + 30)
    end = json.loads(proc.stdout)["end"]
    if udp:
        s = end["sum"]
        return {"received_pps": s["packets"] * (1 - s["lost_percent"] / 100) / s["seconds"],
                "lost_percent": s["lost_percent"]}
    return {"gbit_s": end["sum_received"]["bits_per_second"] / 1e9}


def measure(tb, seconds, repeat):
    out = {}
    for udp, key in ((False, "tcp"), (True, "udp64")):
        runs = [iperf(tb, udp, seconds) for _ in range(repeat)]
        out[key] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    return out


def start_vernat(tb, workdir, cpu, io="xdp"):
    from vernat.bench.duts import start_nat_process
    return start_nat_process(tb, workdir, ["vernat.cli"], cpu=cpu, io=io)[0]


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m vernat.bench.live")
    p.add_argument("--seconds", type=int, default=5)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--cpu", type=int, default=None)
    args = p.parse_args(argv)
    tb = new_testbed()
    workdir = tempfile.mkdtemp(prefix=f"vernat-{tb.id}-")
    results = {}
    with tb:
        tb.spawn(tb.ns_outside, ["iperf3", "-s", "-B", tb.server_ip],
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        nat = start_vernat(tb, workdir, args.cpu)
        results["vernat (AF_XDP, native)"] = measure(tb, args.seconds, args.repeat)
        stop_process(nat, grace=10)
        # Linux's NAT in the same namespace: forwarding on, masquerade on the outside
        sh("sysctl", "-q", "-w", "net.ipv4.ip_forward=1", netns=tb.ns_nat)
        subprocess.run(["ip", "netns", "exec", tb.ns_nat, "nft", "-f", "-"], check=True,
                       input=NFT_MASQUERADE % tb.if_nat_outside, text=True)
        if args.cpu is not None:
            for ifname in (tb.if_nat_inside, tb.if_nat_outside):
                sh("sh", "-c", f"echo {1 << args.cpu:x} > /sys/class/net/{ifname}/queues/rx-0/rps_cpus",
                   netns=tb.ns_nat)
        results["Linux nftables masquerade"] = measure(tb, args.seconds, args.repeat)
    subprocess.run(("rm", "-rf", workdir))
    for name, r in results.items():
        print(f"{name:28s} TCP {r['tcp']['gbit_s']:.2f} Gbit/s   UDP 64 B: "
              f"{r['udp64']['received_pps'] / 1e3:,.0f} kpps received, "
              f"{r['udp64']['lost_percent']:.1f} % lost")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
