"""Codes shared by the per-packet code, its callers and the spec.

The configuration travels to the per-packet code as one int64 array indexed
by the CFG_* constants (numba freezes module-level arrays, so state and
configuration are always passed in explicitly).
"""

# configuration array
CFG_EXTERNAL_IP = 0
CFG_PORT_START = 1
CFG_PORT_END = 2
CFG_UDP_TIMEOUT = 3     # ns
CFG_TCP_TIMEOUT = 4     # ns
CFG_INSIDE_MAC = 5      # the NAT's own MAC on the inside
CFG_OUTSIDE_MAC = 6     # the NAT's own MAC on the outside
CFG_GATEWAY_MAC = 7     # next hop on the outside
CFG_WORDS = 8

# verdicts, one per frame
DROP = 0
TO_INSIDE = 1
TO_OUTSIDE = 2

# what process_frame returns: FORWARD, or why the frame was dropped.
# The order is the order of the checks (docs/semantics.md).
FORWARD = 0
DROP_BAD_DESCRIPTOR = 1      # offset/length outside the batch buffer
DROP_NOT_IPV4 = 2            # shorter than an Ethernet header, or EtherType != 0x0800
DROP_BAD_IP_HEADER = 3       # version, IHL or lengths inconsistent with the frame
DROP_BAD_IP_CHECKSUM = 4
DROP_FRAGMENT = 5            # MF set or fragment offset != 0
DROP_TTL_EXPIRED = 6         # TTL < 2
DROP_UNSUPPORTED_PROTOCOL = 7  # neither TCP nor UDP
DROP_TRUNCATED_L4 = 8        # TCP payload < 20 bytes or UDP payload < 8 bytes
DROP_TABLE_FULL = 9          # outbound, new flow, no free index
DROP_WRONG_DESTINATION = 10  # inbound, destination IP is not the external IP
DROP_PORT_OUT_OF_RANGE = 11  # inbound, destination port outside S..E
DROP_NO_FLOW = 12            # inbound, no live flow owns that port
DROP_SPOOFED = 13            # inbound, source is not the flow's remote endpoint
NUM_REASONS = 14

REASON_NAMES = (
    "forwarded", "bad_descriptor", "not_ipv4", "bad_ip_header", "bad_ip_checksum",
    "fragment", "ttl_expired", "unsupported_protocol", "truncated_l4", "table_full",
    "wrong_destination", "port_out_of_range", "no_flow", "spoofed",
)
VERDICT_NAMES = ("drop", "to_inside", "to_outside")
