"""Tables for people (rich): the NAT's counters, live and at the end."""

from rich.table import Table

from vernat.live import stats as S


def nat_table(stats, title="NAT", elapsed=None, rates=None):
    s = S.summary(stats)
    modes = "/".join(S.MODE_NAMES.get(int(stats[i]), "?") for i in (S.MODE_INSIDE, S.MODE_OUTSIDE))
    head = f"{title}: " + ("AF_PACKET" if "packet" in modes else f"XDP {modes}")
    head += f", {elapsed:.0f} s" if elapsed is not None else ""
    table = Table(caption=head, caption_justify="left", show_header=True)
    table.add_column("", style="bold")
    table.add_column("inside", justify="right")
    table.add_column("outside", justify="right")
    table.add_row("frames received", f"{s['received_inside']:,}", f"{s['received_outside']:,}")
    table.add_row("frames sent", f"{s['sent_inside']:,}", f"{s['sent_outside']:,}")
    if rates:
        table.add_row("received/s (last interval)", f"{rates[0]:,.0f}", f"{rates[1]:,.0f}")
    table.add_row("live flows (TCP / UDP)", f"{s['tcp_flows']:,} / {s['udp_flows']:,}", "")
    dropped = ", ".join(f"{k} {v:,}" for k, v in s["dropped"].items()) or "none"
    table.add_row("dropped by the NAT", dropped, "")
    if s["tx_ring_full"]:
        table.add_row("dropped, TX ring full", f"{s['tx_ring_full']:,}", "")
    return table
