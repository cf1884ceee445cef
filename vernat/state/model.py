"""The abstract model of a flow table: the vocabulary of the state library's
contracts (vernat/state/flowtable.py), with its definitions for Nagini.

A flow table *is*, abstractly, a value A of this model; `state(t)` is the
value the int64 array t represents. The contracts of flowtable.py are
written with these names only, in Nagini's syntax (Requires / Ensures /
Result / Old), and have three readers:

- the numba and CPython builds, which strip them (vernat/build.py,
  strip_contracts; this module is a ghost import): the code that runs is
  the code minus its contracts;
- `vernat verify`'s lazy validation (vernat/verify/contracts.py), which
  reads them from the source and checks every symbolic trace against them,
  interpreting each name below as an uninterpreted function of the abstract
  state (so it relies on nothing but what the contracts say);
- `vernat prove`, which proves the array code against them with Nagini,
  using the definitions below.

Queries, on an abstract table A:
    capacity(A)         N, the number of indices (external ports S..S+N-1)
    full(A)             A holds N live flows
    find(A, k1, k2)     index of the live flow with key (k1, k2), or -1
    live(A, i)          index i holds a live flow
    key1_of(A, i)        live flow i's inside (address << 16 | port)
    key2_of(A, i)        live flow i's remote (address << 16 | port)
    mac_of(A, i)        live flow i's inside host MAC
    next_free(A)        the free index freed longest ago (when not full)
Transitions, each a new abstract table:
    expired(A, now, timeout)        without every flow with now - last_seen >= timeout
    touched(A, i, now)              flow i's last_seen := now
    added(A, k1, k2, mac, now)      flow (k1, k2, mac, last_seen = now) at next_free(A)
Permission (Nagini only; True for the validator):
    table(t)            t is a well-formed table array this call may access

## The abstract value
`Table` holds the count, the two ends of the least-recently-used list, the
free ring's head, and the array's words from the flow records on: the
records (key1, key2, mac, last_seen per index), the list's links (prev, next
per index) and the ring (the free FIFO's permutation and its inverse). The
map's slots and the hash salt are not in it: they are how `find` is made
fast, and `find` is defined without them (the live flow with that key).

Why a slice of the array and not, say, a set of flows: Nagini compares two
abstract values only when they are built from the same sequence terms
(docs/prove-notes/README.md, item 2), so each transition below is defined as
the list, record and ring updates the library makes, on that slice (one
slice: each store is then one sequence update, `lemma_word_stored`). What
they *mean* is tested, not assumed: tests/state/test_model_meaning.py runs
these definitions in CPython beside the specification's own table
(vernat/spec/abstract_state.py: flows, a FIFO of free indices, expiry in
least-recently-used order) on random operation sequences, and checks that
`state(t)` of the real table equals the definitions' value after every step.

Every definition is total (guarded reads `at`, guarded writes `upd`, no
quantified preconditions): Nagini checks a function's well-definedness
against its precondition, and a quantified one made that check not finish
(docs/prove-notes/README.md, item 4).
"""

from typing import List, NamedTuple

from nagini_contracts.adt import ADT
from nagini_contracts.contracts import (
    Requires, Ensures, Result, Implies, Forall, Forall2, Exists, Pure, Predicate, Decreases, Acc,
    Assert, Opaque, Reveal, Old, Fold, Unfold,
    list_pred, Unfolding, PSeq, ToSeq,
)
from vernat.state.ghost import (
    geometry, allocator_ok, map_ok, flow_word, link_word, ring_word, slot_word,
    home_of, probe_dist,
)
from vernat.state.layout import (
    HEADER_WORDS, H_CAPACITY, H_MASK, H_COUNT, H_OLDEST, H_NEWEST, H_RING_HEAD, H_SALT,
    SLOT_WORDS, SLOT_FLOW, SLOT_HOME, SLOT_KEY1, SLOT_KEY2, SLOT_EMPTY, KEY_LIMIT, SALT_LIMIT,
    MAX_CAPACITY, MAX_TIME,
    FLOW_WORDS, F_KEY1, F_KEY2, F_MAC, F_LAST_SEEN, FREE,
    LINK_WORDS, L_PREV, L_NEXT, L_STAMP, MAX_STAMP, RING_WORDS, R_RING, R_POS,
)


class Table_ADT(ADT):
    pass


class Table(Table_ADT, NamedTuple('Table', [
        ('cap', int), ('count', int), ('oldest', int), ('newest', int), ('head', int),
        ('words', PSeq[int])])):
    pass    # an abstract flow table (the module's docstring); Nagini allows no body


# ---- the table's invariant and its abstract value ----

@Pure
def coupled(t: List[int]) -> bool:
    """The map and the records agree: every slot in use holds a live index
    whose record has the slot's key, and every live index is in some slot
    (so `find`, defined on the records, is what the map answers); a live
    flow's MAC is 48-bit."""
    Requires(Acc(list_pred(t), 1/2) and map_ok(t))
    Decreases(None)
    return (Forall(int, lambda s: (Implies(
                0 <= s and s <= t[H_MASK] and slot_word(t, s, SLOT_FLOW) >= 0,
                flow_word(t, slot_word(t, s, SLOT_FLOW), F_LAST_SEEN) != FREE and
                flow_word(t, slot_word(t, s, SLOT_FLOW), F_KEY1) == slot_word(t, s, SLOT_KEY1) and
                flow_word(t, slot_word(t, s, SLOT_FLOW), F_KEY2) == slot_word(t, s, SLOT_KEY2)),
                [[slot_word(t, s, SLOT_FLOW)]])) and
            Forall(int, lambda i: (Implies(
                0 <= i and i < t[H_CAPACITY] and flow_word(t, i, F_LAST_SEEN) != FREE,
                0 <= flow_word(t, i, F_MAC) and flow_word(t, i, F_MAC) < KEY_LIMIT and
                Exists(int, lambda s: (0 <= s and s <= t[H_MASK] and
                                       slot_word(t, s, SLOT_FLOW) == i,
                                       [[slot_word(t, s, SLOT_FLOW)]]))),
                [[flow_word(t, i, F_LAST_SEEN)]])))


# t is a well-formed flow table, and the holder may write it (Nagini allows a
# predicate no statement but its return, not even a docstring).
@Predicate
def table(t: List[int]) -> bool:
    return Acc(list_pred(t)) and allocator_ok(t) and map_ok(t) and coupled(t) and lru_ok_a(abstract(t))


@Pure
def state(t: List[int]) -> Table:
    """The abstract table that the array t represents."""
    Requires(table(t))
    Decreases(None)
    return Unfolding(table(t), abstract(t))


@Pure
def abstract(t: List[int]) -> Table:
    """state(t), for a holder of t's words (inside an unfolded table(t))."""
    Requires(Acc(list_pred(t), 1/2))
    Decreases(None)
    return abs_of(ToSeq(t))


@Pure
def flows_at(S: PSeq[int]) -> int:
    """Where the flow records start in a table's words S (layout.flow_at)."""
    Decreases(None)
    return HEADER_WORDS + SLOT_WORDS * (at(S, H_MASK) + 1)


@Opaque
@Pure
def abs_of(S: PSeq[int]) -> Table:
    """The abstract table of a table's words S: its header fields, and its
    words from the flow records on (records | links | ring).

    Opaque: a proof sees this definition only where it asks for it
    (Reveal, in this module's lemmas). The allocator's setters state
    `abstract(t)` after a store through the lemmas below, and with the
    definition visible there (a `drop` of the whole array beside their
    quantified frames) Z3 ran out of memory (docs/progress-prove.md,
    session 6)."""
    Decreases(None)
    return Table(at(S, H_CAPACITY), at(S, H_COUNT), at(S, H_OLDEST), at(S, H_NEWEST),
                 at(S, H_RING_HEAD), S.drop(flows_at(S)))


@Pure
def words_ok(S: PSeq[int]) -> bool:
    """S is as long as its header says (ghost.geometry, on a sequence)."""
    Decreases(None)
    return (HEADER_WORDS <= len(S) and 1 <= at(S, H_CAPACITY) and 0 <= at(S, H_MASK) and
            len(S) == flows_at(S) + (FLOW_WORDS + LINK_WORDS + RING_WORDS) * at(S, H_CAPACITY))


# Lemmas: ghost methods whose contract is the fact, proven once by their body.
# The library calls them as statements (`lemma_...(...)`), which the builds
# strip like any contract statement (build.CONTRACT_STATEMENTS).

def lemma_word_stored(S: PSeq[int], k: int, v: int) -> None:
    """Storing a word from the flow records on is the same store in the
    abstract table's words; the header fields do not move."""
    Requires(words_ok(S) and flows_at(S) <= k and k < len(S))
    Ensures(words_ok(S.update(k, v)))
    Ensures(abs_of(S.update(k, v)) == with_word(abs_of(S), k - flows_at(S), v))
    Assert(at(S.update(k, v), H_CAPACITY) == at(S, H_CAPACITY) and
           at(S.update(k, v), H_MASK) == at(S, H_MASK))
    Assert(flows_at(S.update(k, v)) == flows_at(S))
    Assert(S.update(k, v).drop(flows_at(S)) == S.drop(flows_at(S)).update(k - flows_at(S), v))
    Assert(Reveal(abs_of(S)) == Table(at(S, H_CAPACITY), at(S, H_COUNT), at(S, H_OLDEST),
                                      at(S, H_NEWEST), at(S, H_RING_HEAD), S.drop(flows_at(S))))
    Assert(Reveal(abs_of(S.update(k, v))) ==
           Table(at(S.update(k, v), H_CAPACITY), at(S.update(k, v), H_COUNT),
                 at(S.update(k, v), H_OLDEST), at(S.update(k, v), H_NEWEST),
                 at(S.update(k, v), H_RING_HEAD), S.update(k, v).drop(flows_at(S.update(k, v)))))


def lemma_header_stored(S: PSeq[int], h: int, v: int) -> None:
    """Storing one of the allocator's header words is with_header."""
    Requires(words_ok(S))
    Requires(h == H_COUNT or h == H_OLDEST or h == H_NEWEST or h == H_RING_HEAD)
    Ensures(words_ok(S.update(h, v)))
    Ensures(abs_of(S.update(h, v)) == with_header(abs_of(S), h, v))
    Assert(at(S.update(h, v), H_CAPACITY) == at(S, H_CAPACITY) and
           at(S.update(h, v), H_MASK) == at(S, H_MASK))
    Assert(flows_at(S.update(h, v)) == flows_at(S))
    Assert(S.update(h, v).drop(flows_at(S)) == S.drop(flows_at(S)))
    Assert(Reveal(abs_of(S)) == Table(at(S, H_CAPACITY), at(S, H_COUNT), at(S, H_OLDEST),
                                      at(S, H_NEWEST), at(S, H_RING_HEAD), S.drop(flows_at(S))))
    Assert(Reveal(abs_of(S.update(h, v))) ==
           Table(at(S.update(h, v), H_CAPACITY), at(S.update(h, v), H_COUNT),
                 at(S.update(h, v), H_OLDEST), at(S.update(h, v), H_NEWEST),
                 at(S.update(h, v), H_RING_HEAD), S.update(h, v).drop(flows_at(S.update(h, v)))))


@Pure
def rec_off(S: PSeq[int], i: int, f: int) -> int:
    """Where word f of index i's flow record is in a table's words S (layout.flow_at)."""
    Decreases(None)
    return flows_at(S) + FLOW_WORDS * i + f


@Pure
def link_off(S: PSeq[int], i: int, f: int) -> int:
    """Where index i's link word f is in a table's words S (layout.link_at)."""
    Decreases(None)
    return flows_at(S) + FLOW_WORDS * at(S, H_CAPACITY) + LINK_WORDS * i + f


@Pure
def ring_off(S: PSeq[int], p: int, f: int) -> int:
    """Where word p of the ring region (f = R_RING) or of the position region
    (f = R_POS) is in a table's words S (layout.ring_at, layout.pos_at)."""
    Decreases(None)
    return flows_at(S) + (FLOW_WORDS + LINK_WORDS + f) * at(S, H_CAPACITY) + p


def lemma_rec_stored(S: PSeq[int], i: int, f: int, v: int) -> None:
    """Storing word f of index i's flow record is with_rec."""
    Requires(words_ok(S) and 0 <= i and i < at(S, H_CAPACITY) and 0 <= f and f < FLOW_WORDS)
    Ensures(words_ok(S.update(rec_off(S, i, f), v)))
    Ensures(abs_of(S.update(rec_off(S, i, f), v)) == with_rec(abs_of(S), i, f, v))
    lemma_word_stored(S, rec_off(S, i, f), v)


def lemma_link_stored(S: PSeq[int], i: int, f: int, v: int) -> None:
    """Storing index i's link word f is with_link."""
    Requires(words_ok(S) and 0 <= i and i < at(S, H_CAPACITY) and 0 <= f and f < LINK_WORDS)
    Ensures(words_ok(S.update(link_off(S, i, f), v)))
    Ensures(abs_of(S.update(link_off(S, i, f), v)) == with_link(abs_of(S), i, f, v))
    Assert(Reveal(abs_of(S)).cap == at(S, H_CAPACITY))
    lemma_word_stored(S, link_off(S, i, f), v)


def lemma_ring_stored(S: PSeq[int], p: int, f: int, v: int) -> None:
    """Storing word p of the ring (f = R_RING) or position (f = R_POS) region is with_ring."""
    Requires(words_ok(S) and 0 <= p and p < at(S, H_CAPACITY) and (f == R_RING or f == R_POS))
    Ensures(words_ok(S.update(ring_off(S, p, f), v)))
    Ensures(abs_of(S.update(ring_off(S, p, f), v)) == with_ring(abs_of(S), p, f, v))
    Assert(Reveal(abs_of(S)).cap == at(S, H_CAPACITY))
    lemma_word_stored(S, ring_off(S, p, f), v)


# ---- the map's invariant as a value: kept across the allocator's stores ----
# map_ok(t) reads the heap, so after any store Z3 re-proves it from the
# word frame: its three quantifiers matched again, minutes in flowtable's
# hand-overs (docs/progress-prove.md, session 11: flow_refresh's 157-256 s
# were almost all map_ok and coupled). map_ok_s reads the same from a
# sequence of words, and is opaque: an allocator setter calls
# lemma_map_ok_kept before its store and ensures map_ok_s(ToSeq(t)) equal
# to its old value, a boolean that the operations above pass on unopened,
# and flowtable turns it back into map_ok with lemma_map_ok_words. No sequence
# equality reaches a proof that also reasons about the abstract value (Z3
# choked on that, session 11).

@Pure
def slots_of(S: PSeq[int]) -> PSeq[int]:
    """The slot words of a table's words S."""
    Decreases(None)
    return S.drop(HEADER_WORDS).take(flows_at(S) - HEADER_WORDS)


@Pure
def vslot(V: PSeq[int], s: int, f: int) -> int:
    """Word f of slot s in the slot words V."""
    Decreases(None)
    return at(V, SLOT_WORDS * s + f)


@Pure
def map_ok_v(capacity: int, mask: int, salt: int, V: PSeq[int]) -> bool:
    """ghost.map_ok but geometry, read from the slot words V and the three
    header words it uses."""
    Decreases(None)
    return (0 <= salt and salt < SALT_LIMIT and
            Forall(int, lambda s: (Implies(0 <= s and s <= mask,
                   SLOT_EMPTY <= vslot(V, s, SLOT_FLOW) and vslot(V, s, SLOT_FLOW) < capacity and
                   Implies(vslot(V, s, SLOT_FLOW) >= 0,
                           0 <= vslot(V, s, SLOT_HOME) and vslot(V, s, SLOT_HOME) <= mask and
                           0 <= vslot(V, s, SLOT_KEY1) and vslot(V, s, SLOT_KEY1) < KEY_LIMIT and
                           0 <= vslot(V, s, SLOT_KEY2) and vslot(V, s, SLOT_KEY2) < KEY_LIMIT and
                           vslot(V, s, SLOT_HOME) ==
                           home_of(vslot(V, s, SLOT_KEY1), vslot(V, s, SLOT_KEY2), salt, mask + 1))),
                   [[vslot(V, s, SLOT_FLOW)]])) and
            Forall2(int, int, lambda p, q: (Implies(
                   0 <= p and p <= mask and 0 <= q and q <= mask and vslot(V, p, SLOT_FLOW) >= 0 and
                   probe_dist(vslot(V, p, SLOT_HOME), q, mask + 1) <
                   probe_dist(vslot(V, p, SLOT_HOME), p, mask + 1),
                   vslot(V, q, SLOT_FLOW) != SLOT_EMPTY),
                   [[vslot(V, p, SLOT_HOME), vslot(V, q, SLOT_FLOW)]])) and
            Forall2(int, int, lambda p, q: (Implies(
                   0 <= p and p <= mask and 0 <= q and q <= mask and p != q and
                   vslot(V, p, SLOT_FLOW) >= 0 and vslot(V, q, SLOT_FLOW) >= 0,
                   vslot(V, p, SLOT_FLOW) != vslot(V, q, SLOT_FLOW) and
                   (vslot(V, p, SLOT_KEY1) != vslot(V, q, SLOT_KEY1) or
                    vslot(V, p, SLOT_KEY2) != vslot(V, q, SLOT_KEY2))),
                   [[vslot(V, p, SLOT_FLOW), vslot(V, q, SLOT_FLOW)]])))


@Pure
def geometry_s(S: PSeq[int]) -> bool:
    """ghost.geometry, on a table's words S."""
    Decreases(None)
    return (HEADER_WORDS <= len(S) and 1 <= at(S, H_CAPACITY) and at(S, H_CAPACITY) <= MAX_CAPACITY and
            2 * at(S, H_CAPACITY) <= at(S, H_MASK) + 1 and at(S, H_MASK) + 1 <= 4 * MAX_CAPACITY and
            len(S) == flows_at(S) + (FLOW_WORDS + LINK_WORDS + RING_WORDS) * at(S, H_CAPACITY))


@Opaque
@Pure
def map_ok_s(S: PSeq[int]) -> bool:
    """ghost.map_ok, on a table's words S (opaque: see above)."""
    Decreases(None)
    return geometry_s(S) and map_ok_v(at(S, H_CAPACITY), at(S, H_MASK), at(S, H_SALT), slots_of(S))


