"""How long each function's proof is expected to take, to tell a stuck proof
from a slow one sooner.

Z3's time on a proof is heavy-tailed: with the default seeds a proof that
takes seconds sometimes does not end at all, and then only a restart with
other seeds helps (run.py, "Restarts"). Without knowing what a part still has
to prove, the runner waits STALL_BUDGET (240 CPU seconds) with no proof
reported before it restarts, and a stall on a proof of 2.5 s cost about 160 s
of a whole run, several times a run (docs/progress-prove.md, session 20).
Knowing each function's usual time, it can restart as soon as the slowest
proof still pending has taken several times its usual time.

The expectations are the per-function times (Silicon's own report, seconds)
of a clean whole run, kept in expected_seconds.json beside this file and
refreshed from a `vernat prove --json` report:

    python -m vernat.prove.expected REPORT.json

A function with no expectation (new, renamed) gets the full STALL_BUDGET. An
expectation that is too low costs a restart, never a proof: each restart has
twice the budget of the one before.
"""

import json
import os
import sys

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "expected_seconds.json")

# CPU seconds of stall allowed per expected second of the slowest pending
# proof: a proof's time is wall time on one of the part's two verifiers, so
# one expected second is up to two CPU seconds of the part's processes; three
# times that covers an instance of this machine kind 2.3x slower than the one
# the expectations come from (docs/progress-prove.md, session 18)
CPU_PER_EXPECTED_SECOND = 6
# never less than this (CPU seconds): Silicon's own work between two reports
# (a function's well-formedness, the next member's set-up) takes some too
FLOOR = 60


def load(path=None):
    """{module: {function: seconds}} (from PATH by default); empty when the
    file is missing or bad."""
    try:
        with open(path or PATH, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {m: {f: float(s) for f, s in times.items() if isinstance(s, (int, float))}
            for m, times in data.items() if isinstance(times, dict)}


def stall_budget(pending, times, ceiling):
    """CPU seconds a part may run with no further proof reported while
    `pending` (the functions not yet reported) remain: FLOOR, or
    CPU_PER_EXPECTED_SECOND times the slowest pending function's expectation
    (`times`: the module's), never more than `ceiling`; `ceiling` itself when
    some pending function has no expectation."""
    if not pending or any(f not in times for f in pending):
        return ceiling
    return min(ceiling, max(FLOOR, CPU_PER_EXPECTED_SECOND * max(times[f] for f in pending)))


def from_report(report):
    """The expectations a `vernat prove --json` report gives: every function
    of every proven module, with the time Silicon reported for it."""
    out = {}
    for m in report.get("modules", ()):
        if m.get("proven") and m.get("function_seconds"):
            out[m["module"]] = dict(sorted(m["function_seconds"].items()))
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m vernat.prove.expected REPORT.json", file=sys.stderr)
        return 2
    try:
        with open(argv[0], encoding="utf-8") as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        print(f"vernat.prove.expected: {argv[0]}: {e}", file=sys.stderr)
        return 2
    times = from_report(report) if isinstance(report, dict) else {}
    if not times:
        print(f"vernat.prove.expected: {argv[0]} has no proven module with times",
              file=sys.stderr)
        return 1
    kept = load()
    kept.update(times)
    with open(PATH, "w", encoding="utf-8") as f:
        json.dump(kept, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{PATH}: {sum(map(len, times.values()))} functions of {len(times)} modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
