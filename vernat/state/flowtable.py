"""The state library's API: the only state operations the NAT performs.

Each function here is one step of the abstract model the NAT is proven
against: a flow table is a partial map from flow index to
(key1, key2, mac, last_seen), plus the key -> index map it induces.
The symbolic verifier replaces exactly these calls by models and records
them in each path's trace, so keep the list short and the meanings plain:

    table_init        an empty table of the given capacity
    flow_lookup       index of the flow with this key, or -1
    flow_allocate     store a new flow under a free index; -1 when full
    flow_refresh      set an allocated flow's last_seen to now
    flow_expire       remove every flow with now - last_seen >= timeout,
                      least recently used first
    flow_is_allocated is this index a live flow
    flow_key1/2, flow_mac  read a live flow's fields
    flow_prefetch_key/_index  hints without effect: warm the cache for a
                      lookup or an index that a frame further on will need

The contracts (Requires / Ensures, Nagini's syntax) state each call in terms
of the abstract model of vernat/state/model.py. They are the one source of
the library's meaning: the builds strip them (build.strip_contracts),
`vernat verify` checks every symbolic trace of the NAT against them, and
`vernat prove` proves the code below against them. Numbers in contracts are
literals (281474976710656 = 2**48, 4611686018427387904 = 2**62 = layout.MAX_TIME):
Nagini has no `<<`, and the validator reads literals, not names.

Each function holds the `table(t)` predicate: it unfolds it to call the
allocator and the map, and folds it back, which re-proves the invariant.
Part of it is the least-recently-used order (model.lru_ok_a), which is what
makes expiry exact: it holds because time never goes back, which refresh
and allocate require (newest_time(state(t)) <= now: the NAT passes its
monotonic clock), and because a stamp never reaches 2**62 (stamp_room: one
more per refresh or allocation).
"""

from typing import List

from nagini_contracts.contracts import (
    Requires, Ensures, Result, Old, Implies, Forall, Forall2, Exists, Assert, Fold, Unfold, Invariant, Previous,
    Acc, list_pred,
)
from vernat.state.model import (
    table, state, capacity, full, find, live, key1_of, key2_of, mac_of, next_free,
    expired, expired_fuel, lemma_expired_step, lemma_expired_stop, last_seen_of, freed, touched, added, abstract, holds, records_match,
    coupled, coupled_but, coupled_back, allocated, with_rec, key_absent, live_count, ring_match,
    lemma_map_ok_words, coupled_words, lemma_allocator_ok_abstract,
    newest_time, stamp_room, all_fresh, lemma_lru_ok_touched, lemma_lru_ok_added, lemma_lru_ok_freed,
    lemma_fresh_at_stop, lemma_lru_ok_empty,
)
from vernat.state.ghost import (
    word, flow_word, link_word, ring_word, slot_word, cap, allocator_ok, map_ok, slot_free, geometry,
)

from vernat.state.layout import (
    H_CAPACITY, H_MASK, H_COUNT, H_OLDEST, H_NEWEST, H_RING_HEAD, H_SALT,
    HEADER_WORDS, SLOT_FLOW, SLOT_HOME, SLOT_KEY1, SLOT_KEY2, SLOT_EMPTY, F_KEY1, F_KEY2, F_MAC, F_LAST_SEEN, FREE,
    L_PREV, L_NEXT, R_RING, R_POS, SLOT_WORDS, FLOW_WORDS, LINK_WORDS, RING_WORDS, SALT_LIMIT,
    MAX_CAPACITY, slot_at, flow_at, link_at, ring_at, pos_at, cache_hint,
)
from vernat.state.flowmap import key_hash, map_find, map_insert, map_erase, map_prefetch
from vernat.state.allocator import (
    index_allocate, index_refresh, index_free, index_oldest, index_is_allocated, _set_keys,
)


def table_init(t: List[int], max_flows: int, nslots: int, salt: int) -> None:
    """Make t (int64, layout.table_words(max_flows) long) an empty table:
    no flow stored, every index free, indices queued 0, 1, 2, ... so the
    first flows get the lowest ports. nslots must be layout.slots_for(max_flows)."""
    Requires(Acc(list_pred(t)) and 1 <= max_flows and max_flows <= MAX_CAPACITY)
    Requires(2 * max_flows <= nslots and nslots <= 4 * MAX_CAPACITY)
    Requires(len(t) == HEADER_WORDS + SLOT_WORDS * nslots + (FLOW_WORDS + LINK_WORDS + RING_WORDS) * max_flows)
    Ensures(table(t) and capacity(state(t)) == max_flows)
    Ensures(not full(state(t)) and next_free(state(t)) == 0)
    Ensures(Forall(int, lambda i: (not live(state(t), i), [[live(state(t), i)]])))
    _init_header(t, max_flows, nslots, salt)
    _init_slots(t, nslots)
    _init_indices(t, max_flows)
    Assert(records_match(t) and ring_match(t))
    lemma_lru_ok_empty(abstract(t))
    Fold(table(t))


def _put(t: List[int], w: int, v: int) -> None:
    """t[w] = v, table_init's one store: every other word unchanged (a lean
    frame; Nagini's stores are sequence updates, and eight of them per loop
    iteration beside quantified invariants grew Z3 past 3 GB)."""
    Requires(Acc(list_pred(t)) and 0 <= w and w < len(t))
    Ensures(Acc(list_pred(t)) and len(t) == Old(len(t)) and word(t, w) == v)
    Ensures(Forall(int, lambda x: (Implies(0 <= x and x < len(t) and x != w,
        word(t, x) == Old(word(t, x))), [[word(t, x)]])))
    t[w] = v


