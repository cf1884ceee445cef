"""Where a probe's one-way latency goes, step by step: `python -m vernat.bench.latency_trace`.

perf samples CPU time; a probe's latency is mostly waiting (for a thread to be woken,
an interrupt to arrive, a loop to come round).  This takes kernel time stamps of every
step a probe passes instead: ftrace tracepoints (in an instance of its own under
/sys/kernel/tracing, removed afterwards; no kprobes or BPF needed), on a fresh testbed
per device with `vernat bench`'s placement, while the generator sends only probes
(1,000/s, so that each one crosses an idle path alone) or, with --background, probes
under background traffic as in the bench.  For each probe, from the generator's
send() to the moment its frame enters the sink's namespace (net:netif_rx on the sink's
veth: where the probe sink's kernel time stamp is taken), the first matching event of
each step in order:

  AF_XDP devices (vernat, noop, unverified):
    generator send()  -> the device's NAPI thread woken (sched_waking, on CPU 0)
    -> the IPI that wakes it arrives on CPU 1 (call_function_single_entry when CPU 1
       was idle, reschedule_entry when it was busy) -> it runs: veth NAPI poll, XDP
       program, redirect into the AF_XDP socket (xdp_redirect) -> the NAT's loop woken
       (sched_waking) -> it runs (sched_switch) -> poll() returns -> the loop's round
       (numba call) until its sendto() -> the copy-mode transmit hands the frame to
       the sink's veth (netif_rx)
  linux:
    generator send() -> frame queued for CPU 1 (netif_rx on the inside veth, RPS)
    -> IPI to CPU 1 sent -> it arrives (call_function_single_entry) -> the kernel's
       receive of the frame starts (netif_receive_skb) -> forwarded and NATed to the
       sink's veth (netif_rx)
  calibration (no device): generator send() -> the sink's veth (netif_rx).

A step that did not happen to a probe (the loop was already running, say) counts 0
for it.  ftrace prints microseconds: per-step figures are means and medians over all
probes of whole-microsecond differences.

    python -m vernat.bench.latency_trace [--duts calibration,vernat,linux]
                                         [--seconds S] [--background PPS] [--json FILE]
"""

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys

from vernat.bench import duts as D, search, tools

TRACEFS = "/sys/kernel/tracing"
EVENTS = ("sched/sched_waking", "sched/sched_switch", "irq_vectors/reschedule_entry",
          "irq_vectors/call_function_single_entry", "ipi/ipi_send_cpu", "xdp/xdp_redirect",
          "syscalls/sys_enter_sendto", "syscalls/sys_exit_poll", "net/netif_rx",
          "net/netif_receive_skb", "power/cpu_idle")
LINE = re.compile(r"^\s*(.+?)-(\d+)\s+\[(\d+)\]\s+\S+\s+(\d+)\.(\d+):\s+(.*)$")
SYSCALL = re.compile(r"^(sys_\w+)(\(| ->)(.*)$")
WINDOW_US = 20_000           # a probe's events all come within this


class Tracer:
    """An ftrace instance of our own: enable the events, record, read, remove."""

    def __init__(self, name):
        if not os.path.exists(os.path.join(TRACEFS, "instances")):
            subprocess.run(("mount", "-t", "tracefs", "nodev", TRACEFS), capture_output=True)
        self.path = os.path.join(TRACEFS, "instances", name)
        if not os.path.isdir(os.path.join(TRACEFS, "instances")):
            raise tools.ToolError(f"no tracefs at {TRACEFS} (the kernel needs CONFIG_FTRACE)")

    def write(self, name, value):
        with open(os.path.join(self.path, name), "w") as f:
            f.write(value)

    def __enter__(self):
        os.makedirs(self.path, exist_ok=True)
        self.write("tracing_on", "0")
        self.write("trace_clock", "mono")
        self.write("buffer_size_kb", "16384")
        for event in EVENTS:
            try:
                self.write(f"events/{event}/enable", "1")
            except OSError:
                pass                # an event this kernel lacks: its step counts 0
        self.write("trace", "")
        return self

    def start(self):
        self.write("tracing_on", "1")

    def stop_and_read(self):
        self.write("tracing_on", "0")
        with open(os.path.join(self.path, "trace")) as f:
            return f.read()

    def __exit__(self, *exc):
        try:
            self.write("tracing_on", "0")
            self.write("events/enable", "0")
        except OSError:
            pass
        try:
            os.rmdir(self.path)
        except OSError:
            pass


