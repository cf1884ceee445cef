"""Cheap, sound bounds for bit-vector terms: most of the executor's
obligations (a masked value fits its byte, a sum of 16-bit words does not
overflow int64) follow from the shape of the term alone, and proving them
this way saves a solver call each. When the bounds do not settle an
obligation, the solver still decides it; nothing is assumed from here.

Bounds are signed for 64-bit terms (numba's int64) and unsigned for
narrower ones (bytes, extracts).
"""

import z3

from vernat.verify.values import INT64_MAX, INT64_MIN

FULL = (INT64_MIN, INT64_MAX)


class Bounds:
    def __init__(self):
        self.known = {}          # variable name -> (lo, hi), from preconditions and models
        self._memo = {}

    def declare(self, var, lo, hi):
        self.known[var.decl().name()] = (lo, hi)

    def of(self, e):
        if isinstance(e, bool):
            return (int(e), int(e))
        if isinstance(e, int):
            return (e, e)
        key = e.get_id()
        hit = self._memo.get(key)
        if hit is None:
            # keep e alive with its bounds: z3 reuses the ids of freed terms
            hit = (e, self._compute(e))
            self._memo[key] = hit
        return hit[1]

    def _full(self, e):
        w = e.size()
        return FULL if w == 64 else (0, (1 << w) - 1)

    def _fit(self, e, lo, hi):
        full = self._full(e)
        if lo < full[0] or hi > full[1]:
            return full
        return (lo, hi)

    def _compute(self, e):
        if not z3.is_bv(e):
            return FULL
        k = e.decl().kind()
        if z3.is_bv_value(e):
            v = e.as_signed_long() if e.size() == 64 else e.as_long()
            return (v, v)
        if k == z3.Z3_OP_UNINTERPRETED:
            return self.known.get(e.decl().name(), self._full(e))
        args = [e.arg(i) for i in range(e.num_args())]
        if k == z3.Z3_OP_ZERO_EXT:
            inner = args[0]
            lo, hi = self.of(inner)
            return (lo, hi) if lo >= 0 else (0, (1 << inner.size()) - 1)
        if k == z3.Z3_OP_EXTRACT:
            hi_bit, lo_bit = e.params()
            return (0, (1 << (hi_bit - lo_bit + 1)) - 1)
        if k == z3.Z3_OP_ITE:
            (a, b), (c, d) = self.of(args[1]), self.of(args[2])
            return (min(a, c), max(b, d))
        bounds = [self.of(a) for a in args]
        if k == z3.Z3_OP_BADD:
            return self._fit(e, sum(b[0] for b in bounds), sum(b[1] for b in bounds))
        if k == z3.Z3_OP_BSUB and len(bounds) == 2:
            (a, b), (c, d) = bounds
            return self._fit(e, a - d, b - c)
        if k == z3.Z3_OP_BMUL and len(bounds) == 2:
            (a, b), (c, d) = bounds
            corners = [a * c, a * d, b * c, b * d]
            return self._fit(e, min(corners), max(corners))
        if k == z3.Z3_OP_BAND:
            nonneg = [b[1] for b in bounds if b[0] >= 0]
            return (0, min(nonneg)) if nonneg else self._full(e)
        if k in (z3.Z3_OP_BOR, z3.Z3_OP_BXOR):
            if all(b[0] >= 0 for b in bounds):
                top = max(b[1] for b in bounds)
                return (0, (1 << top.bit_length()) - 1)
            return self._full(e)
        if k in (z3.Z3_OP_BLSHR, z3.Z3_OP_BASHR) and z3.is_bv_value(args[1]):
            s = args[1].as_long()
            (a, b) = bounds[0]
            if s >= e.size():
                return self._full(e)
            if k == z3.Z3_OP_BASHR or a >= 0:
                return (a >> s, b >> s)
            return (0, (1 << (e.size() - s)) - 1)
        if k == z3.Z3_OP_BSHL and z3.is_bv_value(args[1]):
            s = args[1].as_long()
            (a, b) = bounds[0]
            return self._fit(e, a << s, b << s) if s < e.size() else self._full(e)
        if k in (z3.Z3_OP_BUDIV, z3.Z3_OP_BUDIV_I) and z3.is_bv_value(args[1]):
            c = args[1].as_long()
            (a, b) = bounds[0]
            return (a // c, b // c) if a >= 0 and c > 0 else self._full(e)
        if k in (z3.Z3_OP_BUREM, z3.Z3_OP_BUREM_I) and z3.is_bv_value(args[1]):
            c = args[1].as_long()
            return (0, c - 1) if bounds[0][0] >= 0 and c > 0 else self._full(e)
        return self._full(e)

    def within(self, e, lo, hi):
        a, b = self.of(e)
        return lo <= a and b <= hi
