"""The arithmetic of `vernat bench`, apart from any network: the loss-free search, the
generator-bound flag, percentiles and the issue's targets (ratios from one run)."""

LOSS_FREE = 0.001            # < 0.1 % loss
GENERATOR_BOUND = 0.10       # within 10 % of the calibration run: the generator's limit


def lossless(offered, received, limit=LOSS_FREE):
    return offered > 0 and (offered - received) / offered < limit


def loss_free_search(trial, high, steps, on_trial=None, confirm=0):
    """Highest rate with < 0.1 % loss, by binary search over [0, high].

    trial(rate) -> (offered, received, seconds): frames offered and counted at the
    sink while offering `rate` frames/s for `seconds`.  The first trial is at `high`
    (a device that loses nothing there is bounded by the generator, not found by the
    search); each later one halves the interval.  A trial with loss is repeated up to
    `confirm` times and counts as lossless if a repeat is (on a shared 2-core VM a
    single stall of the device's core overflows the veth's 256-frame ring).  Returns {"rate": frames/s received
    in the best lossless trial (0 if none), "trials": [(rate, offered, received)],
    "short": whether the generator offered less than 90 % of the rate asked for in
    that trial (the generator's limit, not the device's)}.
    """
    low, best, short, trials = 0.0, 0.0, False, []
    rate = high
    for _ in range(steps):
        for _ in range(1 + confirm):
            offered, received, seconds = trial(rate)
            trials.append((rate, offered, received))
            if lossless(offered, received):
                break
        if on_trial is not None:
            on_trial()
        if lossless(offered, received):
            if received / seconds > best:
                best = received / seconds
                short = offered < 0.9 * rate * seconds
            low = rate
            if rate == high:
                break
        else:
            high = rate
        rate = (low + high) / 2
    return {"rate": best, "trials": trials, "short": short}


def generator_bound(rate, calibration, short=False):
    """A result within 10 % of what the generator delivers with no device in between
    says more about the generator than about the device; so does one where the
    generator could not even offer the rate asked for (short)."""
    return short or (calibration > 0 and rate >= (1 - GENERATOR_BOUND) * calibration)


def percentile(values, q):
    """The q-th percentile (0..100) of values, nearest rank (no interpolation)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))      # ceil(n q / 100)
    return ordered[int(rank) - 1]


def targets(results):
    """The issue's targets, evaluated on one run's results: a list of
    {"target", "value", "goal", "met", "note"}.  Loss-free ratios at a flow count
    where both devices are generator-bound are not a comparison of the devices:
    they are marked inconclusive (met=None) and the busy time per packet, which
    keeps working past the generator's ceiling, is compared instead."""
    out = []
    v = results.get("vernat")
    if not v:
        return out

    def ratio_rows(other, goal, name):
        o = results.get(other)
        if not o:
            return
        for flows, mine in v["loss_free_kpps"].items():
            theirs = o["loss_free_kpps"].get(flows)
            if not theirs:
                continue
            value = mine / theirs
            bound = v["generator_bound"].get(flows) and o["generator_bound"].get(flows)
            row = {"target": f"{name} loss-free, {int(flows):,} flows", "value": round(value, 3),
                   "goal": goal, "met": value >= goal - 1e-9 if not bound else None,
                   "note": ""}
            if bound:
                row["note"] = "both generator-bound"
                mb = v.get("busy_ns_per_packet", {}).get(flows)
                ob = o.get("busy_ns_per_packet", {}).get(flows)
                if mb and ob:
                    row["note"] += f"; busy ns/packet {mb:.0f} vs {ob:.0f} (ratio {ob / mb:.2f})"
            elif value < goal:
                row["note"] = f"missed by {100 * (goal - value) / goal:.1f} %"
            out.append(row)

    ratio_rows("linux", 1.0, "vernat / linux")
    ratio_rows("noop", 0.95, "vernat / noop")
    ratio_rows("unverified", 0.95, "vernat / unverified")
    lin = results.get("linux")
    if lin:
        for occ, p50 in v["latency_p50_us"].items():
            theirs = lin["latency_p50_us"].get(occ)
            if p50 is None or theirs is None:
                continue
            out.append({"target": f"vernat p50 <= linux p50, {occ} % occupancy",
                        "value": round(p50 / theirs, 3), "goal": 1.0,
                        "met": p50 <= theirs,
                        "note": f"{p50:.1f} vs {theirs:.1f} us" +
                                ("" if p50 <= theirs else
                                 f"; missed by {100 * (p50 - theirs) / theirs:.1f} %")})
    p50s = {o: p for o, p in v["latency_p50_us"].items() if p is not None}
    if len(p50s) >= 2:
        first = p50s[min(p50s, key=float)]
        worst = max(abs(p - first) / first for p in p50s.values())
        out.append({"target": "vernat p50 flat from lowest to highest occupancy",
                    "value": round(worst, 3), "goal": 0.05, "met": worst <= 0.05,
                    "note": f"largest change {100 * worst:.1f} % from {first:.1f} us"})
    return out
