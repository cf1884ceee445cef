"""The abstract model of a flow table: the vocabulary of the state library's
contracts (vernat/state/flowtable.py).

A flow table *is*, abstractly, a value A of this model; `state(t)` is the
value the int64 array t represents. The contracts of flowtable.py are
written with these names only, in Nagini's syntax (Requires / Ensures /
Result / Old), and have three readers:

- the numba and CPython builds, which strip them (vernat/build.py,
  strip_contracts): the code that runs is the code minus its contracts;
- `vernat verify`'s lazy validation (vernat/verify/contracts.py), which
  reads them from the source and checks every symbolic trace against them,
  interpreting each name below as an uninterpreted function of the abstract
  state (so it relies on nothing but what the contracts say);
- `vernat prove` (issue 5), which proves the array code against them with
  Nagini, where each name gets a definition over the arrays.

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

Nothing here runs: these stubs exist so the names can be imported and
documented. Calling one is a bug.
"""


def _ghost(*args):
    raise RuntimeError("a ghost function of the abstract model was called at run time")


table = state = capacity = full = find = live = key1_of = key2_of = mac_of = next_free = _ghost
expired = touched = added = _ghost

QUERIES = ("capacity", "full", "find", "live", "key1_of", "key2_of", "mac_of", "next_free")
TRANSITIONS = ("expired", "touched", "added")
