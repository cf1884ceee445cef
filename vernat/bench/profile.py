"""Where a device's time goes per packet: `python -m vernat.bench.profile`.

The device runs on CPU 1 as in `vernat bench` (fresh testbed, same placement); the
generator offers a fixed rate; `perf record -C 1` samples CPU 1 meanwhile, and CPU 1's
busy time per packet is measured as in the benchmark (/proc/stat: wall - idle).  Each
sample of the device's own threads (its process, its NAPI kernel threads, ksoftirqd/1,
and the interrupted idle task, where the kernel's receive work lands) falls into one
category by its symbol; a category's share of those samples times the busy ns/packet
is its ns/packet.  Samples of the idle loop itself and of anyone else are left out
(except the network stack's: a softirq runs on top of whatever task it interrupted).

No hardware PMU in this VM: perf samples on a timer (cpu-clock), so a sample that falls
while interrupts are disabled is taken when they are enabled again; those samples are
their own category ("interrupt exit and softirq start") rather than misattributed.

    python -m vernat.bench.profile [--duts vernat,noop,unverified,linux] [--rate PPS]
                                   [--flows N] [--seconds S] [--json FILE]
    python -m vernat.bench.profile --round-cost

--round-cost: what the data plane's loop itself costs each time it wakes up, with no
traffic (the part of a probe's latency spent in Python and numba calls rather than in
the kernel): the mean time of one round (the numba call over all rings), of the two
TX checks, and of a poll() that returns at once, for each data-plane device, on CPU 1.
"""

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import threading
import time

from vernat.bench import duts as D, tools

IDLE = re.compile(r"^(pv_native_safe_halt|native_safe_halt|default_idle|default_idle_call|"
                  r"do_idle|cpuidle_idle_call|cpu_startup_entry|poll_idle|acpi_idle|"
                  r"intel_idle|mwait_idle|haltpoll|arch_cpu_idle|cpuidle_enter)")
# (category, pattern on the kernel symbol), first match wins
KERNEL = [
    ("interrupt exit and softirq start (where samples of irq-disabled code land)",
     r"irqentry_exit|handle_softirqs|__irq_exit|irq_exit_rcu|_raw_spin_unlock_irq"),
    ("scheduling: context switches, wake-ups, IPIs",
     r"finish_task_switch|__schedule|schedule|__switch_to|native_write_msr|"
     r"try_to_wake_up|ttwu|enqueue_task|dequeue_task|pick_next|update_curr|"
     r"sysvec_|asm_sysvec|__sysvec|native_apic|x2apic|flush_smp_call|__smp_call|"
     r"generic_smp_call|sched_|update_load|select_task|set_next_entity|put_prev|"
     r"psi_|hrtimer|tick_|ktime_get|clockevents|lapic|raw_spin_rq|rcu_|"
     r"__cond_resched|finish_wait|prepare_to_wait|pv_queued_spin|_raw_spin"),
    ("system calls (sendto, poll) entry and exit",
     r"do_syscall|entry_SYSCALL|syscall_|__x64_sys|__sys_|do_sys_poll|fdget|fput|"
     r"__fget|sock_poll|xsk_poll|__pollwait|poll_freewait|sockfd_lookup|"
     r"__check_object_size|_copy_from_user|_copy_to_user|__do_sys"),
    ("AF_XDP receive: veth NAPI, XDP program, copy into the UMEM",
     r"veth_xdp|veth_poll|veth_convert|xsk_rcv|__xsk_rcv|xsk_generic_rcv|xp_|xdp_|"
     r"bpf_prog|xsk_map|skb_pp_cow|page_pool|napi_|__napi|bpf_|__xdp"),
    ("AF_XDP transmit: skb built from the UMEM, sent into the veth",
     r"xsk_|sock_alloc_send|__dev_direct_xmit|skb_set_owner_w|sock_wfree|dev_direct"),
    ("veth transmit and the sink's receive queue (RPS to CPU 0)",
     r"veth_|skb_clone_tx_timestamp|netif_rx|enqueue_to_backlog|get_rps_cpu|__skb_flow_dissect|__skb_get_hash|"
     r"siphash|__dev_forward_skb|eth_type_trans|skb_network_protocol|netif_skb_features|"
     r"validate_xmit|dev_hard_start|__netif|process_backlog|net_rx_action|"
     r"__local_bh_enable|do_softirq|handle_softirqs|__do_softirq|irq_exit"),
    ("Linux forwarding: IP, netfilter, conntrack, NAT, routing, neighbours",
     r"^ip_|^ipv4_|nf_|nft_|__nf|conntrack|fib_|neigh_|dev_queue_xmit|__dev_queue|"
     r"ip_route|dst_|rt_|udp_|__ip|hash_conntrack|__ipv4|skb_ensure_writable|"
     r"inet_|csum|masquerade|qdisc|sch_|pfifo"),
    ("memory: skb and slab allocation and freeing",
     r"kmem_cache|slab|kfree|kmalloc|consume_skb|skb_release|__alloc_skb|alloc_skb|"
     r"__build_skb|build_skb|skb_free|page_frag|__free_|free_unref|memcpy|memset|"
     r"skb_copy|__copy_skb|skb_clone|__kfree|skb_attempt_defer|skb_defer|__skb"),
]
KERNEL = [(name, re.compile(pattern)) for name, pattern in KERNEL]
USER_NUMBA = "user space: numba code (ring handling + NAT) and libraries"
USER_PYTHON = "user space: Python interpreter (the loop around the numba call)"
OTHER = "other kernel"
NETWORK = {name for name, _ in KERNEL[3:]}


