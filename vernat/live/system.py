"""What `vernat run` learns from the system (pyroute2, netlink): interfaces, their
MACs and IPv4 addresses, the default gateway and its MAC.  Every failure is a
RunError with a one-line message."""

import os
import select
import socket
import struct
import time

from pyroute2 import IPRoute

IFF_UP = 0x1
ETH_P_ARP = 0x0806


class RunError(RuntimeError):
    """The NAT cannot run as asked; the message is one line for the operator."""


def require_root():
    if os.geteuid() != 0:
        raise RunError("vernat run needs root (AF_XDP sockets, XDP programs, namespaces)")


class Interface:
    def __init__(self, name, index, mac, up, ipv4):
        self.name, self.index, self.mac, self.up, self.ipv4 = name, index, mac, up, ipv4


def interface(name, role):
    """The named interface; RunError if missing or down."""
    with IPRoute() as ipr:
        found = ipr.link_lookup(ifname=name)
        if not found:
            raise RunError(f"--{role} {name}: no such interface")
        link = ipr.get_links(found[0])[0]
        addrs = [a.get_attr("IFA_ADDRESS") for a in ipr.get_addr(family=socket.AF_INET,
                                                                  index=found[0])]
    up = bool(link["flags"] & IFF_UP)
    if not up:
        raise RunError(f"--{role} {name}: interface is down (ip link set {name} up)")
    return Interface(name, found[0], link.get_attr("IFLA_ADDRESS"), up, addrs)


def default_gateway(ifindex):
    """The IPv4 default route's next hop through ifindex, or None."""
    with IPRoute() as ipr:
        for route in ipr.get_routes(family=socket.AF_INET, dst_len=0):
            if route.get_attr("RTA_OIF") == ifindex and route.get_attr("RTA_GATEWAY"):
                return route.get_attr("RTA_GATEWAY")
    return None


def neighbour_mac(ifindex, ip):
    """The kernel's neighbour-table entry for ip on ifindex, if it has a MAC."""
    with IPRoute() as ipr:
        for n in ipr.get_neighbours(family=socket.AF_INET, ifindex=ifindex):
            mac = n.get_attr("NDA_LLADDR")
            if n.get_attr("NDA_DST") == ip and mac and mac != "00:00:00:00:00:00":
                return mac
    return None


def arp_resolve(iface, ip, source_ip, timeout=1.0, tries=3):
    """Ask for ip's MAC with an ARP request of our own (the kernel's neighbour table has
    no entry yet, and with the XDP program in place the kernel sends the NAT's
    interface no IPv4 traffic that would make it ask).  None if nobody answers."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    try:
        sock.bind((iface.name, ETH_P_ARP))
        my_mac = bytes.fromhex(iface.mac.replace(":", ""))
        target = socket.inet_aton(ip)
        request = (b"\xff" * 6 + my_mac + struct.pack("!H", ETH_P_ARP) +
                   struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + my_mac +
                   socket.inet_aton(source_ip) + b"\x00" * 6 + target)
        for _ in range(tries):
            sock.send(request)
            deadline = time.monotonic() + timeout
            while (left := deadline - time.monotonic()) > 0:
                if not select.select([sock], [], [], left)[0]:
                    break
                frame = sock.recv(128)
                # an ARP reply (op 2) whose sender protocol address is ip
                if len(frame) >= 42 and frame[20:22] == b"\x00\x02" and frame[28:32] == target:
                    return ":".join(f"{b:02x}" for b in frame[22:28])
    finally:
        sock.close()
    return None
