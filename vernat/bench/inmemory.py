"""`vernat bench --in-memory`: NAT work per packet, frames already in memory.

For each flow count, the flows are first established (one frame each), then
batches of outbound 64-byte UDP frames of those flows (round-robin, and
again in random order) go through one call of the entry point each. Frames are rewritten in place, so
each batch is copied from a pristine buffer before it is timed (the copy is
not timed). Reported: best-of-N mean ns per packet for
  - vernat: the verified per-packet code and state library (numba build);
  - dict:   the same per-packet code on the unverified typed-dict library;
  - plain:  the live benchmark's unverified NAT, written plainly (vernat/baseline/
            plain_nat.py);
  - noop:   a loop over the same frames that only reads the EtherType.
"""

import time

import numba
import numpy as np

from vernat import build
from vernat.nat import constants as C
from vernat.nat.config import NatConfig, NS_PER_SEC
from vernat.state.tables import new_table

FLOW_COUNTS = (1, 1000, 60000)
CAPACITY = 65535            # port range 1-65535
FRAME = 64
BATCH = 1 << 16
REPEATS = 3


def bench_config():
    return NatConfig(external_ip=0xCB007101, port_start=1, port_end=CAPACITY,
                     udp_timeout_ns=3600 * NS_PER_SEC, tcp_timeout_ns=3600 * NS_PER_SEC)


def udp_frame(k):
    """64-byte Ethernet/IPv4/UDP frame of flow k (distinct inside host/port)."""
    f = np.zeros(FRAME, dtype=np.uint8)
    f[0:6] = [0x02, 0, 0, 0, 0, 0x01]
    f[6:12] = [0x02, 0xAA, 0, 0, (k >> 8) & 0xFF, k & 0xFF]
    f[12:14] = [0x08, 0x00]
    src = (10 << 24) | (1 << 16) | (k >> 6)          # 10.1.x.y, 64 ports per host
    dst = (198 << 24) | (51 << 16) | (100 << 8) | 7
    ip = [0x45, 0, 0, 50, 0, 0, 0, 0, 64, 17, 0, 0,
          src >> 24, (src >> 16) & 255, (src >> 8) & 255, src & 255,
          dst >> 24, (dst >> 16) & 255, (dst >> 8) & 255, dst & 255]
    s = sum((ip[n] << 8) | ip[n + 1] for n in range(0, 20, 2))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    ip[10], ip[11] = (~s >> 8) & 255, ~s & 255
    f[14:34] = ip
    sport = 10000 + (k & 63)
    f[34:42] = [sport >> 8, sport & 255, 0, 53, 0, 30, 0, 0]   # UDP checksum 0: none
    return f


@numba.njit(nogil=True)
def noop_batch(buf, offs, lens, times, from_outside, count, cfg, clock, tcp, udp,
               verdicts, reasons):
    """The I/O floor: touch each frame's EtherType, pass IPv4 through."""
    n = 0
    for k in range(count):
        at = offs[k] + 12
        if ((np.int64(buf[at]) << 8) | np.int64(buf[at + 1])) == 0x0800:
            verdicts[k] = 2
            n += 1
        else:
            verdicts[k] = 0
        reasons[k] = 0
    return n


def flow_frames(flows):
    """One pristine frame per flow, as a (flows, FRAME) array."""
    return np.stack([udp_frame(k) for k in range(flows)])


