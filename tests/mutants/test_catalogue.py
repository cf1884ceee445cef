"""The mutant catalogue is well formed: at least 25 distinct mutants, each a
single edit that applies to today's source and changes it. That
`vernat verify` rejects each is tests/mutants/test_mutants_rejected.py."""

import pytest

from tests.mutants.catalogue import MUTANTS, mutant_sources
from vernat import build


def test_at_least_25_distinct_mutants():
    names = [m[0] for m in MUTANTS]
    assert len(names) >= 25 and len(set(names)) == len(names)


@pytest.mark.parametrize("name, module, original, replacement", MUTANTS,
                         ids=[m[0] for m in MUTANTS])
def test_mutant_applies_once_and_changes_the_source(name, module, original, replacement):
    sources = mutant_sources(module, original, replacement)
    assert sources[module] != open(build.module_path(module)).read()
