"""Index allocator that keeps allocated indices in least-recently-used order.

Allocated indices form a doubly linked list (L_PREV/L_NEXT) from the oldest
(H_OLDEST) to the newest (H_NEWEST); free indices a FIFO queue, kept as a
window of a ring that holds every index once (R_RING, with its inverse
R_POS; layout.py), so a freed external port is the last to be reused.
Every time stamp written is the current `now`, and `now` never goes
backwards, so list order is also last-seen order: expiry only ever looks at
the oldest entry. Allocate, refresh and free are O(1). An index is allocated
exactly when its F_LAST_SEEN is >= 0 (FREE = -1 otherwise).

Every store goes through a one-word setter (`_set_*`) whose contract says
which word changed and that every other word the library reads is
unchanged: the proofs of the operations then reason about named words
(ghost.py) instead of a chain of list updates, which Nagini handles in
seconds instead of not finishing. numba inlines the setters.

Proven with Nagini (vernat prove --module vernat.state.allocator ✔, every
function; docs/progress-prove.md): the setters, lru_append/lru_unlink/lru_touch
(links stay in range), index_allocate (fails exactly when count = capacity,
else takes the index freed longest ago), index_refresh, index_free (through
_unlink, _release = _swap_out + _mark_free, _clear: a freed index's key, MAC
and links are reset), index_oldest, index_is_allocated,
against allocator_ok (ghost.py: the ring window holds exactly the free
indices in the order freed) and their frames. Each setter also states its
store on flowtable's abstract value (`abstract(t) == with_*(Old(abstract(t)),
...)`, through model.py's `lemma_*_stored`), and the operations compose
those into model.py's transitions: lru_unlink/lru_append/lru_touch give
unlinked/appended/relinked, index_refresh touched (flowtable.flow_refresh),
index_allocate allocated (_take: taken and the time, then appended), and
index_free freed (through _unlink: unlinked, _release: released, with
_swap_out: model.swapped, and _clear: cleared). Where an
operation's proof of the invariant was slow next to other stores (minutes,
or Z3 past several GB), one store keeping allocator_ok is its own function:
_take, _stamp. Every setter also keeps the flow map's invariant as an
opaque value of the words (model.map_ok_s; on refresh's path coupled_s too),
by a one-store lemma before its store, and every operation passes it on:
flowtable then gets map_ok back after an allocator call without re-proving
it from the word frame (docs/progress-prove.md, session 12). Not proven: that the linked
list holds exactly the allocated indices in last-seen order (only that its
links stay in range); see docs/trust.md.
"""

from typing import List

from nagini_contracts.contracts import (
    Requires, Ensures, Result, Old, Implies, Forall, Forall2, Assert, Acc, list_pred, ToSeq,
    Reveal,
)
from vernat.state.model import (
    abstract, at, with_header, with_rec, with_link, with_ring, links_match, prev_of, next_of,
    unlinked_prev, unlinked, linked_new, appended, relinked, touched, ring_match, next_free,
    next_stamp, taken, allocated, ring_put, swapped, window_end, released, cleared, freed,
    ring_pair_match, header_match, next_free_match, lemma_swapped,
    lemma_header_stored, lemma_rec_stored, lemma_link_stored, lemma_ring_stored,
    map_ok_s, lemma_map_ok_kept, coupled_s, lemma_coupled_kept, lemma_coupled_stamped,
    rec_off, link_off, ring_off, records_match, lemma_allocator_ok_abstract, lemma_allocator_ok_stamped,
    lemma_allocator_ok_taken, lemma_allocator_ok_keyed, lemma_allocator_ok_marked,
    lemma_allocator_ok_swapped,
)
from vernat.state.ghost import (
    geometry, cap, flows_base, word, flow_word, link_word, ring_word, ring_offset, allocator_ok,
    links_ok, ring_ok, free_ok, slot_word,
)
from vernat.state.layout import (
    H_CAPACITY, H_MASK, H_COUNT, H_OLDEST, H_NEWEST, H_RING_HEAD, H_SALT, MAX_TIME, SLOT_WORDS,
    F_KEY1, F_KEY2, F_MAC, F_LAST_SEEN, FREE, L_PREV, L_NEXT, L_STAMP, MAX_STAMP, R_RING, R_POS,
    flow_at, link_at, ring_at, pos_at,
)


def _set_header(t: List[int], h: int, v: int) -> None:
    """t[h] = v for one of the allocator's header words."""
    Requires(Acc(list_pred(t)) and geometry(t))
    Requires(h == H_COUNT or h == H_OLDEST or h == H_NEWEST or h == H_RING_HEAD)
    Ensures(Acc(list_pred(t)))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_PREV) == Old(link_word(t, j, L_PREV))), [[link_word(t, j, L_PREV)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_NEXT) == Old(link_word(t, j, L_NEXT))), [[link_word(t, j, L_NEXT)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_RING) == Old(ring_word(t, j, R_RING))), [[ring_word(t, j, R_RING)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_POS) == Old(ring_word(t, j, R_POS))), [[ring_word(t, j, R_POS)]])))
    Ensures(Implies(h != H_COUNT, t[H_COUNT] == Old(t[H_COUNT])))
    Ensures(Implies(h != H_OLDEST, t[H_OLDEST] == Old(t[H_OLDEST])))
    Ensures(Implies(h != H_NEWEST, t[H_NEWEST] == Old(t[H_NEWEST])))
    Ensures(Implies(h != H_RING_HEAD, t[H_RING_HEAD] == Old(t[H_RING_HEAD])))
    Ensures(t[h] == v)
    Ensures(Implies(Old(links_ok(t)) and (h == H_COUNT or h == H_RING_HEAD or (-1 <= v and v < cap(t))),
                    links_ok(t)))
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    Ensures(coupled_s(ToSeq(t)) == Old(coupled_s(ToSeq(t))))
    Ensures(abstract(t) == with_header(Old(abstract(t)), h, v))
    Assert(at(ToSeq(t), H_CAPACITY) == t[H_CAPACITY] and at(ToSeq(t), H_MASK) == t[H_MASK])
    lemma_header_stored(ToSeq(t), h, v)
    lemma_map_ok_kept(ToSeq(t), h, v)
    lemma_coupled_kept(ToSeq(t), h, v)
    t[h] = v


