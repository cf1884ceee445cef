"""Differential test: the numba build and the CPython run of the same source
give identical verdicts, reasons, output bytes and state, on random and
mutated frames (>= 100,000 of them)."""

import numpy as np

from vernat.nat.engine import Nat
from tests.helpers import config, in_tcp, in_udp, out_tcp, out_udp

FRAMES = 100_000
CHUNK = 2_000


def seed_frames():
    return [out_udp(sport=p) for p in (1, 2, 3)] + [out_tcp(sport=9, payload=b"x" * 9)] + \
           [in_udp(dport=40000), in_udp(dport=40001), in_tcp(dport=40000), in_udp(src="1.2.3.4")]


def mutated_batch(rng, seeds, n):
    """n frames: seeds with 1-4 random bytes changed and random truncation or
    padding, and some pure noise; random sides and slowly rising times."""
    frames, sides = [], []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.1:
            frame = rng.integers(0, 256, size=int(rng.integers(0, 80)), dtype=np.uint8).tobytes()
        else:
            frame = bytearray(seeds[int(rng.integers(0, len(seeds)))])
            if kind < 0.8:
                for _ in range(int(rng.integers(1, 5))):
                    # mostly in the headers, where the decisions are
                    at = int(rng.integers(0, min(len(frame), 60)))
                    frame[at] = int(rng.integers(0, 256))
            if rng.random() < 0.1:
                frame = frame[:int(rng.integers(0, len(frame) + 1))]
            elif rng.random() < 0.1:
                frame += bytes(int(rng.integers(1, 20)))
            frame = bytes(frame)
        frames.append(frame)
        sides.append(int(rng.random() < 0.4))
    return frames, sides


def test_numba_equals_cpython_on_random_and_mutated_frames():
    from vernat.nat.engine import frames_to_batch
    cfg = config(port_range="40000-40031", udp_timeout="0.001", tcp_timeout="0.002")
    fast, slow = Nat(cfg, jit=True, salt=5), Nat(cfg, jit=False, salt=5)
    rng = np.random.default_rng(2026)
    seeds = seed_frames()
    now = 0
    checked = 0
    forwarded = 0
    inbound = 0
    while checked < FRAMES:
        frames, sides = mutated_batch(rng, seeds, CHUNK)
        times = now + np.cumsum(rng.integers(0, 20_000, size=CHUNK))
        times[rng.random(CHUNK) < 0.01] -= 50_000          # time going backwards now and then
        now = int(times[-1])
        a = frames_to_batch(frames, times, sides)
        b = tuple(np.copy(x) for x in a)
        va, ra = fast.process_batch(*a)
        vb, rb = slow.process_batch(*b)
        assert np.array_equal(ra, rb) and np.array_equal(va, vb)
        assert np.array_equal(a[0], b[0]), "output bytes differ"
        assert np.array_equal(fast.udp, slow.udp) and np.array_equal(fast.tcp, slow.tcp)
        assert np.array_equal(fast.clock, slow.clock)
        checked += CHUNK
        forwarded += int(np.count_nonzero(va))
        inbound += int(np.count_nonzero(va == 1))
        # translated frames become new seeds now and then: replies to real flows
        if rng.random() < 0.5:
            seeds.append(out_udp(sport=int(rng.integers(1, 60000))))
            seeds.append(in_udp(dport=int(rng.integers(40000, 40032)), sport=53))
    assert checked >= 100_000
    assert forwarded > 0.05 * checked        # the frames exercised the translation paths
    assert inbound > 0.01 * checked
