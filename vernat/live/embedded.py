"""`vernat run` with no interfaces: build the testbed, run the NAT in its namespace,
drive real clients through it, show what happened, remove everything.

The NAT runs as a child process (`vernat run --inside ... --outside ...` inside the
NAT namespace: the very operator mode), and shares its counters through a stats
file.  Cleanup runs on normal exit, on any error and on SIGINT/SIGTERM (the first
signal unwinds to it; further ones are ignored until it is done).
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from vernat.live import clients, display, stats as S
from vernat.live.system import RunError, require_root
from vernat.testbed import new_testbed


class Stopped(Exception):
    """SIGINT or SIGTERM arrived."""


def _on_signal(signum, frame):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Stopped(signal.Signals(signum).name)


def nat_argv(tb, workdir, args):
    argv = [sys.executable, "-m", "vernat.cli", "run", "--inside", tb.if_nat_inside,
            "--outside", tb.if_nat_outside, "--gateway", tb.server_ip,
            "--stats-file", os.path.join(workdir, "stats"),
            "--summary-json", os.path.join(workdir, "nat-summary.json"),
            "--xdp-mode", args.xdp_mode]
    for key in ("config", "port_range", "udp_timeout", "tcp_timeout", "cpu"):
        if getattr(args, key, None) is not None:
            argv += [f"--{key.replace('_', '-')}", str(getattr(args, key))]
    if args.io:
        argv += ["--io", args.io]
    if getattr(args, "busy_poll", False):
        argv.append("--busy-poll")
    return argv


def check_nat_options(args):
    """Bad NAT options fail now (ConfigError: one line, exit 2), not after the testbed."""
    from vernat.nat.config import resolve
    from vernat.testbed.topology import EXTERNAL_IP
    resolve({"external-ip": EXTERNAL_IP, "port-range": args.port_range,
             "udp-timeout": args.udp_timeout, "tcp-timeout": args.tcp_timeout}, args.config)


def start_nat(tb, workdir, args, timeout=600.0):
    """Start the NAT and wait until it forwards (its stats say RUNNING). The time limit
    only catches a NAT that hangs: on a cold numba cache it first compiles its data
    plane (about a minute here, several on a slow or loaded machine)."""
    log = open(os.path.join(workdir, "nat.log"), "w")
    proc = tb.spawn(tb.ns_nat, nat_argv(tb, workdir, args), stdout=log,
                    stderr=subprocess.STDOUT)
    try:
        stats = S.wait_running(proc, os.path.join(workdir, "stats"), timeout)
    except TimeoutError:
        raise RunError(f"the NAT did not start within {timeout:.0f} s") from None
    if stats is None:
        with open(log.name) as f:
            raise RunError(f"the NAT did not start: {clients.last_line(f.read())}")
    return proc, stats


def results_table(results, elapsed):
    table = Table(caption=f"clients through the NAT, {elapsed:.0f} s", caption_justify="left")
    for col, justify in (("client", "left"), ("runs", "right"), ("ok", "right"),
                         ("last result", "left")):
        table.add_column(col, justify=justify)
    for name, r in list(results.items()):
        style = "" if r["failed"] == 0 else "red"
        table.add_row(name, str(r["runs"]), str(r["ok"]), r["last"], style=style)
    return table


def run(args):
    require_root()
    check_nat_options(args)
    console = Console()
    tb = new_testbed()
    workdir = tempfile.mkdtemp(prefix=f"vernat-{tb.id}-")
    old = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    results = {}
    summary = {"testbed": tb.id, "ok": False}
    nat = stats = None
    started = time.monotonic()
    stopped_by = "--duration" if args.duration else None
    try:
        console.print(f"vernat: building testbed {tb.id}: client {tb.client_ip} ({tb.ns_inside})"
                      f" -- NAT {tb.external_ip} ({tb.ns_nat}) -- server {tb.server_ip} "
                      f"({tb.ns_outside})", highlight=False, soft_wrap=True)
        tb.create()
        console.print("vernat: starting the NAT (the first start compiles it: up to a "
                      "minute)", highlight=False)
        nat, stats = start_nat(tb, workdir, args)
        with open(os.path.join(workdir, "nat.log")) as f:
            for line in f.read().splitlines():
                console.print(f"  NAT: {line}", highlight=False, soft_wrap=True)
        others = os.sched_getaffinity(0) - {args.cpu}
        if args.cpu is not None and others:
            # servers and clients (our children from now on) keep off the NAT's core
            os.sched_setaffinity(0, others)
        servers = clients.Servers(tb, workdir)
        servers.start()
        started = time.monotonic()
        deadline = None if args.duration is None else started + args.duration

        def view():
            return Group(display.nat_table(stats, elapsed=time.monotonic() - started),
                         results_table(results, time.monotonic() - started))

        def one_round():
            first = not results
            for client in ((clients.nat_discovery,) if first else ()) + clients.CLIENTS:
                # every client runs at least once, even past --duration
                if deadline is not None and time.monotonic() >= deadline and not first:
                    return False
                r = client(tb, servers)
                entry = results.setdefault(r.name, {"runs": 0, "ok": 0, "failed": 0, "last": ""})
                entry["runs"] += 1
                entry["ok" if r.ok else "failed"] += 1
                entry["last"] = r.detail
                if not console.is_terminal:
                    console.print(f"  {r.name}: {'ok' if r.ok else 'FAILED'}: {r.detail}",
                                  highlight=False)
            return deadline is None or time.monotonic() < deadline

        if console.is_terminal:
            with Live(view(), console=console, refresh_per_second=2,
                      get_renderable=view):
                while one_round():
                    pass
        else:
            while one_round():
                pass
    except Stopped as e:
        stopped_by = str(e)
    except BaseException:
        # the error's message says what went wrong; nothing of this run is kept
        stopped_by = "error"
        raise
    finally:
        if nat is not None:
            from vernat.testbed.topology import stop_process
            stop_process(nat, grace=10.0)
        seen = servers.client_addresses() if "servers" in locals() else set()
        final_stats = None if stats is None else S.summary(stats)
        tb.destroy()
        for s, handler in old.items():
            signal.signal(s, handler)
        if stopped_by == "error":
            shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.monotonic() - started
    try:
        with open(os.path.join(workdir, "nat.log")) as f:
            for line in f.read().splitlines():
                if line.startswith("vernat: sockets"):      # where frames were lost, if any
                    console.print(f"  NAT: {line}", highlight=False, soft_wrap=True)
    except OSError:
        pass
    if stats is not None:
        console.print(display.nat_table(stats, title="NAT at the end", elapsed=elapsed))
        console.print(results_table(results, elapsed))
    summary.update(clients=results, nat=final_stats, server_saw=sorted(seen),
                   stopped_by=stopped_by, elapsed=round(elapsed, 1))
    complete = all(name in results for name in ("HTTP", "DNS", "iperf3 TCP", "iperf3 UDP",
                                                "NAT type (RFC 5780)"))
    clean = all(r["failed"] == 0 for r in results.values())
    only_external = seen == {tb.external_ip}
    # Ctrl-C/SIGTERM may stop the demo before every client ran: that is not a failure
    interrupted = stopped_by not in (None, "--duration")
    summary["ok"] = (complete or interrupted) and clean and (only_external or not seen)
    console.print(f"servers saw connections from: {', '.join(sorted(seen)) or 'nobody'}"
                  f" ({'only the external IP: ok' if only_external else 'NOT only the external IP'})",
                  highlight=False)
    console.print(f"vernat: {'all clients ok' if summary['ok'] else 'FAILED'}; stopped by "
                  f"{stopped_by or 'an error'}; testbed {tb.id} removed", highlight=False)
    if summary["ok"]:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        console.print(f"vernat: logs kept in {workdir}", highlight=False)
    return summary
