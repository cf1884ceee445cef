"""Index allocator that keeps allocated indices in least-recently-used order.

Allocated indices form a doubly linked list (L_PREV/L_NEXT) from the oldest
(H_OLDEST) to the newest (H_NEWEST); free indices a FIFO queue through L_NEXT
(H_FREE_HEAD .. H_FREE_TAIL), so a freed external port is the last to be
reused. Every time stamp written is the current `now`, and `now` never goes
backwards, so list order is also last-seen order: expiry only ever looks at
the oldest entry. Allocate, refresh and free are O(1). An index is allocated
exactly when its F_LAST_SEEN is >= 0 (FREE = -1 otherwise).
"""

from vernat.state.layout import (
    H_CAPACITY, H_COUNT, H_OLDEST, H_NEWEST, H_FREE_HEAD, H_FREE_TAIL,
    F_LAST_SEEN, FREE, L_PREV, L_NEXT, flow_at, link_at,
)


def lru_append(t, i):
    """Link index i (unlinked) as the newest."""
    r = link_at(t, i)
    last = t[H_NEWEST]
    t[r + L_PREV] = last
    t[r + L_NEXT] = -1
    if last >= 0:
        t[link_at(t, last) + L_NEXT] = i
    else:
        t[H_OLDEST] = i
    t[H_NEWEST] = i


def lru_unlink(t, i):
    """Unlink allocated index i from the list."""
    r = link_at(t, i)
    prev = t[r + L_PREV]
    nxt = t[r + L_NEXT]
    if prev >= 0:
        t[link_at(t, prev) + L_NEXT] = nxt
    else:
        t[H_OLDEST] = nxt
    if nxt >= 0:
        t[link_at(t, nxt) + L_PREV] = prev
    else:
        t[H_NEWEST] = prev


def index_allocate(t, now):
    """Take the index freed longest ago, mark it used at `now` and newest;
    -1 when every index is allocated."""
    i = t[H_FREE_HEAD]
    if i < 0:
        return -1
    nxt = t[link_at(t, i) + L_NEXT]
    t[H_FREE_HEAD] = nxt
    if nxt < 0:
        t[H_FREE_TAIL] = -1
    t[flow_at(t, i) + F_LAST_SEEN] = now
    lru_append(t, i)
    t[H_COUNT] = t[H_COUNT] + 1
    return i


def index_refresh(t, i, now):
    """Mark allocated index i used at `now` (now >= every stored time)."""
    t[flow_at(t, i) + F_LAST_SEEN] = now
    if t[H_NEWEST] != i:
        lru_unlink(t, i)
        lru_append(t, i)


def index_free(t, i):
    """Return allocated index i to the back of the free queue."""
    lru_unlink(t, i)
    t[flow_at(t, i) + F_LAST_SEEN] = FREE
    r = link_at(t, i)
    t[r + L_NEXT] = -1
    t[r + L_PREV] = -1
    tail = t[H_FREE_TAIL]
    if tail >= 0:
        t[link_at(t, tail) + L_NEXT] = i
    else:
        t[H_FREE_HEAD] = i
    t[H_FREE_TAIL] = i
    t[H_COUNT] = t[H_COUNT] - 1


def index_oldest(t):
    """Least recently used allocated index, or -1 when none is allocated."""
    return t[H_OLDEST]


def index_is_allocated(t, i):
    """True when 0 <= i < capacity and i is allocated (total: any i is fine)."""
    if i < 0 or i >= t[H_CAPACITY]:
        return False
    return t[flow_at(t, i) + F_LAST_SEEN] >= 0
