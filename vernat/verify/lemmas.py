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


def header_buffer(ex):
    """A new path on ex over a frame of symbolic bytes long enough for the
    longest IPv4 header at offset 14 (for lemmas about header sums)."""
    from vernat.verify.values import SymBuffer
    ex.path = Path([])
    buf = SymBuffer("header", 0)
    ex.assume(buf.length >= 14 + 60)
    ex.arrays = [buf]
    return buf


def prove_substitution_lemmas(ex):
    """[(name, proven, seconds)]: the spec's checksum helpers equal the NAT's,
    so spec_models may answer one with the other. ex: an executor over the
    spec's program with the NAT's under spec_models.IMPL, and no models.

    ones_sum = ipv4_header_sum is proven in two steps, because z3 does not
    finish it in one (a 30-word adder twice): (1) with both programs' fold16
    left uninterpreted, the two header sums are the same term, for every
    header length; (2) the two fold16 agree on every sum they can get
    (0 <= x < 2**32; a header sums to less than 2**21)."""
    from vernat.verify.spec_models import IMPL
    results = []
    start = time.perf_counter()
    ex.path = Path([])
    ex.context = {}
    hc, m, m2, x = (z3.BitVec(n, 64) for n in ("HC", "m", "m2", "x"))
    for v in (hc, m, m2):
        ex.assume(z3.And(v >= 0, v <= 0xFFFF))
        ex.bounds.declare(v, 0, 0xFFFF)
    spec = ex.call("update16", [hc, m, m2], None)
    nat = ex.call(IMPL + "csum_replace16", [hc, m, m2], None)
    results.append(("spec update16 = NAT csum_replace16 (all 16-bit inputs)",
                    _proven(ex.path.constraints, spec == nat), time.perf_counter() - start))
    start = time.perf_counter()
    ex.path = Path([])
    ex.assume(z3.And(x >= 0, x < (1 << 32)))
    ex.bounds.declare(x, 0, (1 << 32) - 1)
    folds = _proven(ex.path.constraints,
                    ex.call("fold16", [x], None) == ex.call(IMPL + "fold16", [x], None))
    fold = z3.Function("fold16", z3.BitVecSort(64), z3.BitVecSort(64))
    ex.models = {"fold16": lambda ex_, args, node: fold(args[0])}    # both programs' fold16
    sums = True
    for nbytes in range(20, 61, 4):
        buf = header_buffer(ex)
        spec = z3.simplify(ex.call("ones_sum", [buf, 14, nbytes], None))
        nat = z3.simplify(ex.call(IMPL + "ipv4_header_sum", [buf, 14, nbytes // 2], None))
        total = nat.arg(0)
        words = _proven([], z3.ULT(total, 1 << 21))
        sums = sums and nat.decl() == fold and spec.eq(nat) and words
    ex.models = {}
    results.append(("spec ones_sum = NAT ipv4_header_sum (every IHL, all header bytes)",
                    folds and sums, time.perf_counter() - start))
    return results
