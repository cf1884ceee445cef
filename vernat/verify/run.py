"""`vernat verify`: explore process_frame symbolically, validate every path
against the state library's contracts and the RFC 3022 spec, run every path
concretely on both builds, and report.

Properties (docs/progress.md, docs/trust.md):
  no crash ............ every path (bounds, int64, byte widths, window)
  other bytes ......... every forwarded path (bytes no rule names)
  lazy validation ..... every trace: preconditions hold, model assumptions
                        follow from the contracts (read from the source)
  RFC 3022 ............ every path: verdict, table transitions and clock,
                        forwarded bytes (checksum fields aside) equal the spec's
  lemmas .............. RFC 1624 update; the spec's checksum helpers = the NAT's
  concrete agreement .. every path's model on numba and CPython equals the
                        symbolic prediction (a test of the build, not a proof)
  checksum fields on every path: not implemented yet (exit 1 until they are).
"""

import time

from vernat.nat import constants as C
from vernat.verify import concrete
from vernat.verify.contracts import read_contracts
from vernat.verify.equivalence import check_against_spec, spec_executor, spec_program
from vernat.verify.executor import Executor, Violation, load_program
from vernat.verify.lemmas import prove_checksum_lemmas, prove_substitution_lemmas
from vernat.verify.models import MODELS
from vernat.verify.properties import check_forwarded
from vernat.verify.setup import symbolic_inputs

NOT_YET = ("checksum fields on every path (the lemmas above are its steps)",)

SPEC_PROPERTIES = (
    ("lazy validation", "lazy validation: every state-library call meets its contract's "
                        "precondition, every model assumption follows from the contracts"),
    ("RFC 3022: verdict", "RFC 3022: the verdict (drop reason) equals the spec's"),
    ("RFC 3022: state transition", "RFC 3022: flows expired, created and refreshed as the "
                                   "spec says (nothing touched by a dropped inbound frame)"),
    ("RFC 3022: output frame", "RFC 3022: a forwarded frame equals the spec's, byte for byte "
                               "(checksum fields aside)"),
)


def verify(sources=None, counterexample_dir="verify-counterexample", concrete_runs=True):
    timings = {}
    t0 = time.perf_counter()
    functions, constants = load_program(sources=sources)
    ex = Executor(functions, constants, MODELS)
    paths = ex.explore("process_frame", symbolic_inputs, on_path_end=check_forwarded)
    timings["symbolic execution"] = time.perf_counter() - t0
    violations = [p for p in paths if p.violation]
    t_spec = time.perf_counter()
    spec = {"obligations": 0, "spec_paths": 0, "queries": 0}
    program = spec_program(sources)
    if not violations:
        contracts = read_contracts(sources)
        for p in paths:
            try:
                proven, compared, stats = check_against_spec(ex, p, contracts, program)
            except Violation as v:
                p.violation = v
                violations.append(p)
                break
            spec["obligations"] += proven
            spec["spec_paths"] += compared
            spec["queries"] += stats.queries
    timings["lazy validation and spec"] = time.perf_counter() - t_spec
    t1 = time.perf_counter()
    runs = {"agree": 0, "skipped": 0, "DISAGREE": 0}
    disagreements = []
    if concrete_runs and not violations:
        for p in paths:
            status, detail = concrete.check_path(ex, p)
            runs[status] += 1
            if status == "DISAGREE":
                disagreements.append(f"{C.REASON_NAMES[p.result]} path: {detail}")
    timings["concrete runs"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    lemmas = prove_checksum_lemmas(Executor(functions, constants, MODELS))
    lemmas += prove_substitution_lemmas(spec_executor(program, {}))
    timings["lemmas"] = time.perf_counter() - t2
    reproduce = reproduced = None
    if violations:
        scenario = violation_scenario(ex, violations[0])
        if scenario is not None:
            reproduce = concrete.write_counterexample(scenario, counterexample_dir)
            reproduced = concrete.reproduce(scenario, violations[0].violation.prop, sources) \
                or concrete.code_vs_spec(scenario, sources)
    failed = {p.violation.prop for p in violations}
    checked = not failed & {"memory safety", "int64 overflow", "field width", "verifier limit",
                            "solver", "every other byte unchanged"}
    properties = [
        {"property": "no crash (memory safety, int64 ranges, byte widths, bounded loops)",
         "proven": not failed & {"memory safety", "int64 overflow", "field width",
                                 "verifier limit", "solver"}},
        {"property": "every byte no rule names leaves unchanged (forwarded frames)",
         "proven": not violations},
        {"property": "numba build = CPython run = symbolic prediction on every path's model",
         "proven": not violations and not disagreements and runs["agree"] > 0},
    ] + [{"property": text, "proven": checked and prop not in failed}
         for prop, text in SPEC_PROPERTIES] + \
        [{"property": f"lemma: {name}", "proven": ok} for name, ok, _ in lemmas] + \
        [{"property": name, "proven": False, "note": "not implemented yet"} for name in NOT_YET]
    by_reason = {}
    for p in paths:
        if isinstance(p.result, int):
            name = C.REASON_NAMES[p.result]
            by_reason[name] = by_reason.get(name, 0) + 1
    return {
        "paths": len(paths), "paths_by_outcome": by_reason,
        "infeasible_prefixes_dropped": ex.stats.infeasible,
        "solver_queries": ex.stats.queries, "obligations": ex.stats.obligations,
        "obligations_by_bounds": ex.stats.by_bounds, "merged_ifs": ex.stats.merges,
        "traces_validated": len(paths) if checked and "lazy validation" not in failed else 0,
        "contract_obligations": spec["obligations"], "spec_paths_compared": spec["spec_paths"],
        "spec_solver_queries": spec["queries"],
        "concrete_runs": runs, "disagreements": disagreements,
        "seconds": {k: round(v, 2) for k, v in timings.items()},
        "properties": properties,
        "violations": [{"property": p.violation.prop, "message": p.violation.message,
                        "where": p.violation.where,
                        "path_outcome": C.REASON_NAMES[p.result] if isinstance(p.result, int)
                        else None,
                        "trace": [e.call for e in p.trace]} for p in violations],
        "reproduce": reproduce,
        "reproduced_on_the_source": reproduced,
        "proven": all(x["proven"] for x in properties),
    }


def violation_scenario(ex, path):
    """The concrete scenario of a violation; a spec or contract violation's
    model lives in the spec run's world (uninterpreted tables included)."""
    v = path.violation
    constraints = getattr(v, "constraints", None)
    if constraints is None:
        return concrete.violation_scenario(ex, path)
    saved = path.constraints, ex.logic
    path.constraints, ex.logic = constraints, "QF_UFBV"
    try:
        return concrete.violation_scenario(ex, path)
    finally:
        path.constraints, ex.logic = saved
