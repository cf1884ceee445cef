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
    Assert, Opaque, Reveal,
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
    LINK_WORDS, L_PREV, L_NEXT, RING_WORDS, R_RING, R_POS,
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
    return Acc(list_pred(t)) and allocator_ok(t) and map_ok(t) and coupled(t)


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
def linked_new(A: Table, i: int) -> Table:
    """i's own links once appended: after the newest, nothing after it."""
    Decreases(None)
    return with_link(with_link(A, i, L_PREV, A.newest), i, L_NEXT, -1)


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
            Result().head == A.head)
    return with_ring(with_ring(A, p, R_RING, i), i, R_POS, p)


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
    Assert(Reveal(ring_put(A, p, i)) == with_ring(with_ring(A, p, R_RING, i), i, R_POS, p))


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
            Result().head == A.head)
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


def lemma_allocator_ok_swapped(A: Table, i: int, p: int) -> None:
    """Swapping allocated index i into ring position p, the first one past
    the free window, keeps the allocator's invariant (allocator._swap_out):
    the index that was at p is allocated too and takes i's old position, so
    the ring stays a permutation and the window holds the same indices."""
    Requires(allocator_ok_a(A) and 0 <= i and i < A.cap and 0 <= p and p < A.cap)
    Requires(rec_of(A, i, F_LAST_SEEN) != FREE and ring_offset_of(A, p) == A.cap - A.count)
    Ensures(allocator_ok_a(swapped(A, i, p)))
    Assert(Reveal(allocator_ok_a(A)) == allocator_ok_body(A))
    q = ring_of(A, i, R_POS)
    j = ring_of(A, p, R_RING)
    Assert(0 <= q and q < A.cap and 0 <= j and j < A.cap)
    Assert(ring_of(A, q, R_RING) == i and ring_of(A, j, R_POS) == p)
    Assert(rec_of(A, j, F_LAST_SEEN) != FREE)
    lemma_swapped_words(A, i, p)
    B = swapped(A, i, p)
    Assert(B.cap == A.cap and B.count == A.count and B.oldest == A.oldest and
           B.newest == A.newest and B.head == A.head)
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


@Pure
def cleared(A: Table, i: int) -> Table:
    """Free index i's key, MAC and links reset (allocator._clear_words): a
    free index's words are always (0, 0, 0, FREE) and (-1, -1)."""
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
