"""Nagini's command line, run by the python of Nagini's own environment,
with one addition: when $VERNAT_PROVE_TIMES names a file, Silicon writes
its per-member report there (its CSV reporter: member, milliseconds), so
that `vernat prove` can say which proofs take the time.

Nagini 1.2.0 gives Silicon a reporter that drops everything; this swaps
in Silicon's own CSV reporter at that one place. Nothing else changes:
the translation, the options and the verdict are Nagini's.
"""

import os
import sys

TIMES = "VERNAT_PROVE_TIMES"


def main():
    path = os.environ.get(TIMES)
    if path:
        from nagini_translation import verifier
        original = verifier.getobject

        def getobject(java, package, name):
            if name == "NoopReporter":
                return package.CSVReporter("vernat", path)
            return original(java, package, name)

        verifier.getobject = getobject
    from nagini_translation.main import main as nagini
    sys.argv[0] = "nagini"
    nagini()


if __name__ == "__main__":
    main()
