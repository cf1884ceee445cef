"""`vernat prove` without Nagini: output mapping, verdicts, flags."""

import os
import stat
import sys
import time

import pytest

from vernat import cli
from vernat.prove import expected, run


def test_ide_errors_map_to_the_module_file_and_line():
    text = ("Verification failed\nErrors:\n"
            "allocator.py:42:9:42:30: error: Postcondition of index_free might not hold. "
            "Assertion x might not hold.\nVerification took 12.5 seconds.\n")
    ok, errors = run.parse_output(text)
    assert not ok
    assert errors == [{"where": os.path.join("vernat", "state", "allocator.py") + ":42:9",
                       "message": "Postcondition of index_free might not hold. "
                                  "Assertion x might not hold."}]


def test_translation_errors_map_too():
    ok, errors = run.parse_output("Translation failed\nInvalid program: purity.violated "
                                  "(vernat/state/flowmap.py@6.13)\n")
    assert not ok and errors[0]["where"].endswith("flowmap.py:6:13")


def test_only_a_clean_success_proves():
    assert run.parse_output("Verification successful\nVerification took 3.0 seconds.\n") \
        == (True, [])
    ok, errors = run.parse_output("Traceback (most recent call last):\n  boom\nKeyError: 'x'\n")
    assert not ok and "KeyError" in errors[0]["message"]
    assert run.parse_output("")[0] is False


def test_a_silicon_crash_names_the_java_exception():
    # what Nagini prints when Silicon throws: the Java trace, then its own
    text = ("java.lang.RuntimeException: viper.silicon.interfaces.decider.ProverError: z3 died\n"
            "\tat viper.silicon.Silicon.verify(Silicon.scala:1)\n"
            "Traceback (most recent call last):\n"
            "AttributeError: 'NoneType' object has no attribute 'to_string'\n")
    ok, errors = run.parse_output(text)
    assert not ok
    assert errors[0]["message"].startswith("Silicon crashed: java.lang.RuntimeException")
    assert "z3 died" in errors[0]["message"]


FAKE_WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_worker.py")


def _worker(script):
    """The command of a fake worker whose "Nagini" is this shell script."""
    return [sys.executable, FAKE_WORKER, str(script)]


def _fake_nagini(tmp_path, output, code):
    script = tmp_path / "nagini"
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' '{output}'\nexit {code}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return _worker(script)


def _script(tmp_path, body):
    """A fake Nagini: a shell script with this body."""
    script = tmp_path / "nagini"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    return _worker(script)


def test_every_module_runs_and_a_failure_is_a_cross(tmp_path):
    good = run.prove(nagini=_fake_nagini(tmp_path, "Verification successful", 0), log=None)
    assert good["proven"] and [r["module"] for r in good["modules"]] == list(run.MODULES)
    bad = run.prove(nagini=_fake_nagini(tmp_path, "Verification failed", 1), log=None)
    assert not bad["proven"] and not any(r["proven"] for r in bad["modules"])
    # a zero exit without the success line is not a proof
    odd = run.prove(nagini=_fake_nagini(tmp_path, "something else", 0), log=None)
    assert not odd["proven"]


def test_each_module_selects_its_own_functions():
    assert "index_allocate" in run.module_functions("vernat.state.allocator")
    assert "flow_expire" in run.module_functions("vernat.state.flowtable")


def test_each_part_leaves_silicon_only_its_own_methods_to_verify(tmp_path):
    # the methods a part calls but does not prove are proven in their own
    # parts: Silicon is told to skip them, and nothing the part proves
    calls = tmp_path / "calls"
    nagini = _script(tmp_path, f"printf '%s\\n' \"$*\" >> {calls}\n"
                     "echo 'Verification successful'\n")
    result = run.prove(modules=("vernat.state.allocator",), nagini=nagini, log=None)
    assert result["proven"]
    library = set(run.library_functions(run._root(run.build.module_path("vernat.state.layout"))))
    assert {"index_allocate", "map_insert", "flow_expire", "lemma_lru_unlinked"} <= library
    seen = set()
    for line in calls.read_text().splitlines():
        words = line.split()
        selected = set(words[words.index("--select") + 1].split(","))
        excluded = [w.split("=", 2)[2] for w in words if w.startswith("--viper-arg=--excludeMethods=")]
        assert len(excluded) == 1
        assert set(excluded[0].split("|")) == library - selected
        seen |= selected
    assert seen == set(run.module_functions("vernat.state.allocator"))


