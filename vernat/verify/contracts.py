"""The state library's contracts, read from its source and put to work.

Each API function of vernat/state/flowtable.py states its meaning with
Nagini's Requires / Ensures over the abstract model (vernat/state/model.py).
This module parses those expressions (never a retyped copy) and translates
them to z3 over vernat/verify/abstract.py, for one call of a trace:

    state(t)       the table's state after the call (in Requires: before)
    Old(e)         e with every state(t) read before the call
    Result()       the value the call returned
    parameters     the call's arguments

Lazy validation (VigNAT's "lazy proof"): the loose model of a call assumed
something on the path (e.g. an index is -1 or below the capacity); the
contract's postcondition must imply it, and the contract's precondition must
hold where the NAT made the call. Both are proven per path in
vernat/verify/equivalence.py.

Arithmetic is on 64-bit bit-vectors (signed comparisons), as in the
executor; the contracts only compare values that fit in 49 bits.
"""

import ast

import z3

from vernat import build
from vernat.verify.abstract import FUNCTIONS
from vernat.verify.values import TableRef, bv, is_sym

STATE_API = build.STATE_API


class ContractError(Exception):
    """A contract uses something the validator cannot read."""


class Contract:
    def __init__(self, name, params, requires, ensures, path):
        self.name, self.params = name, params
        self.requires, self.ensures, self.path = requires, ensures, path


def read_contracts(sources=None):
    """{function name: Contract} for every API function of the state library."""
    path = build.module_path(STATE_API)
    text = sources[STATE_API] if sources and STATE_API in sources else open(path).read()
    tree = ast.parse(text, filename=path)
    found = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        requires, ensures = [], []
        for stmt in node.body:
            if build._is_contract(stmt):
                kind = stmt.value.func.id
                if kind == "Requires":
                    requires.append(stmt.value.args[0])
                elif kind == "Ensures":
                    ensures.append(stmt.value.args[0])
        found[node.name] = Contract(node.name, [a.arg for a in node.args.args],
                                    requires, ensures, path)
    return found


class _Call:
    """Translation context of one call: arguments, result, states."""

    def __init__(self, contract, args, result, before, after):
        self.contract = contract
        self.env = dict(zip(contract.params, args))
        self.result, self.before, self.after = result, before, after


def translate(expr, call, old):
    """z3 term of a contract expression for one call; old: read states
    before the call (Requires, or inside Old())."""
    t = type(expr)
    where = f"{call.contract.path}:{getattr(expr, 'lineno', '?')}"
    if t is ast.Constant and type(expr.value) in (int, bool):
        return expr.value
    if t is ast.Name:
        if expr.id in call.env:
            return call.env[expr.id]
        if expr.id in ("True", "False"):
            return expr.id == "True"
        raise ContractError(f"{where}: unknown name {expr.id!r} in a contract")
    if t is ast.BoolOp:
        parts = [_bool(translate(v, call, old)) for v in expr.values]
        return z3.And(*parts) if isinstance(expr.op, ast.And) else z3.Or(*parts)
    if t is ast.UnaryOp:
        v = translate(expr.operand, call, old)
        if isinstance(expr.op, ast.Not):
            return z3.Not(_bool(v))
        if isinstance(expr.op, ast.USub):
            return -bv(v)
    if t is ast.BinOp:
        a, b = bv(translate(expr.left, call, old)), bv(translate(expr.right, call, old))
        ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
               ast.LShift: lambda: a << b, ast.RShift: lambda: a >> b,
               ast.BitAnd: lambda: a & b, ast.BitOr: lambda: a | b}
        if type(expr.op) in ops:
            return ops[type(expr.op)]()
    if t is ast.Compare and len(expr.ops) == 1:
        a = translate(expr.left, call, old)
        b = translate(expr.comparators[0], call, old)
        op = type(expr.ops[0])
        if op in (ast.Eq, ast.NotEq):
            if _sort(a) != _sort(b):
                a, b = _same_sort(a, b)
            return a == b if op is ast.Eq else a != b
        a, b = bv(a), bv(b)
        return {ast.Lt: a < b, ast.LtE: a <= b, ast.Gt: a > b, ast.GtE: a >= b}[op]
    if t is ast.Call and isinstance(expr.func, ast.Name) and not expr.keywords:
        name = expr.func.id
        if name == "Result":
            return call.result
        if name == "Old":
            return translate(expr.args[0], call, True)
        if name == "Implies":
            return z3.Implies(_bool(translate(expr.args[0], call, old)),
                              _bool(translate(expr.args[1], call, old)))
        if name == "table":
            return True                       # permissions: Nagini's business
        if name == "state":
            table = translate(expr.args[0], call, old)
            if not isinstance(table, TableRef):
                raise ContractError(f"{where}: state() of something that is not a table")
            return call.before if old else call.after
        if name in FUNCTIONS:
            args = [translate(a, call, old) for a in expr.args]
            return FUNCTIONS[name](*[a if _is_state(a) else bv(a) for a in args])
    raise ContractError(f"{where}: {ast.unparse(expr)!r} is outside what the validator reads")


def _bool(v):
    if isinstance(v, bool):
        return z3.BoolVal(v)
    if is_sym(v) and z3.is_bool(v):
        return v
    raise ContractError(f"a contract uses the integer {v} as a condition")


def _is_state(v):
    return is_sym(v) and v.sort() == FUNCTIONS["expired"].range()


def _sort(v):
    if isinstance(v, bool) or (is_sym(v) and z3.is_bool(v)):
        return "bool"
    if _is_state(v):
        return "state"
    return "int"


def _same_sort(a, b):
    if _sort(a) == "bool" or _sort(b) == "bool":
        return _bool(a) if not isinstance(a, int) else z3.BoolVal(bool(a)), \
            _bool(b) if not isinstance(b, int) else z3.BoolVal(bool(b))
    return bv(a), bv(b)


def instantiate(contract, args, result, before, after):
    """(preconditions, postconditions) of one call, as z3 formulas."""
    call = _Call(contract, args, result, before, after)
    pre = [_bool(translate(r, call, True)) for r in contract.requires]
    post = [_bool(translate(e, call, False)) for e in contract.ensures]
    return pre, post
