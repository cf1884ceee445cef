"""`vernat bench`: VigNAT's evaluation on this machine, four devices side by side.

For each device (vernat/bench/duts.py) on a fresh testbed, generator on CPU 0, device
on CPU 1, sink on CPU 0:
1. throughput, at each flow count: the flows are created first (prefill), then one
   trial at a fixed offered rate measures the device core's busy time per packet
   (wall minus idle time of CPU 1, /proc/stat) and, for the data-plane devices, frames
   per batch; then a binary search finds the highest offered rate with < 0.1 % loss
   (loss = frames offered - frames counted at the sink's ingress);
2. latency, on another fresh testbed (an empty table): for each occupancy, the table
   is filled to that share of its capacity with live flows, then the generator offers
   background traffic over those flows and, from one more flow, timestamped probes;
   the sink's kernel stamps each probe's arrival (vernat/bench/probesink.c).
First of all, the same with no device (generator veth -> sink veth): the calibration
that tells which results are the generator's limit rather than the device's.
"""

import os
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass, field

from vernat.bench import duts as D
from vernat.bench import search, tools


@dataclass
class Settings:
    flows: tuple = (1, 1000, 10_000, 60_000)
    occupancies: tuple = (1, 25, 50, 75, 99)     # % of the table's capacity
    duts: tuple = D.NAMES
    trial_seconds: float = 2.0
    steps: int = 7
    confirm: int = 1                             # a lossy trial is tried once more
    search_high: int = 1_500_000                 # calibration's first trial, frames/s
    busy_rate: int = 200_000                     # fixed offered rate for busy ns/packet
    busy_seconds: float = 2.0
    background_rate: int = 50_000                # under the latency probes
    probe_rate: int = 1_000                      # probes per second
    latency_seconds: float = 3.0
    prefill_rate: int = 50_000
    busy_poll: bool = False                      # the data-plane devices spin (--busy-poll)
    quick: bool = False


def quick_settings(**overrides):
    # no second try of a lossy trial: with a generator that overloads every device,
    # every search runs all its steps, and half of them are lossy (--quick < 3 min)
    s = Settings(flows=(1, 60_000), occupancies=(1, 50, 99), trial_seconds=0.5, steps=5,
                 confirm=0, busy_seconds=1.0, latency_seconds=1.0, prefill_rate=100_000,
                 quick=True)
    for k, v in overrides.items():
        setattr(s, k, v)
    return s


def occupancy_flows(occupancy):
    return max(1, round(D.CAPACITY * occupancy / 100))


class Progress:
    """rich progress bar (or nothing) over the run's steps."""

    def __init__(self, settings, enabled):
        self.total = units(settings)
        self.bar = None
        if enabled:
            from rich.progress import (BarColumn, Progress as P, TextColumn,
                                       TimeElapsedColumn, TimeRemainingColumn)
            from rich.console import Console
            self.bar = P(TextColumn("{task.description}"), BarColumn(),
                         TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                         TimeRemainingColumn(), console=Console(stderr=True), transient=True)
            self.task = self.bar.add_task("vernat bench", total=self.total)

    def __enter__(self):
        if self.bar:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        if self.bar:
            self.bar.__exit__(*exc)

    def describe(self, text):
        if self.bar:
            self.bar.update(self.task, description=text)

    def advance(self):
        if self.bar:
            self.bar.advance(self.task)


def units(s):
    """Progress steps: per flow count a prefill, (a busy trial,) the search's trials;
    per occupancy a prefill and the probes."""
    calibration = len(s.flows) * (1 + s.steps) + 2
    return calibration + len(s.duts) * (len(s.flows) * (2 + s.steps) + 2 * len(s.occupancies))


