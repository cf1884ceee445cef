"""The builds run the state library minus its contracts, and nothing else
changes (issue: vernat prove, "one source, three consumers")."""

import ast
import copy
import random
import sys
import types

import numpy as np
import pytest

from vernat import build

# the layout's constants and helpers, contracts stripped (the source imports Nagini's)
L = build.load(jit=False)

CONTRACT_NAMES = build.CONTRACT_STATEMENTS | {"Result", "Old", "Implies", "Acc", "Forall"}


def _without_contracts(node):
    """node with contract statements removed from every statement list, at
    any depth (loop invariants sit inside loops), an emptied body a pass."""
    node = copy.deepcopy(node)
    for n in ast.walk(node):
        for field in ("body", "orelse"):
            stmts = getattr(n, field, None)
            if isinstance(stmts, list) and stmts and isinstance(stmts[0], ast.stmt):
                kept = [s for s in stmts if not build._is_contract(s)]
                setattr(n, field, kept or ([ast.Pass()] if field == "body" else []))
    return node


def _plain(stmts):
    return [ast.dump(_without_contracts(s)) for s in stmts if not build._is_contract(s)]


@pytest.mark.parametrize("name", build.VERIFIED_MODULES)
def test_stripped_module_is_the_source_minus_its_contracts(name):
    path = build.module_path(name)
    original = ast.parse(open(path).read(), filename=path)
    _, stripped = build.parse_module(name)
    kept = [n for n in original.body
            if not build._is_ghost_import(n) and not build._is_ghost_function(n)]
    assert len(kept) == len(stripped.body)
    for before, after in zip(kept, stripped.body):
        if isinstance(before, ast.FunctionDef):
            assert before.name == after.name
            assert [a.arg for a in before.args.args] == [a.arg for a in after.args.args]
            assert _plain(before.body) == [ast.dump(s) for s in after.body]
        else:
            assert ast.dump(before) == ast.dump(after)
    names = {n.id for n in ast.walk(stripped) if isinstance(n, ast.Name)}
    assert not names & CONTRACT_NAMES


def test_flowtable_carries_contracts_that_the_build_removes():
    path = build.module_path(build.STATE_API)
    original = ast.parse(open(path).read())
    contracts = [n for n in ast.walk(original) if build._is_contract(n)]
    assert len(contracts) >= 20


class _Anything:
    """Stands for any ghost value when contracts are merely evaluated."""

    __array_ufunc__ = None       # numpy defers to it instead of iterating it

    def __eq__(self, other):
        return True

    __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __eq__

    def __bool__(self):
        return True

    def __len__(self):
        return 0

    def _same(self, *other):
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __call__ = _same
    __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __neg__ = __getitem__ = _same

    def __hash__(self):
        return 0

    def __getattr__(self, name):          # a ghost value's fields and methods (A.rec, s.update)
        return self


def _ghost(*args):
    return _Anything()


def _with_contracts_as_python():
    """The contract-annotated source run by CPython, Nagini's contract
    functions and the model's ghost functions replaced by harmless stubs
    (what the source does with its contracts evaluated but not proven)."""
    fake = types.ModuleType("nagini_contracts.contracts")
    fake.__getattr__ = lambda name: _ghost     # every contract name is a stub
    sys.modules.setdefault("nagini_contracts", types.ModuleType("nagini_contracts"))
    saved = sys.modules.get("nagini_contracts.contracts")
    sys.modules["nagini_contracts.contracts"] = fake
    try:
        ghosts = tuple(n.name for m in ("vernat.state.ghost", "vernat.state.model")
                       for n in ast.parse(open(build.module_path(m)).read()).body
                       if isinstance(n, ast.FunctionDef))
        namespace = {n: _ghost for n in ghosts}
        for name in build.VERIFIED_MODULES[:6]:
            path = build.module_path(name)
            tree = ast.parse(open(path).read(), filename=path)
            tree.body = [n for n in tree.body if not (isinstance(n, ast.ImportFrom) and
                         n.module.startswith("vernat."))]
            assert any(build._is_contract(n) for n in ast.walk(tree)) or \
                name != build.STATE_API
            exec(compile(tree, path, "exec"), namespace)
        return types.SimpleNamespace(**namespace)
    finally:
        if saved is None:
            del sys.modules["nagini_contracts.contracts"]
        else:
            sys.modules["nagini_contracts.contracts"] = saved


def test_stripped_library_behaves_like_the_annotated_source():
    annotated = _with_contracts_as_python()
    stripped = build.load(jit=False)
    capacity = 6
    tables = []
    for lib in (annotated, stripped):
        t = np.zeros(L.table_words(capacity), dtype=np.int64)
        lib.table_init(t, capacity, L.slots_for(capacity), 7)
        tables.append(t)
    rng = random.Random(5)
    now = 0
    for step in range(3000):
        now += rng.randrange(3)
        k1, k2 = rng.randrange(12), rng.randrange(3)
        results = []
        for lib, t in zip((annotated, stripped), tables):
            op = step % 3
            if op == 0:
                results.append(lib.flow_expire(t, now, 20))
            i = lib.flow_lookup(t, k1, k2)
            if i >= 0:
                lib.flow_refresh(t, i, now)
            else:
                i = lib.flow_allocate(t, k1, k2, 0xAA, now)
            results.append(i)
        assert results[: len(results) // 2] == results[len(results) // 2:]
        assert np.array_equal(tables[0], tables[1])