@pytest.mark.parametrize("argv, message", [
    (["prove", "--module", "nosuch"], "--module nosuch: not a state-library module"),
    (["prove", "--timeout", "0"], "--timeout must be at least 1 second"),
    (["prove", "--jobs", "0"], "--jobs must be at least 1"),
    (["prove", "--timeout", "x"], "argument --timeout: invalid int value"),
])
def test_bad_flags_are_one_line(argv, message, capsys):
    assert cli.main(argv) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_time_out_removes_nagini_and_every_process_it_started(tmp_path):
    # Nagini runs a JVM and Z3 processes; killing only Nagini left them running
    pidfile = tmp_path / "child.pid"
    script = tmp_path / "nagini"
    script.write_text(f"#!/bin/sh\nsleep 300 &\necho $! > {pidfile}\nwait\n")
    script.chmod(0o755)
    result = run.prove_module(_worker(script), "vernat.state.layout", timeout=1)
    assert not result["proven"]
    assert "did not finish within 1 s" in result["errors"][0]["message"]
    child = int(pidfile.read_text())
    for _ in range(50):                 # SIGKILL is delivered at once; reaping may lag
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        if open(f"/proc/{child}/stat").read().split()[2] == "Z":
            break                       # killed, waiting for its parent (init) to reap it
        time.sleep(0.1)
    else:
        raise AssertionError(f"Nagini's child {child} outlived the time-out")


@pytest.mark.parametrize("module", sorted(run.PARTS))
def test_a_module_in_parts_has_every_function_in_exactly_one(module):
    functions = run.module_functions(module)
    parts = run.module_parts(module, functions)
    # the listed parts, and one more for every function they do not list
    assert len(parts) == len(run.PARTS[module]) + 1
    assert sorted(f for part in parts for f in part) == sorted(functions)


def test_a_module_not_in_parts_is_one_run():
    assert "vernat.state.ghost" not in run.PARTS
    assert run.module_parts("vernat.state.ghost", ["a", "b"]) == [["a", "b"]]


def test_a_part_naming_a_missing_function_is_a_cross(monkeypatch, tmp_path):
    monkeypatch.setitem(run.PARTS, "vernat.state.layout", (("no_such_function",),))
    nagini = _fake_nagini(tmp_path, "Verification successful", 0)
    result = run.prove_module(nagini, "vernat.state.layout", timeout=30)
    assert not result["proven"]
    assert "no_such_function" in result["errors"][0]["message"]


def test_each_part_is_its_own_run_and_one_failing_part_fails_the_module(tmp_path):
    # the fake Nagini fails the run whose --select names index_free
    log = tmp_path / "calls"
    nagini = _script(tmp_path, f"echo \"$@\" >> {log}\n"
                     "case \"$3\" in *index_free*) echo 'Verification failed'; exit 1;; esac\n"
                     "echo 'Verification successful'\n")
    result = run.prove_module(nagini, "vernat.state.allocator", timeout=30)
    runs = len(run.PARTS["vernat.state.allocator"]) + 1
    assert runs >= 2
    assert len(log.read_text().splitlines()) == runs
    assert result["parts"] == runs and not result["proven"]


BUSY = "while :; do :; done\n"     # a stuck Z3: it burns CPU


def _cpu_as_age(monkeypatch):
    """Count a run's CPU as its age, as if it had a core to itself, so that
    the budget's arithmetic is tested apart from the machine's load."""
    born = {}
    monkeypatch.setattr(run, "session_cpu",
                        lambda session: time.monotonic() - born.setdefault(session,
                                                                           time.monotonic()))


def _seed_sensitive_nagini(tmp_path):
    """A fake Nagini that is stuck (burning CPU) with Silicon's default seeds
    and proves at once with randomized ones; it logs each call."""
    script = tmp_path / "nagini"
    log = tmp_path / "calls"
    script.write_text(f"#!/bin/sh\necho \"$*\" >> {log}\n"
                      "case \"$*\" in *--proverRandomizeSeeds*) "
                      "echo 'Verification successful'; exit 0;; esac\n" + BUSY)
    script.chmod(0o755)
    return _worker(script), log


