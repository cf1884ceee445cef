"""Loose models of the state library's API, one per call the NAT makes.

A model does not compute anything: it returns fresh symbolic values under
the weakest assumptions the per-packet code needs (an index is -1 or below
the table's capacity, a stored key fits 48 bits, ...) and records the call,
its arguments, its result and those assumptions in the path's trace. Lazy
validation then checks every trace against the library's contracts and the
spec's state transition; that is what makes the loose models sound for the
paths that actually occur.
"""

import z3

from vernat.nat import constants as C
from vernat.verify.values import TableRef, bv


class Event:
    def __init__(self, call, table, args, result, assumptions):
        self.call, self.table, self.args = call, table, args
        self.result, self.assumptions = result, assumptions

    def __repr__(self):
        return f"{self.call}({self.table.name}, ...) -> {self.result}"


def capacity(ex):
    """N = E - S + 1, from the symbolic configuration of this path."""
    cfg = ex.context["cfg"]
    return bv(cfg.items[C.CFG_PORT_END]) - bv(cfg.items[C.CFG_PORT_START]) + 1


def _table(ex, t, node):
    if not isinstance(t, TableRef):
        ex.refuse(node, "a state-library call on something that is not a flow table")
    return t


def _record(ex, name, t, args, result, assumptions):
    for a in assumptions:
        before = len(ex.path.constraints)
        ex.assume(a)
        ex.path.model_assumed.update(range(before, len(ex.path.constraints)))
    ex.path.trace.append(Event(name, t, args, result, assumptions))
    return result


def index_model(name):
    def model(ex, args, node):
        t = _table(ex, args[0], node)
        i = ex.fresh(f"{name}_{t.name}")
        ex.bounds.declare(i, -1, 65534)
        ok = z3.Or(i == -1, z3.And(i >= 0, i < capacity(ex)))
        return _record(ex, name, t, args[1:], i, [ok])
    return model


def value_model(name, bits):
    def model(ex, args, node):
        t = _table(ex, args[0], node)
        v = ex.fresh(f"{name}_{t.name}")
        ex.bounds.declare(v, 0, (1 << bits) - 1)
        return _record(ex, name, t, args[1:], v, [z3.And(v >= 0, v < (1 << bits))])
    return model


def effect_model(name):
    """A call that changes state (or, for hints, nothing) and returns nothing."""
    def model(ex, args, node):
        t = _table(ex, args[0], node)
        return _record(ex, name, t, args[1:], None, [])
    return model


def expire_model(ex, args, node):
    t = _table(ex, args[0], node)
    n = ex.fresh(f"expired_{t.name}")
    ex.bounds.declare(n, 0, (1 << 63) - 1)
    return _record(ex, "flow_expire", t, args[1:], n, [n >= 0])


def is_allocated_model(ex, args, node):
    t = _table(ex, args[0], node)
    b = ex.fresh(f"allocated_{t.name}", bits=0)
    return _record(ex, "flow_is_allocated", t, args[1:], b, [])


MODELS = {
    "flow_lookup": index_model("flow_lookup"),
    "flow_allocate": index_model("flow_allocate"),
    "flow_refresh": effect_model("flow_refresh"),
    "flow_expire": expire_model,
    "flow_is_allocated": is_allocated_model,
    "flow_key1": value_model("flow_key1", 48),
    "flow_key2": value_model("flow_key2", 48),
    "flow_mac": value_model("flow_mac", 48),
    "flow_prefetch_key": effect_model("flow_prefetch_key"),
    "flow_prefetch_index": effect_model("flow_prefetch_index"),
}
