"""Memory layout of one flow table: a single int64 array.

A table is one flat int64 array so that it crosses every boundary unchanged:
numba takes it as a plain array argument, the symbolic executor treats it as
one opaque handle, Nagini sees one array with one permission, and a running
NAT can expose it read-only for `vernat flows`.

    [ header | slots: 4 words x nslots | flows: 4 words x capacity
             | links: 3 words x capacity | ring: capacity words
             | positions: capacity words ]

Slots (open addressing with linear probing, nslots >= 2 x capacity):
    SLOT_FLOW   index of the flow stored in this slot, or SLOT_EMPTY (-1);
                no tombstones (flowmap.py: erase shifts entries back)
    SLOT_HOME   the slot where the stored key's probe starts (from its hash)
    SLOT_KEY1/SLOT_KEY2  a copy of the stored flow's key, so that probing
                past other keys never touches their flow records (one cache
                miss per lookup instead of one per probe)
Flow records (one per index; index i owns external port S + i), 32 bytes:
    F_KEY1      inside address << 16 | inside port
    F_KEY2      remote address << 16 | remote port
    F_MAC       inside host's MAC (48 bits)
    F_LAST_SEEN last time the flow was used (ns, >= 0); -1 while the index is free
Links (kept apart from the records: a refresh relinks two neighbours, and a
compact region keeps those accesses in cache):
    L_PREV/L_NEXT  allocated indices form a list from the oldest (least
                recently used) to the newest
    L_STAMP     where the index joined the list: one more than the newest's
                stamp when it was appended (0 into an empty list), so
                stamps increase along the list. The list's order is then a
                pairwise fact (model.lru_ok_a: no live index's stamp lies
                between two neighbours'), which needs no reachability. A
                free index's stamp is never read.
Ring (touched only when a flow is allocated or freed, so kept out of the
per-packet regions), two regions of capacity words each (RING_WORDS = 2
words per index in all; R_RING and R_POS name the region):
    R_RING      word k of the ring region (ring_at(t, k)): a permutation of
                all indices, contiguous so that the free window is one
                slice of the array (flowtable's abstract value). The free
                indices are the window of capacity - count positions
                starting at H_RING_HEAD (wrapping), in the order they were
                freed; allocating takes the window's first index, freeing
                swaps the index into the position just past its end.
    R_POS       word i of the position region (pos_at(t, i)): where index i
                sits in the ring (the inverse permutation)
    A FIFO queue whose "exactly the free indices, in order" is a pairwise
    fact (a permutation and its inverse), which Nagini can prove.
"""

from typing import List

from nagini_contracts.contracts import (
    Requires, Ensures, Result, Invariant, Previous, Acc, list_pred,
)

H_CAPACITY = 0
H_MASK = 1          # nslots - 1
H_COUNT = 2         # allocated flows
H_OLDEST = 3        # least recently used allocated index, or -1
H_NEWEST = 4        # most recently used allocated index, or -1
H_RING_HEAD = 5     # ring position of the free index freed longest ago
H_SALT = 7          # hash salt (32 bits): inside hosts cannot aim at one probe chain
HEADER_WORDS = 16

SLOT_WORDS = 4
SLOT_FLOW = 0
SLOT_HOME = 1
SLOT_KEY1 = 2
SLOT_KEY2 = 3
SLOT_EMPTY = -1     # SLOT_FLOW of a free slot: a lookup stops there
KEY_LIMIT = 281474976710656     # 2 ** 48: keys are address << 16 | port
SALT_LIMIT = 4294967296         # 2 ** 32: the hash salt and the hash are 32-bit

FLOW_WORDS = 4
F_KEY1 = 0
F_KEY2 = 1
F_MAC = 2
F_LAST_SEEN = 3
FREE = -1           # F_LAST_SEEN of a free index

LINK_WORDS = 3
L_PREV = 0
L_NEXT = 1
L_STAMP = 2
MAX_STAMP = 4611686018427387904  # 2 ** 62: a stamp stops growing there (lru_append)

RING_WORDS = 2      # words per index: one in the ring region, one in the position region
R_RING = 0          # region selectors (ghost.ring_word), not offsets
R_POS = 1

MAX_CAPACITY = 65536
NO_INDEX = -1
MAX_TIME = 4611686018427387904  # 2 ** 62: times (ns) the library is given lie in 0 .. MAX_TIME


