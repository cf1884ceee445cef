"""Checksum fields, proven per path from lemmas proven once.

z3 cannot compare a checksum updated incrementally with one computed from
scratch over a whole path (an adder-equivalence problem that does not
finish). So the per-path proof is an argument over the path's own terms,
each step a small query, and the arithmetic steps are lemmas proven once at
exact width (checksum_lemmas, below), on the terms the executor derives from
the verified helpers themselves:

  LF  fold16(x), 0 <= x < 2**21:  fold16(x) <= 0xFFFF, fold16(x) == 0 iff
      x == 0, and fold16(x) = x (mod 0xFFFF)
  LR  csum_replace16(c, m, m'), 16-bit arguments:  the result r <= 0xFFFF,
      r + m' = c + m (mod 0xFFFF), and r == 0xFFFF only if m' == 0 and
      c == 0xFFFF
  LH  ipv4_header_sum(buf, ip, n) is fold16 of the plain sum of the n words

Per forwarded path and header length (words w_j in, w'_j out, j < 2*IHL,
the checksum word j = 5):
  1. the NAT's own check passed: ipv4_header_sum over the input words is
     0xFFFF, so by LF  S = sum w_j = 0 (mod 0xFFFF);
  2. the output checksum is the end of a chain of csum_replace16 calls
     starting at the input checksum, each step (m, m') = (w_j, w'_j) for its
     own word j != 5, and every other word j != 5 is unchanged;
  3. by LR along the chain,  w'_5 = w_5 + sum(w_j - w'_j) (mod 0xFFFF) over
     the stepped words, so S' = sum w'_j = S = 0 (mod 0xFFFF);
  4. w'_0 != 0 (version/IHL byte), so S' != 0, and by LF fold16(S') ==
     0xFFFF: the output header checksum is valid;
  5. the last step's m' != 0 (the TTL/protocol word), so by LR w'_5 != 0xFFFF;
  6. the spec's field (rule 6) is ~fold16 over the same words with the field
     zeroed: by LF it is = -(S' - w'_5) = w'_5 (mod 0xFFFF) and, as that sum
     is not 0, it is not 0xFFFF either: two 16-bit values congruent modulo
     0xFFFF and both below 0xFFFF are equal. The NAT's field is the spec's.
Steps 3, 4 and 6 are the reasoning of this module (trusted: docs/trust.md);
everything they stand on is a query or a lemma.

The TCP/UDP checksum needs none of this: the spec updates it incrementally
too, so those bytes are compared with the spec's directly (equivalence.py),
UDP's 0 included; "valid exactly when the input was" is the LR lemma applied
to the spec's three updates.
"""

import z3

from vernat.verify.executor import Path, Violation, is_definition
from vernat.verify.values import bv

PROP = "checksums"


def word(items, at):
    return z3.ZeroExt(48, z3.Concat(items[at], items[at + 1]))


class _Prover:
    """Facts on the path (the spec run's condition, which includes the NAT's)."""

    def __init__(self, ex, model):
        self.ex, self.model = ex, model

    def holds(self, fact):
        fact = z3.simplify(fact)
        if z3.is_true(fact):
            return True
        ex = self.ex
        if ex._sliced_unsat([z3.Not(fact)]):
            return True
        # the chain's facts rarely need the update functions' adder trees:
        # ask without their definitions first (fewer assumptions)
        saved = ex.path.constraints
        ex.path.constraints = [x for x in saved if not is_definition(x)]
        try:
            if ex._check(z3.Not(fact)) is None:
                return True
        finally:
            ex.path.constraints = saved
        return ex._check(z3.Not(fact)) is None

    def likely(self, fact):
        """Proven, but asked only when the path's model does not refute it:
        a search for a candidate costs no full query per wrong one."""
        if self.model is not None and not z3.is_true(self.model.eval(fact,
                                                                     model_completion=True)):
            return False
        return self.holds(fact)

    def require(self, fact, message):
        if not self.holds(fact):
            self.ex.require(fact, PROP, None, message)
            raise Violation(PROP, message, "checksum argument")


