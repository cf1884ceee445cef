"""Planted bugs in the state library that `vernat prove` must reject.

Each mutant changes one line of one function in a copy of the package; Nagini
is then run on that function alone (its callees are used through their
contracts, as in `vernat prove`), which takes well under a minute. A mutant
that Nagini proves would mean the contracts do not pin what the code does.
"""

import os
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


@pytest.mark.skipif(shutil.which("java") is None, reason="Nagini needs Java")
@pytest.mark.parametrize("module, function, line, bug, why", MUTANTS,
                         ids=[f"{m[1]}:{m[4]}" for m in MUTANTS])
def test_nagini_rejects_the_planted_bug(tmp_path, module, function, line, bug, why):
    from vernat.prove import env
    source_root = os.path.dirname(os.path.dirname(build.module_path("vernat.state.layout")))
    shutil.copytree(source_root, tmp_path / "vernat",
                    ignore=shutil.ignore_patterns("__pycache__"))
    rel = os.path.relpath(build.module_path(module), os.path.dirname(source_root))
    path = tmp_path / rel
    text = path.read_text(encoding="utf-8")
    first, last = _function_lines(text, function)
    lines = text.splitlines(keepends=True)
    hits = [n for n in range(first - 1, last) if lines[n].rstrip("\n") == line]
    assert len(hits) == 1
    lines[hits[0]] = bug + "\n"
    path.write_text("".join(lines), encoding="utf-8")

    result = run._prove_part(env.ensure(log=None), str(path), [function], timeout=600)
    assert not result["proven"], f"Nagini proved a planted bug: {why}"
    # rejected for a reason inside the mutated function, not a crash or a time-out
    assert result["errors"], result
    assert not any("did not finish" in e["message"] for e in result["errors"]), result
    located = [e["where"].split(":") for e in result["errors"]]
    located = [w for w in located if w[0].endswith(os.path.basename(rel)) and len(w) > 1]
    assert located, result["errors"]
    rows = [int(w[1]) for w in located]
    assert any(first <= r <= last for r in rows), (rows, first, last, result["errors"])
