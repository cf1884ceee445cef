"""Nagini's command line, run by the python of Nagini's own environment,
with one addition: when $VERNAT_PROVE_TIMES names a file, Silicon writes
its per-member report there (its CSV reporter: member, milliseconds), so
that a run says which proofs take the time.

`vernat prove` runs `vernat.prove.worker` instead (one process for many
parts); this command line is for proving a few functions by hand
(`--select`), and `csv_reporter` is shared by both.

Nagini 1.2.0 gives Silicon a reporter that drops everything; this swaps
in Silicon's own CSV reporter at that one place. One change to the
translation (`primitive_comparisons`, below) is made in both; the options
and the verdict are Nagini's.
"""

import contextlib
import os
import sys

TIMES = "VERNAT_PROVE_TIMES"


@contextlib.contextmanager
def csv_reporter(path):
    """Silicon instances made inside report their per-member times to
    `path` (nothing changes when it is None)."""
    from nagini_translation import verifier
    original = verifier.getobject

    def getobject(java, package, name):
        if path and name == "NoopReporter":
            return package.CSVReporter("vernat", path)
        return original(java, package, name)

    verifier.getobject = getobject
    try:
        yield
    finally:
        verifier.getobject = original


# What Python's comparison operators become in Viper when both sides have
# the same of these types: the operator itself on the unboxed values.
_PRIMITIVE_SIDES = frozenset(("int", "bool"))


def primitive_comparisons():
    """Translate a comparison of two ints (or two bools) as Viper's own
    operator on the unboxed values, `int___unbox__(a) < int___unbox__(b)`,
    instead of a call of Nagini's prelude function `int___lt__(a, b)`.

    Why: every such call is a function application whose precondition (the
    operands' Python types) Silicon checks, and whose definition Z3
    instantiates, wherever it occurs: in each quantifier of the invariants
    and in each contract. Without them the library's proofs took 830
    CPU-seconds instead of 1,173, and a whole `vernat prove` 722 s instead
    of 842 s on the same instance (docs/progress-prove.md, session 22).

    Why it means the same: for two ints the prelude's `int___lt__(a, b)` is
    defined as `int___unbox__(a) < int___unbox__(b)` (its other branch is
    for floats), and likewise for the other five operators and for bools;
    the operand types it would check are mypy's, which Nagini runs first.
    The translation is Nagini's own (`_translate_primitive_operation`, which
    it uses for ADT equality); Nagini 1.2.0 turns it off for everything else
    because a comparison inside a quantifier's trigger needs to be a
    function application, and no trigger of the library has one (a trigger
    with a bare comparison would be rejected by Viper's type checker, not
    accepted silently). Arithmetic is left alone: Python's `//` and `%`
    differ from Viper's for negative operands."""
    import ast
    from nagini_translation.translators.expression import ExpressionTranslator
    if getattr(ExpressionTranslator, "_vernat_primitive", False):
        return
    nagini_rule = ExpressionTranslator._is_primitive_operation
    comparisons = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)

    def is_primitive(self, op, left_type, right_type):
        if isinstance(op, comparisons):
            sides = {_boxed_name(left_type), _boxed_name(right_type)}
            if len(sides) == 1 and sides <= _PRIMITIVE_SIDES:
                return True
        return nagini_rule(self, op, left_type, right_type)

    ExpressionTranslator._is_primitive_operation = is_primitive
    ExpressionTranslator._vernat_primitive = True


def _boxed_name(python_type):
    """'int' for int, 'bool' for bool, None for a type with no such class
    (a type variable, a union: left to Nagini's own rule)."""
    try:
        return python_type.python_class.try_box().name
    except AttributeError:
        return None


def main():
    from nagini_translation.main import main as nagini
    sys.argv[0] = "nagini"
    primitive_comparisons()
    with csv_reporter(os.environ.get(TIMES)):
        nagini()


if __name__ == "__main__":
    main()
