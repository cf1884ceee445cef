"""`vernat prove`: the state library proven with Nagini (issue 5).

env.py creates Nagini's isolated virtual environment on first use; run.py
runs Nagini on each state-library module and maps its findings back to file
and line. The contracts live in the library's own source (vernat/state/);
nothing here restates them.
"""