def run_one(kernel_batch, tables, cfg, per_flow, packets, rng, repeats, order="cycle"):
    """Best-of-`repeats` mean ns per packet over `packets` frames. order:
    "cycle" visits the flows round-robin, as a traffic generator cycling
    through its flows does; "random" draws each frame's flow at random,
    the worst case for caches."""
    flows = len(per_flow)
    clock = np.zeros(1, dtype=np.int64)
    tcp, udp = tables
    offs = np.arange(BATCH, dtype=np.int64) * FRAME
    lens = np.full(BATCH, FRAME, dtype=np.int64)
    sides = np.zeros(BATCH, dtype=np.uint8)
    verdicts = np.zeros(BATCH, dtype=np.uint8)
    reasons = np.zeros(BATCH, dtype=np.uint8)
    now = 1

    def batch(pristine, n):
        nonlocal now
        now += 1000
        times = np.full(BATCH, now, dtype=np.int64)
        work = pristine.copy()
        t0 = time.perf_counter_ns()
        kernel_batch(work, offs, lens, times, sides, n, cfg, clock, tcp, udp,
                     verdicts, reasons)
        elapsed = time.perf_counter_ns() - t0
        if not np.all(verdicts[:n] == C.TO_OUTSIDE):
            bad = int(reasons[:n][verdicts[:n] != C.TO_OUTSIDE][0])
            raise RuntimeError(f"benchmark frame dropped: {C.REASON_NAMES[bad]}")
        return elapsed

    # establish every flow once, then time frames of random established flows;
    # every frame in a batch is its own copy (frames are rewritten in place)
    for start in range(0, flows, BATCH):
        chunk = per_flow[start:start + BATCH]
        pristine = np.zeros((BATCH, FRAME), dtype=np.uint8)
        pristine[:len(chunk)] = chunk
        batch(pristine.ravel(), len(chunk))
    if order == "random":
        picks = [rng.integers(0, flows, size=BATCH) for _ in range(4)]
    else:
        picks = [(np.arange(BATCH) + b * BATCH) % flows for b in range(4)]
    batches = [per_flow[p].ravel() for p in picks]
    best = None
    for _ in range(repeats):
        total = 0
        done = 0
        while done < packets:
            n = min(BATCH, packets - done)
            total += batch(batches[(done // BATCH) % len(batches)], n)
            done += n
        per_packet = total / packets
        best = per_packet if best is None else min(best, per_packet)
    return best


def run(packets=2_000_000, flow_counts=FLOW_COUNTS, repeats=REPEATS, progress=False):
    from vernat.baseline import plain_nat
    from vernat.baseline.dict_flowtable import new_dict_table

    config = bench_config()
    cfg = config.to_array()
    verified = build.load(jit=True)
    baseline = build.load(jit=True, state="vernat.baseline.dict_flowtable")
    rng = np.random.default_rng(1)
    results = {"flows": {}, "dict_flows": {}, "random_flows": {}, "dict_random_flows": {},
               "plain_flows": {}, "plain_random_flows": {},
               "capacity": config.capacity, "packets": packets, "repeats": repeats}
    for flows in flow_counts:
        if progress:
            print(f"  {flows} flows ...", flush=True)
        per_flow = flow_frames(flows)
        for order, v_key, d_key, p_key in (
                ("cycle", "flows", "dict_flows", "plain_flows"),
                ("random", "random_flows", "dict_random_flows", "plain_random_flows")):
            v_tables = (new_table(verified, config.capacity), new_table(verified, config.capacity))
            results[v_key][str(flows)] = run_one(verified.process_batch, v_tables, cfg,
                                                 per_flow, packets, rng, repeats, order)
            d_tables = (new_dict_table(config.capacity), new_dict_table(config.capacity))
            results[d_key][str(flows)] = run_one(baseline.process_batch, d_tables, cfg,
                                                 per_flow, packets, rng, repeats, order)
            p_tables = (plain_nat.new_state(config.capacity),
                        plain_nat.new_state(config.capacity))
            results[p_key][str(flows)] = run_one(plain_nat.process_batch, p_tables, cfg,
                                                 per_flow, packets, rng, repeats, order)
    results["noop_ns"] = run_one(noop_batch, (np.zeros(1, np.int64),) * 2, cfg,
                                 flow_frames(1), packets, rng, repeats)
    results["dict_ns"] = results["dict_flows"][str(flow_counts[-1])]
    return results