def test_a_part_whose_z3_crashed_restarts_for_what_it_had_not_proven(tmp_path):
    # "Silicon" proves the part's first function, then its Z3 dies (what a
    # segfault of Z3 4.8.7 looks like through Nagini): no verdict, so the
    # part is proven again, with random seeds, for the other functions
    calls = tmp_path / "calls"
    nagini = _script(tmp_path, f"""echo "$3" >> {calls}
case "$*" in *--proverRandomizeSeeds*) echo 'Verification successful'; exit 0;; esac
first=$(echo "$3" | cut -d, -f1)
echo "EntitySuccessMessage,$first,1500, false" >> "$VERNAT_PROVE_TIMES"
echo 'java.util.concurrent.ExecutionException: viper.silicon.reporting.ProverInteractionFailed: Interaction with prover yielded null. This might indicate that the prover crashed.'
echo "AttributeError: 'NoneType' object has no attribute 'to_string'"
""")
    result = run.prove_module(nagini, "vernat.state.layout", timeout=30)
    first, second = calls.read_text().splitlines()
    assert result["proven"], result["errors"]
    assert second.split(",") == first.split(",")[1:]
    assert len(result["attempts"][0]) == 2


def test_a_z3_that_crashes_every_time_is_a_cross_naming_the_crash(tmp_path):
    nagini = _script(tmp_path, "echo 'viper.silicon.reporting.ProverInteractionFailed: "
                               "Interaction with prover yielded null.'\n")
    result = run.prove_module(nagini, "vernat.state.layout", timeout=2)
    assert not result["proven"] and len(result["attempts"][0]) >= 2
    assert "ProverInteractionFailed" in result["errors"][0]["message"], result["errors"]


def test_only_silicon_s_words_for_a_dead_prover_count_as_a_crash():
    # only Silicon's own words for a dead prover restart a part
    assert run.prover_crashed("viper.silicon.reporting.ProverInteractionFailed: yielded null")
    assert not run.prover_crashed("Verification failed\nErrors:\nx.py:1:1:1:2: error: "
                                  "Postcondition of f might not hold.")


def test_a_run_past_its_budget_restarts_with_random_seeds(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "FIRST_BUDGET", 1)
    _cpu_as_age(monkeypatch)
    nagini, log = _seed_sensitive_nagini(tmp_path)
    result = run.prove_module(nagini, "vernat.state.layout", timeout=30)
    calls = log.read_text().splitlines()
    assert result["proven"], result["errors"]
    assert len(calls) == 2
    assert "--proverRandomizeSeeds" not in calls[0] and "--proverRandomizeSeeds" in calls[1]
    first, second = result["attempts"][0]
    assert 1 <= first < 5 and second < 5


def test_restarts_double_the_budget_until_the_time_out_is_spent(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "FIRST_BUDGET", 1)
    _cpu_as_age(monkeypatch)
    script = tmp_path / "nagini"
    script.write_text("#!/bin/sh\n" + BUSY)
    script.chmod(0o755)
    started = time.monotonic()
    result = run.prove_module(_worker(script), "vernat.state.layout", timeout=5)
    took = time.monotonic() - started
    assert not result["proven"]
    attempts = result["attempts"][0]
    assert len(attempts) == 3                   # 1 s, 2 s of CPU, then the time left
    assert attempts[1] >= 2 * attempts[0] - 1
    assert 5 <= took < 10
    assert "did not finish within 5 s (3 attempts" in result["errors"][0]["message"]


