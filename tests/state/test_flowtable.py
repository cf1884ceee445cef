"""The state library against a plain reference model, on both builds."""

import numpy as np
import pytest

from vernat import build
from vernat.state.tables import new_table

# the layout's constants and helpers, contracts stripped (the source imports Nagini's)
L = build.load(jit=False)


class Model:
    """The abstract table: index -> (key1, key2, mac, last_seen)."""

    def __init__(self, capacity):
        self.capacity = capacity
        self.flows = {}

    def lookup(self, k1, k2):
        for i, f in self.flows.items():
            if f[:2] == (k1, k2):
                return i
        return -1

    def expire(self, now, timeout):
        dead = [i for i, f in self.flows.items() if now - f[3] >= timeout]
        for i in dead:
            del self.flows[i]
        return len(dead)


def slots(t):
    """Each slot's SLOT_FLOW word, and each stored key's probe length (how
    many slots a lookup of it reads: 1 + the distance from its home slot)."""
    nslots = int(t[L.H_MASK]) + 1
    at = L.HEADER_WORDS + np.arange(nslots) * L.SLOT_WORDS
    flow, home = t[at + L.SLOT_FLOW], t[at + L.SLOT_HOME]
    used = flow >= 0
    probes = (np.arange(nslots)[used] - home[used]) % nslots + 1
    return flow, probes


def lru_order(t):
    order, i = [], int(t[L.H_OLDEST])
    while i >= 0:
        order.append(i)
        i = int(t[L.link_at(t, i) + L.L_NEXT])
    return order


def check_free_words_and_ring(t, capacity):
    """A free index's record is (0, 0, 0, FREE) and its links (-1, -1) (its
    stamp is left as it was: never read while the index is free); the
    ring region (capacity contiguous words) is a permutation of the indices,
    the position region right after it its inverse, and the ring's window of
    capacity - count positions from the head holds exactly the free indices."""
    for i in range(capacity):
        if t[L.flow_at(t, i) + L.F_LAST_SEEN] == L.FREE:
            r, l = L.flow_at(t, i), L.link_at(t, i)
            assert list(t[r:r + L.FLOW_WORDS]) == [0, 0, 0, L.FREE]
            assert [t[l + L.L_PREV], t[l + L.L_NEXT]] == [-1, -1]
    ring_base, pos_base = L.ring_at(t, 0), L.pos_at(t, 0)
    assert pos_base == ring_base + capacity and pos_base + capacity == len(t)
    ring, pos = t[ring_base:pos_base], t[pos_base:pos_base + capacity]
    assert sorted(ring) == list(range(capacity))
    assert all(pos[ring[k]] == k for k in range(capacity))
    head, count = int(t[L.H_RING_HEAD]), int(t[L.H_COUNT])
    window = {int(ring[(head + k) % capacity]) for k in range(capacity - count)}
    assert window == {i for i in range(capacity)
                      if t[L.flow_at(t, i) + L.F_LAST_SEEN] == L.FREE}


@pytest.mark.parametrize("capacity", [1, 7, 64])
def test_random_operations_match_the_model(jit, capacity):
    k = build.load(jit)
    t = new_table(k, capacity, salt=99)
    model = Model(capacity)
    rng = np.random.default_rng(capacity)
    now = 0
    keys = [(int(a), int(b)) for a, b in rng.integers(0, 1 << 48, size=(3 * capacity + 3, 2))]
    keys += [(1, 2), (2, 1)]                      # swapped words are different keys
    for step in range(1500 if jit else 400):
        now += int(rng.integers(0, 4))
        timeout = 20
        assert k.flow_expire(t, now, timeout) == model.expire(now, timeout)
        k1, k2 = keys[int(rng.integers(0, len(keys)))]
        i = k.flow_lookup(t, k1, k2)
        assert i == model.lookup(k1, k2)
        if i >= 0:
            k.flow_refresh(t, i, now)
            model.flows[i] = model.flows[i][:3] + (now,)
        else:
            mac = int(rng.integers(0, 1 << 48))
            j = k.flow_allocate(t, k1, k2, mac, now)
            if len(model.flows) == capacity:
                assert j == -1                    # fails exactly when full
            else:
                assert 0 <= j < capacity and j not in model.flows
                model.flows[j] = (k1, k2, mac, now)
        assert k.flow_count(t) == len(model.flows)
        for i in range(capacity):
            assert bool(k.flow_is_allocated(t, i)) == (i in model.flows)
            if i in model.flows:
                assert (k.flow_key1(t, i), k.flow_key2(t, i), k.flow_mac(t, i),
                        k.flow_last_seen(t, i)) == model.flows[i]
        # the LRU list holds exactly the live flows, oldest first
        order = lru_order(t)
        assert sorted(order) == sorted(model.flows)
        seen = [model.flows[i][3] for i in order]
        assert seen == sorted(seen)
        check_free_words_and_ring(t, capacity)
    assert not k.flow_is_allocated(t, -1) and not k.flow_is_allocated(t, capacity)


def test_churn_leaves_no_tombstones():
    """Flows come and go for a long time; once all are gone, every slot is
    empty (no tombstone left): the map does not degrade."""
    k = build.load(True)
    cap = 1000
    t = new_table(k, cap, salt=7)
    rng = np.random.default_rng(3)
    now = 0
    for round_ in range(30):
        for n in range(cap):
            k1, k2 = (int(x) for x in rng.integers(0, 1 << 48, size=2))
            assert k.flow_allocate(t, k1, k2, 0, now) >= 0
        now += 100
        assert k.flow_expire(t, now, 100) == cap
    flow, _ = slots(t)
    assert (flow == L.SLOT_EMPTY).all()         # no tombstone left behind
    assert k.flow_count(t) == 0


def test_full_table_probe_chains_stay_short():
    """At full capacity (load <= 1/2) the stored keys' probes stay short."""
    k = build.load(True)
    cap = 65535
    t = new_table(k, cap, salt=11)
    for n in range(cap):
        assert k.flow_allocate(t, (10 << 16) + n, 99, 0, 0) >= 0
    assert k.flow_allocate(t, 1, 1, 0, 0) == -1
    _, probes = slots(t)
    assert len(probes) == cap and probes.mean() < 2.0


def test_capacity_limits():
    k = build.load(True)
    with pytest.raises(ValueError):
        new_table(k, 0)
    with pytest.raises(ValueError):
        new_table(k, L.MAX_CAPACITY + 1)
    assert L.slots_for(65535) == 131072 and L.slots_for(1) == 2
