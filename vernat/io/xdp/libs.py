"""ctypes bindings for the few libbpf and libxdp functions vernat uses.

libbpf (Debian's libbpf1) loads the XDP program and attaches it; libxdp (libxdp1)
creates the UMEM and the AF_XDP sockets (its xsk API is the maintained successor of
libbpf's).  ctypes rather than a compiled extension: nothing to build at install
time, and the few calls are all at start-up or shutdown, never per packet.
"""

import ctypes
import ctypes.util
import os

XDP_FLAGS_SKB_MODE = 1 << 1
XDP_FLAGS_DRV_MODE = 1 << 2

XDP_COPY = 1 << 1
XDP_USE_NEED_WAKEUP = 1 << 3
XDP_RING_NEED_WAKEUP = 1 << 0
XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD = 1 << 0

SOL_XDP = 283
XDP_STATISTICS = 7
XDP_MAX_TX_SKB_BUDGET = 9          # Linux >= 6.17; older kernels refuse it (harmless)


class XdpLibraryError(RuntimeError):
    """libbpf or libxdp is missing; the message is one line."""


BPF_XDP = 37                        # enum bpf_attach_type


class BpfLinkCreateOpts(ctypes.Structure):
    """struct bpf_link_create_opts of <bpf/bpf.h> (libbpf 1.1: 64 bytes, flags at 8)."""
    _fields_ = [("sz", ctypes.c_size_t), ("flags", ctypes.c_uint32),
                ("_rest", ctypes.c_char * 52)]


class XskRing(ctypes.Structure):
    """struct xsk_ring_prod / xsk_ring_cons of <xdp/xsk.h> (the same layout)."""
    _fields_ = [("cached_prod", ctypes.c_uint32), ("cached_cons", ctypes.c_uint32),
                ("mask", ctypes.c_uint32), ("size", ctypes.c_uint32),
                ("producer", ctypes.c_void_p), ("consumer", ctypes.c_void_p),
                ("ring", ctypes.c_void_p), ("flags", ctypes.c_void_p)]


class XskUmemConfig(ctypes.Structure):
    _fields_ = [("fill_size", ctypes.c_uint32), ("comp_size", ctypes.c_uint32),
                ("frame_size", ctypes.c_uint32), ("frame_headroom", ctypes.c_uint32),
                ("flags", ctypes.c_uint32)]


class XskSocketConfig(ctypes.Structure):
    _fields_ = [("rx_size", ctypes.c_uint32), ("tx_size", ctypes.c_uint32),
                ("libxdp_flags", ctypes.c_uint32), ("xdp_flags", ctypes.c_uint32),
                ("bind_flags", ctypes.c_uint16)]


class XdpStatistics(ctypes.Structure):
    """struct xdp_statistics (getsockopt XDP_STATISTICS), first three fields (Linux >= 4.18)
    and the three ring counters added in 5.9."""
    _fields_ = [("rx_dropped", ctypes.c_uint64), ("rx_invalid_descs", ctypes.c_uint64),
                ("tx_invalid_descs", ctypes.c_uint64), ("rx_ring_full", ctypes.c_uint64),
                ("rx_fill_ring_empty_descs", ctypes.c_uint64),
                ("tx_ring_empty_descs", ctypes.c_uint64)]


def _open(names):
    for name in names:
        try:
            return ctypes.CDLL(name, use_errno=True)
        except OSError:
            continue
    raise XdpLibraryError(f"cannot load {names[0]} (install Debian's "
                          f"{'libbpf1' if 'bpf' in names[0] else 'libxdp1'}: bash scripts/setup.sh)")


_libs = {}


def libbpf():
    if "bpf" not in _libs:
        lib = _open(("libbpf.so.1", ctypes.util.find_library("bpf") or "libbpf.so"))
        vp, i, u32 = ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32
        for name, res, args in (
                ("bpf_object__open_file", vp, (ctypes.c_char_p, vp)),
                ("bpf_object__load", i, (vp,)),
                ("bpf_object__close", None, (vp,)),
                ("bpf_object__find_program_by_name", vp, (vp, ctypes.c_char_p)),
                ("bpf_object__find_map_fd_by_name", i, (vp, ctypes.c_char_p)),
                ("bpf_program__fd", i, (vp,)),
                ("bpf_link_create", i, (i, i, i, ctypes.POINTER(BpfLinkCreateOpts))),
                ("bpf_map_update_elem", i, (i, vp, vp, ctypes.c_uint64)),
                ("libbpf_set_print", vp, (vp,))):
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = res, list(args)
        lib.libbpf_set_print(None)        # errors come back as return codes; keep stderr quiet
        _libs["bpf"] = lib
    return _libs["bpf"]


def libxdp():
    if "xdp" not in _libs:
        lib = _open(("libxdp.so.1", ctypes.util.find_library("xdp") or "libxdp.so"))
        vp, i, ring = ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(XskRing)
        for name, res, args in (
                ("xsk_umem__create", i, (ctypes.POINTER(vp), vp, ctypes.c_uint64, ring, ring,
                                         ctypes.POINTER(XskUmemConfig))),
                ("xsk_socket__create_shared", i, (ctypes.POINTER(vp), ctypes.c_char_p,
                                                  ctypes.c_uint32, vp, ring, ring, ring, ring,
                                                  ctypes.POINTER(XskSocketConfig))),
                ("xsk_socket__fd", i, (vp,)),
                ("xsk_socket__delete", None, (vp,)),
                ("xsk_umem__delete", i, (vp,)),
                ("libxdp_set_print", vp, (vp,))):
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = res, list(args)
        lib.libxdp_set_print(None)
        _libs["xdp"] = lib
    return _libs["xdp"]


def strerror(rc):
    """libbpf/libxdp return -errno; some also set errno."""
    code = -rc if rc < 0 else ctypes.get_errno()
    return os.strerror(code) if code else f"error {rc}"
