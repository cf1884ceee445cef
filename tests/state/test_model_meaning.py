"""What the abstract model's definitions mean, tested (vernat/state/model.py).

`vernat prove` proves the library against the definitions of model.py; this
test checks that those definitions say what the specification's table says
(vernat/spec/abstract_state.py: live flows, a FIFO of free indices, expiry
of every flow with now - last_seen >= timeout in least-recently-used order).

It runs model.py's own definitions in CPython: the module's source minus its
contract statements (Requires, Ensures, Decreases, ...), with a small
executable PSeq (a tuple) for Nagini's. On random operation sequences it
checks, after every step:
- the proof obligation `state(t) == transition(Old(state(t)))` on the real
  table (the array the CPython build updates), and
- the meaning: every query of the definitions equals the specification's
  answer, and the abstract value's list and ring, read as a
  least-recently-used order and a free FIFO, are the specification's.
"""

import ast
import typing

import numpy as np
import pytest

from vernat import build
from vernat.spec import abstract_state as spec
from vernat.state.tables import new_table

L = build.load(jit=False)


class PSeq(tuple):
    """Nagini's PSeq, executable: an immutable sequence."""

    def __new__(cls, *items):
        return super().__new__(cls, items)

    def update(self, k, v):
        assert 0 <= k < len(self)
        return PSeq(*(self[:k] + (v,) + self[k + 1:]))

    def take(self, n):
        return PSeq(*tuple.__getitem__(self, slice(0, max(n, 0))))

    def drop(self, n):
        return PSeq(*tuple.__getitem__(self, slice(max(n, 0), None)))

    def __add__(self, other):
        return PSeq(*(tuple(self) + tuple(other)))


def _not_executable(*args):
    raise AssertionError("a definition used a proof-only construct at run time")


class _ADT:
    pass


def _load_model():
    """model.py's definitions as CPython functions."""
    path = build.module_path("vernat.state.model")
    tree = ast.parse(open(path).read(), filename=path)
    tree.body = [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom))]
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            node.decorator_list = []
            node.body = [s for s in node.body if not build._is_contract(s)] or [ast.Pass()]
    namespace = {name: getattr(L, name) for name in dir(L) if name.isupper()}
    namespace.update(
        List=typing.List, NamedTuple=typing.NamedTuple, ADT=_ADT, PSeq=PSeq,
        ToSeq=lambda t: PSeq(*(int(x) for x in t)),
        Unfolding=lambda predicate, value: value,
        # proof-only: the definitions tested here must not need them
        Acc=_not_executable, list_pred=_not_executable, Forall=_not_executable,
        Forall2=_not_executable, Exists=_not_executable, Implies=_not_executable,
        geometry=_not_executable, allocator_ok=_not_executable, map_ok=_not_executable,
        flow_word=_not_executable, slot_word=_not_executable)
    exec(compile(ast.fix_missing_locations(tree), path, "exec"), namespace)
    return typing.cast(typing.Any, type("Model", (), {
        k: staticmethod(v) if callable(v) and not isinstance(v, type) else v
        for k, v in namespace.items()}))


M = _load_model()


def _key(k1, k2):
    """A spec key (inside ip, inside port, remote ip, remote port) from k1, k2."""
    return k1 >> 16, k1 & 0xFFFF, k2 >> 16, k2 & 0xFFFF


def lru_order(A):
    """The abstract list, oldest first, read by following the links."""
    order, i = [], A.oldest
    for _ in range(A.cap + 1):
        if i < 0:
            return order
        order.append(i)
        i = M.next_of(A, i)
    raise AssertionError("the list has a cycle")


def free_fifo(A):
    """The ring's window of free indices, from the head."""
    return [M.ring_index(A, (A.head + k) % A.cap) for k in range(A.cap - A.count)]


def assert_means_spec(A, s, keys):
    assert M.capacity(A) == s.capacity
    assert M.full(A) == spec.st_full(s)
    for i in range(-1, A.cap + 1):
        assert M.live(A, i) == spec.st_live(s, i)
        if spec.st_live(s, i):
            assert _key(M.key1_of(A, i), M.key2_of(A, i)) == (
                spec.st_inside_ip(s, i), spec.st_inside_port(s, i),
                spec.st_remote_ip(s, i), spec.st_remote_port(s, i))
            assert M.mac_of(A, i) == spec.st_mac(s, i)
            assert M.last_seen_of(A, i) == spec.st_last_seen(s, i)
    for k1, k2 in keys:
        assert M.find(A, k1, k2) == spec.st_find(s, *_key(k1, k2))
    assert free_fifo(A) == list(s.free)
    if not spec.st_full(s):
        assert M.next_free(A) == s.free[0]
    # least recently used first: the order the specification expires them in
    assert lru_order(A) == sorted(s.flows, key=lambda i: (s.flows[i].last_seen,
                                                          s.flows[i].order))


@pytest.mark.parametrize("capacity, seed", [(1, 1), (2, 2), (5, 3), (16, 4), (16, 5)])
def test_definitions_mean_the_spec_and_the_code_follows_them(capacity, seed):
    rng = np.random.default_rng(seed)
    t = new_table(L, capacity, salt=seed)
    s = spec.new_table(capacity)
    keys = [(int(a) << 16 | int(b), int(c) << 16 | int(d))
            for a, b, c, d in rng.integers(0, 1 << 16, size=(3 * capacity + 2, 4))]
    keys += [(keys[0][1], keys[0][0])]          # the same words swapped: another key
    A = M.abstract(t)
    now = 0
    steps = {"added": 0, "touched": 0, "expired": 0, "freed": 0}
    for _ in range(60 * capacity + 40):
        now += int(rng.integers(0, 4))          # time never goes back; ties happen
        op = rng.integers(0, 3)
        if op == 0:                             # a frame of some flow: look up, add if new
            k1, k2 = keys[rng.integers(0, len(keys))]
            mac = int(rng.integers(0, 1 << 48))
            i = L.flow_lookup(t, k1, k2)
            assert i == M.find(A, k1, k2)
            if i < 0:
                expect = A if M.full(A) else M.added(A, k1, k2, mac, now)
                got = L.flow_allocate(t, k1, k2, mac, now)
                assert got == (-1 if M.full(A) else M.next_free(A))
                if not spec.st_full(s):
                    assert spec.st_add(s, *_key(k1, k2), mac, now) == got
                    steps["added"] += 1
                A = expect
        elif op == 1:                           # refresh a live flow
            live = [i for i in range(capacity) if M.live(A, i)]
            if live:
                i = live[rng.integers(0, len(live))]
                L.flow_refresh(t, i, now)
                spec.st_touch(s, i, now)
                A = M.touched(A, i, now)
                steps["touched"] += 1
        else:                                   # expiry
            timeout = int(rng.integers(1, 12))
            before = spec.st_count(s)
            L.flow_expire(t, now, timeout)
            spec.st_expire(s, now, timeout)
            A = M.expired(A, now, timeout)
            steps["expired"] += 1
            steps["freed"] += before - spec.st_count(s)
        assert M.abstract(t) == A               # what vernat prove proves, here tested
        assert_means_spec(A, s, keys)
    # the random walk did exercise every transition
    assert all(n > 0 for n in steps.values()), steps
