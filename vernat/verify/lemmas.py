"""Lemmas proven once, at exact width, about verified helpers.

The per-path checksum property needs one's-complement identities that z3's
bit-blasting cannot prove over a whole path's 64-bit terms (adder
equivalence). They are proven here once, on the term the executor derives
from the verified source of the helper itself, so that per-path proofs can
use them as steps (docs/progress.md).

RFC 1624 update: for every 16-bit checksum HC, old word m, new word m' and
every folded sum R >= 1 of the other words (R is never 0 in our headers:
the IPv4 version byte and the pseudo-header's protocol are not zero),
    fold(R + m + HC) == 0xFFFF  <=>  fold(R + m' + csum_replace16(HC, m, m')) == 0xFFFF
i.e. the update keeps a valid checksum valid and an invalid one invalid.
UDP "computed 0 is sent as 0xFFFF": fold(R + 0) and fold(R + 0xFFFF) are
valid together, for R >= 1.
"""

import time

import z3

from vernat.verify.executor import Path


def _fold(x):
    x = (x & 0xFFFF) + z3.LShR(x, 16)
    return (x & 0xFFFF) + z3.LShR(x, 16)


def _proven(constraints, goal):
    s = z3.SolverFor("QF_BV")
    s.add(*constraints)
    s.add(z3.Not(goal))
    return s.check() == z3.unsat


def prove_checksum_lemmas(ex):
    """[(name, proven, seconds)] for the checksum lemmas, on ex's program."""
    start = time.perf_counter()
    ex.path = Path([])
    ex.context = {}
    hc, m, m2, rest = (z3.BitVec(n, 64) for n in ("HC", "m", "m2", "R"))
    for v in (hc, m, m2, rest):
        ex.assume(z3.And(v >= 0, v <= 0xFFFF))
        ex.bounds.declare(v, 0, 0xFFFF)
    ex.assume(rest >= 1)
    updated = ex.call("csum_replace16", [hc, m, m2], None)
    pre = ex.path.constraints
    results = []
    goal = z3.And(updated >= 0, updated <= 0xFFFF)
    results.append(("csum_replace16 returns a 16-bit value", _proven(pre, goal)))
    goal = (_fold(rest + m + hc) == 0xFFFF) == (_fold(rest + m2 + updated) == 0xFFFF)
    results.append(("RFC 1624 update keeps checksum validity (valid stays valid, invalid "
                    "stays invalid)", _proven(pre, goal)))
    goal = (_fold(rest) == 0xFFFF) == (_fold(rest + 0xFFFF) == 0xFFFF)
    results.append(("a checksum of 0 and of 0xFFFF verify alike", _proven(pre, goal)))
    seconds = time.perf_counter() - start
    return [(name, ok, seconds / len(results)) for name, ok in results]