def slots_for(capacity: int) -> int:
    """Smallest power of two that is at least twice the capacity (>= 2).
    Proven: 2 x capacity <= result < 4 x capacity (not that it is a power of
    two; the map does not rely on it)."""
    Requires(1 <= capacity and capacity <= MAX_CAPACITY)
    Ensures(2 <= Result() and 2 * capacity <= Result() and Result() < 4 * capacity)
    nslots = 2
    for k in range(capacity):
        Invariant(2 <= nslots and nslots < 4 * capacity)
        Invariant(nslots >= 2 * capacity or nslots >= 2 * len(Previous(k)) + 2)
        if nslots >= 2 * capacity:
            break
        nslots = nslots * 2
    return nslots


def table_words(capacity: int) -> int:
    Requires(1 <= capacity and capacity <= MAX_CAPACITY)
    Ensures(HEADER_WORDS + SLOT_WORDS * 2 * capacity + (FLOW_WORDS + LINK_WORDS + RING_WORDS) * capacity
            <= Result())
    Ensures(Result() < HEADER_WORDS + SLOT_WORDS * 4 * capacity +
            (FLOW_WORDS + LINK_WORDS + RING_WORDS) * capacity)
    return HEADER_WORDS + SLOT_WORDS * slots_for(capacity) + (FLOW_WORDS + LINK_WORDS + RING_WORDS) * capacity


def slot_at(t: List[int], s: int) -> int:
    """Word offset of slot s."""
    Ensures(Result() == HEADER_WORDS + SLOT_WORDS * s)
    return HEADER_WORDS + SLOT_WORDS * s


def flow_at(t: List[int], i: int) -> int:
    """Word offset of flow record i."""
    Requires(Acc(list_pred(t), 1/4) and H_MASK < len(t))
    Ensures(Acc(list_pred(t), 1/4) and H_MASK < len(t))
    Ensures(Result() == HEADER_WORDS + SLOT_WORDS * (t[H_MASK] + 1) + FLOW_WORDS * i)
    return HEADER_WORDS + SLOT_WORDS * (t[H_MASK] + 1) + FLOW_WORDS * i


def link_at(t: List[int], i: int) -> int:
    """Word offset of index i's links."""
    Requires(Acc(list_pred(t), 1/4) and H_MASK < len(t))
    Ensures(Acc(list_pred(t), 1/4) and H_MASK < len(t))
    Ensures(Result() == HEADER_WORDS + SLOT_WORDS * (t[H_MASK] + 1) +
            FLOW_WORDS * t[H_CAPACITY] + LINK_WORDS * i)
    return (HEADER_WORDS + SLOT_WORDS * (t[H_MASK] + 1) + FLOW_WORDS * t[H_CAPACITY]
            + LINK_WORDS * i)


def ring_at(t: List[int], p: int) -> int:
    """Word offset of ring position p (the ring region: capacity words)."""
    Requires(Acc(list_pred(t), 1/4) and H_MASK < len(t))
    Ensures(Acc(list_pred(t), 1/4) and H_MASK < len(t))
    Ensures(Result() == HEADER_WORDS + SLOT_WORDS * (t[H_MASK] + 1) +
            (FLOW_WORDS + LINK_WORDS) * t[H_CAPACITY] + p)
    return (HEADER_WORDS + SLOT_WORDS * (t[H_MASK] + 1) + (FLOW_WORDS + LINK_WORDS) * t[H_CAPACITY]
            + p)


def pos_at(t: List[int], i: int) -> int:
    """Word offset of index i's ring position (the position region, right
    after the ring region: capacity words)."""
    Requires(Acc(list_pred(t), 1/4) and H_MASK < len(t))
    Ensures(Acc(list_pred(t), 1/4) and H_MASK < len(t))
    Ensures(Result() == HEADER_WORDS + SLOT_WORDS * (t[H_MASK] + 1) +
            (FLOW_WORDS + LINK_WORDS + 1) * t[H_CAPACITY] + i)
    return (HEADER_WORDS + SLOT_WORDS * (t[H_MASK] + 1) +
            (FLOW_WORDS + LINK_WORDS + 1) * t[H_CAPACITY] + i)


def cache_hint(t: List[int], at: int) -> None:
    """Hint: t[at] will be needed soon. Does nothing here (and so for CPython
    and the verifier); the numba build fetches the cache line early
    (vernat/jit_hints.py)."""
    return
