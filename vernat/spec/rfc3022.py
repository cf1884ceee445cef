"""What vernat must do to one frame: the executable specification.

Written from docs/semantics.md ("What the NAT does, exactly") and RFC 3022
(Traditional NAT, NAPT flavour), never from the implementation. Each numbered
rule of docs/semantics.md has its own function below, with the rule quoted.

It is written in the verified subset of docs/subset.md (integers, booleans,
numpy arrays passed in, bounded loops, calls of spec functions only), so that
the symbolic executor of `vernat verify` can run it with symbolic bytes. The
flow tables are opaque: they are only ever passed to the abstract-state
functions (vernat/spec/abstract_state.py under CPython, models under the
executor).

Frame layout (offsets from the first byte of the frame):

    Ethernet  0 destination MAC (6)   6 source MAC (6)   12 EtherType (2)
    IPv4     14 version|IHL   15 TOS   16 total length   18 ID
             20 flags|fragment offset   22 TTL   23 protocol
             24 header checksum   26 source address   30 destination address
             34 options (4*IHL - 20 bytes), then the TCP/UDP header at
             l4 = 14 + 4*IHL
    TCP/UDP  l4+0 source port   l4+2 destination port
             TCP checksum at l4+16, UDP checksum at l4+6
"""

from vernat.nat.constants import (
    CFG_EXTERNAL_IP, CFG_PORT_START, CFG_PORT_END, CFG_UDP_TIMEOUT, CFG_TCP_TIMEOUT,
    CFG_INSIDE_MAC, CFG_OUTSIDE_MAC, CFG_GATEWAY_MAC,
    FORWARD, DROP_NOT_IPV4, DROP_BAD_IP_HEADER, DROP_BAD_IP_CHECKSUM, DROP_FRAGMENT,
    DROP_TTL_EXPIRED, DROP_UNSUPPORTED_PROTOCOL, DROP_TRUNCATED_L4, DROP_TABLE_FULL,
    DROP_WRONG_DESTINATION, DROP_PORT_OUT_OF_RANGE, DROP_NO_FLOW, DROP_SPOOFED,
)
from vernat.spec.wire import load8, load16, load32, load48, store8, store16, store32, store48
from vernat.spec.checksum import ones_sum, complement16, update16
from vernat.spec.abstract_state import (
    st_expire, st_find, st_full, st_add, st_touch, st_live,
    st_inside_ip, st_inside_port, st_remote_ip, st_remote_port, st_mac,
)

# Ethernet
ETH_DST = 0
ETH_SRC = 6
ETH_TYPE = 12
ETH_HEADER = 14
ETHERTYPE_IPV4 = 0x0800

# IPv4 (absolute offsets in the frame)
IP_VER_IHL = 14
IP_TOTAL_LENGTH = 16
IP_FLAGS_FRAGMENT = 20
IP_TTL = 22
IP_PROTOCOL = 23
IP_CHECKSUM = 24
IP_SRC = 26
IP_DST = 30
IP_MIN_HEADER = 20
FLAG_MF = 0x2000            # "more fragments" bit of the flags|offset word
FRAGMENT_OFFSET = 0x1FFF    # the 13-bit fragment offset

# TCP and UDP (offsets from the start of the TCP/UDP header)
PROTO_TCP = 6
PROTO_UDP = 17
L4_SRC_PORT = 0
L4_DST_PORT = 2
TCP_CHECKSUM = 16
UDP_CHECKSUM = 6
TCP_MIN_HEADER = 20
UDP_HEADER = 8


# ---------------------------------------------------------------------------
# The whole frame
# ---------------------------------------------------------------------------

