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

import multiprocessing
import os
import queue
import threading
import time

from vernat.nat import constants as C
from vernat.verify import concrete
from vernat.verify.contracts import read_contracts
from vernat.verify.checksums import checksum_lemmas
from vernat.verify.equivalence import (
    check_against_spec, prove_obligations, spec_executor, spec_program, validate_trace,
)
from vernat.verify.executor import Executor, load_program
from vernat.verify.lemmas import prove_checksum_lemmas, prove_substitution_lemmas
from vernat.verify.models import MODELS
from vernat.verify.properties import check_forwarded
from vernat.verify.setup import prefetch_inputs, symbolic_inputs

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


class Worker:
    """Everything needed to check one path, built before the workers fork
    (each inherits it: z3 terms and numba builds need no pickling)."""

    def __init__(self, sources, concrete_runs):
        self.sources, self.concrete_runs = sources, concrete_runs
        self.functions, self.constants = load_program(sources=sources)
        self.ex = Executor(self.functions, self.constants, MODELS)
        self.program = spec_program(sources)
        self.contracts = read_contracts(sources)
        self.spec = None                # the current path's spec-comparison counts
        self.forks_sent = False         # the current path's forks went out early

    def on_path_end(self, ex, path, args):
        # the NAT path is complete: hand its forks to the other workers now,
        # before the checks below (seconds on a forwarded path)
        if _fork_channel is not None:
            _fork_channel.put(list(path.alternatives))
            self.forks_sent = True
        # every path is checked as soon as it is found, so a violation
        # stops the exploration (a mutant fails in seconds, not a minute)
        check_forwarded(ex, path, args)
        t = time.perf_counter()
        try:
            proven, compared, stats = check_against_spec(ex, path, self.contracts, self.program)
        finally:
            self.spec["seconds"] += time.perf_counter() - t
            ex.path = path
        self.spec["obligations"] += proven
        self.spec["spec_paths"] += compared
        self.spec["queries"] += stats.queries

    def path(self, prefix):
        """Explore, validate and check one path; a summary in plain data."""
        ex = self.ex
        before = dict(vars(ex.stats))
        self.spec = {"obligations": 0, "spec_paths": 0, "queries": 0, "seconds": 0.0}
        self.forks_sent = False
        t0 = time.perf_counter()
        p = ex.run_path("process_frame", symbolic_inputs, prefix, self.on_path_end)
        t1 = time.perf_counter()
        out = {"prefix": prefix, "alternatives": p.alternatives, "infeasible": p.infeasible,
               "forks_sent": self.forks_sent,
               "result": p.result, "violation": None, "concrete": None,
               "stats": {k: v - before[k] for k, v in vars(ex.stats).items()},
               "spec": self.spec, "seconds": t1 - t0, "concrete_seconds": 0.0}
        if p.infeasible:
            return out
        if p.violation is not None:
            v = p.violation
            out["violation"] = _violation_entry(
                p, C.REASON_NAMES[p.result] if isinstance(p.result, int) else None)
            out["scenario"] = violation_scenario(ex, p)
            out["reproduced"] = None
            if out["scenario"] is not None:
                out["reproduced"] = concrete.reproduce(out["scenario"], v.prop, self.sources) \
                    or concrete.code_vs_spec(out["scenario"], self.sources)
        elif self.concrete_runs:
            out["concrete"] = concrete.check_path(ex, p)
        out["concrete_seconds"] = time.perf_counter() - t1
        return out

    def prefetch(self):
        """prefetch_frame, the batch loop's other per-frame call: crash-free
        on every input, and its hint calls meet their contracts. Returns
        (paths, violations as report entries, seconds)."""
        t = time.perf_counter()
        ex = Executor(self.functions, self.constants, MODELS)

        def validate(ex_, path, args):
            prove_obligations(ex_, path, validate_trace(ex_, path, self.contracts))
        paths = ex.explore("prefetch_frame", prefetch_inputs, on_path_end=validate)
        found = [_violation_entry(p, "prefetch_frame") for p in paths if p.violation]
        return len(paths), found, time.perf_counter() - t

    def lemmas(self):
        t = time.perf_counter()
        lemmas = prove_checksum_lemmas(Executor(self.functions, self.constants, MODELS))
        lemmas += prove_substitution_lemmas(spec_executor(self.program, {}))
        lemmas += [(name, ok, 0.0) for name, ok in
                   checksum_lemmas(Executor(self.functions, self.constants, MODELS))]
        return lemmas, time.perf_counter() - t