def _init_header(t: List[int], max_flows: int, nslots: int, salt: int) -> None:
    """The header of an empty table: no flow, an empty list, the ring's head
    at position 0, the salt cut to 32 bits."""
    Requires(Acc(list_pred(t)) and 1 <= max_flows and max_flows <= MAX_CAPACITY)
    Requires(2 * max_flows <= nslots and nslots <= 4 * MAX_CAPACITY)
    Requires(len(t) == HEADER_WORDS + SLOT_WORDS * nslots + (FLOW_WORDS + LINK_WORDS + RING_WORDS) * max_flows)
    Ensures(Acc(list_pred(t)) and len(t) == Old(len(t)) and geometry(t))
    Ensures(t[H_CAPACITY] == max_flows and t[H_MASK] == nslots - 1 and t[H_COUNT] == 0 and
            t[H_OLDEST] == -1 and t[H_NEWEST] == -1 and t[H_RING_HEAD] == 0 and
            0 <= t[H_SALT] and t[H_SALT] < SALT_LIMIT)
    for w in range(HEADER_WORDS):
        Invariant(Acc(list_pred(t)) and len(t) == Old(len(t)))
        _put(t, w, 0)
    _put(t, H_CAPACITY, max_flows)
    _put(t, H_MASK, nslots - 1)
    _put(t, H_COUNT, 0)
    _put(t, H_OLDEST, -1)
    _put(t, H_NEWEST, -1)
    _put(t, H_RING_HEAD, 0)
    # the low 32 bits (as salt & 0xFFFFFFFF on an int64)
    _put(t, H_SALT, salt % SALT_LIMIT)
    # each store's frame carries the ones before it to the words named here
    Assert(word(t, H_CAPACITY) == max_flows and word(t, H_MASK) == nslots - 1 and
           word(t, H_COUNT) == 0 and word(t, H_OLDEST) == -1 and word(t, H_NEWEST) == -1 and
           word(t, H_RING_HEAD) == 0 and word(t, H_SALT) == salt % SALT_LIMIT)


def _init_slots(t: List[int], nslots: int) -> None:
    """Every slot empty."""
    Requires(Acc(list_pred(t)) and geometry(t) and nslots == t[H_MASK] + 1)
    Ensures(Acc(list_pred(t)) and len(t) == Old(len(t)) and geometry(t))
    Ensures(t[H_CAPACITY] == Old(t[H_CAPACITY]) and t[H_MASK] == Old(t[H_MASK]) and
            t[H_COUNT] == Old(t[H_COUNT]) and t[H_OLDEST] == Old(t[H_OLDEST]) and
            t[H_NEWEST] == Old(t[H_NEWEST]) and t[H_RING_HEAD] == Old(t[H_RING_HEAD]) and
            t[H_SALT] == Old(t[H_SALT]))
    Ensures(Forall(int, lambda q: (Implies(0 <= q and q < nslots,
        slot_word(t, q, SLOT_FLOW) == SLOT_EMPTY), [[slot_word(t, q, SLOT_FLOW)]])))
    for s in range(nslots):
        Invariant(Acc(list_pred(t)) and len(t) == Old(len(t)))
        Invariant(0 <= len(Previous(s)) and len(Previous(s)) <= nslots)
        Invariant(word(t, H_CAPACITY) == Old(word(t, H_CAPACITY)) and
                  word(t, H_MASK) == Old(word(t, H_MASK)) and
                  word(t, H_COUNT) == Old(word(t, H_COUNT)) and
                  word(t, H_OLDEST) == Old(word(t, H_OLDEST)) and
                  word(t, H_NEWEST) == Old(word(t, H_NEWEST)) and
                  word(t, H_RING_HEAD) == Old(word(t, H_RING_HEAD)) and
                  word(t, H_SALT) == Old(word(t, H_SALT)))
        Invariant(Forall(int, lambda q: (Implies(0 <= q and q < len(Previous(s)),
            word(t, HEADER_WORDS + SLOT_WORDS * q) == SLOT_EMPTY),
            [[word(t, HEADER_WORDS + SLOT_WORDS * q)]])))
        w = HEADER_WORDS + SLOT_WORDS * s
        _put(t, w + SLOT_FLOW, SLOT_EMPTY)
        _put(t, w + SLOT_HOME, 0)
        _put(t, w + SLOT_KEY1, 0)
        _put(t, w + SLOT_KEY2, 0)