def _set_last_seen(t: List[int], i: int, v: int) -> None:
    Requires(Acc(list_pred(t)) and geometry(t) and 0 <= i and i < cap(t))
    Ensures(Acc(list_pred(t)))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(t[H_COUNT] == Old(t[H_COUNT]) and t[H_OLDEST] == Old(t[H_OLDEST]) and t[H_NEWEST] == Old(t[H_NEWEST]) and t[H_RING_HEAD] == Old(t[H_RING_HEAD]))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_PREV) == Old(link_word(t, j, L_PREV))), [[link_word(t, j, L_PREV)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_NEXT) == Old(link_word(t, j, L_NEXT))), [[link_word(t, j, L_NEXT)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_RING) == Old(ring_word(t, j, R_RING))), [[ring_word(t, j, R_RING)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_POS) == Old(ring_word(t, j, R_POS))), [[ring_word(t, j, R_POS)]])))
    Ensures(flow_word(t, i, F_LAST_SEEN) == v)
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    # a live flow's new time (refresh) keeps the map's coupling to the records
    Ensures(Implies(Old(flow_word(t, i, F_LAST_SEEN)) != FREE and v != FREE,
                    coupled_s(ToSeq(t)) == Old(coupled_s(ToSeq(t)))))
    Ensures(abstract(t) == with_rec(Old(abstract(t)), i, F_LAST_SEEN, v))
    Assert(at(ToSeq(t), H_CAPACITY) == t[H_CAPACITY] and at(ToSeq(t), H_MASK) == t[H_MASK])
    lemma_rec_stored(ToSeq(t), i, F_LAST_SEEN, v)
    lemma_map_ok_kept(ToSeq(t), rec_off(ToSeq(t), i, F_LAST_SEEN), v)
    lemma_coupled_stamped(ToSeq(t), i, v)
    t[flow_at(t, i) + F_LAST_SEEN] = v


def _set_flow(t: List[int], i: int, f: int, v: int) -> None:
    """Flow record i's word f (F_KEY1, F_KEY2 or F_MAC) = v."""
    Requires(Acc(list_pred(t)) and geometry(t) and 0 <= i and i < cap(t))
    Requires(f == F_KEY1 or f == F_KEY2 or f == F_MAC)
    Ensures(Acc(list_pred(t)))
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(t[H_COUNT] == Old(t[H_COUNT]) and t[H_OLDEST] == Old(t[H_OLDEST]) and t[H_NEWEST] == Old(t[H_NEWEST]) and t[H_RING_HEAD] == Old(t[H_RING_HEAD]))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and (j != i or f != F_KEY1),
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and (j != i or f != F_KEY2),
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and (j != i or f != F_MAC),
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_PREV) == Old(link_word(t, j, L_PREV))), [[link_word(t, j, L_PREV)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_NEXT) == Old(link_word(t, j, L_NEXT))), [[link_word(t, j, L_NEXT)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_RING) == Old(ring_word(t, j, R_RING))), [[ring_word(t, j, R_RING)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_POS) == Old(ring_word(t, j, R_POS))), [[ring_word(t, j, R_POS)]])))
    Ensures(flow_word(t, i, f) == v)
    Ensures(abstract(t) == with_rec(Old(abstract(t)), i, f, v))
    Assert(at(ToSeq(t), H_CAPACITY) == t[H_CAPACITY] and at(ToSeq(t), H_MASK) == t[H_MASK])
    lemma_rec_stored(ToSeq(t), i, f, v)
    lemma_map_ok_kept(ToSeq(t), rec_off(ToSeq(t), i, f), v)
    t[flow_at(t, i) + f] = v


def _set_keys(t: List[int], i: int, k1: int, k2: int, mac: int) -> None:
    """Index i's key and MAC: the three _set_flow stores under one contract
    that keeps the allocator's invariant (which reads no key or MAC), so a
    caller composes one frame, not three (flowtable._fill_keeping took
    60-481 s re-proving its invariants through three)."""
    Requires(Acc(list_pred(t)) and allocator_ok(t) and 0 <= i and i < cap(t))
    Ensures(Acc(list_pred(t)) and allocator_ok(t))
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(t[H_COUNT] == Old(t[H_COUNT]) and t[H_OLDEST] == Old(t[H_OLDEST]) and t[H_NEWEST] == Old(t[H_NEWEST]) and t[H_RING_HEAD] == Old(t[H_RING_HEAD]))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(flow_word(t, i, F_KEY1) == k1 and flow_word(t, i, F_KEY2) == k2 and flow_word(t, i, F_MAC) == mac)
    Ensures(abstract(t) == with_rec(with_rec(with_rec(Old(abstract(t)), i, F_KEY1, k1),
                                             i, F_KEY2, k2), i, F_MAC, mac))
    Assert(records_match(t))
    lemma_allocator_ok_abstract(t)
    _set_flow(t, i, F_KEY1, k1)
    _set_flow(t, i, F_KEY2, k2)
    _set_flow(t, i, F_MAC, mac)
    lemma_allocator_ok_keyed(Old(abstract(t)), i, F_KEY1, k1)
    lemma_allocator_ok_keyed(with_rec(Old(abstract(t)), i, F_KEY1, k1), i, F_KEY2, k2)
    lemma_allocator_ok_keyed(with_rec(with_rec(Old(abstract(t)), i, F_KEY1, k1), i, F_KEY2, k2),
                             i, F_MAC, mac)
    lemma_allocator_ok_abstract(t)


def _set_prev(t: List[int], i: int, v: int) -> None:
    Requires(Acc(list_pred(t)) and geometry(t) and 0 <= i and i < cap(t))
    Ensures(Acc(list_pred(t)))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(t[H_COUNT] == Old(t[H_COUNT]) and t[H_OLDEST] == Old(t[H_OLDEST]) and t[H_NEWEST] == Old(t[H_NEWEST]) and t[H_RING_HEAD] == Old(t[H_RING_HEAD]))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            link_word(t, j, L_PREV) == Old(link_word(t, j, L_PREV))), [[link_word(t, j, L_PREV)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_NEXT) == Old(link_word(t, j, L_NEXT))), [[link_word(t, j, L_NEXT)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_RING) == Old(ring_word(t, j, R_RING))), [[ring_word(t, j, R_RING)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_POS) == Old(ring_word(t, j, R_POS))), [[ring_word(t, j, R_POS)]])))
    Ensures(link_word(t, i, L_PREV) == v)
    # a link stored in range keeps every link in range (so the list
    # operations carry links_ok from store to store, not through the frames)
    Ensures(Implies(Old(links_ok(t)) and -1 <= v and v < cap(t), links_ok(t)))
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    Ensures(coupled_s(ToSeq(t)) == Old(coupled_s(ToSeq(t))))
    Ensures(abstract(t) == with_link(Old(abstract(t)), i, L_PREV, v))
    Assert(at(ToSeq(t), H_CAPACITY) == t[H_CAPACITY] and at(ToSeq(t), H_MASK) == t[H_MASK])
    lemma_link_stored(ToSeq(t), i, L_PREV, v)
    lemma_map_ok_kept(ToSeq(t), link_off(ToSeq(t), i, L_PREV), v)
    lemma_coupled_kept(ToSeq(t), link_off(ToSeq(t), i, L_PREV), v)
    t[link_at(t, i) + L_PREV] = v