def test_a_stuck_part_restarts_for_the_functions_it_has_not_proven(tmp_path, monkeypatch):
    # "Silicon" reports every selected function proven but the last, then is
    # stuck on that one (with the default seeds) without reporting more: the
    # stall rule stops it long before its CPU budget, and the restart selects
    # that last function only
    monkeypatch.setattr(run, "FIRST_BUDGET", 100)
    monkeypatch.setattr(run, "STALL_BUDGET", 1)
    _cpu_as_age(monkeypatch)
    calls = tmp_path / "calls"
    log_args = tmp_path / "args"
    nagini = _script(tmp_path, f"""echo "$3" >> {calls}
echo "$*" >> {log_args}
last=$(echo "$3" | tr ',' '\\n' | tail -1)
for f in $(echo "$3" | tr ',' ' '); do
  [ "$f" = "$last" ] || echo "EntitySuccessMessage,$f,1500, false" >> "$VERNAT_PROVE_TIMES"
done
case "$*" in *--proverRandomizeSeeds*) echo 'Verification successful'; exit 0;; esac
""" + BUSY)
    result = run.prove_module(nagini, "vernat.state.layout", timeout=30)
    first, second = calls.read_text().splitlines()
    assert result["proven"], result["errors"]
    functions = first.split(",")
    assert len(functions) >= 2 and second == functions[-1]
    assert result["attempts"][0][0] < 10                    # the stall rule, not the budget
    assert all(result["function_seconds"][f] == 1.5 for f in functions[:-1])
    assert result["stopped_on"] == [[functions[-1]]]       # where it was stuck
    # the restart leaves the functions proven before to Silicon's filter
    excluded = [w for w in log_args.read_text().splitlines()[1].split()
                if w.startswith("--viper-arg=--excludeMethods=")][0]
    assert set(functions[:-1]) <= set(excluded.split("=", 2)[2].split("|"))


def _stuck_on_the_last(tmp_path):
    """A fake Nagini that reports every selected function proven but the last,
    then is stuck on it with the default seeds; it logs each selection."""
    calls = tmp_path / "calls"
    return _script(tmp_path, f"""echo "$3" >> {calls}
last=$(echo "$3" | tr ',' '\\n' | tail -1)
for f in $(echo "$3" | tr ',' ' '); do
  [ "$f" = "$last" ] || echo "EntitySuccessMessage,$f,100, false" >> "$VERNAT_PROVE_TIMES"
done
case "$*" in *--proverRandomizeSeeds*) echo 'Verification successful'; exit 0;; esac
""" + BUSY), calls


def test_a_stall_on_a_proof_expected_to_be_quick_restarts_sooner(tmp_path, monkeypatch):
    # every layout function is expected to take 0.1 s: once the others are
    # reported, the last one may stall for the floor (1 s here), not for
    # STALL_BUDGET (100 s)
    monkeypatch.setattr(run, "FIRST_BUDGET", 1000)
    monkeypatch.setattr(run, "STALL_BUDGET", 100)
    monkeypatch.setattr(expected, "FLOOR", 1)
    functions = run.module_functions("vernat.state.layout")
    monkeypatch.setattr(run, "_EXPECTED", {"vernat.state.layout": {f: 0.1 for f in functions}})
    _cpu_as_age(monkeypatch)
    nagini, calls = _stuck_on_the_last(tmp_path)
    result = run.prove_module(nagini, "vernat.state.layout", timeout=60)
    assert result["proven"], result["errors"]
    assert len(calls.read_text().splitlines()) == 2
    assert result["attempts"][0][0] < 10
    assert result["stopped_on"] == [[functions[-1]]]


def test_the_stall_budget_follows_the_slowest_pending_expectation():
    times = {"quick": 2.0, "slow": 30.0, "slower": 100.0}
    # the slowest pending proof decides, within [FLOOR, ceiling]
    assert expected.stall_budget({"quick"}, times, 240) == expected.FLOOR
    assert expected.stall_budget({"quick", "slow"}, times, 240) == \
        expected.CPU_PER_EXPECTED_SECOND * 30.0
    assert expected.stall_budget({"quick", "slower"}, times, 240) == 240
    # a function with no expectation (new, renamed) gets the whole budget
    assert expected.stall_budget({"quick", "new"}, times, 240) == 240
    assert expected.stall_budget(set(), times, 240) == 240


def test_an_attempt_keeps_the_whole_stall_budget_until_its_first_report(monkeypatch):
    monkeypatch.setattr(run, "STALL_BUDGET", 240)
    monkeypatch.setattr(run, "_EXPECTED", {"vernat.state.layout": {"a": 1.0, "b": 1.0}})
    task = {"path": os.path.join(run._root(run.build.module_path("vernat.state.layout")),
                                 "vernat", "state", "layout.py")}
    first = run._stall_rule(task, ["a", "b"], 0)
    assert first(set()) == 240                        # translating, setting Silicon up
    assert first({"a"}) == expected.FLOOR             # b pending, expected in 1 s
    assert run._stall_rule(task, ["a", "b"], 2)({"a"}) == 4 * expected.FLOOR


