"""vernat: a NAT (RFC 3022 NAPT) whose per-packet code and state library are formally proven."""
__version__ = "0.1.0"
