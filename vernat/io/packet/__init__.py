"""AF_PACKET (TPACKET_V3) packet I/O for `vernat run --io packet` (see dataplane.py)."""
