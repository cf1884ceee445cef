"""A Nagini worker: one JVM, and mypy run once per module, for many parts.

Run by the python of Nagini's own environment (`vernat.prove.run` starts it,
with PYTHONPATH and MYPYPATH set to the tree being proven):

    python -m vernat.prove.worker ROOT VERIFIERS

Why: each part of a module was one Nagini run, and a run spends 15-35 s
before Silicon starts: mypy type-checks the module and everything it imports
(Nagini needs mypy's types), then Nagini translates. The flow table's four
parts repeated its 22 s of mypy four times. Here each part is still Nagini's
own translate-and-verify of its module with `--select` (so Silicon gets the
very program `nagini --select` would give it, and a fresh Silicon with its
own Z3 processes), but mypy's result for a module is kept and reused by the
module's later parts, and the JVM is started once. The translation has the
one change Nagini's command line here has too
(nagini_main.primitive_comparisons: comparisons of two ints as Viper's own).

Why not translate the whole library once and cut it per part: tried in
session 13 (docs/progress-prove.md). The programs were the same members,
but named and ordered differently, and several proofs that take a minute in
their own module's program blew Z3 up in that one.

While Silicon proves a part, the worker translates the part the request
names as "next" (Nagini's translation is Python, Silicon runs in the JVM's
threads, so the two share the cores): the translation and the first part of
a module's mypy run leave the critical path. The next request takes that
translation if it is for the same file and functions (else it translates as
usual): the same call of Nagini's `translate` with the same arguments, so
the same program (tested byte for byte).

Protocol: one JSON request per line on stdin, {"part", "file", "functions",
"seeds", "exclude", "times", "viper", "next"} (exclude: methods Silicon need
not verify, proven in other parts; times: where Silicon's per-member CSV
goes; viper: where to write the part's Viper program, or null; next: {"file",
"functions"} of the part likely to follow, or null); for each, one JSON line on
this process's original stdout, {"event": "done", "part", "output",
"seconds", "prefetched"}, where output is what `nagini --ide-mode --select …` prints for
that part.
Everything Nagini, Silicon or Java print goes to stderr.
"""

import argparse
import contextlib
import copy
import io
import json
import os
import sys
import threading
import time
import traceback

from vernat.prove import nagini_main


def keep_type_checks():
    """mypy's result for a file is computed once per process: Nagini's
    TypeInfo.check fills five tables from a mypy build of the file and its
    imports, and nothing else; a later check of the same file gets copies."""
    from nagini_translation.lib.typeinfo import TypeInfo
    check = TypeInfo.check
    kept = {}
    tables = ("all_types", "alt_types", "files", "type_aliases", "type_vars")

    def kept_check(info, filename, base_dir=None):
        key = (os.path.realpath(filename), base_dir)
        if key not in kept:
            ok = check(info, filename, base_dir)
            if not ok:
                return ok               # errors raise; an odd falsy result is not kept
            kept[key] = {t: copy.copy(getattr(info, t)) for t in tables}
        for t in tables:
            setattr(info, t, copy.copy(kept[key][t]))
        return True

    TypeInfo.check = kept_check


class Prefetch:
    """Nagini's translation of the next part, made while Silicon proves this
    one. Installed over Nagini's own `translate` and `verify` (module
    globals of nagini_translation.main, which translate_and_verify calls):
    `verify` starts translating the next part in a thread before it hands
    its program to Silicon; `translate` takes that result when it is asked
    for the same file and selection with the same arguments, and otherwise
    waits for the thread to end and translates itself, so two translations
    never run at once. A translation that raised raises again when taken,
    where Nagini's own handler reports it."""

    def __init__(self, nagini, errors):
        self.translate, self.verify = nagini.translate, nagini.verify
        self.next = None            # {"file", "functions"} to translate at the next verify
        self.thread = self.key = self.result = None
        self.arguments = None       # the current part's translate arguments
        self.taken = False          # whether the current part's translation was made ahead
        nagini.translate, nagini.verify = self._translate, self._verify
        # Nagini empties its error table at each translation, and it maps
        # Silicon's errors back through that table after verifying: a part
        # being proven must keep its entries while the next one translates.
        # Entries are keyed by uuid1, so keeping them all is safe.
        errors.clear = lambda: None

    @staticmethod
    def _key(path, selected, args, kwargs):
        return (os.path.abspath(path), frozenset(selected or ()), args,
                tuple(sorted(kwargs.items())))

    def _translate(self, path, jvm, *args, selected=frozenset(), **kwargs):
        key = self._key(path, selected, args, kwargs)
        taken = self._take(key)
        self.taken = taken is not None
        self.arguments = (jvm, args, kwargs)
        if taken is None:
            return self.translate(path, jvm, *args, selected=selected, **kwargs)
        kind, value = taken
        if kind == "raised":
            raise value
        return value

    def _take(self, key):
        if self.thread is not None:
            self.thread.join()
        taken = self.result if self.key == key else None
        self.thread = self.key = self.result = None
        return taken

    def _verify(self, *args, **kwargs):
        following, self.next = self.next, None
        if following and self.arguments:
            jvm, targs, tkwargs = self.arguments
            path, selected = following["file"], set(following["functions"])
            self.key = self._key(path, selected, targs, tkwargs)

            def run():
                try:
                    self.result = ("returned", self.translate(
                        path, jvm, *targs, selected=selected, **tkwargs))
                except BaseException as e:      # re-raised where it is taken
                    self.result = ("raised", e)

            self.thread = threading.Thread(target=run, daemon=True)
            self.thread.start()
        return self.verify(*args, **kwargs)