@Pure
def slots_viewed(t: List[int]) -> bool:
    """Lemma (true; use it in an Assert): the slot words of t's words are t's slots."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t))
    Decreases(None)
    Ensures(Result())
    Ensures(Forall2(int, int, lambda s, f: (Implies(
            0 <= s and s <= t[H_MASK] and 0 <= f and f < SLOT_WORDS,
            vslot(slots_of(ToSeq(t)), s, f) == slot_word(t, s, f)),
            [[vslot(slots_of(ToSeq(t)), s, f)], [slot_word(t, s, f)]])))
    return at(ToSeq(t), H_MASK) == t[H_MASK]


def lemma_map_ok_words(t: List[int]) -> None:
    """Lemma: map_ok(t) is map_ok_s of t's words. A lemma method, not a pure
    function: Silicon proves every function of the program it is given, so
    as a function this proof was made again in every part that used it
    (5-8 s each); a method the other modules' parts use by its contract."""
    Requires(Acc(list_pred(t), 1/2))
    Ensures(Acc(list_pred(t), 1/2))
    Ensures(map_ok(t) == map_ok_s(ToSeq(t)))
    Assert(Reveal(map_ok_s(ToSeq(t))) ==
            (geometry_s(ToSeq(t)) and
             map_ok_v(at(ToSeq(t), H_CAPACITY), at(ToSeq(t), H_MASK), at(ToSeq(t), H_SALT),
                      slots_of(ToSeq(t)))) and
            geometry(t) == geometry_s(ToSeq(t)) and
            Implies(geometry(t), slots_viewed(t) and
                    at(ToSeq(t), H_CAPACITY) == t[H_CAPACITY] and
                    at(ToSeq(t), H_SALT) == t[H_SALT]))


def lemma_map_ok_kept(S: PSeq[int], k: int, v: int) -> None:
    """A store outside the map's words (an allocator header word, or from
    the flow records on) keeps map_ok_s."""
    Requires(words_ok(S) and 0 <= k and k < len(S))
    Requires(flows_at(S) <= k or (H_MASK < k and k < H_SALT))
    Ensures(map_ok_s(S.update(k, v)) == map_ok_s(S))
    Assert(at(S.update(k, v), H_CAPACITY) == at(S, H_CAPACITY) and
           at(S.update(k, v), H_MASK) == at(S, H_MASK) and
           at(S.update(k, v), H_SALT) == at(S, H_SALT))
    Assert(flows_at(S.update(k, v)) == flows_at(S))
    Assert(slots_of(S.update(k, v)) == slots_of(S))
    Assert(Reveal(map_ok_s(S)) ==
           (geometry_s(S) and map_ok_v(at(S, H_CAPACITY), at(S, H_MASK), at(S, H_SALT), slots_of(S))))
    Assert(Reveal(map_ok_s(S.update(k, v))) ==
           (geometry_s(S.update(k, v)) and
            map_ok_v(at(S, H_CAPACITY), at(S, H_MASK), at(S, H_SALT), slots_of(S))))


# coupled, as a value the same way, but read from the words directly
# (sslot, srec: one `at` each): a refresh changes one record's time, and with
# coupled read from a view of the records (take/drop), the lemma that a new
# time keeps it did not prove in minutes; sequence updates alone Z3 takes in
# its stride.

@Pure
def sslot(S: PSeq[int], s: int, f: int) -> int:
    """Word f of slot s in a table's words S (ghost.slot_word)."""
    Decreases(None)
    return at(S, HEADER_WORDS + SLOT_WORDS * s + f)


@Pure
def srec(S: PSeq[int], i: int, f: int) -> int:
    """Word f of flow record i in a table's words S (ghost.flow_word)."""
    Decreases(None)
    return at(S, flows_at(S) + FLOW_WORDS * i + f)


@Pure
def coupled_s_body(S: PSeq[int]) -> bool:
    """coupled, on a table's words S. A slot's index is below the capacity
    by map_ok; said here too, so that the lemmas below need not assume
    map_ok."""
    Decreases(None)
    return (Forall(int, lambda s: (Implies(
                0 <= s and s <= at(S, H_MASK) and 0 <= sslot(S, s, SLOT_FLOW) and
                sslot(S, s, SLOT_FLOW) < at(S, H_CAPACITY),
                srec(S, sslot(S, s, SLOT_FLOW), F_LAST_SEEN) != FREE and
                srec(S, sslot(S, s, SLOT_FLOW), F_KEY1) == sslot(S, s, SLOT_KEY1) and
                srec(S, sslot(S, s, SLOT_FLOW), F_KEY2) == sslot(S, s, SLOT_KEY2)),
                [[sslot(S, s, SLOT_FLOW)]])) and
            Forall(int, lambda i: (Implies(
                0 <= i and i < at(S, H_CAPACITY) and srec(S, i, F_LAST_SEEN) != FREE,
                0 <= srec(S, i, F_MAC) and srec(S, i, F_MAC) < KEY_LIMIT and
                Exists(int, lambda s: (0 <= s and s <= at(S, H_MASK) and sslot(S, s, SLOT_FLOW) == i,
                                       [[sslot(S, s, SLOT_FLOW)]]))),
                [[srec(S, i, F_LAST_SEEN)]])))


@Opaque
@Pure
def coupled_s(S: PSeq[int]) -> bool:
    """coupled_s_body, opaque (as map_ok_s)."""
    Decreases(None)
    return coupled_s_body(S)


@Pure
def words_match(t: List[int]) -> bool:
    """Lemma (true; use it in an Assert): the slots and records read from t's
    words are t's."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t))
    Decreases(None)
    Ensures(Result())
    Ensures(at(ToSeq(t), H_MASK) == t[H_MASK] and at(ToSeq(t), H_CAPACITY) == t[H_CAPACITY])
    Ensures(Forall2(int, int, lambda s, f: (Implies(
            0 <= s and s <= t[H_MASK] and 0 <= f and f < SLOT_WORDS,
            sslot(ToSeq(t), s, f) == slot_word(t, s, f)),
            [[sslot(ToSeq(t), s, f)], [slot_word(t, s, f)]])))
    Ensures(Forall2(int, int, lambda i, f: (Implies(
            0 <= i and i < t[H_CAPACITY] and 0 <= f and f < FLOW_WORDS,
            srec(ToSeq(t), i, f) == flow_word(t, i, f)),
            [[srec(ToSeq(t), i, f)], [flow_word(t, i, f)]])))
    return at(ToSeq(t), H_MASK) == t[H_MASK] and at(ToSeq(t), H_CAPACITY) == t[H_CAPACITY]


@Pure
def coupled_words(t: List[int]) -> bool:
    """Lemma (true; use it in an Assert): coupled(t) is coupled_s of t's words."""
    Requires(Acc(list_pred(t), 1/2) and map_ok(t))
    Decreases(None)
    Ensures(Result())
    Ensures(coupled(t) == coupled_s(ToSeq(t)))
    return (words_match(t) and
            Reveal(coupled_s(ToSeq(t))) == coupled_s_body(ToSeq(t)) and
            Implies(coupled(t), coupled_s_body(ToSeq(t))) and
            Implies(coupled_s_body(ToSeq(t)), coupled(t)))


@Pure
def slots_kept(S: PSeq[int], k: int, v: int) -> bool:
    """Lemma (true; use it in an Assert): a store outside the slots (an
    allocator header word, or from the flow records on) leaves the capacity,
    the mask and every slot word as they are."""
    Requires(words_ok(S) and 0 <= k and k < len(S))
    Requires(flows_at(S) <= k or (H_MASK < k and k < H_SALT))
    Decreases(None)
    Ensures(Result())
    Ensures(at(S.update(k, v), H_CAPACITY) == at(S, H_CAPACITY) and
            at(S.update(k, v), H_MASK) == at(S, H_MASK))
    Ensures(Forall2(int, int, lambda s, f: (Implies(
            0 <= s and s <= at(S, H_MASK) and 0 <= f and f < SLOT_WORDS,
            sslot(S.update(k, v), s, f) == sslot(S, s, f)),
            [[sslot(S.update(k, v), s, f)], [sslot(S, s, f)]])))
    return at(S.update(k, v), H_MASK) == at(S, H_MASK)


def lemma_coupled_kept(S: PSeq[int], k: int, v: int) -> None:
    """A store outside the slots and the records (an allocator header word,
    a link, the ring) keeps coupled_s."""
    Requires(words_ok(S) and 0 <= k and k < len(S))
    Requires(flows_at(S) + FLOW_WORDS * at(S, H_CAPACITY) <= k or (H_MASK < k and k < H_SALT))
    Ensures(coupled_s(S.update(k, v)) == coupled_s(S))
    Assert(slots_kept(S, k, v))
    Assert(Forall2(int, int, lambda j, f: (Implies(
            0 <= j and j < at(S, H_CAPACITY) and 0 <= f and f < FLOW_WORDS,
            srec(S.update(k, v), j, f) == srec(S, j, f)),
            [[srec(S.update(k, v), j, f)], [srec(S, j, f)]])))
    Assert(Reveal(coupled_s(S)) == coupled_s_body(S))
    Assert(Reveal(coupled_s(S.update(k, v))) == coupled_s_body(S.update(k, v)))


def lemma_coupled_stamped(S: PSeq[int], i: int, v: int) -> None:
    """A new time for a live flow (neither time FREE) keeps coupled_s."""
    Requires(words_ok(S) and 0 <= i and i < at(S, H_CAPACITY))
    Ensures(Implies(at(S, rec_off(S, i, F_LAST_SEEN)) != FREE and v != FREE,
                    coupled_s(S.update(rec_off(S, i, F_LAST_SEEN), v)) == coupled_s(S)))
    k = rec_off(S, i, F_LAST_SEEN)
    Assert(slots_kept(S, k, v))
    Assert(Forall2(int, int, lambda j, f: (Implies(
            0 <= j and j < at(S, H_CAPACITY) and 0 <= f and f < FLOW_WORDS,
            srec(S.update(k, v), j, f) ==
            (v if j == i and f == F_LAST_SEEN else srec(S, j, f))),
            [[srec(S.update(k, v), j, f)], [srec(S, j, f)]])))
    Assert(srec(S, i, F_LAST_SEEN) == at(S, k))
    Assert(Implies(at(S, k) != FREE and v != FREE,
                   Implies(coupled_s_body(S), coupled_s_body(S.update(k, v)))))
    Assert(Implies(at(S, k) != FREE and v != FREE,
                   Implies(coupled_s_body(S.update(k, v)), coupled_s_body(S))))
    Assert(Reveal(coupled_s(S)) == coupled_s_body(S))
    Assert(Reveal(coupled_s(S.update(k, v))) == coupled_s_body(S.update(k, v)))


@Pure
def records_match(t: List[int]) -> bool:
    """Lemma (true; use it in an Assert): abstract(t)'s records are t's flow
    records, word for word, and its header fields t's."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t))
    Decreases(None)
    Ensures(Result())
    Ensures(Forall2(int, int, lambda m, f: (Implies(
        0 <= m and m < t[H_CAPACITY] and 0 <= f and f < FLOW_WORDS,
        rec_of(abstract(t), m, f) == flow_word(t, m, f)),
        [[rec_of(abstract(t), m, f)], [flow_word(t, m, f)]])))
    Ensures(abstract(t).cap == t[H_CAPACITY] and abstract(t).count == t[H_COUNT] and
            abstract(t).oldest == t[H_OLDEST] and abstract(t).newest == t[H_NEWEST] and
            abstract(t).head == t[H_RING_HEAD])
    return Reveal(abs_of(ToSeq(t))) == Table(
        at(ToSeq(t), H_CAPACITY), at(ToSeq(t), H_COUNT), at(ToSeq(t), H_OLDEST),
        at(ToSeq(t), H_NEWEST), at(ToSeq(t), H_RING_HEAD), ToSeq(t).drop(flows_at(ToSeq(t))))


@Pure
def links_match(t: List[int]) -> bool:
    """Lemma (true; use it in an Assert): abstract(t)'s links are t's links,
    word for word, and its header fields t's."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t))
    Decreases(None)
    Ensures(Result())
    Ensures(Forall2(int, int, lambda m, f: (Implies(
        0 <= m and m < t[H_CAPACITY] and 0 <= f and f < LINK_WORDS,
        link_of(abstract(t), m, f) == link_word(t, m, f)),
        [[link_of(abstract(t), m, f)], [link_word(t, m, f)]])))
    Ensures(abstract(t).cap == t[H_CAPACITY] and abstract(t).count == t[H_COUNT] and
            abstract(t).oldest == t[H_OLDEST] and abstract(t).newest == t[H_NEWEST] and
            abstract(t).head == t[H_RING_HEAD])
    return Reveal(abs_of(ToSeq(t))) == Table(
        at(ToSeq(t), H_CAPACITY), at(ToSeq(t), H_COUNT), at(ToSeq(t), H_OLDEST),
        at(ToSeq(t), H_NEWEST), at(ToSeq(t), H_RING_HEAD), ToSeq(t).drop(flows_at(ToSeq(t))))


@Pure
def ring_match(t: List[int]) -> bool:
    """Lemma (true; use it in an Assert): abstract(t)'s ring and position
    regions are t's, word for word, and its header fields t's."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t))
    Decreases(None)
    Ensures(Result())
    Ensures(Forall(int, lambda p: (Implies(0 <= p and p < t[H_CAPACITY],
        ring_of(abstract(t), p, R_RING) == ring_word(t, p, R_RING)),
        [[ring_of(abstract(t), p, R_RING)], [ring_word(t, p, R_RING)]])))
    Ensures(Forall(int, lambda p: (Implies(0 <= p and p < t[H_CAPACITY],
        ring_of(abstract(t), p, R_POS) == ring_word(t, p, R_POS)),
        [[ring_of(abstract(t), p, R_POS)], [ring_word(t, p, R_POS)]])))
    Ensures(abstract(t).cap == t[H_CAPACITY] and abstract(t).count == t[H_COUNT] and
            abstract(t).oldest == t[H_OLDEST] and abstract(t).newest == t[H_NEWEST] and
            abstract(t).head == t[H_RING_HEAD])
    return Reveal(abs_of(ToSeq(t))) == Table(
        at(ToSeq(t), H_CAPACITY), at(ToSeq(t), H_COUNT), at(ToSeq(t), H_OLDEST),
        at(ToSeq(t), H_NEWEST), at(ToSeq(t), H_RING_HEAD), ToSeq(t).drop(flows_at(ToSeq(t))))


@Opaque
@Pure
def ring_pair_match(t: List[int], i: int, p: int) -> bool:
    """Lemma (true; use it in an Assert): index i's ring position and ring
    position p's index in abstract(t) are t's, as the same references
    (`is`: the words that allocator._swap_out reads are stored back,
    docs/prove-notes/README.md item 7). Opaque, unlike ring_match: a caller
    sees these two facts only, not abs_of's definition."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t))
    Requires(0 <= i and i < t[H_CAPACITY] and 0 <= p and p < t[H_CAPACITY])
    Decreases(None)
    Ensures(Result())
    Ensures(pos_of(abstract(t), i) is ring_word(t, i, R_POS) and
            ring_index(abstract(t), p) is ring_word(t, p, R_RING))
    return (Reveal(abs_of(ToSeq(t))) == Table(
        at(ToSeq(t), H_CAPACITY), at(ToSeq(t), H_COUNT), at(ToSeq(t), H_OLDEST),
        at(ToSeq(t), H_NEWEST), at(ToSeq(t), H_RING_HEAD), ToSeq(t).drop(flows_at(ToSeq(t)))) and
            Reveal(pos_of(abstract(t), i)) == ring_of(abstract(t), i, R_POS) and
            Reveal(ring_index(abstract(t), p)) == ring_of(abstract(t), p, R_RING))


@Opaque
@Pure
def next_free_match(t: List[int]) -> bool:
    """Lemma (true; use it in an Assert): abstract(t)'s next free index is
    the word at t's ring head, as the same reference (`is`, as
    ring_pair_match: allocator._take returns that word). Opaque: the caller
    sees this fact only, not abs_of's definition."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t))
    Requires(0 <= t[H_RING_HEAD] and t[H_RING_HEAD] < t[H_CAPACITY])
    Decreases(None)
    Ensures(Result())
    Ensures(next_free(abstract(t)) is ring_word(t, t[H_RING_HEAD], R_RING))
    return Reveal(abs_of(ToSeq(t))) == Table(
        at(ToSeq(t), H_CAPACITY), at(ToSeq(t), H_COUNT), at(ToSeq(t), H_OLDEST),
        at(ToSeq(t), H_NEWEST), at(ToSeq(t), H_RING_HEAD), ToSeq(t).drop(flows_at(ToSeq(t))))


@Opaque
@Pure
def header_match(t: List[int]) -> bool:
    """Lemma (true; use it in an Assert): abstract(t)'s header fields are
    t's. Opaque, so that abs_of's definition stays out of the caller's proof."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t))
    Decreases(None)
    Ensures(Result())
    Ensures(abstract(t).cap == t[H_CAPACITY] and abstract(t).count == t[H_COUNT] and
            abstract(t).oldest == t[H_OLDEST] and abstract(t).newest == t[H_NEWEST] and
            abstract(t).head == t[H_RING_HEAD])
    return Reveal(abs_of(ToSeq(t))) == Table(
        at(ToSeq(t), H_CAPACITY), at(ToSeq(t), H_COUNT), at(ToSeq(t), H_OLDEST),
        at(ToSeq(t), H_NEWEST), at(ToSeq(t), H_RING_HEAD), ToSeq(t).drop(flows_at(ToSeq(t))))


# ---- the allocator's invariant as a value of the abstract table ----
# The flow map's operations store slot words only, and say so as
# `abstract(t) == Old(abstract(t))`. allocator_ok(t) reads the heap, so Z3
# re-proved it after map_erase from the word frame (~100 s of
# flowtable._erase_keeping, docs/progress-prove.md session 12);
# allocator_ok_a reads the abstract table, so it is the same value there.

@Pure
def ring_offset_of(A: Table, p: int) -> int:
    """How far ring position p lies after the head (ghost.ring_offset)."""
    Decreases(None)
    return p - A.head if p >= A.head else p - A.head + A.cap


