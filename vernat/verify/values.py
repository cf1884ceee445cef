"""Symbolic values the executor works with.

Integers are Python ints when concrete and 64-bit z3 bit-vectors when
symbolic (numba's int64); booleans are Python bools or z3 Bools. Arrays are
never z3 values themselves: a frame buffer is a window of symbolic bytes at
the frame's (symbolic) offset plus a symbolic length, a small int64 array
(configuration, clock) a Python list of bit-vectors, and a flow table an
opaque reference that only the state-library models may use. Everything
stays in the quantifier-free theory of bit-vectors, which z3 bit-blasts
well (z3's array theory, tried first, was ~5x slower here).
"""

import z3

BITS = 64
INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


def is_sym(v):
    return isinstance(v, z3.ExprRef)


def bv(v):
    """An int, bool or bit-vector as a 64-bit bit-vector."""
    if isinstance(v, bool):
        return z3.BitVecVal(int(v), BITS)
    if isinstance(v, int):
        return z3.BitVecVal(v, BITS)
    if z3.is_bool(v):
        return z3.If(v, z3.BitVecVal(1, BITS), z3.BitVecVal(0, BITS))
    return v


def as_bool(v):
    """Python truthiness of an int/bool/bit-vector, as a z3 Bool or bool."""
    if isinstance(v, (bool, int)):
        return bool(v)
    if z3.is_bool(v):
        return v
    return v != 0


def simplify(v):
    if is_sym(v):
        s = z3.simplify(v)
        if z3.is_bv_value(s):
            return s.as_signed_long()
        if z3.is_true(s):
            return True
        if z3.is_false(s):
            return False
        return s
    return v


WINDOW = 96     # bytes modelled from a frame's offset on: the NAT touches at
                # most 14 + 60 + 18 of them; touching more is reported, not skipped


class SymBuffer:
    """A uint8 array of symbolic length whose bytes at base .. base+WINDOW-1
    (base = the frame's offset) are symbolic 8-bit values. Indexing is
    proven in bounds of the real length; an index outside the window is a
    verifier limit and reported as such."""

    def __init__(self, name, base, length=None):
        self.name = name
        self.base = base
        self.length = length if length is not None else z3.BitVec(name + "_len", BITS)
        self.items = [z3.BitVec(f"{name}[{k}]", 8) for k in range(WINDOW)]
        self.original = list(self.items)


class SymVector:
    """An int64 array of known length whose elements may be symbolic."""

    def __init__(self, name, items):
        self.name = name
        self.items = list(items)


class TableRef:
    """A flow table: opaque to the per-packet code, used only through models."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"<table {self.name}>"
