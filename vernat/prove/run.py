"""Run Nagini on every state-library module, one module at a time.

Each module is verified with Nagini's `--select` set to the functions it
defines: its own functions are proven against their contracts, while the
functions it imports are used through their contracts only (they are proven
in their own module's run). A module is ✔ only when Nagini reports
"Verification successful"; anything else (a failed obligation, a
translation or type error, a crash, a time-out) is ✘ with the messages
mapped to file and line. Nothing is skipped.
"""

import ast
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

from vernat import build

# In dependency order: each module's run relies on the contracts of the
# earlier ones.
MODULES = (
    "vernat.state.layout",
    "vernat.state.ghost",
    "vernat.state.model",       # flowtable's abstract model: definitions and lemmas
    "vernat.state.allocator",
    "vernat.state.flowmap",
    "vernat.state.flowtable",
)

# Modules proven in parts: one Nagini run per part, each with its own JVM
# and Z3 processes. Each function is still proven against the same contracts
# (Nagini's proofs are modular: a function's proof uses only its callees'
# contracts), so the parts only decide which proofs share a Z3 process. Proofs
# that share one can slow each other down or blow its memory up, and which
# ones do changes from run to run (docs/progress-prove.md, sessions 7 and 8:
# the allocator's free chain next to its other operations grew Z3 past 9 GB;
# the flow table's proof, 664 s in one run, stalled for over 17 min in the
# next). Listed here: every part but the last, which is every function of
# the module not listed.
PARTS = {
    "vernat.state.allocator": (
        ("_set_header", "_set_last_seen", "_set_flow", "_set_prev", "_set_next", "_set_ring",
         "_set_pos", "_ring_put", "_ring_swap_words", "_ring_swap", "_swap_out", "_mark_free",
         "_release", "_unlink", "_clear_words", "_clear", "index_free"),
        ("lru_unlink", "lru_append", "lru_touch"),
    ),
    "vernat.state.flowtable": (
        ("_expired_oldest", "_remove", "_erase_keeping", "_free_keeping", "flow_expire"),
        ("_allocate_keeping", "_fill_keeping", "_insert_keeping", "_map_insert_keeping",
         "flow_allocate"),
        ("table_init", "_put", "_init_header", "_init_slots", "_init_indices"),
    ),
}

# ide-mode errors: file:line:col:line_end:col_end: error: message
_IDE = re.compile(r"^(?P<file>[^:\s]+\.py):(?P<line>\d+):(?P<col>\d+):\d+:\d+: error: (?P<msg>.*)$")
# translation and type errors: "... (path@line.col)"
_AT = re.compile(r"^(?P<msg>.*?)\s*\((?P<file>[^()\s]+\.py)@(?P<line>\d+)\.(?P<col>\d+)\)\s*$")
_TOOK = re.compile(r"Verification took ([0-9.]+) seconds")
# a crash inside Silicon: Nagini prints the Java stack trace, then its own
# Python traceback; the Java exception's first line says what happened
_JAVA = re.compile(r"^(?:Caused by: )?(?P<exc>(?:[a-z]\w*\.)+\w*(?:Exception|Error))(?::\s*(?P<msg>.*))?$")


def module_functions(name):
    """Names of the functions a module defines (ghost functions included:
    Nagini checks their well-definedness too)."""
    path = build.module_path(name)
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), filename=path)
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]


def _locate(file, modules):
    """Nagini names files by their base name; map it back to a path."""
    base = os.path.basename(file)
    for name in modules:
        path = build.module_path(name)
        if os.path.basename(path) == base:
            return os.path.relpath(path, os.getcwd())
    return file


def parse_output(text, modules=MODULES):
    """(successful, [{'where', 'message'}]) from Nagini's output."""
    errors = []
    for line in text.splitlines():
        line = line.strip()
        m = _IDE.match(line) or _AT.match(line)
        if m:
            where = f"{_locate(m['file'], modules)}:{m['line']}:{m['col']}"
            errors.append({"where": where, "message": m["msg"].strip()})
    ok = "Verification successful" in text and not errors
    if not ok and not errors:
        java = [m for m in (_JAVA.match(l.strip()) for l in text.splitlines()) if m]
        if java:
            first = java[0]
            message = first["exc"] + (f": {first['msg']}" if first["msg"] else "")
            errors.append({"where": "", "message": f"Silicon crashed: {message[:300]}"})
            return ok, errors
        tail = [l for l in text.strip().splitlines() if l.strip()]
        errors.append({"where": "", "message": " | ".join(tail[-3:]) or "Nagini printed nothing"})
    return ok, errors


def _signal_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _kill_group(proc):
    _signal_group(proc)
    proc.communicate()


def module_parts(name, functions):
    """The module's functions split into the runs of PARTS (one run when it
    has no entry). A listed name the module does not define is an error,
    so a renamed function cannot silently leave a part."""
    listed = PARTS.get(name, ())
    parts, seen = [], set()
    for part in listed:
        missing = [f for f in part if f not in functions]
        if missing:
            raise ValueError(f"run.PARTS[{name!r}] names {', '.join(missing)}, "
                             f"which {name} does not define")
        parts.append(list(part))
        seen.update(part)
    rest = [f for f in functions if f not in seen]
    if rest:
        parts.append(rest)
    return parts