def _set_stamp(t: List[int], i: int, v: int) -> None:
    """Index i's stamp (layout.L_STAMP), a word no invariant of this module reads."""
    Requires(Acc(list_pred(t)) and geometry(t) and 0 <= i and i < cap(t))
    Ensures(Acc(list_pred(t)))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(t[H_COUNT] == Old(t[H_COUNT]) and t[H_OLDEST] == Old(t[H_OLDEST]) and t[H_NEWEST] == Old(t[H_NEWEST]) and t[H_RING_HEAD] == Old(t[H_RING_HEAD]))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_PREV) == Old(link_word(t, j, L_PREV))), [[link_word(t, j, L_PREV)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_NEXT) == Old(link_word(t, j, L_NEXT))), [[link_word(t, j, L_NEXT)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_RING) == Old(ring_word(t, j, R_RING))), [[ring_word(t, j, R_RING)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_POS) == Old(ring_word(t, j, R_POS))), [[ring_word(t, j, R_POS)]])))
    Ensures(Implies(Old(links_ok(t)), links_ok(t)))
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    Ensures(coupled_s(ToSeq(t)) == Old(coupled_s(ToSeq(t))))
    Ensures(abstract(t) == with_link(Old(abstract(t)), i, L_STAMP, v))
    Assert(at(ToSeq(t), H_CAPACITY) == t[H_CAPACITY] and at(ToSeq(t), H_MASK) == t[H_MASK])
    lemma_link_stored(ToSeq(t), i, L_STAMP, v)
    lemma_map_ok_kept(ToSeq(t), link_off(ToSeq(t), i, L_STAMP), v)
    lemma_coupled_kept(ToSeq(t), link_off(ToSeq(t), i, L_STAMP), v)
    t[link_at(t, i) + L_STAMP] = v


def _set_next(t: List[int], i: int, v: int) -> None:
    Requires(Acc(list_pred(t)) and geometry(t) and 0 <= i and i < cap(t))
    Ensures(Acc(list_pred(t)))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(t[H_COUNT] == Old(t[H_COUNT]) and t[H_OLDEST] == Old(t[H_OLDEST]) and t[H_NEWEST] == Old(t[H_NEWEST]) and t[H_RING_HEAD] == Old(t[H_RING_HEAD]))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_PREV) == Old(link_word(t, j, L_PREV))), [[link_word(t, j, L_PREV)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            link_word(t, j, L_NEXT) == Old(link_word(t, j, L_NEXT))), [[link_word(t, j, L_NEXT)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_RING) == Old(ring_word(t, j, R_RING))), [[ring_word(t, j, R_RING)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_POS) == Old(ring_word(t, j, R_POS))), [[ring_word(t, j, R_POS)]])))
    Ensures(link_word(t, i, L_NEXT) == v)
    Ensures(Implies(Old(links_ok(t)) and -1 <= v and v < cap(t), links_ok(t)))
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    Ensures(coupled_s(ToSeq(t)) == Old(coupled_s(ToSeq(t))))
    Ensures(abstract(t) == with_link(Old(abstract(t)), i, L_NEXT, v))
    Assert(at(ToSeq(t), H_CAPACITY) == t[H_CAPACITY] and at(ToSeq(t), H_MASK) == t[H_MASK])
    lemma_link_stored(ToSeq(t), i, L_NEXT, v)
    lemma_map_ok_kept(ToSeq(t), link_off(ToSeq(t), i, L_NEXT), v)
    lemma_coupled_kept(ToSeq(t), link_off(ToSeq(t), i, L_NEXT), v)
    t[link_at(t, i) + L_NEXT] = v


def _set_ring(t: List[int], i: int, v: int) -> None:
    Requires(Acc(list_pred(t)) and geometry(t) and 0 <= i and i < cap(t))
    Ensures(Acc(list_pred(t)))
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(t[H_COUNT] == Old(t[H_COUNT]) and t[H_OLDEST] == Old(t[H_OLDEST]) and t[H_NEWEST] == Old(t[H_NEWEST]) and t[H_RING_HEAD] == Old(t[H_RING_HEAD]))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_PREV) == Old(link_word(t, j, L_PREV))), [[link_word(t, j, L_PREV)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_NEXT) == Old(link_word(t, j, L_NEXT))), [[link_word(t, j, L_NEXT)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            ring_word(t, j, R_RING) == Old(ring_word(t, j, R_RING))), [[ring_word(t, j, R_RING)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_POS) == Old(ring_word(t, j, R_POS))), [[ring_word(t, j, R_POS)]])))
    Ensures(ring_word(t, i, R_RING) == v)
    Ensures(abstract(t) == with_ring(Old(abstract(t)), i, R_RING, v))
    Assert(at(ToSeq(t), H_CAPACITY) == t[H_CAPACITY] and at(ToSeq(t), H_MASK) == t[H_MASK])
    lemma_ring_stored(ToSeq(t), i, R_RING, v)
    lemma_map_ok_kept(ToSeq(t), ring_off(ToSeq(t), i, R_RING), v)
    t[ring_at(t, i)] = v


def _set_pos(t: List[int], i: int, v: int) -> None:
    Requires(Acc(list_pred(t)) and geometry(t) and 0 <= i and i < cap(t))
    Ensures(Acc(list_pred(t)))
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(t[H_COUNT] == Old(t[H_COUNT]) and t[H_OLDEST] == Old(t[H_OLDEST]) and t[H_NEWEST] == Old(t[H_NEWEST]) and t[H_RING_HEAD] == Old(t[H_RING_HEAD]))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_PREV) == Old(link_word(t, j, L_PREV))), [[link_word(t, j, L_PREV)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_NEXT) == Old(link_word(t, j, L_NEXT))), [[link_word(t, j, L_NEXT)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_RING) == Old(ring_word(t, j, R_RING))), [[ring_word(t, j, R_RING)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            ring_word(t, j, R_POS) == Old(ring_word(t, j, R_POS))), [[ring_word(t, j, R_POS)]])))
    Ensures(ring_word(t, i, R_POS) == v)
    Ensures(abstract(t) == with_ring(Old(abstract(t)), i, R_POS, v))
    Assert(at(ToSeq(t), H_CAPACITY) == t[H_CAPACITY] and at(ToSeq(t), H_MASK) == t[H_MASK])
    lemma_ring_stored(ToSeq(t), i, R_POS, v)
    lemma_map_ok_kept(ToSeq(t), ring_off(ToSeq(t), i, R_POS), v)
    t[pos_at(t, i)] = v