def check_ip_checksum(ex, impl_path):
    """Steps 1-6 above on one forwarded NAT path (ex: the spec run at its end).
    Returns the number of RFC 1624 steps in the IPv4 checksum chain."""
    c = impl_path.context
    original, final = c["buf"].original, impl_path.final_items
    spec_out = ex.context["out"].items
    sums = [x for x in ex.context.get("sums", []) if x[0] is ex.context["out"]]
    header = [x for x in impl_path.calls if x[0] == "ipv4_header_sum"]
    steps = [x for x in impl_path.calls if x[0] == "csum_replace16"]
    if not header or not sums:
        raise Violation(PROP, "a forwarded path without a header check or a spec checksum",
                        "checksum argument")
    _, (_, ip, n), h_in, _ = header[0]
    _, snapshot, start, nbytes, spec_sum = sums[-1]
    pv = _Prover(ex, ex.guide)
    words = range(30)                                 # IHL <= 15
    w_in = [word(original, 14 + 2 * j) for j in words]
    w_out = [word(final, 14 + 2 * j) for j in words]
    # 1.
    n = bv(n)
    pv.require(z3.And(h_in == 0xFFFF, ip == c["off"] + 14, n >= 10, n <= 30, z3.URem(n, 2) == 0),
               "the header check did not cover this header")
    # every update's result is a 16-bit word (lemma LR says so of the
    # verified csum_replace16; a broken one shows here, with a frame)
    pv.require(z3.And(*[z3.ULE(result, 0xFFFF) for _, _, result, _ in steps]),
               "an RFC 1624 update of a checksum returned more than 16 bits")
    # 2.
    chain, cur = [], w_in[5]
    for name, args, result, merged in steps:
        if not merged and pv.likely(args[0] == cur):
            chain.append(args)
            cur = result
    if not chain:
        pv.require(z3.BoolVal(False), "the IPv4 checksum is not an RFC 1624 update chain")
    pv.require(w_out[5] == cur, "the IPv4 checksum field is not the end of its update chain")
    used = set()
    for hc, m, m2 in chain:
        j = next((j for j in words if j != 5 and j not in used and
                  pv.likely(z3.And(j < n, m == w_in[j], m2 == w_out[j]))), None)
        if j is None:
            pv.require(z3.BoolVal(False), "an IPv4 checksum update for a word that is not the "
                                          "header word it rewrote")
        used.add(j)
    pv.require(z3.And(*[z3.Implies(j < n, w_out[j] == w_in[j])
                        for j in words if j != 5 and j not in used]),
               "a header word changed without an update of the IPv4 checksum")
    # 4. and 5.
    pv.require(z3.And(*[z3.And(m >= 0, m <= 0xFFFF, m2 >= 0, m2 <= 0xFFFF)
                        for _, m, m2 in chain]),
               "an update of the IPv4 checksum with a word wider than 16 bits")
    pv.require(z3.And(w_out[0] != 0, chain[-1][2] != 0),
               "the output header's first word or the last update's new word may be 0")
    # 6. the spec's field: ~(sum of the output words, field zeroed)
    s_words = [word(snapshot, 14 + 2 * j) for j in words]
    pv.require(z3.And(start == 14, nbytes == 2 * n, s_words[5] == 0,
                      *[z3.Implies(j < n, s_words[j] == w_out[j]) for j in words if j != 5],
                      word(spec_out, 24) == (spec_sum ^ 0xFFFF) & 0xFFFF),
               "the spec's IPv4 checksum is not the complement of the sum of the same words")
    return len(chain)


def _select(items, at):
    value = items[0]
    for k in range(1, len(items)):
        value = z3.If(at == k, items[k], value)
    return value


def _word_at(items, at):
    return z3.ZeroExt(48, z3.Concat(_select(items, at), _select(items, at + 1)))