def _silicon_args(verifiers, seeds, exclude=()):
    # exclude: the library's functions this part does not prove. Nagini's
    # selection keeps the methods the selected ones call, bodiless (their
    # contracts only), and Silicon would check each such contract again in
    # every part that calls it (3-4 s of Z3 for a setter's frames; about a
    # fifth of a part's work). Silicon's own filter skips them: each is
    # checked, body and contract, in its own part (vernat.prove.run).
    # Silicon reads the value as a wildcard pattern matched against the
    # whole name ('|' between names; ours have no wildcard characters).
    return [f"--numberOfParallelVerifiers={verifiers}"] + (
        ["--proverRandomizeSeeds"] if seeds else []) + (
        [f"--excludeMethods={'|'.join(exclude)}"] if exclude else [])


def prove(jvm, request, verifiers):
    """One part: Nagini's translate-and-verify of its module with the part's
    functions selected; what Nagini prints, verbatim."""
    from nagini_translation import main as nagini

    lines = []
    # what Nagini prints itself rather than through `print=`: above all the
    # Java stack trace of a Silicon crash (nagini_translation.main.verify),
    # which names the exception (run.parse_output reads it from the output)
    printed = io.StringIO()
    args = argparse.Namespace(
        select=",".join(request["functions"]), sif=False, ignore_global=False, verbose=False,
        counterexample=False, float_encoding=None, int_bitops_size=8, print_viper=False,
        write_viper_to_file=request.get("viper"), verifier="silicon", benchmark=-1,
        submit_for_evaluation=False, ide_mode=True, show_viper_errors=False,
        viper_arg=",".join(_silicon_args(verifiers, request.get("seeds"),
                                         request.get("exclude") or ())))
    with nagini_main.csv_reporter(request.get("times")), contextlib.redirect_stdout(printed):
        try:
            nagini.translate_and_verify(request["file"], jvm, args, print=lines.append)
        except Exception:           # a crash in Silicon: Nagini printed its Java trace
            lines.append(traceback.format_exc())
    text = printed.getvalue()
    sys.stderr.write(text)
    return "\n".join(([text.rstrip("\n")] if text else []) + lines)


def main():
    root, verifiers = sys.argv[1], int(sys.argv[2])
    # the protocol keeps this process's stdout; everything else goes to stderr
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def emit(**event):
        protocol.write(json.dumps(event) + "\n")

    import logging
    from nagini_translation.lib import config
    from nagini_translation.lib.jvmaccess import JVM
    config.mypy_path = root
    logging.basicConfig(level="WARNING")
    jvm = JVM(config.classpath)
    keep_type_checks()
    nagini_main.primitive_comparisons()
    from nagini_translation import main as nagini
    from nagini_translation.lib.errors import error_manager
    prefetch = Prefetch(nagini, error_manager)
    for line in sys.stdin:
        request = json.loads(line)
        prefetch.next, prefetch.taken = request.get("next"), False
        started = time.monotonic()
        output = prove(jvm, request, verifiers)
        emit(event="done", part=request["part"], output=output,
             seconds=round(time.monotonic() - started, 2), prefetched=prefetch.taken)


if __name__ == "__main__":
    main()
