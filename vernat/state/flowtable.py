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
    flow_expire       remove every flow with now - last_seen >= timeout
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
"""

from typing import List

from nagini_contracts.contracts import (
    Requires, Ensures, Result, Old, Implies, Forall, Forall2, Assert, Fold, Unfold, Invariant, Previous,
    Acc, list_pred,
)
from vernat.state.model import (
    table, state, capacity, full, find, live, key1_of, key2_of, mac_of, next_free,
    expired, expired_fuel, expired_step, last_seen_of, freed, touched, added, abstract, holds, records_match,
    coupled, coupled_but, coupled_back,
)
from vernat.state.ghost import (
    word, flow_word, slot_word, cap, allocator_ok, map_ok, slot_free,
)

from vernat.state.layout import (
    H_CAPACITY, H_MASK, H_COUNT, H_OLDEST, H_NEWEST, H_RING_HEAD, H_SALT,
    HEADER_WORDS, SLOT_FLOW, SLOT_HOME, SLOT_KEY1, SLOT_KEY2, SLOT_EMPTY, F_KEY1, F_KEY2, F_MAC, F_LAST_SEEN, FREE,
    L_PREV, L_NEXT, slot_at, flow_at, link_at, ring_at, pos_at, cache_hint,
)
from vernat.state.flowmap import key_hash, map_find, map_insert, map_erase, map_prefetch
from vernat.state.allocator import (
    index_allocate, index_refresh, index_free, index_oldest, index_is_allocated,
)


def table_init(t: List[int], capacity: int, nslots: int, salt: int) -> None:
    """Make t (int64, layout.table_words(capacity) long) an empty table:
    no flow stored, every index free, indices queued 0, 1, 2, ... so the
    first flows get the lowest ports. nslots must be layout.slots_for(capacity)."""
    for w in range(HEADER_WORDS):
        t[w] = 0
    t[H_CAPACITY] = capacity
    t[H_MASK] = nslots - 1
    t[H_COUNT] = 0
    t[H_OLDEST] = -1
    t[H_NEWEST] = -1
    t[H_SALT] = salt & 0xFFFFFFFF
    for s in range(nslots):
        at = slot_at(t, s)
        t[at + SLOT_FLOW] = SLOT_EMPTY
        t[at + SLOT_HOME] = 0
        t[at + SLOT_KEY1] = 0
        t[at + SLOT_KEY2] = 0
    for i in range(capacity):
        r = flow_at(t, i)
        t[r + F_KEY1] = 0
        t[r + F_KEY2] = 0
        t[r + F_MAC] = 0
        t[r + F_LAST_SEEN] = FREE
        r = link_at(t, i)
        t[r + L_PREV] = -1
        t[r + L_NEXT] = -1
        t[ring_at(t, i)] = i
        t[pos_at(t, i)] = i
    t[H_RING_HEAD] = 0


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
    Requires(0 <= mac and mac < 281474976710656 and now >= 0)
    Ensures(table(t) and capacity(state(t)) == Old(capacity(state(t))))
    Ensures(Implies(Old(full(state(t))), Result() == -1 and state(t) == Old(state(t))))
    Ensures(Implies(not Old(full(state(t))),
                    Result() == Old(next_free(state(t))) and
                    0 <= Result() and Result() < capacity(state(t)) and
                    state(t) == added(Old(state(t)), k1, k2, mac, now)))
    i = index_allocate(t, now)
    if i < 0:
        return -1
    r = flow_at(t, i)
    t[r + F_KEY1] = k1
    t[r + F_KEY2] = k2
    t[r + F_MAC] = mac
    map_insert(t, i)
    return i


def flow_refresh(t: List[int], i: int, now: int) -> None:
    Requires(table(t) and live(state(t), i) and now >= 0 and now <= 4611686018427387904)
    Ensures(table(t) and state(t) == touched(Old(state(t)), i, now))
    Ensures(capacity(state(t)) == Old(capacity(state(t))) and live(state(t), i))
    Unfold(table(t))
    Assert(records_match(t))
    index_refresh(t, i, now)
    Assert(records_match(t))
    Fold(table(t))


def flow_expire(t: List[int], now: int, timeout: int) -> int:
    """Remove every flow with now - last_seen >= timeout, oldest first.
    Amortized O(1): each flow is removed once, and the loop stops at the
    first flow that is still fresh."""
    Requires(table(t) and now >= 0 and timeout >= 1)
    Ensures(table(t) and state(t) == expired(Old(state(t)), now, timeout))
    Ensures(capacity(state(t)) == Old(capacity(state(t))) and Result() >= 0)
    removed = 0
    Unfold(table(t))
    n = t[H_CAPACITY]
    Assert(records_match(t))
    Fold(table(t))
    # the fuel invariant on entry: expired is expired_fuel with the capacity
    Assert(state(t) == Old(state(t)) and capacity(state(t)) == n)
    Assert(expired(Old(state(t)), now, timeout) == expired_fuel(state(t), now, timeout, n))
    # the loop's bound is the definition's fuel (model.expired): both stop
    # after at most capacity removals
    for step in range(n):
        Invariant(table(t) and capacity(state(t)) == n)
        Invariant(removed == len(Previous(step)) and removed <= n)
        Invariant(expired_fuel(state(t), now, timeout, n - removed) ==
                  expired(Old(state(t)), now, timeout))
        i = _expired_oldest(t, now, timeout)
        if i < 0:
            break
        # one step of the definition, taken before the removal (in this
        # context Z3 does not take it alone)
        Assert(removed < n and state(t).oldest == i and live(state(t), i))
        Assert(expired_step(state(t), now, timeout, n - removed))
        # `i + 0`, not `i`: the model frees `A.oldest + 0`, and for Nagini two
        # ints equal in value are the same reference only as results of
        # arithmetic (a list element may be a bool); numba folds the addition
        _remove(t, i + 0)
        removed += 1
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
    keeps the other module's invariant itself, so the Fold here is cheap.
    (The state equality waits for index_free's own: docs/progress-prove.md.)"""
    Requires(table(t) and live(state(t), i))
    Ensures(table(t) and state(t) == freed(Old(state(t)), i))
    Ensures(capacity(state(t)) == Old(capacity(state(t))))
    Unfold(table(t))
    Assert(records_match(t))
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
    Assert(slot_free(t))
    map_erase(t, i)
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
    index_free(t, i)
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
    return t[flow_at(t, i) + F_LAST_SEEN]


def flow_count(t: List[int]) -> int:
    return t[H_COUNT]


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
