"""Lazy validation and the RFC 3022 comparison, one NAT path at a time.

For a path of process_frame (explored with loose models, vernat/verify/models.py):

1. The trace is checked against the state library's contracts, read from
   its source (contracts.py): every call's precondition holds where the NAT
   made it, and every assumption its loose model made follows from the
   contracts of the calls so far. Each call moves its table to a new
   abstract state, related to the previous one by the contract.
2. The spec (vernat/spec/rfc3022.py) runs under the same executor on the
   same symbolic frame, configuration, time and clock, its abstract tables
   answered by the same uninterpreted functions (spec_models.py), under the
   NAT path's condition and the contracts' facts. On every spec path:
   the verdict is the same, each table ends in the same abstract state (so
   the same flows were expired, created and refreshed, in the same way, and
   a dropped inbound frame touched nothing), the clock is the same, and a
   forwarded frame is the same byte for byte (checksum fields: checksums.py).
"""

import z3

from vernat.nat import constants as C
from vernat.verify.abstract import FUNCTIONS as F, TableState, initial
from vernat.verify.checksums import check_ip_checksum, check_l4_checksum
from vernat.verify.contracts import instantiate
from vernat.verify.executor import Violation
from vernat.verify.models import capacity
from vernat.verify.values import WINDOW, SymBuffer, SymVector, TableRef, bv

TABLES = ("tcp", "udp")


class Validation:
    """What the contracts say about one NAT path."""

    def __init__(self, facts, obligations, final):
        self.facts = facts                  # postconditions of every call (+ preconditions of the frame)
        self.obligations = obligations      # (what, formula, number of facts it may use)
        self.final = final                  # table -> its abstract state after the frame


def validate_trace(ex, path, contracts):
    """Instantiate the contracts along the path's trace."""
    ex.path = path
    n = capacity(ex)
    versions = {t: initial(t) for t in TABLES}
    clock0 = path.context["clock0"]
    # preconditions of process_frame: each table was made for the port
    # range; no flow was used after the clock (the invariant the previous
    # frame ends with, checked below); a stamp has room to grow (trusted:
    # one more per frame at most, docs/trust.md)
    facts = [F["capacity"](versions[t]) == n for t in TABLES]
    facts += [F["newest_time"](versions[t]) <= clock0 for t in TABLES]
    facts += [F["stamp_room"](versions[t]) for t in TABLES]
    obligations = []
    for k, e in enumerate(path.trace):
        contract = contracts.get(e.call)
        if contract is None:
            raise Violation("lazy validation", f"{e.call} has no contract", "trace")
        before = versions[e.table.name]
        after = z3.Const(f"{e.table.name}@{k + 1}", TableState)
        pre, post = instantiate(contract, [e.table] + list(e.args), e.result, before, after)
        for p in pre:
            obligations.append((f"precondition of {e.call}", p, len(facts)))
        facts += post
        for a in e.assumptions:
            obligations.append((f"the model of {e.call} assumed {a}", a, len(facts)))
        versions[e.table.name] = after
    # the invariant the next frame starts from: no flow used after the clock
    clock = path.context["clock"].items[0]
    for t in TABLES:
        obligations.append((f"the {t} table ends with no flow used after the clock",
                            F["newest_time"](versions[t]) <= clock, len(facts)))
    return Validation(facts, obligations, versions)


def prove_obligations(ex, path, validation):
    """Prove the trace's obligations on the path condition without the
    models' own assumptions (those are what is being justified)."""
    base = without_model_assumptions(path)
    for what, formula, nfacts in validation.obligations:
        context = base + validation.facts[:nfacts]
        if not _proven(ex, context, formula):
            model = _model(ex, context, z3.Not(formula))
            v = Violation("lazy validation", f"{what}: not implied by the contracts",
                          "trace", model, [z3.Not(formula)])
            v.constraints = context
            raise v
    return len(validation.obligations)


def without_model_assumptions(path):
    """The path condition minus what the loose models assumed."""
    return [x for k, x in enumerate(path.constraints) if k not in path.model_assumed]


def _proven(ex, constraints, formula):
    ex.stats.queries += 1
    s = z3.SolverFor("QF_UFBV")
    s.add(*constraints)
    s.add(z3.Not(formula))
    return s.check() == z3.unsat


def _model(ex, constraints, goal):
    s = z3.SolverFor("QF_UFBV")
    s.add(*constraints)
    s.add(goal)
    return s.model() if s.check() == z3.sat else None


def guide_model(path, validation):
    """A model of the NAT path's condition and the contracts' facts, found
    fast by pinning the NAT's variables to the path's own model (the
    uninterpreted functions are then the only unknowns); None if that fails."""
    m = getattr(path, "model", None)
    if m is None:
        return None
    pins = [d() == m[d] for d in m.decls() if d.arity() == 0]
    s = z3.SolverFor("QF_UFBV")
    s.add(*without_model_assumptions(path), *validation.facts, *pins)
    return s.model() if s.check() == z3.sat else None


def spec_setup(path, validation):
    """Arguments of spec_frame for the NAT path's symbols, and its world."""
    c = path.context
    base = without_model_assumptions(path) + validation.facts

    def setup(ex):
        for x in base:
            ex.path.constraints.append(x)
        frame = SymBuffer("frame", 0, c["length"])
        frame.items = list(c["buf"].original)
        frame.original = list(frame.items)
        out = SymBuffer("out", 0, c["length"])
        out.items = list(frame.items)
        out.original = list(frame.items)
        cfg = SymVector("cfg", list(c["cfg"].items))
        clock = SymVector("clock", [z3.BitVec("clock", 64)])     # as setup.symbolic_inputs
        ex.arrays = [frame, out, cfg, clock]
        ex.context = {"versions": {t: initial(t) for t in TABLES}, "spec_trace": [],
                      "out": out, "clock": clock}
        return [frame, c["length"], c["time"], c["side"], cfg, clock,
                TableRef("tcp"), TableRef("udp"), out]
    return setup


