"""Header offsets and byte-order helpers for Ethernet + IPv4 + TCP/UDP.

Verified subset (docs/subset.md): every byte read from a frame goes through
load8, which widens it with `int(b) & 0xFF`: a Python int under CPython and
an int64 under numba (plain int() keeps numba's uint8, and uint8/uint64
arithmetic mixed with int64 silently becomes float64 in numba). Every value
stored is masked to the width of the byte it lands in. All multi-byte fields are big-endian
(network byte order) on the wire.
"""

# Ethernet II
ETH_DST = 0
ETH_SRC = 6
ETH_TYPE = 12
ETH_HLEN = 14
ETHERTYPE_IPV4 = 0x0800

# IPv4, offsets from the start of the IP header
IP_VER_IHL = 0
IP_TOTAL_LEN = 2
IP_FLAGS_FRAG = 6
IP_TTL = 8
IP_PROTO = 9
IP_CSUM = 10
IP_SRC = 12
IP_DST = 16
IP_MIN_HLEN = 20
IP_MAX_HWORDS = 30          # IHL <= 15 -> at most 60 bytes = 30 16-bit words
IP_MF_AND_OFFSET = 0x3FFF   # "more fragments" flag and the 13-bit fragment offset

PROTO_TCP = 6
PROTO_UDP = 17

# TCP/UDP, offsets from the start of the L4 header
L4_SPORT = 0
L4_DPORT = 2
TCP_CSUM = 16
TCP_MIN_HLEN = 20
UDP_CSUM = 6
UDP_HLEN = 8


def load8(buf, at):
    return int(buf[at]) & 0xFF


def load16(buf, at):
    return (load8(buf, at) << 8) | load8(buf, at + 1)


def load32(buf, at):
    return (load16(buf, at) << 16) | load16(buf, at + 2)


def load48(buf, at):
    return (load16(buf, at) << 32) | load32(buf, at + 2)


def store8(buf, at, value):
    buf[at] = value & 0xFF


def store16(buf, at, value):
    buf[at] = (value >> 8) & 0xFF
    buf[at + 1] = value & 0xFF


def store32(buf, at, value):
    store16(buf, at, (value >> 16) & 0xFFFF)
    store16(buf, at + 2, value & 0xFFFF)


def store48(buf, at, value):
    store16(buf, at, (value >> 32) & 0xFFFF)
    store32(buf, at + 2, value & 0xFFFFFFFF)
