"""Human output (rich) for the commands."""

from rich.console import Console
from rich.table import Table

from vernat.io.describe import describe
from vernat.nat import constants as C

console = Console()


def print_frames(frame_log):
    table = Table(title="frames, in processing order")
    table.add_column("time (s)", justify="right")
    table.add_column("from")
    table.add_column("frame")
    table.add_column("verdict")
    table.add_column("sent as")
    t0 = frame_log[0][0]
    for time, side, before, verdict, reason, after in frame_log:
        if verdict == C.DROP:
            outcome, sent = f"[red]drop: {C.REASON_NAMES[reason]}[/]", ""
        else:
            outcome, sent = f"[green]{C.VERDICT_NAMES[verdict]}[/]", describe(after)
        table.add_row(f"{(time - t0) / 1e9:.3f}", "outside" if side else "inside",
                      describe(before), outcome, sent)
    console.print(table)


def print_replay(config, stats, args):
    settings = config.describe()
    console.print(f"[bold]vernat replay[/]  external {settings['external-ip']}, "
                  f"ports {settings['port-range']}, "
                  f"timeouts udp {settings['udp-timeout']:g}s tcp {settings['tcp-timeout']:g}s")
    console.print(f"{stats['frames']} frames in: {stats['from_inside']} from the inside, "
                  f"{stats['from_outside']} from the outside")
    table = Table(title="verdicts")
    table.add_column("verdict")
    table.add_column("frames", justify="right")
    for name, n in stats["verdicts"].items():
        table.add_row(name, str(n))
    console.print(table)
    drops = {k: v for k, v in stats["drops"].items() if v}
    if drops:
        dt = Table(title="drop reasons")
        dt.add_column("reason")
        dt.add_column("frames", justify="right")
        for name, n in drops.items():
            dt.add_row(name, str(n))
        console.print(dt)
    flows = stats["active_flows"]
    console.print(f"flows alive at the end: tcp {flows['tcp']}, udp {flows['udp']}")
    for label, path in (("to the inside", args.to_inside), ("to the outside", args.to_outside)):
        if path:
            console.print(f"frames {label} written to {path}")


def print_bench(results):
    table = Table(title="NAT work per packet, frames in memory (ns/packet)")
    table.add_column("flows", justify="right")
    table.add_column("vernat\nround-robin", justify="right")
    table.add_column("vernat\nrandom order", justify="right")
    table.add_column("plain-dict NAT\nround-robin", justify="right")
    table.add_column("plain-dict NAT\nrandom order", justify="right")
    table.add_column("unverified NAT\nround-robin", justify="right")
    table.add_column("unverified NAT\nrandom order", justify="right")
    table.add_column("no-op\nloop", justify="right")
    for count, ns in results["flows"].items():
        table.add_row(str(count), f"{ns:.1f}", f"{results['random_flows'][count]:.1f}",
                      f"{results['dict_flows'][count]:.1f}",
                      f"{results['dict_random_flows'][count]:.1f}",
                      f"{results['plain_flows'][count]:.1f}",
                      f"{results['plain_random_flows'][count]:.1f}", f"{results['noop_ns']:.1f}")
    console.print(table)
    console.print(f"capacity {results['capacity']} flows per table; {results['packets']} "
                  f"frames timed per flow count and order, best of {results['repeats']} runs")


def print_verify(result):
    console.print("[bold]vernat verify[/]: process_frame, every frame, every configuration")
    console.print(f"{result['paths']} paths, {result['solver_queries']} solver queries, "
                  f"{result['obligations']} obligations ({result['merged_ifs']} ifs merged); "
                  + ", ".join(f"{k} {v:.1f} s" for k, v in result["seconds"].items()))
    runs = result["concrete_runs"]
    console.print(f"concrete runs of every path's model: {runs['agree']} agree, "
                  f"{runs['skipped']} skipped, {runs['DISAGREE']} disagree")
    table = Table(title="properties")
    table.add_column("")
    table.add_column("property")
    table.add_column("note")
    for p in result["properties"]:
        mark = "[green]✔[/]" if p["proven"] else "[red]✘[/]"
        table.add_row(mark, p["property"], p.get("note", ""))
    console.print(table)
    for v in result["violations"]:
        console.print(f"[red]violation[/] {v['property']}: {v['message']} at {v['where']} "
                      f"(path ending in {v['path_outcome']}; calls: {', '.join(v['trace'])})")
    for d in result["disagreements"]:
        console.print(f"[red]disagreement[/] {d}")
    if result["reproduce"]:
        console.print(f"counterexample written; reproduce with:\n  {result['reproduce']}")
    console.print("[green]proven[/]" if result["proven"] else "[red]not everything is proven[/]")


def print_flows(result):
    """`vernat flows`: one row per translation."""
    nat = result["nat"]
    flows = result["flows"]
    table = Table(caption=f"NAT pid {nat['pid']} ({nat['inside']} -> {nat['outside']}): "
                          f"{len(flows)} flow(s)", caption_justify="left")
    for col in ("proto", "inside", "remote", "external", "idle s", ""):
        table.add_column(col, justify="right" if col == "idle s" else "left")
    for f in sorted(flows, key=lambda f: (f["proto"], f["external"])):
        table.add_row(f["proto"], f["inside"], f["remote"], f["external"],
                      f"{f['idle_seconds']:.1f}", "expired" if f["expired"] else "")
    Console().print(table)


