"""A NAT instance: configuration, state arrays and the compiled entry point.

Replay, the live data plane and the benchmarks all drive the NAT through
Nat.process_batch, which is one call into the verified process_batch.
"""

import numpy as np

from vernat import build
from vernat.state.tables import new_table


class Nat:
    def __init__(self, config, jit=True, salt=None, sources=None):
        """sources: a mutant of the verified source (vernat verify's tests)."""
        self.config = config
        self.kernel = build.load(jit, sources=sources)
        self.cfg = config.to_array()
        self.clock = np.zeros(1, dtype=np.int64)
        self.tcp = new_table(self.kernel, config.capacity, salt)
        self.udp = new_table(self.kernel, config.capacity, salt)
        # what the live data plane calls once per batch: the verified entry point
        # (`vernat bench` puts a stand-in here: vernat/bench/variants.py)
        self.batch = self.kernel.process_batch

    def process_batch(self, buf, offs, lens, times, from_outside, verdicts=None, reasons=None):
        """Process frames in place; returns (verdicts, reasons) arrays (uint8)."""
        count = len(offs)
        if verdicts is None:
            verdicts = np.zeros(count, dtype=np.uint8)
        if reasons is None:
            reasons = np.zeros(count, dtype=np.uint8)
        self.kernel.process_batch(buf, offs, lens, times, from_outside, count, self.cfg,
                                  self.clock, self.tcp, self.udp, verdicts, reasons)
        return verdicts, reasons

    def flows(self):
        """{table: {index: (key1, key2, mac, last_seen)}} of the live flows
        (a snapshot for tests and the verifier's counterexamples; O(capacity))."""
        k = self.kernel
        out = {}
        for name, t in (("tcp", self.tcp), ("udp", self.udp)):
            out[name] = {i: (int(k.flow_key1(t, i)), int(k.flow_key2(t, i)),
                             int(k.flow_mac(t, i)), int(k.flow_last_seen(t, i)))
                         for i in range(self.config.capacity) if k.flow_is_allocated(t, i)}
        return out

    def flow_counts(self):
        return {"tcp": int(self.kernel.flow_count(self.tcp)),
                "udp": int(self.kernel.flow_count(self.udp))}


def frames_to_batch(frames, times=None, from_outside=None):
    """Pack a list of bytes-like frames into (buf, offs, lens, times, sides)."""
    lens = np.array([len(f) for f in frames], dtype=np.int64)
    offs = np.zeros(len(frames), dtype=np.int64)
    if len(frames):
        offs[1:] = np.cumsum(lens)[:-1]
    buf = np.frombuffer(b"".join(bytes(f) for f in frames), dtype=np.uint8).copy()
    t = np.zeros(len(frames), dtype=np.int64) if times is None else np.asarray(times, dtype=np.int64)
    s = np.zeros(len(frames), dtype=np.uint8) if from_outside is None else np.asarray(from_outside, dtype=np.uint8)
    return buf, offs, lens, t, s