def categorize(dso, sym):
    if "kernel" not in dso:
        if "python" in dso or "libpython" in dso:
            return USER_PYTHON
        return USER_NUMBA
    for name, pattern in KERNEL:
        if pattern.search(sym):
            return name
    return OTHER


def ours(bed, dut):
    """PIDs whose samples count: the device's process, its NAPI threads, ksoftirqd/1
    and the idle task (where interrupt and softirq work lands)."""
    from vernat.live.placement import napi_threads, process_threads
    pids = {0} | process_threads(dut.proc)
    for ifname in (bed.if_nat_inside, bed.if_nat_outside):
        pids.update(napi_threads(ifname))
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/comm") as f:
                    if f.read().strip() == f"ksoftirqd/{D.DUT_CPU}":
                        pids.add(int(pid))
            except OSError:
                pass
    return pids


def samples(path, pids):
    """Counter of (dso, symbol) over the samples of pids, idle loop left out; plus the
    network stack's samples in anyone's context (a softirq runs on top of whatever
    task it interrupted)."""
    out = subprocess.run(["perf", "script", "-i", path, "-F", "tid,ip,sym,dso"],
                         capture_output=True, text=True).stdout
    counts = collections.Counter()
    for line in out.splitlines():
        m = re.match(r"\s*(\d+)\s+\S+\s+(.*?)\s+\((.*)\)\s*$", line)
        if not m:
            continue
        tid, sym, dso = int(m.group(1)), m.group(2), m.group(3)
        sym = sym.split("+")[0]
        if tid == 0 and IDLE.match(sym):
            continue
        if tid not in pids and categorize(dso, sym) not in NETWORK:
            continue
        counts[(dso, sym)] += 1
    return counts


def profile(name, rate, flows, seconds, workdir, gen):
    bed = D.new_bed(name)
    with bed:
        D.prepare(bed)
        dut = D.Dut(name, bed, workdir).start()
        try:
            tools.prefill(bed, gen, flows)
            load = threading.Thread(target=tools.generate,
                                    args=(bed, gen, flows, rate, seconds + 2))
            load.start()
            time.sleep(1)
            data = os.path.join(workdir, f"perf-{name}.data")
            meter = tools.BusyMeter(D.DUT_CPU).start()
            t0 = tools.sink_count(bed)
            w0 = time.monotonic()
            subprocess.run(["perf", "record", "-q", "-C", str(D.DUT_CPU), "-o", data, "--",
                            "sleep", str(seconds)], capture_output=True, check=True)
            received = tools.sink_count(bed) - t0
            busy = meter.stop()
            # perf's own start and stop make the window longer than `seconds`
            wall = time.monotonic() - w0
            pids = ours(bed, dut)
            load.join()
        finally:
            dut.stop()
    counts = samples(data, pids)
    total = sum(counts.values()) or 1
    ns = busy / received if received else 0
    by = collections.Counter()
    for (dso, sym), n in counts.items():
        by[categorize(dso, sym)] += n
    return {"busy_ns_per_packet": round(ns, 1), "received_kpps": round(received / wall / 1e3, 1),
            "samples": total,
            "categories": {c: {"share": round(n / total, 3), "ns_per_packet": round(ns * n / total, 1)}
                           for c, n in by.most_common()},
            "top_symbols": [[f"{sym} ({os.path.basename(dso)})", round(n / total, 3)]
                            for (dso, sym), n in counts.most_common(12)]}


ROUNDS = 20_000


