"""Allocating flow tables (glue, not verified: numpy allocation only; the
table's contents are initialised by the verified table_init)."""

import mmap
import os

import numpy as np



def new_table(kernel, capacity, salt=None):
    """An empty flow table for up to `capacity` flows (1..65536).

    kernel: a vernat.build.load() namespace (numba or CPython build).
    salt: hash salt; random by default. It only changes where keys sit in the
    map, never which index (and so which port) a flow gets, so output stays
    deterministic whatever the salt.
    """
    # the layout comes from the build: the source carries Nagini contracts
    if not 1 <= capacity <= kernel.MAX_CAPACITY:
        raise ValueError(f"flow table capacity {capacity} outside 1..{kernel.MAX_CAPACITY}")
    if salt is None:
        salt = int.from_bytes(os.urandom(4), "big")
    table = _hugepage_array(int(kernel.table_words(capacity)))
    kernel.table_init(table, capacity, int(kernel.slots_for(capacity)), salt)
    return table


def _hugepage_array(words):
    """A zeroed int64 array in anonymous memory that the kernel may back with
    2 MiB pages: a full table is ~5 MiB of random accesses, and with 4 KiB
    pages nearly every lookup also misses the TLB. Page-aligned, so the
    32-byte flow records never straddle a cache line."""
    huge = 2 << 20
    memory = mmap.mmap(-1, words * 8 + huge, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    if hasattr(mmap, "MADV_HUGEPAGE"):
        try:
            memory.madvise(mmap.MADV_HUGEPAGE)
        except OSError:
            pass        # no transparent huge pages here: 4 KiB pages work too
    whole = np.frombuffer(memory, dtype=np.int64)
    skip = (-whole.ctypes.data % huge) // 8      # start on a 2 MiB boundary
    return whole[skip:skip + words]
