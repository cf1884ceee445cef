"""Real servers on the testbed's outside and real clients on its inside, for the
embedded demo: HTTP (python's http.server, curl), DNS (dnsmasq, a small query),
iperf3 TCP and UDP.  Each client run returns a Result; the servers' logs say which
address every connection came from (it must be the NAT's external IP)."""

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass

HTTP_PORT = 8080
BLOB_MIB = 16
DNS_NAME = "nat.vernat.test"
IPERF_SECONDS = 3
IPERF_UDP_RATE = "200M"


@dataclass
class Result:
    name: str
    ok: bool
    detail: str


class Servers:
    """Starts the servers in the outside namespace; the testbed kills them."""

    def __init__(self, testbed, workdir):
        self.tb, self.dir = testbed, workdir
        self.logs = {}
        self.stun_reflexive = set()     # the client's address as the STUN server saw it

    def start(self):
        tb, d = self.tb, self.dir
        www = os.path.join(d, "www")
        os.makedirs(www, exist_ok=True)
        blob = os.urandom(BLOB_MIB << 20)
        with open(os.path.join(www, "blob.bin"), "wb") as f:
            f.write(blob)
        self.blob_sha256 = hashlib.sha256(blob).hexdigest()
        self._spawn("http", [sys.executable, "-m", "http.server", str(HTTP_PORT),
                             "--bind", tb.server_ip, "--directory", www])
        self._spawn("dns", ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
                            "--no-resolv", "--no-hosts", "--bind-interfaces",
                            f"--listen-address={tb.server_ip}", "--port=53", "--user=root",
                            f"--address=/{DNS_NAME}/{tb.server_ip}", "--log-queries",
                            f"--log-facility={os.path.join(d, 'dns-queries.log')}",
                            f"--pid-file={os.path.join(d, 'dnsmasq.pid')}"])
        self._spawn("iperf3", ["iperf3", "-s", "-B", tb.server_ip, "--forceflush"])
        # STUN only (no TURN relaying), on both server addresses: RFC 5780 tests need two
        self._spawn("stun", ["turnserver", "--stun-only", "--no-auth", "-n", "--no-tls",
                             "--no-dtls", "--no-cli", "-L", tb.server_ip, "-L", tb.server_alt_ip,
                             "--pidfile", os.path.join(d, "turnserver.pid"),
                             "--log-file", "stdout", "--simple-log"])
        self.wait_listening()

    def _spawn(self, name, argv):
        path = os.path.join(self.dir, f"{name}.log")
        self.logs[name] = path
        with open(path, "w") as log:
            self.tb.spawn(self.tb.ns_outside, argv, stdout=log, stderr=subprocess.STDOUT)

    def wait_listening(self, timeout=10.0):
        """Until the three servers' sockets are bound (ss in the outside namespace)."""
        from vernat.testbed.topology import sh
        deadline = time.monotonic() + timeout
        wanted = (f"{self.tb.server_ip}:{HTTP_PORT}", f"{self.tb.server_ip}:53",
                  f"{self.tb.server_ip}:5201", f"{self.tb.server_alt_ip}:3479")
        while time.monotonic() < deadline:
            listening = sh("ss", "-Hltun", netns=self.tb.ns_outside, check=False)
            if all(w in listening for w in wanted):
                return
            time.sleep(0.1)
        raise RuntimeError("the testbed's servers did not start (logs in " + self.dir + ")")

    def client_addresses(self):
        """Every source address the servers logged a connection or query from."""
        seen = set(self.stun_reflexive)
        patterns = (("http", r"^(\d+\.\d+\.\d+\.\d+) - - "),
                    ("iperf3", r"Accepted connection from (\d+\.\d+\.\d+\.\d+)"),
                    ("dns-queries", r"query\[A\] \S+ from (\d+\.\d+\.\d+\.\d+)"))
        for name, pattern in patterns:
            path = self.logs.get(name) or os.path.join(self.dir, f"{name}.log")
            try:
                with open(path, errors="replace") as f:
                    seen.update(re.findall(pattern, f.read(), re.MULTILINE))
            except FileNotFoundError:
                pass
        return seen