def spec_frame(frame, length, time, from_outside, cfg, clock, tcp, udp, out):
    """The expected outcome of one frame: returns FORWARD or the drop reason,
    writes the forwarded frame into `out` (a copy of `frame` on entry; bytes
    the rules do not name are never written), and updates clock, tcp, udp."""
    # 1. Time.
    now = rule1_time(time, clock)
    # 2. Expiry, for every frame, whatever happens to it afterwards.
    rule2_expiry(now, cfg, tcp, udp)
    # 3. Parse.
    reason = rule3_parse(frame, length)
    if reason != FORWARD:
        return reason
    protocol = load8(frame, IP_PROTOCOL)
    l4 = ETH_HEADER + 4 * ip_ihl(frame)
    # 4. and 5. (each also applies rule 6, the checksums, to what it rewrites)
    if from_outside == 0:
        if protocol == PROTO_TCP:
            return rule4_outbound(frame, out, now, cfg, tcp, l4, l4 + TCP_CHECKSUM, False)
        return rule4_outbound(frame, out, now, cfg, udp, l4, l4 + UDP_CHECKSUM, True)
    if protocol == PROTO_TCP:
        return rule5_inbound(frame, out, now, cfg, tcp, l4, l4 + TCP_CHECKSUM, False)
    return rule5_inbound(frame, out, now, cfg, udp, l4, l4 + UDP_CHECKSUM, True)


# ---------------------------------------------------------------------------
# 1. Time
# ---------------------------------------------------------------------------

def rule1_time(time, clock):
    """1. "`now` = the frame's time, or `clock` if that is larger;
    `clock` := `now`." (clock starts at 0, so now is never negative.)"""
    now = time
    if clock[0] > now:
        now = clock[0]
    clock[0] = now
    return now


# ---------------------------------------------------------------------------
# 2. Expiry
# ---------------------------------------------------------------------------

def rule2_expiry(now, cfg, tcp, udp):
    """2. "In both tables, every flow with `now - last_seen >= timeout` (that
    table's timeout) is removed. This happens for every frame, whatever
    happens to it afterwards." """
    st_expire(tcp, now, cfg[CFG_TCP_TIMEOUT])
    st_expire(udp, now, cfg[CFG_UDP_TIMEOUT])


# ---------------------------------------------------------------------------
# 3. Parse: the first reason that applies, in the documented order
# ---------------------------------------------------------------------------

def ip_ihl(frame):
    """IHL: the low nibble of the first IPv4 byte, the header length in
    32-bit words."""
    return load8(frame, IP_VER_IHL) & 0x0F


def ip_version(frame):
    return load8(frame, IP_VER_IHL) >> 4


def rule3_parse(frame, length):
    """3. Returns FORWARD when the frame is a well-formed, unfragmented,
    TCP or UDP IPv4 packet with TTL >= 2, else the first drop reason."""
    # not_ipv4: frame length < 14, or EtherType != 0x0800
    if length < ETH_HEADER:
        return DROP_NOT_IPV4
    if load16(frame, ETH_TYPE) != ETHERTYPE_IPV4:
        return DROP_NOT_IPV4
    # bad_ip_header: frame length < 34, or version != 4, or IHL < 5, or
    # 14 + 4*IHL > frame length, or 4*IHL > total length, or
    # 14 + total length > frame length
    if length < ETH_HEADER + IP_MIN_HEADER:
        return DROP_BAD_IP_HEADER
    if ip_version(frame) != 4:
        return DROP_BAD_IP_HEADER
    ihl = ip_ihl(frame)
    if ihl < 5:
        return DROP_BAD_IP_HEADER
    if ETH_HEADER + 4 * ihl > length:
        return DROP_BAD_IP_HEADER
    total_length = load16(frame, IP_TOTAL_LENGTH)
    if 4 * ihl > total_length:
        return DROP_BAD_IP_HEADER
    if ETH_HEADER + total_length > length:
        return DROP_BAD_IP_HEADER
    # bad_ip_checksum: the one's-complement sum of the 4*IHL header bytes is
    # not 0xFFFF (RFC 1071: the sum over the header, checksum field included)
    if ones_sum(frame, ETH_HEADER, 4 * ihl) != 0xFFFF:
        return DROP_BAD_IP_CHECKSUM
    # fragment: MF set or fragment offset != 0 (DF is fine)
    flags_fragment = load16(frame, IP_FLAGS_FRAGMENT)
    if (flags_fragment & FLAG_MF) != 0:
        return DROP_FRAGMENT
    if (flags_fragment & FRAGMENT_OFFSET) != 0:
        return DROP_FRAGMENT
    # ttl_expired: TTL < 2
    if load8(frame, IP_TTL) < 2:
        return DROP_TTL_EXPIRED
    # unsupported_protocol: neither TCP (6) nor UDP (17)
    protocol = load8(frame, IP_PROTOCOL)
    if protocol != PROTO_TCP:
        if protocol != PROTO_UDP:
            return DROP_UNSUPPORTED_PROTOCOL
    # truncated_l4: TCP with total length - 4*IHL < 20, or UDP with < 8
    l4_length = total_length - 4 * ihl
    if protocol == PROTO_TCP:
        if l4_length < TCP_MIN_HEADER:
            return DROP_TRUNCATED_L4
    if protocol == PROTO_UDP:
        if l4_length < UDP_HEADER:
            return DROP_TRUNCATED_L4
    # "Trailing bytes after 14 + total length (Ethernet padding) are allowed
    # and kept."
    return FORWARD


