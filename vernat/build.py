"""Load the verified per-packet source for one of its consumers.

The verified code (VERIFIED_MODULES) is plain Python with no decorators.
`load(jit=True)` gives the numba build that replay and the live data plane
run; `load(jit=False)` gives the very same source as plain CPython functions,
for differential tests. Both are produced the same way: each module's source
is parsed, its imports of other verified modules are bound to *this* build's
functions (so a numba function only ever calls numba functions), and the
module body is executed in a fresh namespace under its real file name, so
line numbers, tracebacks and numba's on-disk cache all point at the source.

The AST pass is also where the library's proof contracts are stripped
(strip_contracts), and where anything outside the verified subset that the
loader can see (imports of non-verified modules) is refused.
"""

import ast
import os
import types

VERIFIED_MODULES = (
    "vernat.packet.fields",
    "vernat.packet.checksum",
    "vernat.state.layout",
    "vernat.state.flowmap",
    "vernat.state.allocator",
    "vernat.state.flowtable",
    "vernat.nat.constants",
    "vernat.nat.process",
)

_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_builds = {}


class SubsetError(Exception):
    """The verified source uses something outside docs/subset.md."""


def module_path(name):
    return os.path.join(_PACKAGE_ROOT, *name.split(".")) + ".py"


# Nagini's contract statements and the modules that hold only ghost code:
# what strip_contracts removes, and nothing else.
CONTRACT_STATEMENTS = frozenset((
    "Requires", "Ensures", "Exsures", "Invariant", "Decreases", "Assert", "Assume",
    "Refute", "Fold", "Unfold", "Reveal",
))
GHOST_MODULES = ("nagini_contracts", "vernat.state.model", "vernat.state.ghost", "typing")
GHOST_DECORATORS = frozenset(("Pure", "Predicate", "Ghost", "ContractOnly", "Opaque", "Inline"))


# A call statement of a proof lemma (a ghost method of a ghost module, named
# lemma_*: its contract is the fact, its body the proof) is ghost code too.
LEMMA_PREFIX = "lemma_"


def _is_contract(node):
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and \
        isinstance(node.value.func, ast.Name) and (
            node.value.func.id in CONTRACT_STATEMENTS or
            node.value.func.id.startswith(LEMMA_PREFIX))


def _is_ghost_import(node):
    return isinstance(node, ast.ImportFrom) and node.module is not None and any(
        node.module == m or node.module.startswith(m + ".") for m in GHOST_MODULES)


def _is_ghost_function(node):
    return isinstance(node, ast.FunctionDef) and any(
        isinstance(d, ast.Name) and d.id in GHOST_DECORATORS for d in node.decorator_list)


class _Stripper(ast.NodeTransformer):
    def visit_FunctionDef(self, node):
        for a in node.args.args:
            a.annotation = None
        node.returns = None
        self.generic_visit(node)
        if not node.body:
            node.body = [ast.Pass()]
        return node

    def visit_Expr(self, node):
        return None if _is_contract(node) else node

    def visit_Module(self, node):
        node.body = [n for n in node.body if not _is_ghost_import(n) and
                     not _is_ghost_function(n)]
        for n in node.body:
            if isinstance(n, ast.FunctionDef) and n.name.startswith(LEMMA_PREFIX):
                # its calls would be stripped as ghost code: refuse, not skip
                raise SubsetError(f"line {n.lineno}: {n.name!r}: the name lemma_* is kept for "
                                  f"proof lemmas of the ghost modules")
        self.generic_visit(node)
        return node


def strip_contracts(tree):
    """The module minus its proof contracts (issue: vernat prove): Nagini's
    contract statements (Requires, Ensures, Invariant, ...), imports of
    nagini_contracts and of the ghost model, ghost functions (@Pure,
    @Predicate, ...) and type annotations. The code that runs is this."""
    return ast.fix_missing_locations(_Stripper().visit(tree))


def parse_module(name, sources=None):
    """A verified module's syntax tree, contracts stripped."""
    path = module_path(name)
    if sources and name in sources:
        return path, strip_contracts(ast.parse(sources[name], filename=path))
    with open(path, encoding="utf-8") as f:
        return path, strip_contracts(ast.parse(f.read(), filename=path))


def _bind_imports(name, path, tree, built, modname):
    """Drop the module's imports, binding the imported names from `built`."""
    namespace = {"__name__": modname, "__file__": path, "__builtins__": __builtins__}
    body = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            if node.module not in built:
                raise SubsetError(
                    f"{path}:{node.lineno}: imports {node.module!r}, which is not an "
                    f"earlier verified module")
            for alias in node.names:
                namespace[alias.asname or alias.name] = built[node.module][alias.name]
        elif isinstance(node, ast.Import):
            raise SubsetError(f"{path}:{node.lineno}: plain 'import' is outside the subset")
        else:
            body.append(node)
    tree.body = body
    return namespace


