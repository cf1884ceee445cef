"""A path-enumerating symbolic executor for the verified subset of Python.

It interprets the verified modules' syntax trees directly (the same source
numba compiles), with packet bytes, lengths, times and configuration as z3
bit-vectors. Every path through the entry point is explored:

- a branch on a symbolic condition forks when both sides are feasible;
  paths are replayed from the start following a recorded list of
  decisions (simple, and cheap for code this size);
- an `if` whose branches only assign (no return/break/continue, no
  state-library call, only straight-line callees) is not forked but merged:
  both branches run, and every variable and array they wrote becomes a z3
  If(). This keeps loops such as the IPv4 header sum from multiplying paths;
- every array access, integer operation and byte store carries an
  obligation (index in bounds, no int64 overflow, value fits its byte) that
  is proven on the spot under the path condition; a failure stops the path
  with a concrete model: the counterexample;
- calls into the state library's API are answered by models
  (vernat/verify/models.py) that return fresh symbolic values and record
  the call in the path's trace.

Anything outside docs/subset.md is refused with file and line
(SubsetError), never skipped.
"""

import ast

import z3

from vernat import build
from vernat.build import SubsetError
from vernat.verify.intervals import Bounds
from vernat.verify.values import (
    INT64_MAX, INT64_MIN, WINDOW, SymBuffer, SymVector, TableRef, as_bool, bv, is_sym, simplify,
)


# the obligations `safety = False` skips (the spec's own crash freedom);
# every other property is always proven
SAFETY = frozenset(("memory safety", "int64 overflow", "field width"))

# the prefix of the variables that name a function's result (Executor.named)
NAMED = "="


def is_definition(constraint):
    """A path constraint `r == value` that names a result (Executor.named)."""
    return z3.is_eq(constraint) and z3.is_const(constraint.arg(0)) and \
        constraint.arg(0).decl().name().startswith(NAMED)


class Violation(Exception):
    """A property fails on a feasible path; `model` makes it concrete."""

    def __init__(self, prop, message, where, model=None, goal=()):
        super().__init__(f"{prop}: {message} at {where}")
        self.prop, self.message, self.where, self.model = prop, message, where, model
        self.goal = list(goal)          # what must be satisfiable for the failure


class _Return(Exception):
    def __init__(self, value):
        self.value = value


class _Break(Exception):
    pass


class _CannotMerge(Exception):
    pass


class _Infeasible(Exception):
    pass


class Function:
    def __init__(self, node, path, module, prefix=""):
        self.node, self.path, self.module = node, path, module
        self.name = node.name
        self.prefix = prefix            # its program's namespace (see load_program)
        self.params = [a.arg for a in node.args.args]
        a = node.args
        if a.vararg or a.kwarg or a.kwonlyargs or a.defaults or a.posonlyargs or \
                node.decorator_list:
            raise SubsetError(f"{path}:{node.lineno}: {node.name}: only plain positional "
                              f"parameters and no decorators are in the subset")


def load_program(modules=build.VERIFIED_MODULES, sources=None, prefix=""):
    """Functions and integer constants of the verified modules, one flat
    namespace (the modules import each other by name, without renaming).
    sources: optional {module: source text} overriding files (mutants).
    prefix: put every name under it, so that two programs (the NAT and the
    spec, which both have a load16 and an IP_TTL, with different meanings)
    can share an executor; names used inside a function resolve in its own
    program first."""
    functions, constants = {}, {}
    for name in modules:
        path, tree = build.parse_module(name, sources)
        for node in tree.body:
            where = f"{path}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.FunctionDef):
                functions[prefix + node.name] = Function(node, path, name, prefix)
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                    isinstance(node.targets[0], ast.Name):
                value = node.value
                if isinstance(value, ast.Constant) and type(value.value) is int:
                    constants[prefix + node.targets[0].id] = value.value
                elif isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub) and \
                        isinstance(value.operand, ast.Constant):
                    constants[prefix + node.targets[0].id] = -value.operand.value
                # other module-level values (name tables for people) are
                # refused only if the verified code uses them
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.asname and alias.asname != alias.name:
                        raise SubsetError(f"{where}: imports must not rename")
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                pass                                  # docstring
            else:
                raise SubsetError(f"{where}: {type(node).__name__} at module level is "
                                  f"outside the subset")
    return functions, constants


class Stats:
    def __init__(self):
        self.paths = 0
        self.queries = 0
        self.obligations = 0
        self.by_bounds = 0
        self.sliced = 0
        self.infeasible = 0
        self.merges = 0
        self.named = 0


