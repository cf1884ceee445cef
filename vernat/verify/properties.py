"""Per-path properties of forwarded frames, checked on the symbolic output.

every other byte unchanged: each modelled byte of the frame that is not a
field the rules rewrite (MACs, TTL, IPv4 checksum, the translated address
and port, the TCP/UDP checksum) leaves exactly as it came in.

(Checksums are not proven here yet: stating "valid in -> valid out" over the
path's 64-bit update chain is an adder-equivalence problem that z3's
bit-blasting did not finish in minutes. The plan, docs/progress.md: prove
the RFC 1624 update lemma once at 16-bit width, then match each path's
checksum term to a chain of lemma steps.)
"""

import z3

from vernat.nat import constants as C
from vernat.verify.values import WINDOW



def named_positions(ihl, is_udp, outbound):
    """Frame positions the rules may rewrite in a forwarded frame with this
    IHL, protocol and direction: both MACs, TTL, the IPv4 checksum, the
    translated address and port, the TCP/UDP checksum."""
    l4 = 14 + 4 * ihl
    csum_at = l4 + (6 if is_udp else 16)
    named = set(range(12)) | {22, 24, 25, csum_at, csum_at + 1}
    if outbound:
        named |= set(range(26, 30)) | {l4, l4 + 1}
    else:
        named |= set(range(30, 34)) | {l4 + 2, l4 + 3}
    return named


def check_forwarded(ex, path, args):
    """on_path_end hook: prove the property on forwarded paths, one header
    length (IHL 5..15) and protocol at a time so every byte position is
    concrete (a symbolic position costs a 96-way choice per byte)."""
    if path.result != C.FORWARD:
        return
    c = path.context
    before, after = c["buf"].original, c["buf"].items
    ihl = z3.ZeroExt(56, before[14]) & 0xF
    outbound = c["side"] == 0
    is_udp = before[23] == 17
    length = c["length"]
    for v in range(5, 16):
        l4 = 14 + 4 * v
        case = ihl == v
        for proto_udp, csum_at in ((True, l4 + 6), (False, l4 + 16)):
            if csum_at + 1 >= WINDOW:
                ex.require(z3.Not(z3.And(case, is_udp == proto_udp)), "verifier limit", None,
                           "a checksum outside the modelled window")
                continue
            when = z3.And(case, is_udp == proto_udp)
            # every other byte unchanged (direction decides which address and
            # port are named; both directions' sets are checked under it)
            named_out = named_positions(v, proto_udp, True)
            named_in = named_positions(v, proto_udp, False)
            same = []
            for k in range(WINDOW):
                if k in named_out and k in named_in:
                    continue
                keep = before[k] == after[k]
                if k in named_out:
                    keep = z3.Or(outbound, keep)
                elif k in named_in:
                    keep = z3.Or(z3.Not(outbound), keep)
                same.append(z3.Or(z3.BitVecVal(k, 64) >= length, keep))
            ex.require(z3.Implies(when, z3.And(*same)), "every other byte unchanged", None,
                       "a byte that no rule names was changed")