def test_expectations_come_from_a_report_s_proven_modules(tmp_path, monkeypatch):
    import json
    monkeypatch.setattr(expected, "PATH", str(tmp_path / "expected.json"))
    (tmp_path / "expected.json").write_text(json.dumps({"vernat.state.ghost": {"g": 3.0}}))
    report = {"modules": [
        {"module": "vernat.state.layout", "proven": True, "function_seconds": {"f": 1.5}},
        {"module": "vernat.state.model", "proven": False, "function_seconds": {"m": 9.0}}]}
    (tmp_path / "report.json").write_text(json.dumps(report))
    assert expected.main([str(tmp_path / "report.json")]) == 0
    # a failed module's times are no expectation; modules not in the report stay
    assert expected.load() == {"vernat.state.ghost": {"g": 3.0},
                               "vernat.state.layout": {"f": 1.5}}
    assert expected.main([str(tmp_path / "missing.json")]) == 2


def test_the_committed_expectations_name_functions_that_exist():
    kept = expected.load()
    assert set(kept) <= set(run.MODULES) and kept
    for module, times in kept.items():
        assert set(times) <= set(run.module_functions(module)), module


def test_a_part_that_reports_no_progress_restarts_at_once(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "FIRST_BUDGET", 100)
    monkeypatch.setattr(run, "STALL_BUDGET", 1)
    _cpu_as_age(monkeypatch)
    nagini, log = _seed_sensitive_nagini(tmp_path)
    result = run.prove_module(nagini, "vernat.state.layout", timeout=30)
    assert result["proven"], result["errors"]
    assert len(log.read_text().splitlines()) == 2 and result["attempts"][0][0] < 10


def test_a_slow_run_that_uses_little_cpu_is_not_restarted(tmp_path, monkeypatch):
    # a run that waits for the CPU (another run beside it, a loaded host) is
    # slow, not stuck: only the CPU it has used counts against its budget
    monkeypatch.setattr(run, "FIRST_BUDGET", 1)
    script = tmp_path / "nagini"
    script.write_text("#!/bin/sh\nsleep 3\necho 'Verification successful'\n")
    script.chmod(0o755)
    result = run.prove_module(_worker(script), "vernat.state.layout", timeout=30)
    assert result["proven"] and len(result["attempts"][0]) == 1
    assert result["attempts"][0][0] >= 3


def test_session_cpu_counts_every_process_of_the_session():
    import subprocess
    proc = subprocess.Popen(["sh", "-c", "sh -c 'while :; do :; done' & wait"],
                            start_new_session=True)
    try:
        time.sleep(1.5)
        used = run.session_cpu(proc.pid)
    finally:
        run._kill_group(proc)
    # the grandchild's busy loop: up to 1.5 s of one core, less on a busy host
    assert 0.05 <= used <= 3.5


def test_a_failed_proof_is_not_retried(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "FIRST_BUDGET", 1)
    script = tmp_path / "nagini"
    log = tmp_path / "calls"
    script.write_text(f"#!/bin/sh\necho \"$*\" >> {log}\necho 'Verification failed'\nexit 1\n")
    script.chmod(0o755)
    result = run.prove_module(_worker(script), "vernat.state.layout", timeout=30)
    assert not result["proven"] and len(log.read_text().splitlines()) == 1
    assert result["attempts"] == [[result["attempts"][0][0]]]


def test_a_restart_shows_in_the_module_line(capsys):
    from vernat import report
    report.print_prove_module({"module": "vernat.state.allocator", "proven": True,
                               "seconds": 12.0, "functions": ["a"], "parts": 2,
                               "attempts": [[300.1, 80.2], [50.0]],
                               "stopped_on": [["f1", "f2", "f3", "f4", "f5"]], "errors": []})
    out = capsys.readouterr().out
    assert "1 restart with new seeds" in out
    assert "stopped before f1, f2, f3 and 2 more" in out


def _timed_nagini(tmp_path, seconds):
    """A fake Nagini that proves after `seconds`, logging its start and end
    (monotonic clock) so that overlapping runs can be counted."""
    script = tmp_path / "nagini"
    log = tmp_path / "spans"
    script.write_text(f"#!/bin/sh\nstart=$(cat /proc/uptime | cut -d' ' -f1)\nsleep {seconds}\n"
                      f"echo \"$start $(cat /proc/uptime | cut -d' ' -f1)\" >> {log}\n"
                      "echo 'Verification successful'\n")
    script.chmod(0o755)
    return _worker(script), log