@Pure
def allocator_ok_body(A: Table) -> bool:
    """ghost.allocator_ok but geometry (links_ok, ring_ok, free_ok), on A."""
    Decreases(None)
    return (-1 <= A.oldest and A.oldest < A.cap and -1 <= A.newest and A.newest < A.cap and
            Forall(int, lambda i: (Implies(0 <= i and i < A.cap,
                   -1 <= link_of(A, i, L_PREV) and link_of(A, i, L_PREV) < A.cap and
                   -1 <= link_of(A, i, L_NEXT) and link_of(A, i, L_NEXT) < A.cap),
                   [[link_of(A, i, L_PREV)], [link_of(A, i, L_NEXT)]])) and
            Forall(int, lambda k: (Implies(0 <= k and k < A.cap,
                   0 <= ring_of(A, k, R_RING) and ring_of(A, k, R_RING) < A.cap and
                   ring_of(A, ring_of(A, k, R_RING), R_POS) == k),
                   [[ring_of(A, k, R_RING)]])) and
            Forall(int, lambda i: (Implies(0 <= i and i < A.cap,
                   0 <= ring_of(A, i, R_POS) and ring_of(A, i, R_POS) < A.cap and
                   ring_of(A, ring_of(A, i, R_POS), R_RING) == i),
                   [[ring_of(A, i, R_POS)]])) and
            0 <= A.count and A.count <= A.cap and 0 <= A.head and A.head < A.cap and
            Forall(int, lambda i: (Implies(0 <= i and i < A.cap,
                   FREE <= rec_of(A, i, F_LAST_SEEN) and rec_of(A, i, F_LAST_SEEN) <= MAX_TIME and
                   0 <= ring_of(A, i, R_POS) and ring_of(A, i, R_POS) < A.cap and
                   (rec_of(A, i, F_LAST_SEEN) == FREE) ==
                   (ring_offset_of(A, ring_of(A, i, R_POS)) < A.cap - A.count)),
                   [[rec_of(A, i, F_LAST_SEEN)], [ring_of(A, i, R_POS)]])))


@Opaque
@Pure
def allocator_ok_a(A: Table) -> bool:
    """allocator_ok_body, opaque (as map_ok_s)."""
    Decreases(None)
    return allocator_ok_body(A)


def lemma_allocator_ok_abstract(t: List[int]) -> None:
    """Lemma: allocator_ok(t) is allocator_ok_a of t's abstract table (a
    lemma method, as lemma_map_ok_words)."""
    Requires(Acc(list_pred(t), 1/2) and geometry(t))
    Ensures(Acc(list_pred(t), 1/2))
    Ensures(allocator_ok(t) == allocator_ok_a(abstract(t)))
    Assert(records_match(t) and links_match(t) and ring_match(t) and
           Reveal(allocator_ok_a(abstract(t))) == allocator_ok_body(abstract(t)))


def lemma_allocator_ok_keyed(A: Table, i: int, f: int, v: int) -> None:
    """The allocator's invariant reads no key or MAC: storing one of index
    i's (flowtable._fill_keeping) keeps allocator_ok_a."""
    Requires(0 <= i and i < A.cap and (f == F_KEY1 or f == F_KEY2 or f == F_MAC))
    Ensures(Implies(allocator_ok_a(A), allocator_ok_a(with_rec(A, i, f, v))))
    Ensures(with_rec(A, i, f, v).cap == A.cap)
    B = with_rec(A, i, f, v)
    Assert(B.cap == A.cap and B.count == A.count and B.oldest == A.oldest and
           B.newest == A.newest and B.head == A.head)
    Assert(Forall2(int, int, lambda j, g: (Implies(0 <= j and j < A.cap and 0 <= g and g < LINK_WORDS,
        link_of(B, j, g) == link_of(A, j, g)), [[link_of(B, j, g)]])))
    Assert(Forall2(int, int, lambda p, g: (Implies(0 <= p and p < A.cap and 0 <= g and g < RING_WORDS,
        ring_of(B, p, g) == ring_of(A, p, g)), [[ring_of(B, p, g)]])))
    Assert(Forall(int, lambda j: (Implies(0 <= j and j < A.cap,
        rec_of(B, j, F_LAST_SEEN) == rec_of(A, j, F_LAST_SEEN)), [[rec_of(B, j, F_LAST_SEEN)]])))
    Assert(Reveal(allocator_ok_a(A)) == allocator_ok_body(A))
    Assert(Reveal(allocator_ok_a(B)) == allocator_ok_body(B))


def lemma_allocator_ok_stamped(A: Table, i: int, now: int) -> None:
    """A live index's new time keeps the allocator's invariant
    (allocator._stamp): it stays out of the free window."""
    Requires(0 <= i and i < A.cap and rec_of(A, i, F_LAST_SEEN) != FREE and 0 <= now and now <= MAX_TIME)
    Ensures(Implies(allocator_ok_a(A), allocator_ok_a(with_rec(A, i, F_LAST_SEEN, now))))
    B = with_rec(A, i, F_LAST_SEEN, now)
    Assert(B.cap == A.cap and B.count == A.count and B.oldest == A.oldest and
           B.newest == A.newest and B.head == A.head)
    Assert(Forall2(int, int, lambda j, f: (Implies(0 <= j and j < A.cap and 0 <= f and f < LINK_WORDS,
        link_of(B, j, f) == link_of(A, j, f)), [[link_of(B, j, f)]])))
    Assert(Forall2(int, int, lambda p, f: (Implies(0 <= p and p < A.cap and 0 <= f and f < RING_WORDS,
        ring_of(B, p, f) == ring_of(A, p, f)), [[ring_of(B, p, f)]])))
    Assert(rec_of(B, i, F_LAST_SEEN) == now)
    Assert(Forall(int, lambda j: (Implies(0 <= j and j < A.cap and j != i,
        rec_of(B, j, F_LAST_SEEN) == rec_of(A, j, F_LAST_SEEN)), [[rec_of(B, j, F_LAST_SEEN)]])))
    Assert(Reveal(allocator_ok_a(A)) == allocator_ok_body(A))
    Assert(Reveal(allocator_ok_a(B)) == allocator_ok_body(B))


def lemma_allocator_ok_taken(A: Table, now: int) -> None:
    """Taking the free FIFO's first index and stamping it keeps the
    allocator's invariant (allocator._take): the head moves on by one, so
    every other index's ring offset and the free window shrink by one."""
    Requires(allocator_ok_a(A) and A.count < A.cap and 0 <= now and now <= MAX_TIME)
    Ensures(allocator_ok_a(with_rec(taken(A), next_free(A), F_LAST_SEEN, now)))
    n = next_free(A)
    B = with_rec(taken(A), n, F_LAST_SEEN, now)
    Assert(Reveal(allocator_ok_a(A)) == allocator_ok_body(A))
    Assert(B.cap == A.cap and B.count == A.count + 1 and B.oldest == A.oldest and
           B.newest == A.newest and B.head == (A.head + 1 if A.head + 1 < A.cap else 0))
    Assert(Forall2(int, int, lambda j, f: (Implies(0 <= j and j < A.cap and 0 <= f and f < LINK_WORDS,
        link_of(B, j, f) == link_of(A, j, f)), [[link_of(B, j, f)]])))
    Assert(Forall2(int, int, lambda p, f: (Implies(0 <= p and p < A.cap and 0 <= f and f < RING_WORDS,
        ring_of(B, p, f) == ring_of(A, p, f)), [[ring_of(B, p, f)]])))
    Assert(0 <= n and n < A.cap and ring_of(A, n, R_POS) == A.head and rec_of(A, n, F_LAST_SEEN) == FREE)
    Assert(rec_of(B, n, F_LAST_SEEN) == now)
    Assert(Forall(int, lambda j: (Implies(0 <= j and j < A.cap and j != n,
        rec_of(B, j, F_LAST_SEEN) == rec_of(A, j, F_LAST_SEEN) and
        ring_of(A, j, R_POS) != A.head and
        ring_offset_of(B, ring_of(B, j, R_POS)) == ring_offset_of(A, ring_of(A, j, R_POS)) - 1),
        [[rec_of(B, j, F_LAST_SEEN)], [ring_of(B, j, R_POS)]])))
    Assert(Reveal(allocator_ok_a(B)) == allocator_ok_body(B))


def lemma_allocator_ok_marked(A: Table, i: int) -> None:
    """Marking free the allocated index just past the free window keeps the
    allocator's invariant (allocator._mark_free): the window grows by that
    one position, and no other index sits there."""
    Requires(allocator_ok_a(A) and 0 <= i and i < A.cap and rec_of(A, i, F_LAST_SEEN) != FREE)
    Requires(ring_offset_of(A, ring_of(A, i, R_POS)) == A.cap - A.count)
    Ensures(allocator_ok_a(with_header(with_rec(A, i, F_LAST_SEEN, FREE), H_COUNT, A.count - 1)))
    B = with_header(with_rec(A, i, F_LAST_SEEN, FREE), H_COUNT, A.count - 1)
    Assert(Reveal(allocator_ok_a(A)) == allocator_ok_body(A))
    Assert(B.cap == A.cap and B.count == A.count - 1 and B.oldest == A.oldest and
           B.newest == A.newest and B.head == A.head and A.count >= 1)
    Assert(Forall2(int, int, lambda j, f: (Implies(0 <= j and j < A.cap and 0 <= f and f < LINK_WORDS,
        link_of(B, j, f) == link_of(A, j, f)), [[link_of(B, j, f)]])))
    Assert(Forall2(int, int, lambda p, f: (Implies(0 <= p and p < A.cap and 0 <= f and f < RING_WORDS,
        ring_of(B, p, f) == ring_of(A, p, f)), [[ring_of(B, p, f)]])))
    Assert(rec_of(B, i, F_LAST_SEEN) == FREE)
    Assert(Forall(int, lambda j: (Implies(0 <= j and j < A.cap and j != i,
        rec_of(B, j, F_LAST_SEEN) == rec_of(A, j, F_LAST_SEEN) and
        ring_of(A, j, R_POS) != ring_of(A, i, R_POS) and
        0 <= ring_of(A, j, R_POS) and ring_of(A, j, R_POS) < A.cap and
        ring_offset_of(B, ring_of(B, j, R_POS)) == ring_offset_of(A, ring_of(A, j, R_POS)) and
        ring_offset_of(A, ring_of(A, j, R_POS)) != A.cap - A.count),
        [[rec_of(B, j, F_LAST_SEEN)], [ring_of(B, j, R_POS)]])))
    Assert(Reveal(allocator_ok_a(B)) == allocator_ok_body(B))


# ---- total reads and writes of a slice ----

@Pure
def at(s: PSeq[int], k: int) -> int:
    """s[k], or -1 outside s."""
    Decreases(None)
    return s[k] if 0 <= k and k < len(s) else -1


@Pure
def upd(s: PSeq[int], k: int, v: int) -> PSeq[int]:
    """s with s[k] = v, or s unchanged outside it."""
    Decreases(None)
    Ensures(len(Result()) == len(s))
    return s.update(k, v) if 0 <= k and k < len(s) else s


# ---- queries ----

@Pure
def capacity(A: Table) -> int:
    Decreases(None)
    return A.cap


@Pure
def live_count(A: Table) -> int:
    """How many indices are live (the header's count; that it is the
    number of live records follows from ghost.free_ok)."""
    Decreases(None)
    return A.count


@Pure
def full(A: Table) -> bool:
    Decreases(None)
    return A.count == A.cap


@Pure
def rec_of(A: Table, i: int, f: int) -> int:
    """Word f (F_KEY1 .. F_LAST_SEEN) of index i's record."""
    Decreases(None)
    return at(A.words, FLOW_WORDS * i + f)


@Pure
def link_of(A: Table, i: int, f: int) -> int:
    """Word f (L_PREV or L_NEXT) of index i's links."""
    Decreases(None)
    return at(A.words, FLOW_WORDS * A.cap + LINK_WORDS * i + f)


@Pure
def ring_of(A: Table, p: int, f: int) -> int:
    """Ring position p's index (f = R_RING) or index p's ring position
    (f = R_POS): word p of the ring region or of the position region."""
    Decreases(None)
    return at(A.words, (FLOW_WORDS + LINK_WORDS + f) * A.cap + p)


@Pure
def last_seen_of(A: Table, i: int) -> int:
    Decreases(None)
    return rec_of(A, i, F_LAST_SEEN)


@Pure
def live(A: Table, i: int) -> bool:
    Decreases(None)
    return 0 <= i and i < A.cap and last_seen_of(A, i) != FREE


@Pure
def key1_of(A: Table, i: int) -> int:
    Decreases(None)
    return rec_of(A, i, F_KEY1)


@Pure
def key2_of(A: Table, i: int) -> int:
    Decreases(None)
    return rec_of(A, i, F_KEY2)


@Pure
def mac_of(A: Table, i: int) -> int:
    Decreases(None)
    return rec_of(A, i, F_MAC)


@Pure
def next_free(A: Table) -> int:
    Decreases(None)
    return ring_of(A, A.head, R_RING)


@Pure
def holds(A: Table, i: int, k1: int, k2: int) -> bool:
    """Index i is a live flow with key (k1, k2)."""
    Decreases(None)
    return live(A, i) and key1_of(A, i) == k1 and key2_of(A, i) == k2


@Pure
def find_from(A: Table, k1: int, k2: int, j: int) -> int:
    """The lowest index from j on holding a live flow with key (k1, k2), or -1."""
    Requires(0 <= j)
    Decreases(A.cap - j)
    Ensures(-1 <= Result())
    Ensures(Implies(Result() >= 0, j <= Result() and holds(A, Result(), k1, k2)))
    Ensures(Implies(Result() == -1, Forall(int, lambda m: (
        Implies(j <= m and m < A.cap, not holds(A, m, k1, k2)), [[holds(A, m, k1, k2)]]))))
    if j >= A.cap:
        return -1
    return j if holds(A, j, k1, k2) else find_from(A, k1, k2, j + 1)


@Pure
def find(A: Table, k1: int, k2: int) -> int:
    Decreases(None)
    return find_from(A, k1, k2, 0)


# ---- building blocks of the transitions: one field or word each ----

@Pure
def with_word(A: Table, k: int, v: int) -> Table:
    """Word k of A's words (records | links | ring) := v."""
    Decreases(None)
    return Table(A.cap, A.count, A.oldest, A.newest, A.head, upd(A.words, k, v))


@Pure
def with_rec(A: Table, i: int, f: int, v: int) -> Table:
    Decreases(None)
    return with_word(A, FLOW_WORDS * i + f, v)


@Pure
def with_link(A: Table, i: int, f: int, v: int) -> Table:
    Decreases(None)
    return with_word(A, FLOW_WORDS * A.cap + LINK_WORDS * i + f, v)


@Pure
def with_ring(A: Table, p: int, f: int, v: int) -> Table:
    Decreases(None)
    return with_word(A, (FLOW_WORDS + LINK_WORDS + f) * A.cap + p, v)


@Pure
def with_header(A: Table, h: int, v: int) -> Table:
    """Header word h (H_COUNT, H_OLDEST, H_NEWEST or H_RING_HEAD) := v."""
    Decreases(None)
    return Table(A.cap, v if h == H_COUNT else A.count, v if h == H_OLDEST else A.oldest,
                 v if h == H_NEWEST else A.newest, v if h == H_RING_HEAD else A.head, A.words)


# ---- the least-recently-used list (allocator.lru_unlink / lru_append) ----

@Pure
def prev_of(A: Table, i: int) -> int:
    Decreases(None)
    return link_of(A, i, L_PREV)


@Pure
def next_of(A: Table, i: int) -> int:
    Decreases(None)
    return link_of(A, i, L_NEXT)


@Pure
def unlinked_prev(A: Table, i: int) -> Table:
    """First half of unlinking i: its predecessor (or the list's start) skips it."""
    Decreases(None)
    return (with_link(A, prev_of(A, i), L_NEXT, next_of(A, i)) if prev_of(A, i) >= 0
            else with_header(A, H_OLDEST, next_of(A, i)))


@Pure
def unlinked(A: Table, i: int) -> Table:
    """i taken out of the list (its own links are left as they were)."""
    Decreases(None)
    return (with_link(unlinked_prev(A, i), next_of(A, i), L_PREV, prev_of(A, i))
            if next_of(A, i) >= 0
            else with_header(unlinked_prev(A, i), H_NEWEST, prev_of(A, i)))


@Pure
def stamp_of(A: Table, i: int) -> int:
    """Index i's stamp (layout.L_STAMP)."""
    Decreases(None)
    return link_of(A, i, L_STAMP)


@Pure
def next_stamp(A: Table) -> int:
    """The stamp of an index appended to A's list: one more than the
    newest's, 0 into an empty list; it stops growing at MAX_STAMP
    (allocator.lru_append)."""
    Decreases(None)
    return (0 if A.newest < 0 else
            (stamp_of(A, A.newest) + 1 if stamp_of(A, A.newest) < MAX_STAMP else stamp_of(A, A.newest)))


@Pure
def linked_new(A: Table, i: int) -> Table:
    """i's own links once appended: its stamp, after the newest, nothing after it."""
    Decreases(None)
    return with_link(with_link(with_link(A, i, L_STAMP, next_stamp(A)), i, L_PREV, A.newest),
                     i, L_NEXT, -1)


@Pure
def appended(A: Table, i: int) -> Table:
    """i (not in the list) linked as the newest."""
    Decreases(None)
    return (with_header(with_link(linked_new(A, i), A.newest, L_NEXT, i), H_NEWEST, i)
            if A.newest >= 0
            else with_header(with_header(linked_new(A, i), H_OLDEST, i), H_NEWEST, i))


# ---- transitions ----

@Pure
def relinked(A: Table, i: int) -> Table:
    """Linked index i moved to the newest end of the list (allocator.lru_touch)."""
    Decreases(None)
    return A if A.newest == i else appended(unlinked(A, i), i)


@Pure
def touched(A: Table, i: int, now: int) -> Table:
    """Flow i used at `now`: it becomes the newest, last_seen = now."""
    Decreases(None)
    return with_rec(relinked(A, i), i, F_LAST_SEEN, now)


@Pure
def taken(A: Table) -> Table:
    """The free FIFO's first index taken: the ring's head moves on."""
    Decreases(None)
    return with_header(with_header(A, H_RING_HEAD, A.head + 1 if A.head + 1 < A.cap else 0),
                       H_COUNT, A.count + 1)


@Pure
def allocated(A: Table, now: int) -> Table:
    """Index next_free(A) taken, seen at `now`, newest (allocator.index_allocate)."""
    Decreases(None)
    return appended(with_rec(taken(A), next_free(A), F_LAST_SEEN, now), next_free(A))


@Pure
def added(A: Table, k1: int, k2: int, mac: int, now: int) -> Table:
    """A new flow (k1, k2, mac) seen at `now`, at index next_free(A), newest."""
    Decreases(None)
    return with_rec(with_rec(with_rec(allocated(A, now), next_free(A), F_KEY1, k1),
                             next_free(A), F_KEY2, k2), next_free(A), F_MAC, mac)


@Pure
def window_end(A: Table) -> int:
    """The ring position just past the free window (where a freed index goes)."""
    Decreases(None)
    return (A.head + A.cap - A.count if A.head + A.cap - A.count < A.cap
            else A.head - A.count)


# ring_index and pos_of are opaque (revealed in ring_pair_match and
# lemma_swapped, lemma_swapped_words). Transparent, allocator._ring_swap_words (which then
# revealed swapped in its own body: a ring_put whose position is a read of
# the same words) made Z3 grow to 12 GB and crash (docs/progress-prove.md,
# session 7).