class Runner:
    def __init__(self, settings, tool_paths, workdir, progress):
        self.s, self.tools, self.workdir, self.progress = settings, tool_paths, workdir, progress
        self.busy = tools.BusyMeter(D.DUT_CPU)

    # -- one trial ----------------------------------------------------------------

    def trial(self, bed, flows, rate, seconds):
        return tools.trial(bed, self.tools["udpgen"], flows, rate, seconds)

    def prefill(self, bed, flows):
        tools.prefill(bed, self.tools["udpgen"], flows, self.s.prefill_rate)
        self.progress.advance()

    # -- phases -------------------------------------------------------------------

    def throughput(self, name, bed, dut, ceiling):
        out = {"loss_free_kpps": {}, "busy_ns_per_packet": {}, "busy_received_kpps": {},
               "busy_lost_percent": {},
               "frames_per_batch": {}, "search_trials": {}, "generator_short": {}}
        for flows in self.s.flows:
            key = str(flows)
            self.progress.describe(f"{name}: {flows:,} flows, prefill")
            self.prefill(bed, flows)
            if name != "calibration":
                self.progress.describe(f"{name}: {flows:,} flows, busy time at "
                                       f"{self.s.busy_rate / 1e3:,.0f} kpps")
                counters0 = dut.counters()
                self.busy.start()
                offered, received, seconds = self.trial(bed, flows, self.s.busy_rate,
                                                        self.s.busy_seconds)
                busy = self.busy.stop()
                counters1 = dut.counters()
                out["busy_ns_per_packet"][key] = round(busy / received, 1) if received else None
                out["busy_received_kpps"][key] = round(received / seconds / 1e3, 1)
                # > 0: the device could not keep up with the fixed rate (a saturated core)
                out["busy_lost_percent"][key] = round(100 * (offered - received) / offered, 2) \
                    if offered else None
                if counters0 and counters1 and counters1[1] > counters0[1]:
                    out["frames_per_batch"][key] = round(
                        (counters1[0] - counters0[0]) / (counters1[1] - counters0[1]), 1)
                self.progress.advance()
            high = self.s.search_high if ceiling is None else ceiling[key] * 1e3 * 1.05

            def trial(rate, flows=flows):
                self.progress.describe(f"{name}: {flows:,} flows, {rate / 1e3:,.0f} kpps")
                return self.trial(bed, flows, rate, self.s.trial_seconds)

            found = search.loss_free_search(trial, high, self.s.steps,
                                            on_trial=self.progress.advance,
                                            confirm=self.s.confirm)
            # a search that stopped at once still counts its planned steps
            for _ in range(self.s.steps - len({t[0] for t in found["trials"]})):
                self.progress.advance()
            out["loss_free_kpps"][key] = round(found["rate"] / 1e3, 1)
            out["search_trials"][key] = [[round(r), o, rc] for r, o, rc in found["trials"]]
            out["generator_short"][key] = found["short"]
        return out

    def latency(self, name, bed, dut, occupancies):
        out = {"latency_p50_us": {}, "latency_p99_us": {}, "latency_probes": {},
               "table_flows": {}}
        for occ in occupancies:
            flows = occupancy_flows(occ)
            key = str(occ)
            self.progress.describe(f"{name}: latency at {occ} % occupancy ({flows:,} flows)")
            self.prefill(bed, flows)
            seconds = self.s.latency_seconds
            sink = bed.spawn(bed.ns_outside, ["taskset", "-c", str(tools.GENERATOR_CPU),
                                              self.tools["probesink"], str(tools.PROBE_PORT),
                                              str(seconds + 0.5)],
                             stdout=subprocess.PIPE, text=True)
            if sink.stdout.readline().strip() != "ready":
                raise tools.ToolError("the probe sink did not start")
            _, sent = tools.generate(bed, self.tools["udpgen"], flows,
                                     self.s.background_rate, seconds, self.s.probe_rate)
            text, _ = sink.communicate(timeout=seconds + 10)
            latencies = [int(line.split()[1]) for line in text.splitlines() if line.strip()]
            p50 = search.percentile(latencies, 50)
            p99 = search.percentile(latencies, 99)
            out["latency_p50_us"][key] = None if p50 is None else round(p50 / 1e3, 2)
            out["latency_p99_us"][key] = None if p99 is None else round(p99 / 1e3, 2)
            out["latency_probes"][key] = {"sent": sent, "received": len(latencies)}
            out["table_flows"][key] = table_flows(name, bed, dut)
            self.progress.advance()
        return out

    def device(self, name, calibration):
        """Both phases of one device, each on its own testbed."""
        result = {}
        ceiling = None if calibration is None else calibration["loss_free_kpps"]
        for phase in ("throughput", "latency"):
            if name == "calibration" and phase == "latency":
                occupancies = (0,)          # one flow: the path's own latency
            else:
                occupancies = self.s.occupancies
            bed = D.new_bed(name)
            with bed:
                D.prepare(bed)
                dut = D.Dut(name, bed, self.workdir, busy_poll=self.s.busy_poll)
                self.progress.describe(f"{name}: starting")
                try:
                    dut.start()
                    if phase == "throughput":
                        result.update(self.throughput(name, bed, dut, ceiling))
                    else:
                        result.update(self.latency(name, bed, dut, occupancies))
                finally:
                    dut.stop()
        if calibration is not None:
            result["generator_bound"] = {
                k: search.generator_bound(v, calibration["loss_free_kpps"].get(k, 0),
                                          result["generator_short"][k])
                for k, v in result["loss_free_kpps"].items()}
        return result


def table_flows(name, bed, dut):
    """Flows in the device's table now (conntrack entries for linux)."""
    from vernat.testbed.topology import sh
    if name == "linux":
        return int(sh("cat", "/proc/sys/net/netfilter/nf_conntrack_count",
                      netns=bed.ns_nat).strip())
    if dut.stats is not None:
        # counted by the NAT once a second: after the prefill and >= 1 s of probes
        from vernat.live import stats as S
        return int(dut.stats[S.UDP_FLOWS] + dut.stats[S.TCP_FLOWS])
    return None


def preflight():
    if os.geteuid() != 0:
        raise tools.ToolError("vernat bench needs root (namespaces, XDP, nftables)")
    if not {0, D.DUT_CPU} <= os.sched_getaffinity(0):
        raise tools.ToolError(f"vernat bench needs CPUs 0 and {D.DUT_CPU} (generator and "
                              f"device on separate cores)")
    tools.check_tools()


def run(settings, progress=True, log=None):
    """The whole benchmark; returns the results (one key per device, plus
    "calibration", "settings", "targets", "machine")."""
    preflight()
    workdir = tools.new_workdir()
    started = time.monotonic()
    results = {"settings": asdict(settings),
               "machine": {"cpus": os.cpu_count(), "load_before": tools.load_average()}}
    try:
        tool_paths = tools.build_tools(workdir)
        with Progress(settings, progress) as bar:
            runner = Runner(settings, tool_paths, workdir, bar)
            calibration = runner.device("calibration", None)
            results["calibration"] = calibration
            for name in settings.duts:
                results[name] = runner.device(name, calibration)
                if log:
                    log(name, results[name])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results["machine"]["load_after"] = tools.load_average()
    results["machine"]["wall_seconds"] = round(time.monotonic() - started, 1)
    results["targets"] = search.targets(results)
    return results