def _link_new(t: List[int], i: int, stamp: int, last: int) -> None:
    """Index i's own links as appended: its stamp, after `last` (the newest),
    nothing after it (lru_append: the three stores in one contract, so that
    lru_append carries its frames across three calls rather than five)."""
    Requires(Acc(list_pred(t)) and geometry(t) and links_ok(t) and 0 <= i and i < cap(t))
    Requires(-1 <= last and last < cap(t))
    Ensures(Acc(list_pred(t)))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(t[H_COUNT] == Old(t[H_COUNT]) and t[H_OLDEST] == Old(t[H_OLDEST]) and
            t[H_NEWEST] == Old(t[H_NEWEST]) and t[H_RING_HEAD] == Old(t[H_RING_HEAD]))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_RING) == Old(ring_word(t, j, R_RING))), [[ring_word(t, j, R_RING)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_POS) == Old(ring_word(t, j, R_POS))), [[ring_word(t, j, R_POS)]])))
    Ensures(links_ok(t))
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    Ensures(coupled_s(ToSeq(t)) == Old(coupled_s(ToSeq(t))))
    Ensures(abstract(t) == with_link(with_link(with_link(Old(abstract(t)), i, L_STAMP, stamp),
                                               i, L_PREV, last), i, L_NEXT, -1))
    _set_stamp(t, i, stamp)
    _set_prev(t, i, last)
    _set_next(t, i, -1)


def lru_append(t: List[int], i: int) -> None:
    """Link index i (unlinked) as the newest."""
    Requires(Acc(list_pred(t)) and geometry(t) and links_ok(t) and 0 <= i and i < cap(t))
    Ensures(Acc(list_pred(t)))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(t[H_COUNT] == Old(t[H_COUNT]) and t[H_RING_HEAD] == Old(t[H_RING_HEAD]))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_RING) == Old(ring_word(t, j, R_RING))), [[ring_word(t, j, R_RING)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_POS) == Old(ring_word(t, j, R_POS))), [[ring_word(t, j, R_POS)]])))
    Ensures(t[H_NEWEST] == i)
    Ensures(links_ok(t))
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    Ensures(coupled_s(ToSeq(t)) == Old(coupled_s(ToSeq(t))))
    Ensures(abstract(t) == appended(Old(abstract(t)), i))
    last = t[H_NEWEST]
    Assert(links_match(t))
    Assert(last == abstract(t).newest)
    # i's stamp: one more than the newest's, so that stamps increase along
    # the list (0 into an empty list; it stops growing at MAX_STAMP, which
    # keeps it an int64: flowtable's callers show it never gets there)
    stamp = 0
    if last >= 0:
        stamp = t[link_at(t, last) + L_STAMP]
        if stamp < MAX_STAMP:
            stamp = stamp + 1
    Assert(stamp == next_stamp(abstract(t)))
    # `last + 0`, not `last`: for Nagini a list element is any int, a bool
    # too, and the abstract value stores the header's newest as a plain int;
    # the sum is that int (numba folds it away)
    _link_new(t, i, stamp + 0, last + 0)
    Assert(abstract(t) == linked_new(Old(abstract(t)), i))
    if last >= 0:
        _set_next(t, last, i)
    else:
        _set_header(t, H_OLDEST, i)
    _set_header(t, H_NEWEST, i)


def lru_unlink(t: List[int], i: int) -> None:
    """Unlink allocated index i from the list."""
    Requires(Acc(list_pred(t)) and geometry(t) and links_ok(t) and 0 <= i and i < cap(t))
    Ensures(Acc(list_pred(t)))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(t[H_COUNT] == Old(t[H_COUNT]) and t[H_RING_HEAD] == Old(t[H_RING_HEAD]))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_RING) == Old(ring_word(t, j, R_RING))), [[ring_word(t, j, R_RING)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_POS) == Old(ring_word(t, j, R_POS))), [[ring_word(t, j, R_POS)]])))
    Ensures(links_ok(t))
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    Ensures(coupled_s(ToSeq(t)) == Old(coupled_s(ToSeq(t))))
    Ensures(abstract(t) == unlinked(Old(abstract(t)), i))
    r = link_at(t, i)
    prev = t[r + L_PREV]
    nxt = t[r + L_NEXT]
    Assert(prev == link_word(t, i, L_PREV) and nxt == link_word(t, i, L_NEXT))
    Assert(links_match(t))
    Assert(prev == prev_of(abstract(t), i) and nxt == next_of(abstract(t), i))
    if prev >= 0:
        _set_next(t, prev, nxt)
    else:
        _set_header(t, H_OLDEST, nxt)
    Assert(abstract(t) == unlinked_prev(Old(abstract(t)), i))
    if nxt >= 0:
        _set_prev(t, nxt, prev)
    else:
        _set_header(t, H_NEWEST, prev)


def _take(t: List[int], now: int) -> int:
    """Take the index at the free ring's head: the head moves on, the count
    grows, and the index is marked used at `now` (still unlinked)."""
    Requires(Acc(list_pred(t)) and allocator_ok(t) and t[H_COUNT] < t[H_CAPACITY])
    Requires(0 <= now and now <= MAX_TIME)
    Ensures(Acc(list_pred(t)))
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != Result(),
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_PREV) == Old(link_word(t, j, L_PREV))), [[link_word(t, j, L_PREV)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_NEXT) == Old(link_word(t, j, L_NEXT))), [[link_word(t, j, L_NEXT)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_RING) == Old(ring_word(t, j, R_RING))), [[ring_word(t, j, R_RING)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_POS) == Old(ring_word(t, j, R_POS))), [[ring_word(t, j, R_POS)]])))
    Ensures(Result() == Old(ring_word(t, t[H_RING_HEAD], R_RING)) and
            0 <= Result() and Result() < cap(t) and
            Old(flow_word(t, Result(), F_LAST_SEEN)) == FREE and
            flow_word(t, Result(), F_LAST_SEEN) == now and t[H_COUNT] == Old(t[H_COUNT]) + 1 and
            t[H_OLDEST] == Old(t[H_OLDEST]) and t[H_NEWEST] == Old(t[H_NEWEST]))
    Ensures(allocator_ok(t))
    Ensures(Result() is next_free(Old(abstract(t))))
    Ensures(abstract(t) == with_rec(taken(Old(abstract(t))), Result(), F_LAST_SEEN, now))
    capacity = t[H_CAPACITY]
    count = t[H_COUNT]
    head = t[H_RING_HEAD]
    i = t[ring_at(t, head)]
    Assert(i == ring_word(t, head, R_RING) and ring_word(t, i, R_POS) == head)
    Assert(i is ring_word(t, head, R_RING))
    Assert(next_free_match(t))
    Assert(header_match(t))
    # the invariant crosses the stores as a value of the abstract table
    # (model.allocator_ok_a; from the word frame: 63-358 s, sessions 10-14)
    lemma_allocator_ok_abstract(t)
    _set_header(t, H_RING_HEAD, head + 1 if head + 1 < capacity else 0)
    _set_header(t, H_COUNT, count + 1)
    Assert(abstract(t) == taken(Old(abstract(t))))
    _set_last_seen(t, i, now)
    lemma_allocator_ok_taken(Old(abstract(t)), now)
    lemma_allocator_ok_abstract(t)
    return i


