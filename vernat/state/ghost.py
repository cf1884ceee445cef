"""Ghost vocabulary of the state library's proofs (Nagini only).

Nothing here runs: the builds strip every import of this module
(build.GHOST_MODULES), and each definition is a Nagini @Pure function used
in contracts only. It names what a table's words mean, so that contracts
quantify over "flow i's last_seen" instead of raw offsets (which also gives
Z3 clean triggers), and states the modules' invariants.
"""

from typing import List

from nagini_contracts.contracts import (
    Requires, Ensures, Result, Implies, Forall, Forall2, Forall3, Exists, Pure, Acc, list_pred, Decreases,
)
from vernat.state.layout import (
    HEADER_WORDS, H_CAPACITY, H_MASK, H_COUNT, H_OLDEST, H_NEWEST, H_RING_HEAD,
    SLOT_WORDS, FLOW_WORDS, LINK_WORDS, RING_WORDS, F_LAST_SEEN, FREE, L_PREV, L_NEXT,
    R_RING, R_POS,
    MAX_CAPACITY, MAX_TIME,
)
from vernat.state.layout import (
    H_SALT, SLOT_FLOW, SLOT_HOME, SLOT_KEY1, SLOT_KEY2, SLOT_EMPTY, KEY_LIMIT, SALT_LIMIT,
)


@Pure
def geometry(t: List[int]) -> bool:
    """The header describes t: capacity 1..MAX_CAPACITY, at least two slots
    per index, and t exactly as long as the layout says."""
    Requires(Acc(list_pred(t), 1/2))
    Decreases(None)
    return (HEADER_WORDS <= len(t) and 1 <= t[H_CAPACITY] and t[H_CAPACITY] <= MAX_CAPACITY and
            2 * t[H_CAPACITY] <= t[H_MASK] + 1 and t[H_MASK] + 1 <= 4 * MAX_CAPACITY and
            len(t) == HEADER_WORDS + SLOT_WORDS * (t[H_MASK] + 1) +
            (FLOW_WORDS + LINK_WORDS + RING_WORDS) * t[H_CAPACITY])


@Pure
def cap(t: List[int]) -> int:
    Requires(Acc(list_pred(t), 1/2) and geometry(t))
    return t[H_CAPACITY]


@Pure
def flows_base(t: List[int]) -> int:
    Requires(Acc(list_pred(t), 1/2) and geometry(t))
    return HEADER_WORDS + SLOT_WORDS * (t[H_MASK] + 1)


@Pure
def links_base(t: List[int]) -> int:
    Requires(Acc(list_pred(t), 1/2) and geometry(t))
    return HEADER_WORDS + SLOT_WORDS * (t[H_MASK] + 1) + FLOW_WORDS * t[H_CAPACITY]


@Pure
def word(t: List[int], w: int) -> int:
    Requires(Acc(list_pred(t), 1/2) and 0 <= w and w < len(t))
    Decreases(None)
    return t[w]


@Pure
def flow_word(t: List[int], i: int, f: int) -> int:
    """Word f (F_KEY1 .. F_LAST_SEEN) of flow record i."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t))
    Requires(0 <= i and i < t[H_CAPACITY] and 0 <= f and f < FLOW_WORDS)
    return t[HEADER_WORDS + SLOT_WORDS * (t[H_MASK] + 1) + FLOW_WORDS * i + f]


@Pure
def link_word(t: List[int], i: int, f: int) -> int:
    """Word f (L_PREV or L_NEXT) of index i's links."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t))
    Requires(0 <= i and i < t[H_CAPACITY] and 0 <= f and f < LINK_WORDS)
    return t[HEADER_WORDS + SLOT_WORDS * (t[H_MASK] + 1) + FLOW_WORDS * t[H_CAPACITY] +
             LINK_WORDS * i + f]



