"""The Internet checksum, as RFC 1071 and RFC 1624 define it.

Part of the specification, written in the verified subset (docs/subset.md).

RFC 1071: the checksum field is the one's complement of the one's-complement
sum of the 16-bit words covered; a receiver sums all words *including* the
checksum field and accepts when the result is all ones (0xFFFF).

One's-complement addition of 16-bit words = ordinary addition followed by
folding every carry out of bit 15 back into bit 0 ("end-around carry").
The one's complement of a 16-bit x is x ^ 0xFFFF (i.e. ~x on 16 bits).
"""

from vernat.spec.wire import load16

# the longest IPv4 header is 15 * 4 = 60 bytes = 30 words
MAX_IP_HEADER_WORDS = 30


def complement16(x):
    """~x on 16 bits."""
    return (x ^ 0xFFFF) & 0xFFFF


def fold16(s):
    """End-around carry: fold the carries of a non-negative sum back into 16
    bits (RFC 1071, section 4.1: `while (sum >> 16) sum = (sum & 0xffff) +
    (sum >> 16);`). Four rounds are more than enough for any s < 2**48."""
    for _ in range(4):
        if (s >> 16) == 0:
            break
        s = (s & 0xFFFF) + (s >> 16)
    return s


def ones_sum(buf, start, nbytes):
    """One's-complement sum of the nbytes (even, at most 60) bytes at `start`,
    taken as big-endian 16-bit words."""
    s = 0
    for k in range(MAX_IP_HEADER_WORDS):
        if 2 * k >= nbytes:
            break
        s += load16(buf, start + 2 * k)
    return fold16(s)


def update16(hc, old, new):
    """RFC 1624, eqn. 3: the checksum HC of a message in which one 16-bit word
    changes from m (old) to m' (new) becomes
        HC' = ~(~HC + ~m + m')
    (all additions in one's complement)."""
    return complement16(fold16(complement16(hc) + complement16(old) + new))
