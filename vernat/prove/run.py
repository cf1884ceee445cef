"""Run Nagini on every state-library module.

Each module is verified as Nagini's `--select` of the functions it defines
would verify it: its own functions are proven against their contracts, while
the functions it imports are used through their contracts only (they are
proven in their own module's run). The runs happen in workers
(`vernat.prove.worker`: one JVM for many parts, mypy once per module), each
part with its own Silicon. A module is ✔ only when Nagini reports
"Verification successful" for every part; anything else (a failed
obligation, a translation or type error, a crash, a time-out) is ✘ with the
messages mapped to file and line. Nothing is skipped.
"""

import ast
import collections
import json
import os
import queue
import re
import signal
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from vernat import build
from vernat.prove import expected

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

# Modules proven in parts: one Silicon per part, each with its own Z3
# processes. Each function is still proven against the same contracts
# (Nagini's proofs are modular: a function's proof uses only its callees'
# contracts), so the parts only decide which proofs share a Z3 process. Proofs
# that share one can slow each other down or blow its memory up, and which
# ones do changes from run to run (docs/progress-prove.md, sessions 7 and 8:
# the allocator's free chain next to its other operations grew Z3 past 9 GB;
# the flow table's proof, 664 s in one run, stalled for over 17 min in the
# next). Listed here: every part but the last, which is every function of
# the module not listed.
PARTS = {
    # the least-recently-used order's definitions and lemmas, in parts of
    # their own: in one Silicon run, lemmas that take seconds alone grew a Z3
    # past 6 GB (docs/progress-prove.md, sessions 15-16). lru_links is carried
    # across unlinking and appending conjunct by conjunct (lru_link_*), each
    # its own lemma of a few seconds; in one lemma each took 13-97 s and
    # grew a Z3 past 4 GB in company.
    "vernat.state.model": (
        ("listed", "lru_top_body", "lru_top", "lru_link_ends", "lru_link_next",
         "lru_link_prev", "lru_link_bounds", "lru_links_body", "lru_links", "lru_gap_body",
         "lru_gap", "lru_order_body", "lru_order", "lru_body", "lru_ok_a", "newest_time",
         "stamp_room", "all_fresh", "lru_same", "lru_same_times", "lemma_rec_words",
         "lemma_header_words", "lemma_link_words", "lemma_unlinked_words",
         "lemma_appended_words", "lemma_cleared_words"),
        ("lemma_lru_transfer_top", "lemma_lru_transfer_links", "lemma_lru_transfer_gap",
         "lemma_lru_transfer_order", "lemma_lru_transfer", "lemma_lru_header", "lemma_lru_taken",
         "lemma_next_free_free", "lemma_ring_facts", "lemma_lru_fresh", "lemma_none_live",
         "lemma_lru_ok_empty", "lemma_fresh_at_stop"),
        ("lemma_lru_neighbours", "lemma_lru_unlinked_ends", "lemma_lru_unlinked_next",
         "lemma_lru_unlinked_prev", "lemma_lru_unlinked_bounds", "lemma_lru_unlinked_links",
         "lemma_lru_unlinked_top", "lemma_lru_unlinked_gap", "lemma_lru_unlinked_order",
         "lemma_lru_unlinked"),
        # alone: beside the other appending lemmas it stalled with default
        # seeds in every run of session 20 (proving in 16 s after the
        # restart); beside the unlinking ones, lemma_lru_unlinked_prev then
        # stalled twice in a whole run
        ("lemma_lru_appended_gap",),
        ("lemma_lru_appending", "lemma_lru_appended_ends", "lemma_lru_appended_next",
         "lemma_lru_appended_prev", "lemma_lru_appended_bounds", "lemma_lru_appended_links",
         "lemma_lru_appended_top", "lemma_lru_appended_order",
         "lemma_lru_appended"),
        ("lemma_lru_order_kept", "lemma_lru_order_join", "lemma_lru_raised_order", "lemma_lru_timed",
         "lemma_lru_relinked_links", "lemma_lru_relinked_order", "lemma_lru_ok_touched",
         "lemma_lru_ok_allocated", "lemma_lru_keyed_same", "lemma_lru_ok_keyed", "lemma_lru_ok_added",
         "lemma_lru_released", "lemma_lru_cleared", "lemma_lru_ok_freed"),
    ),
    "vernat.state.allocator": (
        # the setters _set_keys and _set_stamp are here, not in the last part:
        # beside _take/_stamp/index_refresh/index_oldest Z3 4.8.7 segfaulted
        # (one address, in four whole runs of sessions 17-18); the last part
        # without them proved in 120 s with no crash
        ("_set_header", "_set_last_seen", "_set_flow", "_set_prev", "_set_next", "_set_ring",
         "_set_pos", "_set_keys", "_set_stamp", "_ring_put", "_ring_swap_words", "_swap_out",
         "_mark_free", "_release", "_unlink", "_clear_words", "_clear", "index_free"),
        ("lru_unlink", "_link_new", "lru_append", "lru_touch"),
        # alone: 27 s so, and it stalled in the index part (its other seven
        # functions proven in about a minute) in both whole runs of session 16
        ("index_allocate",),
    ),
    "vernat.state.flowmap": (
        # the stores and the small readers apart: in one part, slot_fill
        # (a few seconds alone) stalled after the others were proven, with
        # default seeds in every run of session 20 (two whole runs, one
        # module run), about 160 s lost each time. Split, the module took
        # 161.6-179.9 s with its heavy proofs faster, but slot_fill stalled
        # once more in this small part (session 20's last run): its proof,
        # not its company, is next
        ("key_hash", "map_home", "map_free_slot", "slot_put", "slot_fill", "slot_clear",
         "map_prefetch"),
    ),
    "vernat.state.flowtable": (
        # flow_expire in a part of its own: it stalled beside the four below
        # (three whole runs, sessions 17-18) and beside the small functions
        # of the last part (session 19), and proved in 8-11 s alone (a fresh
        # Z3 for its method); its own part costs about 35 s, a stall 150 s
        ("flow_expire",),
        ("_expired_oldest", "_remove", "_erase_keeping", "_free_keeping"),
        ("_allocate_keeping", "_fill_keeping", "_insert_keeping", "_map_insert_keeping",
         "flow_allocate"),
        ("table_init", "_put", "_init_header", "_init_slots", "_init_indices", "_init_records",
         "_init_links", "_init_ring"),
    ),
}