@Opaque
@Pure
def ring_index(A: Table, p: int) -> int:
    Decreases(None)
    return ring_of(A, p, R_RING)


@Opaque
@Pure
def pos_of(A: Table, i: int) -> int:
    Decreases(None)
    return ring_of(A, i, R_POS)


@Opaque
@Pure
def ring_put(A: Table, p: int, i: int) -> Table:
    """Ring position p holds index i (allocator._ring_put). Opaque
    (revealed in allocator._ring_put and lemma_ring_put_words): lemmas on a
    swap see its effect word by word, never its chain of updates."""
    Decreases(None)
    Ensures(Result().cap == A.cap and Result().count == A.count and
            Result().oldest == A.oldest and Result().newest == A.newest and
            Result().head == A.head and len(Result().words) == len(A.words))
    return with_ring(with_ring(A, p, R_RING, i), i, R_POS, p)


def lemma_ring_words(A: Table, q: int, f: int, v: int) -> None:
    """What with_ring(A, q, f, v) stores: one ring or position word; every
    other ring and position word, every record and link word and the header
    are A's."""
    Requires(0 <= q and q < A.cap and 0 <= f and f < RING_WORDS)
    Ensures(with_ring(A, q, f, v).cap == A.cap and with_ring(A, q, f, v).count == A.count and
            with_ring(A, q, f, v).oldest == A.oldest and with_ring(A, q, f, v).newest == A.newest and
            with_ring(A, q, f, v).head == A.head and len(with_ring(A, q, f, v).words) == len(A.words))
    Ensures(Forall2(int, int, lambda m, g: (Implies(
        0 <= m and m < A.cap and 0 <= g and g < RING_WORDS and (m != q or g != f),
        ring_of(with_ring(A, q, f, v), m, g) == ring_of(A, m, g)), [[ring_of(with_ring(A, q, f, v), m, g)]])))
    Ensures(Implies(ring_of(A, q, f) >= 0, ring_of(with_ring(A, q, f, v), q, f) == v))
    Ensures(Forall2(int, int, lambda m, g: (Implies(0 <= m and m < A.cap and 0 <= g and g < LINK_WORDS,
        link_of(with_ring(A, q, f, v), m, g) == link_of(A, m, g)), [[link_of(with_ring(A, q, f, v), m, g)]])))
    Ensures(Forall(int, lambda m: (Implies(0 <= m and m < A.cap,
        rec_of(with_ring(A, q, f, v), m, F_LAST_SEEN) == rec_of(A, m, F_LAST_SEEN)),
        [[rec_of(with_ring(A, q, f, v), m, F_LAST_SEEN)]])))


def lemma_ring_put_words(A: Table, p: int, i: int) -> None:
    """What ring_put(A, p, i) stores, word by word: position p holds i and
    i's position is p; every other ring and position word, every record and
    link word and the header fields are A's. (Both words exist: they hold
    indices, never at()'s -1 for a word outside A.)"""
    Requires(0 <= i and i < A.cap and 0 <= p and p < A.cap)
    Requires(ring_of(A, p, R_RING) >= 0 and ring_of(A, i, R_POS) >= 0)
    Ensures(ring_put(A, p, i).cap == A.cap and ring_put(A, p, i).count == A.count and
            ring_put(A, p, i).oldest == A.oldest and ring_put(A, p, i).newest == A.newest and
            ring_put(A, p, i).head == A.head)
    Ensures(ring_of(ring_put(A, p, i), p, R_RING) == i and ring_of(ring_put(A, p, i), i, R_POS) == p)
    Ensures(Forall(int, lambda k: (Implies(0 <= k and k < A.cap and k != p,
        ring_of(ring_put(A, p, i), k, R_RING) == ring_of(A, k, R_RING)),
        [[ring_of(ring_put(A, p, i), k, R_RING)]])))
    Ensures(Forall(int, lambda m: (Implies(0 <= m and m < A.cap and m != i,
        ring_of(ring_put(A, p, i), m, R_POS) == ring_of(A, m, R_POS)),
        [[ring_of(ring_put(A, p, i), m, R_POS)]])))
    Ensures(Forall2(int, int, lambda m, f: (Implies(0 <= m and m < A.cap and 0 <= f and f < LINK_WORDS,
        link_of(ring_put(A, p, i), m, f) == link_of(A, m, f)), [[link_of(ring_put(A, p, i), m, f)]])))
    Ensures(Forall(int, lambda m: (Implies(0 <= m and m < A.cap,
        rec_of(ring_put(A, p, i), m, F_LAST_SEEN) == rec_of(A, m, F_LAST_SEEN)),
        [[rec_of(ring_put(A, p, i), m, F_LAST_SEEN)]])))
    # through what each store keeps (lemma_ring_words), not a search of
    # the two updates: that stalled in company (session 19)
    Assert(Reveal(ring_put(A, p, i)) == with_ring(with_ring(A, p, R_RING, i), i, R_POS, p))
    lemma_ring_words(A, p, R_RING, i)
    lemma_ring_words(with_ring(A, p, R_RING, i), i, R_POS, p)


@Opaque
@Pure
def swapped(A: Table, i: int, p: int) -> Table:
    """Index i moved to ring position p, the index that was at p to i's old
    position (allocator._ring_swap_words, for _swap_out).

    Opaque (revealed in lemma_swapped and lemma_swapped_words only): with
    its ring_put chain visible beside ring_ok's quantifiers, the swap's proof
    made Z3 grow past 3.5 GB in about a minute (docs/progress-prove.md,
    session 7). The invariant crosses it as a value:
    lemma_allocator_ok_swapped."""
    Decreases(None)
    Ensures(Result().cap == A.cap and Result().count == A.count and
            Result().oldest == A.oldest and Result().newest == A.newest and
            Result().head == A.head and len(Result().words) == len(A.words))
    return ring_put(ring_put(A, pos_of(A, i), ring_index(A, p)), p, i)


def lemma_swapped(A: Table, i: int, p: int, q: int, j: int) -> None:
    """swapped(A, i, p) is the two ring_put of allocator._ring_swap_words,
    given the position q and the index j it reads."""
    Ensures(Implies(q is pos_of(A, i) and j is ring_index(A, p),
                    swapped(A, i, p) == ring_put(ring_put(A, q, j), p, i)))
    Assert(Reveal(swapped(A, i, p)) ==
           ring_put(ring_put(A, pos_of(A, i), ring_index(A, p)), p, i))


def lemma_swapped_words(A: Table, i: int, p: int) -> None:
    """What swapped(A, i, p) stores, word by word: ring position p holds i
    and i's position is p; i's old position holds the index that was at p,
    whose position is i's old one; every other ring and position word, every
    record and link word and the header fields are A's."""
    Requires(0 <= i and i < A.cap and 0 <= p and p < A.cap)
    Requires(0 <= ring_of(A, i, R_POS) and ring_of(A, i, R_POS) < A.cap)
    Requires(0 <= ring_of(A, p, R_RING) and ring_of(A, p, R_RING) < A.cap)
    Requires(ring_of(A, ring_of(A, i, R_POS), R_RING) == i and ring_of(A, ring_of(A, p, R_RING), R_POS) == p)
    Ensures(ring_of(swapped(A, i, p), p, R_RING) == i and ring_of(swapped(A, i, p), i, R_POS) == p)
    Ensures(Implies(ring_of(A, i, R_POS) != p,
                    ring_of(swapped(A, i, p), ring_of(A, i, R_POS), R_RING) == ring_of(A, p, R_RING)))
    Ensures(Implies(ring_of(A, p, R_RING) != i,
                    ring_of(swapped(A, i, p), ring_of(A, p, R_RING), R_POS) == ring_of(A, i, R_POS)))
    Ensures(Forall(int, lambda k: (Implies(0 <= k and k < A.cap and k != p and k != ring_of(A, i, R_POS),
        ring_of(swapped(A, i, p), k, R_RING) == ring_of(A, k, R_RING)),
        [[ring_of(swapped(A, i, p), k, R_RING)]])))
    Ensures(Forall(int, lambda m: (Implies(0 <= m and m < A.cap and m != i and m != ring_of(A, p, R_RING),
        ring_of(swapped(A, i, p), m, R_POS) == ring_of(A, m, R_POS)),
        [[ring_of(swapped(A, i, p), m, R_POS)]])))
    Ensures(Forall2(int, int, lambda m, f: (Implies(0 <= m and m < A.cap and 0 <= f and f < LINK_WORDS,
        link_of(swapped(A, i, p), m, f) == link_of(A, m, f)), [[link_of(swapped(A, i, p), m, f)]])))
    Ensures(Forall(int, lambda m: (Implies(0 <= m and m < A.cap,
        rec_of(swapped(A, i, p), m, F_LAST_SEEN) == rec_of(A, m, F_LAST_SEEN)),
        [[rec_of(swapped(A, i, p), m, F_LAST_SEEN)]])))
    Assert(Reveal(swapped(A, i, p)) ==
           ring_put(ring_put(A, pos_of(A, i), ring_index(A, p)), p, i))
    Assert(Reveal(pos_of(A, i)) == ring_of(A, i, R_POS) and
           Reveal(ring_index(A, p)) == ring_of(A, p, R_RING))
    q = pos_of(A, i)
    j = ring_index(A, p)
    lemma_ring_put_words(A, q, j)
    lemma_ring_put_words(ring_put(A, q, j), p, i)


def lemma_swap_facts(A: Table, i: int, p: int) -> None:
    """What the parts of lemma_allocator_ok_swapped share: the two indices
    and two positions the swap touches are in range and paired in A (so
    lemma_swapped_words applies), the index at p is allocated, and i's
    position is past the free window."""
    Requires(allocator_ok_a(A) and 0 <= i and i < A.cap and 0 <= p and p < A.cap)
    Requires(rec_of(A, i, F_LAST_SEEN) != FREE and ring_offset_of(A, p) == A.cap - A.count)
    Ensures(allocator_ok_body(A))
    Ensures(0 <= ring_of(A, i, R_POS) and ring_of(A, i, R_POS) < A.cap and
            0 <= ring_of(A, p, R_RING) and ring_of(A, p, R_RING) < A.cap)
    Ensures(ring_of(A, ring_of(A, i, R_POS), R_RING) == i and
            ring_of(A, ring_of(A, p, R_RING), R_POS) == p)
    Ensures(rec_of(A, ring_of(A, p, R_RING), F_LAST_SEEN) != FREE)
    Ensures(ring_offset_of(A, ring_of(A, i, R_POS)) >= A.cap - A.count)
    Assert(Reveal(allocator_ok_a(A)) == allocator_ok_body(A))
    q = ring_of(A, i, R_POS)
    j = ring_of(A, p, R_RING)
    Assert(0 <= q and q < A.cap and 0 <= j and j < A.cap)
    Assert(ring_of(A, q, R_RING) == i and ring_of(A, j, R_POS) == p)
    Assert(rec_of(A, j, F_LAST_SEEN) != FREE)


def lemma_swapped_ring(A: Table, i: int, p: int) -> None:
    """lemma_allocator_ok_swapped's ring conjunct: each position holds an
    index whose position it is."""
    Requires(allocator_ok_a(A) and 0 <= i and i < A.cap and 0 <= p and p < A.cap)
    Requires(rec_of(A, i, F_LAST_SEEN) != FREE and ring_offset_of(A, p) == A.cap - A.count)
    Ensures(Forall(int, lambda k: (Implies(0 <= k and k < A.cap,
            0 <= ring_of(swapped(A, i, p), k, R_RING) and ring_of(swapped(A, i, p), k, R_RING) < A.cap and
            ring_of(swapped(A, i, p), ring_of(swapped(A, i, p), k, R_RING), R_POS) == k),
            [[ring_of(swapped(A, i, p), k, R_RING)]])))
    lemma_swap_facts(A, i, p)
    lemma_swapped_words(A, i, p)


def lemma_swapped_pos(A: Table, i: int, p: int) -> None:
    """lemma_allocator_ok_swapped's position conjunct: each index's position
    holds it."""
    Requires(allocator_ok_a(A) and 0 <= i and i < A.cap and 0 <= p and p < A.cap)
    Requires(rec_of(A, i, F_LAST_SEEN) != FREE and ring_offset_of(A, p) == A.cap - A.count)
    Ensures(Forall(int, lambda m: (Implies(0 <= m and m < A.cap,
            0 <= ring_of(swapped(A, i, p), m, R_POS) and ring_of(swapped(A, i, p), m, R_POS) < A.cap and
            ring_of(swapped(A, i, p), ring_of(swapped(A, i, p), m, R_POS), R_RING) == m),
            [[ring_of(swapped(A, i, p), m, R_POS)]])))
    lemma_swap_facts(A, i, p)
    lemma_swapped_words(A, i, p)


def lemma_swapped_window(A: Table, i: int, p: int) -> None:
    """lemma_allocator_ok_swapped's window conjunct: an index is free exactly
    when its position is in the free window (i and the index at p are both
    allocated, and both positions are past the window)."""
    Requires(allocator_ok_a(A) and 0 <= i and i < A.cap and 0 <= p and p < A.cap)
    Requires(rec_of(A, i, F_LAST_SEEN) != FREE and ring_offset_of(A, p) == A.cap - A.count)
    Ensures(Forall(int, lambda m: (Implies(0 <= m and m < A.cap,
            FREE <= rec_of(swapped(A, i, p), m, F_LAST_SEEN) and
            rec_of(swapped(A, i, p), m, F_LAST_SEEN) <= MAX_TIME and
            0 <= ring_of(swapped(A, i, p), m, R_POS) and ring_of(swapped(A, i, p), m, R_POS) < A.cap and
            (rec_of(swapped(A, i, p), m, F_LAST_SEEN) == FREE) ==
            (ring_offset_of(swapped(A, i, p), ring_of(swapped(A, i, p), m, R_POS)) <
             A.cap - A.count)),
            [[rec_of(swapped(A, i, p), m, F_LAST_SEEN)], [ring_of(swapped(A, i, p), m, R_POS)]])))
    lemma_swap_facts(A, i, p)
    lemma_swapped_words(A, i, p)


def lemma_allocator_ok_swapped(A: Table, i: int, p: int) -> None:
    """Swapping allocated index i into ring position p, the first one past
    the free window, keeps the allocator's invariant (allocator._swap_out):
    the index that was at p is allocated too and takes i's old position, so
    the ring stays a permutation and the window holds the same indices.
    One conjunct per lemma (lemma_swapped_ring, lemma_swapped_pos, lemma_swapped_window):
    in one proof it took 51 s in company."""
    Requires(allocator_ok_a(A) and 0 <= i and i < A.cap and 0 <= p and p < A.cap)
    Requires(rec_of(A, i, F_LAST_SEEN) != FREE and ring_offset_of(A, p) == A.cap - A.count)
    Ensures(allocator_ok_a(swapped(A, i, p)))
    lemma_swap_facts(A, i, p)
    lemma_swapped_words(A, i, p)
    lemma_swapped_ring(A, i, p)
    lemma_swapped_pos(A, i, p)
    lemma_swapped_window(A, i, p)
    B = swapped(A, i, p)
    Assert(Reveal(allocator_ok_a(B)) == allocator_ok_body(B))


@Pure
def queued(A: Table, i: int) -> Table:
    """Index i swapped into the ring position just past the free window, the
    index that was there into i's old position (allocator._swap_out)."""
    Decreases(None)
    return swapped(A, i, window_end(A))


@Pure
def released(A: Table, i: int) -> Table:
    """Index i (unlinked) swapped to the back of the free FIFO and marked
    free (allocator._release)."""
    Decreases(None)
    return with_header(with_rec(queued(A, i), i, F_LAST_SEEN, FREE), H_COUNT, A.count - 1)


@Opaque
@Pure
def cleared(A: Table, i: int) -> Table:
    """Free index i's key, MAC and links reset (allocator._clear_words): a
    free index's words are always (0, 0, 0, FREE) and (-1, -1).

    Opaque (revealed in lemma_cleared_words and allocator._clear_words
    only), as swapped: with its five updates visible, lemma_lru_cleared
    grew a Z3 past 4.6 GB alone and stalled in company (session 19); what
    it stores is lemma_cleared_words."""
    Decreases(None)
    return with_link(with_link(with_rec(with_rec(with_rec(
        A, i, F_KEY1, 0), i, F_KEY2, 0), i, F_MAC, 0), i, L_PREV, -1), i, L_NEXT, -1)


@Pure
def freed(A: Table, i: int) -> Table:
    """Live flow i removed: out of the list, at the back of the free FIFO,
    its words reset (allocator.index_free)."""
    Decreases(None)
    return cleared(released(unlinked(A, i), i), i)


@Opaque
@Pure
def expired_fuel(A: Table, now: int, timeout: int, fuel: int) -> Table:
    """At most `fuel` times: free the oldest flow if it is live and
    now - last_seen >= timeout (flowtable._expired_oldest tests both).
    Opaque: each unfolding brings in freed's whole chain of updates, and
    flow_expire's loop, which holds this at two states, grew Z3 past 4 GB
    with it (docs/progress-prove.md, session 14); flow_expire uses the two
    lemmas below instead."""
    Decreases(fuel)
    if (fuel <= 0 or A.oldest < 0 or not live(A, A.oldest) or
            now - last_seen_of(A, A.oldest) < timeout):
        return A
    return expired_fuel(freed(A, A.oldest + 0), now, timeout, fuel - 1)


def lemma_expired_step(A: Table, now: int, timeout: int, fuel: int) -> None:
    """One step of expired_fuel: the oldest flow is expired, so it is freed
    and the rest has one unit of fuel less."""
    Requires(fuel > 0 and A.oldest >= 0 and live(A, A.oldest) and
             now - last_seen_of(A, A.oldest) >= timeout)
    Ensures(expired_fuel(A, now, timeout, fuel) ==
            expired_fuel(freed(A, A.oldest + 0), now, timeout, fuel - 1))
    Assert(Reveal(expired_fuel(A, now, timeout, fuel)) ==
           expired_fuel(freed(A, A.oldest + 0), now, timeout, fuel - 1))


def lemma_expired_stop(A: Table, now: int, timeout: int, fuel: int) -> None:
    """expired_fuel stops: no fuel left, or the oldest flow is absent, free
    or still fresh."""
    Ensures(Implies(fuel <= 0 or A.oldest < 0 or not live(A, A.oldest) or
                    now - last_seen_of(A, A.oldest) < timeout,
                    expired_fuel(A, now, timeout, fuel) == A))
    Assert(Implies(fuel <= 0 or A.oldest < 0 or not live(A, A.oldest) or
                   now - last_seen_of(A, A.oldest) < timeout,
                   Reveal(expired_fuel(A, now, timeout, fuel)) == A))


