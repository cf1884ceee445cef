"""A stand-in for `vernat.prove.worker` in tests, without Nagini.

It speaks the worker's protocol, and for each part runs a shell script with
the command line Nagini would have been given for that part
(`--ide-mode --select f,g [--viper-arg=--proverRandomizeSeeds]
[--viper-arg=--excludeMethods=h|k] FILE`); what
the script prints is the part's output, and what it writes to
$VERNAT_PROVE_TIMES is Silicon's per-function report. So a test says in a few lines of
shell what "Nagini" does with a part: prove it, fail it, hang, burn CPU.

    python fake_worker.py SCRIPT ROOT VERIFIERS
"""

import json
import os
import subprocess
import sys


def main():
    script = sys.argv[1]

    def emit(**event):
        print(json.dumps(event), flush=True)

    for line in sys.stdin:
        request = json.loads(line)
        args = ["--ide-mode", "--select", ",".join(request["functions"])]
        if request.get("seeds"):
            args.append("--viper-arg=--proverRandomizeSeeds")
        if request.get("exclude"):
            args.append("--viper-arg=--excludeMethods=" + "|".join(request["exclude"]))
        # where Silicon would report each function proven (the script may)
        env = dict(os.environ, VERNAT_PROVE_TIMES=request.get("times") or "")
        done = subprocess.run([script, *args, request["file"]], capture_output=True, text=True,
                              env=env)
        emit(event="done", part=request["part"], output=done.stdout + done.stderr, seconds=0.0)


if __name__ == "__main__":
    main()
