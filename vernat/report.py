"""Human output (rich) for the commands."""

from rich.console import Console
from rich.table import Table

console = Console()


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
    table.add_column("vernat (verified)", justify="right")
    table.add_column("plain-dict NAT", justify="right")
    table.add_column("no-op loop", justify="right")
    for count, ns in results["flows"].items():
        table.add_row(str(count), f"{ns:.1f}", f"{results['dict_flows'][count]:.1f}",
                      f"{results['noop_ns']:.1f}")
    console.print(table)
    console.print(f"capacity {results['capacity']} flows per table; "
                  f"{results['packets']} frames timed per flow count, best of "
                  f"{results['repeats']} runs")
