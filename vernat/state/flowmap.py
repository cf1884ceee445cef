"""Flow map: (key1, key2) -> flow index, open addressing with linear probing.

A slot holds the flow's index, its key's home slot and a copy of its key
(layout.py), so that probing past other keys never touches their flow
records. A key is stored in the first empty slot on the probe path from its home
slot; every slot on that path stays in use while the key is stored (the
invariant ghost.map_ok), so a lookup stops at the first empty slot. Erasing
leaves no tombstone: the entries after the hole that probed past it are
shifted back into it (backward-shift deletion, Knuth's Algorithm R), so
probe lengths do not grow as flows come and go (measured: 60,000 flows in
131,072 slots, 40 rounds of expiring and adding a quarter of them: ~1.42
slots read per hit, ~2.2 per miss, as on a fresh table).

The hash is arithmetic (multiply, and `//` / `%` by powers of two, which
compile to shifts and masks), its scaling to the slot count a multiply and a
shift (no division), and the wrap a comparison, so that Nagini can
reason about both; each intermediate value stays below 2**63.

Proven with Nagini (`vernat prove --module vernat.state.flowmap`, every
function of the module in one run: 735 s on a loaded 2-core VM):
key_hash, map_home, map_find, map_free_slot, map_slot_of, slot_put, slot_fill,
map_insert, map_erase (with its helpers slot_clear, hole_move, shift_move,
map_shift, map_close and the lemmas shift_start, shift_keep, shift_done,
held_drop), map_prefetch: memory safety, int64 ranges, termination, and
map_find's functional correctness (the index stored under the key, or -1
exactly when no slot holds the key) under the invariant; map_insert and
slot_fill: insert stores i under its record's key in an empty slot, changes
no other slot or word, and keeps the invariant; map_erase: keeps the
invariant, i is stored nowhere after it, and every other index is stored
under a key exactly when it was before (ghost.held), no word outside the
slots changes. map_insert and map_erase need an empty slot to exist; under
map_ok one always does (ghost.slot_free, a pigeonhole lemma: the slots in
use hold distinct indices below the capacity, and there are at least twice
as many slots), so a caller holding map_ok asserts slot_free(t) first.
Every store of the map is slot_put (one word of the slots), whose contract
says that the abstract table (model.abstract) does not change; so
map_insert and map_erase also ensure abstract(t) == Old(abstract(t)).
map_erase(t, i) also ensures model.coupled_but(t, i) when coupled(t) held
before: the records' side of the table's invariant, but for i (index_free
then frees i, and model.coupled_back gives coupled again).
See docs/progress-prove.md.
"""

from typing import List

from nagini_contracts.contracts import (
    Requires, Ensures, Result, Old, Implies, Forall, Forall2, Forall3, Exists, Invariant, Previous, Assert,
    Acc, list_pred, Pure, ToSeq, Reveal,
)
from vernat.state.model import abstract, abstract_sealed, lemma_slot_stored, coupled, coupled_but
from vernat.state.ghost import (
    geometry, cap, flows_base, word, flow_word, link_word, ring_word, slot_word, probe_dist, hash_of, home_of, map_ok,
    hole_ok, shift_ok, held, lemma_held_same,
)
from vernat.state.layout import (
    HEADER_WORDS, SLOT_WORDS, H_CAPACITY, H_MASK, H_SALT, SLOT_FLOW, SLOT_HOME, SLOT_KEY1, SLOT_KEY2,
    SLOT_EMPTY, KEY_LIMIT, SALT_LIMIT, F_KEY1, F_KEY2, FLOW_WORDS, LINK_WORDS,
    slot_at, flow_at, cache_hint,
)