@Pure
def ring_word(t: List[int], i: int, f: int) -> int:
    """R_RING: word i of the ring region (what ring position i holds);
    R_POS: word i of the position region (where index i sits)."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t))
    Requires(0 <= i and i < t[H_CAPACITY] and 0 <= f and f < RING_WORDS)
    return (t[HEADER_WORDS + SLOT_WORDS * (t[H_MASK] + 1) +
              (FLOW_WORDS + LINK_WORDS) * t[H_CAPACITY] + i] if f == R_RING else
            t[HEADER_WORDS + SLOT_WORDS * (t[H_MASK] + 1) +
              (FLOW_WORDS + LINK_WORDS + 1) * t[H_CAPACITY] + i])


@Pure
def ring_offset(t: List[int], p: int) -> int:
    """How far ring position p lies after the head (wrapping)."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t))
    return p - t[H_RING_HEAD] if p >= t[H_RING_HEAD] else p - t[H_RING_HEAD] + t[H_CAPACITY]


@Pure
def links_ok(t: List[int]) -> bool:
    """The LRU list's ends and every link are in range (-1 .. capacity - 1)."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t))
    return (-1 <= t[H_OLDEST] and t[H_OLDEST] < t[H_CAPACITY] and
            -1 <= t[H_NEWEST] and t[H_NEWEST] < t[H_CAPACITY] and
            Forall(int, lambda i: (Implies(0 <= i and i < t[H_CAPACITY],
                   -1 <= link_word(t, i, L_PREV) and link_word(t, i, L_PREV) < t[H_CAPACITY] and
                   -1 <= link_word(t, i, L_NEXT) and link_word(t, i, L_NEXT) < t[H_CAPACITY]),
                   [[link_word(t, i, L_PREV)], [link_word(t, i, L_NEXT)]])))


@Pure
def ring_ok(t: List[int]) -> bool:
    """R_RING is a permutation of the indices and R_POS its inverse."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t))
    return (Forall(int, lambda k: (Implies(0 <= k and k < t[H_CAPACITY],
                   0 <= ring_word(t, k, R_RING) and ring_word(t, k, R_RING) < t[H_CAPACITY] and
                   ring_word(t, ring_word(t, k, R_RING), R_POS) == k),
                   [[ring_word(t, k, R_RING)]])) and
            Forall(int, lambda i: (Implies(0 <= i and i < t[H_CAPACITY],
                   0 <= ring_word(t, i, R_POS) and ring_word(t, i, R_POS) < t[H_CAPACITY] and
                   ring_word(t, ring_word(t, i, R_POS), R_RING) == i),
                   [[ring_word(t, i, R_POS)]])))


@Pure
def free_ok(t: List[int]) -> bool:
    """count and the ring head in range; the ring window of capacity - count
    positions from the head holds exactly the free indices (last_seen ==
    FREE), and every time is in FREE .. MAX_TIME."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t))
    return (0 <= t[H_COUNT] and t[H_COUNT] <= t[H_CAPACITY] and
            0 <= t[H_RING_HEAD] and t[H_RING_HEAD] < t[H_CAPACITY] and
            Forall(int, lambda i: (Implies(0 <= i and i < t[H_CAPACITY],
                   FREE <= flow_word(t, i, F_LAST_SEEN) and
                   flow_word(t, i, F_LAST_SEEN) <= MAX_TIME and
                   0 <= ring_word(t, i, R_POS) and ring_word(t, i, R_POS) < t[H_CAPACITY] and
                   (flow_word(t, i, F_LAST_SEEN) == FREE) ==
                   (ring_offset(t, ring_word(t, i, R_POS)) < t[H_CAPACITY] - t[H_COUNT])),
                   [[flow_word(t, i, F_LAST_SEEN)], [ring_word(t, i, R_POS)]])))


@Pure
def allocator_ok(t: List[int]) -> bool:
    """The allocator's invariant: the ring is a permutation of the indices
    (R_RING and R_POS inverse to each other) whose window of
    capacity - count positions from the head holds exactly the free indices
    (last_seen == FREE); every link and time in range."""
    Requires(Acc(list_pred(t), 1/2))
    return geometry(t) and free_ok(t) and ring_ok(t) and links_ok(t)


# ---- the flow map (flowmap.py) ----

@Pure
def slot_word(t: List[int], s: int, f: int) -> int:
    """Word f (SLOT_FLOW .. SLOT_KEY2) of slot s."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t))
    Requires(0 <= s and s <= t[H_MASK] and 0 <= f and f < SLOT_WORDS)
    Decreases(None)
    return word(t, HEADER_WORDS + SLOT_WORDS * s + f)