def _most_at_once(log):
    spans = [tuple(map(float, line.split())) for line in log.read_text().splitlines()]
    return max(sum(1 for s, e in spans if s <= start < e) for start, _ in spans), len(spans)


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_runs_overlap_up_to_jobs_and_no_more(tmp_path, jobs):
    nagini, log = _timed_nagini(tmp_path, 0.3)
    result = run.prove(nagini=nagini, log=None, jobs=jobs)
    runs = sum(len(run.module_parts(m, run.module_functions(m))) for m in run.MODULES)
    assert result["proven"]
    assert _most_at_once(log) == (jobs, runs)


def test_the_last_module_starts_first_and_results_keep_the_order_given(tmp_path):
    # flowtable imports every other module and takes longest: it starts
    # first; the modules end in another order, yet the report keeps the one given
    calls = tmp_path / "calls"
    nagini = _script(tmp_path, f"echo \"$*\" >> {calls}\n"
                     "case \"$*\" in *flowtable.py*) sleep 1;; esac\n"
                     "echo 'Verification successful'\n")
    ended = []
    result = run.prove(nagini=nagini, log=None, jobs=2,
                       on_module=lambda r: ended.append(r["module"]))
    assert result["proven"]
    assert calls.read_text().splitlines()[0].endswith("flowtable.py")
    assert sorted(ended) == sorted(run.MODULES) and ended != list(run.MODULES)
    assert [r["module"] for r in result["modules"]] == list(run.MODULES)


def test_an_interrupt_ends_every_run_and_starts_no_more(tmp_path):
    # layout's run proves at once; every other hangs. Ctrl-C arrives (as
    # KeyboardInterrupt in the main thread) when layout's verdict is printed.
    pids = tmp_path / "pids"
    calls = tmp_path / "calls"
    nagini = _script(tmp_path, f"echo \"$*\" >> {calls}\n"
                     # layout ends once a hanging run has started
                     "case \"$*\" in *layout.py*) "
                     f"for i in $(seq 50); do [ -s {pids} ] && break; sleep 0.1; done; "
                     "echo 'Verification successful'; exit 0;; esac\n"
                     f"sleep 300 &\necho $! >> {pids}\nwait\n")

    def interrupt(result):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run.prove(modules=("vernat.state.flowtable", "vernat.state.layout"), nagini=nagini,
                  log=None, jobs=2, on_module=interrupt)
    started = len(calls.read_text().splitlines())
    time.sleep(0.5)
    assert len(calls.read_text().splitlines()) == started   # nothing new started
    for pid in map(int, pids.read_text().split()):
        try:
            state = open(f"/proc/{pid}/stat").read().split()[2]
        except FileNotFoundError:
            continue
        assert state == "Z", f"a hanging run's child {pid} outlived the interrupt"
    # the stop ended with that call: the next one runs
    assert run.prove_module(_fake_nagini(tmp_path, "Verification successful", 0),
                            "vernat.state.layout", timeout=30)["proven"]


def test_a_worker_that_dies_fails_its_part_and_the_next_part_gets_a_new_one(tmp_path):
    # "Nagini" kills the worker (its parent) on index_free's part: that part
    # is a cross with the worker's last words, not a time-out; the other
    # parts still run, on a new worker
    calls = tmp_path / "calls"
    nagini = _script(tmp_path, f"echo \"$PPID $*\" >> {calls}\n"
                     "case \"$3\" in *index_free*) echo 'worker: out of memory' >&2; "
                     "kill -9 $PPID; exit 1;; esac\n"
                     "echo 'Verification successful'\n")
    result = run.prove_module(nagini, "vernat.state.allocator", timeout=30)
    lines = calls.read_text().splitlines()
    assert len(lines) == result["parts"] >= 2
    assert not result["proven"]
    assert not any("did not finish" in e["message"] for e in result["errors"])
    assert "ended without a verdict" in result["errors"][0]["message"]
    assert len({line.split()[0] for line in lines}) == 2     # a second worker after the death