def prove_module(nagini, name, timeout):
    """One module: a Nagini run per part (module_parts), in turn; ✔ only if
    every part is. The time-out applies to each part."""
    return prove((name,), timeout, log=None, nagini=nagini, jobs=1)["modules"][0]


def _plan(name):
    """The module's path, functions and parts, or a not-run result saying
    why it cannot be run."""
    path = build.module_path(name)
    rel = os.path.relpath(path)
    try:
        functions = module_functions(name)
        parts = module_parts(name, functions)
    except SyntaxError as e:
        return _not_run(name, rel, f"{rel}:{e.lineno}:{e.offset}", f"syntax error: {e.msg}")
    except ValueError as e:
        return _not_run(name, rel, rel, str(e))
    return {"module": name, "path": path, "rel": rel, "functions": functions, "parts": parts}


def _module_result(plan, results):
    """A module's verdict from its parts' runs. Its seconds are the sum of
    its runs' times (runs of different modules may overlap)."""
    took = [r["nagini_seconds"] for r in results]
    return {"module": plan["module"], "path": plan["rel"],
            "proven": all(r["proven"] for r in results), "functions": plan["functions"],
            "parts": len(plan["parts"]), "seconds": round(sum(r["seconds"] for r in results), 1),
            "attempts": [r["attempts"] for r in results],
            "nagini_seconds": None if None in took else round(sum(took), 2),
            "function_seconds": dict(sorted(
                ((f, t) for r in results for f, t in r.get("function_seconds", {}).items()),
                key=lambda item: -item[1])),
            "errors": [e for r in results for e in r["errors"]]}


def _not_run(name, rel, where, message):
    """A module that Nagini was not started on, with the reason."""
    return {"module": name, "path": rel, "proven": False, "functions": [], "seconds": 0.0,
            "nagini_seconds": None, "errors": [{"where": where, "message": message}]}


# Restarts. How long Z3 takes on one of our slower proofs depends on the state
# its random choices are in when the proof starts, that is on which proofs went
# before it in the same Z3 process and on Silicon's scheduling of the run's
# functions over its two verifiers: the same allocator part, unchanged, proved
# in 179 s in one run and grew a Z3 past 8 GB in 7.7 min in the next
# (docs/progress-prove.md, session 9). A time so heavy-tailed is cut by
# restarting: a run that has used FIRST_BUDGET seconds of CPU (its JVM and
# Z3 processes together) without finishing is stopped and started again with
# the prover's random seeds randomized (Silicon's --proverRandomizeSeeds),
# each attempt with twice the CPU of the one before, until the part's
# time-out (wall clock) is spent. CPU, not wall time: a run that shares the
# machine (JOBS, or a loaded CI host) is slow without being stuck, and a wall
# budget restarted such runs for nothing. Each attempt is a whole proof (the
# seeds steer the search, not what is proven), and a failed proof is never
# retried: only a run that did not finish is.
FIRST_BUDGET = 600          # CPU seconds: about 300 s of both cores
RANDOM_SEEDS = "--viper-arg=--proverRandomizeSeeds"
POLL = 0.5                  # seconds between looks at a run's CPU time


def _prove_part(nagini, path, functions, timeout):
    root = os.path.dirname(os.path.dirname(os.path.dirname(path)))
    arguments = ["--ide-mode", "--mypy-path", root, "--select", ",".join(functions), path]
    started = time.monotonic()
    budget, attempts = FIRST_BUDGET, []
    while True:
        left = timeout - (time.monotonic() - started)
        seeds = [RANDOM_SEEDS] if attempts else []
        if _STOPPING.is_set():
            raise _Stopped()
        result = _run_nagini(nagini + seeds + arguments, root, left, budget, functions)
        attempts.append(round(result["seconds"], 1))
        if result["finished"] or time.monotonic() - started >= timeout:
            break
        budget *= 2
    if not result["finished"]:
        tries = (f" ({len(attempts)} attempts, {', '.join(f'{a:g} s' for a in attempts)}; "
                 f"seeds randomized after the first)") if len(attempts) > 1 else ""
        result["errors"] = [{"where": os.path.relpath(path), "message":
                             f"Nagini did not finish within {timeout} s{tries}"}]
    return {"proven": result["proven"], "seconds": round(time.monotonic() - started, 1),
            "attempts": attempts, "nagini_seconds": result["nagini_seconds"],
            "function_seconds": result.get("function_seconds", {}),
            "errors": result["errors"]}


def read_times(text, functions):
    """Silicon's per-member times (CSV reporter: kind,member,milliseconds,…)
    for the given functions, in seconds."""
    times = {}
    for line in text.splitlines():
        fields = [f.strip() for f in line.split(",")]
        if len(fields) >= 3 and fields[0].startswith("Entity") and fields[1] in functions:
            try:
                times[fields[1]] = round(int(fields[2]) / 1000, 1)
            except ValueError:
                pass
    return times


