"""One-line descriptions of frames for people (replay --frames). Display
only: the NAT never uses this; it must merely never fail on any bytes."""

import ipaddress


def describe(frame):
    if len(frame) < 14:
        return f"{len(frame)}-byte runt"
    ethertype = int.from_bytes(frame[12:14], "big")
    names = {0x0806: "ARP", 0x86DD: "IPv6", 0x8100: "VLAN"}
    if ethertype != 0x0800:
        return names.get(ethertype, f"EtherType 0x{ethertype:04x}")
    if len(frame) < 34:
        return "IPv4 (truncated)"
    ihl = (frame[14] & 0x0F) * 4
    proto = frame[23]
    src = ipaddress.IPv4Address(frame[26:30])
    dst = ipaddress.IPv4Address(frame[30:34])
    l4 = 14 + ihl
    name = {6: "TCP", 17: "UDP", 1: "ICMP"}.get(proto, f"proto {proto}")
    if proto in (6, 17) and ihl >= 20 and len(frame) >= l4 + 4:
        sport = int.from_bytes(frame[l4:l4 + 2], "big")
        dport = int.from_bytes(frame[l4 + 2:l4 + 4], "big")
        return f"{name} {src}:{sport} > {dst}:{dport}"
    return f"{name} {src} > {dst}"
