"""Internet checksum helpers (RFC 1071) and incremental update (RFC 1624).

Checksums are 16-bit one's-complement sums. The NAT never recomputes a
TCP/UDP checksum from scratch: it updates the one it received (RFC 1624,
equation 3), so an output checksum is valid exactly when the input one was.
"""

from vernat.packet.fields import load16


def fold16(total):
    """Fold a non-negative sum of 16-bit words into 16 bits (end-around carry).

    Two folds suffice for any sum below 2**32, which covers every caller.
    """
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    return total


def ipv4_header_sum(buf, ip, nwords):
    """One's-complement sum of the first nwords 16-bit words at ip, for an
    IPv4 header: 10 <= nwords <= 30 (IHL 5..15).

    The 10 words of the fixed header are summed unconditionally; the option
    words by a loop of static bound with a guarded body (no break), so the
    verifier merges the header lengths into one path instead of forking one
    path per IHL."""
    total = 0
    for k in range(10):
        total += load16(buf, ip + 2 * k)
    for k in range(20):
        if k + 10 < nwords:
            total += load16(buf, ip + 20 + 2 * k)
    return fold16(total)


def csum_replace16(csum, old, new):
    """RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for one 16-bit word m -> m'."""
    total = (0xFFFF ^ csum) + (0xFFFF ^ old) + new
    return 0xFFFF ^ fold16(total)


def csum_replace32(csum, old, new):
    """The same for a 32-bit field (two 16-bit words), e.g. an IPv4 address."""
    csum = csum_replace16(csum, (old >> 16) & 0xFFFF, (new >> 16) & 0xFFFF)
    return csum_replace16(csum, old & 0xFFFF, new & 0xFFFF)