def _run_nagini(command, root, limit, cpu_budget, functions=()):
    """One Nagini run, stopped after `limit` seconds or once its processes
    have used `cpu_budget` seconds of CPU."""
    with tempfile.NamedTemporaryFile(prefix="vernat-prove-", suffix=".csv") as times:
        env = dict(os.environ, MYPYPATH=root, PYTHONPATH=root, VERNAT_PROVE_TIMES=times.name)
        result = _run_nagini_process(command, root, env, limit, cpu_budget)
        if result["finished"]:
            with open(times.name, encoding="utf-8", errors="replace") as f:
                result["function_seconds"] = read_times(f.read(), set(functions))
    return result


def session_cpu(session):
    """CPU seconds used by the processes of a session: those alive, and the
    children they have reaped (Z3 processes Silicon has closed)."""
    ticks = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue                    # ended while we looked
        if int(fields[3]) == session:
            ticks += sum(int(x) for x in fields[11:15])   # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _run_nagini_process(command, root, env, limit, cpu_budget):
    started = time.monotonic()
    # Nagini's own session: on a time-out (or Ctrl-C) the whole group goes,
    # its JVM and Z3 processes too, which would otherwise keep a core busy
    with _LIVE_LOCK:
        if _STOPPING.is_set():
            raise _Stopped()
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, cwd=root, env=env, start_new_session=True)
        _LIVE.add(proc)
    try:
        while True:
            try:
                out, err = proc.communicate(
                    timeout=max(min(POLL, started + limit - time.monotonic()), 0.01))
                break
            except subprocess.TimeoutExpired:
                if (time.monotonic() - started >= limit or
                        session_cpu(proc.pid) >= cpu_budget):
                    _kill_group(proc)
                    return {"finished": False, "proven": False, "errors": [],
                            "seconds": time.monotonic() - started, "nagini_seconds": None}
    except BaseException:
        _kill_group(proc)
        raise
    finally:
        with _LIVE_LOCK:
            _LIVE.discard(proc)
    text = out + "\n" + err
    ok, errors = parse_output(text)
    took = _TOOK.search(text)
    return {"finished": True, "proven": ok and proc.returncode == 0, "errors": errors,
            "seconds": time.monotonic() - started,
            "nagini_seconds": float(took.group(1)) if took else None}


# Runs at a time. The runs are independent (each proof uses only its callees'
# contracts), so any number may run together; the longest start first so that
# short ones fill the end. One by default: on this 2-core machine each run's
# Silicon already starts two verifiers (one Z3 each), and two runs side by
# side took longer in all (1,844 s against 1,365 s one at a time, session 10,
# docs/progress-prove.md): four Z3 processes on two cores slowed every proof,
# and the allocator's slowest part, started late, ran alone at the end anyway.
# --jobs is for machines with cores to spare.
JOBS = 1

# The Nagini processes running now, so that an interrupt of the main thread
# ends them all; once _STOPPING is set no new run starts.
_LIVE = set()
_LIVE_LOCK = threading.Lock()
_STOPPING = threading.Event()


class _Stopped(Exception):
    """A part not started because `prove` is being interrupted."""


def _stop_all():
    with _LIVE_LOCK:
        _STOPPING.set()
        live = list(_LIVE)
    for proc in live:
        _signal_group(proc)     # its own thread reaps it (communicate is not shared)


def prove(modules=MODULES, timeout=1800, log=print, nagini=None, on_module=None, jobs=JOBS):
    """Prove each module; a dict with one entry per module (in the order
    given) and the verdict. Up to `jobs` Nagini runs at a time;
    on_module(result) is called as each module's last run ends."""
    from vernat.prove import env
    if nagini is None:
        nagini = env.ensure(log)
    started = time.monotonic()
    plans = [_plan(name) for name in modules]
    results = [plan if "errors" in plan else None for plan in plans]
    for r in results:
        if r is not None and on_module:
            on_module(r)
    # one at a time: in the order given; more: later modules first, as they
    # import more and take longer (the library's dependency order)
    order = range(len(plans)) if jobs <= 1 else reversed(range(len(plans)))
    tasks = [(m, k) for m in order if results[m] is None
             for k in range(len(plans[m]["parts"]))]
    done = {m: {} for m in range(len(plans))}
    _STOPPING.clear()
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        futures = {pool.submit(_prove_part, nagini, plans[m]["path"], plans[m]["parts"][k],
                               timeout): (m, k) for m, k in tasks}
        for future in as_completed(futures):
            m, k = futures[future]
            done[m][k] = future.result()
            if len(done[m]) == len(plans[m]["parts"]):
                results[m] = _module_result(plans[m], [done[m][k] for k in sorted(done[m])])
                if on_module:
                    on_module(results[m])
    except BaseException:
        _stop_all()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _STOPPING.clear()       # every thread is done: the stop was this call's only
    return {"modules": results, "proven": all(r["proven"] for r in results),
            "seconds": round(time.monotonic() - started, 1)}
