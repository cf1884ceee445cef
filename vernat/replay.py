"""`vernat replay`: the NAT over capture files, deterministic.

Frames of both inputs are processed in time-stamp order (ties: inside
first, then file order) in one call of the verified entry point; each
emitted frame keeps the time stamp of the frame that caused it.
"""

import numpy as np

from vernat.io.pcap import read_capture, write_pcap
from vernat.nat import constants as C
from vernat.nat.engine import Nat


def merge(inside, outside):
    """One batch holding both captures in processing order."""
    caps = [(c, side) for c, side in ((inside, 0), (outside, 1)) if c is not None]
    bufs, offs, lens, times, sides, seqs = [], [], [], [], [], []
    base = 0
    for cap, side in caps:
        bufs.append(cap.buf)
        offs.append(cap.offs + base)
        lens.append(cap.lens)
        times.append(cap.times)
        sides.append(np.full(len(cap), side, dtype=np.uint8))
        seqs.append(np.arange(len(cap), dtype=np.int64))
        base += len(cap.buf)
    buf = np.concatenate(bufs) if bufs else np.zeros(0, np.uint8)
    cat = [np.concatenate(x) if x else np.zeros(0, np.int64) for x in (offs, lens, times, sides, seqs)]
    offs, lens, times, sides, seqs = cat
    order = np.lexsort((seqs, sides, times))      # last key is the primary one
    return (buf, np.ascontiguousarray(offs[order]), np.ascontiguousarray(lens[order]),
            np.ascontiguousarray(times[order]), np.ascontiguousarray(sides[order].astype(np.uint8)))


def replay(config, inside_path=None, outside_path=None, to_inside_path=None,
           to_outside_path=None, jit=True, frame_log=None, sources=None):
    """Run the NAT over the captures; returns the counters as a dict.
    Inputs are read (and rejected) before any output is written.
    frame_log: a list to append one (time, side, before, verdict, reason,
    after) tuple per frame to, for people to read.
    sources: a modified verified source ({module: text}), run under CPython
    (a verifier's counterexample against a mutant)."""
    inside = read_capture(inside_path) if inside_path else None
    outside = read_capture(outside_path) if outside_path else None
    buf, offs, lens, times, sides = merge(inside, outside)
    original = buf.copy() if frame_log is not None else None
    nat = Nat(config, jit=jit and sources is None, sources=sources)
    verdicts, reasons = nat.process_batch(buf, offs, lens, times, sides)
    if frame_log is not None:
        for k in range(len(offs)):
            span = slice(int(offs[k]), int(offs[k] + lens[k]))
            frame_log.append((int(times[k]), int(sides[k]), original[span].tobytes(),
                              int(verdicts[k]), int(reasons[k]), buf[span].tobytes()))
    for path, verdict in ((to_inside_path, C.TO_INSIDE), (to_outside_path, C.TO_OUTSIDE)):
        if path:
            sel = verdicts == verdict
            write_pcap(path, buf, offs[sel], lens[sel], times[sel])
    return counters(verdicts, reasons, sides, nat)


def counters(verdicts, reasons, sides, nat):
    by_verdict = np.bincount(verdicts, minlength=len(C.VERDICT_NAMES))
    by_reason = np.bincount(reasons, minlength=C.NUM_REASONS)
    return {
        "frames": int(len(verdicts)),
        "from_inside": int(np.count_nonzero(sides == 0)),
        "from_outside": int(np.count_nonzero(sides == 1)),
        "verdicts": {name: int(by_verdict[k]) for k, name in enumerate(C.VERDICT_NAMES)},
        "drops": {C.REASON_NAMES[k]: int(by_reason[k]) for k in range(1, C.NUM_REASONS)},
        "active_flows": nat.flow_counts(),
    }