STATE_API = "vernat.state.flowtable"


def source_digest():
    """Hash of every verified module's source, the hints' numba
    implementations, this loader (it holds the compile options) and the
    numba version."""
    import hashlib
    import numba
    digest = hashlib.sha256(numba.__version__.encode())
    for name in VERIFIED_MODULES + ("vernat.jit_hints", "vernat.build", "vernat.state.model"):
        with open(module_path(name), "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()[:16]


def cache_dir():
    root = os.environ.get("VERNAT_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "vernat", "numba")
    return os.path.join(root, source_digest())


def jit_options(state):
    """How numba compiles the verified source.

    inline="always": every helper is inlined into the entry point at numba's
    IR level (LLVM alone does not inline across numba functions: 2x slower).
    _nrt=False: no reference counting. Numba otherwise increments and
    decrements (atomically) a reference count for every array passed into
    every inlined helper, which cost more than the NAT itself (measured: 60
    -> 24 ns per packet). Safe because the verified code never allocates
    nor keeps an array; numba refuses to compile anything that would need
    its runtime. The unverified baseline (state=...) needs the runtime for
    its typed dict, so it keeps it.
    """
    return {"cache": state is None, "nogil": True, "inline": "always",
            "_nrt": state is not None}


def _build_module_name(name, jit, sources):
    """The name a built module lives under in sys.modules. Not the source's
    own name: that module is the source *with* its contracts, which imports
    Nagini's contract library, absent here. numba needs the functions'
    module to be importable by name to cache them."""
    kind = "jit" if jit else "py"
    if sources is not None:
        kind += f"_mutant{id(sources)}"
    return f"vernat._built_{kind}.{name}"


def _register(modname, namespace):
    import sys
    module = types.ModuleType(modname)
    module.__dict__.update(namespace)
    namespace_module = sys.modules.setdefault(modname, module)
    namespace_module.__dict__.update(namespace)


def read_source_tree(root):
    """{module: text} for every verified module found under root, laid out
    like the package (root/vernat/nat/process.py, ...): a modified copy of
    the verified source, e.g. a counterexample's mutant. Raises ValueError
    if root holds none."""
    found = {}
    for name in VERIFIED_MODULES:
        path = os.path.join(root, *name.split(".")) + ".py"
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                found[name] = f.read()
    if not found:
        raise ValueError(f"{root} holds no verified module (expected e.g. "
                         f"{os.path.join(root, 'vernat', 'nat', 'process.py')})")
    return found


def write_source_tree(root, sources):
    """The inverse of read_source_tree."""
    for name, text in sources.items():
        path = os.path.join(root, *name.split(".")) + ".py"
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def load(jit=True, state=None, sources=None):
    """A namespace with every verified function and constant, numba-compiled
    when jit is true. Built once per mode and process.

    state: the name of a module to use *instead of* the verified state
    library (vernat.baseline.dict_flowtable, the unverified baseline the
    benchmarks compare against). Its functions must already be compiled.
    sources: {module: source text} replacing files (the verifier's mutants);
    such a build is neither kept nor cached on disk.
    """
    key = (jit, state)
    if sources is None and key in _builds:
        return _builds[key]
    hints = {}
    if jit:
        import numba
        # numba's cache notices edits to a function's own file only, but the
        # compiled entry point has every verified module inlined into it:
        # key the cache on all of them so an edit anywhere recompiles.
        numba.config.CACHE_DIR = cache_dir()
        from vernat.jit_hints import OVERRIDES as hints
    built = {}
    merged = {}
    for name in VERIFIED_MODULES:
        if name == STATE_API and state is not None:
            import importlib
            built[name] = vars(importlib.import_module(state))
            merged.update({k: v for k, v in built[name].items() if k.startswith("flow_")})
            continue
        path, tree = parse_module(name, sources)
        modname = _build_module_name(name, jit, sources)
        namespace = _bind_imports(name, path, tree, built, modname)
        exec(compile(tree, path, "exec"), namespace)
        for attr, value in list(namespace.items()):
            if isinstance(value, types.FunctionType) and value.__module__ == modname and jit:
                if attr in hints:
                    namespace[attr] = hints[attr]
                else:
                    options = jit_options(state)
                    if sources is not None:
                        options["cache"] = False
                    namespace[attr] = numba.njit(**options)(value)
        _register(modname, namespace)
        built[name] = namespace
        merged.update({k: v for k, v in namespace.items() if not k.startswith("__")})
    result = types.SimpleNamespace(**merged)
    if sources is None:
        _builds[key] = result
    return result