def run_in(tb, argv, timeout):
    """Run a client in the inside namespace; (exit code, stdout). The testbed kills it
    if we are interrupted."""
    proc = tb.spawn(tb.ns_inside, argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        return None, out.decode(errors="replace")
    finally:
        if proc in tb.processes and proc.returncode is not None:
            tb.processes.remove(proc)
    return proc.returncode, out.decode(errors="replace")


def http_download(tb, servers):
    target = os.path.join(servers.dir, "download.bin")
    t0 = time.monotonic()
    rc, out = run_in(tb, ["curl", "-sS", "--max-time", "30", "-o", target,
                          f"http://{tb.server_ip}:{HTTP_PORT}/blob.bin"], timeout=40)
    took = time.monotonic() - t0
    if rc != 0:
        return Result("HTTP", False, f"curl failed: {last_line(out) or rc}")
    with open(target, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    os.unlink(target)
    if digest != servers.blob_sha256:
        return Result("HTTP", False, f"{BLOB_MIB} MiB download: sha256 differs")
    return Result("HTTP", True, f"{BLOB_MIB} MiB, sha256 ok, {BLOB_MIB * 8.389 / took:,.0f} Mbit/s")


def dns_lookup(tb, servers):
    rc, out = run_in(tb, [sys.executable, "-m", "vernat.live.dnsquery", tb.server_ip,
                          DNS_NAME], timeout=10)
    answer = out.strip()
    if rc != 0 or answer != tb.server_ip:
        return Result("DNS", False, f"{DNS_NAME}: no answer ({last_line(out) or rc})")
    return Result("DNS", True, f"{DNS_NAME} A {answer}")


def iperf(tb, servers, udp=False):
    name = "iperf3 UDP" if udp else "iperf3 TCP"
    argv = ["iperf3", "-c", tb.server_ip, "-t", str(IPERF_SECONDS), "-J",
            "--connect-timeout", "3000"]
    if udp:
        argv += ["-u", "-b", IPERF_UDP_RATE]
    rc, out = run_in(tb, argv, timeout=IPERF_SECONDS + 15)
    try:
        report = json.loads(out)
    except ValueError:
        return Result(name, False, f"no report ({last_line(out) or rc})")
    if rc != 0 or "error" in report:
        return Result(name, False, report.get("error", f"exit {rc}"))
    end = report["end"]
    if udp:
        s = end["sum"]
        return Result(name, True, f"{s['bits_per_second'] / 1e6:,.0f} Mbit/s offered "
                                  f"{IPERF_UDP_RATE}, {s['lost_percent']:.2f} % lost")
    s = end["sum_received"]
    retr = end["sum_sent"].get("retransmits", 0)
    return Result(name, True, f"{s['bits_per_second'] / 1e6:,.0f} Mbit/s, "
                              f"{s['bytes'] / 2**20:,.0f} MiB, {retr} retransmits")


def nat_discovery(tb, servers):
    """coturn's RFC 5780 tests: how the NAT maps and filters (once per demo: the answer
    does not change)."""
    verdicts = {}
    for option, what in (("-m", "mapping"), ("-f", "filtering")):
        rc, out = run_in(tb, ["turnutils_natdiscovery", option, tb.server_ip], timeout=30)
        servers.stun_reflexive.update(re.findall(r"reflexive addr: (\d+\.\d+\.\d+\.\d+):", out))
        found = re.search(r"NAT with (.+?) (Mapping|Filtering)!", out)
        if rc != 0 or not found:
            return Result("NAT type (RFC 5780)", False, f"{what}: {last_line(out) or rc}")
        verdicts[what] = found.group(1).lower()
    return Result("NAT type (RFC 5780)", True,
                  f"mapping: {verdicts['mapping']}; filtering: {verdicts['filtering']}")


def last_line(text):
    lines = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    return lines[-1][:120] if lines else ""


CLIENTS = (http_download, dns_lookup, iperf, lambda tb, s: iperf(tb, s, udp=True))
