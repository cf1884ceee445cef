"""`vernat verify`: explore process_frame symbolically, prove what is
proven so far, run every path concretely on both builds, and report.

Status of the properties of the verify issue (docs/progress.md):
  no crash ............ proven here on every path (bounds, int64, byte widths)
  other bytes ......... proven on every forwarded path (within the modelled
                        window, which holds every byte a rule may touch)
  concrete agreement .. every path's model run on numba and CPython equals the
                        symbolic prediction (a test of the build, not a proof)
  RFC 3022 spec, checksums, lazy validation of traces: not implemented yet,
  reported as not proven, so the command exits 1 until they are.
"""

import time

from vernat.nat import constants as C
from vernat.verify import concrete
from vernat.verify.executor import Executor, load_program
from vernat.verify.lemmas import prove_checksum_lemmas
from vernat.verify.models import MODELS
from vernat.verify.properties import check_forwarded
from vernat.verify.setup import symbolic_inputs

NOT_YET = ("RFC 3022 behaviour equals vernat/spec (symbolically)",
           "checksums on every path (the lemmas above are its steps)",
           "lazy validation of traces")


def verify(sources=None, counterexample_dir="verify-counterexample", concrete_runs=True):
    timings = {}
    t0 = time.perf_counter()
    functions, constants = load_program(sources=sources)
    ex = Executor(functions, constants, MODELS)
    paths = ex.explore("process_frame", symbolic_inputs, on_path_end=check_forwarded)
    timings["symbolic execution"] = time.perf_counter() - t0
    violations = [p for p in paths if p.violation]
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
    timings["lemmas"] = time.perf_counter() - t2
    reproduce = reproduced = None
    if violations:
        scenario = concrete.violation_scenario(ex, violations[0])
        if scenario is not None:
            reproduce = concrete.write_counterexample(scenario, counterexample_dir)
            reproduced = concrete.reproduce(scenario, violations[0].violation.prop, sources)
    failed = {p.violation.prop for p in violations}
    properties = [
        {"property": "no crash (memory safety, int64 ranges, byte widths, bounded loops)",
         "proven": not failed & {"memory safety", "int64 overflow", "field width",
                                 "verifier limit", "solver"}},
        {"property": "every byte no rule names leaves unchanged (forwarded frames)",
         "proven": not violations},
        {"property": "numba build = CPython run = symbolic prediction on every path's model",
         "proven": not violations and not disagreements and runs["agree"] > 0},
    ] + [{"property": f"lemma: {name}", "proven": ok} for name, ok, _ in lemmas] + \
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