def key_hash(k1: int, k2: int, salt: int) -> int:
    """Multiplicative hash of the 96-bit key (three 32-bit words) and a 32-bit
    salt: one multiply per word, summed (each factor below 2**32, each
    constant below 2**27, so the sum stays below 2**61), then bits 20.. and
    41.. of the sum added (the high bits of a product are the well-mixed
    ones) and the low 32 bits kept. No value reaches 2**63, so CPython and
    numba's int64 compute the same bits."""
    Requires(0 <= k1 and k1 < KEY_LIMIT and 0 <= k2 and k2 < KEY_LIMIT)
    Requires(0 <= salt and salt < SALT_LIMIT)
    Ensures(Result() == hash_of(k1, k2, salt) and 0 <= Result() and Result() < SALT_LIMIT)
    x = ((k1 % 4294967296) * 0x6F4F2A1
         + ((k2 % 65536) * 65536 + k1 // 4294967296) * 0x3C6EF35
         + (k2 // 65536) * 0x5BD1E99
         + salt * 0x27D4EB3)
    Assert(0 <= x and x < 2305843009213693952)
    return (x // 1048576 + x // 2199023255552) % 4294967296


def map_home(t: List[int], k1: int, k2: int) -> int:
    """The slot where the probe for (k1, k2) starts: the hash's low 18 bits
    scaled to the number of slots (at most 2**18; for 2**17 slots, bits 1..17).
    Slot 0 for a key outside 48 bits, which no slot holds."""
    Requires(Acc(list_pred(t), 1/4) and H_SALT < len(t))
    Requires(0 <= t[H_MASK] and t[H_MASK] < 262144 and 0 <= t[H_SALT] and t[H_SALT] < SALT_LIMIT)
    Ensures(Acc(list_pred(t), 1/4) and H_SALT < len(t))
    Ensures(0 <= t[H_SALT] and t[H_SALT] < SALT_LIMIT and 0 <= Result() and Result() <= t[H_MASK])
    Ensures(Implies(0 <= k1 and k1 < KEY_LIMIT and 0 <= k2 and k2 < KEY_LIMIT,
                    Result() == home_of(k1, k2, t[H_SALT], t[H_MASK] + 1)))
    if k1 < 0 or k1 >= KEY_LIMIT or k2 < 0 or k2 >= KEY_LIMIT:
        return 0
    h = key_hash(k1, k2, t[H_SALT]) % 262144
    n = t[H_MASK] + 1
    Assert(0 <= h * n and 0 <= (262143 - h) * n)
    return h * n // 262144


def map_find(t: List[int], k1: int, k2: int) -> int:
    """Index of the flow stored under (k1, k2), or -1."""
    Requires(Acc(list_pred(t), 1/2) and map_ok(t))
    Ensures(Acc(list_pred(t), 1/2) and map_ok(t))
    Ensures(-1 <= Result() and Result() < cap(t))
    Ensures(Implies(Result() >= 0, Exists(int, lambda s: (
        0 <= s and s <= t[H_MASK] and slot_word(t, s, SLOT_FLOW) == Result() and
        slot_word(t, s, SLOT_KEY1) == k1 and slot_word(t, s, SLOT_KEY2) == k2,
        [[slot_word(t, s, SLOT_FLOW)]]))))
    Ensures(Implies(Result() == -1, Forall(int, lambda s: (Implies(
        0 <= s and s <= t[H_MASK] and slot_word(t, s, SLOT_FLOW) >= 0,
        slot_word(t, s, SLOT_KEY1) != k1 or slot_word(t, s, SLOT_KEY2) != k2),
        [[slot_word(t, s, SLOT_FLOW)]]))))
    if k1 < 0 or k1 >= KEY_LIMIT or k2 < 0 or k2 >= KEY_LIMIT:
        return -1       # no slot holds a key outside 48 bits
    mask = t[H_MASK]
    h = map_home(t, k1, k2)
    s = h
    for step in range(mask + 1):
        Invariant(Acc(list_pred(t), 1/2) and map_ok(t) and t[H_MASK] == mask)
        Invariant(0 <= h and h <= mask and 0 <= s and s <= mask)
        Invariant(0 <= k1 and k1 < KEY_LIMIT and 0 <= k2 and k2 < KEY_LIMIT)
        Invariant(h == home_of(k1, k2, t[H_SALT], mask + 1))
        Invariant(Implies(len(Previous(step)) <= mask,
                          probe_dist(h, s, mask + 1) == len(Previous(step))))
        Invariant(Forall(int, lambda q: (Implies(
            0 <= q and q <= mask and probe_dist(h, q, mask + 1) < len(Previous(step)),
            slot_word(t, q, SLOT_FLOW) != SLOT_EMPTY and
            (slot_word(t, q, SLOT_FLOW) < 0 or slot_word(t, q, SLOT_KEY1) != k1 or
             slot_word(t, q, SLOT_KEY2) != k2)),
            [[slot_word(t, q, SLOT_FLOW)]])))
        Assert(len(Previous(step)) <= mask)
        at = slot_at(t, s)
        i = t[at + SLOT_FLOW]
        Assert(i == slot_word(t, s, SLOT_FLOW) and i < t[H_CAPACITY])
        if i >= 0 and t[at + SLOT_KEY1] == k1 and t[at + SLOT_KEY2] == k2:
            return i
        if i == SLOT_EMPTY:
            # a stored (k1, k2) would have its home at h and lie beyond s,
            # so map_ok would have s in use
            Assert(Forall(int, lambda p: (Implies(
                0 <= p and p <= mask and slot_word(t, p, SLOT_FLOW) >= 0,
                0 <= slot_word(t, p, SLOT_KEY1) and slot_word(t, p, SLOT_KEY1) < KEY_LIMIT and
                0 <= slot_word(t, p, SLOT_KEY2) and slot_word(t, p, SLOT_KEY2) < KEY_LIMIT and
                slot_word(t, p, SLOT_HOME) == home_of(slot_word(t, p, SLOT_KEY1), slot_word(t, p, SLOT_KEY2),
                                                      t[H_SALT], mask + 1)), [[slot_word(t, p, SLOT_FLOW)]])))
            Assert(h == home_of(k1, k2, t[H_SALT], mask + 1))
            Assert(Forall(int, lambda p: (Implies(
                0 <= p and p <= mask and slot_word(t, p, SLOT_FLOW) >= 0 and
                slot_word(t, p, SLOT_KEY1) == k1 and slot_word(t, p, SLOT_KEY2) == k2,
                home_of(slot_word(t, p, SLOT_KEY1), slot_word(t, p, SLOT_KEY2), t[H_SALT], mask + 1) ==
                home_of(k1, k2, t[H_SALT], mask + 1)), [[slot_word(t, p, SLOT_FLOW)]])))
            Assert(Forall(int, lambda p: (Implies(
                0 <= p and p <= mask and slot_word(t, p, SLOT_FLOW) >= 0 and
                slot_word(t, p, SLOT_KEY1) == k1 and slot_word(t, p, SLOT_KEY2) == k2,
                slot_word(t, p, SLOT_HOME) == h), [[slot_word(t, p, SLOT_FLOW)]])))
            Assert(Forall(int, lambda p: (Implies(
                0 <= p and p <= mask and slot_word(t, p, SLOT_FLOW) >= 0 and
                slot_word(t, p, SLOT_KEY1) == k1 and slot_word(t, p, SLOT_KEY2) == k2,
                probe_dist(h, s, mask + 1) < probe_dist(h, p, mask + 1)),
                [[slot_word(t, p, SLOT_FLOW)]])))
            return -1
        s = s + 1 if s < mask else 0
    return -1


def map_free_slot(t: List[int], h: int) -> int:
    """The first empty slot on the probe path from slot h; one must exist."""
    Requires(Acc(list_pred(t), 1/2) and map_ok(t) and 0 <= h and h <= t[H_MASK])
    Requires(Exists(int, lambda w: (0 <= w and w <= t[H_MASK] and slot_word(t, w, SLOT_FLOW) < 0,
                                    [[slot_word(t, w, SLOT_FLOW)]])))
    Ensures(Acc(list_pred(t), 1/2) and map_ok(t))
    Ensures(0 <= Result() and Result() <= t[H_MASK] and slot_word(t, Result(), SLOT_FLOW) < 0)
    Ensures(Forall(int, lambda q: (Implies(
        0 <= q and q <= t[H_MASK] and
        probe_dist(h, q, t[H_MASK] + 1) < probe_dist(h, Result(), t[H_MASK] + 1),
        slot_word(t, q, SLOT_FLOW) >= 0), [[slot_word(t, q, SLOT_FLOW)]])))
    mask = t[H_MASK]
    s = h
    for step in range(mask + 1):
        Invariant(Acc(list_pred(t), 1/2) and map_ok(t) and t[H_MASK] == mask)
        Invariant(0 <= h and h <= mask and 0 <= s and s <= mask)
        Invariant(Exists(int, lambda w: (0 <= w and w <= mask and slot_word(t, w, SLOT_FLOW) < 0,
                                         [[slot_word(t, w, SLOT_FLOW)]])))
        Invariant(Implies(len(Previous(step)) <= mask,
                          probe_dist(h, s, mask + 1) == len(Previous(step))))
        Invariant(Forall(int, lambda q: (Implies(
            0 <= q and q <= mask and probe_dist(h, q, mask + 1) < len(Previous(step)),
            slot_word(t, q, SLOT_FLOW) >= 0), [[slot_word(t, q, SLOT_FLOW)]])))
        if t[slot_at(t, s) + SLOT_FLOW] < 0:
            return s
        s = s + 1 if s < mask else 0
    return h


def slot_put(t: List[int], w: int, v: int) -> None:
    """t[w] = v for a word w of the map's slots: the map's one store. Its
    contract is one sequence update, and (lemma_slot_stored) that the
    abstract table does not change (as model.abstract_sealed, opaque: the
    functions between slot_put and map_insert / map_erase carry that
    equality without unfolding it); callers derive their word frames from
    the update (lean: a store among many quantified frames made Z3 slow)."""
    Requires(Acc(list_pred(t)) and geometry(t) and HEADER_WORDS <= w and w < flows_base(t))
    Ensures(Acc(list_pred(t)))
    Ensures(ToSeq(t) == Old(ToSeq(t)).update(w, v))
    Ensures(abstract_sealed(t) == Old(abstract_sealed(t)))
    Assert(Reveal(abstract_sealed(t)) == abstract(t))
    lemma_slot_stored(ToSeq(t), w, v)
    t[w] = v
    Assert(Reveal(abstract_sealed(t)) == abstract(t))


def slot_fill(t: List[int], s: int, i: int, h: int, k1: int, k2: int) -> None:
    """Write entry (i, h, k1, k2) into slot s; no other word changes."""
    Requires(Acc(list_pred(t)) and geometry(t) and 0 <= s and s <= t[H_MASK])
    Ensures(Acc(list_pred(t)))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(slot_word(t, s, SLOT_FLOW) == i and slot_word(t, s, SLOT_HOME) == h and
            slot_word(t, s, SLOT_KEY1) == k1 and slot_word(t, s, SLOT_KEY2) == k2)
    Ensures(Forall(int, lambda w: (Implies(0 <= w and w < len(t) and
        (w < HEADER_WORDS + SLOT_WORDS * s or HEADER_WORDS + SLOT_WORDS * s + SLOT_WORDS <= w),
        word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(abstract_sealed(t) == Old(abstract_sealed(t)))
    at = slot_at(t, s)
    slot_put(t, at + SLOT_FLOW, i)
    slot_put(t, at + SLOT_HOME, h)
    slot_put(t, at + SLOT_KEY1, k1)
    slot_put(t, at + SLOT_KEY2, k2)


def map_insert(t: List[int], i: int) -> int:
    """Store flow i under the key in its record; returns the slot used. The
    key (48-bit words) must be absent, i stored nowhere, and a slot empty
    (nslots >= 2 x capacity > count guarantees one)."""
    Requires(Acc(list_pred(t)) and map_ok(t) and 0 <= i and i < cap(t))
    Requires(0 <= flow_word(t, i, F_KEY1) and flow_word(t, i, F_KEY1) < KEY_LIMIT)
    Requires(0 <= flow_word(t, i, F_KEY2) and flow_word(t, i, F_KEY2) < KEY_LIMIT)
    Requires(Forall(int, lambda s: (Implies(0 <= s and s <= t[H_MASK] and slot_word(t, s, SLOT_FLOW) >= 0,
        slot_word(t, s, SLOT_FLOW) != i and
        (slot_word(t, s, SLOT_KEY1) != flow_word(t, i, F_KEY1) or
         slot_word(t, s, SLOT_KEY2) != flow_word(t, i, F_KEY2))),
        [[slot_word(t, s, SLOT_FLOW)]])))
    Requires(Exists(int, lambda w: (0 <= w and w <= t[H_MASK] and slot_word(t, w, SLOT_FLOW) < 0,
                                    [[slot_word(t, w, SLOT_FLOW)]])))
    Ensures(Acc(list_pred(t)))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(abstract(t) == Old(abstract(t)))
    Ensures(Forall(int, lambda w: (Implies((0 <= w and w < HEADER_WORDS) or
                                           (flows_base(t) <= w and w < len(t)),
                                           word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(0 <= Result() and Result() <= t[H_MASK] and Old(slot_word(t, Result(), SLOT_FLOW)) < 0)
    Ensures(slot_word(t, Result(), SLOT_FLOW) == i and
            slot_word(t, Result(), SLOT_KEY1) == Old(flow_word(t, i, F_KEY1)) and
            slot_word(t, Result(), SLOT_KEY2) == Old(flow_word(t, i, F_KEY2)))
    Ensures(Forall(int, lambda s: (Implies(0 <= s and s <= t[H_MASK] and s != Result(),
        slot_word(t, s, SLOT_FLOW) == Old(slot_word(t, s, SLOT_FLOW)) and
        slot_word(t, s, SLOT_HOME) == Old(slot_word(t, s, SLOT_HOME)) and
        slot_word(t, s, SLOT_KEY1) == Old(slot_word(t, s, SLOT_KEY1)) and
        slot_word(t, s, SLOT_KEY2) == Old(slot_word(t, s, SLOT_KEY2))),
        [[slot_word(t, s, SLOT_FLOW)]])))
    Ensures(map_ok(t))   # proven from the frames above (the Asserts below)
    # the frame restated on the words the allocator's invariant names (as
    # map_erase), so that a caller keeps allocator_ok without index
    # arithmetic of its own
    Ensures(Forall2(int, int, lambda x, f: (Implies(
        0 <= x and x < t[H_CAPACITY] and 0 <= f and f < FLOW_WORDS,
        flow_word(t, x, f) == Old(flow_word(t, x, f))), [[flow_word(t, x, f)]])))
    Ensures(Forall2(int, int, lambda x, f: (Implies(
        0 <= x and x < t[H_CAPACITY] and 0 <= f and f < LINK_WORDS,
        link_word(t, x, f) == Old(link_word(t, x, f))), [[link_word(t, x, f)]])))
    Ensures(Forall(int, lambda x: (Implies(0 <= x and x < t[H_CAPACITY],
        ring_word(t, x, 0) == Old(ring_word(t, x, 0)) and ring_word(t, x, 1) == Old(ring_word(t, x, 1))),
        [[ring_word(t, x, 0)], [ring_word(t, x, 1)]])))
    Assert(Reveal(abstract_sealed(t)) == abstract(t))
    r = flow_at(t, i)
    k1 = t[r + F_KEY1]
    k2 = t[r + F_KEY2]
    h = map_home(t, k1, k2)
    s = map_free_slot(t, h)
    slot_fill(t, s, i, h, k1, k2)
    Assert(Reveal(abstract_sealed(t)) == abstract(t))
    Assert(Forall(int, lambda p: (Implies(0 <= p and p <= t[H_MASK] and p != s,
        slot_word(t, p, SLOT_FLOW) == Old(slot_word(t, p, SLOT_FLOW)) and
        slot_word(t, p, SLOT_HOME) == Old(slot_word(t, p, SLOT_HOME)) and
        slot_word(t, p, SLOT_KEY1) == Old(slot_word(t, p, SLOT_KEY1)) and
        slot_word(t, p, SLOT_KEY2) == Old(slot_word(t, p, SLOT_KEY2))),
        [[slot_word(t, p, SLOT_FLOW)], [slot_word(t, p, SLOT_HOME)]])))
    Assert(Forall(int, lambda q: (Implies(0 <= q and q <= t[H_MASK],
           SLOT_EMPTY <= slot_word(t, q, SLOT_FLOW) and
           slot_word(t, q, SLOT_FLOW) < t[H_CAPACITY] and
           Implies(slot_word(t, q, SLOT_FLOW) >= 0,
                   0 <= slot_word(t, q, SLOT_HOME) and slot_word(t, q, SLOT_HOME) <= t[H_MASK] and
                   0 <= slot_word(t, q, SLOT_KEY1) and slot_word(t, q, SLOT_KEY1) < KEY_LIMIT and
                   0 <= slot_word(t, q, SLOT_KEY2) and slot_word(t, q, SLOT_KEY2) < KEY_LIMIT and
                   slot_word(t, q, SLOT_HOME) ==
                   home_of(slot_word(t, q, SLOT_KEY1), slot_word(t, q, SLOT_KEY2),
                           t[H_SALT], t[H_MASK] + 1))),
           [[slot_word(t, q, SLOT_FLOW)]])))
    Assert(Forall2(int, int, lambda p, q: (Implies(
           0 <= p and p <= t[H_MASK] and 0 <= q and q <= t[H_MASK] and
           slot_word(t, p, SLOT_FLOW) >= 0 and
           probe_dist(slot_word(t, p, SLOT_HOME), q, t[H_MASK] + 1) <
           probe_dist(slot_word(t, p, SLOT_HOME), p, t[H_MASK] + 1),
           slot_word(t, q, SLOT_FLOW) != SLOT_EMPTY),
           [[slot_word(t, p, SLOT_HOME), slot_word(t, q, SLOT_FLOW)]])))
    Assert(Forall2(int, int, lambda p, q: (Implies(
           0 <= p and p <= t[H_MASK] and 0 <= q and q <= t[H_MASK] and p != q and
           slot_word(t, p, SLOT_FLOW) >= 0 and slot_word(t, q, SLOT_FLOW) >= 0,
           slot_word(t, p, SLOT_FLOW) != slot_word(t, q, SLOT_FLOW) and
           (slot_word(t, p, SLOT_KEY1) != slot_word(t, q, SLOT_KEY1) or
            slot_word(t, p, SLOT_KEY2) != slot_word(t, q, SLOT_KEY2))),
           [[slot_word(t, p, SLOT_FLOW), slot_word(t, q, SLOT_FLOW)]])))
    # map_ok before the frames below are in the proof's context (with them,
    # Z3 did not finish map_ok in 19 min)
    Assert(map_ok(t))
    Assert(Forall2(int, int, lambda x, f: (Implies(
        0 <= x and x < t[H_CAPACITY] and 0 <= f and f < FLOW_WORDS,
        word(t, flows_base(t) + FLOW_WORDS * x + f) == flow_word(t, x, f) and
        flow_word(t, x, f) == Old(flow_word(t, x, f))), [[flow_word(t, x, f)]])))
    Assert(Forall2(int, int, lambda x, f: (Implies(
        0 <= x and x < t[H_CAPACITY] and 0 <= f and f < LINK_WORDS,
        word(t, flows_base(t) + FLOW_WORDS * t[H_CAPACITY] + LINK_WORDS * x + f) == link_word(t, x, f) and
        link_word(t, x, f) == Old(link_word(t, x, f))), [[link_word(t, x, f)]])))
    Assert(Forall(int, lambda x: (Implies(0 <= x and x < t[H_CAPACITY],
        word(t, flows_base(t) + (FLOW_WORDS + LINK_WORDS) * t[H_CAPACITY] + x) == ring_word(t, x, 0) and
        ring_word(t, x, 0) == Old(ring_word(t, x, 0))), [[ring_word(t, x, 0)]])))
    Assert(Forall(int, lambda x: (Implies(0 <= x and x < t[H_CAPACITY],
        word(t, flows_base(t) + (FLOW_WORDS + LINK_WORDS + 1) * t[H_CAPACITY] + x) == ring_word(t, x, 1) and
        ring_word(t, x, 1) == Old(ring_word(t, x, 1))), [[ring_word(t, x, 1)]])))
    return s


def map_slot_of(t: List[int], i: int, h: int) -> int:
    """The slot holding flow i (stored), probing from slot h (its key's home,
    for speed; any slot will do)."""
    Requires(Acc(list_pred(t), 1/2) and map_ok(t) and 0 <= h and h <= t[H_MASK] and 0 <= i)
    Requires(Exists(int, lambda w: (0 <= w and w <= t[H_MASK] and slot_word(t, w, SLOT_FLOW) == i,
                                    [[slot_word(t, w, SLOT_FLOW)]])))
    Ensures(Acc(list_pred(t), 1/2) and map_ok(t))
    Ensures(0 <= Result() and Result() <= t[H_MASK] and slot_word(t, Result(), SLOT_FLOW) == i)
    mask = t[H_MASK]
    s = h
    for step in range(mask + 1):
        Invariant(Acc(list_pred(t), 1/2) and map_ok(t) and t[H_MASK] == mask)
        Invariant(0 <= h and h <= mask and 0 <= s and s <= mask and 0 <= i)
        Invariant(Exists(int, lambda w: (0 <= w and w <= mask and slot_word(t, w, SLOT_FLOW) == i,
                                         [[slot_word(t, w, SLOT_FLOW)]])))
        Invariant(Implies(len(Previous(step)) <= mask,
                          probe_dist(h, s, mask + 1) == len(Previous(step))))
        Invariant(Forall(int, lambda q: (Implies(
            0 <= q and q <= mask and probe_dist(h, q, mask + 1) < len(Previous(step)),
            slot_word(t, q, SLOT_FLOW) != i), [[slot_word(t, q, SLOT_FLOW)]])))
        if t[slot_at(t, s) + SLOT_FLOW] == i:
            return s
        s = s + 1 if s < mask else 0
    return h


def slot_clear(t: List[int], s: int) -> None:
    """Mark slot s empty (its SLOT_FLOW word); no other word changes."""
    Requires(Acc(list_pred(t)) and geometry(t) and 0 <= s and s <= t[H_MASK])
    Ensures(Acc(list_pred(t)))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(slot_word(t, s, SLOT_FLOW) == SLOT_EMPTY)
    Ensures(Forall(int, lambda w: (Implies(0 <= w and w < len(t) and w != HEADER_WORDS + SLOT_WORDS * s,
        word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(abstract_sealed(t) == Old(abstract_sealed(t)))
    slot_put(t, slot_at(t, s) + SLOT_FLOW, SLOT_EMPTY)


def hole_move(t: List[int], j: int, k: int) -> None:
    """Backward shift's move: the entry of slot k, whose probe path crosses
    the hole j, fills j; k becomes the hole (its words are left as they are)."""
    Requires(Acc(list_pred(t)) and hole_ok(t, j) and 0 <= k and k <= t[H_MASK] and k != j)
    Requires(slot_word(t, k, SLOT_FLOW) >= 0)
    Requires(probe_dist(slot_word(t, k, SLOT_HOME), j, t[H_MASK] + 1) <
             probe_dist(slot_word(t, k, SLOT_HOME), k, t[H_MASK] + 1))
    Ensures(Acc(list_pred(t)))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(abstract_sealed(t) == Old(abstract_sealed(t)))
    Ensures(Forall(int, lambda w: (Implies(0 <= w and w < len(t) and
        (w < HEADER_WORDS + SLOT_WORDS * j or HEADER_WORDS + SLOT_WORDS * j + SLOT_WORDS <= w),
        word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(slot_word(t, j, SLOT_FLOW) == Old(slot_word(t, k, SLOT_FLOW)) and
            slot_word(t, j, SLOT_HOME) == Old(slot_word(t, k, SLOT_HOME)) and
            slot_word(t, j, SLOT_KEY1) == Old(slot_word(t, k, SLOT_KEY1)) and
            slot_word(t, j, SLOT_KEY2) == Old(slot_word(t, k, SLOT_KEY2)))
    Ensures(Forall(int, lambda s: (Implies(0 <= s and s <= t[H_MASK] and s != j,
        slot_word(t, s, SLOT_FLOW) == Old(slot_word(t, s, SLOT_FLOW)) and
        slot_word(t, s, SLOT_HOME) == Old(slot_word(t, s, SLOT_HOME)) and
        slot_word(t, s, SLOT_KEY1) == Old(slot_word(t, s, SLOT_KEY1)) and
        slot_word(t, s, SLOT_KEY2) == Old(slot_word(t, s, SLOT_KEY2))),
        [[slot_word(t, s, SLOT_FLOW)], [Old(slot_word(t, s, SLOT_FLOW))]])))
    Ensures(hole_ok(t, k))   # last: it is proven from the frames above
    at = slot_at(t, k)
    slot_fill(t, j, t[at + SLOT_FLOW], t[at + SLOT_HOME], t[at + SLOT_KEY1], t[at + SLOT_KEY2])
    Assert(Forall(int, lambda p: (Implies(0 <= p and p <= t[H_MASK] and p != j,
        slot_word(t, p, SLOT_FLOW) == Old(slot_word(t, p, SLOT_FLOW)) and
        slot_word(t, p, SLOT_HOME) == Old(slot_word(t, p, SLOT_HOME)) and
        slot_word(t, p, SLOT_KEY1) == Old(slot_word(t, p, SLOT_KEY1)) and
        slot_word(t, p, SLOT_KEY2) == Old(slot_word(t, p, SLOT_KEY2))),
        [[slot_word(t, p, SLOT_FLOW)], [slot_word(t, p, SLOT_HOME)]])))
    Assert(Forall(int, lambda q: (Implies(0 <= q and q <= t[H_MASK] and q != k,
           SLOT_EMPTY <= slot_word(t, q, SLOT_FLOW) and
           slot_word(t, q, SLOT_FLOW) < t[H_CAPACITY] and
           Implies(slot_word(t, q, SLOT_FLOW) >= 0,
                   0 <= slot_word(t, q, SLOT_HOME) and slot_word(t, q, SLOT_HOME) <= t[H_MASK] and
                   0 <= slot_word(t, q, SLOT_KEY1) and slot_word(t, q, SLOT_KEY1) < KEY_LIMIT and
                   0 <= slot_word(t, q, SLOT_KEY2) and slot_word(t, q, SLOT_KEY2) < KEY_LIMIT and
                   slot_word(t, q, SLOT_HOME) ==
                   home_of(slot_word(t, q, SLOT_KEY1), slot_word(t, q, SLOT_KEY2),
                           t[H_SALT], t[H_MASK] + 1))),
           [[slot_word(t, q, SLOT_FLOW)]])))
    Assert(Forall2(int, int, lambda p, q: (Implies(
           0 <= p and p <= t[H_MASK] and 0 <= q and q <= t[H_MASK] and p != k and q != k and
           slot_word(t, p, SLOT_FLOW) >= 0 and
           probe_dist(slot_word(t, p, SLOT_HOME), q, t[H_MASK] + 1) <
           probe_dist(slot_word(t, p, SLOT_HOME), p, t[H_MASK] + 1),
           slot_word(t, q, SLOT_FLOW) != SLOT_EMPTY),
           [[slot_word(t, p, SLOT_HOME), slot_word(t, q, SLOT_FLOW)]])))
    Assert(Forall2(int, int, lambda p, q: (Implies(
           0 <= p and p <= t[H_MASK] and 0 <= q and q <= t[H_MASK] and p != q and
           p != k and q != k and
           slot_word(t, p, SLOT_FLOW) >= 0 and slot_word(t, q, SLOT_FLOW) >= 0,
           slot_word(t, p, SLOT_FLOW) != slot_word(t, q, SLOT_FLOW) and
           (slot_word(t, p, SLOT_KEY1) != slot_word(t, q, SLOT_KEY1) or
            slot_word(t, p, SLOT_KEY2) != slot_word(t, q, SLOT_KEY2))),
           [[slot_word(t, p, SLOT_FLOW), slot_word(t, q, SLOT_FLOW)]])))


@Pure
def shift_start(t: List[int], j0: int) -> bool:
    """Lemma: the shift's invariant holds before the scan."""
    Requires(Acc(list_pred(t), 1/2) and map_ok(t) and 0 <= j0 and j0 <= t[H_MASK])
    Requires(slot_word(t, j0, SLOT_FLOW) >= 0)
    Requires(Exists(int, lambda w: (0 <= w and w <= t[H_MASK] and slot_word(t, w, SLOT_FLOW) < 0,
                                    [[slot_word(t, w, SLOT_FLOW)]])))
    Ensures(shift_ok(t, j0, j0, j0))
    return True


@Pure
def shift_keep(t: List[int], j0: int, j: int, kp: int, k: int) -> bool:
    """Lemma: scanning a used slot k whose entry's probe path does not cross
    the hole keeps the invariant."""
    Requires(Acc(list_pred(t), 1/2) and shift_ok(t, j0, j, kp))
    Requires(probe_dist(j0, kp, t[H_MASK] + 1) < t[H_MASK])
    Requires(k == (kp + 1 if kp < t[H_MASK] else 0))
    Requires(slot_word(t, k, SLOT_FLOW) >= 0)
    Requires(probe_dist(slot_word(t, k, SLOT_HOME), k, t[H_MASK] + 1) <=
             probe_dist(slot_word(t, k, SLOT_HOME), j, t[H_MASK] + 1))
    Ensures(shift_ok(t, j0, j, k))
    return True


@Pure
def shift_done(t: List[int], j0: int, j: int, kp: int, k: int) -> bool:
    """Lemma: when the scan reaches an empty slot k, no probe path crosses the hole."""
    Requires(Acc(list_pred(t), 1/2) and shift_ok(t, j0, j, kp))
    Requires(probe_dist(j0, kp, t[H_MASK] + 1) < t[H_MASK])
    Requires(k == (kp + 1 if kp < t[H_MASK] else 0))
    Requires(slot_word(t, k, SLOT_FLOW) < 0)
    Ensures(Forall(int, lambda p: (Implies(
        0 <= p and p <= t[H_MASK] and p != j and slot_word(t, p, SLOT_FLOW) >= 0,
        probe_dist(slot_word(t, p, SLOT_HOME), p, t[H_MASK] + 1) <=
        probe_dist(slot_word(t, p, SLOT_HOME), j, t[H_MASK] + 1)),
        [[slot_word(t, p, SLOT_FLOW)]])))
    return True


def shift_move(t: List[int], j0: int, j: int, kp: int, k: int) -> None:
    """The backward shift's move (hole_move) keeps the invariant, the hole now at k."""
    Requires(Acc(list_pred(t)) and shift_ok(t, j0, j, kp))
    Requires(probe_dist(j0, kp, t[H_MASK] + 1) < t[H_MASK])
    Requires(k == (kp + 1 if kp < t[H_MASK] else 0))
    Requires(slot_word(t, k, SLOT_FLOW) >= 0)
    Requires(probe_dist(slot_word(t, k, SLOT_HOME), j, t[H_MASK] + 1) <
             probe_dist(slot_word(t, k, SLOT_HOME), k, t[H_MASK] + 1))
    Ensures(Acc(list_pred(t)))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(abstract_sealed(t) == Old(abstract_sealed(t)))
    Ensures(Forall(int, lambda w: (Implies(0 <= w and w < len(t) and
        (w < HEADER_WORDS + SLOT_WORDS * j or HEADER_WORDS + SLOT_WORDS * j + SLOT_WORDS <= w),
        word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(slot_word(t, j, SLOT_FLOW) == Old(slot_word(t, k, SLOT_FLOW)) and
            slot_word(t, j, SLOT_HOME) == Old(slot_word(t, k, SLOT_HOME)) and
            slot_word(t, j, SLOT_KEY1) == Old(slot_word(t, k, SLOT_KEY1)) and
            slot_word(t, j, SLOT_KEY2) == Old(slot_word(t, k, SLOT_KEY2)))
    Ensures(Forall(int, lambda s: (Implies(0 <= s and s <= t[H_MASK] and s != j,
        slot_word(t, s, SLOT_FLOW) == Old(slot_word(t, s, SLOT_FLOW)) and
        slot_word(t, s, SLOT_HOME) == Old(slot_word(t, s, SLOT_HOME)) and
        slot_word(t, s, SLOT_KEY1) == Old(slot_word(t, s, SLOT_KEY1)) and
        slot_word(t, s, SLOT_KEY2) == Old(slot_word(t, s, SLOT_KEY2))),
        [[slot_word(t, s, SLOT_FLOW)], [Old(slot_word(t, s, SLOT_FLOW))]])))
    Ensures(Forall3(int, int, int, lambda x, k1, k2: (Implies(x >= 0,
        held(t, k, x, k1, k2) == Old(held(t, j, x, k1, k2))),
        [[held(t, k, x, k1, k2)]])))
    Ensures(shift_ok(t, j0, k, k))
    hole_move(t, j, k)
    # what slots other than j hold is unchanged (only slot j was written);
    # slots j and k now hold the same words, so "a slot other than k" and
    # "a slot other than j" hold the same (ghost.lemma_held_same). In one step Z3 took
    # minutes over the two states' existentials (session 10: 272 s).
    Assert(Forall3(int, int, int, lambda x, k1, k2: (Implies(x >= 0,
        held(t, j, x, k1, k2) == Old(held(t, j, x, k1, k2))),
        [[held(t, j, x, k1, k2)]])))
    lemma_held_same(t, j, k)


def map_shift(t: List[int], j0: int) -> int:
    """Backward shift after slot j0's entry is dropped: scan the run of used
    slots after the hole up to the first empty slot; each entry whose probe
    path crosses the hole moves into it, and its old slot becomes the hole.
    Returns the last hole, which no probe path crosses (not yet emptied)."""
    Requires(Acc(list_pred(t)) and map_ok(t) and 0 <= j0 and j0 <= t[H_MASK])
    Requires(slot_word(t, j0, SLOT_FLOW) >= 0)
    Requires(Exists(int, lambda w: (0 <= w and w <= t[H_MASK] and slot_word(t, w, SLOT_FLOW) < 0,
                                    [[slot_word(t, w, SLOT_FLOW)]])))
    Ensures(Acc(list_pred(t)))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(abstract_sealed(t) == Old(abstract_sealed(t)))
    Ensures(Forall(int, lambda w: (Implies((0 <= w and w < HEADER_WORDS) or
                                           (flows_base(t) <= w and w < len(t)),
                                           word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(0 <= Result() and Result() <= t[H_MASK])
    Ensures(Forall3(int, int, int, lambda x, k1, k2: (Implies(x >= 0,
        held(t, Result(), x, k1, k2) == Old(held(t, j0, x, k1, k2))),
        [[held(t, Result(), x, k1, k2)]])))
    Ensures(Forall(int, lambda p: (Implies(
        0 <= p and p <= t[H_MASK] and p != Result() and slot_word(t, p, SLOT_FLOW) >= 0,
        probe_dist(slot_word(t, p, SLOT_HOME), p, t[H_MASK] + 1) <=
        probe_dist(slot_word(t, p, SLOT_HOME), Result(), t[H_MASK] + 1)),
        [[slot_word(t, p, SLOT_FLOW)]])))
    Ensures(hole_ok(t, Result()))
    mask = t[H_MASK]
    n = mask + 1
    j = j0
    k = j0
    Assert(shift_start(t, j0))
    for step in range(mask):
        Invariant(Acc(list_pred(t)))
        Invariant(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
                  t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
        Invariant(geometry(t) and mask == t[H_MASK] and n == mask + 1)
        Invariant(abstract_sealed(t) == Old(abstract_sealed(t)))
        Invariant(Forall(int, lambda w: (Implies((0 <= w and w < HEADER_WORDS) or
                                                 (flows_base(t) <= w and w < len(t)),
                                                 word(t, w) == Old(word(t, w))), [[word(t, w)]])))
        Invariant(0 <= j0 and j0 <= mask and 0 <= j and j <= mask and 0 <= k and k <= mask)
        Invariant(probe_dist(j0, k, n) == len(Previous(step)))
        Invariant(shift_ok(t, j0, j, k))
        Invariant(Forall3(int, int, int, lambda x, k1, k2: (Implies(x >= 0,
            held(t, j, x, k1, k2) == Old(held(t, j0, x, k1, k2))),
            [[held(t, j, x, k1, k2)]])))
        Assert(len(Previous(step)) < mask)
        kp = k
        k = k + 1 if k < mask else 0
        at = slot_at(t, k)
        if t[at + SLOT_FLOW] == SLOT_EMPTY:
            Assert(shift_done(t, j0, j, kp, k))
            return j
        h = t[at + SLOT_HOME]
        # the entry at k can fill the hole at j when j is on its probe path
        if (j - h if j >= h else j - h + n) < (k - h if k >= h else k - h + n):
            shift_move(t, j0, j, kp, k)
            j = k
        else:
            Assert(shift_keep(t, j0, j, kp, k))
    return j


def map_close(t: List[int], j: int) -> None:
    """Empty the last hole of a backward shift: no probe path crosses it,
    so the invariant holds again."""
    Requires(Acc(list_pred(t)) and hole_ok(t, j))
    Requires(Forall(int, lambda p: (Implies(
        0 <= p and p <= t[H_MASK] and p != j and slot_word(t, p, SLOT_FLOW) >= 0,
        probe_dist(slot_word(t, p, SLOT_HOME), p, t[H_MASK] + 1) <=
        probe_dist(slot_word(t, p, SLOT_HOME), j, t[H_MASK] + 1)),
        [[slot_word(t, p, SLOT_FLOW)]])))
    Ensures(Acc(list_pred(t)))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(abstract_sealed(t) == Old(abstract_sealed(t)))
    Ensures(Forall(int, lambda w: (Implies(0 <= w and w < len(t) and w != HEADER_WORDS + SLOT_WORDS * j,
        word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(slot_word(t, j, SLOT_FLOW) == SLOT_EMPTY)
    Ensures(Forall(int, lambda s: (Implies(0 <= s and s <= t[H_MASK] and s != j,
        slot_word(t, s, SLOT_FLOW) == Old(slot_word(t, s, SLOT_FLOW)) and
        slot_word(t, s, SLOT_HOME) == Old(slot_word(t, s, SLOT_HOME)) and
        slot_word(t, s, SLOT_KEY1) == Old(slot_word(t, s, SLOT_KEY1)) and
        slot_word(t, s, SLOT_KEY2) == Old(slot_word(t, s, SLOT_KEY2))),
        [[slot_word(t, s, SLOT_FLOW)], [Old(slot_word(t, s, SLOT_FLOW))]])))
    Ensures(Forall3(int, int, int, lambda x, k1, k2: (Implies(x >= 0,
        held(t, -1, x, k1, k2) == Old(held(t, j, x, k1, k2))),
        [[held(t, -1, x, k1, k2)]])))
    Ensures(map_ok(t))   # last: it is proven from the frames above
    slot_clear(t, j)
    Assert(Forall(int, lambda p: (Implies(0 <= p and p <= t[H_MASK] and p != j,
        slot_word(t, p, SLOT_FLOW) == Old(slot_word(t, p, SLOT_FLOW)) and
        slot_word(t, p, SLOT_HOME) == Old(slot_word(t, p, SLOT_HOME)) and
        slot_word(t, p, SLOT_KEY1) == Old(slot_word(t, p, SLOT_KEY1)) and
        slot_word(t, p, SLOT_KEY2) == Old(slot_word(t, p, SLOT_KEY2))),
        [[slot_word(t, p, SLOT_FLOW)], [slot_word(t, p, SLOT_HOME)]])))
    Assert(Forall(int, lambda q: (Implies(0 <= q and q <= t[H_MASK],
           SLOT_EMPTY <= slot_word(t, q, SLOT_FLOW) and
           slot_word(t, q, SLOT_FLOW) < t[H_CAPACITY] and
           Implies(slot_word(t, q, SLOT_FLOW) >= 0,
                   0 <= slot_word(t, q, SLOT_HOME) and slot_word(t, q, SLOT_HOME) <= t[H_MASK] and
                   0 <= slot_word(t, q, SLOT_KEY1) and slot_word(t, q, SLOT_KEY1) < KEY_LIMIT and
                   0 <= slot_word(t, q, SLOT_KEY2) and slot_word(t, q, SLOT_KEY2) < KEY_LIMIT and
                   slot_word(t, q, SLOT_HOME) ==
                   home_of(slot_word(t, q, SLOT_KEY1), slot_word(t, q, SLOT_KEY2),
                           t[H_SALT], t[H_MASK] + 1))),
           [[slot_word(t, q, SLOT_FLOW)]])))
    Assert(Forall2(int, int, lambda p, q: (Implies(
           0 <= p and p <= t[H_MASK] and 0 <= q and q <= t[H_MASK] and
           slot_word(t, p, SLOT_FLOW) >= 0 and
           probe_dist(slot_word(t, p, SLOT_HOME), q, t[H_MASK] + 1) <
           probe_dist(slot_word(t, p, SLOT_HOME), p, t[H_MASK] + 1),
           slot_word(t, q, SLOT_FLOW) != SLOT_EMPTY),
           [[slot_word(t, p, SLOT_HOME), slot_word(t, q, SLOT_FLOW)]])))
    Assert(Forall2(int, int, lambda p, q: (Implies(
           0 <= p and p <= t[H_MASK] and 0 <= q and q <= t[H_MASK] and p != q and
           slot_word(t, p, SLOT_FLOW) >= 0 and slot_word(t, q, SLOT_FLOW) >= 0,
           slot_word(t, p, SLOT_FLOW) != slot_word(t, q, SLOT_FLOW) and
           (slot_word(t, p, SLOT_KEY1) != slot_word(t, q, SLOT_KEY1) or
            slot_word(t, p, SLOT_KEY2) != slot_word(t, q, SLOT_KEY2))),
           [[slot_word(t, p, SLOT_FLOW), slot_word(t, q, SLOT_FLOW)]])))


@Pure
def held_drop(t: List[int], j0: int) -> bool:
    """Lemma: under map_ok, what slots other than j0 hold is what the map
    holds, less slot j0's index."""
    Requires(Acc(list_pred(t), 1/2) and map_ok(t) and 0 <= j0 and j0 <= t[H_MASK])
    Requires(slot_word(t, j0, SLOT_FLOW) >= 0)
    Ensures(Forall3(int, int, int, lambda x, k1, k2: (Implies(x >= 0,
        held(t, j0, x, k1, k2) == (x != slot_word(t, j0, SLOT_FLOW) and held(t, -1, x, k1, k2))),
        [[held(t, j0, x, k1, k2)]])))
    return True


def map_erase(t: List[int], i: int) -> None:
    """Remove flow i (stored) from the map, leaving no tombstone: find its
    slot from its key's home, then close the hole by backward shifting
    (map_shift) and empty the last hole (map_close). Needs an empty slot
    (nslots >= 2 x capacity >= 2 x count guarantees one), as map_insert."""
    Requires(Acc(list_pred(t)) and map_ok(t) and 0 <= i and i < cap(t))
    Requires(Exists(int, lambda w: (0 <= w and w <= t[H_MASK] and slot_word(t, w, SLOT_FLOW) == i,
                                    [[slot_word(t, w, SLOT_FLOW)]])))
    Requires(Exists(int, lambda w: (0 <= w and w <= t[H_MASK] and slot_word(t, w, SLOT_FLOW) < 0,
                                    [[slot_word(t, w, SLOT_FLOW)]])))
    Ensures(Acc(list_pred(t)))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(abstract(t) == Old(abstract(t)))
    Ensures(Forall(int, lambda w: (Implies((0 <= w and w < HEADER_WORDS) or
                                           (flows_base(t) <= w and w < len(t)),
                                           word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    # i is stored nowhere; every other index is stored under a key exactly
    # when it was before (its home is home_of(key), by map_ok)
    Ensures(Forall(int, lambda s: (Implies(0 <= s and s <= t[H_MASK], slot_word(t, s, SLOT_FLOW) != i),
                                   [[slot_word(t, s, SLOT_FLOW)]])))
    Ensures(Forall3(int, int, int, lambda x, k1, k2: (Implies(x >= 0 and x != i,
        held(t, -1, x, k1, k2) == Old(held(t, -1, x, k1, k2))),
        [[held(t, -1, x, k1, k2)]])))
    Ensures(map_ok(t))
    # the records' side (model.coupled) holds again but for i
    Ensures(Implies(Old(coupled(t)), coupled_but(t, i)))
    # the frame restated on the words the allocator's invariant names, so
    # that a caller keeps allocator_ok without index arithmetic of its own
    Ensures(Forall2(int, int, lambda x, f: (Implies(
        0 <= x and x < t[H_CAPACITY] and 0 <= f and f < FLOW_WORDS,
        flow_word(t, x, f) == Old(flow_word(t, x, f))), [[flow_word(t, x, f)]])))
    Ensures(Forall2(int, int, lambda x, f: (Implies(
        0 <= x and x < t[H_CAPACITY] and 0 <= f and f < LINK_WORDS,
        link_word(t, x, f) == Old(link_word(t, x, f))), [[link_word(t, x, f)]])))
    Ensures(Forall(int, lambda x: (Implies(0 <= x and x < t[H_CAPACITY],
        ring_word(t, x, 0) == Old(ring_word(t, x, 0)) and ring_word(t, x, 1) == Old(ring_word(t, x, 1))),
        [[ring_word(t, x, 0)], [ring_word(t, x, 1)]])))
    Assert(Reveal(abstract_sealed(t)) == abstract(t))
    r = flow_at(t, i)
    j = map_slot_of(t, i, map_home(t, t[r + F_KEY1], t[r + F_KEY2]))
    Assert(held_drop(t, j))
    j = map_shift(t, j)
    map_close(t, j)
    Assert(Reveal(abstract_sealed(t)) == abstract(t))
    Assert(Forall(int, lambda s: (Implies(0 <= s and s <= t[H_MASK] and slot_word(t, s, SLOT_FLOW) >= 0,
        held(t, -1, slot_word(t, s, SLOT_FLOW), slot_word(t, s, SLOT_KEY1), slot_word(t, s, SLOT_KEY2))),
        [[slot_word(t, s, SLOT_FLOW)]])))
    Assert(Forall2(int, int, lambda x, f: (Implies(
        0 <= x and x < t[H_CAPACITY] and 0 <= f and f < FLOW_WORDS,
        word(t, flows_base(t) + FLOW_WORDS * x + f) == flow_word(t, x, f) and
        flow_word(t, x, f) == Old(flow_word(t, x, f))), [[flow_word(t, x, f)]])))
    Assert(Forall2(int, int, lambda x, f: (Implies(
        0 <= x and x < t[H_CAPACITY] and 0 <= f and f < LINK_WORDS,
        word(t, flows_base(t) + FLOW_WORDS * t[H_CAPACITY] + LINK_WORDS * x + f) == link_word(t, x, f) and
        link_word(t, x, f) == Old(link_word(t, x, f))), [[link_word(t, x, f)]])))
    Assert(Forall(int, lambda x: (Implies(0 <= x and x < t[H_CAPACITY],
        word(t, flows_base(t) + (FLOW_WORDS + LINK_WORDS) * t[H_CAPACITY] + x) == ring_word(t, x, 0) and
        ring_word(t, x, 0) == Old(ring_word(t, x, 0))), [[ring_word(t, x, 0)]])))
    Assert(Forall(int, lambda x: (Implies(0 <= x and x < t[H_CAPACITY],
        word(t, flows_base(t) + (FLOW_WORDS + LINK_WORDS + 1) * t[H_CAPACITY] + x) == ring_word(t, x, 1) and
        ring_word(t, x, 1) == Old(ring_word(t, x, 1))), [[ring_word(t, x, 1)]])))
    Assert(Forall(int, lambda q: (Implies(
        0 <= q and q <= t[H_MASK] and Old(slot_word(t, q, SLOT_FLOW)) >= 0 and
        Old(slot_word(t, q, SLOT_FLOW)) != i,
        held(t, -1, Old(slot_word(t, q, SLOT_FLOW)), Old(slot_word(t, q, SLOT_KEY1)),
             Old(slot_word(t, q, SLOT_KEY2)))),
        [[Old(slot_word(t, q, SLOT_FLOW))]])))


def map_prefetch(t: List[int], k1: int, k2: int) -> None:
    """Hint: a lookup of (k1, k2) is coming. Changes nothing."""
    Requires(Acc(list_pred(t), 1/2) and map_ok(t))
    Ensures(Acc(list_pred(t), 1/2) and map_ok(t))
    cache_hint(t, slot_at(t, map_home(t, k1, k2)))
