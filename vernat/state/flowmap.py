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


def key_hash(k1, k2, salt):
    """Multiplicative hash of the 96-bit key (three 32-bit words) and a 32-bit
    salt: one multiply per word, summed, then bits 20 and up folded down
    (the high bits of a product are the well-mixed ones). Each factor is
    below 2**32 and each constant below 2**27, so the sum stays below 2**61:
    CPython and numba's int64 compute the same bits, and it never overflows."""
    x = ((k1 & 0xFFFFFFFF) * 0x6F4F2A1
         + (((k2 & 0xFFFF) << 16) | (k1 >> 32)) * 0x3C6EF35
         + (k2 >> 16) * 0x5BD1E99
         + salt * 0x27D4EB3)
    return (x >> 20) ^ (x >> 41)


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
