"""The built-in testbed of `vernat run` and of the live tests (see topology.py)."""

from vernat.testbed.topology import Testbed, TestbedError, new_testbed, down  # noqa: F401