@Pure
def expired(A: Table, now: int, timeout: int) -> Table:
    """Every flow with now - last_seen >= timeout freed, oldest first."""
    Decreases(None)
    return expired_fuel(A, now, timeout, A.cap)


# ---- the least-recently-used order (layout.L_STAMP) ----
# The list is the live indices from the oldest to the newest, and its order
# is the order of their last use. Stated without reachability: every index
# carries a stamp, stamps increase along the links, the oldest's is the
# least and the newest's the greatest, and no live index's stamp lies
# between two neighbours' (so no live index is off the list); stamp order is
# last_seen order. Every fact is local to one or two indices, so that Z3
# proves it without induction.
#
# Four parts, each opaque, each carried across a transition by a lemma of
# its own (in one piece, Z3 grew past 4 GB). Every quantifier is triggered
# by listed(A, m, x) terms and no conclusion makes one: a neighbour's being
# listed is written out (its time is not FREE), so that a fact about m never
# triggers the same fact about m's neighbour, and so on along the list. A
# proof that needs a fact about an index asserts something about listed()
# of it first.

@Pure
def listed(A: Table, m: int, x: int) -> bool:
    """m is live and not x (an index an operation has taken off the list,
    or -1 for none)."""
    Decreases(None)
    return live(A, m) and m != x

@Pure
def lru_top_body(A: Table, x: int) -> bool:
    """The list's ends: both absent or both listed, the oldest with no predecessor, the newest with no successor (and the words the links need exist)."""
    Decreases(None)
    return (FLOW_WORDS * A.cap + LINK_WORDS * A.cap <= len(A.words) and
            (A.oldest < 0) == (A.newest < 0) and
            -1 <= A.oldest and A.oldest < A.cap and -1 <= A.newest and A.newest < A.cap and
            Implies(A.oldest >= 0, listed(A, A.oldest, x) and prev_of(A, A.oldest) == -1) and
            Implies(A.newest >= 0, listed(A, A.newest, x) and next_of(A, A.newest) == -1))


@Opaque
@Pure
def lru_top(A: Table, x: int) -> bool:
    Decreases(None)
    return lru_top_body(A, x)

@Pure
def lru_link_ends(A: Table, x: int) -> bool:
    """Each listed index's links are in range, and it has no successor
    exactly when it is the newest, no predecessor exactly when the oldest."""
    Decreases(None)
    return Forall(int, lambda m: (Implies(listed(A, m, x),
                A.oldest >= 0 and
                -1 <= next_of(A, m) and next_of(A, m) < A.cap and
                -1 <= prev_of(A, m) and prev_of(A, m) < A.cap and
                (next_of(A, m) < 0) == (m == A.newest) and (prev_of(A, m) < 0) == (m == A.oldest)),
                [[listed(A, m, x)]]))


@Pure
def lru_link_next(A: Table, x: int) -> bool:
    """Each listed index's successor is listed, links back, and has a
    greater stamp."""
    Decreases(None)
    return Forall(int, lambda m: (Implies(listed(A, m, x),
                Implies(next_of(A, m) >= 0,
                        next_of(A, m) != x and rec_of(A, next_of(A, m), F_LAST_SEEN) != FREE and
                        prev_of(A, next_of(A, m)) == m and stamp_of(A, m) < stamp_of(A, next_of(A, m)))),
                [[listed(A, m, x)]]))


@Pure
def lru_link_prev(A: Table, x: int) -> bool:
    """Each listed index's predecessor is listed and links back."""
    Decreases(None)
    return Forall(int, lambda m: (Implies(listed(A, m, x),
                Implies(prev_of(A, m) >= 0,
                        prev_of(A, m) != x and rec_of(A, prev_of(A, m), F_LAST_SEEN) != FREE and
                        next_of(A, prev_of(A, m)) == m)),
                [[listed(A, m, x)]]))


@Pure
def lru_link_bounds(A: Table, x: int) -> bool:
    """The oldest's stamp is the least, the newest's the greatest."""
    Decreases(None)
    return Forall(int, lambda m: (Implies(listed(A, m, x),
                Implies(m != A.oldest, stamp_of(A, A.oldest) < stamp_of(A, m)) and
                Implies(m != A.newest, stamp_of(A, m) < stamp_of(A, A.newest))),
                [[listed(A, m, x)]]))


@Pure
def lru_links_body(A: Table, x: int) -> bool:
    """Every listed index is linked both ways to listed neighbours, stamps
    increase along the links, the oldest's stamp is the least and the
    newest's the greatest (four conjuncts, so that a lemma can prove each
    on its own)."""
    Decreases(None)
    return lru_link_ends(A, x) and lru_link_next(A, x) and lru_link_prev(A, x) and lru_link_bounds(A, x)


@Opaque
@Pure
def lru_links(A: Table, x: int) -> bool:
    Decreases(None)
    return lru_links_body(A, x)

@Pure
def lru_gap_body(A: Table, x: int) -> bool:
    """No listed index's stamp lies strictly between a listed index's and its successor's: the list misses no listed index."""
    Decreases(None)
    return Forall2(int, int, lambda m, j: (Implies(
                listed(A, m, x) and listed(A, j, x) and
                next_of(A, m) >= 0 and j != m and j != next_of(A, m),
                stamp_of(A, j) < stamp_of(A, m) or stamp_of(A, next_of(A, m)) < stamp_of(A, j)),
                [[listed(A, m, x), listed(A, j, x)]]))


@Opaque
@Pure
def lru_gap(A: Table, x: int) -> bool:
    Decreases(None)
    return lru_gap_body(A, x)

@Pure
def lru_order_body(A: Table, x: int) -> bool:
    """Stamp order is last_seen order."""
    Decreases(None)
    return Forall2(int, int, lambda m, j: (Implies(
                listed(A, m, x) and listed(A, j, x) and stamp_of(A, m) < stamp_of(A, j),
                last_seen_of(A, m) <= last_seen_of(A, j)),
                [[listed(A, m, x), listed(A, j, x)]]))


@Opaque
@Pure
def lru_order(A: Table, x: int) -> bool:
    Decreases(None)
    return lru_order_body(A, x)

@Pure
def lru_body(A: Table, x: int) -> bool:
    """The list holds exactly the listed indices (live, not x), linked both
    ways, in increasing stamp order, which is last_seen order."""
    Decreases(None)
    return lru_top(A, x) and lru_links(A, x) and lru_gap(A, x) and lru_order(A, x)


@Opaque
@Pure
def lru_ok_a(A: Table) -> bool:
    """The list is exactly the live indices, least recently used first
    (lru_body with no index taken off)."""
    Decreases(None)
    return lru_body(A, -1)


@Pure
def newest_time(A: Table) -> int:
    """The newest flow's last_seen (the latest of all under lru_ok_a), or
    FREE when no flow is live."""
    Decreases(None)
    return last_seen_of(A, A.newest) if A.newest >= 0 else FREE


@Pure
def stamp_room(A: Table) -> bool:
    """The next appended index's stamp is one more than the newest's (it
    stops growing at MAX_STAMP, 2 ** 62; stamps grow by one per refresh or
    allocation)."""
    Decreases(None)
    return A.newest < 0 or stamp_of(A, A.newest) < MAX_STAMP


@Pure
def all_fresh(A: Table, now: int, timeout: int) -> bool:
    """No live flow has now - last_seen >= timeout."""
    Decreases(None)
    return Forall(int, lambda m: (Implies(live(A, m), now - last_seen_of(A, m) < timeout),
                                  [[live(A, m)]]))


@Pure
def lru_same(A: Table, x: int, B: Table, y: int) -> bool:
    """B's list is A's word for word: the same ends, the same listed
    indices (A's but x, B's but y), with the same links and stamps."""
    Decreases(None)
    return (B.cap == A.cap and len(B.words) == len(A.words) and
            B.oldest == A.oldest and B.newest == A.newest and
            Forall(int, lambda m: (Implies(0 <= m and m < A.cap,
                Implies(m != y and rec_of(B, m, F_LAST_SEEN) != FREE, m != x and rec_of(A, m, F_LAST_SEEN) != FREE) and
                Implies(m != x and rec_of(A, m, F_LAST_SEEN) != FREE, m != y and rec_of(B, m, F_LAST_SEEN) != FREE)),
                [[rec_of(B, m, F_LAST_SEEN)], [rec_of(A, m, F_LAST_SEEN)]])) and
            Forall(int, lambda m: (Implies(0 <= m and m < A.cap and m != x and rec_of(A, m, F_LAST_SEEN) != FREE,
                next_of(B, m) == next_of(A, m) and prev_of(B, m) == prev_of(A, m) and
                stamp_of(B, m) == stamp_of(A, m)),
                [[rec_of(A, m, F_LAST_SEEN)]])))


@Pure
def lru_same_times(A: Table, x: int, B: Table) -> bool:
    """A's listed indices (but x) have the same times in B."""
    Decreases(None)
    return Forall(int, lambda m: (Implies(0 <= m and m < A.cap and m != x and rec_of(A, m, F_LAST_SEEN) != FREE,
                                          rec_of(B, m, F_LAST_SEEN) == rec_of(A, m, F_LAST_SEEN)),
                                  [[rec_of(A, m, F_LAST_SEEN)]]))


def lemma_rec_words(B: Table, i: int, f: int, v: int) -> None:
    """What with_rec(B, i, f, v) stores: one record word; links, header
    and every other index's last_seen are B's."""
    Requires(0 <= i and i < B.cap and 0 <= f and f < FLOW_WORDS)
    Ensures(with_rec(B, i, f, v).cap == B.cap and with_rec(B, i, f, v).count == B.count and
            with_rec(B, i, f, v).oldest == B.oldest and with_rec(B, i, f, v).newest == B.newest and
            with_rec(B, i, f, v).head == B.head and len(with_rec(B, i, f, v).words) == len(B.words))
    Ensures(Forall2(int, int, lambda m, g: (Implies(0 <= m and m < B.cap and 0 <= g and g < LINK_WORDS,
        link_of(with_rec(B, i, f, v), m, g) == link_of(B, m, g)), [[link_of(with_rec(B, i, f, v), m, g)]])))
    Ensures(Forall(int, lambda m: (Implies(0 <= m and m < B.cap and m != i,
        rec_of(with_rec(B, i, f, v), m, F_LAST_SEEN) == rec_of(B, m, F_LAST_SEEN)),
        [[rec_of(with_rec(B, i, f, v), m, F_LAST_SEEN)]])))
    Ensures(Implies(FLOW_WORDS * B.cap <= len(B.words),
                    rec_of(with_rec(B, i, f, v), i, f) == v))
    Ensures(Implies(f != F_LAST_SEEN,
                    rec_of(with_rec(B, i, f, v), i, F_LAST_SEEN) == rec_of(B, i, F_LAST_SEEN)))
    Ensures(Forall2(int, int, lambda p, g: (Implies(0 <= p and p < B.cap and 0 <= g and g < RING_WORDS,
        ring_of(with_rec(B, i, f, v), p, g) == ring_of(B, p, g)), [[ring_of(with_rec(B, i, f, v), p, g)]])))


def lemma_header_words(A: Table, h: int, v: int) -> None:
    """with_header(A, h, v) stores no word: every link, time and ring word
    is A's (so that a chain of stores reads through it by matching)."""
    Ensures(with_header(A, h, v).cap == A.cap and len(with_header(A, h, v).words) == len(A.words))
    Ensures(Forall2(int, int, lambda m, g: (link_of(with_header(A, h, v), m, g) == link_of(A, m, g),
                                            [[link_of(with_header(A, h, v), m, g)]])))
    Ensures(Forall(int, lambda m: (rec_of(with_header(A, h, v), m, F_LAST_SEEN) == rec_of(A, m, F_LAST_SEEN),
                                   [[rec_of(with_header(A, h, v), m, F_LAST_SEEN)]])))
    Ensures(Forall2(int, int, lambda p, g: (ring_of(with_header(A, h, v), p, g) == ring_of(A, p, g),
                                            [[ring_of(with_header(A, h, v), p, g)]])))


def lemma_link_words(A: Table, k: int, f: int, v: int) -> None:
    """What with_link(A, k, f, v) stores: one link word; every other link
    word, every time, the ring and the header are A's."""
    Requires(0 <= k and k < A.cap and 0 <= f and f < LINK_WORDS)
    Ensures(with_link(A, k, f, v).cap == A.cap and with_link(A, k, f, v).count == A.count and
            with_link(A, k, f, v).oldest == A.oldest and with_link(A, k, f, v).newest == A.newest and
            with_link(A, k, f, v).head == A.head and len(with_link(A, k, f, v).words) == len(A.words))
    Ensures(Forall2(int, int, lambda m, g: (Implies(
        0 <= m and m < A.cap and 0 <= g and g < LINK_WORDS and (m != k or g != f),
        link_of(with_link(A, k, f, v), m, g) == link_of(A, m, g)), [[link_of(with_link(A, k, f, v), m, g)]])))
    Ensures(Implies(FLOW_WORDS * A.cap + LINK_WORDS * A.cap <= len(A.words),
                    link_of(with_link(A, k, f, v), k, f) == v))
    Ensures(Forall(int, lambda m: (Implies(0 <= m and m < A.cap,
        rec_of(with_link(A, k, f, v), m, F_LAST_SEEN) == rec_of(A, m, F_LAST_SEEN)),
        [[rec_of(with_link(A, k, f, v), m, F_LAST_SEEN)]])))
    Ensures(Forall2(int, int, lambda p, g: (Implies(0 <= p and p < A.cap and 0 <= g and g < RING_WORDS,
        ring_of(with_link(A, k, f, v), p, g) == ring_of(A, p, g)), [[ring_of(with_link(A, k, f, v), p, g)]])))


def lemma_unlinked_words(A: Table, i: int) -> None:
    """What unlinked(A, i) stores, word by word, for a listed i whose
    neighbours are distinct (or both absent)."""
    Requires(0 <= i and i < A.cap and FLOW_WORDS * A.cap + LINK_WORDS * A.cap <= len(A.words))
    Requires(-1 <= prev_of(A, i) and prev_of(A, i) < A.cap and -1 <= next_of(A, i) and next_of(A, i) < A.cap)
    Requires(prev_of(A, i) != i and next_of(A, i) != i and
             (prev_of(A, i) != next_of(A, i) or prev_of(A, i) < 0))
    Ensures(unlinked(A, i).cap == A.cap and len(unlinked(A, i).words) == len(A.words) and
            unlinked(A, i).count == A.count and unlinked(A, i).head == A.head)
    Ensures(Forall2(int, int, lambda k, f: (Implies(0 <= k and k < A.cap and 0 <= f and f < RING_WORDS,
        ring_of(unlinked(A, i), k, f) == ring_of(A, k, f)), [[ring_of(unlinked(A, i), k, f)]])))
    Ensures(unlinked(A, i).oldest == (next_of(A, i) if prev_of(A, i) < 0 else A.oldest))
    Ensures(unlinked(A, i).newest == (prev_of(A, i) if next_of(A, i) < 0 else A.newest))
    Ensures(Forall(int, lambda m: (Implies(0 <= m and m < A.cap,
        rec_of(unlinked(A, i), m, F_LAST_SEEN) == rec_of(A, m, F_LAST_SEEN) and
        stamp_of(unlinked(A, i), m) == stamp_of(A, m) and
        next_of(unlinked(A, i), m) == (next_of(A, i) if m == prev_of(A, i) else next_of(A, m)) and
        prev_of(unlinked(A, i), m) == (prev_of(A, i) if m == next_of(A, i) else prev_of(A, m))),
        [[rec_of(unlinked(A, i), m, F_LAST_SEEN)], [next_of(unlinked(A, i), m)],
         [prev_of(unlinked(A, i), m)], [stamp_of(unlinked(A, i), m)]])))
    # one store at a time (lemma_link_words); in one piece Z3 grew past 2.5 GB
    P = prev_of(A, i)
    N = next_of(A, i)
    if P >= 0:
        lemma_link_words(A, P, L_NEXT, N)
        U1 = with_link(A, P, L_NEXT, N)
    else:
        lemma_header_words(A, H_OLDEST, N)
        U1 = with_header(A, H_OLDEST, N)
    Assert(unlinked_prev(A, i) == U1)
    if N >= 0:
        lemma_link_words(U1, N, L_PREV, P)
        U = with_link(U1, N, L_PREV, P)
    else:
        lemma_header_words(U1, H_NEWEST, P)
        U = with_header(U1, H_NEWEST, P)
    Assert(unlinked(A, i) == U)


def lemma_appended_words(U: Table, i: int) -> None:
    """What appended(U, i) stores, word by word, for an i that is not the
    newest."""
    Requires(0 <= i and i < U.cap and FLOW_WORDS * U.cap + LINK_WORDS * U.cap <= len(U.words))
    Requires(-1 <= U.newest and U.newest < U.cap and U.newest != i)
    Ensures(appended(U, i).cap == U.cap and len(appended(U, i).words) == len(U.words))
    Ensures(appended(U, i).newest == i and appended(U, i).oldest == (i if U.newest < 0 else U.oldest))
    Ensures(Forall(int, lambda m: (Implies(0 <= m and m < U.cap,
        rec_of(appended(U, i), m, F_LAST_SEEN) == rec_of(U, m, F_LAST_SEEN) and
        stamp_of(appended(U, i), m) == (next_stamp(U) if m == i else stamp_of(U, m)) and
        next_of(appended(U, i), m) == (-1 if m == i else (i if m == U.newest else next_of(U, m))) and
        prev_of(appended(U, i), m) == (U.newest if m == i else prev_of(U, m))),
        [[rec_of(appended(U, i), m, F_LAST_SEEN)], [next_of(appended(U, i), m)],
         [prev_of(appended(U, i), m)], [stamp_of(appended(U, i), m)]])))
    w = U.newest
    s = next_stamp(U)
    lemma_link_words(U, i, L_STAMP, s)
    L1 = with_link(U, i, L_STAMP, s)
    lemma_link_words(L1, i, L_PREV, w)
    L2 = with_link(L1, i, L_PREV, w)
    lemma_link_words(L2, i, L_NEXT, -1)
    L3 = with_link(L2, i, L_NEXT, -1)
    Assert(linked_new(U, i) == L3)
    if w >= 0:
        lemma_link_words(L3, w, L_NEXT, i)
        lemma_header_words(with_link(L3, w, L_NEXT, i), H_NEWEST, i)
        B = with_header(with_link(L3, w, L_NEXT, i), H_NEWEST, i)
    else:
        lemma_header_words(L3, H_OLDEST, i)
        lemma_header_words(with_header(L3, H_OLDEST, i), H_NEWEST, i)
        B = with_header(with_header(L3, H_OLDEST, i), H_NEWEST, i)
    Assert(appended(U, i) == B)