# ide-mode errors: file:line:col:line_end:col_end: error: message
_IDE = re.compile(r"^(?P<file>[^:\s]+\.py):(?P<line>\d+):(?P<col>\d+):\d+:\d+: error: (?P<msg>.*)$")
# translation and type errors: "... (path@line.col)"
_AT = re.compile(r"^(?P<msg>.*?)\s*\((?P<file>[^()\s]+\.py)@(?P<line>\d+)\.(?P<col>\d+)\)\s*$")
# a crash inside Silicon: Nagini prints the Java stack trace, then its own
# Python traceback; the Java exception's first line says what happened
_JAVA = re.compile(r"^(?:Caused by: )?(?P<exc>(?:[a-z]\w*\.)+\w*(?:Exception|Error))(?::\s*(?P<msg>.*))?$")


def module_functions(name):
    """Names of the functions a module defines (ghost functions included:
    Nagini checks their well-definedness too)."""
    return _defined_functions(build.module_path(name))


def _defined_functions(path):
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
    """One module: its parts (module_parts) in turn on one worker; ✔ only if
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
            # for each stopped attempt, the functions it had not reported
            # proven: the one it was stuck on is among them
            "stopped_on": [names for r in results for names in r.get("stopped_on", [])],
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
# before it in the same Z3 process and on Silicon's scheduling of the part's
# functions over its verifiers: the same allocator part, unchanged, proved
# in 179 s in one run and grew a Z3 past 8 GB in 7.7 min in the next
# (docs/progress-prove.md, session 9). A time so heavy-tailed is cut by
# restarting: a part that has used FIRST_BUDGET seconds of CPU (its worker's
# JVM and Z3 processes together), or one of whose Z3 processes has grown past
# PROVER_MEMORY, without finishing is stopped (the worker with it) and proven
# again by a new worker with the prover's random seeds randomized (Silicon's
# --proverRandomizeSeeds), each attempt with twice the CPU and memory of the
# one before (so that a proof that needs more still gets it), until the
# part's time-out (wall clock) is spent. CPU,
# not wall time: a part that shares the machine (jobs, or a loaded CI host) is
# slow without being stuck, and a wall budget restarted such parts for
# nothing. Each attempt is a whole proof (the seeds steer the search, not what
# is proven), and a failed proof is never retried: only a part that did not
# finish is. What a stopped attempt proved stays proven: Silicon reports each
# function when its proof is done (EntitySuccessMessage in the attempt's
# times file), and each function's proof uses only its callees' contracts,
# so the next attempt proves the part's other functions only. A part whose
# Z3 crashed is restarted the same way (prover_crashed).
FIRST_BUDGET = 600          # CPU seconds: about 300 s of both cores
# A Z3 that has grown this large is lost in a matching loop, not working
# towards a proof: the part restarts at once rather than at the end of its
# CPU budget. Sampled every 2 s in session 13 (docs/progress-prove.md): Z3s
# proving stayed under 1.8 GB (most near 100-200 MB; flowmap's jump to
# 1.4-1.8 GB within seconds, then stay); two stuck ones grew by about 0.5 GB
# a minute, to 4.6 GB and 9.4 GB, on one core each, so the CPU budget took
# 6-10 minutes to stop them.
PROVER_MEMORY = 4 * 2**30
# A part none of whose proofs ends for this long (CPU seconds, doubled per
# attempt like the budget) is stuck on one of them: Silicon reports each
# function as it is proven (its times file grows), and the slowest of ours
# takes about 80 s of one core. Session 16: a part of 26 functions, each
# proven in 0.1-8 s alone, stopped reporting after its 16th, twice; its other
# 10 proved in 52 s in a part of their own.
STALL_BUDGET = 240
# Once a part has reported a proof, the budget shrinks to what the proofs
# still pending are expected to need (vernat/prove/expected.py): a stall on a
# proof of a few seconds is cut after a minute or so instead of four.
_EXPECTED = expected.load()
POLL = 0.5                  # seconds between looks at a part's CPU time
# How long a stopped part's worker may take to end the part once its Z3s are
# killed (Worker.interrupt; about a second here) before it is closed instead.
INTERRUPT_WAIT = 30


class Worker:
    """A `vernat.prove.worker` process: one JVM, then one part after
    another, each Nagini's own translate-and-verify with a fresh Silicon
    (mypy's result for a module kept for its later parts). Started in its
    own session, so that closing it ends its JVM and Z3 processes too."""

    def __init__(self, command, root, verifiers):
        env = dict(os.environ, MYPYPATH=root, PYTHONPATH=root)
        with _LIVE_LOCK:
            if _STOPPING.is_set():
                raise _Stopped()
            self.proc = subprocess.Popen(
                command + [root, str(verifiers)], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=root, env=env,
                start_new_session=True)
            _LIVE.add(self.proc)
        self.events = queue.Queue()
        self.stderr = collections.deque(maxlen=200)
        threading.Thread(target=self._read_events, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_events(self):
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue                # not the protocol: a stray print
            if isinstance(event, dict):
                self.events.put(event)
        self.events.put(None)           # the worker's output ended

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip("\n"))

    def prove(self, request, deadline, cpu_budget, memory, stall=None):
        """Send one part and wait for its verdict: the "done" event, or None
        when the deadline (monotonic) passes, the part uses `cpu_budget`
        seconds of CPU, or `stall(reported)` seconds of CPU with no proof
        reported (its times file does not grow; `reported`: the functions
        its times file names so far), one of its Z3 processes outgrows
        `memory` bytes, or the worker ends without a verdict (then
        `self.ended` is set)."""
        self.ended = False
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        except OSError:
            self.ended = True
            return None
        cpu_start = session_cpu(self.proc.pid)
        progress = (_size(request.get("times")), cpu_start)
        allowed = stall(set()) if stall is not None else None
        while True:
            try:
                event = self.events.get(
                    timeout=max(min(POLL, deadline - time.monotonic()), 0.01))
            except queue.Empty:
                event = False
            if event is None:
                self.ended = True
                return None
            if event and event.get("event") == "done" and event.get("part") == request["part"]:
                return event
            cpu = session_cpu(self.proc.pid)
            size = _size(request.get("times"))
            if size != progress[0]:
                progress = (size, cpu)
                if stall is not None:
                    allowed = stall(_reported(request.get("times"), set(request["functions"])))
            if (time.monotonic() >= deadline or cpu - cpu_start >= cpu_budget or
                    (allowed is not None and cpu - progress[1] >= allowed) or
                    largest_prover(self.proc.pid) >= memory):
                return None

    def interrupt(self, part, wait=None):
        """Stop the part in progress but keep the worker (its JVM, mypy's
        results): kill the processes of its session other than itself, that
        is Silicon's Z3 processes, on which Silicon ends the part at once
        (ProverInteractionFailed), and wait for that verdict. True when the
        worker is idle again; False when it is not within `wait` seconds or
        has ended (then close it)."""
        for pid, _ in _session_processes(self.proc.pid):
            if pid != self.proc.pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + (INTERRUPT_WAIT if wait is None else wait)
        while True:
            try:
                event = self.events.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                return False
            if event is None:
                self.ended = True
                return False
            if event.get("event") == "done" and event.get("part") == part:
                return True

    def close(self):
        _signal_group(self.proc)
        try:
            self.proc.communicate(timeout=10)
        except (subprocess.TimeoutExpired, ValueError, OSError):
            pass
        with _LIVE_LOCK:
            _LIVE.discard(self.proc)


def _prove_task(slot, command, task, timeout):
    """One part, on the worker in `slot` (a one-item list, so that a new
    worker replaces a stopped one for the tasks after this); restarted with
    random seeds, for the functions it has not proven yet, while it does not
    finish (Restarts, above)."""
    started = time.monotonic()
    budget, attempts = FIRST_BUDGET, []
    proven_before = {}          # function -> seconds, from stopped attempts
    stopped_on = []             # per stopped attempt, what it had not proven
    functions = list(task["functions"])
    with tempfile.TemporaryDirectory(prefix="vernat-prove-") as tmp:
        while True:
            if _STOPPING.is_set():
                raise _Stopped()
            if slot[0] is None:
                slot[0] = Worker(command, task["root"], task["verifiers"])
            times = os.path.join(tmp, f"times-{len(attempts)}.csv")
            request = {"part": task["part"], "file": task["path"],
                       "functions": functions, "seeds": bool(attempts),
                       # every other function of the library is proven in
                       # its own part (or was, by a stopped attempt)
                       "exclude": sorted(set(task.get("library", ())) - set(functions)),
                       "times": times, "viper": task.get("viper"), "next": task.get("next")}
            attempt_started = time.monotonic()
            done = slot[0].prove(request, started + timeout, budget,
                                 PROVER_MEMORY * 2 ** len(attempts),
                                 _stall_rule(task, functions, len(attempts)))
            attempts.append(round(time.monotonic() - attempt_started, 1))
            if done is not None and not prover_crashed(done.get("output", "")):
                break
            proven_before.update(_proven(times, set(functions)))
            functions = [f for f in functions if f not in proven_before]
            stopped_on.append(list(functions))
            crashed = done is not None      # its Z3 died; the worker is well
            ended, stderr = not crashed and slot[0].ended, list(slot[0].stderr)
            # a stopped part's worker is kept when its Z3s can be stopped
            # alone: a new one would start its JVM and run mypy again
            if not crashed and (ended or not slot[0].interrupt(task["part"])):
                slot[0].close()
                slot[0] = None
            if ended or time.monotonic() - started >= timeout:
                if ended:               # the worker crashed: not a time-out
                    errors = parse_output("\n".join(stderr))[1]
                    for e in errors:
                        e["message"] = "Nagini's worker ended without a verdict: " + e["message"]
                elif crashed:
                    errors = parse_output(done["output"])[1]
                else:
                    tries = (f" ({len(attempts)} attempts, "
                             f"{', '.join(f'{a:g} s' for a in attempts)}; "
                             f"seeds randomized after the first)") if len(attempts) > 1 else ""
                    errors = [{"where": os.path.relpath(task["path"]), "message":
                               f"Nagini did not finish within {timeout} s{tries}"}]
                return {"proven": False, "seconds": round(time.monotonic() - started, 1),
                        "attempts": attempts, "stopped_on": stopped_on, "nagini_seconds": None,
                        "function_seconds": {}, "errors": errors}
            if not functions:       # all proven, the verdict lost with its worker
                done = {"output": "Verification successful"}
                break
            budget *= 2
        ok, errors = parse_output(done["output"])
        function_seconds = dict(proven_before)
        function_seconds.update(read_times(_times_text(times), set(functions)))
    return {"proven": ok, "seconds": round(time.monotonic() - started, 1),
            "attempts": attempts, "stopped_on": stopped_on,
            "nagini_seconds": done.get("seconds"),
            "prefetched": bool(done.get("prefetched")),
            "function_seconds": function_seconds, "errors": errors}


def _stall_rule(task, functions, restarts):
    """The stall budget of an attempt (Worker.prove's `stall`), doubled per
    restart like the CPU budget: STALL_BUDGET until the attempt reports its
    first proof (before that it also translates and sets Silicon up), then
    expected.stall_budget of the functions still pending."""
    times = _EXPECTED.get(_module_name(task["path"]), {})
    scale = 2 ** restarts

    def rule(reported):
        if not reported:
            return STALL_BUDGET * scale
        pending = set(functions) - reported
        return expected.stall_budget(pending, times, STALL_BUDGET) * scale
    return rule


def _module_name(path):
    """vernat.state.x for ROOT/vernat/state/x.py."""
    rel = os.path.relpath(str(path), _root(str(path)))
    return os.path.splitext(rel)[0].replace(os.sep, ".")


def _times_text(times):
    """What Silicon's times file (path, or None) holds so far; "" if nothing."""
    try:
        with open(times, encoding="utf-8", errors="replace") as f:
            return f.read()
    except (OSError, TypeError):
        return ""


def _reported(times, functions):
    """The functions Silicon's times file reports so far (proven or not)."""
    return set(read_times(_times_text(times), functions))


def prover_crashed(output):
    """Whether a part ended because a Z3 process died under Silicon (Silicon
    says so: ProverInteractionFailed). That is no verdict on any proof: Z3
    4.8.7 segfaults on some query sequences (session 17: three times at one
    address, in the same part, once its program had changed elsewhere), so
    the part is restarted like a stuck one, with random seeds, for the
    functions not reported proven."""
    return "ProverInteractionFailed" in output


def _size(path):
    try:
        return os.path.getsize(path) if path else 0
    except OSError:
        return 0


def _proven(times, functions):
    """The functions a stopped attempt reported proven, with their times."""
    text = _times_text(times)
    ok = {_function_named(line.split(",")[1].strip(), functions)
          for line in text.splitlines() if line.startswith("EntitySuccessMessage,")}
    return read_times(text, functions & ok)


def read_times(text, functions):
    """Silicon's per-member times (CSV reporter: kind,member,milliseconds,…)
    for the given functions, in seconds."""
    times = {}
    for line in text.splitlines():
        fields = [f.strip() for f in line.split(",")]
        name = _function_named(fields[1], functions) if len(fields) >= 3 else None
        if fields[0].startswith("Entity") and name in functions:
            try:
                times[name] = round(int(fields[2]) / 1000, 1)
            except ValueError:
                pass
    return times


def _function_named(member, functions):
    """Our function that Silicon's member is: Nagini renames a function whose
    name its prelude uses (model.capacity is `capacity_0`)."""
    if member in functions:
        return member
    base, _, suffix = member.rpartition("_")
    return base if suffix.isdigit() and base in functions else member


def _session_processes(session):
    """(pid, the fields of /proc/pid/stat after the command) of each live
    process of a session."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue                    # ended while we looked
        if int(fields[3]) == session:
            yield int(entry), fields


def largest_prover(session):
    """Resident memory, in bytes, of the largest process of a session other
    than its leader (the worker's JVM): its Z3 processes."""
    return max((int(fields[21]) * _PAGE                    # rss, in pages
                for pid, fields in _session_processes(session) if pid != session), default=0)


_PAGE = os.sysconf("SC_PAGE_SIZE")


def session_cpu(session):
    """CPU seconds used by the processes of a session: those alive, and the
    children they have reaped (Z3 processes Silicon has closed)."""
    ticks = sum(sum(int(x) for x in fields[11:15])          # utime stime cutime cstime
                for _, fields in _session_processes(session))
    return ticks / os.sysconf("SC_CLK_TCK")


# Workers at a time. The parts are independent (each proof uses only its
# callees' contracts), so any number of workers may prove them together, each
# with its share of the cores as Silicon verifiers; the longest parts start
# first so that short ones fill the end. One by default: on this 2-core
# machine its Silicon starts two verifiers (one Z3 each), and two Nagini runs
# side by side took longer in all (1,844 s against 1,365 s one at a time,
# session 10, docs/progress-prove.md); two workers with one verifier each were
# no better (session 13: one slow method on one core decided the run). --jobs
# is for machines with cores to spare.
JOBS = 1

# The worker processes running now, so that an interrupt of the main thread
# ends them all; once _STOPPING is set no new one starts.
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
        _signal_group(proc)     # its own thread reaps it


def _root(path):
    """The tree a module file belongs to (…/ROOT/vernat/state/x.py)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(path)))


def prove_parts(path, parts, timeout, nagini=None, viper=None):
    """Parts (lists of functions) of one module file, in any tree, one after
    another on one worker: what `nagini --select` says of each, as result
    dicts. With `viper` (a list of paths, one per part), each part's Viper
    program is written there too."""
    from vernat.prove import env
    command = nagini or env.ensure(log=None)
    slot, results = [None], []
    library = library_functions(_root(str(path)))
    try:
        for n, functions in enumerate(parts):
            task = _task(n, path, functions, 1, library, viper=viper[n] if viper else None,
                         next=_following(path, parts[n + 1]) if n + 1 < len(parts) else None)
            results.append(_prove_task(slot, command, task, timeout))
    finally:
        if slot[0] is not None:
            slot[0].close()
    return results


def prove_functions(path, functions, timeout, nagini=None):
    """Some functions of one module file, as one part (prove_parts)."""
    return prove_parts(path, [functions], timeout, nagini)[0]


def _following(path, functions):
    """A request's "next": the part its worker may translate meanwhile."""
    return {"file": str(path), "functions": list(functions)}


def _task(part, path, functions, jobs, library, **more):
    """What _prove_task needs to prove one part; with `jobs` workers at a
    time, each gets its share of the cores as Silicon verifiers. `library`:
    library_functions of the part's tree."""
    return {"part": part, "path": str(path), "functions": list(functions),
            "root": _root(str(path)), "library": library,
            "verifiers": max(1, (os.cpu_count() or 1) // max(1, jobs)), **more}


def library_functions(root):
    """Every function the library's modules define in the tree at `root`:
    each is proven in one part of its module, so the other parts need not
    verify it again (worker._silicon_args). A module file that is missing or
    does not parse adds nothing (its own plan reports it)."""
    names = set()
    for name in MODULES:
        try:
            names.update(_defined_functions(os.path.join(root, *name.split(".")) + ".py"))
        except (OSError, SyntaxError):
            continue
    return sorted(names)


def prove(modules=MODULES, timeout=1800, log=print, nagini=None, on_module=None, jobs=JOBS):
    """Prove each module; a dict with one entry per module (in the order
    given) and the verdict. Up to `jobs` workers at a time; on_module(result)
    is called as each module's last part ends."""
    from vernat.prove import env
    if nagini is None:
        nagini = env.ensure(log)
    started = time.monotonic()
    plans = [_plan(name) for name in modules]
    results = [plan if "errors" in plan else None for plan in plans]
    for r in results:
        if r is not None and on_module:
            on_module(r)
    # one worker: in the order given; more: later modules first, as they
    # import more and take longer (the library's dependency order)
    order = range(len(plans)) if jobs <= 1 else reversed(range(len(plans)))
    library = library_functions(_root(build.module_path(MODULES[0])))
    tasks = collections.deque(
        _task(n, plans[m]["path"], plans[m]["parts"][k], jobs, library, module=m, index=k)
        for n, (m, k) in enumerate((m, k) for m in order if results[m] is None
                                   for k in range(len(plans[m]["parts"]))))
    done = {m: {} for m in range(len(plans))}
    lock = threading.Lock()

    def serve():
        slot = [None]
        try:
            while True:
                with lock:
                    if not tasks:
                        return
                    task = tasks.popleft()
                    # the part this worker likely proves next (another
                    # worker may take it: then its translation is wasted)
                    if tasks:
                        task["next"] = _following(tasks[0]["path"], tasks[0]["functions"])
                part = _prove_task(slot, nagini, task, timeout)
                m = task["module"]
                with lock:
                    done[m][task["index"]] = part
                    if len(done[m]) < len(plans[m]["parts"]):
                        continue
                    results[m] = _module_result(plans[m], [done[m][k] for k in sorted(done[m])])
                if on_module:
                    on_module(results[m])
        finally:
            if slot[0] is not None:
                slot[0].close()

    _STOPPING.clear()
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        for future in [pool.submit(serve) for _ in range(max(1, jobs))]:
            future.result()
    except BaseException:
        _stop_all()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _STOPPING.clear()       # every thread is done: the stop was this call's only
    return {"modules": results, "proven": all(r["proven"] for r in results),
            "seconds": round(time.monotonic() - started, 1)}
