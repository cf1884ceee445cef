"""The abstract flow table that the specification runs on under CPython.

This module is NOT in the verified subset: it is ordinary Python, kept small
so that it is obviously right. It is what docs/semantics.md, "State", says a
flow table is, and nothing more:

- a table has a capacity N; a flow has an index i, 0 <= i < N (it owns
  external port S + i), a key (inside address, inside port, remote address,
  remote port), the inside host's MAC and its last-seen time;
- a new flow takes the free index that was freed longest ago, and at first
  the free indices are 0, 1, 2, ... in that order (a FIFO of free indices);
- expiry removes every flow with now - last_seen >= timeout.

The specification (rfc3022.py) uses the table only through the functions
below, never through attributes, so a symbolic executor can replace each call
with a model.

One choice the rules leave open: when several flows expire in the same step,
in which order are their indices freed? We free the least recently used
first (oldest last_seen; for equal last_seen, the one refreshed or created
earlier), which is the order in which they went idle.
"""

from collections import deque


class _Flow:
    __slots__ = ("inside_ip", "inside_port", "remote_ip", "remote_port", "mac",
                 "last_seen", "order")

    def __init__(self, inside_ip, inside_port, remote_ip, remote_port, mac, last_seen, order):
        self.inside_ip = inside_ip
        self.inside_port = inside_port
        self.remote_ip = remote_ip
        self.remote_port = remote_port
        self.mac = mac
        self.last_seen = last_seen
        self.order = order          # when it was last created or refreshed (a counter)


class _Table:
    def __init__(self, capacity):
        self.capacity = capacity
        self.flows = {}                         # index -> _Flow
        self.free = deque(range(capacity))      # free indices, freed longest ago first
        self.events = 0                         # counter for _Flow.order

    def __repr__(self):
        live = ", ".join(f"{i}: {_describe(f)}" for i, f in sorted(self.flows.items()))
        return f"<table capacity={self.capacity} flows={{{live}}} free={list(self.free)}>"


def _describe(f):
    return (f"{_ip(f.inside_ip)}:{f.inside_port}->{_ip(f.remote_ip)}:{f.remote_port} "
            f"mac={f.mac:012x} last_seen={f.last_seen}")


def _ip(v):
    return ".".join(str((v >> s) & 0xFF) for s in (24, 16, 8, 0))


def new_table(capacity):
    """An empty table with room for `capacity` flows (indices 0..capacity-1)."""
    assert capacity >= 1
    return _Table(int(capacity))


def st_expire(t, now, timeout):
    """Remove every flow with now - last_seen >= timeout; their indices go to
    the back of the free FIFO, least recently used first."""
    now, timeout = int(now), int(timeout)
    expired = [i for i, f in t.flows.items() if now - f.last_seen >= timeout]
    expired.sort(key=lambda i: (t.flows[i].last_seen, t.flows[i].order))
    for i in expired:
        del t.flows[i]
        t.free.append(i)


def st_find(t, inside_ip, inside_port, remote_ip, remote_port):
    """Index of the live flow with this key, or -1."""
    key = (int(inside_ip), int(inside_port), int(remote_ip), int(remote_port))
    for i, f in t.flows.items():
        if (f.inside_ip, f.inside_port, f.remote_ip, f.remote_port) == key:
            return i
    return -1


def st_full(t):
    """True when the table holds `capacity` flows."""
    return len(t.flows) == t.capacity


def st_count(t):
    """Number of live flows."""
    return len(t.flows)


def st_add(t, inside_ip, inside_port, remote_ip, remote_port, mac, now):
    """Store a new flow (the table must not be full and the key must not be
    present) at the free index freed longest ago; returns that index."""
    assert not st_full(t)
    assert st_find(t, inside_ip, inside_port, remote_ip, remote_port) < 0
    i = t.free.popleft()
    t.events += 1
    t.flows[i] = _Flow(int(inside_ip), int(inside_port), int(remote_ip), int(remote_port),
                       int(mac), int(now), t.events)
    return i


def st_touch(t, i, now):
    """last_seen := now for the live flow i."""
    f = t.flows[int(i)]
    t.events += 1
    f.last_seen = int(now)
    f.order = t.events


def st_live(t, i):
    """True when index i holds a live flow (False for any i outside 0..capacity-1)."""
    return int(i) in t.flows


# Readers for a live flow's fields.
def st_inside_ip(t, i):
    return t.flows[int(i)].inside_ip


def st_inside_port(t, i):
    return t.flows[int(i)].inside_port


def st_remote_ip(t, i):
    return t.flows[int(i)].remote_ip


def st_remote_port(t, i):
    return t.flows[int(i)].remote_port


def st_mac(t, i):
    return t.flows[int(i)].mac


def st_last_seen(t, i):
    return t.flows[int(i)].last_seen
