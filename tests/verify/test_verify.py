"""The symbolic executor proves the per-packet code crash-free, and rejects
planted crash bugs with a concrete model. (The full `vernat verify`, with
the RFC 3022 spec and lazy validation, is still being built: docs/progress.md.)"""

import pytest

from vernat import build
from vernat.build import SubsetError
from vernat.verify.executor import Executor, load_program
from vernat.verify.models import MODELS
from vernat.verify.setup import symbolic_inputs


def explore(sources=None):
    functions, constants = load_program(sources=sources)
    ex = Executor(functions, constants, MODELS)
    return ex, ex.explore("process_frame", symbolic_inputs)


def mutate(module, old, new):
    src = open(build.module_path(module)).read()
    assert src.count(old) == 1, f"mutation anchor not found once in {module}: {old!r}"
    return {module: src.replace(old, new)}


@pytest.fixture(scope="module")
def landed():
    """One full `vernat verify` run of the landed NAT, shared by the tests."""
    from vernat.verify.run import verify
    return verify()


def test_the_nat_is_crash_free_on_every_path(landed):
    assert landed["violations"] == []
    # every outcome of docs/semantics.md is reached on some path
    from vernat.nat.constants import REASON_NAMES
    assert set(landed["paths_by_outcome"]) == set(REASON_NAMES)
    assert landed["paths"] >= 25
    assert landed["obligations"] > 1000


CRASH_MUTANTS = {
    "no minimum frame length": (
        "vernat.nat.process", "    if length < ETH_HLEN:\n        return DROP_NOT_IPV4\n", "",
        "memory safety"),
    "no descriptor check": (
        "vernat.nat.process",
        "    if off < 0 or length < 0 or off + length > len(buf):\n        return DROP_BAD_DESCRIPTOR\n",
        "", "memory safety"),
    "UDP header length unchecked": (
        "vernat.nat.process", "        if payload < UDP_HLEN:\n            return DROP_TRUNCATED_L4\n",
        "", "memory safety"),
    "byte stored unmasked": (
        "vernat.packet.fields", "    buf[at + 1] = value & 0xFF\n", "    buf[at + 1] = value\n",
        "field width"),
}


@pytest.mark.parametrize("name", sorted(CRASH_MUTANTS))
def test_crash_mutants_are_rejected_with_a_model(name):
    module, old, new, prop = CRASH_MUTANTS[name]
    _, paths = explore(mutate(module, old, new))
    violations = [p.violation for p in paths if p.violation]
    assert violations, f"mutant {name!r} was not caught"
    assert any(v.prop == prop for v in violations)
    assert all(v.model is not None for v in violations if v.prop == prop)


@pytest.mark.parametrize("snippet, what", [
    ("    while True:\n        pass\n", "While"),
    ("    x = [1, 2]\n", "List"),
    ("    return clock.attribute\n", "Attribute"),
])
def test_constructs_outside_the_subset_are_refused_with_file_and_line(snippet, what):
    src = open(build.module_path("vernat.nat.process")).read()
    anchor = "    # 1. time never goes backwards\n"
    with pytest.raises(SubsetError) as e:
        explore({"vernat.nat.process": src.replace(anchor, snippet + anchor)})
    assert "process.py:" in str(e.value) and what in str(e.value)


def test_a_byte_no_rule_names_must_not_change(tmp_path):
    """A planted bug: the TTL update also clears the TOS byte."""
    from vernat.verify.run import verify
    sources = mutate("vernat.nat.process",
                     "    store16(buf, ip + IP_TTL, new_word)\n",
                     "    store16(buf, ip + IP_TTL, new_word)\n    store8(buf, ip + 1, 0)\n")
    sources["vernat.nat.process"] = sources["vernat.nat.process"].replace(
        "load48, store16,", "load48, store8, store16,")
    result = verify(sources=sources, concrete_runs=False, counterexample_dir=str(tmp_path))
    assert any(v["property"] == "every other byte unchanged" for v in result["violations"])
    assert result["reproduced_on_the_source"] == "changed bytes at [15]"   # the TOS byte
    assert not result["proven"]


