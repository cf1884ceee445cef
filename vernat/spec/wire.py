"""Reading and writing big-endian ("network byte order") fields of a frame.

Part of the specification, written in the verified subset (docs/subset.md).
Every byte is widened with int(...) & 0xFF when read (numpy uint8 scalars
would otherwise wrap at 256 under CPython) and masked to 8 bits when stored.
"""


def load8(buf, at):
    """The byte at offset `at`, as a non-negative integer 0..255."""
    return int(buf[at]) & 0xFF


def load16(buf, at):
    """Big-endian 16-bit field: the first byte is the most significant."""
    return (load8(buf, at) << 8) | load8(buf, at + 1)


def load32(buf, at):
    """Big-endian 32-bit field (an IPv4 address)."""
    return (load16(buf, at) << 16) | load16(buf, at + 2)


def load48(buf, at):
    """Big-endian 48-bit field (a MAC address)."""
    return (load16(buf, at) << 32) | load32(buf, at + 2)


def store8(buf, at, value):
    buf[at] = value & 0xFF


def store16(buf, at, value):
    store8(buf, at, value >> 8)
    store8(buf, at + 1, value)


def store32(buf, at, value):
    store16(buf, at, value >> 16)
    store16(buf, at + 2, value)


def store48(buf, at, value):
    store16(buf, at, value >> 32)
    store32(buf, at + 2, value)
