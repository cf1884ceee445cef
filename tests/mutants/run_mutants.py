"""`vernat verify` rejects every planted bug with a counterexample that a
concrete run of the mutant reproduces (tests/mutants/catalogue.py)."""

import pytest

from tests.mutants.catalogue import MUTANTS, mutant_sources
from vernat.verify.run import verify


def test_at_least_25_mutants_including_vignats_bugs():
    names = [m[0] for m in MUTANTS]
    assert len(names) >= 25 and len(set(names)) == len(names)


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
