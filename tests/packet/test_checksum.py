"""Byte-order and checksum helpers, on both builds, against plain references."""

import numpy as np
import pytest

from vernat import build


def reference_sum(words):
    total = sum(words)
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def test_loads_and_stores_are_big_endian(jit):
    k = build.load(jit)
    buf = np.zeros(16, dtype=np.uint8)
    k.store16(buf, 0, 0x1234)
    k.store32(buf, 2, 0xDEADBEEF)
    k.store48(buf, 6, 0x0102030405FF)
    assert bytes(buf[:12]) == bytes.fromhex("1234deadbeef0102030405ff")
    assert (k.load8(buf, 4), k.load16(buf, 0), k.load32(buf, 2), k.load48(buf, 6)) == \
        (0xBE, 0x1234, 0xDEADBEEF, 0x0102030405FF)
    k.store8(buf, 15, 0x1FF)                  # masked to the byte
    assert buf[15] == 0xFF


def test_header_sum_matches_the_reference(jit):
    k = build.load(jit)
    rng = np.random.default_rng(1)
    for _ in range(200):
        words = int(rng.integers(10, 31))         # an IPv4 header: IHL 5..15
        data = rng.integers(0, 256, size=64, dtype=np.uint8)
        expected = reference_sum([(int(data[2 * n]) << 8) | int(data[2 * n + 1]) for n in range(words)])
        assert k.ipv4_header_sum(data, 0, words) == expected


@pytest.mark.parametrize("width", [16, 32])
def test_incremental_update_equals_recomputation(jit, width):
    """RFC 1624: after replacing a field, the updated checksum verifies the
    new data exactly when the old checksum verified the old data."""
    k = build.load(jit)
    update = k.csum_replace16 if width == 16 else k.csum_replace32
    rng = np.random.default_rng(width)
    for _ in range(3000):
        rest = [int(w) for w in rng.integers(0, 65536, size=6)]
        old = int(rng.integers(0, 1 << width))
        new = int(rng.integers(0, 1 << width))
        split = (lambda v: [v >> 16, v & 0xFFFF]) if width == 32 else (lambda v: [v])
        valid = 0xFFFF ^ reference_sum(rest + split(old))
        corrupt = valid ^ int(rng.integers(1, 65536))
        for csum in (valid, corrupt):
            was_ok = reference_sum(rest + split(old) + [csum]) == 0xFFFF
            updated = update(csum, old, new)
            assert 0 <= updated <= 0xFFFF
            assert (reference_sum(rest + split(new) + [updated]) == 0xFFFF) == was_ok
