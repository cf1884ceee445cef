"""The loader that turns the one verified source into its two builds."""

import ast
import types

import pytest

from vernat import build


def test_numba_build_compiles_and_cpython_build_is_plain_python():
    fast, slow = build.load(True), build.load(False)
    assert type(slow.process_frame) is types.FunctionType
    assert hasattr(fast.process_frame, "py_func")              # a numba dispatcher
    # the same source: same code, line for line
    assert fast.process_frame.py_func.__code__.co_code == slow.process_frame.__code__.co_code


def test_every_verified_module_runs_as_plain_python_once_stripped():
    for name in build.VERIFIED_MODULES:
        path, tree = build.parse_module(name)
        namespace = {"__name__": "stripped", "__builtins__": __builtins__}
        tree.body = [n for n in tree.body if not isinstance(n, ast.ImportFrom)]
        exec(compile(tree, path, "exec"), namespace)


@pytest.mark.parametrize("source, message", [
    ("import numpy\n", "plain 'import'"),
    ("from os import path\n", "not an earlier verified module"),
])
def test_loader_refuses_imports_outside_the_subset(source, message):
    tree = ast.parse(source)
    with pytest.raises(build.SubsetError, match=message):
        build._bind_imports("x", "x.py", tree, {}, "x")


def test_cache_key_changes_with_any_verified_source(tmp_path, monkeypatch):
    """numba's own cache only notices edits to a function's own file; the
    loader keys it on every verified module, so editing the state library
    recompiles the entry point it is inlined into."""
    before = build.source_digest()
    real = build.module_path
    edited = tmp_path / "flowmap.py"
    edited.write_text(open(real("vernat.state.flowmap")).read() + "\n# edited\n")
    monkeypatch.setattr(build, "module_path",
                        lambda name: str(edited) if name == "vernat.state.flowmap" else real(name))
    assert build.source_digest() != before


def test_hints_are_no_ops_in_python_and_prefetches_in_numba():
    """cache_hint is the only verified function the numba build replaces:
    by an LLVM prefetch, which cannot change any result (the differential
    test runs both builds over the same batches)."""
    from vernat.jit_hints import OVERRIDES
    fast, slow = build.load(True), build.load(False)
    assert set(OVERRIDES) == {"cache_hint"}
    assert fast.cache_hint is OVERRIDES["cache_hint"]
    assert slow.cache_hint(None, 0) is None