def test_a_violation_comes_back_as_replayable_files(tmp_path):
    """The counterexample is a real frame (plus the prelude that builds the
    state the path assumed) and a config that `vernat replay` accepts."""
    from vernat.cli import main
    from vernat.io.pcap import read_capture
    from vernat.verify.run import verify
    module, old, new, _ = CRASH_MUTANTS["UDP header length unchecked"]
    result = verify(sources=mutate(module, old, new), counterexample_dir=str(tmp_path))
    assert not result["proven"] and result["violations"]
    # paths are checked against the spec as they are found, so the first
    # violation is either the out-of-bounds read or the verdict the spec
    # gives such a frame (truncated_l4): both are this bug
    prop = result["violations"][0]["property"]
    assert prop in ("memory safety", "RFC 3022: verdict")
    assert result["reproduce"] and str(tmp_path) in result["reproduce"]
    # the counterexample really breaks the mutant when run: its CPython build
    # reads past the frame (numpy raises where numba would read garbage), or
    # it handles a frame the spec drops as truncated as if it were whole
    shown = result["reproduced_on_the_source"]
    assert shown.startswith("crash: IndexError") if prop == "memory safety" else \
        (shown.startswith("the code gives ") and shown.endswith("the spec says truncated_l4"))
    frames = len(read_capture(str(tmp_path / "inside.pcap"))) + \
        len(read_capture(str(tmp_path / "outside.pcap")))
    assert frames >= 1
    assert main(["replay", "--config", str(tmp_path / "nat.toml"),
                 "--inside", str(tmp_path / "inside.pcap"),
                 "--outside", str(tmp_path / "outside.pcap")]) == 0


def test_verify_report_of_the_landed_nat(landed):
    """Every property is proven on the landed NAT, every trace validated, and
    every path's model runs identically on both builds."""
    result = landed
    unproven = [p["property"] for p in result["properties"] if not p["proven"]]
    assert unproven == [] and result["proven"] and not result["violations"]
    assert result["traces_validated"] == result["paths"] >= 25
    assert result["spec_paths_compared"] >= result["paths"]
    assert result["concrete_runs"]["DISAGREE"] == 0 and result["concrete_runs"]["agree"] >= 25


def test_checksum_lemmas_hold_and_catch_a_broken_update():
    """The RFC 1624 lemma is proven on the verified csum_replace16, and a
    planted bug in it (the old word not complemented) breaks the lemma."""
    from vernat.verify.lemmas import prove_checksum_lemmas
    functions, constants = load_program()
    assert all(ok for _, ok, _ in prove_checksum_lemmas(Executor(functions, constants, MODELS)))
    functions, constants = load_program(sources=mutate(
        "vernat.packet.checksum", "(0xFFFF ^ csum) + (0xFFFF ^ old) + new",
        "(0xFFFF ^ csum) + old + new"))
    results = dict((name, ok) for name, ok, _ in
                   prove_checksum_lemmas(Executor(functions, constants, MODELS)))
    assert not results["RFC 1624 update keeps checksum validity (valid stays valid, invalid "
                       "stays invalid)"]


def test_prefetch_frame_is_proven_and_an_unchecked_read_in_it_is_caught():
    """The batch loop's cache hint reads frame bytes too: proven crash-free on
    every input, and a planted bug (the TCP/UDP header's bounds check gone)
    is rejected as an out-of-bounds read."""
    from vernat.verify.run import Worker
    paths, violations, _ = Worker(None, False).prefetch()
    assert paths >= 3 and violations == []
    sources = mutate("vernat.nat.process", "    if l4 + 4 > off + length:\n        return\n"
                     "    table = udp", "    table = udp")
    paths, violations, _ = Worker(sources, False).prefetch()
    assert violations and {v["property"] for v in violations} == {"memory safety"}