def print_prove_module(r):
    mark = "[green]✔[/]" if r["proven"] else "[red]✘[/]"
    runs = f", {r['parts']} parts" if r.get("parts", 1) > 1 else ""
    restarts = sum(len(a) - 1 for a in r.get("attempts", []))
    if restarts:
        runs += f", {restarts} restart{'s' if restarts > 1 else ''} with new seeds"
        # what each stopped attempt had not proven (the stuck proof among them)
        for names in r.get("stopped_on", []):
            more = f" and {len(names) - 3} more" if len(names) > 3 else ""
            runs += f" (stopped before {', '.join(names[:3])}{more})"
    slowest = list(r.get("function_seconds", {}).items())[:2]
    if slowest:
        runs += "; slowest: " + ", ".join(f"{f} {t:.0f} s" for f, t in slowest)
    console.print(f"{mark} {r['module']:<24} {r['seconds']:7.1f} s  "
                  f"({len(r['functions'])} functions{runs})", highlight=False, soft_wrap=True)
    for e in r["errors"]:
        where = f"{e['where']}: " if e["where"] else ""
        console.print(f"    {where}{e['message']}", highlight=False, markup=False, soft_wrap=True)


def print_prove(result):
    n = len(result["modules"])
    good = sum(r["proven"] for r in result["modules"])
    verdict = "[green]proven[/]" if result["proven"] else "[red]not everything is proven[/]"
    console.print(f"vernat prove: {good}/{n} modules proven in {result['seconds']:.1f} s: {verdict}")


def print_live_bench(results):
    """`vernat bench`: the four devices side by side."""
    settings = results["settings"]
    duts = [d for d in settings["duts"] if d in results]
    cal = results.get("calibration", {})

    def cell(r, table, key, fmt):
        value = r.get(table, {}).get(key)
        return "—" if value is None else fmt(value)

    def side_by_side(title, *first_columns):
        """A table with the given leading columns, then one column per device."""
        t = Table(title=title)
        for name in (*first_columns, *duts):
            t.add_column(name, justify="right")
        return t

    t = side_by_side("Loss-free rate, 64-byte UDP, < 0.1 % loss (kpps; * = generator-bound)",
                     "flows", "no DUT\n(calibration)")
    for f in map(str, settings["flows"]):
        row = [f"{int(f):,}", cell(cal, "loss_free_kpps", f, lambda v: f"{v:,.0f}")]
        for d in duts:
            bound = results[d].get("generator_bound", {}).get(f)
            row.append(cell(results[d], "loss_free_kpps", f,
                            lambda v: f"{v:,.0f}{'*' if bound else ''}"))
        t.add_row(*row)
    console.print(t)

    t = side_by_side(f"DUT core busy time per packet at {settings['busy_rate'] / 1e3:,.0f} kpps "
                     f"offered (ns; frames per batch)", "flows")
    for f in map(str, settings["flows"]):
        row = [f"{int(f):,}"]
        for d in duts:
            r = results[d]
            text = cell(r, "busy_ns_per_packet", f, lambda v: f"{v:,.0f}")
            batch = r.get("frames_per_batch", {}).get(f)
            lost = r.get("busy_lost_percent", {}).get(f)
            row.append(text + (f" ({batch:.0f})" if batch else "") +
                       (f" [{lost:.1f} % lost]" if lost and lost >= 0.1 else ""))
        t.add_row(*row)
    console.print(t)

    t = side_by_side(f"One-way latency under {settings['background_rate'] / 1e3:,.0f} kpps "
                     f"background, p50 / p99 (µs)", "occupancy")
    for o in map(str, settings["occupancies"]):
        row = [f"{o} %"]
        for d in duts:
            r = results[d]
            p50, p99 = r["latency_p50_us"].get(o), r["latency_p99_us"].get(o)
            row.append("—" if p50 is None else f"{p50:,.1f} / {p99:,.1f}")
        t.add_row(*row)
    console.print(t)
    if cal.get("latency_p50_us"):
        p50 = next(iter(cal["latency_p50_us"].values()))
        p99 = next(iter(cal["latency_p99_us"].values()))
        if p50 is not None:
            console.print(f"no DUT (generator → sink): {p50:,.1f} / {p99:,.1f} µs",
                          highlight=False)

    if results.get("targets"):
        t = Table(title="Targets (ratios from this run)")
        t.add_column("target")
        t.add_column("value", justify="right")
        t.add_column("goal", justify="right")
        t.add_column("")
        t.add_column("note")
        for row in results["targets"]:
            mark = {True: "[green]met[/]", False: "[red]missed[/]",
                    None: "[yellow]inconclusive[/]"}[row["met"]]
            t.add_row(row["target"], f"{row['value']:.2f}", f"{row['goal']:.2f}", mark,
                      row["note"])
        console.print(t)
    m = results["machine"]
    console.print(f"{m['wall_seconds']:.0f} s; load average before {m['load_before'][0]:.2f}, "
                  f"after {m['load_after'][0]:.2f}"
                  f"{'; --quick' if settings['quick'] else ''}"
                  f"{'; --busy-poll: the data-plane devices spin' if settings.get('busy_poll') else ''}",
                  highlight=False)
