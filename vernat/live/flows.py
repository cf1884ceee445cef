"""`vernat flows`: the running NAT's translations, like `conntrack -L`.

The NAT does not share its tables while it forwards (they stay in private huge-page
memory, and the data plane pays nothing for this command): `vernat flows` sends it
SIGUSR1, and between two rounds the NAT copies both tables and its clock into
/run/vernat/nats/PID/ (a consistent snapshot: no batch is half-processed).  The copy
is decoded here with the verified library's own accessors (CPython build).
"""

import ipaddress
import json
import os
import signal
import time

import numpy as np

from vernat.live.system import RunError

RUN_DIR = "/run/vernat/nats"


class Publisher:
    """The NAT's side: announce itself, answer snapshot requests, clean up."""

    def __init__(self, nat, inside, outside):
        self.nat = nat
        self.dir = os.path.join(RUN_DIR, str(os.getpid()))
        self.requested = False
        self.generation = 0
        running()                   # removes what NATs killed with SIGKILL left here
        os.makedirs(self.dir, exist_ok=True)
        info = {"pid": os.getpid(), "inside": inside, "outside": outside,
                "config": nat.config.describe(), "capacity": nat.config.capacity}
        _write_atomic(os.path.join(self.dir, "info.json"), json.dumps(info).encode())
        self._old = signal.signal(signal.SIGUSR1, self._request)

    def _request(self, signum, frame):
        self.requested = True

    def serve(self):
        """Called between rounds: write a snapshot if one was asked for."""
        if not self.requested:
            return
        self.requested = False
        self.generation += 1
        nat = self.nat
        blob = (np.array([self.generation, nat.clock[0], len(nat.tcp), len(nat.udp)],
                         dtype=np.int64).tobytes() + nat.tcp.tobytes() + nat.udp.tobytes())
        _write_atomic(os.path.join(self.dir, "snapshot"), blob)

    def close(self):
        signal.signal(signal.SIGUSR1, self._old)
        for name in ("info.json", "snapshot"):
            try:
                os.unlink(os.path.join(self.dir, name))
            except FileNotFoundError:
                pass
        try:
            os.rmdir(self.dir)
        except OSError:
            pass


def _write_atomic(path, data):
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def running():
    """{pid: info} of the NATs that run now (leftovers of killed ones are removed)."""
    found = {}
    if not os.path.isdir(RUN_DIR):
        return found
    for name in os.listdir(RUN_DIR):
        if not name.isdigit():
            continue
        path = os.path.join(RUN_DIR, name)
        if not _alive(int(name)):
            for leftover in os.listdir(path):
                os.unlink(os.path.join(path, leftover))
            os.rmdir(path)
            continue
        try:
            with open(os.path.join(path, "info.json")) as f:
                found[int(name)] = json.load(f)
        except (OSError, ValueError):
            continue
    return found


def snapshot(pid=None, timeout=5.0):
    """Ask a running NAT for its flows; returns (info, [flow dicts])."""
    nats = running()
    if not nats:
        raise RunError("no vernat run is running on this machine")
    if pid is None:
        if len(nats) > 1:
            raise RunError(f"{len(nats)} NATs are running (pids "
                           f"{', '.join(map(str, sorted(nats)))}): choose one with --pid")
        pid = next(iter(nats))
    if pid not in nats:
        raise RunError(f"--pid {pid}: no vernat run with that pid")
    path = os.path.join(RUN_DIR, str(pid), "snapshot")
    before = os.stat(path).st_mtime_ns if os.path.exists(path) else None
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and os.stat(path).st_mtime_ns != before:
            with open(path, "rb") as f:
                blob = f.read()
            return nats[pid], decode(nats[pid], blob)
        time.sleep(0.02)
    raise RunError(f"the NAT (pid {pid}) did not answer within {timeout:.0f} s")


def decode(info, blob):
    from vernat import build
    from vernat.nat.config import NS_PER_SEC
    k = build.load(jit=False)
    head = np.frombuffer(blob[:32], dtype=np.int64)
    _, clock, tcp_words, udp_words = (int(x) for x in head)
    words = np.frombuffer(blob[32:], dtype=np.int64)
    tables = {"tcp": words[:tcp_words], "udp": words[tcp_words:tcp_words + udp_words]}
    config = info["config"]
    start = int(config["port-range"].split("-")[0])
    timeouts = {"tcp": float(config["tcp-timeout"]), "udp": float(config["udp-timeout"])}
    flows = []
    for proto, t in tables.items():
        for i in range(info["capacity"]):
            if not k.flow_is_allocated(t, i):
                continue
            key1, key2 = int(k.flow_key1(t, i)), int(k.flow_key2(t, i))
            idle = (clock - int(k.flow_last_seen(t, i))) / NS_PER_SEC
            mac = f"{int(k.flow_mac(t, i)):012x}"
            flows.append({
                "proto": proto,
                "inside": f"{ipaddress.IPv4Address(key1 >> 16)}:{key1 & 0xFFFF}",
                "remote": f"{ipaddress.IPv4Address(key2 >> 16)}:{key2 & 0xFFFF}",
                "external": f"{config['external-ip']}:{start + i}",
                "inside_mac": ":".join(mac[j:j + 2] for j in range(0, 12, 2)),
                "idle_seconds": round(idle, 3),
                "expired": idle >= timeouts[proto],
            })
    return flows
