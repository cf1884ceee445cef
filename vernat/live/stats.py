"""The running NAT's counters, in memory another process can read (the embedded
demo's live table): one int64 array, a small header then the data plane's counters
(vernat/io/xdp/rings.py).  The data plane updates the counters in place, so sharing
them costs nothing per packet."""

import os

import numpy as np

from vernat.io.xdp import rings as R

STATE, TCP_FLOWS, UDP_FLOWS, MODE_INSIDE, MODE_OUTSIDE = range(5)
HEADER = 8
SIZE = HEADER + R.NUM_COUNTERS
STARTING, RUNNING, STOPPED = 0, 1, 2
MODES = {"native": 1, "generic": 2, "packet": 3}
MODE_NAMES = {v: k for k, v in MODES.items()}


def create(path=None):
    """A fresh stats array, backed by the file at path if given."""
    if path is None:
        return np.zeros(SIZE, dtype=np.int64)
    return np.memmap(path, dtype=np.int64, mode="w+", shape=(SIZE,))


def open_readonly(path):
    return np.memmap(path, dtype=np.int64, mode="r", shape=(SIZE,))


def wait_running(proc, path, timeout):
    """The stats (read-only) of the NAT process `proc` writing to `path`, once its data
    plane runs; None if the process exits first; TimeoutError after `timeout` s."""
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None
        if os.path.exists(path) and os.path.getsize(path) == SIZE * 8:
            stats = open_readonly(path)
            if stats[STATE] == RUNNING:
                return stats
        time.sleep(0.1)
    raise TimeoutError


def counters(stats):
    """The data plane's part, as a plain ndarray view (what numba is given)."""
    return np.asarray(stats)[HEADER:]


def summary(stats):
    """{name: value} for people and JSON."""
    c = np.asarray(stats)[HEADER:]
    from vernat.nat.constants import REASON_NAMES
    out = {
        "received_inside": int(c[R.RX_FRAMES]), "received_outside": int(c[R.RX_FRAMES + 1]),
        "sent_inside": int(c[R.TX_FRAMES]), "sent_outside": int(c[R.TX_FRAMES + 1]),
        "tx_ring_full": int(c[R.TX_RING_FULL] + c[R.TX_RING_FULL + 1]),
        "batches": int(c[R.BATCHES]),
        "tcp_flows": int(stats[TCP_FLOWS]), "udp_flows": int(stats[UDP_FLOWS]),
    }
    out["dropped"] = {REASON_NAMES[r]: int(c[R.REASONS + r])
                      for r in range(1, len(REASON_NAMES)) if c[R.REASONS + r]}
    return out