@Pure
def probe_dist(h: int, s: int, n: int) -> int:
    """How many probe steps lead from slot h to slot s among n slots (wrapping)."""
    return s - h if s >= h else s - h + n


@Pure
def hash_of(k1: int, k2: int, salt: int) -> int:
    """flowmap.key_hash, for contracts."""
    Requires(0 <= k1 and k1 < KEY_LIMIT and 0 <= k2 and k2 < KEY_LIMIT)
    Requires(0 <= salt and salt < SALT_LIMIT)
    x = ((k1 % 4294967296) * 0x6F4F2A1
         + ((k2 % 65536) * 65536 + k1 // 4294967296) * 0x3C6EF35
         + (k2 // 65536) * 0x5BD1E99
         + salt * 0x27D4EB3)
    return (x // 1048576 + x // 2199023255552) % 4294967296


@Pure
def home_of(k1: int, k2: int, salt: int, nslots: int) -> int:
    """The slot where the probe for key (k1, k2) starts (flowmap.map_home)."""
    Requires(0 <= k1 and k1 < KEY_LIMIT and 0 <= k2 and k2 < KEY_LIMIT)
    Requires(0 <= salt and salt < SALT_LIMIT)
    return hash_of(k1, k2, salt) % 262144 * nslots // 262144


@Pure
def map_ok(t: List[int]) -> bool:
    """The flow map's invariant. Each slot is empty or holds a flow index below the capacity with a 48-bit key whose home slot it
    records; every slot on the probe path from a stored key's home to its
    slot is non-empty (so a lookup may stop at the first empty slot); no two
    slots hold the same index or the same key."""
    Requires(Acc(list_pred(t), 1/2))
    return (geometry(t) and 0 <= t[H_SALT] and t[H_SALT] < SALT_LIMIT and
            Forall(int, lambda s: (Implies(0 <= s and s <= t[H_MASK],
                   SLOT_EMPTY <= slot_word(t, s, SLOT_FLOW) and
                   slot_word(t, s, SLOT_FLOW) < t[H_CAPACITY] and
                   Implies(slot_word(t, s, SLOT_FLOW) >= 0,
                           0 <= slot_word(t, s, SLOT_HOME) and slot_word(t, s, SLOT_HOME) <= t[H_MASK] and
                           0 <= slot_word(t, s, SLOT_KEY1) and slot_word(t, s, SLOT_KEY1) < KEY_LIMIT and
                           0 <= slot_word(t, s, SLOT_KEY2) and slot_word(t, s, SLOT_KEY2) < KEY_LIMIT and
                           slot_word(t, s, SLOT_HOME) ==
                           home_of(slot_word(t, s, SLOT_KEY1), slot_word(t, s, SLOT_KEY2),
                                   t[H_SALT], t[H_MASK] + 1))),
                   [[slot_word(t, s, SLOT_FLOW)]])) and
            Forall2(int, int, lambda p, q: (Implies(
                   0 <= p and p <= t[H_MASK] and 0 <= q and q <= t[H_MASK] and
                   slot_word(t, p, SLOT_FLOW) >= 0 and
                   probe_dist(slot_word(t, p, SLOT_HOME), q, t[H_MASK] + 1) <
                   probe_dist(slot_word(t, p, SLOT_HOME), p, t[H_MASK] + 1),
                   slot_word(t, q, SLOT_FLOW) != SLOT_EMPTY),
                   [[slot_word(t, p, SLOT_HOME), slot_word(t, q, SLOT_FLOW)]])) and
            Forall2(int, int, lambda p, q: (Implies(
                   0 <= p and p <= t[H_MASK] and 0 <= q and q <= t[H_MASK] and p != q and
                   slot_word(t, p, SLOT_FLOW) >= 0 and slot_word(t, q, SLOT_FLOW) >= 0,
                   slot_word(t, p, SLOT_FLOW) != slot_word(t, q, SLOT_FLOW) and
                   (slot_word(t, p, SLOT_KEY1) != slot_word(t, q, SLOT_KEY1) or
                    slot_word(t, p, SLOT_KEY2) != slot_word(t, q, SLOT_KEY2))),
                   [[slot_word(t, p, SLOT_FLOW), slot_word(t, q, SLOT_FLOW)]])))


@Pure
def hole_ok(t: List[int], j: int) -> bool:
    """map_ok with slot j a hole (flowmap.map_erase's backward shift): slot
    j's words are ignored, and a probe path may cross slot j."""
    Requires(Acc(list_pred(t), 1/2))
    return (geometry(t) and 0 <= t[H_SALT] and t[H_SALT] < SALT_LIMIT and
            0 <= j and j <= t[H_MASK] and
            Forall(int, lambda s: (Implies(0 <= s and s <= t[H_MASK] and s != j,
                   SLOT_EMPTY <= slot_word(t, s, SLOT_FLOW) and
                   slot_word(t, s, SLOT_FLOW) < t[H_CAPACITY] and
                   Implies(slot_word(t, s, SLOT_FLOW) >= 0,
                           0 <= slot_word(t, s, SLOT_HOME) and slot_word(t, s, SLOT_HOME) <= t[H_MASK] and
                           0 <= slot_word(t, s, SLOT_KEY1) and slot_word(t, s, SLOT_KEY1) < KEY_LIMIT and
                           0 <= slot_word(t, s, SLOT_KEY2) and slot_word(t, s, SLOT_KEY2) < KEY_LIMIT and
                           slot_word(t, s, SLOT_HOME) ==
                           home_of(slot_word(t, s, SLOT_KEY1), slot_word(t, s, SLOT_KEY2),
                                   t[H_SALT], t[H_MASK] + 1))),
                   [[slot_word(t, s, SLOT_FLOW)]])) and
            Forall2(int, int, lambda p, q: (Implies(
                   0 <= p and p <= t[H_MASK] and 0 <= q and q <= t[H_MASK] and p != j and q != j and
                   slot_word(t, p, SLOT_FLOW) >= 0 and
                   probe_dist(slot_word(t, p, SLOT_HOME), q, t[H_MASK] + 1) <
                   probe_dist(slot_word(t, p, SLOT_HOME), p, t[H_MASK] + 1),
                   slot_word(t, q, SLOT_FLOW) != SLOT_EMPTY),
                   [[slot_word(t, p, SLOT_HOME), slot_word(t, q, SLOT_FLOW)]])) and
            Forall2(int, int, lambda p, q: (Implies(
                   0 <= p and p <= t[H_MASK] and 0 <= q and q <= t[H_MASK] and p != q and
                   p != j and q != j and
                   slot_word(t, p, SLOT_FLOW) >= 0 and slot_word(t, q, SLOT_FLOW) >= 0,
                   slot_word(t, p, SLOT_FLOW) != slot_word(t, q, SLOT_FLOW) and
                   (slot_word(t, p, SLOT_KEY1) != slot_word(t, q, SLOT_KEY1) or
                    slot_word(t, p, SLOT_KEY2) != slot_word(t, q, SLOT_KEY2))),
                   [[slot_word(t, p, SLOT_FLOW), slot_word(t, q, SLOT_FLOW)]])))



@Pure
def shift_ok(t: List[int], j0: int, j: int, k: int) -> bool:
    """The backward shift's loop invariant (flowmap.map_shift), hole j, scan
    position k, started at slot j0: hole_ok; j and k in that order from j0;
    no stored entry scanned since j (up to k) has a probe path crossing j;
    an empty slot lies beyond k."""
    Requires(Acc(list_pred(t), 1/2))
    return (hole_ok(t, j) and 0 <= j0 and j0 <= t[H_MASK] and 0 <= k and k <= t[H_MASK] and
            probe_dist(j0, j, t[H_MASK] + 1) <= probe_dist(j0, k, t[H_MASK] + 1) and
            Forall(int, lambda p: (Implies(
                0 <= p and p <= t[H_MASK] and p != j and slot_word(t, p, SLOT_FLOW) >= 0 and
                probe_dist(j, p, t[H_MASK] + 1) <= probe_dist(j, k, t[H_MASK] + 1),
                probe_dist(slot_word(t, p, SLOT_HOME), p, t[H_MASK] + 1) <=
                probe_dist(slot_word(t, p, SLOT_HOME), j, t[H_MASK] + 1)),
                [[slot_word(t, p, SLOT_FLOW)]])) and
            Exists(int, lambda w: (0 <= w and w <= t[H_MASK] and slot_word(t, w, SLOT_FLOW) < 0 and
                                   probe_dist(j0, k, t[H_MASK] + 1) < probe_dist(j0, w, t[H_MASK] + 1),
                                   [[slot_word(t, w, SLOT_FLOW)]])))



@Pure
def held(t: List[int], j: int, x: int, k1: int, k2: int) -> bool:
    """Some slot other than j (j = -1: any slot) holds index x under key
    (k1, k2) (under map_ok, its home is then home_of(k1, k2))."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t))
    return Exists(int, lambda q: (0 <= q and q <= t[H_MASK] and q != j and
                                  slot_word(t, q, SLOT_FLOW) == x and
                                  slot_word(t, q, SLOT_KEY1) == k1 and slot_word(t, q, SLOT_KEY2) == k2,
                                  [[slot_word(t, q, SLOT_FLOW)]]))


def lemma_held_same(t: List[int], j: int, k: int) -> None:
    """When slots j and k hold the same words, the slots other than k hold
    what the slots other than j hold (flowmap.shift_move). A lemma method,
    not a pure function: Silicon proves a program's functions one after
    another, before its methods start on the other cores, and this proof
    (20-25 s) held up flowmap's whole part as a function."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t))
    Requires(0 <= j and j <= t[H_MASK] and 0 <= k and k <= t[H_MASK])
    Requires(slot_word(t, j, SLOT_FLOW) == slot_word(t, k, SLOT_FLOW) and
             slot_word(t, j, SLOT_KEY1) == slot_word(t, k, SLOT_KEY1) and
             slot_word(t, j, SLOT_KEY2) == slot_word(t, k, SLOT_KEY2))
    Ensures(Acc(list_pred(t), 1/2) and geometry(t))
    Ensures(Forall3(int, int, int, lambda x, k1, k2: (Implies(x >= 0,
        held(t, k, x, k1, k2) == held(t, j, x, k1, k2)),
        [[held(t, k, x, k1, k2)]])))


# ---- an empty slot always exists (map_insert's and map_erase's precondition) ----
# Pigeonhole, by counting in the proof only (nothing is stored): the slots in
# use hold distinct indices below the capacity, so at most capacity of them
# are in use, and there are at least 2 x capacity slots (geometry).
# Recursive counts need termination measures, hence Decreases(None) on
# geometry, word and slot_word above.

@Pure
def slots_distinct(t: List[int]) -> bool:
    """No two slots in use hold the same index (part of map_ok)."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t))
    Decreases(None)
    return Forall2(int, int, lambda p, q: (Implies(
        0 <= p and p <= t[H_MASK] and 0 <= q and q <= t[H_MASK] and p != q and
        slot_word(t, p, SLOT_FLOW) >= 0,
        slot_word(t, p, SLOT_FLOW) != slot_word(t, q, SLOT_FLOW)),
        [[slot_word(t, p, SLOT_FLOW), slot_word(t, q, SLOT_FLOW)]]))


@Pure
def slots_holding(t: List[int], n: int, x: int) -> int:
    """How many of slots 0 .. n-1 hold index x."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t) and 0 <= n and n <= t[H_MASK] + 1)
    Decreases(n)
    if n == 0:
        return 0
    return slots_holding(t, n - 1, x) + (1 if slot_word(t, n - 1, SLOT_FLOW) == x else 0)


@Pure
def slots_below(t: List[int], n: int, m: int) -> int:
    """How many of slots 0 .. n-1 hold an index in 0 .. m-1."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t) and 0 <= n and n <= t[H_MASK] + 1)
    Decreases(n)
    if n == 0:
        return 0
    return slots_below(t, n - 1, m) + (
        1 if 0 <= slot_word(t, n - 1, SLOT_FLOW) and slot_word(t, n - 1, SLOT_FLOW) < m else 0)


@Pure
def holding_le1(t: List[int], n: int, x: int) -> bool:
    """Lemma: with distinct indices, at most one of slots 0 .. n-1 holds x."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t) and 0 <= n and n <= t[H_MASK] + 1)
    Requires(0 <= x and slots_distinct(t))
    Decreases(n)
    Ensures(Result())
    Ensures(0 <= slots_holding(t, n, x) and slots_holding(t, n, x) <= 1)
    Ensures(Implies(slots_holding(t, n, x) == 1, Exists(int, lambda s: (
        0 <= s and s < n and slot_word(t, s, SLOT_FLOW) == x, [[slot_word(t, s, SLOT_FLOW)]]))))
    return n == 0 or holding_le1(t, n - 1, x)


@Pure
def below_split(t: List[int], n: int, m: int) -> bool:
    """Lemma: no slot holds an index in 0 .. m-1 when m <= 0; otherwise the
    slots below n holding one of 0 .. m-1 are those holding one of 0 .. m-2
    and those holding m-1."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t) and 0 <= n and n <= t[H_MASK] + 1)
    Decreases(n)
    Ensures(Result())
    Ensures(Implies(m <= 0, slots_below(t, n, m) == 0))
    Ensures(Implies(m >= 1, slots_below(t, n, m) == slots_below(t, n, m - 1) + slots_holding(t, n, m - 1)))
    return n == 0 or below_split(t, n - 1, m)


@Pure
def below_le(t: List[int], n: int, m: int) -> bool:
    """Lemma (pigeonhole): with distinct indices, at most m of slots 0 .. n-1 hold one of 0 .. m-1."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t) and 0 <= n and n <= t[H_MASK] + 1 and 0 <= m)
    Requires(slots_distinct(t))
    Decreases(m)
    Ensures(Result())
    Ensures(slots_below(t, n, m) <= m)
    if m == 0:
        return below_split(t, n, m)
    return below_split(t, n, m) and holding_le1(t, n, m - 1) and below_le(t, n, m - 1)


@Pure
def empty_below(t: List[int], n: int, m: int) -> bool:
    """Lemma: when fewer than n of slots 0 .. n-1 hold one of 0 .. m-1, one holds none of them."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t) and 0 <= n and n <= t[H_MASK] + 1)
    Requires(slots_below(t, n, m) < n)
    Decreases(n)
    Ensures(Result())
    Ensures(Exists(int, lambda s: (0 <= s and s < n and
                                   (slot_word(t, s, SLOT_FLOW) < 0 or slot_word(t, s, SLOT_FLOW) >= m),
                                   [[slot_word(t, s, SLOT_FLOW)]])))
    if slot_word(t, n - 1, SLOT_FLOW) < 0 or slot_word(t, n - 1, SLOT_FLOW) >= m:
        return True
    return empty_below(t, n - 1, m)


@Pure
def slot_free(t: List[int]) -> bool:
    """Lemma: under map_ok some slot is empty (used slots hold distinct
    indices below the capacity, and there are at least twice as many slots)."""
    Requires(Acc(list_pred(t), 1/2) and map_ok(t))
    Ensures(Result())
    Ensures(Exists(int, lambda w: (0 <= w and w <= t[H_MASK] and slot_word(t, w, SLOT_FLOW) < 0,
                                   [[slot_word(t, w, SLOT_FLOW)]])))
    return below_le(t, t[H_MASK] + 1, t[H_CAPACITY]) and empty_below(t, t[H_MASK] + 1, t[H_CAPACITY])

