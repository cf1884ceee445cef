"""PNG plots of a `vernat bench` run (matplotlib, no display needed)."""

import os

COLORS = {"vernat": "tab:blue", "noop": "tab:gray", "unverified": "tab:orange",
          "linux": "tab:green", "calibration": "black"}


def write(results, directory):
    """throughput.png, busy.png, latency.png in directory; returns their paths."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(directory, exist_ok=True)
    duts = [d for d in results["settings"]["duts"] if d in results]
    flows = [str(f) for f in results["settings"]["flows"]]
    paths = []

    def save(fig, name):
        path = os.path.join(directory, name)
        fig.tight_layout()
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)

    fig, ax = plt.subplots(figsize=(6.4, 4))
    x = range(len(flows))
    cal = results.get("calibration", {}).get("loss_free_kpps", {})
    if cal:
        ax.plot(x, [cal.get(f) for f in flows], "k--", label="generator → sink, no DUT")
    for d in duts:
        r = results[d]
        ax.plot(x, [r["loss_free_kpps"].get(f) for f in flows], "o-", color=COLORS[d],
                label=d)
        for i, f in enumerate(flows):
            if r.get("generator_bound", {}).get(f):
                ax.plot(i, r["loss_free_kpps"][f], "o", mfc="none", ms=12, color=COLORS[d])
    ax.set_xticks(list(x), [f"{int(f):,}" for f in flows])
    ax.set_xlabel("flows")
    ax.set_ylabel("loss-free rate (kpps, < 0.1 % loss)")
    ax.set_ylim(bottom=0)
    ax.set_title("Throughput, 64-byte UDP (circled: generator-bound)")
    ax.legend(fontsize=8)
    save(fig, "throughput.png")

    fig, ax = plt.subplots(figsize=(6.4, 4))
    width = 0.8 / max(1, len(duts))
    for k, d in enumerate(duts):
        busy = results[d].get("busy_ns_per_packet", {})
        ax.bar([i + k * width for i in x], [busy.get(f) or 0 for f in flows], width,
               color=COLORS[d], label=d)
    ax.set_xticks([i + width * (len(duts) - 1) / 2 for i in x],
                  [f"{int(f):,}" for f in flows])
    ax.set_xlabel("flows")
    ax.set_ylabel("DUT core busy time per packet (ns)")
    ax.set_title(f"Cost per packet at {results['settings']['busy_rate'] / 1e3:,.0f} kpps "
                 f"offered")
    ax.legend(fontsize=8)
    save(fig, "busy.png")

    fig, ax = plt.subplots(figsize=(8, 4))
    occ = [str(o) for o in results["settings"]["occupancies"]]
    for d in duts:
        r = results[d]
        ax.plot([int(o) for o in occ], [r["latency_p50_us"].get(o) for o in occ], "o-",
                color=COLORS[d], label=f"{d} p50")
        ax.plot([int(o) for o in occ], [r["latency_p99_us"].get(o) for o in occ], "x:",
                color=COLORS[d], label=f"{d} p99")
    ax.set_yscale("log")
    ax.set_xlabel("flow table occupancy (% of 64,512 flows)")
    ax.set_ylabel("one-way latency (µs)")
    ax.set_title(f"Latency under {results['settings']['background_rate'] / 1e3:,.0f} kpps "
                 f"background")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    save(fig, "latency.png")
    return paths