def _init_indices(t: List[int], max_flows: int) -> None:
    """Every index free, with canonical words (a zero record, no links), and
    queued in order: ring position i holds index i. One loop per region:
    each carries only its own region's words (one loop storing all eight
    words beside all their invariants took about a minute to prove)."""
    Requires(Acc(list_pred(t)) and geometry(t) and max_flows == t[H_CAPACITY])
    Ensures(Acc(list_pred(t)) and len(t) == Old(len(t)) and geometry(t))
    Ensures(t[H_CAPACITY] == Old(t[H_CAPACITY]) and t[H_MASK] == Old(t[H_MASK]) and
            t[H_COUNT] == Old(t[H_COUNT]) and t[H_OLDEST] == Old(t[H_OLDEST]) and
            t[H_NEWEST] == Old(t[H_NEWEST]) and t[H_RING_HEAD] == Old(t[H_RING_HEAD]) and
            t[H_SALT] == Old(t[H_SALT]))
    Ensures(Forall(int, lambda q: (Implies(0 <= q and q <= t[H_MASK],
        slot_word(t, q, SLOT_FLOW) == Old(slot_word(t, q, SLOT_FLOW))), [[slot_word(t, q, SLOT_FLOW)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < max_flows,
        flow_word(t, j, F_LAST_SEEN) == FREE and flow_word(t, j, F_KEY1) == 0 and
        flow_word(t, j, F_KEY2) == 0 and flow_word(t, j, F_MAC) == 0 and
        link_word(t, j, L_PREV) == -1 and link_word(t, j, L_NEXT) == -1 and
        ring_word(t, j, R_RING) == j and ring_word(t, j, R_POS) == j),
        [[flow_word(t, j, F_LAST_SEEN)], [link_word(t, j, L_PREV)], [link_word(t, j, L_NEXT)],
         [ring_word(t, j, R_RING)], [ring_word(t, j, R_POS)]])))
    base = HEADER_WORDS + SLOT_WORDS * (t[H_MASK] + 1)
    links = base + FLOW_WORDS * max_flows
    ring = links + LINK_WORDS * max_flows
    Assert(ring + RING_WORDS * max_flows == len(t))
    _init_records(t, base, max_flows)
    _init_links(t, links, max_flows)
    _init_ring(t, ring, max_flows)
    # the header did not move (the frames, at the words named)
    Assert(word(t, H_CAPACITY) == Old(word(t, H_CAPACITY)) and word(t, H_MASK) == Old(word(t, H_MASK)) and
           word(t, H_COUNT) == Old(word(t, H_COUNT)) and word(t, H_OLDEST) == Old(word(t, H_OLDEST)) and
           word(t, H_NEWEST) == Old(word(t, H_NEWEST)) and
           word(t, H_RING_HEAD) == Old(word(t, H_RING_HEAD)) and word(t, H_SALT) == Old(word(t, H_SALT)))
    Assert(geometry(t))
    # the words above, named as the postconditions name them
    Assert(Forall(int, lambda j: (Implies(0 <= j and j < max_flows,
        word(t, base + FLOW_WORDS * j + F_LAST_SEEN) == flow_word(t, j, F_LAST_SEEN) and
        word(t, base + FLOW_WORDS * j + F_KEY1) == flow_word(t, j, F_KEY1) and
        word(t, base + FLOW_WORDS * j + F_KEY2) == flow_word(t, j, F_KEY2) and
        word(t, base + FLOW_WORDS * j + F_MAC) == flow_word(t, j, F_MAC) and
        word(t, links + LINK_WORDS * j + L_PREV) == link_word(t, j, L_PREV) and
        word(t, links + LINK_WORDS * j + L_NEXT) == link_word(t, j, L_NEXT) and
        word(t, ring + j) == ring_word(t, j, R_RING) and
        word(t, ring + max_flows + j) == ring_word(t, j, R_POS)),
        [[flow_word(t, j, F_LAST_SEEN)], [link_word(t, j, L_PREV)], [link_word(t, j, L_NEXT)],
         [ring_word(t, j, R_RING)], [ring_word(t, j, R_POS)]])))


def _init_records(t: List[int], base: int, n: int) -> None:
    """The n flow records from word base on: zero keys and MAC, FREE."""
    Requires(Acc(list_pred(t)) and 0 <= base and 0 <= n and base + FLOW_WORDS * n <= len(t))
    Ensures(Acc(list_pred(t)) and len(t) == Old(len(t)))
    Ensures(Forall(int, lambda x: (Implies(0 <= x and x < len(t) and (x < base or base + FLOW_WORDS * n <= x),
        word(t, x) == Old(word(t, x))), [[word(t, x)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < n,
        word(t, base + FLOW_WORDS * j + F_KEY1) == 0 and word(t, base + FLOW_WORDS * j + F_KEY2) == 0 and
        word(t, base + FLOW_WORDS * j + F_MAC) == 0 and word(t, base + FLOW_WORDS * j + F_LAST_SEEN) == FREE),
        [[word(t, base + FLOW_WORDS * j + F_KEY1)], [word(t, base + FLOW_WORDS * j + F_KEY2)],
         [word(t, base + FLOW_WORDS * j + F_MAC)], [word(t, base + FLOW_WORDS * j + F_LAST_SEEN)]])))
    for i in range(n):
        Invariant(Acc(list_pred(t)) and len(t) == Old(len(t)))
        Invariant(0 <= len(Previous(i)) and len(Previous(i)) <= n)
        Invariant(Forall(int, lambda x: (Implies(0 <= x and x < len(t) and (x < base or base + FLOW_WORDS * n <= x),
            word(t, x) == Old(word(t, x))), [[word(t, x)]])))
        Invariant(Forall(int, lambda j: (Implies(0 <= j and j < len(Previous(i)),
            word(t, base + FLOW_WORDS * j + F_KEY1) == 0 and word(t, base + FLOW_WORDS * j + F_KEY2) == 0 and
            word(t, base + FLOW_WORDS * j + F_MAC) == 0 and word(t, base + FLOW_WORDS * j + F_LAST_SEEN) == FREE),
            [[word(t, base + FLOW_WORDS * j + F_KEY1)], [word(t, base + FLOW_WORDS * j + F_KEY2)],
         [word(t, base + FLOW_WORDS * j + F_MAC)], [word(t, base + FLOW_WORDS * j + F_LAST_SEEN)]])))
        r = base + FLOW_WORDS * i
        _put(t, r + F_KEY1, 0)
        _put(t, r + F_KEY2, 0)
        _put(t, r + F_MAC, 0)
        _put(t, r + F_LAST_SEEN, FREE)


def _init_links(t: List[int], links: int, n: int) -> None:
    """The n link pairs from word links on: no neighbour either way."""
    Requires(Acc(list_pred(t)) and 0 <= links and 0 <= n and links + LINK_WORDS * n <= len(t))
    Ensures(Acc(list_pred(t)) and len(t) == Old(len(t)))
    Ensures(Forall(int, lambda x: (Implies(0 <= x and x < len(t) and (x < links or links + LINK_WORDS * n <= x),
        word(t, x) == Old(word(t, x))), [[word(t, x)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < n,
        word(t, links + LINK_WORDS * j + L_PREV) == -1 and word(t, links + LINK_WORDS * j + L_NEXT) == -1),
        [[word(t, links + LINK_WORDS * j + L_PREV)], [word(t, links + LINK_WORDS * j + L_NEXT)]])))
    for i in range(n):
        Invariant(Acc(list_pred(t)) and len(t) == Old(len(t)))
        Invariant(0 <= len(Previous(i)) and len(Previous(i)) <= n)
        Invariant(Forall(int, lambda x: (Implies(0 <= x and x < len(t) and (x < links or links + LINK_WORDS * n <= x),
            word(t, x) == Old(word(t, x))), [[word(t, x)]])))
        Invariant(Forall(int, lambda j: (Implies(0 <= j and j < len(Previous(i)),
            word(t, links + LINK_WORDS * j + L_PREV) == -1 and word(t, links + LINK_WORDS * j + L_NEXT) == -1),
            [[word(t, links + LINK_WORDS * j + L_PREV)], [word(t, links + LINK_WORDS * j + L_NEXT)]])))
        r = links + LINK_WORDS * i
        _put(t, r + L_PREV, -1)
        _put(t, r + L_NEXT, -1)


def _init_ring(t: List[int], ring: int, n: int) -> None:
    """The ring (n words from word ring on) and the positions (the n after
    them): ring position j holds index j, index j is at position j."""
    Requires(Acc(list_pred(t)) and 0 <= ring and 0 <= n and ring + RING_WORDS * n <= len(t))
    Ensures(Acc(list_pred(t)) and len(t) == Old(len(t)))
    Ensures(Forall(int, lambda x: (Implies(0 <= x and x < len(t) and (x < ring or ring + RING_WORDS * n <= x),
        word(t, x) == Old(word(t, x))), [[word(t, x)]])))
    Ensures(Forall(int, lambda j: (Implies(0 <= j and j < n,
        word(t, ring + j) == j and word(t, ring + n + j) == j), [[word(t, ring + j)], [word(t, ring + n + j)]])))
    for i in range(n):
        Invariant(Acc(list_pred(t)) and len(t) == Old(len(t)))
        Invariant(0 <= len(Previous(i)) and len(Previous(i)) <= n)
        Invariant(Forall(int, lambda x: (Implies(0 <= x and x < len(t) and (x < ring or ring + RING_WORDS * n <= x),
            word(t, x) == Old(word(t, x))), [[word(t, x)]])))
        Invariant(Forall(int, lambda j: (Implies(0 <= j and j < len(Previous(i)),
            word(t, ring + j) == j and word(t, ring + n + j) == j), [[word(t, ring + j)], [word(t, ring + n + j)]])))
        _put(t, ring + i, i)
        _put(t, ring + n + i, i)


def flow_lookup(t: List[int], k1: int, k2: int) -> int:
    Requires(table(t))
    Ensures(table(t) and state(t) == Old(state(t)))
    Ensures(Result() == find(state(t), k1, k2))
    Ensures(Result() == -1 or (0 <= Result() and Result() < capacity(state(t)) and
                               live(state(t), Result()) and
                               key1_of(state(t), Result()) == k1 and key2_of(state(t), Result()) == k2))
    Unfold(table(t))
    i = map_find(t, k1, k2)
    # find is defined on the records: a live index with that key is in a slot
    # with that key (coupled), and no two slots hold one key (map_ok)
    Assert(records_match(t))
    Assert(Forall(int, lambda m: (Implies(0 <= m and m < t[H_CAPACITY],
        holds(abstract(t), m, k1, k2) == (flow_word(t, m, F_LAST_SEEN) != FREE and
                                          flow_word(t, m, F_KEY1) == k1 and
                                          flow_word(t, m, F_KEY2) == k2)),
        [[holds(abstract(t), m, k1, k2)]])))
    Assert(Implies(i >= 0, holds(abstract(t), i, k1, k2)))
    Assert(Implies(find(abstract(t), k1, k2) >= 0,
                   holds(abstract(t), find(abstract(t), k1, k2), k1, k2)))
    Assert(Implies(find(abstract(t), k1, k2) >= 0,
                   flow_word(t, find(abstract(t), k1, k2), F_LAST_SEEN) != FREE and
                   flow_word(t, find(abstract(t), k1, k2), F_KEY1) == k1 and
                   flow_word(t, find(abstract(t), k1, k2), F_KEY2) == k2))
    Assert(find(abstract(t), k1, k2) == i)
    Fold(table(t))
    return i


def flow_allocate(t: List[int], k1: int, k2: int, mac: int, now: int) -> int:
    Requires(table(t) and find(state(t), k1, k2) == -1)
    Requires(0 <= k1 and k1 < 281474976710656 and 0 <= k2 and k2 < 281474976710656)
    Requires(0 <= mac and mac < 281474976710656 and now >= 0 and now <= 4611686018427387904)
    Requires(newest_time(state(t)) <= now and stamp_room(state(t)))
    Ensures(table(t) and capacity(state(t)) == Old(capacity(state(t))))
    Ensures(Implies(Old(full(state(t))), Result() == -1 and state(t) == Old(state(t))))
    Ensures(Implies(not Old(full(state(t))),
                    Result() == Old(next_free(state(t))) and
                    0 <= Result() and Result() < capacity(state(t)) and
                    state(t) == added(Old(state(t)), k1, k2, mac, now) and
                    newest_time(state(t)) == now))
    Unfold(table(t))
    Assert(records_match(t))
    # the order, as a value: a new flow joins at the newest end (if there is room)
    lemma_allocator_ok_abstract(t)
    lemma_lru_ok_added(abstract(t), k1, k2, mac, now)
    # the key is in no slot: no live record has it (find), and every slot in
    # use holds a live record with the slot's key (coupled)
    Assert(Forall(int, lambda m: (Implies(0 <= m and m < t[H_CAPACITY],
        not holds(abstract(t), m, k1, k2)), [[holds(abstract(t), m, k1, k2)]])))
    Assert(Forall(int, lambda s: (Implies(0 <= s and s <= t[H_MASK] and slot_word(t, s, SLOT_FLOW) >= 0,
        not holds(abstract(t), slot_word(t, s, SLOT_FLOW), k1, k2)), [[slot_word(t, s, SLOT_FLOW)]])))
    Assert(key_absent(t, k1, k2))
    i = _allocate_keeping(t, now, k1, k2)
    if i < 0:
        Fold(table(t))
        return -1
    _fill_keeping(t, i, k1, k2, mac)
    _insert_keeping(t, i)
    Fold(table(t))
    return i


def _allocate_keeping(t: List[int], now: int, k1: int, k2: int) -> int:
    """index_allocate, keeping the map's invariant (it stores no slot word)
    and handing coupled over as coupled_but (the new index is in no slot:
    it was free)."""
    Requires(Acc(list_pred(t)) and allocator_ok(t) and map_ok(t) and coupled(t))
    Requires(0 <= now and now <= 4611686018427387904 and key_absent(t, k1, k2))
    Ensures(Acc(list_pred(t)) and allocator_ok(t) and map_ok(t) and key_absent(t, k1, k2))
    Ensures(t[H_CAPACITY] == Old(t[H_CAPACITY]))
    Ensures((Result() == -1) == (Old(t[H_COUNT]) == Old(t[H_CAPACITY])))
    Ensures(Implies(Result() == -1, coupled(t) and abstract(t) == Old(abstract(t))))
    Ensures(Implies(Result() != -1,
                    0 <= Result() and Result() < cap(t) and
                    flow_word(t, Result(), F_LAST_SEEN) != FREE and coupled_but(t, Result()) and
                    Result() is next_free(Old(abstract(t))) and
                    abstract(t) == allocated(Old(abstract(t)), now)))
    # the map's invariant crosses the allocator's operations as a value
    # (model.map_ok_s; from the word frame: minutes, session 12)
    lemma_map_ok_words(t)
    i = index_allocate(t, now)
    lemma_map_ok_words(t)
    # the slots did not move (as in _free_keeping)
    Assert(Forall2(int, int, lambda s, f: (Implies(0 <= s and s <= t[H_MASK] and 0 <= f and f < 4,
        slot_word(t, s, f) == Old(slot_word(t, s, f))),
        [[slot_word(t, s, f)], [Old(slot_word(t, s, f))]])))
    return i


def _fill_keeping(t: List[int], i: int, k1: int, k2: int, mac: int) -> None:
    """Store new flow i's key and MAC, keeping both invariants: the
    allocator's reads no key or MAC, and no slot holds i."""
    Requires(Acc(list_pred(t)) and allocator_ok(t) and map_ok(t) and coupled_but(t, i))
    Requires(0 <= i and i < cap(t) and flow_word(t, i, F_LAST_SEEN) != FREE)
    Requires(0 <= k1 and k1 < 281474976710656 and 0 <= k2 and k2 < 281474976710656)
    Requires(0 <= mac and mac < 281474976710656 and key_absent(t, k1, k2))
    Ensures(Acc(list_pred(t)) and allocator_ok(t) and map_ok(t) and coupled_but(t, i))
    Ensures(t[H_CAPACITY] == Old(t[H_CAPACITY]))
    Ensures(0 <= i and i < cap(t) and flow_word(t, i, F_LAST_SEEN) != FREE)
    Ensures(flow_word(t, i, F_KEY1) == k1 and flow_word(t, i, F_KEY2) == k2 and
            flow_word(t, i, F_MAC) == mac and key_absent(t, k1, k2))
    Ensures(abstract(t) == with_rec(with_rec(with_rec(Old(abstract(t)), i, F_KEY1, k1),
                                             i, F_KEY2, k2), i, F_MAC, mac))
    # the allocator's invariant is kept by _set_keys; the map's crosses the
    # stores as map_ok_s (model.lemma_map_ok_words)
    lemma_map_ok_words(t)
    _set_keys(t, i, k1, k2, mac)
    lemma_map_ok_words(t)
    Assert(Forall2(int, int, lambda s, f: (Implies(0 <= s and s <= t[H_MASK] and 0 <= f and f < 4,
        slot_word(t, s, f) == Old(slot_word(t, s, f))),
        [[slot_word(t, s, f)], [Old(slot_word(t, s, f))]])))


def _insert_keeping(t: List[int], i: int) -> None:
    """map_insert of new flow i, keeping both invariants and turning
    coupled_but into coupled: i is now in the slot map_insert filled, with
    its record's key; every other slot is as it was."""
    Requires(Acc(list_pred(t)) and allocator_ok(t) and map_ok(t) and coupled_but(t, i))
    Requires(0 <= i and i < cap(t) and flow_word(t, i, F_LAST_SEEN) != FREE)
    Requires(0 <= flow_word(t, i, F_KEY1) and flow_word(t, i, F_KEY1) < 281474976710656)
    Requires(0 <= flow_word(t, i, F_KEY2) and flow_word(t, i, F_KEY2) < 281474976710656)
    Requires(0 <= flow_word(t, i, F_MAC) and flow_word(t, i, F_MAC) < 281474976710656)
    Requires(key_absent(t, flow_word(t, i, F_KEY1), flow_word(t, i, F_KEY2)))
    Ensures(Acc(list_pred(t)) and allocator_ok(t) and map_ok(t) and coupled(t))
    Ensures(t[H_CAPACITY] == Old(t[H_CAPACITY]))
    Ensures(abstract(t) == Old(abstract(t)))
    _map_insert_keeping(t, i)
    # coupled part by part: the slots, then every live index in some slot
    # (in one piece 155-540 s, with these two steps 15-17 s; session 12)
    Assert(Forall(int, lambda s: (Implies(
        0 <= s and s <= t[H_MASK] and slot_word(t, s, SLOT_FLOW) >= 0,
        flow_word(t, slot_word(t, s, SLOT_FLOW), F_LAST_SEEN) != FREE and
        flow_word(t, slot_word(t, s, SLOT_FLOW), F_KEY1) == slot_word(t, s, SLOT_KEY1) and
        flow_word(t, slot_word(t, s, SLOT_FLOW), F_KEY2) == slot_word(t, s, SLOT_KEY2)),
        [[slot_word(t, s, SLOT_FLOW)]])))
    Assert(Forall(int, lambda x: (Implies(
        0 <= x and x < t[H_CAPACITY] and flow_word(t, x, F_LAST_SEEN) != FREE,
        Exists(int, lambda s: (0 <= s and s <= t[H_MASK] and slot_word(t, s, SLOT_FLOW) == x,
                               [[slot_word(t, s, SLOT_FLOW)]]))),
        [[flow_word(t, x, F_LAST_SEEN)]])))


def _map_insert_keeping(t: List[int], i: int) -> int:
    """map_insert, keeping the allocator's invariant (it stores no record,
    link or ring word). Apart from _insert_keeping, which derives coupled:
    with coupled's quantifiers in the same proof, Z3 did not finish
    allocator_ok's in 15 min (docs/progress-prove.md, session 8)."""
    Requires(Acc(list_pred(t)) and allocator_ok(t) and map_ok(t))
    Requires(0 <= i and i < cap(t) and flow_word(t, i, F_LAST_SEEN) != FREE)
    Requires(Forall(int, lambda s: (Implies(0 <= s and s <= t[H_MASK] and slot_word(t, s, SLOT_FLOW) >= 0,
        slot_word(t, s, SLOT_FLOW) != i), [[slot_word(t, s, SLOT_FLOW)]])))
    Requires(0 <= flow_word(t, i, F_KEY1) and flow_word(t, i, F_KEY1) < 281474976710656)
    Requires(0 <= flow_word(t, i, F_KEY2) and flow_word(t, i, F_KEY2) < 281474976710656)
    Requires(key_absent(t, flow_word(t, i, F_KEY1), flow_word(t, i, F_KEY2)))
    Ensures(Acc(list_pred(t)) and allocator_ok(t) and map_ok(t))
    Ensures(t[H_CAPACITY] == Old(t[H_CAPACITY]) and t[H_MASK] == Old(t[H_MASK]))
    Ensures(abstract(t) == Old(abstract(t)))
    Ensures(0 <= Result() and Result() <= t[H_MASK] and Old(slot_word(t, Result(), SLOT_FLOW)) < 0)
    Ensures(slot_word(t, Result(), SLOT_FLOW) == i and
            slot_word(t, Result(), SLOT_KEY1) == flow_word(t, i, F_KEY1) and
            slot_word(t, Result(), SLOT_KEY2) == flow_word(t, i, F_KEY2))
    Ensures(Forall(int, lambda s: (Implies(0 <= s and s <= t[H_MASK] and s != Result(),
        slot_word(t, s, SLOT_FLOW) == Old(slot_word(t, s, SLOT_FLOW)) and
        slot_word(t, s, SLOT_KEY1) == Old(slot_word(t, s, SLOT_KEY1)) and
        slot_word(t, s, SLOT_KEY2) == Old(slot_word(t, s, SLOT_KEY2))),
        [[slot_word(t, s, SLOT_FLOW)], [Old(slot_word(t, s, SLOT_FLOW))]])))
    Ensures(Forall2(int, int, lambda x, f: (Implies(
        0 <= x and x < t[H_CAPACITY] and 0 <= f and f < FLOW_WORDS,
        flow_word(t, x, f) == Old(flow_word(t, x, f))), [[flow_word(t, x, f)]])))
    Assert(slot_free(t))
    # the allocator's invariant as a value of the abstract table (as in
    # _erase_keeping)
    lemma_allocator_ok_abstract(t)
    s = map_insert(t, i)
    lemma_allocator_ok_abstract(t)
    Assert(word(t, H_COUNT) == Old(word(t, H_COUNT)) and word(t, H_OLDEST) == Old(word(t, H_OLDEST)) and
           word(t, H_NEWEST) == Old(word(t, H_NEWEST)) and
           word(t, H_RING_HEAD) == Old(word(t, H_RING_HEAD)))
    return s


def flow_refresh(t: List[int], i: int, now: int) -> None:
    Requires(table(t) and live(state(t), i) and now >= 0 and now <= 4611686018427387904)
    Requires(newest_time(state(t)) <= now and stamp_room(state(t)))
    Ensures(table(t) and state(t) == touched(Old(state(t)), i, now))
    Ensures(capacity(state(t)) == Old(capacity(state(t))) and live(state(t), i))
    Ensures(newest_time(state(t)) == now)
    Unfold(table(t))
    Assert(records_match(t))
    # the order, as a value: i moves to the newest end (model.lru_ok_a)
    lemma_lru_ok_touched(abstract(t), i, now)
    # the map's invariant and coupled cross index_refresh as values
    # (model.map_ok_s, coupled_s): re-proving them from the word frame took
    # minutes (docs/progress-prove.md, session 11)
    lemma_map_ok_words(t)
    Assert(coupled_words(t))
    index_refresh(t, i, now)
    lemma_map_ok_words(t)
    Assert(coupled_words(t))
    Assert(records_match(t))
    Fold(table(t))


def flow_expire(t: List[int], now: int, timeout: int) -> int:
    """Remove every flow with now - last_seen >= timeout, oldest first.
    Amortized O(1): each flow is removed once, and the loop stops at the
    first flow that is still fresh."""
    Requires(table(t) and now >= 0 and timeout >= 1)
    Ensures(table(t) and state(t) == expired(Old(state(t)), now, timeout))
    Ensures(capacity(state(t)) == Old(capacity(state(t))) and Result() >= 0)
    # exactly the stale flows go: every flow left is fresh (expired frees
    # stale ones only, oldest first); and time's bound and the stamps' room
    # carry over to the next refresh or allocation
    Ensures(all_fresh(state(t), now, timeout))
    Ensures(newest_time(state(t)) <= Old(newest_time(state(t))))
    Ensures(Implies(Old(stamp_room(state(t))), stamp_room(state(t))))
    removed = 0
    Unfold(table(t))
    n = t[H_CAPACITY]
    Assert(records_match(t))
    Assert(t[H_COUNT] <= n)
    Fold(table(t))
    # the fuel invariant on entry: expired is expired_fuel with the capacity
    # (written `n - removed` as in the invariant: for Nagini an int is a
    # reference, and two equal in value are the same one only as results of
    # arithmetic)
    Assert(state(t) == Old(state(t)) and capacity(state(t)) == n)
    Assert(expired(Old(state(t)), now, timeout) == expired_fuel(state(t), now, timeout, n - removed))
    # the loop's bound is the definition's fuel (model.expired): both stop
    # after at most capacity removals
    for step in range(n):
        Invariant(table(t) and capacity(state(t)) == n)
        Invariant(removed == len(Previous(step)) and removed <= n)
        Invariant(expired_fuel(state(t), now, timeout, n - removed) ==
                  expired(Old(state(t)), now, timeout))
        # fuel never runs out while a flow is live: the count bounds both
        Invariant(state(t).count <= n - removed)
        Invariant(newest_time(state(t)) <= Old(newest_time(state(t))))
        Invariant(Implies(Old(stamp_room(state(t))), stamp_room(state(t))))
        i = _expired_oldest(t, now, timeout)
        if i < 0:
            # the definition stops here (expired_fuel is opaque: its steps
            # are these two lemmas), and the oldest flow is fresh
            lemma_expired_stop(state(t), now, timeout, n - removed)
            lemma_fresh_at_stop(t, now, timeout)
            break
        Assert(removed < n and state(t).oldest == i and live(state(t), i))
        lemma_expired_step(state(t), now, timeout, n - removed)
        # `i + 0`, not `i`: the model frees `A.oldest + 0`, and for Nagini two
        # ints equal in value are the same reference only as results of
        # arithmetic (a list element may be a bool); numba folds the addition
        _remove(t, i + 0)
        removed += 1
    # no fuel left when the loop ran to its end, and no flow either
    lemma_expired_stop(state(t), now, timeout, n - removed)
    lemma_fresh_at_stop(t, now, timeout)
    return removed


def _expired_oldest(t: List[int], now: int, timeout: int) -> int:
    """The oldest flow if it is live and now - last_seen >= timeout, else -1.
    (Live is checked too: that every listed index is live is not proven, and
    index_free needs it.)"""
    Requires(table(t))
    Ensures(table(t) and state(t) == Old(state(t)))
    Ensures(Result() == (state(t).oldest if state(t).oldest >= 0 and live(state(t), state(t).oldest) and
                         now - last_seen_of(state(t), state(t).oldest) >= timeout else -1))
    Unfold(table(t))
    Assert(records_match(t))
    i = index_oldest(t)
    if i < 0:
        Fold(table(t))
        return -1
    seen = t[flow_at(t, i) + F_LAST_SEEN]
    if seen == FREE or now - seen < timeout:
        Fold(table(t))
        return -1
    Fold(table(t))
    return i


def _remove(t: List[int], i: int) -> None:
    """Remove live flow i: out of the map, then its index freed. Each half
    keeps the other module's invariant itself, so the Fold here is cheap;
    the abstract table is map_erase's (unchanged) then index_free's (freed)."""
    Requires(table(t) and live(state(t), i) and i is state(t).oldest + 0)
    Ensures(table(t) and state(t) == freed(Old(state(t)), i))
    Ensures(capacity(state(t)) == Old(capacity(state(t))))
    Ensures(state(t).count == Old(state(t).count) - 1)
    Ensures(newest_time(state(t)) <= Old(newest_time(state(t))))
    Ensures(Implies(Old(stamp_room(state(t))), stamp_room(state(t))))
    Unfold(table(t))
    Assert(records_match(t))
    # the order, as a value: the oldest flow leaves (model.lru_ok_a)
    lemma_allocator_ok_abstract(t)
    lemma_lru_ok_freed(abstract(t))
    _erase_keeping(t, i)
    _free_keeping(t, i)
    Assert(coupled_back(t, i))
    Fold(table(t))


def _erase_keeping(t: List[int], i: int) -> None:
    """map_erase, keeping the allocator's invariant (it stores no record,
    link or ring word) and handing coupled over as coupled_but."""
    Requires(Acc(list_pred(t)) and allocator_ok(t) and map_ok(t) and coupled(t))
    Requires(0 <= i and i < cap(t) and flow_word(t, i, F_LAST_SEEN) != FREE)
    Ensures(Acc(list_pred(t)) and allocator_ok(t) and map_ok(t) and coupled_but(t, i))
    Ensures(0 <= i and i < cap(t) and flow_word(t, i, F_LAST_SEEN) != FREE)
    Ensures(abstract(t) == Old(abstract(t)))
    Assert(slot_free(t))
    # the allocator's invariant crosses map_erase as a value of the abstract
    # table, which map_erase keeps (from the word frame: ~100 s, session 12)
    lemma_allocator_ok_abstract(t)
    map_erase(t, i)
    lemma_allocator_ok_abstract(t)
    # the allocator's header words did not move: map_erase's frame names
    # them word(t, w), allocator_ok reads t[w]; without these terms Z3
    # searched for 20 min
    Assert(word(t, H_COUNT) == Old(word(t, H_COUNT)) and word(t, H_OLDEST) == Old(word(t, H_OLDEST)) and
           word(t, H_NEWEST) == Old(word(t, H_NEWEST)) and
           word(t, H_RING_HEAD) == Old(word(t, H_RING_HEAD)))


def _free_keeping(t: List[int], i: int) -> None:
    """index_free, keeping the map's invariant and coupled_but (it stores no
    slot word, and only i's record)."""
    Requires(Acc(list_pred(t)) and allocator_ok(t) and map_ok(t) and coupled_but(t, i))
    Requires(0 <= i and i < cap(t) and flow_word(t, i, F_LAST_SEEN) != FREE)
    Ensures(Acc(list_pred(t)) and allocator_ok(t) and map_ok(t) and coupled_but(t, i))
    Ensures(0 <= i and i < cap(t) and flow_word(t, i, F_LAST_SEEN) == FREE)
    Ensures(abstract(t) == freed(Old(abstract(t)), i))
    lemma_map_ok_words(t)
    index_free(t, i)
    lemma_map_ok_words(t)
    # the slots did not move: index_free's frame restated slot by slot so
    # that map_ok's and coupled_but's quantifiers meet their old instances
    Assert(Forall2(int, int, lambda s, f: (Implies(0 <= s and s <= t[H_MASK] and 0 <= f and f < 4,
        slot_word(t, s, f) == Old(slot_word(t, s, f))),
        [[slot_word(t, s, f)], [Old(slot_word(t, s, f))]])))


def flow_is_allocated(t: List[int], i: int) -> bool:
    Requires(table(t))
    Ensures(table(t) and state(t) == Old(state(t)))
    Ensures(Result() == live(state(t), i))
    Ensures(Implies(Result(), 0 <= i and i < capacity(state(t))))
    Unfold(table(t))
    a = index_is_allocated(t, i)
    Assert(records_match(t))
    Fold(table(t))
    return a


def flow_key1(t: List[int], i: int) -> int:
    Requires(table(t) and live(state(t), i))
    Ensures(table(t) and state(t) == Old(state(t)))
    Ensures(Result() == key1_of(state(t), i) and 0 <= Result() and Result() < 281474976710656)
    Unfold(table(t))
    Assert(records_match(t))
    v = t[flow_at(t, i) + F_KEY1]
    Assert(v == flow_word(t, i, F_KEY1))
    Fold(table(t))
    return v


def flow_key2(t: List[int], i: int) -> int:
    Requires(table(t) and live(state(t), i))
    Ensures(table(t) and state(t) == Old(state(t)))
    Ensures(Result() == key2_of(state(t), i) and 0 <= Result() and Result() < 281474976710656)
    Unfold(table(t))
    Assert(records_match(t))
    v = t[flow_at(t, i) + F_KEY2]
    Assert(v == flow_word(t, i, F_KEY2))
    Fold(table(t))
    return v


def flow_mac(t: List[int], i: int) -> int:
    Requires(table(t) and live(state(t), i))
    Ensures(table(t) and state(t) == Old(state(t)))
    Ensures(Result() == mac_of(state(t), i) and 0 <= Result() and Result() < 281474976710656)
    Unfold(table(t))
    Assert(records_match(t))
    v = t[flow_at(t, i) + F_MAC]
    Assert(v == flow_word(t, i, F_MAC))
    Fold(table(t))
    return v


def flow_last_seen(t: List[int], i: int) -> int:
    """For operators (vernat flows): when live flow i was last used."""
    Requires(table(t) and live(state(t), i))
    Ensures(table(t) and state(t) == Old(state(t)))
    Ensures(Result() == last_seen_of(state(t), i) and 0 <= Result())
    Unfold(table(t))
    Assert(records_match(t))
    v = t[flow_at(t, i) + F_LAST_SEEN]
    Assert(v == flow_word(t, i, F_LAST_SEEN))
    Fold(table(t))
    return v


def flow_count(t: List[int]) -> int:
    """For operators: how many flows are live."""
    Requires(table(t))
    Ensures(table(t) and state(t) == Old(state(t)))
    Ensures(Result() == live_count(state(t)))
    Unfold(table(t))
    Assert(records_match(t))
    n = t[H_COUNT]
    Fold(table(t))
    return n


def flow_prefetch_key(t: List[int], k1: int, k2: int) -> None:
    """Hint: a lookup of (k1, k2) is coming. Changes nothing."""
    Requires(table(t))
    Ensures(table(t) and state(t) == Old(state(t)))
    Unfold(table(t))
    map_prefetch(t, k1, k2)
    Fold(table(t))


def flow_prefetch_index(t: List[int], i: int) -> None:
    """Hint: index i's record is coming. Changes nothing; any i is fine."""
    Requires(table(t))
    Ensures(table(t) and state(t) == Old(state(t)))
    Unfold(table(t))
    if i >= 0 and i < t[H_CAPACITY]:
        cache_hint(t, flow_at(t, i))
    Fold(table(t))
