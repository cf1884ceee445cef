"""A minimal DNS A query over UDP, run by the embedded demo inside the client's
namespace (the testbed has no dig): `python -m vernat.live.dnsquery SERVER NAME`
prints the first A record, or exits 1."""

import os
import random
import socket
import struct
import sys


def query(server, name, timeout=2.0):
    ident = random.randrange(65536)
    question = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    packet = struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + question + struct.pack("!HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(packet, (server, 53))
        reply, _ = s.recvfrom(2048)
    rid, flags, qd, an = struct.unpack("!HHHH", reply[:8])
    if rid != ident or flags & 0x000F or an == 0:
        return None
    # skip the echoed question, then read answers (names are compressed pointers or labels)
    pos = 12 + len(question) + 4
    for _ in range(an):
        while reply[pos] and reply[pos] < 0xC0:
            pos += reply[pos] + 1
        pos += 2 if reply[pos] >= 0xC0 else 1
        rtype, _, _, rdlen = struct.unpack("!HHIH", reply[pos:pos + 10])
        pos += 10
        if rtype == 1 and rdlen == 4:
            return socket.inet_ntoa(reply[pos:pos + 4])
        pos += rdlen
    return None


if __name__ == "__main__":
    try:
        answer = query(sys.argv[1], sys.argv[2])
    except OSError as e:
        print(f"dns: {e}", file=sys.stderr)
        answer = None
    if answer is None:
        sys.exit(1)
    print(answer)
    sys.stdout.flush()
    os._exit(0)
