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
  checksums ........... every forwarded path: the IPv4 header checksum is an
                        RFC 1624 chain over the rewritten words, hence valid
                        and equal to the spec's (checksums.py)
  lemmas .............. RFC 1624 update; fold; the spec's helpers = the NAT's
  concrete agreement .. every path's model on numba and CPython equals the
                        symbolic prediction (a test of the build, not a proof)
"""

import time

from vernat.nat import constants as C
from vernat.verify import concrete
from vernat.verify.contracts import read_contracts
from vernat.verify.checksums import checksum_lemmas
from vernat.verify.equivalence import check_against_spec, spec_executor, spec_program
from vernat.verify.executor import Executor, load_program
from vernat.verify.lemmas import prove_checksum_lemmas, prove_substitution_lemmas
from vernat.verify.models import MODELS
from vernat.verify.properties import check_forwarded
from vernat.verify.setup import symbolic_inputs

SPEC_PROPERTIES = (
    ("lazy validation", "lazy validation: every state-library call meets its contract's "
                        "precondition, every model assumption follows from the contracts"),
    ("RFC 3022: verdict", "RFC 3022: the verdict (drop reason) equals the spec's"),
    ("RFC 3022: state transition", "RFC 3022: flows expired, created and refreshed as the "
                                   "spec says (nothing touched by a dropped inbound frame)"),
    ("RFC 3022: output frame", "RFC 3022: a forwarded frame equals the spec's, byte for byte "
                               "(checksum fields aside: next property)"),
    ("checksums", "checksums: the IPv4 header checksum is valid on output and equals the "
                  "spec's (an RFC 1624 chain over exactly the rewritten words); the TCP/UDP "
                  "checksum field equals the spec's: the same RFC 1624 updates, UDP's 0 kept "
                  "and a computed 0 sent as 0xFFFF"),
)


def verify(sources=None, counterexample_dir="verify-counterexample", concrete_runs=True):
    timings = {}
    t0 = time.perf_counter()
    functions, constants = load_program(sources=sources)
    ex = Executor(functions, constants, MODELS)
    spec = {"obligations": 0, "spec_paths": 0, "queries": 0, "seconds": 0.0}
    program = spec_program(sources)
    contracts = read_contracts(sources)

    def on_path_end(ex_, path, args):
        # every path is checked as soon as it is found, so a violation
        # stops the exploration (a mutant fails in seconds, not a minute)
        check_forwarded(ex_, path, args)
        t = time.perf_counter()
        try:
            proven, compared, stats = check_against_spec(ex_, path, contracts, program)
        finally:
            spec["seconds"] += time.perf_counter() - t
            ex_.path = path
        spec["obligations"] += proven
        spec["spec_paths"] += compared
        spec["queries"] += stats.queries

    # stop at the first violation a frame can show (a bad buffer descriptor
    # has no frame: go on to a path whose counterexample can be replayed)
    paths = ex.explore("process_frame", symbolic_inputs, on_path_end=on_path_end,
                       first_violation=lambda p: p.result != C.DROP_BAD_DESCRIPTOR)
    timings["symbolic execution"] = time.perf_counter() - t0 - spec["seconds"]
    violations = [p for p in paths if p.violation]
    timings["lazy validation and spec"] = spec["seconds"]
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
    lemmas += [(name, ok, 0.0) for name, ok in checksum_lemmas(Executor(functions, constants,
                                                                        MODELS))]
    timings["lemmas"] = time.perf_counter() - t2
    reproduce = reproduced = None
    if violations:
        violations.sort(key=lambda p: p.result == C.DROP_BAD_DESCRIPTOR)
        scenario = violation_scenario(ex, violations[0])
        if scenario is not None:
            reproduce = concrete.write_counterexample(scenario, counterexample_dir, sources)
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
        [{"property": f"lemma: {name}", "proven": ok} for name, ok, _ in lemmas]
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
