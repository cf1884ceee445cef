"""Small network programs the live tests run inside the testbed's namespaces
(`ip netns exec NS python -m tests.live.agents COMMAND ...`).  Each prints one JSON
line with what it saw, so that the test asserts on facts, not on timing."""

import hashlib
import json
import random
import select
import socket
import sys


def tcp_sink(bind_ip, port):
    """Accept one connection, read to EOF; report the peer and the sha256 of the data."""
    with socket.create_server((bind_ip, int(port))) as srv:
        print(json.dumps({"listening": True}), flush=True)
        conn, peer = srv.accept()
        digest, total = hashlib.sha256(), 0
        with conn:
            while chunk := conn.recv(1 << 16):
                digest.update(chunk)
                total += len(chunk)
    print(json.dumps({"peer": peer[0], "bytes": total, "sha256": digest.hexdigest()}))


def tcp_send(ip, port, mib, seed):
    """Send `mib` MiB of seeded random bytes; report their sha256."""
    rng = random.Random(int(seed))
    digest, total = hashlib.sha256(), int(mib) << 20
    with socket.create_connection((ip, int(port)), timeout=30) as s:
        sent = 0
        while sent < total:
            chunk = rng.randbytes(min(1 << 16, total - sent))
            s.sendall(chunk)
            digest.update(chunk)
            sent += len(chunk)
    print(json.dumps({"bytes": total, "sha256": digest.hexdigest()}))


def udp_echo(bind_ip, port, count):
    """Answer `count` datagrams with their own payload; report every peer seen."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((bind_ip, int(port)))
        print(json.dumps({"listening": True}), flush=True)
        peers = []
        for _ in range(int(count)):
            data, peer = s.recvfrom(2048)
            peers.append(list(peer))
            s.sendto(data, peer)
    print(json.dumps({"peers": peers}))


def udp_ask(ip, port, count, local_port=0):
    """Send `count` datagrams from one socket; report how many replies came back intact."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("0.0.0.0", int(local_port)))
        s.settimeout(5)
        good = 0
        for k in range(int(count)):
            payload = f"vernat {k}".encode() * 20
            s.sendto(payload, (ip, int(port)))
            try:
                data, _ = s.recvfrom(4096)
                good += data == payload
            except socket.timeout:
                pass
    print(json.dumps({"replies": good}))


def listen_all(port, seconds):
    """Listen on UDP and TCP `port` on every address for `seconds`; report anything
    that arrived (the unsolicited-traffic test expects nothing)."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("0.0.0.0", int(port)))
    tcp = socket.create_server(("0.0.0.0", int(port)))
    print(json.dumps({"listening": True}), flush=True)
    got = []
    import time
    deadline = time.monotonic() + float(seconds)
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([udp, tcp], [], [], left)
        for sock in ready:
            if sock is udp:
                data, peer = udp.recvfrom(2048)
                got.append(["udp", peer[0]])
            else:
                conn, peer = tcp.accept()
                got.append(["tcp", peer[0]])
                conn.close()
    print(json.dumps({"received": got}))


def send_unsolicited(targets, port):
    """UDP datagrams and TCP SYNs to each target address; never waits for answers."""
    for ip in targets.split(","):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _ in range(5):
                s.sendto(b"unsolicited", (ip, int(port)))
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setblocking(False)
            try:
                s.connect((ip, int(port)))
            except BlockingIOError:
                pass
    print(json.dumps({"sent": True}))


def udp_reply_late(bind_ip, port, seconds):
    """Echo one datagram at once, then send the same peer another one `seconds` later
    (a reply that arrives after the NAT's flow expired)."""
    import time
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((bind_ip, int(port)))
        print(json.dumps({"listening": True}), flush=True)
        data, peer = s.recvfrom(2048)
        s.sendto(data, peer)
        time.sleep(float(seconds))
        s.sendto(b"stale", peer)
    print(json.dumps({"peer": list(peer)}))


def udp_ask_listen(ip, port, seconds):
    """Send one datagram, take the reply, then count what else arrives in `seconds`."""
    import time
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(b"hello", (ip, int(port)))
        first = s.recvfrom(2048)[0]
        later = []
        deadline = time.monotonic() + float(seconds)
        while (left := deadline - time.monotonic()) > 0:
            s.settimeout(left)
            try:
                later.append(s.recvfrom(2048)[0].decode(errors="replace"))
            except socket.timeout:
                break
    print(json.dumps({"first": first.decode(), "later": later}))


def udp_send_from(bind_ip, bind_port, ip, port):
    """One datagram from a chosen source address and port."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((bind_ip, int(bind_port)))
        s.sendto(b"not the flow's peer", (ip, int(port)))
    print(json.dumps({"sent": True}))


def send_raw(ifname, *hex_frames):
    """Send Ethernet frames as given (hex) on ifname through an AF_PACKET socket."""
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
        s.bind((ifname, 0))
        for frame in hex_frames:
            s.send(bytes.fromhex(frame))
    print(json.dumps({"sent": len(hex_frames)}))


def capture(ifname, count, seconds):
    """Print the first `count` IPv4 frames that arrive on ifname (hex), waiting at most
    `seconds`."""
    import time
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800)) as s:
        s.bind((ifname, 0x0800))
        print(json.dumps({"listening": True}), flush=True)
        frames, deadline = [], time.monotonic() + float(seconds)
        while len(frames) < int(count) and (left := deadline - time.monotonic()) > 0:
            if select.select([s], [], [], left)[0]:
                data, addr = s.recvfrom(65536)
                if addr[2] != socket.PACKET_OUTGOING:
                    frames.append(data.hex())
    print(json.dumps({"frames": frames}))


COMMANDS = {"capture": capture,"udp-reply-late": udp_reply_late, "udp-ask-listen": udp_ask_listen,
            "udp-send-from": udp_send_from, "send-raw": send_raw,
            "tcp-sink": tcp_sink, "tcp-send": tcp_send, "udp-echo": udp_echo,
            "udp-ask": udp_ask, "listen-all": listen_all, "send-unsolicited": send_unsolicited}

if __name__ == "__main__":
    COMMANDS[sys.argv[1]](*sys.argv[2:])
