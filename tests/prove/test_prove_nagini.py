"""The whole state library stays proven: runs Nagini for real (its venv is
created on first use; needs Java), as `vernat prove` does: 13-28 min on this
machine kind, most of it the model, the allocator, the flow map and the flow
table, each proven in parts (run.PARTS; figures in docs/progress-prove.md)."""

import shutil

import pytest

from vernat.prove import run

def test_every_state_module_is_in_vernat_prove():
    assert set(run.MODULES) == {"vernat.state.layout", "vernat.state.ghost",
                                "vernat.state.model", "vernat.state.allocator",
                                "vernat.state.flowmap", "vernat.state.flowtable"}


@pytest.mark.skipif(shutil.which("java") is None, reason="Nagini needs Java")
def test_the_state_library_stays_proven():
    # per run (a module, or a part of one): the slowest took 5-11 min at load 2-4 in
    # session 8, and single proofs have varied several-fold with load (lru_append ~19 min
    # at load ~5.5 in session 7: docs/progress-prove.md): room for a loaded machine
    result = run.prove(run.MODULES, timeout=2400, log=None)
    failures = [(r["module"], r["errors"]) for r in result["modules"] if not r["proven"]]
    assert not failures