def parse(text):
    """[(t_us, comm, pid, cpu, event, fields)] in time order."""
    out = []
    for line in text.splitlines():
        m = LINE.match(line)
        if not m or line.startswith("#"):
            continue
        comm, pid, cpu, sec, usec, rest = m.groups()
        call = SYSCALL.match(rest)
        if call:            # "sys_sendto(fd: 3, ...)" on entry, "sys_poll -> 0x1" on exit
            event = ("sys_enter_" if call.group(2) == "(" else "sys_exit_") + call.group(1)[4:]
            fields = call.group(3)
        else:
            event, _, fields = rest.partition(": ")
        out.append((int(sec) * 1_000_000 + int(usec), comm, int(pid), int(cpu), event, fields))
    out.sort(key=lambda e: e[0])
    return out


def steps_for(name, bed, dut_pids, napi_pids):
    """[(label, predicate, optional)] of the path a probe takes through the device."""
    sink = f"dev={bed.if_server} "
    napi = {str(p) for p in napi_pids}
    dut = {str(p) for p in dut_pids}

    def ev(event, cpu=None, pids=None, fields=None, woken=None, next_pid=None):
        def match(e):
            return ((e[4] == event if isinstance(event, str) else e[4] in event)
                    and (cpu is None or e[3] == cpu)
                    and (pids is None or str(e[2]) in pids)
                    and (fields is None or fields in e[5] + " ")
                    and (woken is None or any(f" pid={p} " in e[5] for p in woken))
                    and (next_pid is None or any(f"next_pid={p} " in e[5] for p in next_pid)))
        return match
    if name == "calibration":
        return [("generator send() -> the sink's veth", ev("netif_rx", fields=sink), False)]
    if name == "linux":
        return [
            ("generator send() -> queued for CPU 1 (inside veth, RPS)",
             ev("netif_rx", fields=f"dev={bed.if_nat_inside} "), False),
            ("-> IPI to CPU 1 sent", ev("ipi_send_cpu", cpu=0, fields="cpu=1 "), True),
            ("-> IPI arrives on CPU 1", ev("call_function_single_entry", cpu=1), True),
            ("-> the kernel's receive starts on CPU 1",
             ev("netif_receive_skb", cpu=1, fields=f"dev={bed.if_nat_inside} "), False),
            ("-> forwarded and NATed to the sink's veth", ev("netif_rx", fields=sink), False)]
    return [
        ("generator send() -> the device's NAPI thread woken",
         ev("sched_waking", woken=napi), False),
        ("-> the IPI that wakes it arrives on CPU 1",
         ev(("reschedule_entry", "call_function_single_entry"), cpu=1), True),
        ("-> it runs: veth NAPI poll, XDP program, redirect into the AF_XDP socket",
         ev("xdp_redirect", cpu=1), False),
        ("-> the NAT's loop woken", ev("sched_waking", woken=dut), True),
        ("-> the loop runs (context switch)", ev("sched_switch", cpu=1, next_pid=dut), True),
        ("-> poll() returns", ev("sys_exit_poll", pids=dut), True),
        ("-> the loop's round, until its sendto()", ev("sys_enter_sendto", pids=dut), False),
        ("-> copy-mode transmit into the sink's veth", ev("netif_rx", pids=dut, fields=sink),
         False)]


def breakdown(events, steps, gen_comm="udpgen"):
    """Per probe, the time of each step after the previous one (0 for an optional step
    that did not occur).  A probe is a generator send() (only probes are sent)."""
    anchors = [i for i, e in enumerate(events)
               if e[1] == gen_comm and e[4] == "sys_enter_sendto"]
    rows = []

    def first(match, j, limit, t0):
        for k in range(j, min(limit, len(events))):
            if events[k][0] - t0 >= WINDOW_US:
                return None
            if match(events[k]):
                return k
        return None
    for a in anchors:
        t0 = prev = events[a][0]
        times, j = [], a + 1
        for i, (label, match, optional) in enumerate(steps):
            limit = len(events)
            if optional:    # it must come before the next step that always happens
                nxt = next((m for _, m, o in steps[i + 1:] if not o), None)
                if nxt is not None:
                    k = first(nxt, j, limit, t0)
                    limit = k if k is not None else j
            k = first(match, j, limit, t0)
            if k is None:
                if optional:
                    times.append(0)
                    continue
                times = None
                break
            times.append(events[k][0] - prev)
            prev = events[k][0]
            j = k + 1
        if times is not None:
            rows.append(times)
    return rows


def summarize(steps, rows):
    out = {"probes_traced": len(rows), "steps": []}
    for i, (label, _, _) in enumerate(steps):
        values = [r[i] for r in rows]
        out["steps"].append({"step": label, "mean_us": round(statistics.fmean(values), 2),
                             "median_us": statistics.median(values),
                             "occurred": sum(1 for r in rows if r[i]) / len(rows)})
    totals = [sum(r) for r in rows]
    out["total_mean_us"] = round(statistics.fmean(totals), 2)
    out["total_median_us"] = statistics.median(totals)
    return out


