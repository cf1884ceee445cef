"""Nagini's isolated virtual environment.

Nagini 1.2.0 pins old packages (z3-solver 4.8.7, mypy 0.900, typed-ast,
JPype), so it never shares the product's environment: `vernat prove`
creates ~/.cache/vernat/nagini-venv (or $VERNAT_NAGINI_VENV) on first use
from requirements-nagini.txt, and recreates it when that file changes.
It needs Java (17 works) for Viper.
"""

import hashlib
import os
import shutil
import subprocess
import sys

REQUIREMENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "requirements-nagini.txt")


class EnvError(Exception):
    """Nagini's environment cannot be made; the message is one line."""


def venv_dir():
    return os.environ.get("VERNAT_NAGINI_VENV") or os.path.join(
        os.path.expanduser("~"), ".cache", "vernat", "nagini-venv")


def _stamp_name():
    with open(REQUIREMENTS, "rb") as f:
        return ".installed-" + hashlib.sha256(f.read()).hexdigest()[:16]


def nagini_command(venv):
    # The worker that runs Nagini for `vernat prove` (vernat.prove.worker,
    # found on PYTHONPATH, which run.py sets to the tree being proven)
    return [os.path.join(venv, "bin", "python"), "-m", "vernat.prove.worker"]


def ensure(log=print):
    """The command that runs Nagini, creating its environment if needed."""
    if shutil.which("java") is None:
        raise EnvError("Nagini needs Java (17 works): install a JRE, e.g. "
                       "apt-get install openjdk-17-jre-headless")
    venv = venv_dir()
    stamp = os.path.join(venv, _stamp_name())
    if os.path.exists(stamp):
        return nagini_command(venv)
    if log:
        log(f"prove: creating Nagini's environment in {venv} (first use only, ~30 s)")
    shutil.rmtree(venv, ignore_errors=True)
    python = os.environ.get("VERNAT_NAGINI_PYTHON") or sys.executable
    steps = ([python, "-m", "venv", venv],
             [os.path.join(venv, "bin", "pip"), "install", "-q", "-r", REQUIREMENTS])
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines() or ["(no output)"]
            raise EnvError(f"{' '.join(step[:3])} failed: {lines[-1]}")
    open(stamp, "w").close()
    return nagini_command(venv)