def checksum_positions(frame):
    """The IPv4 and TCP/UDP checksum fields' positions (terms) in a frame."""
    ihl = z3.ZeroExt(56, frame[14]) & 0xF
    l4 = 14 + 4 * ihl
    at = z3.If(frame[23] == 17, l4 + 6, l4 + 16)
    return [z3.BitVecVal(24, 64), z3.BitVecVal(25, 64), at, at + 1]


def compare(impl_path, validation):
    """on_path_end hook of the spec run: the spec path against the NAT path."""
    def check(ex, spath, args):
        c = impl_path.context
        impl_reason = impl_path.result
        goals = [(bv(spath.result) == bv(impl_reason), "RFC 3022: verdict",
                  f"the NAT gives {C.REASON_NAMES[impl_reason]}; the spec another verdict")]
        same = [ex.context["versions"][t] == validation.final[t] for t in TABLES]
        same.append(bv(ex.context["clock"].items[0]) == bv(c["clock"].items[0]))
        goals.append((z3.And(*same), "RFC 3022: state transition",
                      "the NAT changed the flow tables or the clock differently from the "
                      "spec (expiry, refresh, creation, or state touched by a dropped frame)"))
        # one query for all; only a failure is asked again goal by goal,
        # to name the property
        if not ex.holds(z3.And(*[g for g, _, _ in goals])):
            for goal, name, message in goals:
                ex.require(goal, name, None, message)
        if impl_reason == C.FORWARD:
            same_frame(ex, impl_path)
            check_ip_checksum(ex, impl_path)
            check_l4_checksum(ex, impl_path, checksum_positions(impl_path.context["buf"].original)[2])
    return check


def same_frame(ex, impl_path):
    """The forwarded frame equals the spec's output, byte for byte (but the
    checksum fields, checksums.py), one IPv4 header length at a time: with the IHL fixed
    every position is concrete and most bytes are the same term on both
    sides, where one query over all IHLs at once took seconds."""
    c = impl_path.context
    original = c["buf"].original
    nat, spec = impl_path.final_items, ex.context["out"].items
    skip = checksum_positions(original)     # compared in checksums.py
    length = c["length"]
    goal = z3.And(*[z3.Or(z3.BitVecVal(k, 64) >= length, *[k == p for p in skip],
                          nat[k] == spec[k]) for k in range(WINDOW)])
    message = ("the forwarded frame differs from the spec's (a rewritten field, TTL, MAC, "
               "or a byte no rule names)")
    # a forwarded frame is IPv4: its first IP byte is 0x45 .. 0x4F
    cases = [z3.BitVecVal(0x40 | v, 8) for v in range(5, 16)]
    ex.require(z3.Or(*[original[14] == b for b in cases]), "RFC 3022: output frame", None,
               "a forwarded frame that is not IPv4 with IHL 5..15")
    for b in cases:
        case = original[14] == b
        fixed = z3.simplify(z3.substitute(goal, (original[14], b)))
        if z3.is_true(fixed) or ex._sliced_unsat([case, z3.Not(fixed)]) or \
                ex._check(case, z3.Not(fixed)) is None:
            continue
        ex.require(z3.Implies(case, goal), "RFC 3022: output frame", None, message)


SPEC_MODULES = ("vernat.nat.constants", "vernat.spec.wire", "vernat.spec.checksum",
                "vernat.spec.rfc3022")


def spec_program(sources=None):
    """The spec's functions and constants, with the NAT's beside them under
    spec_models.IMPL (for the checksum substitutions)."""
    from vernat.verify.executor import load_program
    from vernat.verify.spec_models import IMPL
    functions, constants = load_program(SPEC_MODULES)
    impl_functions, impl_constants = load_program(sources=sources, prefix=IMPL)
    functions.update(impl_functions)
    constants.update(impl_constants)
    return functions, constants


def spec_executor(program, models):
    from vernat.verify.executor import Executor
    ex = Executor(*program, models)
    ex.logic = "QF_UFBV"
    ex.safety = False
    ex.settle_forks = True
    return ex


def rules_1_2(ex, args, node):
    """The spec for a frame whose buffer descriptor is bad: there is no frame,
    so only rule 1 (time) and rule 2 (expiry) apply (docs/semantics.md)."""
    frame, length, time, side, cfg, clock, tcp, udp, out = args
    now = ex.call("rule1_time", [time, clock], node)
    ex.call("rule2_expiry", [now, cfg, tcp, udp], node)
    return C.DROP_BAD_DESCRIPTOR


def check_against_spec(ex, path, contracts, program):
    """Lazy validation and spec comparison of one NAT path. Returns
    (obligations proven, spec paths compared, spec executor stats); raises
    Violation (with the spec executor's model) on a failure."""
    from vernat.verify.spec_models import MODELS
    validation = validate_trace(ex, path, contracts)
    proven = prove_obligations(ex, path, validation)
    sx = spec_executor(program, dict(MODELS, bad_descriptor=rules_1_2))
    sx._vars = ex._vars                     # same constraints: share the variable index
    sx.guide = guide_model(path, validation)
    entry = "bad_descriptor" if path.result == C.DROP_BAD_DESCRIPTOR else "spec_frame"
    spec_paths = sx.explore(entry, spec_setup(path, validation),
                            on_path_end=compare(path, validation))
    for sp in spec_paths:
        if sp.violation is not None:
            sp.violation.constraints = sp.constraints
            raise sp.violation
    return proven, len(spec_paths), sx.stats
