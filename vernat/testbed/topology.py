"""A three-namespace testbed: inside client -- NAT -- outside server.

    [vn-ID-in]  client  vn-ID-c  10.77.0.2/24   (default route via 10.77.0.1)
         | veth
    [vn-ID-nat] NAT     vn-ID-ni 10.77.0.1/24    inside interface
                        vn-ID-no 203.0.113.1/24  outside interface = external IP
         | veth
    [vn-ID-out] server  vn-ID-s  203.0.113.2/24  (the NAT's gateway)
                                 203.0.113.3/24  (second address: RFC 5780 NAT discovery)

Addresses are a private range (inside) and TEST-NET-3 (outside, RFC 5737); every
name starts with `vn-ID-` (ID random per run), so several testbeds can coexist and
`vernat testbed down` finds the leftovers of a killed run.  The NAT namespace keeps
its addresses only so that its kernel answers ARP for them; IPv4 forwarding stays
off there (a new namespace's default), and the XDP program takes every IPv4 frame
before the kernel sees it.

Built with iproute2 and ethtool commands: one readable command per step, and the
same commands an operator would type to reproduce it.
"""

import glob
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

PREFIX = "vn-"
RECORD_DIR = "/run/vernat/testbeds"

INSIDE_NET = "10.77.0.0/24"
CLIENT_IP = "10.77.0.2"
NAT_INSIDE_IP = "10.77.0.1"
OUTSIDE_NET = "203.0.113.0/24"
EXTERNAL_IP = "203.0.113.1"
SERVER_IP = "203.0.113.2"
SERVER_ALT_IP = "203.0.113.3"


class TestbedError(RuntimeError):
    """A step of building the testbed failed; the message is one line."""


def sh(*argv, netns=None, check=True):
    """Run one command (in a namespace if given); raise TestbedError with its stderr."""
    if netns:
        argv = ("ip", "netns", "exec", netns) + argv
    proc = subprocess.run(argv, capture_output=True, text=True)
    if check and proc.returncode != 0:
        msg = (proc.stderr or proc.stdout).strip().splitlines()
        raise TestbedError(f"{' '.join(argv)}: {msg[-1] if msg else f'exit {proc.returncode}'}")
    return proc.stdout


@dataclass
class Testbed:
    id: str
    processes: list = field(default_factory=list)
    up: bool = False

    @property
    def ns_inside(self):
        return f"{PREFIX}{self.id}-in"

    @property
    def ns_nat(self):
        return f"{PREFIX}{self.id}-nat"

    @property
    def ns_outside(self):
        return f"{PREFIX}{self.id}-out"

    @property
    def namespaces(self):
        return (self.ns_inside, self.ns_nat, self.ns_outside)

    # interface names (<= 15 characters: "vn-" + 6 + "-ni")
    @property
    def if_client(self):
        return f"{PREFIX}{self.id}-c"

    @property
    def if_nat_inside(self):
        return f"{PREFIX}{self.id}-ni"

    @property
    def if_nat_outside(self):
        return f"{PREFIX}{self.id}-no"

    @property
    def if_server(self):
        return f"{PREFIX}{self.id}-s"

    external_ip = EXTERNAL_IP
    client_ip = CLIENT_IP
    server_ip = SERVER_IP
    server_alt_ip = SERVER_ALT_IP
    nat_inside_ip = NAT_INSIDE_IP

    def mac(self, netns, ifname):
        out = sh("cat", f"/sys/class/net/{ifname}/address", netns=netns)
        return out.strip()

    # -- building and removing -------------------------------------------------------

    def create(self):
        """Build everything; on any failure remove what was built and re-raise."""
        write_record(self.id)
        self.up = True
        try:
            self._create()
        except BaseException:
            self.destroy()
            raise
        return self

    def _create(self):
        for ns in self.namespaces:
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "set", "lo", "up", netns=ns)
        sh("ip", "link", "add", self.if_client, "netns", self.ns_inside, "type", "veth",
           "peer", "name", self.if_nat_inside, "netns", self.ns_nat)
        sh("ip", "link", "add", self.if_server, "netns", self.ns_outside, "type", "veth",
           "peer", "name", self.if_nat_outside, "netns", self.ns_nat)
        for ns, ifname, addr in ((self.ns_inside, self.if_client, f"{CLIENT_IP}/24"),
                                 (self.ns_nat, self.if_nat_inside, f"{NAT_INSIDE_IP}/24"),
                                 (self.ns_nat, self.if_nat_outside, f"{EXTERNAL_IP}/24"),
                                 (self.ns_outside, self.if_server, f"{SERVER_IP}/24")):
            sh("ip", "addr", "add", addr, "dev", ifname, netns=ns)
            sh("ip", "link", "set", ifname, "up", netns=ns)
        sh("ip", "addr", "add", f"{SERVER_ALT_IP}/24", "dev", self.if_server, netns=self.ns_outside)
        sh("ip", "route", "add", "default", "via", NAT_INSIDE_IP, netns=self.ns_inside)
        # The NAT must never forward by itself (a new namespace starts with it off;
        # said again so that a changed default cannot open a path around the NAT).
        sh("sysctl", "-q", "-w", "net.ipv4.ip_forward=0", netns=self.ns_nat)
        # Client and server hand their veths complete checksums: a veth otherwise
        # passes CHECKSUM_PARTIAL frames (pseudo-header sum only) that the NAT's
        # RFC 1624 update would get wrong (lab notes, "Offloads").  TSO goes with it.
        for ns, ifname in ((self.ns_inside, self.if_client), (self.ns_outside, self.if_server)):
            sh("ethtool", "-K", ifname, "tx", "off", netns=ns)

    def spawn(self, netns, argv, **popen_kw):
        """Start a process in a namespace; it is killed by destroy()."""
        popen_kw.setdefault("stdin", subprocess.DEVNULL)
        proc = subprocess.Popen(("ip", "netns", "exec", netns) + tuple(argv),
                                start_new_session=True, **popen_kw)
        self.processes.append(proc)
        return proc

    def destroy(self):
        """Kill what was started, delete the namespaces (their veths and XDP programs
        go with them) and the record. Safe to call twice."""
        for proc in self.processes:
            stop_process(proc)
        self.processes.clear()
        if self.up:
            remove_testbed(self.id)
            self.up = False

    def __enter__(self):
        return self.create()

    def __exit__(self, *exc):
        self.destroy()


