"""Planted bugs in the state library that `vernat prove` must reject.

Each mutant changes one line of one function in a copy of the package; Nagini
is then run on that function alone (its callees are used through their
contracts, as in `vernat prove`), which takes well under a minute. A mutant
that Nagini proves would mean the contracts do not pin what the code does.
"""

import os
import re
import shutil

import pytest

from vernat import build
from vernat.prove import run

# (module, function, line as in the source, the planted bug, what it breaks)
MUTANTS = [
    ("vernat.state.layout", "slots_for",
     "        if nslots >= 2 * capacity:", "        if nslots > 2 * capacity:",
     "a power-of-two capacity doubles once too often: 4 x capacity slots"),
    ("vernat.state.allocator", "index_is_allocated",
     "    return t[flow_at(t, i) + F_LAST_SEEN] >= 0", "    return t[flow_at(t, i) + F_LAST_SEEN] > 0",
     "a flow last seen at time 0 reads as free"),
    ("vernat.state.allocator", "index_is_allocated",
     "    if i < 0 or i >= t[H_CAPACITY]:", "    if i < 0 or i > t[H_CAPACITY]:",
     "memory safety: i == capacity reads past the records"),
    ("vernat.state.allocator", "lru_append",
     "            stamp = stamp + 1", "            stamp = stamp - 1",
     "an appended flow's stamp below the newest's: the LRU order lost"),
    ("vernat.state.allocator", "index_oldest",
     "    return t[H_OLDEST]", "    return t[H_NEWEST]",
     "expiry would look at the newest flow"),
    # (a bug in the scaling itself, `h * n // 262144 + 1`, is rejected too, but Z3 needs
    # over 10 min of nonlinear arithmetic to give up on it)
    ("vernat.state.flowmap", "map_home",
     "        return 0", "        return 1",
     "a key outside 48 bits starts its probe past a one-slot table"),
    ("vernat.state.flowtable", "flow_count",
     "    n = t[H_COUNT]", "    n = t[H_COUNT] - 1",
     "the operator's flow count is off by one"),
]


def _function_lines(text, function):
    """(first, last) line numbers of a top-level function."""
    import ast
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            return node.lineno, node.end_lineno
    raise AssertionError(f"{function} not found")


@pytest.mark.parametrize("module, function, line, bug, why", MUTANTS,
                         ids=[f"{m[1]}:{m[4]}" for m in MUTANTS])
def test_the_catalogue_applies_to_the_current_source(module, function, line, bug, why):
    with open(build.module_path(module), encoding="utf-8") as f:
        text = f.read()
    first, last = _function_lines(text, function)
    hits = [n for n, l in enumerate(text.splitlines(), 1) if l == line and first <= n <= last]
    assert len(hits) == 1, f"the line to mutate is not once in {function}"


# the directory that holds the `vernat` package
SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    build.module_path("vernat.state.layout"))))


def _in_copy(tmp_path, module):
    """A module's path relative to the copy's root, and in the copy."""
    rel = os.path.relpath(build.module_path(module), SOURCE_ROOT)
    return rel, tmp_path / rel


def _mutated_copy(tmp_path, module, function, line, bug):
    """A copy of the package with one line of one function replaced: the
    mutated file, its path relative to the copy, and the function's lines."""
    shutil.copytree(os.path.join(SOURCE_ROOT, "vernat"), tmp_path / "vernat",
                    ignore=shutil.ignore_patterns("__pycache__"))
    rel, path = _in_copy(tmp_path, module)
    text = path.read_text(encoding="utf-8")
    first, last = _function_lines(text, function)
    lines = text.splitlines(keepends=True)
    hits = [n for n in range(first - 1, last) if lines[n].rstrip("\n") == line]
    assert len(hits) == 1
    lines[hits[0]] = bug + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    return path, rel, first, last


@pytest.mark.skipif(shutil.which("java") is None, reason="Nagini needs Java")
@pytest.mark.parametrize("module, function, line, bug, why", MUTANTS,
                         ids=[f"{m[1]}:{m[4]}" for m in MUTANTS])
def test_nagini_rejects_the_planted_bug(tmp_path, module, function, line, bug, why):
    path, rel, first, last = _mutated_copy(tmp_path, module, function, line, bug)
    result = run.prove_functions(str(path), [function], timeout=600)
    _assert_rejected_inside(result, rel, first, last, why)


@pytest.mark.skipif(shutil.which("java") is None, reason="Nagini needs Java")
def test_a_later_part_on_the_same_worker_still_rejects_the_planted_bug(tmp_path):
    # the worker keeps mypy's result for a module and reuses it for the
    # module's later parts, and translates each next part while Silicon
    # proves the one before: a planted bug is rejected at its line whether
    # its part comes first (its errors are mapped back while the next part
    # translates) or later (translated ahead), and a good part between them
    # is proven
    module, function, line, bug, why = next(m for m in MUTANTS if m[1] == "index_oldest")
    path, rel, first, last = _mutated_copy(tmp_path, module, function, line, bug)
    bad_first, good, bad_later = run.prove_parts(
        str(path), [[function], ["index_is_allocated"], [function]], timeout=600)
    _assert_rejected_inside(bad_first, rel, first, last, why)
    assert good["proven"], good["errors"]
    _assert_rejected_inside(bad_later, rel, first, last, why)
    assert [r["prefetched"] for r in (bad_first, good, bad_later)] == [False, True, True]