def index_allocate(t: List[int], now: int) -> int:
    """Take the index freed longest ago, mark it used at `now` and newest;
    -1 when every index is allocated."""
    Requires(Acc(list_pred(t)) and allocator_ok(t) and 0 <= now and now <= MAX_TIME)
    Ensures(Acc(list_pred(t)))
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != Result(),
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_RING) == Old(ring_word(t, j, R_RING))), [[ring_word(t, j, R_RING)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_POS) == Old(ring_word(t, j, R_POS))), [[ring_word(t, j, R_POS)]])))
    Ensures((Result() == -1) == (Old(t[H_COUNT]) == Old(t[H_CAPACITY])))
    Ensures(Implies(Result() == -1, t[H_COUNT] == Old(t[H_COUNT]) and
                    Forall(int, lambda w: Implies(0 <= w and w < len(t),
                                                  word(t, w) == Old(word(t, w))))))
    Ensures(Implies(Result() != -1,
                    Result() == Old(ring_word(t, t[H_RING_HEAD], R_RING)) and
                    0 <= Result() and Result() < cap(t) and
                    Old(flow_word(t, Result(), F_LAST_SEEN)) == FREE and
                    flow_word(t, Result(), F_LAST_SEEN) == now and
                    t[H_COUNT] == Old(t[H_COUNT]) + 1 and t[H_NEWEST] == Result()))
    Ensures(allocator_ok(t))
    Ensures(Implies(Result() == -1, abstract(t) == Old(abstract(t))))
    Ensures(Implies(Result() != -1, abstract(t) == allocated(Old(abstract(t)), now)))
    # the same reference as the model's next free index (docs/prove-notes
    # item 7), for a caller that goes on with the model's transitions
    Ensures(Implies(Result() != -1, Result() is next_free(Old(abstract(t)))))
    capacity = t[H_CAPACITY]
    count = t[H_COUNT]
    if count >= capacity:
        return -1
    i = _take(t, now)
    lru_append(t, i)
    return i


def lru_touch(t: List[int], i: int) -> None:
    """Make linked index i the newest."""
    Requires(Acc(list_pred(t)) and geometry(t) and links_ok(t) and 0 <= i and i < cap(t))
    Ensures(Acc(list_pred(t)))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(t[H_COUNT] == Old(t[H_COUNT]) and t[H_RING_HEAD] == Old(t[H_RING_HEAD]))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_RING) == Old(ring_word(t, j, R_RING))), [[ring_word(t, j, R_RING)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_POS) == Old(ring_word(t, j, R_POS))), [[ring_word(t, j, R_POS)]])))
    Ensures(t[H_NEWEST] == i)
    Ensures(links_ok(t))
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    Ensures(coupled_s(ToSeq(t)) == Old(coupled_s(ToSeq(t))))
    Ensures(abstract(t) == relinked(Old(abstract(t)), i))
    Assert(links_match(t))
    if t[H_NEWEST] != i:
        lru_unlink(t, i)
        lru_append(t, i)


def _stamp(t: List[int], i: int, now: int) -> None:
    """Allocated index i seen at `now`, keeping the invariant. Apart from
    index_refresh: with lru_touch's frames in the same proof, free_ok took
    Z3 minutes (docs/progress-prove.md, session 8)."""
    Requires(Acc(list_pred(t)) and allocator_ok(t) and 0 <= i and i < cap(t))
    Requires(flow_word(t, i, F_LAST_SEEN) != FREE and 0 <= now and now <= MAX_TIME)
    Ensures(Acc(list_pred(t)))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(t[H_COUNT] == Old(t[H_COUNT]) and t[H_OLDEST] == Old(t[H_OLDEST]) and t[H_NEWEST] == Old(t[H_NEWEST]) and t[H_RING_HEAD] == Old(t[H_RING_HEAD]))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_PREV) == Old(link_word(t, j, L_PREV))), [[link_word(t, j, L_PREV)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_NEXT) == Old(link_word(t, j, L_NEXT))), [[link_word(t, j, L_NEXT)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_RING) == Old(ring_word(t, j, R_RING))), [[ring_word(t, j, R_RING)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_POS) == Old(ring_word(t, j, R_POS))), [[ring_word(t, j, R_POS)]])))
    Ensures(flow_word(t, i, F_LAST_SEEN) == now)
    Ensures(allocator_ok(t))
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    Ensures(coupled_s(ToSeq(t)) == Old(coupled_s(ToSeq(t))))
    Ensures(abstract(t) == with_rec(Old(abstract(t)), i, F_LAST_SEEN, now))
    # the invariant crosses the store as a value of the abstract table
    # (model.allocator_ok_a; from the word frame: 53-144 s, sessions 10-13)
    Assert(records_match(t))
    lemma_allocator_ok_abstract(t)
    _set_last_seen(t, i, now)
    lemma_allocator_ok_stamped(Old(abstract(t)), i, now)
    lemma_allocator_ok_abstract(t)