def lemma_cleared_words(R: Table, i: int) -> None:
    """What cleared(R, i) stores: i's key, MAC and links; every time, every
    other index's links and the header are R's."""
    Requires(0 <= i and i < R.cap)
    Ensures(cleared(R, i).cap == R.cap and cleared(R, i).count == R.count and
            cleared(R, i).oldest == R.oldest and cleared(R, i).newest == R.newest and
            cleared(R, i).head == R.head and len(cleared(R, i).words) == len(R.words))
    Ensures(Forall2(int, int, lambda m, g: (Implies(0 <= m and m < R.cap and m != i and 0 <= g and g < LINK_WORDS,
        link_of(cleared(R, i), m, g) == link_of(R, m, g)), [[link_of(cleared(R, i), m, g)]])))
    Ensures(Forall(int, lambda m: (Implies(0 <= m and m < R.cap,
        rec_of(cleared(R, i), m, F_LAST_SEEN) == rec_of(R, m, F_LAST_SEEN)),
        [[rec_of(cleared(R, i), m, F_LAST_SEEN)]])))
    lemma_rec_words(R, i, F_KEY1, 0)
    C1 = with_rec(R, i, F_KEY1, 0)
    lemma_rec_words(C1, i, F_KEY2, 0)
    C2 = with_rec(C1, i, F_KEY2, 0)
    lemma_rec_words(C2, i, F_MAC, 0)
    C3 = with_rec(C2, i, F_MAC, 0)
    lemma_link_words(C3, i, L_PREV, -1)
    C4 = with_link(C3, i, L_PREV, -1)
    lemma_link_words(C4, i, L_NEXT, -1)
    Assert(Reveal(cleared(R, i)) == with_link(C4, i, L_NEXT, -1))


# ---- carrying the parts over a transition that keeps the list ----

def lemma_lru_transfer_top(A: Table, x: int, B: Table, y: int) -> None:
    Requires(lru_top(A, x) and lru_same(A, x, B, y))
    Ensures(lru_top(B, y))
    Assert(Reveal(lru_top(A, x)) == lru_top_body(A, x))
    Assert(Reveal(lru_top(B, y)) == lru_top_body(B, y))


def lemma_lru_transfer_links(A: Table, x: int, B: Table, y: int) -> None:
    Requires(lru_top(A, x) and lru_links(A, x) and lru_same(A, x, B, y))
    Ensures(lru_links(B, y))
    Assert(Reveal(lru_top(A, x)) == lru_top_body(A, x))
    Assert(Reveal(lru_links(A, x)) == lru_links_body(A, x))
    Assert(Reveal(lru_links(B, y)) == lru_links_body(B, y))
    Assert(Forall(int, lambda m: (Implies(listed(B, m, y), listed(A, m, x)), [[listed(B, m, y)]])))


def lemma_lru_transfer_gap(A: Table, x: int, B: Table, y: int) -> None:
    Requires(lru_links(A, x) and lru_gap(A, x) and lru_same(A, x, B, y))
    Ensures(lru_gap(B, y))
    Assert(Reveal(lru_links(A, x)) == lru_links_body(A, x))
    Assert(Reveal(lru_gap(A, x)) == lru_gap_body(A, x))
    Assert(Reveal(lru_gap(B, y)) == lru_gap_body(B, y))
    Assert(Forall(int, lambda m: (Implies(listed(B, m, y), listed(A, m, x)), [[listed(B, m, y)]])))


def lemma_lru_transfer_order(A: Table, x: int, B: Table, y: int) -> None:
    Requires(lru_order(A, x) and lru_same(A, x, B, y) and lru_same_times(A, x, B))
    Ensures(lru_order(B, y))
    Assert(Reveal(lru_order(A, x)) == lru_order_body(A, x))
    Assert(Reveal(lru_order(B, y)) == lru_order_body(B, y))
    Assert(Forall(int, lambda m: (Implies(listed(B, m, y), listed(A, m, x)), [[listed(B, m, y)]])))


def lemma_lru_transfer(A: Table, x: int, B: Table, y: int) -> None:
    """B's list is A's word for word, with the same times: it is as much in order."""
    Requires(lru_body(A, x) and lru_same(A, x, B, y) and lru_same_times(A, x, B))
    Ensures(lru_body(B, y))
    lemma_lru_transfer_top(A, x, B, y)
    lemma_lru_transfer_links(A, x, B, y)
    lemma_lru_transfer_gap(A, x, B, y)
    lemma_lru_transfer_order(A, x, B, y)


# ---- unlinking a listed index (refresh, expiry) ----

def lemma_lru_neighbours(A: Table, i: int) -> None:
    """A listed index's neighbours: in range, distinct from it and from each
    other, listed, linked back to it, and stamped around it. What unlinking
    it needs from A's list (lemma_unlinked_words' preconditions with them),
    so that the lemmas below need not reveal A's list themselves."""
    Requires(lru_top(A, -1) and lru_links(A, -1) and listed(A, i, -1))
    Ensures(0 <= i and i < A.cap and FLOW_WORDS * A.cap + LINK_WORDS * A.cap <= len(A.words))
    Ensures(0 <= A.oldest and A.oldest < A.cap and 0 <= A.newest and A.newest < A.cap)
    Ensures(-1 <= prev_of(A, i) and prev_of(A, i) < A.cap and -1 <= next_of(A, i) and next_of(A, i) < A.cap)
    Ensures(prev_of(A, i) != i and next_of(A, i) != i and
            (prev_of(A, i) != next_of(A, i) or prev_of(A, i) < 0))
    Ensures(Implies(prev_of(A, i) < 0, i == A.oldest) and Implies(i == A.oldest, prev_of(A, i) < 0))
    Ensures(Implies(next_of(A, i) < 0, i == A.newest) and Implies(i == A.newest, next_of(A, i) < 0))
    Ensures(Implies(prev_of(A, i) >= 0, listed(A, prev_of(A, i), -1) and next_of(A, prev_of(A, i)) == i and
                    stamp_of(A, prev_of(A, i)) < stamp_of(A, i)))
    Ensures(Implies(next_of(A, i) >= 0, listed(A, next_of(A, i), -1) and prev_of(A, next_of(A, i)) == i and
                    stamp_of(A, i) < stamp_of(A, next_of(A, i))))
    Assert(Reveal(lru_top(A, -1)) == lru_top_body(A, -1))
    Assert(Reveal(lru_links(A, -1)) == lru_links_body(A, -1))
    # i's neighbours are listed (the terms that trigger A's facts on them)
    Assert(Implies(prev_of(A, i) >= 0, listed(A, prev_of(A, i), -1)))
    Assert(Implies(next_of(A, i) >= 0, listed(A, next_of(A, i), -1)))


def lemma_lru_unlinked_top(A: Table, i: int) -> None:
    Requires(lru_top(A, -1) and lru_links(A, -1) and listed(A, i, -1))
    Ensures(lru_top(unlinked(A, i), i))
    Ensures(unlinked(A, i).newest == (A.newest if A.newest != i else prev_of(A, i)))
    Ensures(Implies(A.newest != i, unlinked(A, i).newest >= 0 and
                    last_seen_of(unlinked(A, i), A.newest) == last_seen_of(A, A.newest) and
                    stamp_of(unlinked(A, i), A.newest) == stamp_of(A, A.newest)))
    Ensures(Implies(A.newest == i, prev_of(A, i) < 0 or
                    last_seen_of(unlinked(A, i), prev_of(A, i)) == last_seen_of(A, prev_of(A, i))))
    lemma_lru_neighbours(A, i)
    Assert(Reveal(lru_top(A, -1)) == lru_top_body(A, -1))
    Assert(Reveal(lru_links(A, -1)) == lru_links_body(A, -1))
    lemma_unlinked_words(A, i)
    U = unlinked(A, i)
    # the listed indices of U are A's but i
    Assert(Forall(int, lambda m: (Implies(listed(U, m, i), listed(A, m, -1)), [[listed(U, m, i)]])))
    Assert(Reveal(lru_top(U, i)) == lru_top_body(U, i))


# lru_links(unlinked(A, i), i) conjunct by conjunct (in one lemma, 13-97 s
# alone and Z3 past 4 GB in company): the ranges and ends, the successors,
# the predecessors, the stamp bounds; each of A's facts it needs is
# triggered by the listed(A, m, -1) that "U's listed are A's" brings in.

def lemma_lru_unlinked_ends(A: Table, i: int) -> None:
    Requires(lru_top(A, -1) and lru_links(A, -1) and listed(A, i, -1))
    Ensures(lru_link_ends(unlinked(A, i), i))
    lemma_lru_neighbours(A, i)
    lemma_unlinked_words(A, i)
    U = unlinked(A, i)
    Assert(Forall(int, lambda m: (Implies(listed(U, m, i), listed(A, m, -1)), [[listed(U, m, i)]])))
    Assert(Reveal(lru_links(A, -1)) == lru_links_body(A, -1))
    Assert(lru_link_ends(U, i))


def lemma_lru_unlinked_next(A: Table, i: int) -> None:
    Requires(lru_top(A, -1) and lru_links(A, -1) and listed(A, i, -1))
    Ensures(lru_link_next(unlinked(A, i), i))
    lemma_lru_neighbours(A, i)
    lemma_unlinked_words(A, i)
    U = unlinked(A, i)
    Assert(Forall(int, lambda m: (Implies(listed(U, m, i), listed(A, m, -1)), [[listed(U, m, i)]])))
    Assert(Reveal(lru_links(A, -1)) == lru_links_body(A, -1))
    Assert(lru_link_next(U, i))


def lemma_lru_unlinked_prev(A: Table, i: int) -> None:
    Requires(lru_top(A, -1) and lru_links(A, -1) and listed(A, i, -1))
    Ensures(lru_link_prev(unlinked(A, i), i))
    lemma_lru_neighbours(A, i)
    lemma_unlinked_words(A, i)
    U = unlinked(A, i)
    Assert(Forall(int, lambda m: (Implies(listed(U, m, i), listed(A, m, -1)), [[listed(U, m, i)]])))
    Assert(Reveal(lru_links(A, -1)) == lru_links_body(A, -1))
    Assert(lru_link_prev(U, i))


def lemma_lru_unlinked_bounds(A: Table, i: int) -> None:
    Requires(lru_top(A, -1) and lru_links(A, -1) and listed(A, i, -1))
    Requires(lru_gap(A, -1))
    Ensures(lru_link_bounds(unlinked(A, i), i))
    lemma_lru_neighbours(A, i)
    lemma_unlinked_words(A, i)
    U = unlinked(A, i)
    Assert(Forall(int, lambda m: (Implies(listed(U, m, i), listed(A, m, -1)), [[listed(U, m, i)]])))
    Assert(Reveal(lru_links(A, -1)) == lru_links_body(A, -1))
    Assert(Reveal(lru_gap(A, -1)) == lru_gap_body(A, -1))
    # a new end's stamp bounds the others' (the gap: none lies between i's
    # and its neighbour's)
    P = prev_of(A, i)
    N = next_of(A, i)
    Assert(Implies(P < 0 and N >= 0, Forall(int, lambda m: (Implies(listed(U, m, i) and m != N,
        stamp_of(A, N) < stamp_of(A, m)), [[listed(U, m, i)]]))))
    Assert(Implies(N < 0 and P >= 0, Forall(int, lambda m: (Implies(listed(U, m, i) and m != P,
        stamp_of(A, m) < stamp_of(A, P)), [[listed(U, m, i)]]))))
    Assert(lru_link_bounds(U, i))


def lemma_lru_unlinked_links(A: Table, i: int) -> None:
    Requires(lru_top(A, -1) and lru_links(A, -1) and listed(A, i, -1))
    Requires(lru_gap(A, -1))
    Ensures(lru_links(unlinked(A, i), i))
    lemma_lru_unlinked_ends(A, i)
    lemma_lru_unlinked_next(A, i)
    lemma_lru_unlinked_prev(A, i)
    lemma_lru_unlinked_bounds(A, i)
    Assert(Reveal(lru_links(unlinked(A, i), i)) == lru_links_body(unlinked(A, i), i))


def lemma_lru_unlinked_gap(A: Table, i: int) -> None:
    Requires(lru_top(A, -1) and lru_links(A, -1) and listed(A, i, -1))
    Requires(lru_gap(A, -1))
    Ensures(lru_gap(unlinked(A, i), i))
    lemma_lru_neighbours(A, i)
    lemma_unlinked_words(A, i)
    U = unlinked(A, i)
    # the listed indices of U are A's but i
    Assert(Forall(int, lambda m: (Implies(listed(U, m, i), listed(A, m, -1)), [[listed(U, m, i)]])))
    # the successors' ranges (the words lemma speaks of indices in range)
    Assert(Reveal(lru_links(A, -1)) == lru_links_body(A, -1))
    Assert(Reveal(lru_gap(A, -1)) == lru_gap_body(A, -1))
    Assert(Reveal(lru_gap(U, i)) == lru_gap_body(U, i))


def lemma_lru_unlinked_order(A: Table, i: int) -> None:
    Requires(lru_top(A, -1) and lru_links(A, -1) and listed(A, i, -1))
    Requires(lru_order(A, -1))
    Ensures(lru_order(unlinked(A, i), i))
    lemma_lru_neighbours(A, i)
    lemma_unlinked_words(A, i)
    U = unlinked(A, i)
    # the listed indices of U are A's but i
    Assert(Forall(int, lambda m: (Implies(listed(U, m, i), listed(A, m, -1)), [[listed(U, m, i)]])))
    Assert(Reveal(lru_order(A, -1)) == lru_order_body(A, -1))
    Assert(Reveal(lru_order(U, i)) == lru_order_body(U, i))


def lemma_lru_unlinked(A: Table, i: int) -> None:
    """Unlinking a listed index leaves the others in order (i off the list)."""
    Requires(lru_body(A, -1) and listed(A, i, -1))
    Ensures(lru_body(unlinked(A, i), i))
    Ensures(unlinked(A, i).newest == (A.newest if A.newest != i else prev_of(A, i)))
    Ensures(Implies(A.newest != i, unlinked(A, i).newest >= 0 and
                    last_seen_of(unlinked(A, i), A.newest) == last_seen_of(A, A.newest) and
                    stamp_of(unlinked(A, i), A.newest) == stamp_of(A, A.newest)))
    Ensures(Implies(A.newest == i, prev_of(A, i) < 0 or
                    last_seen_of(unlinked(A, i), prev_of(A, i)) == last_seen_of(A, prev_of(A, i))))
    lemma_lru_unlinked_top(A, i)
    lemma_lru_unlinked_links(A, i)
    lemma_lru_unlinked_gap(A, i)
    lemma_lru_unlinked_order(A, i)


# ---- appending an index off the list, used no earlier than the newest ----

def lemma_lru_appended_top(U: Table, i: int) -> None:
    Requires(lru_top(U, i) and lru_links(U, i) and live(U, i) and stamp_room(U))
    Ensures(lru_top(appended(U, i), -1))
    Assert(Reveal(lru_top(U, i)) == lru_top_body(U, i))
    Assert(Reveal(lru_links(U, i)) == lru_links_body(U, i))
    Assert(Implies(U.newest >= 0, listed(U, U.newest, i) and stamp_of(U, U.newest) < MAX_STAMP))
    lemma_appended_words(U, i)
    B = appended(U, i)
    Assert(Forall(int, lambda m: (Implies(listed(B, m, -1), m == i or listed(U, m, i)),
                                  [[listed(B, m, -1)]])))
    Assert(listed(B, i, -1))
    Assert(Reveal(lru_top(B, -1)) == lru_top_body(B, -1))


def lemma_lru_appending(U: Table, i: int) -> None:
    """What appending i to U's list needs from it: i is off the list and in
    range, the newest (if any) is listed, has no successor and room for a
    greater stamp, and every listed stamp is below the one i gets."""
    Requires(lru_top(U, i) and lru_links(U, i) and live(U, i) and stamp_room(U))
    Ensures(0 <= i and i < U.cap and FLOW_WORDS * U.cap + LINK_WORDS * U.cap <= len(U.words))
    Ensures(-1 <= U.newest and U.newest < U.cap and U.newest != i and -1 <= U.oldest and U.oldest < U.cap)
    Ensures(Implies(U.newest < 0, U.oldest < 0))
    Ensures(Implies(U.newest >= 0, listed(U, U.oldest, i) and listed(U, U.newest, i) and next_of(U, U.newest) == -1 and
                    stamp_of(U, U.newest) < MAX_STAMP and stamp_of(U, U.newest) < next_stamp(U)))
    Ensures(Forall(int, lambda m: (Implies(listed(U, m, i), stamp_of(U, m) < next_stamp(U) and
                                          Implies(m != U.oldest, stamp_of(U, U.oldest) < stamp_of(U, m))),
                                  [[listed(U, m, i)]])))
    Assert(Reveal(lru_top(U, i)) == lru_top_body(U, i))
    Assert(Reveal(lru_links(U, i)) == lru_links_body(U, i))
    Assert(Implies(U.newest >= 0, listed(U, U.oldest, i) and listed(U, U.newest, i) and
                   stamp_of(U, U.newest) < MAX_STAMP))


# lru_links(appended(U, i), -1) conjunct by conjunct (in one lemma 27-41 s
# alone, and Z3 past 5 GB in company).

def lemma_lru_appended_ends(U: Table, i: int) -> None:
    Requires(lru_top(U, i) and lru_links(U, i) and live(U, i) and stamp_room(U))
    Ensures(lru_link_ends(appended(U, i), -1))
    lemma_lru_appending(U, i)
    lemma_appended_words(U, i)
    B = appended(U, i)
    Assert(Forall(int, lambda m: (Implies(listed(B, m, -1), m == i or listed(U, m, i)),
                                  [[listed(B, m, -1)]])))
    Assert(Reveal(lru_links(U, i)) == lru_links_body(U, i))
    Assert(lru_link_ends(B, -1))


def lemma_lru_appended_next(U: Table, i: int) -> None:
    Requires(lru_top(U, i) and lru_links(U, i) and live(U, i) and stamp_room(U))
    Ensures(lru_link_next(appended(U, i), -1))
    lemma_lru_appending(U, i)
    lemma_appended_words(U, i)
    B = appended(U, i)
    Assert(Forall(int, lambda m: (Implies(listed(B, m, -1), m == i or listed(U, m, i)),
                                  [[listed(B, m, -1)]])))
    Assert(listed(B, i, -1))
    Assert(Reveal(lru_links(U, i)) == lru_links_body(U, i))
    Assert(lru_link_next(B, -1))


