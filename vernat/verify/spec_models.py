"""How the spec's abstract tables meet the library's: the refinement map.

The spec (vernat/spec/rfc3022.py) calls the abstract-state functions of
vernat/spec/abstract_state.py, keyed by (address, port) pairs; the state
library's contracts speak of keys k1 = inside address << 16 | inside port and
k2 = remote address << 16 | remote port (vernat/state/model.py). Under the
symbolic executor each st_* call is answered here by the same uninterpreted
functions the contracts use (vernat/verify/abstract.py), through that one
packing. This map, a dozen lines, is trusted (docs/trust.md): it is what
"the same abstract state" means for the two sides.

Also here: the spec's checksum helpers are answered by the NAT's, which is
sound because lemmas.py proves them equal first (ones_sum = ipv4_header_sum
for every header length, update16 = csum_replace16 for all 16-bit inputs).
Summing the same words the same way on both sides keeps the comparison a
matter of identical terms, where two different adder trees would be an
adder-equivalence problem z3 does not finish.
"""

import ast

from vernat.verify.abstract import FUNCTIONS as F
from vernat.verify.values import TableRef, bv

IMPL = "impl."          # the NAT's functions, loaded beside the spec's under this prefix


def pack(address, port):
    return (bv(address) << 16) | bv(port)


def _version(ex, t, node):
    if not isinstance(t, TableRef):
        ex.refuse(node, "an abstract-state call on something that is not a table")
    return ex.context["versions"][t.name]


def _transition(ex, t, new):
    ex.context["versions"][t.name] = new
    ex.context["spec_trace"].append((t.name, new))


def st_expire(ex, args, node):
    t, now, timeout = args
    _transition(ex, t, F["expired"](_version(ex, t, node), bv(now), bv(timeout)))


def st_find(ex, args, node):
    t, ip, port, rip, rport = args
    return F["find"](_version(ex, t, node), pack(ip, port), pack(rip, rport))


def st_full(ex, args, node):
    return F["full"](_version(ex, args[0], node))


def st_add(ex, args, node):
    t, ip, port, rip, rport, mac, now = args
    v = _version(ex, t, node)
    _transition(ex, t, F["added"](v, pack(ip, port), pack(rip, rport), bv(mac), bv(now)))
    return F["next_free"](v)


def st_touch(ex, args, node):
    t, i, now = args
    _transition(ex, t, F["touched"](_version(ex, t, node), bv(i), bv(now)))


def st_live(ex, args, node):
    return F["live"](_version(ex, args[0], node), bv(args[1]))


def _field(query, shift, mask):
    def model(ex, args, node):
        value = F[query](_version(ex, args[0], node), bv(args[1]))
        return (value >> shift) & mask
    return model


def ones_sum(ex, args, node):
    buf, start, nbytes = args
    nwords = ex.binop(ast.FloorDiv(), nbytes, 2, node)
    value = ex.call(IMPL + "ipv4_header_sum", [buf, start, nwords], node)
    # the checksum argument (checksums.py) reads which words were summed
    ex.context.setdefault("sums", []).append((buf, list(buf.items), start, nbytes, value))
    return value


def update16(ex, args, node):
    value = ex.call(IMPL + "csum_replace16", list(args), node)
    ex.context.setdefault("updates", []).append((list(args), value))
    return value


MODELS = {
    "st_expire": st_expire, "st_find": st_find, "st_full": st_full, "st_add": st_add,
    "st_touch": st_touch, "st_live": st_live,
    "st_inside_ip": _field("key1_of", 16, 0xFFFFFFFF),
    "st_inside_port": _field("key1_of", 0, 0xFFFF),
    "st_remote_ip": _field("key2_of", 16, 0xFFFFFFFF),
    "st_remote_port": _field("key2_of", 0, 0xFFFF),
    "st_mac": _field("mac_of", 0, (1 << 48) - 1),
    "ones_sum": ones_sum, "update16": update16,
}