def index_refresh(t: List[int], i: int, now: int) -> None:
    """Mark allocated index i used at `now` (now >= every stored time)."""
    Requires(Acc(list_pred(t)) and allocator_ok(t) and 0 <= i and i < cap(t))
    Requires(flow_word(t, i, F_LAST_SEEN) != FREE and 0 <= now and now <= MAX_TIME)
    Ensures(Acc(list_pred(t)))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(t[H_COUNT] == Old(t[H_COUNT]) and t[H_RING_HEAD] == Old(t[H_RING_HEAD]))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_RING) == Old(ring_word(t, j, R_RING))), [[ring_word(t, j, R_RING)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_POS) == Old(ring_word(t, j, R_POS))), [[ring_word(t, j, R_POS)]])))
    Ensures(flow_word(t, i, F_LAST_SEEN) == now and t[H_NEWEST] == i)
    Ensures(allocator_ok(t))
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    Ensures(coupled_s(ToSeq(t)) == Old(coupled_s(ToSeq(t))))
    Ensures(abstract(t) == touched(Old(abstract(t)), i, now))
    Ensures(Forall2(int, int, lambda s, f: (Implies(
            0 <= s and s <= t[H_MASK] and 0 <= f and f < SLOT_WORDS,
            slot_word(t, s, f) == Old(slot_word(t, s, f))),
            [[slot_word(t, s, f)], [Old(slot_word(t, s, f))]])))
    lru_touch(t, i)
    _stamp(t, i, now)


def _ring_put(t: List[int], p: int, i: int) -> None:
    """Ring position p holds index i (R_RING[p] = i, R_POS[i] = p)."""
    Requires(Acc(list_pred(t)) and geometry(t) and 0 <= i and i < cap(t) and 0 <= p and p < cap(t))
    Ensures(Acc(list_pred(t)))
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(t[H_COUNT] == Old(t[H_COUNT]) and t[H_OLDEST] == Old(t[H_OLDEST]) and t[H_NEWEST] == Old(t[H_NEWEST]) and t[H_RING_HEAD] == Old(t[H_RING_HEAD]))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_PREV) == Old(link_word(t, j, L_PREV))), [[link_word(t, j, L_PREV)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_NEXT) == Old(link_word(t, j, L_NEXT))), [[link_word(t, j, L_NEXT)]])))
    Ensures(ring_word(t, p, R_RING) == i and ring_word(t, i, R_POS) == p)
    Ensures(Forall(int, lambda k: (Implies(0 <= k and k < cap(t) and k != p,
            ring_word(t, k, R_RING) == Old(ring_word(t, k, R_RING))), [[ring_word(t, k, R_RING)]])))
    Ensures(Forall(int, lambda k: (Implies(0 <= k and k < cap(t) and k != i,
            ring_word(t, k, R_POS) == Old(ring_word(t, k, R_POS))), [[ring_word(t, k, R_POS)]])))
    Ensures(abstract(t) == ring_put(Old(abstract(t)), p, i))
    _set_ring(t, p, i)
    _set_pos(t, i, p)
    Assert(Reveal(ring_put(Old(abstract(t)), p, i)) ==
           with_ring(with_ring(Old(abstract(t)), p, R_RING, i), i, R_POS, p))


def _ring_swap_words(t: List[int], i: int, p: int, q: int, j: int) -> None:
    """R_RING[q] = j, R_POS[j] = q, then R_RING[p] = i, R_POS[i] = p."""
    Requires(Acc(list_pred(t)) and geometry(t))
    Requires(0 <= i and i < cap(t) and 0 <= p and p < cap(t) and 0 <= q and q < cap(t) and
             0 <= j and j < cap(t))
    Ensures(Acc(list_pred(t)))
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(t[H_COUNT] == Old(t[H_COUNT]) and t[H_OLDEST] == Old(t[H_OLDEST]) and t[H_NEWEST] == Old(t[H_NEWEST]) and t[H_RING_HEAD] == Old(t[H_RING_HEAD]))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_PREV) == Old(link_word(t, j, L_PREV))), [[link_word(t, j, L_PREV)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_NEXT) == Old(link_word(t, j, L_NEXT))), [[link_word(t, j, L_NEXT)]])))
    Ensures(ring_word(t, p, R_RING) == i and ring_word(t, i, R_POS) == p)
    Ensures(Implies(q != p, ring_word(t, q, R_RING) == j))
    Ensures(Implies(j != i, ring_word(t, j, R_POS) == q))
    Ensures(Forall(int, lambda k: (Implies(0 <= k and k < cap(t) and k != p and k != q,
            ring_word(t, k, R_RING) == Old(ring_word(t, k, R_RING))), [[ring_word(t, k, R_RING)]])))
    Ensures(Forall(int, lambda k: (Implies(0 <= k and k < cap(t) and k != i and k != j,
            ring_word(t, k, R_POS) == Old(ring_word(t, k, R_POS))), [[ring_word(t, k, R_POS)]])))
    Ensures(Implies(q is Old(ring_word(t, i, R_POS)) and j is Old(ring_word(t, p, R_RING)),
            abstract(t) == swapped(Old(abstract(t)), i, p)))
    Assert(ring_pair_match(t, i, p))
    lemma_swapped(abstract(t), i, p, q, j)
    _ring_put(t, q, j)
    _ring_put(t, p, i)


def _swap_out(t: List[int], i: int, p: int) -> None:
    """Swap allocated index i into ring position p, the first one past the
    free window (its index is allocated too, so the window is unchanged)."""
    Requires(Acc(list_pred(t)) and geometry(t) and free_ok(t) and ring_ok(t) and links_ok(t))
    Requires(0 <= i and i < cap(t) and 0 <= p and p < cap(t))
    Requires(flow_word(t, i, F_LAST_SEEN) != FREE and ring_offset(t, p) == cap(t) - t[H_COUNT])
    Ensures(Acc(list_pred(t)))
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(t[H_COUNT] == Old(t[H_COUNT]) and t[H_OLDEST] == Old(t[H_OLDEST]) and t[H_NEWEST] == Old(t[H_NEWEST]) and t[H_RING_HEAD] == Old(t[H_RING_HEAD]))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_PREV) == Old(link_word(t, j, L_PREV))), [[link_word(t, j, L_PREV)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_NEXT) == Old(link_word(t, j, L_NEXT))), [[link_word(t, j, L_NEXT)]])))
    Ensures(ring_word(t, i, R_POS) == p)
    Ensures(Forall(int, lambda k: (Implies(0 <= k and k < cap(t) and k != i and
                                           flow_word(t, k, F_LAST_SEEN) == FREE,
            ring_word(t, k, R_POS) == Old(ring_word(t, k, R_POS))), [[ring_word(t, k, R_POS)]])))
    Ensures(ring_ok(t))
    Ensures(free_ok(t))
    Ensures(links_ok(t))
    Ensures(abstract(t) == swapped(Old(abstract(t)), i, p))
    q = t[pos_at(t, i)]
    j = t[ring_at(t, p)]
    Assert(q == ring_word(t, i, R_POS) and j == ring_word(t, p, R_RING))
    Assert(q is ring_word(t, i, R_POS) and j is ring_word(t, p, R_RING))
    Assert(ring_word(t, j, R_POS) == p and flow_word(t, j, F_LAST_SEEN) != FREE)
    # the invariant crosses the swap as a value of the abstract table
    # (model.allocator_ok_a); from the word frame, with ring_ok re-proven in
    # a _ring_swap of its own: 21-78 s and 50-82 s (sessions 13-14)
    Assert(records_match(t) and ring_match(t))
    lemma_allocator_ok_abstract(t)
    _ring_swap_words(t, i, p, q, j)
    lemma_allocator_ok_swapped(Old(abstract(t)), i, p)
    lemma_allocator_ok_abstract(t)


