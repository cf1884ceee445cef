"""Nagini's command line, run by the python of Nagini's own environment,
with one addition: when $VERNAT_PROVE_TIMES names a file, Silicon writes
its per-member report there (its CSV reporter: member, milliseconds), so
that a run says which proofs take the time.

`vernat prove` runs `vernat.prove.worker` instead (one process for many
parts); this command line is for proving a few functions by hand
(`--select`), and `csv_reporter` is shared by both.

Nagini 1.2.0 gives Silicon a reporter that drops everything; this swaps
in Silicon's own CSV reporter at that one place. Nothing else changes:
the translation, the options and the verdict are Nagini's.
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


def main():
    from nagini_translation.main import main as nagini
    sys.argv[0] = "nagini"
    with csv_reporter(os.environ.get(TIMES)):
        nagini()


if __name__ == "__main__":
    main()