def lemma_lru_appended_prev(U: Table, i: int) -> None:
    Requires(lru_top(U, i) and lru_links(U, i) and live(U, i) and stamp_room(U))
    Ensures(lru_link_prev(appended(U, i), -1))
    lemma_lru_appending(U, i)
    lemma_appended_words(U, i)
    B = appended(U, i)
    Assert(Forall(int, lambda m: (Implies(listed(B, m, -1), m == i or listed(U, m, i)),
                                  [[listed(B, m, -1)]])))
    Assert(Reveal(lru_links(U, i)) == lru_links_body(U, i))
    Assert(lru_link_prev(B, -1))


def lemma_lru_appended_bounds(U: Table, i: int) -> None:
    Requires(lru_top(U, i) and lru_links(U, i) and live(U, i) and stamp_room(U))
    Ensures(lru_link_bounds(appended(U, i), -1))
    lemma_lru_appending(U, i)
    lemma_appended_words(U, i)
    B = appended(U, i)
    Assert(Forall(int, lambda m: (Implies(listed(B, m, -1), m == i or listed(U, m, i)),
                                  [[listed(B, m, -1)]])))
    Assert(Reveal(lru_links(U, i)) == lru_links_body(U, i))
    Assert(lru_link_bounds(B, -1))


def lemma_lru_appended_links(U: Table, i: int) -> None:
    Requires(lru_top(U, i) and lru_links(U, i) and live(U, i) and stamp_room(U))
    Ensures(lru_links(appended(U, i), -1))
    lemma_lru_appended_ends(U, i)
    lemma_lru_appended_next(U, i)
    lemma_lru_appended_prev(U, i)
    lemma_lru_appended_bounds(U, i)
    Assert(Reveal(lru_links(appended(U, i), -1)) == lru_links_body(appended(U, i), -1))


def lemma_lru_appended_gap(U: Table, i: int) -> None:
    Requires(lru_top(U, i) and lru_links(U, i) and live(U, i) and stamp_room(U))
    Requires(lru_gap(U, i))
    Ensures(lru_gap(appended(U, i), -1))
    lemma_lru_appending(U, i)
    Assert(Reveal(lru_links(U, i)) == lru_links_body(U, i))
    lemma_appended_words(U, i)
    B = appended(U, i)
    w = U.newest
    # B's listed indices: i, with the greatest stamp and no successor, and
    # U's, with U's stamps and successors but the old newest's, now i (in
    # one step Z3 found the gap in 10 s alone and passed 4 GB in company)
    Assert(listed(B, i, -1) and stamp_of(B, i) == next_stamp(U) and next_of(B, i) == -1)
    Assert(Forall(int, lambda m: (Implies(listed(B, m, -1) and m != i,
        listed(U, m, i) and stamp_of(B, m) == stamp_of(U, m) and
        next_of(B, m) == (i if m == w else next_of(U, m))), [[listed(B, m, -1)]])))
    # a listed index's successor's stamp is below i's: no greater than the
    # newest's (U's gap between the index and the newest)
    Assert(Reveal(lru_gap(U, i)) == lru_gap_body(U, i))
    Assert(Forall(int, lambda m: (Implies(listed(U, m, i) and next_of(U, m) >= 0,
        stamp_of(U, next_of(U, m)) < next_stamp(U)), [[listed(U, m, i)]])))
    Assert(Reveal(lru_gap(B, -1)) == lru_gap_body(B, -1))


def lemma_lru_appended_order(U: Table, i: int) -> None:
    Requires(lru_top(U, i) and lru_links(U, i) and live(U, i) and stamp_room(U))
    Requires(lru_order(U, i) and newest_time(U) <= last_seen_of(U, i))
    Ensures(lru_order(appended(U, i), -1))
    lemma_lru_appending(U, i)
    Assert(Reveal(lru_links(U, i)) == lru_links_body(U, i))
    lemma_appended_words(U, i)
    B = appended(U, i)
    # B's listed indices: i, with the greatest stamp, and U's, with U's
    # stamps and times (in one step Z3 took 4-7 s alone and was stuck for
    # minutes in company)
    Assert(listed(B, i, -1) and stamp_of(B, i) == next_stamp(U) and last_seen_of(B, i) == last_seen_of(U, i))
    Assert(Forall(int, lambda m: (Implies(listed(B, m, -1) and m != i,
        listed(U, m, i) and stamp_of(B, m) == stamp_of(U, m) and stamp_of(U, m) < next_stamp(U) and
        last_seen_of(B, m) == last_seen_of(U, m)), [[listed(B, m, -1)]])))
    Assert(Reveal(lru_order(U, i)) == lru_order_body(U, i))
    # every listed index was used no later than the newest, so than i
    Assert(Forall(int, lambda m: (Implies(listed(U, m, i), last_seen_of(U, m) <= last_seen_of(U, i)),
                                  [[listed(U, m, i)]])))
    Assert(Reveal(lru_order(B, -1)) == lru_order_body(B, -1))


def lemma_lru_order_kept(A: Table, x: int, B: Table, y: int) -> None:
    """lru_order reads the listed indices' stamps and times only: B lists
    no index A does not, each with A's stamp and time."""
    Requires(lru_order(A, x) and B.cap == A.cap)
    Requires(Forall(int, lambda m: (Implies(0 <= m and m < A.cap and m != y and rec_of(B, m, F_LAST_SEEN) != FREE,
        m != x and rec_of(A, m, F_LAST_SEEN) != FREE), [[rec_of(B, m, F_LAST_SEEN)]])))
    Requires(Forall(int, lambda m: (Implies(0 <= m and m < A.cap and m != x and rec_of(A, m, F_LAST_SEEN) != FREE,
        stamp_of(B, m) == stamp_of(A, m) and rec_of(B, m, F_LAST_SEEN) == rec_of(A, m, F_LAST_SEEN)),
        [[rec_of(A, m, F_LAST_SEEN)]])))
    Ensures(lru_order(B, y))
    Assert(Reveal(lru_order(A, x)) == lru_order_body(A, x))
    Assert(Forall(int, lambda m: (Implies(listed(B, m, y), listed(A, m, x)), [[listed(B, m, y)]])))
    Assert(Reveal(lru_order(B, y)) == lru_order_body(B, y))


def lemma_lru_order_join(B: Table, i: int, now: int) -> None:
    """The newest index i, whose stamp is the greatest, gets time now, no
    earlier than any other listed index's: the order takes it in."""
    Requires(lru_top(B, -1) and lru_links(B, -1) and lru_order(B, i) and B.newest == i and 0 <= i)
    Requires(0 <= now and Forall(int, lambda m: (Implies(listed(B, m, i), last_seen_of(B, m) <= now),
                                                 [[listed(B, m, i)]])))
    Ensures(lru_order(with_rec(B, i, F_LAST_SEEN, now), -1))
    Assert(Reveal(lru_top(B, -1)) == lru_top_body(B, -1))
    Assert(Reveal(lru_links(B, -1)) == lru_links_body(B, -1))
    Assert(Reveal(lru_order(B, i)) == lru_order_body(B, i))
    lemma_rec_words(B, i, F_LAST_SEEN, now)
    F = with_rec(B, i, F_LAST_SEEN, now)
    Assert(Forall(int, lambda m: (Implies(listed(F, m, -1) and m != i, listed(B, m, i) and listed(B, m, -1)),
                                  [[listed(F, m, -1)]])))
    Assert(listed(F, i, -1) and last_seen_of(F, i) == now)
    Assert(Reveal(lru_order(F, -1)) == lru_order_body(F, -1))


def lemma_lru_appended(U: Table, i: int) -> None:
    """Appending i, off the list and used no earlier than the newest, puts
    the list back in order, i the newest."""
    Requires(lru_body(U, i) and live(U, i))
    Requires(newest_time(U) <= last_seen_of(U, i) and stamp_room(U))
    Ensures(lru_body(appended(U, i), -1))
    Ensures(newest_time(appended(U, i)) == last_seen_of(U, i))
    lemma_lru_appended_top(U, i)
    lemma_lru_appended_links(U, i)
    lemma_lru_appended_gap(U, i)
    lemma_lru_appended_order(U, i)
    # the words lemma needs U's words to exist and i not the newest (U's ends)
    Assert(Reveal(lru_top(U, i)) == lru_top_body(U, i))
    Assert(Implies(U.newest >= 0, listed(U, U.newest, i)))
    lemma_appended_words(U, i)


def lemma_lru_raised_order(A: Table, i: int, now: int) -> None:
    """The newest flow used again, at now: stamp order is still time order."""
    Requires(lru_top(A, -1) and lru_links(A, -1) and lru_order(A, -1) and A.newest == i and i >= 0)
    Requires(last_seen_of(A, i) <= now and 0 <= now)
    Ensures(lru_order(with_rec(A, i, F_LAST_SEEN, now), -1))
    Assert(Reveal(lru_top(A, -1)) == lru_top_body(A, -1))
    Assert(Reveal(lru_links(A, -1)) == lru_links_body(A, -1))
    Assert(Reveal(lru_order(A, -1)) == lru_order_body(A, -1))
    lemma_rec_words(A, i, F_LAST_SEEN, now)
    F = with_rec(A, i, F_LAST_SEEN, now)
    Assert(Forall(int, lambda m: (Implies(listed(F, m, -1), listed(A, m, -1)), [[listed(F, m, -1)]])))
    Assert(Reveal(lru_order(F, -1)) == lru_order_body(F, -1))


# ---- what the allocator's invariant says of the indices the order moves ----

def lemma_next_free_free(A: Table) -> None:
    """The free FIFO's first index is free (allocator_ok_a), if any is."""
    Requires(allocator_ok_a(A) and A.count < A.cap)
    Ensures(0 <= next_free(A) and next_free(A) < A.cap and rec_of(A, next_free(A), F_LAST_SEEN) == FREE)
    Assert(Reveal(allocator_ok_a(A)) == allocator_ok_body(A))
    n = next_free(A)
    Assert(0 <= n and n < A.cap and ring_of(A, n, R_POS) == A.head)


def lemma_ring_facts(A: Table, o: int) -> None:
    """For a live index o: its ring position and the index just past the
    free window are in range and inverse to their positions (what
    lemma_swapped_words needs); the count is at least 1; no time is below
    FREE."""
    Requires(allocator_ok_a(A) and live(A, o))
    Ensures(A.count >= 1 and 0 <= window_end(A) and window_end(A) < A.cap)
    Ensures(0 <= ring_of(A, o, R_POS) and ring_of(A, o, R_POS) < A.cap and
            ring_of(A, ring_of(A, o, R_POS), R_RING) == o)
    Ensures(0 <= ring_of(A, window_end(A), R_RING) and ring_of(A, window_end(A), R_RING) < A.cap and
            ring_of(A, ring_of(A, window_end(A), R_RING), R_POS) == window_end(A))
    Ensures(FREE <= rec_of(A, o, F_LAST_SEEN))
    Assert(Reveal(allocator_ok_a(A)) == allocator_ok_body(A))


# ---- the transitions ----

def lemma_lru_timed(B: Table, i: int, now: int) -> None:
    """A listed index's new time: the list's ends, links and gaps are B's
    (lru_top, lru_links, lru_gap read no time but liveness)."""
    Requires(lru_top(B, -1) and lru_links(B, -1) and lru_gap(B, -1) and listed(B, i, -1) and 0 <= now)
    Ensures(lru_top(with_rec(B, i, F_LAST_SEEN, now), -1))
    Ensures(lru_links(with_rec(B, i, F_LAST_SEEN, now), -1))
    Ensures(lru_gap(with_rec(B, i, F_LAST_SEEN, now), -1))
    Ensures(with_rec(B, i, F_LAST_SEEN, now).newest == B.newest)
    Ensures(Implies(B.newest == i, newest_time(with_rec(B, i, F_LAST_SEEN, now)) == now))
    Assert(Reveal(lru_top(B, -1)) == lru_top_body(B, -1))
    lemma_rec_words(B, i, F_LAST_SEEN, now)
    F = with_rec(B, i, F_LAST_SEEN, now)
    Assert(lru_same(B, -1, F, -1))
    lemma_lru_transfer_top(B, -1, F, -1)
    lemma_lru_transfer_links(B, -1, F, -1)
    lemma_lru_transfer_gap(B, -1, F, -1)


def lemma_lru_relinked_links(U: Table, i: int, now: int) -> None:
    """i, off the list, appended and then given time now: the list's ends,
    links and gaps are appended's (lru_top, lru_links, lru_gap)."""
    Requires(lru_body(U, i) and live(U, i) and stamp_room(U) and 0 <= now)
    Ensures(lru_top(with_rec(appended(U, i), i, F_LAST_SEEN, now), -1))
    Ensures(lru_links(with_rec(appended(U, i), i, F_LAST_SEEN, now), -1))
    Ensures(lru_gap(with_rec(appended(U, i), i, F_LAST_SEEN, now), -1))
    Ensures(newest_time(with_rec(appended(U, i), i, F_LAST_SEEN, now)) == now)
    lemma_lru_appended_top(U, i)
    lemma_lru_appended_links(U, i)
    lemma_lru_appended_gap(U, i)
    B = appended(U, i)
    Assert(B.newest == i)
    Assert(Reveal(lru_top(B, -1)) == lru_top_body(B, -1))
    Assert(listed(B, i, -1))
    lemma_lru_timed(B, i, now)


def lemma_lru_relinked_order(U: Table, i: int, now: int) -> None:
    """i, off the list, appended and then given time now, no earlier than
    the newest's: stamp order is time order."""
    Requires(lru_body(U, i) and live(U, i) and stamp_room(U) and 0 <= now and newest_time(U) <= now)
    Ensures(lru_order(with_rec(appended(U, i), i, F_LAST_SEEN, now), -1))
    lemma_lru_appended_top(U, i)
    lemma_lru_appended_links(U, i)
    B = appended(U, i)
    Assert(Reveal(lru_top(U, i)) == lru_top_body(U, i))
    Assert(Implies(U.newest >= 0, listed(U, U.newest, i)))
    lemma_appended_words(U, i)
    lemma_lru_order_kept(U, i, B, i)
    Assert(Reveal(lru_links(U, i)) == lru_links_body(U, i))
    Assert(Reveal(lru_order(U, i)) == lru_order_body(U, i))
    Assert(Implies(U.newest >= 0, listed(U, U.newest, i)))
    Assert(Forall(int, lambda m: (Implies(listed(U, m, i), last_seen_of(U, m) <= now),
                                  [[listed(U, m, i)]])))
    Assert(Forall(int, lambda m: (Implies(listed(B, m, i), listed(U, m, i) and
                                          last_seen_of(B, m) == last_seen_of(U, m)),
                                  [[listed(B, m, i)]])))
    lemma_lru_order_join(B, i, now)


def lemma_lru_ok_touched(A: Table, i: int, now: int) -> None:
    """A refresh at now, no earlier than the newest flow's time, keeps the
    least-recently-used order (flowtable.flow_refresh)."""
    Requires(lru_ok_a(A) and live(A, i) and 0 <= now and now <= MAX_TIME)
    Requires(newest_time(A) <= now and stamp_room(A))
    Ensures(lru_ok_a(touched(A, i, now)) and newest_time(touched(A, i, now)) == now)
    Assert(Reveal(lru_ok_a(A)) == lru_body(A, -1))
    Assert(Reveal(lru_top(A, -1)) == lru_top_body(A, -1))
    Assert(listed(A, i, -1))
    if A.newest == i:
        # only i's time moves (relinked leaves the list as it is)
        Assert(touched(A, i, now) == with_rec(A, i, F_LAST_SEEN, now))
        lemma_lru_timed(A, i, now)
        lemma_lru_raised_order(A, i, now)
    else:
        # unlink, append, then the time
        lemma_lru_unlinked(A, i)
        U = unlinked(A, i)
        Assert(live(U, i) and stamp_room(U) and newest_time(U) <= now)
        lemma_lru_relinked_links(U, i, now)
        lemma_lru_relinked_order(U, i, now)
        Assert(touched(A, i, now) == with_rec(appended(U, i), i, F_LAST_SEEN, now))
    Assert(Reveal(lru_ok_a(touched(A, i, now))) == lru_body(touched(A, i, now), -1))


def lemma_lru_header(A: Table, x: int, h: int, v: int) -> None:
    """The count or the ring head stored: the list is A's (the same words)."""
    Requires(lru_body(A, x) and (h == H_COUNT or h == H_RING_HEAD))
    Ensures(lru_body(with_header(A, h, v), x))
    Ensures(with_header(A, h, v).words == A.words and with_header(A, h, v).cap == A.cap and
            with_header(A, h, v).oldest == A.oldest and with_header(A, h, v).newest == A.newest)
    B = with_header(A, h, v)
    Assert(B.words == A.words and B.cap == A.cap and B.oldest == A.oldest and B.newest == A.newest)
    Assert(lru_same(A, x, B, x) and lru_same_times(A, x, B))
    lemma_lru_transfer(A, x, B, x)


def lemma_lru_taken(A: Table, now: int) -> None:
    """The free FIFO's first index taken and stamped with now, not yet on
    the list: the list is A's, that index off it."""
    Requires(lru_body(A, -1) and 0 <= next_free(A) and next_free(A) < A.cap and
             rec_of(A, next_free(A), F_LAST_SEEN) == FREE and 0 <= now)
    Ensures(lru_body(with_rec(taken(A), next_free(A), F_LAST_SEEN, now), next_free(A)))
    Ensures(live(with_rec(taken(A), next_free(A), F_LAST_SEEN, now), next_free(A)))
    Ensures(stamp_room(with_rec(taken(A), next_free(A), F_LAST_SEEN, now)) == stamp_room(A))
    Ensures(newest_time(with_rec(taken(A), next_free(A), F_LAST_SEEN, now)) == newest_time(A))
    n = next_free(A)
    T1 = with_header(A, H_RING_HEAD, A.head + 1 if A.head + 1 < A.cap else 0)
    lemma_lru_header(A, -1, H_RING_HEAD, A.head + 1 if A.head + 1 < A.cap else 0)
    lemma_lru_header(T1, -1, H_COUNT, A.count + 1)
    T = taken(A)
    Assert(T == with_header(T1, H_COUNT, A.count + 1))
    Assert(T.words == A.words and T.cap == A.cap and T.oldest == A.oldest and T.newest == A.newest)
    Assert(rec_of(T, n, F_LAST_SEEN) == FREE)
    lemma_rec_words(T, n, F_LAST_SEEN, now)
    X = with_rec(T, n, F_LAST_SEEN, now)
    Assert(Reveal(lru_top(T, -1)) == lru_top_body(T, -1))
    Assert(Implies(T.newest >= 0, T.newest != n))
    Assert(lru_same(T, -1, X, n) and lru_same_times(T, -1, X))
    lemma_lru_transfer(T, -1, X, n)