def _mark_free(t: List[int], i: int) -> None:
    """Mark allocated index i, which sits just past the free window, free:
    the window grows by one position (its own)."""
    Requires(Acc(list_pred(t)) and geometry(t) and free_ok(t) and ring_ok(t) and links_ok(t))
    Requires(0 <= i and i < cap(t) and flow_word(t, i, F_LAST_SEEN) != FREE)
    Requires(ring_offset(t, ring_word(t, i, R_POS)) == cap(t) - t[H_COUNT])
    Ensures(Acc(list_pred(t)))
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(t[H_OLDEST] == Old(t[H_OLDEST]) and t[H_NEWEST] == Old(t[H_NEWEST]) and t[H_RING_HEAD] == Old(t[H_RING_HEAD]))
    Ensures(t[H_COUNT] == Old(t[H_COUNT]) - 1)
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_PREV) == Old(link_word(t, j, L_PREV))), [[link_word(t, j, L_PREV)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_NEXT) == Old(link_word(t, j, L_NEXT))), [[link_word(t, j, L_NEXT)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_RING) == Old(ring_word(t, j, R_RING))), [[ring_word(t, j, R_RING)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_POS) == Old(ring_word(t, j, R_POS))), [[ring_word(t, j, R_POS)]])))
    Ensures(flow_word(t, i, F_LAST_SEEN) == FREE)
    Ensures(free_ok(t))
    Ensures(ring_ok(t))
    Ensures(links_ok(t))
    Ensures(abstract(t) == with_header(with_rec(Old(abstract(t)), i, F_LAST_SEEN, FREE),
                                       H_COUNT, Old(abstract(t)).count - 1))
    Assert(Forall(int, lambda k: (Implies(0 <= k and k < cap(t) and k != i,
           ring_word(t, k, R_POS) != ring_word(t, i, R_POS)), [[ring_word(t, k, R_POS)]])))
    count = t[H_COUNT]
    Assert(links_match(t))
    Assert(count == abstract(t).count)
    # the invariant crosses the stores as a value of the abstract table
    # (model.allocator_ok_a; from the word frame: 44-64 s, sessions 12-14)
    Assert(records_match(t) and ring_match(t))
    lemma_allocator_ok_abstract(t)
    _set_last_seen(t, i, FREE)
    _set_header(t, H_COUNT, count - 1)
    lemma_allocator_ok_marked(Old(abstract(t)), i)
    lemma_allocator_ok_abstract(t)


def _release(t: List[int], i: int) -> None:
    """Mark allocated index i free and put it at the back of the free window."""
    Requires(Acc(list_pred(t)) and geometry(t) and free_ok(t) and ring_ok(t) and links_ok(t))
    Requires(0 <= i and i < cap(t) and flow_word(t, i, F_LAST_SEEN) != FREE)
    Ensures(Acc(list_pred(t)))
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(t[H_OLDEST] == Old(t[H_OLDEST]) and t[H_NEWEST] == Old(t[H_NEWEST]) and t[H_RING_HEAD] == Old(t[H_RING_HEAD]))
    Ensures(t[H_COUNT] == Old(t[H_COUNT]) - 1)
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_PREV) == Old(link_word(t, j, L_PREV))), [[link_word(t, j, L_PREV)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            link_word(t, j, L_NEXT) == Old(link_word(t, j, L_NEXT))), [[link_word(t, j, L_NEXT)]])))
    Ensures(flow_word(t, i, F_LAST_SEEN) == FREE)
    Ensures(ring_offset(t, ring_word(t, i, R_POS)) == cap(t) - t[H_COUNT] - 1)
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i and
                                           flow_word(t, j, F_LAST_SEEN) == FREE,
            ring_word(t, j, R_POS) == Old(ring_word(t, j, R_POS))), [[ring_word(t, j, R_POS)]])))
    Ensures(ring_ok(t))
    Ensures(free_ok(t))
    Ensures(links_ok(t))
    Ensures(abstract(t) == released(Old(abstract(t)), i))
    capacity = t[H_CAPACITY]
    count = t[H_COUNT]
    p = t[H_RING_HEAD] + capacity - count
    if p >= capacity:
        p = p - capacity
    Assert(ring_offset(t, p) == capacity - count)
    Assert(header_match(t))
    Assert(p == window_end(abstract(t)))
    _swap_out(t, i, p)
    _mark_free(t, i)


def _unlink(t: List[int], i: int) -> None:
    """lru_unlink, keeping free_ok and ring_ok (which it does not touch)."""
    Requires(Acc(list_pred(t)) and geometry(t) and free_ok(t) and ring_ok(t) and links_ok(t))
    Requires(0 <= i and i < cap(t))
    Ensures(Acc(list_pred(t)))
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(t[H_COUNT] == Old(t[H_COUNT]) and t[H_RING_HEAD] == Old(t[H_RING_HEAD]))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_RING) == Old(ring_word(t, j, R_RING))), [[ring_word(t, j, R_RING)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_POS) == Old(ring_word(t, j, R_POS))), [[ring_word(t, j, R_POS)]])))
    Ensures(links_ok(t))
    Ensures(free_ok(t))
    Ensures(ring_ok(t))
    Ensures(abstract(t) == unlinked(Old(abstract(t)), i))
    lru_unlink(t, i)


