"""NAT configuration: flags and TOML keys with the same names, validated once.

Everything the per-packet code needs is turned into the int64 array laid
out by vernat.nat.constants (times in integer nanoseconds).
"""

import ipaddress
import re
import tomllib
from dataclasses import dataclass

import numpy as np

from vernat.nat import constants as C

NS_PER_SEC = 1_000_000_000
MAX_TIMEOUT_SEC = 10 ** 9          # ~31 years; keeps every time sum far from int64's limit
DEFAULT_MACS = {
    "inside_mac": "02:00:00:00:00:01",
    "outside_mac": "02:00:00:00:00:02",
    "gateway_mac": "02:00:00:00:00:fe",
}


class ConfigError(ValueError):
    """A configuration value is wrong; the message is one line for the user."""


@dataclass(frozen=True)
class NatConfig:
    external_ip: int
    port_start: int = 1024
    port_end: int = 65535
    udp_timeout_ns: int = 300 * NS_PER_SEC
    tcp_timeout_ns: int = 7440 * NS_PER_SEC
    inside_mac: int = 0x020000000001
    outside_mac: int = 0x020000000002
    gateway_mac: int = 0x0200000000FE

    @property
    def capacity(self):
        """Flows per protocol table: one per external port."""
        return self.port_end - self.port_start + 1

    def to_array(self):
        cfg = np.zeros(C.CFG_WORDS, dtype=np.int64)
        cfg[C.CFG_EXTERNAL_IP] = self.external_ip
        cfg[C.CFG_PORT_START] = self.port_start
        cfg[C.CFG_PORT_END] = self.port_end
        cfg[C.CFG_UDP_TIMEOUT] = self.udp_timeout_ns
        cfg[C.CFG_TCP_TIMEOUT] = self.tcp_timeout_ns
        cfg[C.CFG_INSIDE_MAC] = self.inside_mac
        cfg[C.CFG_OUTSIDE_MAC] = self.outside_mac
        cfg[C.CFG_GATEWAY_MAC] = self.gateway_mac
        return cfg

    def describe(self):
        """Human-readable settings, keyed like the flags."""
        return {
            "external-ip": str(ipaddress.IPv4Address(self.external_ip)),
            "port-range": f"{self.port_start}-{self.port_end}",
            "udp-timeout": self.udp_timeout_ns / NS_PER_SEC,
            "tcp-timeout": self.tcp_timeout_ns / NS_PER_SEC,
            "inside-mac": format_mac(self.inside_mac),
            "outside-mac": format_mac(self.outside_mac),
            "gateway-mac": format_mac(self.gateway_mac),
        }


# The option names, as flags (--external-ip) and as TOML keys (external-ip).
KEYS = ("external-ip", "port-range", "udp-timeout", "tcp-timeout",
        "inside-mac", "outside-mac", "gateway-mac")


def parse_ipv4(text, what="external-ip"):
    try:
        return int(ipaddress.IPv4Address(str(text).strip()))
    except (ipaddress.AddressValueError, ValueError):
        raise ConfigError(f"{what}: {text!r} is not an IPv4 address (A.B.C.D)") from None


_MAC = re.compile(r"^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$")


def parse_mac(text, what):
    text = str(text).strip()
    if not _MAC.match(text):
        raise ConfigError(f"{what}: {text!r} is not a MAC address (aa:bb:cc:dd:ee:ff)")
    return int(text.replace("-", "").replace(":", ""), 16)


def format_mac(value):
    raw = f"{value:012x}"
    return ":".join(raw[k:k + 2] for k in range(0, 12, 2))


def parse_port_range(text):
    match = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", str(text))
    if not match:
        raise ConfigError(f"port-range: {text!r} is not S-E (for example 1024-65535)")
    start, end = int(match.group(1)), int(match.group(2))
    if not 1 <= start <= end <= 65535:
        raise ConfigError(f"port-range: {text!r} needs 1 <= S <= E <= 65535")
    return start, end


def parse_timeout(text, what):
    """Seconds (integer or decimal) -> integer nanoseconds, > 0."""
    if isinstance(text, bool):
        raise ConfigError(f"{what}: {text!r} is not a number of seconds")
    try:
        seconds = float(text)
    except (TypeError, ValueError):
        raise ConfigError(f"{what}: {text!r} is not a number of seconds") from None
    if not 0 < seconds <= MAX_TIMEOUT_SEC:
        raise ConfigError(f"{what}: {text!r} must be > 0 and <= {MAX_TIMEOUT_SEC} seconds")
    ns = round(seconds * NS_PER_SEC)
    return max(ns, 1)


def load_toml(path):
    """Read a --config file: a flat table whose keys are the flag names."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise ConfigError(f"config {path}: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config {path}: not valid TOML ({e})") from None
    values = {}
    for key, value in data.items():
        name = key.replace("_", "-")
        if name not in KEYS:
            raise ConfigError(f"config {path}: unknown key {key!r} "
                              f"(known: {', '.join(KEYS)})")
        if isinstance(value, dict):
            raise ConfigError(f"config {path}: {key!r} must be a value, not a table")
        values[name] = value
    return values


def build_config(values):
    """NatConfig from {flag name: text or value}; missing keys take defaults."""
    if values.get("external-ip") is None:
        raise ConfigError("external-ip is required (--external-ip A.B.C.D or in --config)")
    kwargs = {"external_ip": parse_ipv4(values["external-ip"])}
    if values.get("port-range") is not None:
        kwargs["port_start"], kwargs["port_end"] = parse_port_range(values["port-range"])
    for key, field in (("udp-timeout", "udp_timeout_ns"), ("tcp-timeout", "tcp_timeout_ns")):
        if values.get(key) is not None:
            kwargs[field] = parse_timeout(values[key], key)
    for key in ("inside-mac", "outside-mac", "gateway-mac"):
        field = key.replace("-", "_")
        kwargs[field] = parse_mac(values.get(key) or DEFAULT_MACS[field], key)
    return NatConfig(**kwargs)


def resolve(flag_values, config_path=None):
    """Flags override the TOML file, which overrides the defaults."""
    values = load_toml(config_path) if config_path else {}
    for key, value in flag_values.items():
        if value is not None:
            values[key] = value
    return build_config(values)