def _assert_rejected_inside(result, rel, first, last, why):
    assert not result["proven"], f"Nagini proved a planted bug: {why}"
    # rejected for a reason inside the mutated function, not a crash or a time-out
    assert result["errors"], result
    assert not any("did not finish" in e["message"] for e in result["errors"]), result
    located = [e["where"].split(":") for e in result["errors"]]
    located = [w for w in located if w[0].endswith(os.path.basename(rel)) and len(w) > 1]
    assert located, result["errors"]
    rows = [int(w[1]) for w in located]
    assert any(first <= r <= last for r in rows), (rows, first, last, result["errors"])


@pytest.mark.skipif(shutil.which("java") is None, reason="Nagini needs Java")
def test_a_type_error_is_nagini_s_own_message_at_its_line(tmp_path):
    line = "    n = t[H_COUNT]"
    path, rel, first, last = _mutated_copy(tmp_path, "vernat.state.flowtable", "flow_count",
                                           line, '    n = t[H_COUNT] + "one"')
    broken = run.prove_functions(str(path), ["flow_count"], timeout=600)
    assert not broken["proven"]
    located = [e for e in broken["errors"] if e["where"].split(":")[0].endswith("flowtable.py")]
    assert any("Type error" in e["message"] and first <= int(e["where"].split(":")[1]) <= last
               for e in located), broken["errors"]


@pytest.mark.skipif(shutil.which("java") is None, reason="Nagini needs Java")
def test_the_worker_gives_silicon_the_program_nagini_gives_it(tmp_path):
    # the worker runs Nagini's own translate-and-verify, reusing mypy's
    # result for a module's later parts: a later part's Viper program must be
    # byte for byte the one Nagini's command line writes in a fresh process
    import subprocess
    from vernat.prove import env
    shutil.copytree(os.path.join(SOURCE_ROOT, "vernat"), tmp_path / "vernat",
                    ignore=shutil.ignore_patterns("__pycache__"))
    _, path = _in_copy(tmp_path, "vernat.state.flowtable")
    first, second = tmp_path / "first.vpr", tmp_path / "second.vpr"
    results = run.prove_parts(str(path), [["flow_key1"], ["flow_count"]], timeout=600,
                              viper=[str(first), str(second)])
    assert all(r["proven"] for r in results), [r["errors"] for r in results]
    assert results[1]["prefetched"]     # translated while Silicon proved the first
    python = env.ensure(log=None)[0]
    alone = tmp_path / "alone.vpr"
    done = subprocess.run(
        [python, "-m", "vernat.prove.nagini_main", "--mypy-path", str(tmp_path),
         "--select", "flow_count", "--write-viper-to-file", str(alone), str(path)],
        cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(tmp_path), MYPYPATH=str(tmp_path)),
        capture_output=True, text=True, timeout=600)
    assert "Verification successful" in done.stdout, done.stdout + done.stderr
    assert second.read_bytes() == alone.read_bytes()
    assert first.read_bytes() != second.read_bytes()


@pytest.mark.skipif(shutil.which("java") is None, reason="Nagini needs Java")
def test_a_silicon_crash_is_named_by_its_java_exception(tmp_path, monkeypatch):
    # Nagini prints a Silicon crash's Java stack trace itself (not through
    # the output it returns), then fails on the missing result: the worker
    # must hand the trace on, so that the cross names the exception rather
    # than Nagini's own AttributeError. The crash here: a method filter
    # that is not a valid pattern.
    shutil.copytree(os.path.join(SOURCE_ROOT, "vernat"), tmp_path / "vernat",
                    ignore=shutil.ignore_patterns("__pycache__"))
    _, path = _in_copy(tmp_path, "vernat.state.flowtable")
    monkeypatch.setattr(run, "library_functions", lambda root: ["flow_count", "(unclosed"])
    result = run.prove_functions(str(path), ["flow_count"], timeout=600)
    assert not result["proven"]
    assert result["errors"][0]["message"].startswith("Silicon crashed: java."), result["errors"]
    assert "AttributeError" not in result["errors"][0]["message"]


COMPARISONS = '''\
from nagini_contracts.contracts import Ensures, Result


def larger(a: int, b: int) -> int:
    Ensures(Result() >= a and Result() >= b)
    Ensures(Result() == a or Result() == b)
    if a < b:
        return b
    return a


def larger_wrong(a: int, b: int) -> int:
    Ensures(Result() >= a and Result() >= b)
    if a <= b + 1:
        return b
    return a
'''


@pytest.mark.skipif(shutil.which("java") is None, reason="Nagini needs Java")
def test_int_comparisons_are_viper_s_own_and_keep_their_meaning(tmp_path):
    # nagini_main.primitive_comparisons: `a < b` on ints is Viper's `<` on the
    # unboxed values, not a call of the prelude's int___lt__; an off-by-one
    # comparison must still be caught
    # the worker runs from the tree being proven (run._root: three levels up)
    shutil.copytree(os.path.join(SOURCE_ROOT, "vernat"), tmp_path / "vernat",
                    ignore=shutil.ignore_patterns("__pycache__"))
    path = tmp_path / "pkg" / "sub" / "comparisons.py"
    path.parent.mkdir(parents=True)
    path.write_text(COMPARISONS, encoding="utf-8")
    programs = [tmp_path / "right.vpr", tmp_path / "wrong.vpr"]
    right, wrong = run.prove_parts(str(path), [["larger"], ["larger_wrong"]], timeout=600,
                                   viper=[str(p) for p in programs])
    assert right["proven"], right["errors"]
    assert not wrong["proven"]
    assert any(e["where"].split(":")[0].endswith("comparisons.py")
               for e in wrong["errors"]), wrong["errors"]
    text = programs[0].read_text(encoding="utf-8")
    method = text[text.index("method larger("):]
    assert "int___lt__(" not in method and "int___ge__(" not in method and "int___eq__(" not in method
    assert re.search(r"int___unbox__\(a\w*\) < int___unbox__\(b\w*\)", method), method