_worker = None          # the forked workers' Worker (inherited, never pickled)


def _path_task(prefix):
    return _worker.path(prefix)


def _lemma_task():
    return _worker.lemmas()


def _prefetch_task():
    return _worker.prefetch()


def explore_all(worker, workers):
    """Every path of process_frame, `workers` at a time, depth first, with
    the lemmas beside them. Stops at the first violation that a concrete run
    reproduces (_stops). Returns (path summaries, lemma results and seconds)."""
    global _worker
    _worker = worker
    if workers <= 1:
        summaries, pending = [], [[]]
        while pending:
            s = worker.path(pending.pop())
            summaries.append(s)
            pending.extend(s["alternatives"])
            if _stops(s):
                break
        else:
            _all_forks_followed(summaries)
        return summaries, worker.lemmas(), worker.prefetch()
    ctx = multiprocessing.get_context("fork")
    events = queue.SimpleQueue()        # ("done", summary) and ("forks", prefixes)
    forks = ctx.SimpleQueue()           # workers -> parent: a path's forks, early
    _set_fork_channel(forks)
    threading.Thread(target=_forward_forks, args=(forks, events), daemon=True).start()
    try:
        return _explore_in_pool(ctx, workers, events)
    finally:
        _set_fork_channel(None)


def _explore_in_pool(ctx, workers, events):
    with ctx.Pool(workers) as pool:
        lemmas = pool.apply_async(_lemma_task)
        prefetch = pool.apply_async(_prefetch_task)
        summaries, pending, running = [], [[]], 0
        sent = received = 0
        # a path's forks come before its checks are done (Worker.on_path_end),
        # so the other worker need not wait for them; the search is over
        # when no path runs, none waits, and every fork sent has come in
        while pending or running or received < sent:
            while pending and running < workers:
                pool.apply_async(_path_task, (pending.pop(),),
                                 callback=lambda r: events.put(("done", r)),
                                 error_callback=lambda e: events.put(("done", e)))
                running += 1
            kind, s = events.get()
            if kind == "forks":
                received += 1
                pending.extend(s)
                continue
            running -= 1
            if isinstance(s, BaseException):
                raise s
            summaries.append(s)
            if s["forks_sent"]:
                sent += 1
            else:
                pending.extend(s["alternatives"])
            if _stops(s):
                pool.terminate()
                return summaries, ([], 0.0), (0, [], 0.0)
        _all_forks_followed(summaries)
        return summaries, lemmas.get(), prefetch.get()


_fork_channel = None


def _set_fork_channel(channel):
    global _fork_channel
    _fork_channel = channel


def _forward_forks(forks, events):
    while True:
        events.put(("forks", forks.get()))


def _violation_entry(path, outcome):
    """A violation as the report lists it."""
    v = path.violation
    return {"property": v.prop, "message": v.message, "where": v.where,
            "path_outcome": outcome, "trace": [e.call for e in path.trace]}


def _all_forks_followed(summaries):
    """Every fork of every path was run exactly once (the root, plus one run
    per alternative): nothing was lost between the processes."""
    forks = sorted(tuple(a) for s in summaries for a in s["alternatives"])
    runs = sorted(tuple(s["prefix"]) for s in summaries)
    if runs != sorted(forks + [()]):
        raise RuntimeError("verify: the paths run are not the forks found (a driver bug)")


def _stops(summary):
    """A violation whose counterexample a concrete run reproduces ends the
    search. Others (a bad buffer descriptor, which no frame can show, or an
    abstract difference no concrete run tells apart, e.g. a flow refreshed
    twice at the same time) are kept, and the search goes on for one that
    can be shown."""
    return summary["violation"] is not None and bool(summary.get("reproduced"))