# ---------------------------------------------------------------------------
# 4. From the inside (outbound)
# ---------------------------------------------------------------------------

def rule4_outbound(frame, out, now, cfg, table, l4, l4_checksum, is_udp):
    """4. "Look up (inside addr, inside port, remote addr, remote port) in
    the protocol's table.
    - Hit: last_seen := now (the stored MAC is *not* updated).
    - Miss: if the table holds N flows, drop (table_full); otherwise allocate
      a free index and store the flow with last_seen = now and the frame's
      source MAC. [...] vernat takes the one freed longest ago.
    - Rewrite: source address -> external IP, source port -> S + index
      (big-endian on the wire), TTL - 1, Ethernet source -> outside-mac,
      Ethernet destination -> gateway-mac.
    - Verdict: to_outside." """
    inside_ip = load32(frame, IP_SRC)
    inside_port = load16(frame, l4 + L4_SRC_PORT)
    remote_ip = load32(frame, IP_DST)
    remote_port = load16(frame, l4 + L4_DST_PORT)
    index = st_find(table, inside_ip, inside_port, remote_ip, remote_port)
    if index < 0:
        # miss
        if st_full(table):
            return DROP_TABLE_FULL
        index = st_add(table, inside_ip, inside_port, remote_ip, remote_port,
                       load48(frame, ETH_SRC), now)
    else:
        # hit
        st_touch(table, index, now)
    external_ip = cfg[CFG_EXTERNAL_IP]
    external_port = cfg[CFG_PORT_START] + index     # the port this flow owns
    store48(out, ETH_DST, cfg[CFG_GATEWAY_MAC])
    store48(out, ETH_SRC, cfg[CFG_OUTSIDE_MAC])
    store8(out, IP_TTL, load8(frame, IP_TTL) - 1)
    store32(out, IP_SRC, external_ip)
    store16(out, l4 + L4_SRC_PORT, external_port)
    rule6_ip_checksum(frame, out)
    rule6_l4_checksum(out, l4_checksum, is_udp, inside_ip, external_ip,
                      inside_port, external_port)
    return FORWARD


# ---------------------------------------------------------------------------
# 5. From the outside (inbound)
# ---------------------------------------------------------------------------

def rule5_inbound(frame, out, now, cfg, table, l4, l4_checksum, is_udp):
    """5. "Checked in this order, and a frame that fails any check is dropped
    *without touching any state* (no refresh, no allocation):
    wrong_destination (destination address != external IP),
    port_out_of_range (destination port outside S..E), no_flow (no live flow
    with index port - S in that protocol's table), spoofed (source address
    and port != the flow's remote address and port).
    Then last_seen := now; rewrite destination address/port -> the flow's
    inside address/port, TTL - 1, Ethernet source -> inside-mac, Ethernet
    destination -> the flow's inside host MAC. Verdict: to_inside." """
    external_ip = load32(frame, IP_DST)
    if external_ip != cfg[CFG_EXTERNAL_IP]:
        return DROP_WRONG_DESTINATION
    external_port = load16(frame, l4 + L4_DST_PORT)
    if external_port < cfg[CFG_PORT_START]:
        return DROP_PORT_OUT_OF_RANGE
    if external_port > cfg[CFG_PORT_END]:
        return DROP_PORT_OUT_OF_RANGE
    index = external_port - cfg[CFG_PORT_START]
    if not st_live(table, index):
        return DROP_NO_FLOW
    # "source address and port != the flow's remote address and port": the
    # pair differs as soon as either one differs.
    if load32(frame, IP_SRC) != st_remote_ip(table, index):
        return DROP_SPOOFED
    if load16(frame, l4 + L4_SRC_PORT) != st_remote_port(table, index):
        return DROP_SPOOFED
    st_touch(table, index, now)
    inside_ip = st_inside_ip(table, index)
    inside_port = st_inside_port(table, index)
    store48(out, ETH_DST, st_mac(table, index))
    store48(out, ETH_SRC, cfg[CFG_INSIDE_MAC])
    store8(out, IP_TTL, load8(frame, IP_TTL) - 1)
    store32(out, IP_DST, inside_ip)
    store16(out, l4 + L4_DST_PORT, inside_port)
    rule6_ip_checksum(frame, out)
    rule6_l4_checksum(out, l4_checksum, is_udp, external_ip, inside_ip,
                      external_port, inside_port)
    return FORWARD


