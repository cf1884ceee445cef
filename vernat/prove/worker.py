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
module's later parts, and the JVM is started once.

Why not translate the whole library once and cut it per part: tried in
session 13 (docs/progress-prove.md). The programs were the same members,
but named and ordered differently, and several proofs that take a minute in
their own module's program blew Z3 up in that one.

Protocol: one JSON request per line on stdin, {"part", "file", "functions",
"seeds", "times", "viper"} (times: where Silicon's per-member CSV goes; viper:
where to write the part's Viper program, or null); for each, one JSON line on
this process's original stdout, {"event": "done", "part", "output",
"seconds"}, where output is what `nagini --ide-mode --select …` prints for
that part.
Everything Nagini, Silicon or Java print goes to stderr.
"""

import argparse
import copy
import json
import os
import sys
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


def _silicon_args(verifiers, seeds):
    return [f"--numberOfParallelVerifiers={verifiers}"] + (
        ["--proverRandomizeSeeds"] if seeds else [])


def prove(jvm, request, verifiers):
    """One part: Nagini's translate-and-verify of its module with the part's
    functions selected; what Nagini prints, verbatim."""
    from nagini_translation import main as nagini

    lines = []
    args = argparse.Namespace(
        select=",".join(request["functions"]), sif=False, ignore_global=False, verbose=False,
        counterexample=False, float_encoding=None, int_bitops_size=8, print_viper=False,
        write_viper_to_file=request.get("viper"), verifier="silicon", benchmark=-1,
        submit_for_evaluation=False, ide_mode=True, show_viper_errors=False,
        viper_arg=",".join(_silicon_args(verifiers, request.get("seeds"))))
    with nagini_main.csv_reporter(request.get("times")):
        try:
            nagini.translate_and_verify(request["file"], jvm, args, print=lines.append)
        except Exception:           # a crash in Silicon: Nagini printed its Java trace
            lines.append(traceback.format_exc())
    return "\n".join(lines)


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
    for line in sys.stdin:
        request = json.loads(line)
        started = time.monotonic()
        output = prove(jvm, request, verifiers)
        emit(event="done", part=request["part"], output=output,
             seconds=round(time.monotonic() - started, 2))


if __name__ == "__main__":
    main()