def verify(sources=None, counterexample_dir="verify-counterexample", concrete_runs=True,
           workers=None):
    """workers: processes checking paths in parallel (default: one per core)."""
    t0 = time.perf_counter()
    worker = Worker(sources, concrete_runs)
    if concrete_runs:
        concrete.warm()                 # compile once, before the workers fork
    if workers is None:
        workers = min(os.cpu_count() or 1, 4)
    summaries, (lemmas, lemma_seconds), (prefetch_paths, prefetch_violations, prefetch_seconds) \
        = explore_all(worker, workers)
    wall = time.perf_counter() - t0
    paths = [s for s in summaries if not s["infeasible"]]
    total = {k: sum(s["stats"][k] for s in summaries) for k in summaries[0]["stats"]}
    spec = {k: sum(s["spec"][k] for s in paths) for k in ("obligations", "spec_paths",
                                                          "queries", "seconds")}
    timings = {
        "symbolic execution": sum(s["seconds"] for s in summaries) - spec["seconds"],
        "lazy validation and spec": spec["seconds"],
        "concrete runs": sum(s["concrete_seconds"] for s in paths if s["concrete"]),
        "lemmas": lemma_seconds,
        "prefetch_frame": prefetch_seconds,
    }
    violations = sorted((s for s in paths if s["violation"]),
                        key=lambda s: (not s.get("reproduced"), s.get("scenario") is None))
    runs = {"agree": 0, "skipped": 0, "DISAGREE": 0}
    disagreements = []
    if concrete_runs and not violations:
        for s in paths:
            status, detail = s["concrete"]
            runs[status] += 1
            if status == "DISAGREE":
                disagreements.append(f"{C.REASON_NAMES[s['result']]} path: {detail}")
    reproduce = reproduced = None
    if violations and violations[0].get("scenario") is not None:
        reproduce = concrete.write_counterexample(violations[0]["scenario"], counterexample_dir,
                                                  sources)
        reproduced = violations[0]["reproduced"]
    failed = {s["violation"]["property"] for s in violations} | \
        {v["property"] for v in prefetch_violations}
    checked = not failed & {"memory safety", "int64 overflow", "field width", "verifier limit",
                            "solver", "every other byte unchanged"}
    properties = [
        {"property": "no crash (memory safety, int64 ranges, byte widths, bounded loops)",
         "proven": not failed & {"memory safety", "int64 overflow", "field width",
                                 "verifier limit", "solver"}},
        {"property": "every byte no rule names leaves unchanged (forwarded frames)",
         "proven": not violations},
        {"property": "prefetch_frame (the batch loop's cache hint): no crash, its calls meet "
                     "their contracts",
         "proven": prefetch_paths > 0 and not prefetch_violations},
        {"property": "numba build = CPython run = symbolic prediction on every path's model",
         "proven": not violations and not disagreements and runs["agree"] > 0},
    ] + [{"property": text, "proven": checked and prop not in failed}
         for prop, text in SPEC_PROPERTIES] + \
        [{"property": f"lemma: {name}", "proven": ok} for name, ok, _ in lemmas]
    if violations and not lemmas:
        properties.append({"property": "lemmas", "proven": False,
                           "note": "not run: stopped at the first violation"})
    by_reason = {}
    for s in paths:
        if isinstance(s["result"], int):
            name = C.REASON_NAMES[s["result"]]
            by_reason[name] = by_reason.get(name, 0) + 1
    return {
        "paths": len(paths), "paths_by_outcome": by_reason,
        "infeasible_prefixes_dropped": total["infeasible"],
        "solver_queries": total["queries"], "obligations": total["obligations"],
        "obligations_by_bounds": total["by_bounds"], "merged_ifs": total["merges"],
        "traces_validated": len(paths) if checked and "lazy validation" not in failed else 0,
        "contract_obligations": spec["obligations"], "spec_paths_compared": spec["spec_paths"],
        "spec_solver_queries": spec["queries"],
        "concrete_runs": runs, "disagreements": disagreements,
        "workers": workers, "wall_seconds": round(wall, 2),
        "seconds": {k: round(v, 2) for k, v in timings.items()},
        "properties": properties,
        "violations": [s["violation"] for s in violations] + prefetch_violations,
        "prefetch_frame_paths": prefetch_paths,
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
