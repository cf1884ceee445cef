"""`vernat run --inside IF1 --outside IF2`: the NAT between two interfaces.

Settings come, lowest first, from the system (the interfaces' MACs, the outside
interface's IPv4 address as external IP, the default gateway's MAC from the
neighbour table or an ARP request), then the --config file, then the flags.
"""

import ipaddress

from vernat.live import system
from vernat.live.system import RunError
from vernat.nat.config import KEYS, build_config, load_toml


def settings(args):
    """(NatConfig, inside Interface, outside Interface) or RunError/ConfigError."""
    system.require_root()
    if not args.inside or not args.outside:
        raise RunError("operator mode needs both --inside IF and --outside IF "
                       "(or neither, for the built-in testbed)")
    if args.inside == args.outside:
        raise RunError(f"--inside and --outside are the same interface ({args.inside})")
    inside = system.interface(args.inside, "inside")
    outside = system.interface(args.outside, "outside")

    values = load_toml(args.config) if args.config else {}
    for key in KEYS:
        flag = getattr(args, key.replace("-", "_"), None)
        if flag is not None:
            values[key] = flag
    values.setdefault("inside-mac", inside.mac)
    values.setdefault("outside-mac", outside.mac)
    if values.get("external-ip") is None:
        if not outside.ipv4:
            raise RunError(f"--outside {outside.name} has no IPv4 address: give "
                           f"--external-ip A.B.C.D")
        values["external-ip"] = outside.ipv4[0]
    if values.get("gateway-mac") is None:
        values["gateway-mac"] = gateway_mac(args.gateway, outside, str(values["external-ip"]))
    elif args.gateway:
        raise RunError("give --gateway IP or --gateway-mac MAC, not both")
    return build_config(values), inside, outside


def gateway_mac(gateway, outside, external_ip):
    if gateway is None:
        gateway = system.default_gateway(outside.index)
        if gateway is None:
            raise RunError(f"no default route through {outside.name}: give --gateway IP "
                           f"or --gateway-mac MAC")
    else:
        try:
            gateway = str(ipaddress.IPv4Address(gateway))
        except ValueError:
            raise RunError(f"--gateway {gateway!r} is not an IPv4 address") from None
    mac = system.neighbour_mac(outside.index, gateway)
    if mac is None:
        source = outside.ipv4[0] if outside.ipv4 else external_ip
        mac = system.arp_resolve(outside, gateway, source)
    if mac is None:
        raise RunError(f"gateway {gateway} does not answer ARP on {outside.name}: "
                       f"give --gateway-mac MAC")
    return mac
