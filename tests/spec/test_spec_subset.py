"""The specification stays inside the verified subset (docs/subset.md).

A conservative AST check of the spec modules that a symbolic executor will
run (everything in vernat/spec except abstract_state.py, which is the
CPython stand-in for the state models): only the constructs listed in
docs/subset.md, and calls only to spec functions (plus int() for widening
bytes and range() as a loop bound).
"""

import ast
import os

import pytest

SPEC_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "vernat", "spec")
SUBSET_MODULES = ("rfc3022.py", "wire.py", "checksum.py")

BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod, ast.LShift, ast.RShift,
          ast.BitAnd, ast.BitOr, ast.BitXor)
CMPOPS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def spec_function_names():
    names = set()
    for name in os.listdir(SPEC_DIR):
        if name.endswith(".py"):
            with open(os.path.join(SPEC_DIR, name), encoding="utf-8") as f:
                tree = ast.parse(f.read())
            names |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    return names


class Checker(ast.NodeVisitor):
    def __init__(self, path, functions):
        self.path = path
        self.functions = functions
        self.constants = set()
        self.errors = []

    def bad(self, node, what):
        self.errors.append(f"{os.path.basename(self.path)}:{getattr(node, 'lineno', '?')}: {what}")

    # module level ------------------------------------------------------------
    def check_module(self, tree):
        for k, node in enumerate(tree.body):
            if k == 0 and is_docstring(node):
                continue
            if isinstance(node, ast.ImportFrom):
                if node.level or not (node.module == "vernat.nat.constants"
                                      or node.module.startswith("vernat.spec.")):
                    self.bad(node, f"import from {node.module}")
                for alias in node.names:
                    if alias.asname:
                        self.bad(node, "import with renaming")
                    if node.module.startswith("vernat.spec.") and \
                            alias.name not in self.functions:
                        self.bad(node, f"imports {alias.name}, not a spec function")
            elif isinstance(node, ast.Assign):
                if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name) or \
                        not is_int_literal(node.value):
                    self.bad(node, "module-level assignment other than NAME = integer")
                else:
                    self.constants.add(node.targets[0].id)
            elif isinstance(node, ast.FunctionDef):
                self.check_function(node)
            else:
                self.bad(node, f"module-level {type(node).__name__}")

    def check_function(self, fn):
        a = fn.args
        if fn.decorator_list or a.vararg or a.kwarg or a.kwonlyargs or a.defaults or \
                a.kw_defaults or a.posonlyargs or fn.returns:
            self.bad(fn, f"function {fn.name}: only plain positional parameters allowed")
        for k, stmt in enumerate(fn.body):
            if k == 0 and is_docstring(stmt):
                continue
            self.stmt(stmt)

    # statements --------------------------------------------------------------
    def stmt(self, node):
        if isinstance(node, ast.Assign):
            if len(node.targets) != 1:
                self.bad(node, "chained assignment")
            for target in node.targets:
                self.target(target)
            self.expr(node.value)
        elif isinstance(node, ast.AugAssign):
            if not isinstance(node.op, (ast.Add, ast.Sub)):
                self.bad(node, "augmented assignment other than += -=")
            self.target(node.target)
            self.expr(node.value)
        elif isinstance(node, ast.If):
            self.expr(node.test)
            for s in node.body + node.orelse:
                self.stmt(s)
        elif isinstance(node, ast.For):
            if node.orelse or not isinstance(node.target, ast.Name):
                self.bad(node, "for loop shape")
            it = node.iter
            if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and
                    it.func.id == "range" and len(it.args) == 1 and not it.keywords and
                    (is_int_literal(it.args[0]) or (isinstance(it.args[0], ast.Name) and
                                                    it.args[0].id in self.constants))):
                self.bad(node, "loop is not `for NAME in range(CONSTANT)`")
            for s in node.body:
                self.stmt(s)
        elif isinstance(node, ast.Return):
            if node.value is not None:
                self.expr(node.value)
        elif isinstance(node, ast.Break):
            pass
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            self.expr(node.value)
        else:
            self.bad(node, f"statement {type(node).__name__}")

    def target(self, node):
        if isinstance(node, ast.Name):
            return
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            self.expr(node.slice)
            return
        self.bad(node, "assignment target other than a name or array[index]")

    # expressions -------------------------------------------------------------
    def expr(self, node):
        if isinstance(node, ast.Constant):
            if not isinstance(node.value, (int, bool)):
                self.bad(node, f"constant {node.value!r}")
        elif isinstance(node, ast.Name):
            pass
        elif isinstance(node, ast.BinOp):
            if not isinstance(node.op, BINOPS):
                self.bad(node, f"operator {type(node.op).__name__}")
            self.expr(node.left)
            self.expr(node.right)
        elif isinstance(node, ast.Compare):
            if len(node.ops) != 1 or not isinstance(node.ops[0], CMPOPS):
                self.bad(node, "comparison (chained, or not one of == != < <= > >=)")
            self.expr(node.left)
            for c in node.comparators:
                self.expr(c)
        elif isinstance(node, ast.BoolOp):
            for v in node.values:
                self.expr(v)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.Not):
                self.bad(node, f"unary {type(node.op).__name__}")
            self.expr(node.operand)
        elif isinstance(node, ast.Subscript):
            if not isinstance(node.value, ast.Name) or isinstance(node.slice, ast.Slice):
                self.bad(node, "subscript other than array[index]")
            self.expr(node.slice)
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.keywords:
                self.bad(node, "call shape")
            elif node.func.id == "int":
                if len(node.args) != 1:
                    self.bad(node, "int() with other than one argument")
            elif node.func.id not in self.functions:
                self.bad(node, f"call of {node.func.id}, not a spec function")
            for arg in node.args:
                if isinstance(arg, ast.Starred):
                    self.bad(node, "*args")
                self.expr(arg)
        else:
            self.bad(node, f"expression {type(node).__name__}")


def is_docstring(node):
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and \
        isinstance(node.value.value, str)


def is_int_literal(node):
    return isinstance(node, ast.Constant) and type(node.value) is int


@pytest.mark.parametrize("module", SUBSET_MODULES)
def test_spec_module_is_in_the_verified_subset(module):
    path = os.path.join(SPEC_DIR, module)
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), filename=path)
    checker = Checker(path, spec_function_names())
    checker.check_module(tree)
    assert not checker.errors, "\n".join(checker.errors)


def test_checker_rejects_things_outside_the_subset():
    src = ("def f(a, b=1):\n    x = [a]\n    while a:\n        a -= 1\n"
           "    return -a if b else ~a\n")
    checker = Checker("probe.py", {"f"})
    checker.check_module(ast.parse(src))
    assert len(checker.errors) >= 4, checker.errors
