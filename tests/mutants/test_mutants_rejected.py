"""`vernat verify` rejects every planted bug with a counterexample that a
concrete run of the mutant reproduces (tests/mutants/catalogue.py). A full
verify per mutant, stopped at its first reproduced violation: the slowest
part of scripts/test (`bash scripts/mutants` runs only this)."""

import pytest

from tests.mutants.catalogue import MUTANTS, mutant_sources
from vernat.verify.run import verify


@pytest.mark.parametrize("name, module, original, replacement", MUTANTS,
                         ids=[m[0] for m in MUTANTS])
def test_verify_rejects_mutant(name, module, original, replacement, tmp_path):
    sources = mutant_sources(module, original, replacement)
    report = verify(sources=sources, counterexample_dir=str(tmp_path), concrete_runs=False)
    assert not report["proven"]
    assert report["violations"], "no violation reported"
    assert report["reproduce"], f"no counterexample files: {report['violations']}"
    assert (tmp_path / "inside.pcap").exists() and (tmp_path / "nat.toml").exists()
    assert report["reproduced_on_the_source"], (
        f"the counterexample does not show the bug when run: {report['violations']}")