def new_testbed():
    return Testbed(id=secrets.token_hex(3))


def stop_process(proc, grace=3.0):
    """SIGTERM the process group, then SIGKILL after `grace` seconds."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


# -- records of live testbeds, and cleaning up after a kill -9 -------------------------

def write_record(testbed_id):
    os.makedirs(RECORD_DIR, exist_ok=True)
    with open(os.path.join(RECORD_DIR, testbed_id), "w") as f:
        f.write(f"{os.getpid()}\n")


def owner_alive(testbed_id):
    try:
        with open(os.path.join(RECORD_DIR, testbed_id)) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return False
    return pid_alive(pid)


def list_testbeds():
    """IDs of every vn-ID-* namespace that exists."""
    out = sh("ip", "netns", "list", check=False)
    ids = set()
    for line in out.splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith(PREFIX) and name.count("-") >= 2:
            ids.add(name.split("-")[1])
    return sorted(ids)


def remove_testbed(testbed_id):
    """Kill every process left in the testbed's namespaces, then delete them."""
    names = [f"{PREFIX}{testbed_id}-{s}" for s in ("in", "nat", "out")]
    existing = set(line.split()[0] for line in sh("ip", "netns", "list", check=False).splitlines()
                   if line.split())
    for ns in names:
        if ns not in existing:
            continue
        for pid in sh("ip", "netns", "pids", ns, check=False).split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
    for ns in names:
        if ns in existing:
            # a just-killed process may still hold the namespace for a moment
            for _ in range(20):
                if subprocess.run(("ip", "netns", "del", ns), capture_output=True).returncode == 0:
                    break
                time.sleep(0.05)
    try:
        os.unlink(os.path.join(RECORD_DIR, testbed_id))
    except FileNotFoundError:
        pass


BENCH_WORKDIR = "vernat-bench-"     # + owner's PID + "-" + random: vernat/bench/tools.py


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_bench_workdirs(include_live=False):
    """The benchmark's work directories (/tmp/vernat-bench-PID-*, compiled tools and
    logs) whose process is gone (all of them with include_live)."""
    out = []
    for path in glob.glob(os.path.join(tempfile.gettempdir(), BENCH_WORKDIR + "*")):
        pid = os.path.basename(path)[len(BENCH_WORKDIR):].split("-")[0]
        if os.path.isdir(path) and (include_live or (pid.isdigit() and not pid_alive(int(pid)))):
            out.append(path)
    return sorted(out)


def down(include_live=False):
    """Remove testbeds whose owner is gone (all of them with include_live), and the
    benchmark's work directories likewise.  Returns (removed ids, skipped live ids,
    removed work directories)."""
    removed, skipped = [], []
    for testbed_id in list_testbeds():
        if owner_alive(testbed_id) and not include_live:
            skipped.append(testbed_id)
            continue
        remove_testbed(testbed_id)
        # a killed embedded demo's working directory (servers' files and logs)
        for path in glob.glob(os.path.join(tempfile.gettempdir(), f"vernat-{testbed_id}-*")):
            shutil.rmtree(path, ignore_errors=True)
        removed.append(testbed_id)
    workdirs = stale_bench_workdirs(include_live)
    for path in workdirs:
        shutil.rmtree(path, ignore_errors=True)
    return removed, skipped, workdirs
