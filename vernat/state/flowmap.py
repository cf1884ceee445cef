"""Flow map: (key1, key2) -> flow index, open addressing with chain counters.

A slot holds the flow's index and a copy of its key (layout.py). Linear probing from the key's home slot. Each slot counts the stored
keys whose probe path went *past* it, so a lookup stops at the first slot
that neither holds the key nor has a key probing past it, and erase just
decrements the counters on its path: no tombstones, no reshuffling, and an
entry never moves once stored.
"""

from vernat.state.layout import (
    H_MASK, H_SALT, SLOT_FLOW, SLOT_CHAIN, SLOT_KEY1, SLOT_KEY2, F_KEY1, F_KEY2,
    slot_at, flow_at,
)


def mix32(x):
    """A 32-bit integer finalizer (two multiply-xorshift rounds). x < 2**32 and
    the multiplier < 2**27, so no product reaches 2**63: CPython and numba's
    int64 compute the same bits."""
    x = (((x >> 16) ^ x) * 0x45D9F3B) & 0xFFFFFFFF
    x = (((x >> 16) ^ x) * 0x45D9F3B) & 0xFFFFFFFF
    return (x >> 16) ^ x


def key_hash(k1, k2, salt):
    """Hash of the 96-bit key (two 48-bit words) under a 32-bit salt."""
    h = mix32((k2 >> 16) ^ salt)
    h = mix32(h ^ (((k2 & 0xFFFF) << 16) | (k1 >> 32)))
    return mix32(h ^ (k1 & 0xFFFFFFFF))


def map_find(t, k1, k2):
    """Index of the flow stored under (k1, k2), or -1."""
    mask = t[H_MASK]
    s = key_hash(k1, k2, t[H_SALT]) & mask
    for step in range(mask + 1):
        at = slot_at(t, s)
        i = t[at + SLOT_FLOW]
        if i >= 0 and t[at + SLOT_KEY1] == k1 and t[at + SLOT_KEY2] == k2:
            return i
        if t[at + SLOT_CHAIN] == 0:
            return -1
        s = (s + 1) & mask
    return -1


def map_insert(t, i):
    """Store flow i under the key in its record. The key must be absent and
    a slot free (nslots >= 2 x capacity guarantees one)."""
    mask = t[H_MASK]
    r = flow_at(t, i)
    k1 = t[r + F_KEY1]
    k2 = t[r + F_KEY2]
    s = key_hash(k1, k2, t[H_SALT]) & mask
    for step in range(mask + 1):
        at = slot_at(t, s)
        if t[at + SLOT_FLOW] < 0:
            t[at + SLOT_FLOW] = i
            t[at + SLOT_KEY1] = k1
            t[at + SLOT_KEY2] = k2
            return
        t[at + SLOT_CHAIN] = t[at + SLOT_CHAIN] + 1
        s = (s + 1) & mask


def map_erase(t, i):
    """Remove flow i (stored) from the map: walk its probe path from the home
    slot to the slot holding i, taking it off each chain counter passed."""
    mask = t[H_MASK]
    r = flow_at(t, i)
    s = key_hash(t[r + F_KEY1], t[r + F_KEY2], t[H_SALT]) & mask
    for step in range(mask + 1):
        at = slot_at(t, s)
        if t[at + SLOT_FLOW] == i:
            t[at + SLOT_FLOW] = -1
            return
        t[at + SLOT_CHAIN] = t[at + SLOT_CHAIN] - 1
        s = (s + 1) & mask