def test_a_part_whose_prover_outgrows_its_memory_restarts_at_once(tmp_path, monkeypatch):
    # "Z3" takes 200 MB and idles with Silicon's default seeds (no CPU to
    # speak of: the CPU budget would not stop it), proves with random ones
    monkeypatch.setattr(run, "PROVER_MEMORY", 100 * 2**20)
    calls = tmp_path / "calls"
    hog = f"{sys.executable} -c \"b = bytearray(200 * 2**20); import time; time.sleep(60)\""
    nagini = _script(tmp_path, f"echo \"$*\" >> {calls}\n"
                     "case \"$*\" in *--proverRandomizeSeeds*) "
                     "echo 'Verification successful'; exit 0;; esac\n" + hog + "\n")
    result = run.prove_module(nagini, "vernat.state.layout", timeout=50)
    assert result["proven"], result["errors"]
    first, second = result["attempts"][0]
    assert first < 20 and len(calls.read_text().splitlines()) == 2


def test_sigterm_ends_vernat_prove_and_every_process_it_started(tmp_path):
    # a CI time-out or `kill` sends SIGTERM: the workers (sessions of their
    # own, so not in the command's process group) must not outlive it
    import signal
    import subprocess
    pids = tmp_path / "pids"
    nagini = _script(tmp_path, f"sleep 300 &\necho $! >> {pids}\nwait\n")
    program = ("import sys\nfrom vernat import cli\nfrom vernat.prove import env\n"
               f"env.ensure = lambda log=None: {nagini!r}\n"
               "sys.exit(cli.main(['prove', '--module', 'layout']))\n")
    proc = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(100):
            if pids.exists() and pids.read_text().strip():
                break
            time.sleep(0.1)
        assert pids.exists(), "the fake Nagini never started"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        time.sleep(0.5)             # SIGKILL sent is not yet SIGKILL done
        left = []
        for pid in map(int, pids.read_text().split()):
            try:
                if open(f"/proc/{pid}/stat").read().split()[2] != "Z":
                    left.append(pid)
            except FileNotFoundError:
                pass
    finally:
        proc.kill()
        for pid in map(int, pids.read_text().split()) if pids.exists() else ():
            try:
                os.kill(pid, signal.SIGKILL)     # what a failing run left
            except ProcessLookupError:
                pass
    assert not left, f"the worker's children {left} outlived SIGTERM"
    assert proc.returncode == 130 and "vernat: interrupted" in err
    assert "Traceback" not in err


def test_a_function_nagini_renamed_is_reported_under_its_own_name():
    # Nagini names model.capacity `capacity_0` in the Viper program
    text = "EntitySuccessMessage,capacity_0,16, false\nEntitySuccessMessage,live_count,30, false\n"
    assert run.read_times(text, {"capacity", "live_count"}) == {"capacity": 0.0,
                                                               "live_count": 0.0}
    # a member that is a function of its own keeps its name
    assert run.read_times(text, {"capacity_0", "capacity"}) == {"capacity_0": 0.0}


def _stuck_once_logging_the_worker(tmp_path):
    """A fake Nagini stuck with the default seeds, proving with randomized ones;
    it logs the pid of the worker that runs it."""
    workers = tmp_path / "workers"
    return _script(tmp_path, f"""echo "$PPID" >> {workers}
case "$*" in *--proverRandomizeSeeds*) echo 'Verification successful'; exit 0;; esac
""" + BUSY), workers


def test_a_stopped_part_restarts_on_the_same_worker(tmp_path, monkeypatch):
    # its "Z3s" (the worker's other processes) are killed, the worker ends the
    # part and proves the restart itself: no new JVM, no second mypy run
    monkeypatch.setattr(run, "FIRST_BUDGET", 1)
    _cpu_as_age(monkeypatch)
    nagini, workers = _stuck_once_logging_the_worker(tmp_path)
    result = run.prove_module(nagini, "vernat.state.layout", timeout=30)
    assert result["proven"], result["errors"]
    first, second = workers.read_text().split()
    assert first == second


def test_a_worker_that_cannot_be_interrupted_is_replaced(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "FIRST_BUDGET", 1)
    monkeypatch.setattr(run.Worker, "interrupt", lambda self, part, wait=None: False)
    _cpu_as_age(monkeypatch)
    nagini, workers = _stuck_once_logging_the_worker(tmp_path)
    result = run.prove_module(nagini, "vernat.state.layout", timeout=30)
    assert result["proven"], result["errors"]
    first, second = workers.read_text().split()
    assert first != second