# ---------------------------------------------------------------------------
# 6. Checksums
# ---------------------------------------------------------------------------

def rule6_ip_checksum(frame, out):
    """6. "The IPv4 header checksum is updated for every changed header word,
    so it is valid on output (IP options included)."

    Specified from scratch (RFC 1071): with the checksum field counted as 0,
    the field becomes the one's complement of the one's-complement sum of the
    4*IHL bytes of the rewritten header, options included.

    Why this is byte-exact with updating incrementally (RFC 1624 eqn. 3, one
    update per changed word, in any order), including the representation of
    zero: the input header is valid (rule 3) and both ways preserve the value
    modulo 0xFFFF, so they can only differ between 0x0000 and 0xFFFF. The
    from-scratch value is never 0xFFFF (the summed header is not all zero:
    its version nibble is 4, so the fold lies in 1..0xFFFF). An eqn. 3 step
    ~(~HC + ~m + m') yields 0xFFFF only when all three terms are 0; the TTL
    word (TTL-1, protocol) always changes and its new value m' is never 0
    (protocol is 6 or 17), so at least one step is not degenerate, and once
    a step yields a value other than 0xFFFF, ~HC is non-zero in every later
    step. Hence the incremental result is never 0xFFFF either, and the two
    agree on every frame (also checked against the NAT in
    tests/spec/test_spec_vs_nat.py::test_checksum_negative_zero_inputs)."""
    nbytes = 4 * ip_ihl(frame)
    store16(out, IP_CHECKSUM, 0)
    store16(out, IP_CHECKSUM, complement16(ones_sum(out, ETH_HEADER, nbytes)))


def rule6_l4_checksum(out, at, is_udp, old_ip, new_ip, old_port, new_port):
    """6. "The TCP/UDP checksum is updated incrementally (RFC 1624, eqn. 3)
    for the changed address and port: the output checksum is valid exactly
    when the input one was. A UDP checksum of 0 ("none") stays 0; an updated
    UDP checksum that comes out as 0 is sent as 0xFFFF."

    The TCP/UDP checksum covers the pseudo-header, which holds the source and
    destination addresses, and the TCP/UDP header, which holds the ports. One
    address (two 16-bit words) and one port (one word) are rewritten; RFC
    1624 eqn. 3, HC' = ~(~HC + ~m + m'), is applied once per word.

    Representation of zero (0x0000 and 0xFFFF are the same one's-complement
    value): the order of the three updates does not matter, byte for byte
    (a step gives 0xFFFF only when ~HC, ~m and m' are all 0, so the result
    is 0xFFFF only when every step is degenerate, and otherwise it is the
    unique value in 0..0xFFFE). But *which* words are updated does matter
    for an input checksum of 0xFFFF: an update with m = m' turns 0xFFFF into
    0x0000. We read "the changed address and port" as the rewritten fields,
    so all three words are updated even when a word's value happens to stay
    the same (e.g. source port already equal to S + index)."""
    hc = load16(out, at)
    if is_udp:
        if hc == 0:
            return
    hc = update16(hc, old_ip >> 16, new_ip >> 16)
    hc = update16(hc, old_ip & 0xFFFF, new_ip & 0xFFFF)
    hc = update16(hc, old_port, new_port)
    if is_udp:
        if hc == 0:
            hc = 0xFFFF
    store16(out, at, hc)