class Path:
    """One run of the entry point following a decision prefix."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.decisions = []
        self.alternatives = []
        self.constraints = []
        self.trace = []
        self.guards = []                 # conditions of the merged branches we are inside
        self.merging = 0
        self.result = None
        self.violation = None
        self.fresh = 0
        self.rank = 0
        self.model_assumed = set()       # indices of constraints a library model added
        self.guided = True               # every decision so far agreed with the guide
        self.calls = []                  # (name, args, result, merged) of watched calls
        self.infeasible = False
        self.models = []                 # the last models queries on this path returned


class Executor:
    # z3 logic of every query: the NAT's paths are pure bit-vectors; the
    # spec comparison adds the abstract tables' uninterpreted functions
    logic = "QF_BV"
    # a model of the constraints every path starts with: decisions it takes
    # need no query (the spec runs under a NAT path's condition)
    guide = None
    settle_forks = False
    # functions whose calls are logged in path.calls (the checksum argument
    # needs the NAT's chain of RFC 1624 updates)
    watch = frozenset(("csum_replace16", "ipv4_header_sum"))
    # functions whose results are named: a fresh variable r and the path
    # constraint r == value (a definition, so every query means what it
    # meant before). Stored bytes then hold r, not the whole RFC 1624 adder
    # tree, and a comparison that only needs "the two chains end equal" can
    # leave the definitions out (checksums.py)
    named = frozenset(("csum_replace16",))
    # prove memory safety, int64 and byte-width obligations (off for the
    # spec, whose own crash freedom is not a property of the NAT; the
    # verifier's window limit is always checked)
    safety = True

    def __init__(self, functions, constants, models):
        self.functions, self.constants, self.models = functions, constants, models
        self.stats = Stats()
        self._proven = set()
        self.path = None
        self.arrays = []
        self._straight = {}
        self.bounds = Bounds()
        self._vars = {}

    # ---- exploration -------------------------------------------------------
    def explore(self, entry, setup, on_path_end=None, first_violation=False):
        """Run `entry` on every feasible path. setup(executor) returns the
        argument list (and adds preconditions with assume()); on_path_end
        (executor, path, args) may check more properties. Returns paths
        (only up to the first one with a violation if first_violation: True,
        or a predicate on the violating path)."""
        done = []
        pending = [[]]
        while pending:
            path = self.run_path(entry, setup, pending.pop(), on_path_end)
            pending.extend(path.alternatives)
            if path.infeasible:
                continue
            done.append(path)
            if path.violation is not None and first_violation and (
                    first_violation is True or first_violation(path)):
                break
        return done

    def run_path(self, entry, setup, prefix, on_path_end=None):
        """Run `entry` once, following the decision prefix; the path's
        `alternatives` are the prefixes of the paths it forked off. An
        infeasible path comes back with `infeasible` set (and no result)."""
        path = Path(prefix)
        self.path = path
        self.arrays = []
        self.context = {}
        args = setup(self)
        path.context = self.context
        try:
            path.result = self.call(entry, args, None)
            if "buf" in self.context:
                path.final_items = list(self.context["buf"].items)
            # every path is checked in full: a guide only spares queries
            # while deciding (a shortcut here let an infeasible spec path
            # through, which then "proved" anything)
            model = self._satisfying(path) or self._check()
            if model is None:
                raise _Infeasible()
            path.model = model
            if on_path_end is not None:
                on_path_end(self, path, args)
        except Violation as v:
            path.violation = v
        except _Infeasible:
            self.stats.infeasible += 1
            path.infeasible = True
            return path
        path.args = args
        self.stats.paths += 1
        return path

    def _satisfying(self, path):
        """A model already at hand (the guide, or one a query on this path
        returned) under which every constraint of the path evaluates to
        true: the path is then feasible without a query."""
        for model in [self.guide] + path.models[::-1]:
            if model is not None and self._satisfies(model, path.constraints):
                return model
        return None

    @staticmethod
    def _satisfies(model, constraints):
        """Every constraint true under model. A name the model does not know
        (a result this path named after the model was made) takes the value
        of its definition (they come in order), which the model is extended by."""
        for c in constraints:
            if is_definition(c) and model.get_interp(c.arg(0).decl()) is None:
                model.update_value(c.arg(0), model.eval(c.arg(1), model_completion=True))
            if not z3.is_true(model.eval(c, model_completion=True)):
                return False
        return True

    def fresh(self, prefix, bits=64):
        self.path.fresh += 1
        name = f"{prefix}!{self.path.fresh}"
        return z3.BitVec(name, bits) if bits else z3.Bool(name)

    def assume(self, cond):
        cond = simplify(cond)
        if cond is True:
            return
        if cond is False:
            raise _Infeasible()
        self.path.constraints.append(cond)

    def _check(self, *extra):
        """A model of the full path condition and `extra`, or None if unsat.
        A fresh QF_BV solver each time: z3's incremental mode skips the
        preprocessing that makes bit-blasting fast (measured 2.5x slower)."""
        self.stats.queries += 1
        s = z3.SolverFor(self.logic)
        s.add(*self.path.constraints)
        s.add(*extra)
        r = s.check()
        model = s.model() if r == z3.sat else None
        if r == z3.unknown:
            raise Violation("solver", "z3 returned unknown", "?")
        if model is not None:
            self.path.models = self.path.models[-3:] + [model]
        return model

    def require(self, prop, name, node, message, quick=None):
        """Prove prop on this path (under the current merge guards). quick:
        (term, lo, hi) triples whose bounds, if they hold, imply prop.

        Paths are replayed from the start, so a path repeats the obligations
        of the prefix it shares with earlier paths; under the same decisions
        they are the same formulas and are not proven twice. Key: (decisions
        so far, rank of the obligation since the last decision)."""
        if not self.safety and name in SAFETY:
            return
        self.stats.obligations += 1
        p = self.path
        p.rank += 1
        key = (tuple(p.decisions), p.rank)
        if key in self._proven:
            return
        if quick and all(self.bounds.within(t, lo, hi) for t, lo, hi in quick):
            self.stats.by_bounds += 1
        else:
            prop = simplify(prop)
            if prop is not True:
                self._prove(prop, name, node, message)
        self._proven.add(key)

    def holds(self, prop):
        """prop is valid on this path (no model, no violation)."""
        prop = simplify(prop)
        if prop is True:
            return True
        goal = [z3.Not(prop)] if prop is not False else []
        return self._sliced_unsat(goal) or self._check(*goal) is None

    def _prove(self, prop, name, node, message):
        goal = list(self.path.guards) + ([] if prop is False else [z3.Not(prop)])
        if self._sliced_unsat(goal):
            return
        model = self._check(*goal)
        if model is None:
            return                       # proven (or an infeasible merged branch)
        raise Violation(name, message, self.where(node), model, goal)

    def variables(self, e):
        """Names of the uninterpreted constants in e. Memoized for every
        subterm (a path's terms share most of their subterms), each kept
        alive with its entry: z3 reuses the ids of freed terms."""
        memo = self._vars
        hit = memo.get(e.get_id())
        if hit is not None:
            return hit[1]
        stack = [(e, None)]
        while stack:
            x, kids = stack.pop()
            key = x.get_id()
            if key in memo:
                continue
            if kids is None:
                if z3.is_const(x) and x.decl().kind() == z3.Z3_OP_UNINTERPRETED:
                    memo[key] = (x, frozenset((x.decl().name(),)))
                    continue
                kids = x.children()
                stack.append((x, kids))
                stack.extend((k, None) for k in kids if k.get_id() not in memo)
            else:
                memo[key] = (x, frozenset().union(*[memo[k.get_id()][1] for k in kids]))
        return memo[e.get_id()][1]

    SLICE_MAX_VARS = 8

    def _sliced_unsat(self, goal):
        """Try the goal against only the small path constraints connected to
        it (through shared variables, transitively among small constraints).
        Unsat there means unsat with all of them (fewer assumptions);
        anything else means: ask again with the full path."""
        small = [(c, self.variables(c)) for c in self.path.constraints
                 if len(self.variables(c)) <= self.SLICE_MAX_VARS]
        wanted = set()
        for g in goal:
            wanted |= self.variables(g)
        picked, grew = [], True
        taken = [False] * len(small)
        while grew:
            grew = False
            for n, (c, vs) in enumerate(small):
                if not taken[n] and vs & wanted:
                    taken[n] = True
                    picked.append(c)
                    wanted |= vs
                    grew = True
        self.stats.queries += 1
        s = z3.SolverFor(self.logic)
        s.add(*picked)
        s.add(*goal)
        if s.check() == z3.unsat:
            self.stats.sliced += 1
            return True
        return False

    def decide(self, cond, node):
        """The truth value of a branch condition on this path, forking when
        both are feasible."""
        cond = simplify(as_bool(cond))
        if not is_sym(cond):
            return bool(cond)
        if self.path.merging:
            raise _CannotMerge()
        p = self.path
        k = len(p.decisions)
        guided = None
        if k < len(p.prefix):
            taken = p.prefix[k]
            if self.guide is not None and p.guided and taken != z3.is_true(
                    self.guide.eval(cond, model_completion=True)):
                p.guided = False
        else:
            # Only "infeasible" is decided here, on a slice of the path
            # condition; a side that may be feasible is explored, and
            # explore() drops any path whose full condition is unsat.
            # With a guide (a model of the path condition so far), the side
            # it takes is feasible without asking.
            guided = None
            if self.guide is not None and p.guided:
                guided = z3.is_true(self.guide.eval(cond, model_completion=True))
            can_true = guided is True or (guided is None and not self._sliced_unsat([cond])) \
                or (guided is False and not self._sliced_unsat([cond]))
            can_false = guided is False or (
                guided is not False and not self._sliced_unsat([z3.Not(cond)]))
            # the side the guide did not take: settle it now with the whole
            # path condition rather than replaying a probably dead fork
            if guided is True and can_false and self.settle_forks:
                can_false = self._check(z3.Not(cond)) is not None
            elif guided is False and can_true and self.settle_forks:
                can_true = self._check(cond) is not None
            if can_true and can_false:
                p.alternatives.append(p.decisions + [False])
                taken = True
            elif can_true or can_false:
                taken = can_true
            else:
                raise _Infeasible()
        if guided is not None and taken != guided:
            p.guided = False
        p.decisions.append(taken)
        p.rank = 0
        self.assume(cond if taken else z3.Not(cond))
        return taken

    def where(self, node):
        fn = self.current_fn
        line = getattr(node, "lineno", "?") if node is not None else "?"
        return f"{fn.path}:{line} ({fn.name})" if fn else "?"

    # ---- calls ---------------------------------------------------------------
    current_fn = None

    def resolve(self, name):
        """A name used in the current function: its own program's first."""
        prefix = self.current_fn.prefix if self.current_fn else ""
        if prefix and prefix + name in self.functions:
            return prefix + name
        return name

    def call(self, name, args, node):
        if name in self.models:
            if self.path.merging:
                raise _CannotMerge()
            return self.models[name](self, args, node)
        name = self.resolve(name)
        fn = self.functions.get(name)
        if fn is None:
            raise SubsetError(f"{self.where(node)}: call of {name!r}, which is neither a "
                              f"verified function nor a modelled library call")
        if len(args) != len(fn.params):
            raise SubsetError(f"{self.where(node)}: {name} takes {len(fn.params)} arguments")
        outer = self.current_fn
        self.current_fn = fn
        env = dict(zip(fn.params, args))
        try:
            self.block(fn.node.body, env)
            value = None
        except _Return as r:
            value = r.value
        finally:
            self.current_fn = outer
        if fn.name in self.named and is_sym(value):
            value = self.name_value(fn, value)
        if fn.name in self.watch:
            self.path.calls.append((fn.name, list(args), value, self.path.merging))
        return value

    def name_value(self, fn, value):
        """A fresh variable defined equal to value (see `named`). Names carry
        the program's prefix and an executor-wide count: the spec's run holds
        the NAT path's definitions beside its own."""
        self.stats.named += 1
        r = z3.BitVec(f"{NAMED}{fn.prefix or 'nat.'}{fn.name}!{self.stats.named}", 64)
        lo, hi = self.bounds.of(value)
        self.bounds.declare(r, lo, hi)
        self.path.constraints.append(r == value)
        # the interval is implied by the definition; stated on its own it
        # serves the queries that leave the definitions out
        self.path.constraints.append(z3.And(r >= lo, r <= hi))
        return r

    # ---- statements ------------------------------------------------------------
    def block(self, stmts, env):
        for s in stmts:
            self.stmt(s, env)

    def stmt(self, s, env):
        t = type(s)
        if t is ast.Expr:
            if isinstance(s.value, ast.Constant) and isinstance(s.value.value, str):
                return                                   # docstring
            self.expr(s.value, env)
        elif t is ast.Assign:
            if len(s.targets) != 1:
                self.refuse(s, "chained assignment")
            self.assign(s.targets[0], self.expr(s.value, env), env, s)
        elif t is ast.AugAssign:
            if not isinstance(s.target, ast.Name):
                self.refuse(s, "augmented assignment to anything but a name")
            value = self.binop(s.op, self.lookup(s.target.id, env, s), self.expr(s.value, env), s)
            env[s.target.id] = value
        elif t is ast.If:
            self.if_stmt(s, env)
        elif t is ast.For:
            self.for_stmt(s, env)
        elif t is ast.Return:
            raise _Return(None if s.value is None else self.expr(s.value, env))
        elif t is ast.Break:
            raise _Break()
        elif t is ast.Pass:
            pass
        else:
            self.refuse(s, f"statement {t.__name__}")

    def refuse(self, node, what):
        raise SubsetError(f"{self.where(node)}: {what} is outside the verified subset "
                          f"(docs/subset.md)")

    def assign(self, target, value, env, node):
        if isinstance(target, ast.Name):
            env[target.id] = value
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            array = self.lookup(target.value.id, env, node)
            self.store(array, self.expr(target.slice, env), value, node)
        else:
            self.refuse(node, "this assignment target")

    def for_stmt(self, s, env):
        it = s.iter
        if not (isinstance(s.target, ast.Name) and isinstance(it, ast.Call) and
                isinstance(it.func, ast.Name) and it.func.id == "range" and
                len(it.args) == 1 and not s.orelse):
            self.refuse(s, "a loop other than `for NAME in range(BOUND)`")
        bound = simplify(self.expr(it.args[0], env))
        if is_sym(bound):
            self.refuse(s, "a loop whose bound is not a constant")
        if self.breaks_mergeable(s.body):
            self.merged_loop(s, bound, env)
            return
        try:
            for k in range(bound):
                env[s.target.id] = k
                self.block(s.body, env)
        except _Break:
            pass

    def breaks_mergeable(self, body):
        """A loop body whose only exits are top-level `if c: break` and whose
        other statements could be merged: such a loop runs once, with a
        guard "no break yet" instead of a fork per exit (the spec's
        header-sum and fold loops)."""
        exits = [st for st in body if isinstance(st, ast.If) and not st.orelse and
                 len(st.body) == 1 and isinstance(st.body[0], ast.Break)]
        if not exits:
            return False
        rest = [st for st in body if not any(st is e for e in exits)]
        return all(self.mergeable_expr(e.test) for e in exits) and self.mergeable(rest)

    def merged_loop(self, s, bound, env):
        alive = True
        for k in range(bound):
            env[s.target.id] = k
            for st in s.body:
                if isinstance(st, ast.If) and not st.orelse and len(st.body) == 1 and \
                        isinstance(st.body[0], ast.Break):
                    stop = simplify(as_bool(self.expr(st.test, env)) if alive is True else
                                    z3.And(alive, as_bool(self.expr(st.test, env))))
                    if stop is True:
                        return
                    if stop is not False:
                        alive = simplify(z3.And(as_bool(alive), z3.Not(stop)))
                        if alive is False:
                            return
                    continue
                if alive is not True:
                    try:
                        self.merged_if(alive, ast.If(test=None, body=[st], orelse=[]), env)
                        continue
                    except _CannotMerge:
                        # e.g. a name first bound in the loop: fork after all
                        if not self.decide(alive, st):
                            return
                        alive = True
                self.stmt(st, env)

    # merging ------------------------------------------------------------------
    def straight(self, name):
        """A function that can run inside a merged branch: no early return,
        no break, no model call, only straight callees."""
        if name in self._straight:
            return self._straight[name]
        self._straight[name] = False                     # recursion is not straight
        fn = self.functions.get(name)
        ok = fn is not None and self.mergeable(fn.node.body[:-1]) and \
            self.mergeable_tail(fn.node.body[-1])
        self._straight[name] = ok
        return ok

    def mergeable_tail(self, stmt):
        if isinstance(stmt, ast.Return):
            return stmt.value is None or self.mergeable_expr(stmt.value)
        return self.mergeable([stmt])

    def mergeable(self, stmts):
        for node in stmts:
            for sub in ast.walk(node):
                if isinstance(sub, (ast.Return, ast.Break, ast.Continue)):
                    return False
                if isinstance(sub, ast.Call) and not self.mergeable_call(sub):
                    return False
        return True

    def mergeable_expr(self, expr):
        return all(self.mergeable_call(c) for c in ast.walk(expr) if isinstance(c, ast.Call))

    def mergeable_call(self, call):
        if not isinstance(call.func, ast.Name):
            return False
        name = call.func.id
        if name in ("len", "int", "range"):
            return True
        if name in self.models:
            return False
        return self.straight(self.resolve(name))

    def if_stmt(self, s, env):
        cond = simplify(as_bool(self.expr(s.test, env)))
        if is_sym(cond) and self.mergeable(s.body) and self.mergeable(s.orelse):
            try:
                self.merged_if(cond, s, env)
                return
            except _CannotMerge:
                pass
        if self.decide(cond, s):
            self.block(s.body, env)
        else:
            self.block(s.orelse, env)

    def snapshot(self):
        return [(a, list(a.items)) for a in self.arrays]

    def restore(self, snap):
        for a, saved in snap:
            a.items = list(saved)

    def merged_if(self, cond, s, env):
        p = self.path
        before = self.snapshot()
        results = []
        for guard, body in ((cond, s.body), (z3.Not(cond), s.orelse)):
            self.restore(before)
            branch_env = dict(env)
            p.guards.append(guard)
            p.merging += 1
            try:
                self.block(body, branch_env)
            finally:
                p.guards.pop()
                p.merging -= 1
            results.append((branch_env, self.snapshot()))
        (env_t, arr_t), (env_f, arr_f) = results
        merged = {}
        for name in set(env_t) | set(env_f):
            if name not in env_t or name not in env_f:
                self.restore(before)
                raise _CannotMerge()             # assigned on one side only
            a, b = env_t[name], env_f[name]
            if a is b or (not is_sym(a) and not is_sym(b) and type(a) is type(b) and a == b):
                merged[name] = a
            elif isinstance(a, (int, bool)) or is_sym(a):
                if not (isinstance(b, (int, bool)) or is_sym(b)):
                    self.restore(before)
                    raise _CannotMerge()
                if z3.is_bool(a) if is_sym(a) else isinstance(a, bool):
                    merged[name] = z3.If(cond, as_bool(a), as_bool(b))
                else:
                    merged[name] = simplify(z3.If(cond, bv(a), bv(b)))
            else:
                self.restore(before)
                raise _CannotMerge()             # references cannot be merged
        for (array, data_t), (_, data_f) in zip(arr_t, arr_f):
            if isinstance(array, SymBuffer):
                array.items = [x if x is y else z3.If(cond, x, y) for x, y in zip(data_t, data_f)]
            else:
                array.items = [x if x is y else simplify(z3.If(cond, bv(x), bv(y)))
                               for x, y in zip(data_t, data_f)]
        env.update(merged)
        self.stats.merges += 1

    # ---- expressions --------------------------------------------------------------
    def lookup(self, name, env, node):
        if name in env:
            return env[name]
        prefix = self.current_fn.prefix if self.current_fn else ""
        if prefix + name in self.constants:
            return self.constants[prefix + name]
        if name in self.constants:
            return self.constants[name]
        if name in ("True", "False"):
            return name == "True"
        self.refuse(node, f"the name {name!r} (not a local, a parameter or an int constant)")

    def expr(self, e, env):
        t = type(e)
        if t is ast.Constant:
            if type(e.value) in (int, bool):
                return e.value
            self.refuse(e, f"the constant {e.value!r}")
        if t is ast.Name:
            return self.lookup(e.id, env, e)
        if t is ast.BinOp:
            return self.binop(e.op, self.expr(e.left, env), self.expr(e.right, env), e)
        if t is ast.UnaryOp:
            v = self.expr(e.operand, env)
            if isinstance(e.op, ast.Not):
                b = as_bool(v)
                return z3.Not(b) if is_sym(b) else not b
            if isinstance(e.op, ast.USub):
                return self.binop(ast.Sub(), 0, v, e)
            self.refuse(e, f"the operator {type(e.op).__name__}")
        if t is ast.Compare:
            if len(e.ops) != 1:
                self.refuse(e, "a chained comparison")
            return self.compare(e.ops[0], self.expr(e.left, env),
                                self.expr(e.comparators[0], env), e)
        if t is ast.BoolOp:
            return self.boolop(e, env)
        if t is ast.IfExp:
            cond = simplify(as_bool(self.expr(e.test, env)))
            if not is_sym(cond):
                return self.expr(e.body if cond else e.orelse, env)
            if self.decide(cond, e):
                return self.expr(e.body, env)
            return self.expr(e.orelse, env)
        if t is ast.Call:
            if not isinstance(e.func, ast.Name) or e.keywords:
                self.refuse(e, "a call other than NAME(positional arguments)")
            args = [self.expr(a, env) for a in e.args]
            name = e.func.id
            if name == "len":
                return self.length(args[0], e)
            if name == "int":
                v = args[0]
                return bv(v) if is_sym(v) and z3.is_bool(v) else (int(v) if isinstance(v, bool) else v)
            return self.call(name, args, e)
        if t is ast.Subscript:
            if not isinstance(e.value, ast.Name):
                self.refuse(e, "indexing anything but a name")
            return self.load(self.lookup(e.value.id, env, e), self.expr(e.slice, env), e)
        self.refuse(e, f"the expression {t.__name__}")

    def boolop(self, e, env):
        is_and = isinstance(e.op, ast.And)
        value = as_bool(self.expr(e.values[0], env))
        for rest in e.values[1:]:
            v = simplify(value)
            if not is_sym(v):
                if v != is_and:                  # False and … / True or …
                    return v
                value = as_bool(self.expr(rest, env))
                continue
            if self.mergeable_expr(rest):
                self.path.guards.append(v if is_and else z3.Not(v))
                try:
                    other = as_bool(self.expr(rest, env))
                finally:
                    self.path.guards.pop()
                value = z3.And(v, other) if is_and else z3.Or(v, other)
            elif self.decide(v, e) == is_and:
                value = as_bool(self.expr(rest, env))
            else:
                return not is_and
        return simplify(value)

    def length(self, array, node):
        if isinstance(array, SymBuffer):
            return array.length
        if isinstance(array, SymVector):
            return len(array.items)
        self.refuse(node, "len() of something that is not an array")

    def int64(self, value, exact, node, what):
        """A concrete result must fit int64 (Python's ints would not wrap)."""
        if not INT64_MIN <= exact <= INT64_MAX:
            raise Violation("int64 overflow", f"{what} gives {exact}", self.where(node))
        return value

    def binop(self, op, a, b, node):
        if isinstance(a, bool) or isinstance(b, bool) or \
                (is_sym(a) and z3.is_bool(a)) or (is_sym(b) and z3.is_bool(b)):
            self.refuse(node, "arithmetic on a boolean")
        if not isinstance(a, int) and not is_sym(a) or not isinstance(b, int) and not is_sym(b):
            self.refuse(node, "arithmetic on an array or a table")
        t = type(op)
        concrete = not is_sym(a) and not is_sym(b)
        if t in (ast.LShift, ast.RShift):
            b = simplify(b)
            if is_sym(b) or not 0 <= b < 64:
                self.refuse(node, "a shift by anything but a constant 0..63")
            if t is ast.RShift:
                if concrete:
                    return a >> b
                # a non-negative value shifts the same either way; the
                # logical shift keeps terms of the NAT and the spec alike
                # (and spares z3 proving a sign bit zero)
                x = bv(a)
                return z3.LShR(x, b) if self.bounds.of(x)[0] >= 0 else x >> b
            if concrete:
                return self.int64(a << b, a << b, node, "<<")
            x = bv(a)
            self.require((x << b) >> b == x, "int64 overflow", node, f"<< {b} overflows",
                         quick=[(x, INT64_MIN >> b, INT64_MAX >> b)])
            return x << b
        if t in (ast.FloorDiv, ast.Mod):
            b = simplify(b)
            if is_sym(b) or b <= 0:
                self.refuse(node, "// or % by anything but a positive constant")
            if concrete:
                return a // b if t is ast.FloorDiv else a % b
            self.require(bv(a) >= 0, "int64 overflow", node,
                         "// and % are only in the subset for non-negative operands",
                         quick=[(bv(a), 0, INT64_MAX)])
            return z3.UDiv(bv(a), b) if t is ast.FloorDiv else z3.URem(bv(a), b)
        if t in (ast.BitAnd, ast.BitOr, ast.BitXor):
            if concrete:
                return {ast.BitAnd: a & b, ast.BitOr: a | b, ast.BitXor: a ^ b}[t]
            x, y = bv(a), bv(b)
            return {ast.BitAnd: x & y, ast.BitOr: x | y, ast.BitXor: x ^ y}[t]
        if t in (ast.Add, ast.Sub, ast.Mult):
            if concrete:
                exact = a + b if t is ast.Add else a - b if t is ast.Sub else a * b
                return self.int64(exact, exact, node, type(op).__name__)
            x, y = bv(a), bv(b)
            if t is ast.Add:
                ok = z3.And(z3.BVAddNoOverflow(x, y, True), z3.BVAddNoUnderflow(x, y))
                result = x + y
            elif t is ast.Sub:
                ok = z3.And(z3.BVSubNoOverflow(x, y), z3.BVSubNoUnderflow(x, y, True))
                result = x - y
            else:
                ok = z3.And(z3.BVMulNoOverflow(x, y, True), z3.BVMulNoUnderflow(x, y))
                result = x * y
            lo, hi = self.bounds.of(x), self.bounds.of(y)
            if t is ast.Add:
                exact = (lo[0] + hi[0], lo[1] + hi[1])
            elif t is ast.Sub:
                exact = (lo[0] - hi[1], lo[1] - hi[0])
            else:
                corners = [a_ * b_ for a_ in lo for b_ in hi]
                exact = (min(corners), max(corners))
            fits = INT64_MIN <= exact[0] and exact[1] <= INT64_MAX
            self.require(ok, "int64 overflow", node, f"{type(op).__name__} overflows int64",
                         quick=[(0, 0, 0)] if fits else None)
            return result
        self.refuse(node, f"the operator {t.__name__}")

    def compare(self, op, a, b, node):
        t = type(op)
        if t not in (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE):
            self.refuse(node, f"the comparison {t.__name__}")
        if not is_sym(a) and not is_sym(b):
            return {ast.Eq: a == b, ast.NotEq: a != b, ast.Lt: a < b, ast.LtE: a <= b,
                    ast.Gt: a > b, ast.GtE: a >= b}[t]
        if (is_sym(a) and z3.is_bool(a)) or (is_sym(b) and z3.is_bool(b)):
            if t not in (ast.Eq, ast.NotEq):
                self.refuse(node, "ordering booleans")
            x, y = as_bool(a), as_bool(b)
            return x == y if t is ast.Eq else x != y
        x, y = bv(a), bv(b)
        return {ast.Eq: x == y, ast.NotEq: x != y, ast.Lt: x < y, ast.LtE: x <= y,
                ast.Gt: x > y, ast.GtE: x >= y}[t]

    # ---- arrays ------------------------------------------------------------------------
    def index_ok(self, array, index, node):
        """Prove the index in bounds; for a frame buffer, return the
        position in the modelled window."""
        if isinstance(array, SymBuffer):
            i = bv(index)
            self.require(z3.And(i >= 0, i < array.length), "memory safety", node,
                         f"index outside {array.name}")
            j = simplify(i - array.base)
            self.require(z3.And(bv(j) >= 0, bv(j) < WINDOW), "verifier limit", node,
                         f"an access {WINDOW} or more bytes past the frame's start is "
                         f"outside the modelled window (raise values.WINDOW)",
                         quick=[(j, 0, WINDOW - 1)])
            return j
        if isinstance(array, SymVector):
            n = len(array.items)
            if not is_sym(index):
                if not 0 <= index < n:
                    raise Violation("memory safety", f"index {index} outside {array.name}[{n}]",
                                    self.where(node))
                return index
            self.require(z3.And(index >= 0, index < n), "memory safety", node,
                         f"index outside {array.name}[{n}]")
            return index
        self.refuse(node, "indexing something that is not an array")

    @staticmethod
    def select(items, j):
        if not is_sym(j):
            return items[j]
        value = items[0]
        for k in range(1, len(items)):
            value = z3.If(j == k, items[k], value)
        return value

    def load(self, array, index, node):
        j = self.index_ok(array, index, node)
        if isinstance(array, SymBuffer):
            return z3.ZeroExt(56, self.select(array.items, j))
        if not is_sym(j):
            return array.items[j]
        return self.select([bv(x) for x in array.items], j)

    def store(self, array, index, value, node):
        if isinstance(value, TableRef) or isinstance(value, (SymBuffer, SymVector)):
            self.refuse(node, "storing a reference into an array")
        j = self.index_ok(array, index, node)
        if isinstance(array, SymBuffer):
            v = bv(value)
            self.require(z3.And(v >= 0, v <= 255), "field width", node,
                         f"a value outside 0..255 stored into {array.name} (numba would "
                         f"truncate it silently)", quick=[(v, 0, 255)])
            byte = simplify(z3.Extract(7, 0, v))
            if is_sym(byte) is False:
                byte = z3.BitVecVal(byte, 8)
            if not is_sym(j):
                array.items[j] = byte
            else:
                array.items = [z3.If(j == k, byte, x) for k, x in enumerate(array.items)]
            return
        if not is_sym(j):
            array.items[j] = value
            return
        array.items = [simplify(z3.If(j == k, bv(value), bv(x))) for k, x in enumerate(array.items)]
