"""The XDP program (redirect_ipv4.c): built with clang on first use, attached with libbpf
through a BPF link.

The object file is cached under ~/.cache/vernat/xdp/, keyed on a digest of the C
source and the clang version, so that an edited program is always rebuilt.
"""

import ctypes
import hashlib
import os
import subprocess

from vernat.io.xdp import libs

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "redirect_ipv4.c")
CACHE_DIR = os.path.join(os.path.expanduser("~"), ".cache", "vernat", "xdp")


class XdpError(RuntimeError):
    """XDP cannot be used here; the message is one line."""


def build_object():
    """Path of the compiled program, compiling it if needed."""
    try:
        version = subprocess.run(("clang", "--version"), capture_output=True,
                                 text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        raise XdpError("clang is missing (it builds the XDP program): bash scripts/setup.sh") \
            from None
    with open(SOURCE, "rb") as f:
        digest = hashlib.sha256(f.read() + version.encode()).hexdigest()[:16]
    target = os.path.join(CACHE_DIR, f"redirect_ipv4-{digest}.o")
    if os.path.exists(target):
        return target
    os.makedirs(CACHE_DIR, exist_ok=True)
    # <asm/types.h> lives under the multiarch directory on Debian
    multiarch = subprocess.run(("clang", "-print-multiarch"), capture_output=True,
                               text=True).stdout.strip() or "x86_64-linux-gnu"
    tmp = f"{target}.{os.getpid()}.tmp"
    proc = subprocess.run(("clang", "-O2", "-g", "-target", "bpf", "-Wall",
                           f"-I/usr/include/{multiarch}", "-c", SOURCE, "-o", tmp),
                          capture_output=True, text=True)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        raise XdpError(f"building the XDP program failed: {lines[0] if lines else 'clang error'}")
    os.replace(tmp, target)
    return target


class AttachedProgram:
    """One loaded copy of the program (with its own XSKMAP) attached to one interface."""

    def __init__(self, ifname, ifindex, mode):
        """mode: 'native', 'generic' or 'auto' (native, else generic)."""
        bpf = libs.libbpf()
        self.ifname, self.ifindex = ifname, ifindex
        self.obj = bpf.bpf_object__open_file(build_object().encode(), None)
        if not self.obj:
            raise XdpError(f"libbpf cannot open the XDP program: {libs.strerror(0)}")
        self.link_fd = None
        try:
            rc = bpf.bpf_object__load(self.obj)
            if rc:
                raise XdpError(f"the kernel refused the XDP program: {libs.strerror(rc)}")
            prog = bpf.bpf_object__find_program_by_name(self.obj, b"redirect_ipv4")
            self.prog_fd = bpf.bpf_program__fd(prog)
            self.map_fd = bpf.bpf_object__find_map_fd_by_name(self.obj, b"xsks")
            modes = {"native": [("native", libs.XDP_FLAGS_DRV_MODE)],
                     "generic": [("generic", libs.XDP_FLAGS_SKB_MODE)]}.get(
                mode, [("native", libs.XDP_FLAGS_DRV_MODE), ("generic", libs.XDP_FLAGS_SKB_MODE)])
            errors = []
            for name, flag in modes:
                # A BPF link, not a netlink attach: the program is detached when the link's
                # descriptor closes, so even a NAT killed with SIGKILL leaves none behind;
                # and a link never replaces a program someone else attached (EBUSY).
                opts = libs.BpfLinkCreateOpts(sz=ctypes.sizeof(libs.BpfLinkCreateOpts),
                                              flags=flag)
                rc = bpf.bpf_link_create(self.prog_fd, ifindex, libs.BPF_XDP, ctypes.byref(opts))
                if rc >= 0:
                    self.mode, self.link_fd = name, rc
                    break
                if rc == -16:      # EBUSY: someone else's program is there; never replace it
                    raise XdpError(f"{ifname} already has an XDP program (xdp-loader status "
                                   f"{ifname}); vernat will not replace it")
                errors.append(f"{name}: {libs.strerror(rc)}")
            else:
                raise XdpError(f"cannot attach XDP to {ifname} ({'; '.join(errors)})")
        except BaseException:
            self.close()
            raise

    def add_socket(self, queue, xsk_fd):
        key, value = ctypes.c_uint32(queue), ctypes.c_uint32(xsk_fd)
        rc = libs.libbpf().bpf_map_update_elem(self.map_fd, ctypes.byref(key),
                                                ctypes.byref(value), 0)
        if rc:
            raise XdpError(f"cannot register the AF_XDP socket of {self.ifname}: "
                           f"{libs.strerror(rc)}")

    def close(self):
        """Detach (closing our link detaches our program, and only ours) and free."""
        if self.link_fd is not None:
            os.close(self.link_fd)
            self.link_fd = None
        if self.obj:
            libs.libbpf().bpf_object__close(self.obj)
            self.obj = None