def lemma_lru_ok_allocated(A: Table, now: int) -> None:
    """Allocating at now, no earlier than the newest flow's time, keeps the
    least-recently-used order: the next free index joins at the newest end."""
    Requires(lru_ok_a(A) and allocator_ok_a(A) and A.count < A.cap and 0 <= now and now <= MAX_TIME)
    Requires(newest_time(A) <= now and stamp_room(A))
    Ensures(lru_ok_a(allocated(A, now)) and newest_time(allocated(A, now)) == now)
    Assert(Reveal(lru_ok_a(A)) == lru_body(A, -1))
    lemma_next_free_free(A)
    n = next_free(A)
    lemma_lru_taken(A, now)
    X = with_rec(taken(A), n, F_LAST_SEEN, now)
    lemma_rec_words(taken(A), n, F_LAST_SEEN, now)
    Assert(Reveal(lru_top(A, -1)) == lru_top_body(A, -1))
    Assert(taken(A).cap == A.cap and len(taken(A).words) == len(A.words))
    Assert(last_seen_of(X, n) == now)
    lemma_lru_appended(X, n)
    Assert(allocated(A, now) == appended(X, n))
    Assert(Reveal(lru_ok_a(allocated(A, now))) == lru_body(allocated(A, now), -1))


def lemma_lru_keyed_same(A: Table, i: int, f: int, v: int) -> None:
    """A store to a key or MAC word keeps every link, stamp and time."""
    Requires(0 <= i and i < A.cap and (f == F_KEY1 or f == F_KEY2 or f == F_MAC))
    Ensures(lru_same_times(A, -1, with_rec(A, i, f, v)) and lru_same(A, -1, with_rec(A, i, f, v), -1))
    lemma_rec_words(A, i, f, v)
    B = with_rec(A, i, f, v)
    Assert(B.cap == A.cap and len(B.words) == len(A.words) and B.oldest == A.oldest and B.newest == A.newest)
    Assert(f != F_LAST_SEEN and rec_of(B, i, F_LAST_SEEN) == rec_of(A, i, F_LAST_SEEN))
    Assert(Forall(int, lambda m: (Implies(0 <= m and m < A.cap, rec_of(B, m, F_LAST_SEEN) == rec_of(A, m, F_LAST_SEEN)),
                                  [[rec_of(B, m, F_LAST_SEEN)], [rec_of(A, m, F_LAST_SEEN)]])))
    Assert(Forall(int, lambda m: (Implies(0 <= m and m < A.cap,
        next_of(B, m) == next_of(A, m) and prev_of(B, m) == prev_of(A, m) and stamp_of(B, m) == stamp_of(A, m)),
        [[rec_of(A, m, F_LAST_SEEN)]])))


def lemma_lru_ok_keyed(A: Table, i: int, f: int, v: int) -> None:
    """The order reads no key or MAC (flowtable.flow_allocate's added)."""
    Requires(lru_ok_a(A) and 0 <= i and i < A.cap and (f == F_KEY1 or f == F_KEY2 or f == F_MAC))
    Ensures(lru_ok_a(with_rec(A, i, f, v)))
    Ensures(newest_time(with_rec(A, i, f, v)) == newest_time(A))
    Ensures(stamp_room(with_rec(A, i, f, v)) == stamp_room(A))
    lemma_lru_keyed_same(A, i, f, v)
    B = with_rec(A, i, f, v)
    Assert(Reveal(lru_ok_a(A)) == lru_body(A, -1))
    lemma_lru_transfer(A, -1, B, -1)
    Assert(Reveal(lru_ok_a(B)) == lru_body(B, -1))


def lemma_lru_ok_added(A: Table, k1: int, k2: int, mac: int, now: int) -> None:
    """A new flow, if there is room, keeps the least-recently-used order
    (flowtable.flow_allocate, which calls this before it knows)."""
    Requires(lru_ok_a(A) and allocator_ok_a(A) and 0 <= now and now <= MAX_TIME)
    Requires(newest_time(A) <= now and stamp_room(A))
    Ensures(Implies(A.count < A.cap, lru_ok_a(added(A, k1, k2, mac, now)) and
                    newest_time(added(A, k1, k2, mac, now)) == now))
    if A.count >= A.cap:
        return
    lemma_lru_ok_allocated(A, now)
    lemma_next_free_free(A)
    n = next_free(A)
    Assert(0 <= n and n < A.cap and allocated(A, now).cap == A.cap)
    B1 = with_rec(allocated(A, now), n, F_KEY1, k1)
    lemma_lru_ok_keyed(allocated(A, now), n, F_KEY1, k1)
    B2 = with_rec(B1, n, F_KEY2, k2)
    lemma_lru_ok_keyed(B1, n, F_KEY2, k2)
    lemma_lru_ok_keyed(B2, n, F_MAC, mac)
    Assert(added(A, k1, k2, mac, now) == with_rec(B2, n, F_MAC, mac))


def lemma_lru_released(U: Table, o: int, p: int) -> None:
    """Index o, off the list, swapped past the free window and marked free,
    the count one less: the list is U's."""
    Requires(lru_body(U, o) and 0 <= o and o < U.cap and 0 <= p and p < U.cap)
    Requires(0 <= ring_of(U, o, R_POS) and ring_of(U, o, R_POS) < U.cap and
             ring_of(U, ring_of(U, o, R_POS), R_RING) == o)
    Requires(0 <= ring_of(U, p, R_RING) and ring_of(U, p, R_RING) < U.cap and
             ring_of(U, ring_of(U, p, R_RING), R_POS) == p)
    Ensures(lru_body(with_header(with_rec(swapped(U, o, p), o, F_LAST_SEEN, FREE), H_COUNT, U.count - 1), o))
    Ensures(rec_of(with_header(with_rec(swapped(U, o, p), o, F_LAST_SEEN, FREE), H_COUNT, U.count - 1),
                   o, F_LAST_SEEN) == FREE)
    Ensures(with_header(with_rec(swapped(U, o, p), o, F_LAST_SEEN, FREE), H_COUNT, U.count - 1).oldest == U.oldest and
            with_header(with_rec(swapped(U, o, p), o, F_LAST_SEEN, FREE), H_COUNT, U.count - 1).newest == U.newest and
            with_header(with_rec(swapped(U, o, p), o, F_LAST_SEEN, FREE), H_COUNT, U.count - 1).count == U.count - 1 and
            with_header(with_rec(swapped(U, o, p), o, F_LAST_SEEN, FREE), H_COUNT, U.count - 1).cap == U.cap)
    Ensures(Implies(U.newest >= 0 and U.newest != o and U.newest < U.cap,
        rec_of(with_header(with_rec(swapped(U, o, p), o, F_LAST_SEEN, FREE), H_COUNT, U.count - 1), U.newest, F_LAST_SEEN) == rec_of(U, U.newest, F_LAST_SEEN) and
        stamp_of(with_header(with_rec(swapped(U, o, p), o, F_LAST_SEEN, FREE), H_COUNT, U.count - 1), U.newest) == stamp_of(U, U.newest)))
    lemma_swapped_words(U, o, p)
    Q = swapped(U, o, p)
    Assert(lru_same(U, o, Q, o) and lru_same_times(U, o, Q))
    lemma_lru_transfer(U, o, Q, o)
    lemma_rec_words(Q, o, F_LAST_SEEN, FREE)
    R1 = with_rec(Q, o, F_LAST_SEEN, FREE)
    Assert(Reveal(lru_top(U, o)) == lru_top_body(U, o))
    Assert(rec_of(R1, o, F_LAST_SEEN) == FREE)
    Assert(lru_same(Q, o, R1, o) and lru_same_times(Q, o, R1))
    lemma_lru_transfer(Q, o, R1, o)
    lemma_lru_header(R1, o, H_COUNT, U.count - 1)


def lemma_lru_cleared(R: Table, o: int) -> None:
    """Free index o's key, MAC and links reset: the list is R's (o was off
    it), now with no index taken off."""
    Requires(lru_body(R, o) and 0 <= o and o < R.cap and rec_of(R, o, F_LAST_SEEN) == FREE)
    Ensures(lru_body(cleared(R, o), -1))
    Ensures(cleared(R, o).oldest == R.oldest and cleared(R, o).newest == R.newest and
            cleared(R, o).count == R.count and cleared(R, o).cap == R.cap)
    Ensures(Implies(R.newest >= 0 and R.newest != o and R.newest < R.cap,
        rec_of(cleared(R, o), R.newest, F_LAST_SEEN) == rec_of(R, R.newest, F_LAST_SEEN) and
        stamp_of(cleared(R, o), R.newest) == stamp_of(R, R.newest)))
    lemma_cleared_words(R, o)
    C = cleared(R, o)
    Assert(lru_same(R, o, C, -1) and lru_same_times(R, o, C))
    lemma_lru_transfer(R, o, C, -1)


def lemma_lru_ok_freed(A: Table) -> None:
    """Freeing the oldest flow (expiry) keeps the order; the newest flow
    stays, or the list is left empty."""
    Requires(lru_ok_a(A) and allocator_ok_a(A) and A.oldest >= 0)
    Ensures(lru_ok_a(freed(A, A.oldest + 0)))
    Ensures(freed(A, A.oldest + 0).count == A.count - 1 and freed(A, A.oldest + 0).cap == A.cap)
    Ensures(newest_time(freed(A, A.oldest + 0)) <= newest_time(A))
    Ensures(Implies(stamp_room(A), stamp_room(freed(A, A.oldest + 0))))
    Assert(Reveal(lru_ok_a(A)) == lru_body(A, -1))
    Assert(Reveal(lru_top(A, -1)) == lru_top_body(A, -1))
    o = A.oldest + 0
    Assert(listed(A, o, -1))
    lemma_ring_facts(A, o)
    lemma_lru_unlinked(A, o)
    U = unlinked(A, o)
    # the oldest's neighbours, for the words of the unlink
    Assert(Reveal(lru_links(A, -1)) == lru_links_body(A, -1))
    Assert(prev_of(A, o) == -1)
    Assert(Implies(next_of(A, o) >= 0, listed(A, next_of(A, o), -1)))
    Assert(Implies(next_of(A, o) >= 0, stamp_of(A, o) < stamp_of(A, next_of(A, o))))
    lemma_unlinked_words(A, o)
    p = window_end(U)
    Assert(p == window_end(A))
    Assert(0 <= ring_of(U, o, R_POS) and ring_of(U, o, R_POS) < A.cap and
           ring_of(U, ring_of(U, o, R_POS), R_RING) == o)
    Assert(0 <= ring_of(U, p, R_RING) and ring_of(U, p, R_RING) < A.cap and
           ring_of(U, ring_of(U, p, R_RING), R_POS) == p)
    lemma_lru_released(U, o, p)
    Q = swapped(U, o, p)
    Assert(queued(U, o) == Q)
    R = with_header(with_rec(Q, o, F_LAST_SEEN, FREE), H_COUNT, U.count - 1)
    Assert(released(U, o) == R)
    lemma_lru_cleared(R, o)
    C = cleared(R, o)
    Assert(freed(A, o) == C)
    Assert(Reveal(lru_ok_a(C)) == lru_body(C, -1))


def lemma_lru_fresh(A: Table, now: int, timeout: int) -> None:
    """Where expiry stops, at an oldest flow that is still fresh (or at an
    empty list), every live flow is fresh: the oldest was used least
    recently."""
    Requires(lru_ok_a(A))
    Requires(A.oldest < 0 or not live(A, A.oldest) or now - last_seen_of(A, A.oldest) < timeout)
    Ensures(all_fresh(A, now, timeout))
    Assert(Reveal(lru_ok_a(A)) == lru_body(A, -1))
    Assert(Reveal(lru_top(A, -1)) == lru_top_body(A, -1))
    Assert(Reveal(lru_links(A, -1)) == lru_links_body(A, -1))
    Assert(Reveal(lru_order(A, -1)) == lru_order_body(A, -1))
    Assert(Forall(int, lambda m: (Implies(live(A, m), listed(A, m, -1)), [[live(A, m)]])))


def lemma_none_live(A: Table, now: int, timeout: int) -> None:
    """With a count of 0 no index is live (the free window is the whole
    ring), so every live flow is fresh."""
    Requires(allocator_ok_a(A) and A.count <= 0)
    Ensures(all_fresh(A, now, timeout))
    Assert(Reveal(allocator_ok_a(A)) == allocator_ok_body(A))


def lemma_lru_ok_empty(A: Table) -> None:
    """An empty list over free indices is in order (flowtable.table_init)."""
    Requires(A.oldest == -1 and A.newest == -1 and 0 <= A.cap and
             FLOW_WORDS * A.cap + LINK_WORDS * A.cap <= len(A.words))
    Requires(Forall(int, lambda m: (Implies(0 <= m and m < A.cap, rec_of(A, m, F_LAST_SEEN) == FREE),
                                    [[rec_of(A, m, F_LAST_SEEN)]])))
    Ensures(lru_ok_a(A))
    Assert(Reveal(lru_top(A, -1)) == lru_top_body(A, -1))
    Assert(Reveal(lru_links(A, -1)) == lru_links_body(A, -1))
    Assert(Reveal(lru_gap(A, -1)) == lru_gap_body(A, -1))
    Assert(Reveal(lru_order(A, -1)) == lru_order_body(A, -1))
    Assert(Reveal(lru_ok_a(A)) == lru_body(A, -1))


def lemma_fresh_at_stop(t: List[int], now: int, timeout: int) -> None:
    """Where flowtable.flow_expire stops, every flow left is fresh: the
    oldest is fresh or absent, or no flow is live (count 0)."""
    Requires(table(t))
    Requires(state(t).count <= 0 or state(t).oldest < 0 or not live(state(t), state(t).oldest) or
             now - last_seen_of(state(t), state(t).oldest) < timeout)
    Ensures(table(t) and state(t) == Old(state(t)))
    Ensures(all_fresh(state(t), now, timeout))
    Unfold(table(t))
    lemma_allocator_ok_abstract(t)
    if abstract(t).count <= 0:
        lemma_none_live(abstract(t), now, timeout)
    else:
        lemma_lru_fresh(abstract(t), now, timeout)
    Fold(table(t))


# ---- the flow map's stores (flowmap.py) ----

@Opaque
@Pure
def abstract_sealed(t: List[int]) -> Table:
    """abstract(t), opaque: the map's contracts say that this does not
    change, and a caller that wants abstract(t) asserts
    Reveal(abstract_sealed(t)) == abstract(t) before and after the call
    (so the body stays out of the proofs of the map's inner functions)."""
    Requires(Acc(list_pred(t), 1/2))
    Decreases(None)
    return abstract(t)


def lemma_slot_stored(S: PSeq[int], k: int, v: int) -> None:
    """Storing a word of the map's slots (after the header, before the flow
    records) leaves the abstract table as it is."""
    Requires(HEADER_WORDS <= k and k < flows_at(S) and k < len(S))
    Ensures(abs_of(S.update(k, v)) == abs_of(S))
    Assert(at(S.update(k, v), H_CAPACITY) == at(S, H_CAPACITY) and
           at(S.update(k, v), H_MASK) == at(S, H_MASK) and
           at(S.update(k, v), H_COUNT) == at(S, H_COUNT) and
           at(S.update(k, v), H_OLDEST) == at(S, H_OLDEST) and
           at(S.update(k, v), H_NEWEST) == at(S, H_NEWEST) and
           at(S.update(k, v), H_RING_HEAD) == at(S, H_RING_HEAD))
    Assert(flows_at(S.update(k, v)) == flows_at(S))
    Assert(S.update(k, v).drop(flows_at(S)) == S.drop(flows_at(S)))
    Assert(Reveal(abs_of(S)) == Table(at(S, H_CAPACITY), at(S, H_COUNT), at(S, H_OLDEST),
                                      at(S, H_NEWEST), at(S, H_RING_HEAD), S.drop(flows_at(S))))
    Assert(Reveal(abs_of(S.update(k, v))) ==
           Table(at(S.update(k, v), H_CAPACITY), at(S.update(k, v), H_COUNT),
                 at(S.update(k, v), H_OLDEST), at(S.update(k, v), H_NEWEST),
                 at(S.update(k, v), H_RING_HEAD), S.update(k, v).drop(flows_at(S.update(k, v)))))


@Pure
def key_absent(t: List[int], k1: int, k2: int) -> bool:
    """No slot in use holds the key (k1, k2) (flowmap.map_insert's
    precondition, which flowtable.flow_allocate draws from find == -1)."""
    Requires(Acc(list_pred(t), 1/2) and map_ok(t))
    Decreases(None)
    return Forall(int, lambda s: (Implies(
        0 <= s and s <= t[H_MASK] and slot_word(t, s, SLOT_FLOW) >= 0,
        slot_word(t, s, SLOT_KEY1) != k1 or slot_word(t, s, SLOT_KEY2) != k2),
        [[slot_word(t, s, SLOT_FLOW)]]))


@Pure
def coupled_but(t: List[int], i: int) -> bool:
    """coupled, except that index i is in no slot and, live or not, need
    not be (what flowmap.map_erase(t, i) leaves: allocator.index_free(t, i)
    then frees i, and coupled_back gives coupled again)."""
    Requires(Acc(list_pred(t), 1/2) and map_ok(t))
    Decreases(None)
    return (Forall(int, lambda s: (Implies(
                0 <= s and s <= t[H_MASK] and slot_word(t, s, SLOT_FLOW) >= 0,
                slot_word(t, s, SLOT_FLOW) != i and
                flow_word(t, slot_word(t, s, SLOT_FLOW), F_LAST_SEEN) != FREE and
                flow_word(t, slot_word(t, s, SLOT_FLOW), F_KEY1) == slot_word(t, s, SLOT_KEY1) and
                flow_word(t, slot_word(t, s, SLOT_FLOW), F_KEY2) == slot_word(t, s, SLOT_KEY2)),
                [[slot_word(t, s, SLOT_FLOW)]])) and
            Forall(int, lambda x: (Implies(
                0 <= x and x < t[H_CAPACITY] and x != i and flow_word(t, x, F_LAST_SEEN) != FREE,
                0 <= flow_word(t, x, F_MAC) and flow_word(t, x, F_MAC) < KEY_LIMIT and
                Exists(int, lambda s: (0 <= s and s <= t[H_MASK] and
                                       slot_word(t, s, SLOT_FLOW) == x,
                                       [[slot_word(t, s, SLOT_FLOW)]]))),
                [[flow_word(t, x, F_LAST_SEEN)]])))


@Pure
def coupled_back(t: List[int], i: int) -> bool:
    """Lemma: coupled_but(t, i) with i free is coupled(t)."""
    Requires(Acc(list_pred(t), 1/2) and map_ok(t) and coupled_but(t, i))
    Requires(0 <= i and i < t[H_CAPACITY] and flow_word(t, i, F_LAST_SEEN) == FREE)
    Decreases(None)
    Ensures(Result() and coupled(t))
    return True
