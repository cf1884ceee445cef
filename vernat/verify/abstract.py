"""The abstract flow table in z3: the vocabulary of vernat/state/model.py as
uninterpreted functions over an uninterpreted sort of table states.

Nothing is assumed about these functions beyond what the state library's
contracts say (vernat/verify/contracts.py adds those, per call, from the
source). The NAT's trace and the spec's run both build their table states
with the same transition functions, so "the code did to the tables what the
spec did" is the equality of two terms, and every read of a flow is the same
query on the same state on both sides.
"""

import z3

TableState = z3.DeclareSort("FlowTableState")
_W = z3.BitVecSort(64)
_B = z3.BoolSort()

FUNCTIONS = {
    # queries
    "capacity": z3.Function("capacity", TableState, _W),
    "full": z3.Function("full", TableState, _B),
    "find": z3.Function("find", TableState, _W, _W, _W),
    "live": z3.Function("live", TableState, _W, _B),
    "key1_of": z3.Function("key1_of", TableState, _W, _W),
    "key2_of": z3.Function("key2_of", TableState, _W, _W),
    "mac_of": z3.Function("mac_of", TableState, _W, _W),
    "next_free": z3.Function("next_free", TableState, _W),
    # the least-recently-used order's terms (model.lru_ok_a): the newest
    # flow's time, room for one more stamp, no stale flow left
    "newest_time": z3.Function("newest_time", TableState, _W),
    "stamp_room": z3.Function("stamp_room", TableState, _B),
    "all_fresh": z3.Function("all_fresh", TableState, _W, _W, _B),
    # transitions
    "expired": z3.Function("expired", TableState, _W, _W, TableState),
    "touched": z3.Function("touched", TableState, _W, _W, TableState),
    "added": z3.Function("added", TableState, _W, _W, _W, _W, TableState),
}


def initial(name):
    """The state of table `name` before the frame."""
    return z3.Const(f"{name}@0", TableState)
