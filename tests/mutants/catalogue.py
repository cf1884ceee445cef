"""Planted bugs that `vernat verify` must reject, each with a counterexample.

A mutant is (name, module, original text, replacement): one small edit of
the verified source. The first six are the bugs VigNAT shipped despite its
proof (../shared/reference/vignat.md), in this code's terms. Equivalent
mutants (no observable change) are not listed: see docs/progress.md.
"""

P = "vernat.nat.process"
K = "vernat.packet.checksum"
F = "vernat.packet.fields"

MUTANTS = [
    # VigNAT's bugs
    ("port_in_host_byte_order", P,
     "cfg[CFG_EXTERNAL_IP], cfg[CFG_PORT_START] + i)",
     "cfg[CFG_EXTERNAL_IP], (((cfg[CFG_PORT_START] + i) & 0xFF) << 8) | "
     "((cfg[CFG_PORT_START] + i) >> 8))"),
    ("expiry_timeout_in_32_bits", P,
     "flow_expire(tcp, now, cfg[CFG_TCP_TIMEOUT])",
     "flow_expire(tcp, now, cfg[CFG_TCP_TIMEOUT] & 0xFFFFFFFF)"),
    ("refresh_before_spoofing_check", P,
     "    remote = (load32(buf, ip + IP_SRC) << 16) | load16(buf, l4 + L4_SPORT)\n",
     "    flow_refresh(table, i, now)\n"
     "    remote = (load32(buf, ip + IP_SRC) << 16) | load16(buf, l4 + L4_SPORT)\n"),
    ("no_inbound_destination_check", P,
     "    if load32(buf, ip + IP_DST) != cfg[CFG_EXTERNAL_IP]:\n"
     "        return DROP_WRONG_DESTINATION\n", ""),
    ("expiry_boundary_gt_instead_of_ge", P,
     "flow_expire(udp, now, cfg[CFG_UDP_TIMEOUT])",
     "flow_expire(udp, now, cfg[CFG_UDP_TIMEOUT] + 1)"),
    ("header_checksum_ignores_options", P,
     "ipv4_header_sum(buf, ip, hlen // 2)", "ipv4_header_sum(buf, ip, 10)"),
    # the list
    ("port_range_off_by_one", P,
     "port > cfg[CFG_PORT_END]", "port >= cfg[CFG_PORT_END]"),
    ("no_fragment_check", P,
     "    if (load16(buf, ip + IP_FLAGS_FRAG) & IP_MF_AND_OFFSET) != 0:\n"
     "        return DROP_FRAGMENT\n", ""),
    ("ttl_one_forwarded", P, "load8(buf, ip + IP_TTL) < 2", "load8(buf, ip + IP_TTL) < 1"),
    ("unchecked_frame_length", P,
     "    if length < ETH_HLEN + IP_MIN_HLEN:\n        return DROP_BAD_IP_HEADER\n", ""),
    ("full_table_overwrites_flow_0", P,
     "        if i < 0:\n            return DROP_TABLE_FULL\n",
     "        if i < 0:\n            i = 0\n"),
    ("udp_checksum_0_rewritten", P,
     "    if is_udp and l4sum == 0:\n        return\n", ""),
    ("wrong_mac_inbound", P,
     "store48(buf, off + ETH_DST, flow_mac(table, i))",
     "store48(buf, off + ETH_DST, cfg[CFG_GATEWAY_MAC])"),
    # more
    ("ttl_not_decremented_outbound", P,
     "    decrement_ttl(buf, ip)\n    store48(buf, off + ETH_SRC, cfg[CFG_OUTSIDE_MAC])\n",
     "    store48(buf, off + ETH_SRC, cfg[CFG_OUTSIDE_MAC])\n"),
    ("ip_checksum_not_updated_for_address", P,
     "    store16(buf, ip + IP_CSUM, csum_replace32(load16(buf, ip + IP_CSUM), old_addr, new_addr))\n",
     ""),
    ("l4_checksum_ignores_port", P,
     "    l4sum = csum_replace16(l4sum, old_port, new_port)\n", ""),
    ("udp_computed_zero_sent_as_zero", P,
     "    if is_udp and l4sum == 0:\n        l4sum = 0xFFFF\n", ""),
    ("l4_checksum_stored_byte_swapped", P,
     "    store16(buf, csum_at, l4sum)\n",
     "    store16(buf, csum_at, ((l4sum & 0xFF) << 8) | (l4sum >> 8))\n"),
    ("time_goes_backwards", P,
     "    if now < clock[0]:\n        now = clock[0]\n", ""),
    ("no_udp_expiry", P,
     "    flow_expire(udp, now, cfg[CFG_UDP_TIMEOUT])\n", ""),
    ("outbound_hit_not_refreshed", P,
     "    if i >= 0:\n        flow_refresh(table, i, now)\n    else:\n",
     "    if i < -1:\n        flow_refresh(table, i, now)\n    else:\n"),
    ("tcp_uses_udp_table", P,
     "        csum_at = l4 + TCP_CSUM\n        table = tcp\n",
     "        csum_at = l4 + TCP_CSUM\n        table = udp\n"),
    ("spoofing_check_reads_wrong_port", P,
     "    remote = (load32(buf, ip + IP_SRC) << 16) | load16(buf, l4 + L4_SPORT)\n",
     "    remote = (load32(buf, ip + IP_SRC) << 16) | load16(buf, l4 + L4_DPORT)\n"),
    ("udp_truncation_check_too_short", P,
     "if payload < UDP_HLEN:", "if payload < 4:"),
    ("outbound_source_mac_is_inside_mac", P,
     "store48(buf, off + ETH_SRC, cfg[CFG_OUTSIDE_MAC])",
     "store48(buf, off + ETH_SRC, cfg[CFG_INSIDE_MAC])"),
    ("l4_header_assumed_after_20_bytes", P, "    l4 = ip + hlen\n", "    l4 = ip + IP_MIN_HLEN\n"),
    ("ip_version_not_checked", P, "(ver_ihl >> 4) != 4 or ", ""),
    ("fold_only_once", K,
     "    total = (total & 0xFFFF) + (total >> 16)\n    total = (total & 0xFFFF) + (total >> 16)\n",
     "    total = (total & 0xFFFF) + (total >> 16)\n"),
    ("load16_little_endian", F,
     "return (load8(buf, at) << 8) | load8(buf, at + 1)",
     "return (load8(buf, at + 1) << 8) | load8(buf, at)"),
]


def mutant_sources(module, original, replacement):
    """{module: mutated text}; the original text must occur exactly once."""
    from vernat import build
    text = open(build.module_path(module)).read()
    assert text.count(original) == 1, f"{module}: the mutated text must occur once"
    return {module: text.replace(original, replacement)}