def round_cost_here(inside, outside, kind):
    """In the NAT namespace: open the device's data plane and time its empty rounds."""
    import select
    from vernat.bench.variants import StandInNat
    from vernat.io.xdp import rings as R
    from vernat.io.xdp.dataplane import XdpDataPlane
    from vernat.nat.config import build_config
    from vernat.nat.engine import Nat
    config = build_config({"external-ip": "203.0.113.1", "inside-mac": "02:00:00:00:00:01",
                           "outside-mac": "02:00:00:00:00:02",
                           "gateway-mac": "02:00:00:00:00:03"})
    nat = Nat(config) if kind == "vernat" else StandInNat(config, kind)
    plane = XdpDataPlane(nat, inside, outside).open()
    try:
        poller = select.poll()
        for xsk in plane.umem.sockets:
            poller.register(xsk.fd, select.POLLIN)
        # the loop as it runs: empty rounds inside numba, spinning for a second
        before = int(plane.counters[R.ROUNDS])
        t = time.monotonic_ns()
        plane.serve_until(t + 1_000_000_000, True)
        rounds = int(plane.counters[R.ROUNDS]) - before
        out = {"loop_round_us": round((time.monotonic_ns() - t) / max(rounds, 1) / 1e3, 3)}
        # the same round driven from Python, as the loop was until session 9
        for name, step in (("round_us", lambda: plane.round(time.monotonic_ns())),
                           ("tx_checks_us", lambda: R.tx_pending(plane.rings, 0) or
                            R.tx_pending(plane.rings, 1)),
                           ("poll_us", lambda: poller.poll(0))):
            t = time.perf_counter()
            for _ in range(ROUNDS):
                step()
            out[name] = round((time.perf_counter() - t) / ROUNDS * 1e6, 2)
        return out
    finally:
        plane.close()


def round_cost(kinds=("vernat", "noop", "unverified")):
    out = {}
    for kind in kinds:
        bed = D.new_bed(kind)
        with bed:
            proc = subprocess.run(
                ["ip", "netns", "exec", bed.ns_nat, "taskset", "-c", str(D.DUT_CPU),
                 sys.executable, "-m", "vernat.bench.profile", "--round-cost-in",
                 bed.if_nat_inside, bed.if_nat_outside, kind],
                capture_output=True, text=True, cwd=D.ROOT, timeout=600)
            if proc.returncode != 0:
                raise tools.ToolError(f"round cost of {kind}: {proc.stderr.strip()[-300:]}")
            out[kind] = json.loads(proc.stdout)
        print(f"{kind}: one empty round in the loop {out[kind]['loop_round_us']:.3f} µs; "
              f"driven from Python {out[kind]['round_us']:.2f} µs, TX checks "
              f"{out[kind]['tx_checks_us']:.2f} µs, poll() {out[kind]['poll_us']:.2f} µs",
              flush=True)
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--round-cost-in"]:
        print(json.dumps(round_cost_here(*argv[1:4])))
        return
    p = argparse.ArgumentParser(prog="python -m vernat.bench.profile")
    p.add_argument("--round-cost", action="store_true",
                   help="the data plane's loop's own cost per wake-up, no traffic")
    p.add_argument("--duts", default=",".join(D.NAMES))
    p.add_argument("--rate", type=int, default=200_000)
    p.add_argument("--flows", type=int, default=1)
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--json", metavar="FILE")
    args = p.parse_args(argv)
    if args.round_cost:
        results = round_cost()
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=2)
        return
    workdir = tools.new_workdir()
    results = {"rate": args.rate, "flows": args.flows, "load_before": tools.load_average()}
    try:
        gen = tools.build_tools(workdir)["udpgen"]
        for name in args.duts.split(","):
            r = profile(name, args.rate, args.flows, args.seconds, workdir, gen)
            results[name] = r
            print(f"{name}: {r['busy_ns_per_packet']:,.0f} ns/packet busy on CPU {D.DUT_CPU} "
                  f"at {r['received_kpps']:,.0f} kpps received ({r['samples']} samples)")
            for c, v in r["categories"].items():
                print(f"  {v['ns_per_packet']:7,.0f} ns  {100 * v['share']:5.1f} %  {c}")
            print("  top symbols: " + ", ".join(f"{s} {100 * x:.1f} %"
                                                for s, x in r["top_symbols"][:8]))
            sys.stdout.flush()
    finally:
        subprocess.run(("rm", "-rf", workdir))
    tools.save_results(results, args.json)


if __name__ == "__main__":
    main()