def check_l4_checksum(ex, impl_path, at):
    """The TCP/UDP checksum updates equal the spec's. Both update the field
    incrementally, three RFC 1624 steps from the input field (or none, for a
    UDP checksum of 0): the steps' words are proven equal pairwise and the
    update functions are equal (lemma), so the chains end equal."""
    c = impl_path.context
    original, final = c["buf"].original, impl_path.final_items
    spec_out = ex.context["out"].items
    pv = _Prover(ex, ex.guide)
    start = _word_at(original, at)
    spec_steps = ex.context.get("updates", [])
    chain, cur = [], start
    for name, args, result, merged in impl_path.calls:
        if name == "csum_replace16" and not merged and pv.likely(args[0] == cur):
            chain.append((args, result))
            cur = result
    if len(chain) != len(spec_steps):
        pv.require(z3.BoolVal(False), f"the TCP/UDP checksum takes {len(chain)} RFC 1624 "
                                      f"steps, the spec {len(spec_steps)}")
    if not chain:
        pv.require(_word_at(final, at) == _word_at(spec_out, at),
                   "the TCP/UDP checksum differs from the spec's")
        return 0
    pv.require(spec_steps[0][0][0] == start, "the spec's TCP/UDP update starts elsewhere")
    pv.require(z3.And(*[b[0][0] == a[1] for a, b in zip(spec_steps, spec_steps[1:])]),
               "the spec's TCP/UDP updates are not one chain")
    pv.require(z3.And(*[z3.And(a[1] == b[1], a[2] == b[2])
                        for (a, _), (b, _) in zip(chain, spec_steps)]),
               "a TCP/UDP checksum update differs from the spec's (word or value)")
    # Both chains start at the same word and take equal words at every step
    # through the same function (the spec's update16 is answered by the
    # NAT's csum_replace16: lemma), so they end on equal values (congruence).
    # The ends are named variables (Executor.named): put the NAT's end for
    # the spec's and prove the fields equal without the chains' definitions
    # (fewer assumptions: still a proof), where the adder trees made the
    # same query take minutes.
    nat_end, spec_end = chain[-1][1], spec_steps[-1][1]
    spec_field = z3.substitute(_word_at(spec_out, at), (spec_end, nat_end))
    goal = _word_at(final, at) == spec_field
    saved = ex.path.constraints
    ex.path.constraints = [x for x in saved if not is_definition(x)]
    try:
        pv.require(goal, "the stored TCP/UDP checksum differs from the spec's (the end of "
                         "the same updates, stored as the spec stores it)")
    finally:
        ex.path.constraints = saved
    return len(chain)


def checksum_lemmas(ex):
    """[(name, proven)]: LF, LR, LH on ex's program (the NAT's)."""
    from vernat.verify.lemmas import header_buffer
    results = []
    ex.path, ex.context = Path([]), {}
    x = z3.BitVec("x", 64)
    ex.assume(z3.And(x >= 0, x < (1 << 21)))
    ex.bounds.declare(x, 0, (1 << 21) - 1)
    f = ex.call("fold16", [x], None)
    lf = z3.And(z3.ULE(f, 0xFFFF), (f == 0) == (x == 0), z3.URem(f, 0xFFFF) == z3.URem(x, 0xFFFF))
    results.append(("LF: fold16 keeps a sum's value mod 0xFFFF, 0 only for 0",
                    _valid(ex.path.constraints, lf)))
    ex.path = Path([])
    cc, m, m2 = (z3.BitVec(name, 64) for name in ("c", "m", "m2"))
    for v in (cc, m, m2):
        ex.assume(z3.And(v >= 0, v <= 0xFFFF))
        ex.bounds.declare(v, 0, 0xFFFF)
    r = ex.call("csum_replace16", [cc, m, m2], None)
    lr = z3.And(z3.ULE(r, 0xFFFF), z3.URem(r + m2, 0xFFFF) == z3.URem(cc + m, 0xFFFF),
                z3.Implies(m2 != 0, r != 0xFFFF), z3.Implies(cc != 0xFFFF, r != 0xFFFF))
    results.append(("LR: csum_replace16 is RFC 1624's update mod 0xFFFF, 0xFFFF only from "
                    "0xFFFF with m' = 0", _valid(ex.path.constraints, lr)))
    fold = z3.Function("fold16", z3.BitVecSort(64), z3.BitVecSort(64))
    saved = ex.models
    ex.models = dict(saved, fold16=lambda ex_, args, node: fold(args[0]))
    ok = True
    for n in range(10, 31, 2):
        buf = header_buffer(ex)
        got = z3.simplify(ex.call("ipv4_header_sum", [buf, 14, n], None))
        total = z3.BitVecVal(0, 64)
        for j in range(n):
            total = total + word(buf.items, 14 + 2 * j)
        ok = ok and _valid([], got == fold(total)) and _valid([], z3.ULT(total, 1 << 21))
    ex.models = saved
    results.append(("LH: ipv4_header_sum is fold16 of the header's word sum", ok))
    return results


def _valid(constraints, formula):
    s = z3.SolverFor("QF_UFBV")
    s.add(*constraints)
    s.add(z3.Not(formula))
    return s.check() == z3.unsat