def trace_device(name, workdir, gen, seconds, background, keep=None, busy_poll=False):
    bed = D.new_bed(name)
    with bed:
        D.prepare(bed)
        dut = D.Dut(name, bed, workdir, busy_poll=busy_poll).start()
        try:
            tools.prefill(bed, gen["udpgen"], 100)
            with Tracer(f"vernat-latency-{os.getpid()}") as tracer:
                sink = bed.spawn(bed.ns_outside, ["taskset", "-c", str(tools.GENERATOR_CPU),
                                                  gen["probesink"], str(tools.PROBE_PORT),
                                                  str(seconds + 0.5)],
                                 stdout=subprocess.PIPE, text=True)
                if sink.stdout.readline().strip() != "ready":
                    raise tools.ToolError("the probe sink did not start")
                tracer.start()
                tools.generate(bed, gen["udpgen"], 100, background, seconds, 1000)
                text = tracer.stop_and_read()
                out, _ = sink.communicate(timeout=seconds + 10)
            from vernat.live.placement import napi_threads, process_threads
            napi = napi_threads(bed.if_nat_inside) if name not in ("linux", "calibration") \
                else []
            pids = process_threads(dut.proc)
        finally:
            dut.stop()
    if keep:
        with open(keep, "w") as f:
            f.write(text)
    latencies = [int(line.split()[1]) for line in out.splitlines() if line.strip()]
    if background:
        # background frames are sent too: a probe is not every send(); no breakdown
        return {"probe_p50_us": round(search.percentile(latencies, 50) / 1e3, 2),
                "probe_p99_us": round(search.percentile(latencies, 99) / 1e3, 2)}
    steps = steps_for(name, bed, pids, napi)
    rows = breakdown(parse(text), steps)
    result = summarize(steps, rows) if rows else {"probes_traced": 0, "steps": []}
    result["probe_p50_us"] = round(search.percentile(latencies, 50) / 1e3, 2)
    result["probe_p99_us"] = round(search.percentile(latencies, 99) / 1e3, 2)
    return result


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m vernat.bench.latency_trace")
    p.add_argument("--duts", default="calibration,vernat,noop,linux")
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--background", type=int, default=0, metavar="PPS",
                   help="background traffic under the probes (then only the probes' "
                        "percentiles, no breakdown)")
    p.add_argument("--busy-poll", action="store_true",
                   help="the data-plane devices with `vernat run --busy-poll`")
    p.add_argument("--json", metavar="FILE")
    p.add_argument("--keep-trace", metavar="PREFIX", help="write each device's raw trace")
    args = p.parse_args(argv)
    names = args.duts.split(",")
    for name in names:
        if name not in ("calibration",) + D.NAMES:
            return error(f"unknown device {name!r} (calibration, {', '.join(D.NAMES)})", 2)
    if not 0.2 <= args.seconds <= 60:
        return error("--seconds must be in 0.2..60", 2)
    if not 0 <= args.background <= 5_000_000:
        return error("--background must be in 0..5,000,000 frames/s", 2)
    if os.geteuid() != 0:
        return error("needs root (namespaces, tracefs)", 1)
    def stop(signum, frame):
        raise KeyboardInterrupt      # testbeds, processes and the trace instance go
    signal.signal(signal.SIGTERM, stop)
    try:
        return measure(args, names)
    except tools.ToolError as e:
        return error(str(e), 1)
    except KeyboardInterrupt:
        return error("stopped", 130)


def error(message, code):
    print(f"latency_trace: error: {message}", file=sys.stderr)
    return code


def measure(args, names):
    workdir = tools.new_workdir()
    results = {"load_before": tools.load_average(), "background_pps": args.background,
               "busy_poll": args.busy_poll}
    try:
        gen = tools.build_tools(workdir)
        trace_all(args, names, workdir, gen, results)
    finally:
        subprocess.run(("rm", "-rf", workdir))
    tools.save_results(results, args.json)
    return 0


def trace_all(args, names, workdir, gen, results):
    for name in names:
        keep = f"{args.keep_trace}-{name}.txt" if args.keep_trace else None
        r = trace_device(name, workdir, gen, args.seconds, args.background, keep,
                         args.busy_poll)
        results[name] = r
        print(f"{name}: probes p50 {r['probe_p50_us']} µs, p99 {r['probe_p99_us']} µs "
              f"(probe sink)" + (f"; traced {r['probes_traced']} probes, "
                                 f"total {r['total_median_us']} µs median, "
                                 f"{r['total_mean_us']} mean" if r.get("steps") else ""))
        for s in r.get("steps", []):
            print(f"  {s['median_us']:6.1f} median {s['mean_us']:7.2f} mean  "
                  f"({100 * s['occurred']:3.0f} % of probes)  {s['step']}")
        sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