def _clear_words(t: List[int], i: int) -> None:
    """Reset index i's key, MAC and links to their free values (0, 0, 0;
    -1, -1), so that a free index's words are canonical."""
    Requires(Acc(list_pred(t)) and geometry(t) and 0 <= i and i < cap(t))
    Ensures(Acc(list_pred(t)))
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(t[H_COUNT] == Old(t[H_COUNT]) and t[H_OLDEST] == Old(t[H_OLDEST]) and t[H_NEWEST] == Old(t[H_NEWEST]) and t[H_RING_HEAD] == Old(t[H_RING_HEAD]))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            link_word(t, j, L_PREV) == Old(link_word(t, j, L_PREV))), [[link_word(t, j, L_PREV)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            link_word(t, j, L_NEXT) == Old(link_word(t, j, L_NEXT))), [[link_word(t, j, L_NEXT)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_RING) == Old(ring_word(t, j, R_RING))), [[ring_word(t, j, R_RING)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_POS) == Old(ring_word(t, j, R_POS))), [[ring_word(t, j, R_POS)]])))
    Ensures(flow_word(t, i, F_KEY1) == 0 and flow_word(t, i, F_KEY2) == 0 and
            flow_word(t, i, F_MAC) == 0)
    Ensures(link_word(t, i, L_PREV) == -1 and link_word(t, i, L_NEXT) == -1)
    Ensures(abstract(t) == cleared(Old(abstract(t)), i))
    _set_flow(t, i, F_KEY1, 0)
    _set_flow(t, i, F_KEY2, 0)
    _set_flow(t, i, F_MAC, 0)
    _set_prev(t, i, -1)
    _set_next(t, i, -1)
    # cleared is opaque (model.cleared): its definition, for this one proof
    Assert(Reveal(cleared(Old(abstract(t)), i)) ==
           with_link(with_link(with_rec(with_rec(with_rec(Old(abstract(t)), i, F_KEY1, 0),
                                                 i, F_KEY2, 0), i, F_MAC, 0), i, L_PREV, -1),
                     i, L_NEXT, -1))


def _clear(t: List[int], i: int) -> None:
    """_clear_words, keeping free_ok, ring_ok and links_ok."""
    Requires(Acc(list_pred(t)) and geometry(t) and free_ok(t) and ring_ok(t) and links_ok(t))
    Requires(0 <= i and i < cap(t))
    Ensures(Acc(list_pred(t)))
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(t[H_COUNT] == Old(t[H_COUNT]) and t[H_OLDEST] == Old(t[H_OLDEST]) and t[H_NEWEST] == Old(t[H_NEWEST]) and t[H_RING_HEAD] == Old(t[H_RING_HEAD]))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            link_word(t, j, L_PREV) == Old(link_word(t, j, L_PREV))), [[link_word(t, j, L_PREV)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            link_word(t, j, L_NEXT) == Old(link_word(t, j, L_NEXT))), [[link_word(t, j, L_NEXT)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_RING) == Old(ring_word(t, j, R_RING))), [[ring_word(t, j, R_RING)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t),
            ring_word(t, j, R_POS) == Old(ring_word(t, j, R_POS))), [[ring_word(t, j, R_POS)]])))
    Ensures(flow_word(t, i, F_KEY1) == 0 and flow_word(t, i, F_KEY2) == 0 and
            flow_word(t, i, F_MAC) == 0)
    Ensures(link_word(t, i, L_PREV) == -1 and link_word(t, i, L_NEXT) == -1)
    Ensures(free_ok(t))
    Ensures(ring_ok(t))
    Ensures(links_ok(t))
    Ensures(abstract(t) == cleared(Old(abstract(t)), i))
    _clear_words(t, i)


def index_free(t: List[int], i: int) -> None:
    """Return allocated index i to the back of the free queue: swap it into
    the ring position just past the free window, and widen the window. Its
    record and links are reset (key, MAC 0; last_seen FREE; links -1, -1):
    a free index's words are canonical (flowtable's abstract value)."""
    Requires(Acc(list_pred(t)) and allocator_ok(t) and 0 <= i and i < cap(t))
    Requires(flow_word(t, i, F_LAST_SEEN) != FREE)
    Ensures(Acc(list_pred(t)))
    Ensures(map_ok_s(ToSeq(t)) == Old(map_ok_s(ToSeq(t))))
    Ensures(len(t) == Old(len(t)) and t[H_CAPACITY] == Old(t[H_CAPACITY]) and
            t[H_MASK] == Old(t[H_MASK]) and t[H_SALT] == Old(t[H_SALT]))
    Ensures(geometry(t))
    Ensures(t[H_RING_HEAD] == Old(t[H_RING_HEAD]))
    Ensures(Forall(int, lambda w: (Implies(H_SALT < w and w < flows_base(t),
            word(t, w) == Old(word(t, w))), [[word(t, w)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            flow_word(t, j, F_KEY1) == Old(flow_word(t, j, F_KEY1))), [[flow_word(t, j, F_KEY1)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            flow_word(t, j, F_KEY2) == Old(flow_word(t, j, F_KEY2))), [[flow_word(t, j, F_KEY2)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            flow_word(t, j, F_MAC) == Old(flow_word(t, j, F_MAC))), [[flow_word(t, j, F_MAC)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i,
            flow_word(t, j, F_LAST_SEEN) == Old(flow_word(t, j, F_LAST_SEEN))), [[flow_word(t, j, F_LAST_SEEN)]])))
    Ensures(t[H_COUNT] == Old(t[H_COUNT]) - 1)
    Ensures(flow_word(t, i, F_LAST_SEEN) == FREE)
    Ensures(ring_offset(t, ring_word(t, i, R_POS)) == cap(t) - t[H_COUNT] - 1)
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < cap(t) and j != i and
                                           flow_word(t, j, F_LAST_SEEN) == FREE,
            ring_word(t, j, R_POS) == Old(ring_word(t, j, R_POS))), [[ring_word(t, j, R_POS)]])))
    Ensures(flow_word(t, i, F_KEY1) == 0 and flow_word(t, i, F_KEY2) == 0 and
            flow_word(t, i, F_MAC) == 0)
    Ensures(link_word(t, i, L_PREV) == -1 and link_word(t, i, L_NEXT) == -1)
    Ensures(allocator_ok(t))
    Ensures(abstract(t) == freed(Old(abstract(t)), i))
    _unlink(t, i)
    _release(t, i)
    _clear(t, i)


def index_oldest(t: List[int]) -> int:
    """Least recently used allocated index, or -1 when none is allocated."""
    Requires(Acc(list_pred(t), 1/2) and allocator_ok(t))
    Ensures(Acc(list_pred(t), 1/2) and allocator_ok(t))
    Ensures(Result() == t[H_OLDEST] and -1 <= Result() and Result() < cap(t))
    return t[H_OLDEST]


def index_is_allocated(t: List[int], i: int) -> bool:
    """True when 0 <= i < capacity and i is allocated (total: any i is fine)."""
    Requires(Acc(list_pred(t), 1/2) and allocator_ok(t))
    Ensures(Acc(list_pred(t), 1/2) and allocator_ok(t))
    Ensures(Result() == (0 <= i and i < cap(t) and flow_word(t, i, F_LAST_SEEN) != FREE))
    if i < 0 or i >= t[H_CAPACITY]:
        return False
    return t[flow_at(t, i) + F_LAST_SEEN] >= 0
