"""`--cpu N`: put the data plane and the interfaces' receive work on one core.

The lab notes' method (shared/reference/lab-notes.md): with native XDP on veth the
receive work runs in NAPI on the *sender's* CPU and RPS cannot move it; threaded NAPI
(`/sys/class/net/IF/threaded`) turns it into kernel threads `napi/IF-ID`, which we pin
and give SCHED_FIFO priority 1, so that they preempt the NAT's loop on the shared core
(without it the veth's 256-frame receive ring overflowed from ~20 kpps on).
RPS is set too, for generic XDP and the kernel's own traffic (ARP).  Everything is put
back as it was when the NAT stops.
"""

import os

from vernat.live.system import RunError

COMM_LENGTH = 15         # kernel thread names are cut to 15 characters


def check_cpu(cpu):
    allowed = os.sched_getaffinity(0)
    if cpu not in allowed:
        raise RunError(f"--cpu {cpu}: not one of this process's CPUs "
                       f"({', '.join(map(str, sorted(allowed)))})")


def _write(path, value):
    with open(path) as f:
        old = f.read().strip()
    with open(path, "w") as f:
        f.write(value)
    return old


def process_threads(proc):
    """PIDs of a started process and of its threads (empty when it is not running)."""
    if proc is None:
        return set()
    pids = {proc.pid}
    try:
        pids.update(int(t) for t in os.listdir(f"/proc/{proc.pid}/task"))
    except OSError:
        pass
    return pids


def napi_threads(ifname):
    """PIDs of the threaded-NAPI kernel threads of ifname (matched by name; a name cut to
    15 characters may also match another interface that starts the same way)."""
    prefix = f"napi/{ifname}-"[:COMM_LENGTH]
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip().startswith(prefix):
                    found.append(int(pid))
        except OSError:
            continue
    return found


class Placement:
    def __init__(self, cpu, ifnames):
        self.cpu, self.ifnames = cpu, ifnames
        self.undo = []
        self.pinned_threads = []

    def apply(self):
        check_cpu(self.cpu)
        os.sched_setaffinity(0, {self.cpu})
        mask = format(1 << self.cpu, "x")
        try:
            for ifname in self.ifnames:
                base = f"/sys/class/net/{ifname}"
                for queue in sorted(os.listdir(f"{base}/queues")):
                    if queue.startswith("rx-"):
                        path = f"{base}/queues/{queue}/rps_cpus"
                        self.undo.append((path, _write(path, mask)))
        except OSError as e:
            self.restore()
            raise RunError(f"--cpu {self.cpu}: cannot steer receive work: {e}") from None
        return self

    def pin_napi_threads(self):
        """After XDP is attached: a veth has NAPI only then.  Returns the pinned threads'
        PIDs and the interfaces where threaded NAPI could not be turned on."""
        missing = []
        for ifname in self.ifnames:
            path = f"/sys/class/net/{ifname}/threaded"
            try:
                self.undo.append((path, _write(path, "1")))
            except OSError:
                missing.append(ifname)
                continue
            for pid in napi_threads(ifname):
                try:
                    os.sched_setaffinity(pid, {self.cpu})
                    # the receive work must preempt the NAT's own loop on this core, or the
                    # veth's 256-frame receive ring overflows while the loop runs
                    os.sched_setscheduler(pid, os.SCHED_FIFO, os.sched_param(1))
                    self.pinned_threads.append(pid)
                except OSError:
                    pass
        return self.pinned_threads, missing

    def restore(self):
        for pid in self.pinned_threads:
            try:
                os.sched_setscheduler(pid, os.SCHED_OTHER, os.sched_param(0))
                os.sched_setaffinity(pid, range(os.cpu_count()))
            except OSError:
                pass
        self.pinned_threads.clear()
        for path, old in reversed(self.undo):
            try:
                with open(path, "w") as f:
                    f.write(old)
            except OSError:
                pass
        self.undo.clear()
