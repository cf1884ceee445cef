"""Run the data plane until SIGINT/SIGTERM or --duration, with live counters and a
final summary; detach and close everything on the way out, whatever happened."""

import signal
import sys
import time

from rich.console import Console
from rich.live import Live

from vernat.io.xdp import rings as R
from vernat.io.xdp.dataplane import XdpDataPlane
from vernat.io.xdp.program import XdpError
from vernat.io.packet.dataplane import PacketDataPlane, PacketError
from vernat.live import display, stats as S
from vernat.live.flows import Publisher
from vernat.live.placement import Placement
from vernat.live.system import RunError
from vernat.nat.engine import Nat


class StopFlag:
    """Set by SIGINT/SIGTERM; the loop looks at it between rounds (an idle loop wakes
    from poll() at least every 200 ms)."""

    def __init__(self, duration=None):
        self.deadline = None if duration is None else time.monotonic() + duration
        self.signal = None
        self._old = {}

    def install(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._old[sig] = signal.signal(sig, self._handle)
        return self

    def restore(self):
        for sig, old in self._old.items():
            signal.signal(sig, old)

    def _handle(self, signum, frame):
        self.signal = signum

    def __call__(self):
        return self.signal is not None or (
            self.deadline is not None and time.monotonic() >= self.deadline)


def serve(config, inside, outside, io="xdp", xdp_mode="auto", duration=None,
          stats_path=None, explicit_io=False, console=None, cpu=None, nat=None,
          busy_poll=False):
    """Forward between the two interfaces. Returns the final stats summary (dict).
    nat: a ready Nat (default: a new one of config); `vernat bench` gives its stand-ins."""
    console = console or Console()
    stats = S.create(stats_path)
    stop = StopFlag(duration).install()
    nat = nat or Nat(config)
    if io == "packet":
        plane = PacketDataPlane(nat, inside.name, outside.name)
    else:
        plane = XdpDataPlane(nat, inside.name, outside.name, mode=xdp_mode)
    plane.counters = S.counters(stats)
    placement = publisher = None
    try:
        if cpu is not None:
            placement = Placement(cpu, (inside.name, outside.name)).apply()
        try:
            plane.open()
        except PacketError as e:
            raise RunError(str(e)) from None
        except XdpError as e:
            if explicit_io:
                raise RunError(f"XDP unavailable: {e}") from None
            # the default: AF_XDP where it works, AF_PACKET otherwise
            console.print(f"vernat: XDP unavailable ({e}); using AF_PACKET", highlight=False,
                          soft_wrap=True)
            plane = PacketDataPlane(nat, inside.name, outside.name)
            plane.counters = S.counters(stats)
            try:
                plane.open()
            except PacketError as e2:
                raise RunError(str(e2)) from None
        plane.busy_poll = busy_poll
        for i, mode in zip((S.MODE_INSIDE, S.MODE_OUTSIDE), plane.modes):
            stats[i] = S.MODES[mode]
        if placement is not None:
            threads, missing = placement.pin_napi_threads()
            console.print(f"vernat: data plane on CPU {cpu}, receive work steered there "
                          f"(RPS; threaded NAPI: {len(threads)} thread(s) pinned"
                          f"{'; not available on ' + ', '.join(missing) if missing else ''})",
                          highlight=False, soft_wrap=True)
        publisher = Publisher(nat, inside.name, outside.name)
        stats[S.STATE] = S.RUNNING
        io_names = [f"{m} XDP" if m != "packet" else "AF_PACKET" for m in plane.modes]
        console.print(f"vernat: NAT running: inside {inside.name} ({io_names[0]}), "
                      f"outside {outside.name} ({io_names[1]}), external IP "
                      f"{config.describe()['external-ip']}, gateway "
                      f"{config.describe()['gateway-mac']}; Ctrl-C stops", highlight=False,
                      soft_wrap=True)
        sys.stdout.flush()
        started = time.monotonic()
        last = [started, 0, 0]

        def refresh_flows():
            counts = nat.flow_counts()
            stats[S.TCP_FLOWS], stats[S.UDP_FLOWS] = counts["tcp"], counts["udp"]

        def table():
            now = time.monotonic()
            c = S.counters(stats)
            dt = max(now - last[0], 1e-9)
            rates = ((c[R.RX_FRAMES] - last[1]) / dt, (c[R.RX_FRAMES + 1] - last[2]) / dt)
            last[:] = [now, int(c[R.RX_FRAMES]), int(c[R.RX_FRAMES + 1])]
            return display.nat_table(stats, elapsed=now - started, rates=rates)

        def should_stop():
            publisher.serve()          # a `vernat flows` request, between two rounds
            return stop()

        if console.is_terminal:
            with Live(table(), console=console, auto_refresh=False) as live:
                def tick():
                    refresh_flows()
                    live.update(table(), refresh=True)
                plane.run(should_stop, on_tick=tick, tick_seconds=1.0)
        else:
            plane.run(should_stop, on_tick=refresh_flows, tick_seconds=1.0)
        refresh_flows()
        stats[S.STATE] = S.STOPPED
        reason = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}.get(stop.signal, "--duration")
        console.print(display.nat_table(stats, title=f"vernat: stopped ({reason})",
                                        elapsed=time.monotonic() - started))
        kernel_side = plane.socket_statistics()
        lost = {f"{name} {k}": v for name, st in kernel_side.items() for k, v in st.items()
                if v and k in ("rx_dropped", "rx_ring_full", "rx_fill_ring_empty_descs")}
        console.print("vernat: sockets, kernel side: " + (", ".join(f"{k} {v:,}" for k, v in lost.items())
                                                     or "no frame lost in the kernel"),
                      highlight=False, soft_wrap=True)
        if hasattr(stats, "flush"):
            stats.flush()
        return {**S.summary(stats), "xdp_sockets": kernel_side}
    finally:
        if placement is not None:
            placement.restore()     # first: a veth's threaded NAPI exists only with XDP on
        plane.close()
        if publisher is not None:
            publisher.close()
        stop.restore()
