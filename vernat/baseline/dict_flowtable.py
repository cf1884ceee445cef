"""The unverified baseline: the flow-table API on a numba typed dict.

Written the way one would without a proof to carry: a hash map from the
library (numba's typed Dict) keyed by (key1, key2), a stack of free
indices, and lazy expiry (a stale flow counts as absent wherever it is
looked at; a full table sweeps for stale flows before refusing). Verdicts
match the verified library's; only which free index a new flow gets may
differ, which the semantics leave open.

The same per-packet source runs on top of it (vernat.build.load(state=
"vernat.baseline.dict_flowtable")), so comparing the two measures what the
proven state library costs.

A table is the tuple (dict, array): array = [capacity, now, timeout,
free_top, live, free stack..., then 5 words per flow].
"""

import numba
import numpy as np
from numba import types
from numba.typed import Dict

CAP, NOW, TIMEOUT, FREE_TOP, LIVE, HEAD = 0, 1, 2, 3, 4, 5
K1, K2, MAC, SEEN, USE = 0, 1, 2, 3, 4
KEY_TYPE = types.UniTuple(types.int64, 2)


def new_dict_table(capacity):
    arr = np.zeros(HEAD + capacity + 5 * capacity, dtype=np.int64)
    arr[CAP] = capacity
    arr[FREE_TOP] = capacity
    arr[HEAD:HEAD + capacity] = np.arange(capacity - 1, -1, -1)   # pop 0 first
    return (Dict.empty(key_type=KEY_TYPE, value_type=types.int64), arr)


@numba.njit(inline="always")
def _rec(a, i):
    return HEAD + a[CAP] + 5 * i


@numba.njit
def _release(d, a, i):
    r = _rec(a, i)
    del d[(a[r + K1], a[r + K2])]
    a[r + USE] = 0
    a[HEAD + a[FREE_TOP]] = i
    a[FREE_TOP] += 1
    a[LIVE] -= 1


@numba.njit
def _stale(a, i):
    return a[NOW] - a[_rec(a, i) + SEEN] >= a[TIMEOUT]


@numba.njit
def flow_expire(t, now, timeout):
    a = t[1]
    a[NOW] = now
    a[TIMEOUT] = timeout
    return 0


@numba.njit
def flow_lookup(t, k1, k2):
    d, a = t
    i = d.get((k1, k2), -1)
    if i >= 0 and _stale(a, i):
        _release(d, a, i)
        return -1
    return i


@numba.njit
def flow_allocate(t, k1, k2, mac, now):
    d, a = t
    if a[FREE_TOP] == 0:
        for i in range(a[CAP]):
            if a[_rec(a, i) + USE] == 1 and _stale(a, i):
                _release(d, a, i)
        if a[FREE_TOP] == 0:
            return -1
    a[FREE_TOP] -= 1
    i = a[HEAD + a[FREE_TOP]]
    r = _rec(a, i)
    a[r + K1] = k1
    a[r + K2] = k2
    a[r + MAC] = mac
    a[r + SEEN] = now
    a[r + USE] = 1
    a[LIVE] += 1
    d[(k1, k2)] = i
    return i


@numba.njit
def flow_refresh(t, i, now):
    a = t[1]
    a[_rec(a, i) + SEEN] = now


@numba.njit
def flow_is_allocated(t, i):
    d, a = t
    if i < 0 or i >= a[CAP] or a[_rec(a, i) + USE] == 0:
        return False
    if _stale(a, i):
        _release(d, a, i)
        return False
    return True


@numba.njit
def flow_key1(t, i):
    a = t[1]
    return a[_rec(a, i) + K1]


@numba.njit
def flow_key2(t, i):
    a = t[1]
    return a[_rec(a, i) + K2]


@numba.njit
def flow_mac(t, i):
    a = t[1]
    return a[_rec(a, i) + MAC]


@numba.njit
def flow_count(t):
    return t[1][LIVE]


@numba.njit
def flow_prefetch_key(t, k1, k2):
    """No hint: a typed dict's buckets are not ours to prefetch."""
    return


@numba.njit
def flow_prefetch_index(t, i):
    a = t[1]
    if i >= 0 and i < a[CAP]:
        a[_rec(a, i) + SEEN] + 0      # touch the record early, like the verified library
