"""AF_XDP packet I/O for `vernat run` (see dataplane.py)."""
