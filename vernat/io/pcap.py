"""Reading and writing capture files: classic pcap (micro- or nanosecond,
either byte order) and pcapng in; classic nanosecond pcap out.

Frames come back as one contiguous uint8 buffer plus offset, length and
time (ns) arrays: the batch layout the NAT's entry point takes.
"""

import os
import struct
import tempfile

import numpy as np

LINKTYPE_ETHERNET = 1
PCAP_MAGIC_US = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D
PCAPNG_SHB = 0x0A0D0D0A
PCAPNG_BYTE_ORDER = 0x1A2B3C4D
PCAPNG_IDB, PCAPNG_SPB, PCAPNG_EPB, PCAPNG_OPB = 1, 3, 6, 2
MAX_FRAME = 262144
MAX_TIME_NS = 1 << 62     # keeps every time and time difference inside int64


class PcapError(Exception):
    """A capture file cannot be used; the message is one line for the user."""


class Capture:
    """Frames of one file: buf[offs[k]:offs[k]+lens[k]] captured at times[k] ns."""

    def __init__(self, buf, offs, lens, times):
        self.buf, self.offs, self.lens, self.times = buf, offs, lens, times

    def __len__(self):
        return len(self.offs)

    def frame(self, k):
        return bytes(self.buf[self.offs[k]:self.offs[k] + self.lens[k]])


def read_capture(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise PcapError(f"{path}: {e.strerror or e}") from None
    if len(data) < 4:
        raise PcapError(f"{path}: not a pcap or pcapng file (too short)")
    magic_le = struct.unpack_from("<I", data)[0]
    if magic_le == PCAPNG_SHB:
        spans = _pcapng_spans(path, data)
    elif magic_le in (PCAP_MAGIC_US, PCAP_MAGIC_NS) or \
            struct.unpack_from(">I", data)[0] in (PCAP_MAGIC_US, PCAP_MAGIC_NS):
        spans = _pcap_spans(path, data)
    else:
        raise PcapError(f"{path}: not a pcap or pcapng file (magic {data[:4].hex()})")
    raw = np.frombuffer(data, dtype=np.uint8)
    starts = np.array([s[0] for s in spans], dtype=np.int64)
    lens = np.array([s[1] for s in spans], dtype=np.int64)
    if any(s[2] > MAX_TIME_NS for s in spans):
        raise PcapError(f"{path}: a time stamp lies beyond the year 2116")
    times = np.array([s[2] for s in spans], dtype=np.int64)
    # one contiguous, writable buffer with just the frames
    offs = np.zeros(len(spans), dtype=np.int64)
    if len(spans):
        offs[1:] = np.cumsum(lens)[:-1]
    buf = np.empty(int(lens.sum()), dtype=np.uint8)
    for k in range(len(spans)):
        buf[offs[k]:offs[k] + lens[k]] = raw[starts[k]:starts[k] + lens[k]]
    return Capture(buf, offs, lens, times)


def _pcap_spans(path, data):
    if len(data) < 24:
        raise PcapError(f"{path}: truncated pcap header")
    endian = "<" if struct.unpack_from("<I", data)[0] in (PCAP_MAGIC_US, PCAP_MAGIC_NS) else ">"
    magic, _vmaj, _vmin, _tz, _sig, _snap, linktype = struct.unpack_from(endian + "IHHiIII", data)
    if linktype & 0xFFFF != LINKTYPE_ETHERNET:
        raise PcapError(f"{path}: link type {linktype & 0xFFFF} is not Ethernet (1)")
    scale = 1 if magic == PCAP_MAGIC_NS else 1000
    spans = []
    pos = 24
    rec = struct.Struct(endian + "IIII")
    while pos < len(data):
        if pos + 16 > len(data):
            raise PcapError(f"{path}: truncated record header at byte {pos}")
        sec, frac, caplen, _origlen = rec.unpack_from(data, pos)
        pos += 16
        if caplen > MAX_FRAME or pos + caplen > len(data):
            raise PcapError(f"{path}: truncated or oversized record at byte {pos - 16}")
        spans.append((pos, caplen, sec * 1_000_000_000 + frac * scale))
        pos += caplen
    return spans


def _pcapng_spans(path, data):
    spans = []
    pos = 0
    endian = "<"
    ifaces = []          # per interface: (linktype, ns per tick numerator, denominator)
    while pos < len(data):
        if pos + 12 > len(data):
            raise PcapError(f"{path}: truncated pcapng block at byte {pos}")
        btype = struct.unpack_from(endian + "I", data, pos)[0]
        if btype == PCAPNG_SHB:
            bom = data[pos + 8:pos + 12]
            if bom == struct.pack("<I", PCAPNG_BYTE_ORDER):
                endian = "<"
            elif bom == struct.pack(">I", PCAPNG_BYTE_ORDER):
                endian = ">"
            else:
                raise PcapError(f"{path}: bad pcapng byte-order magic at byte {pos}")
            ifaces = []
        blen = struct.unpack_from(endian + "I", data, pos + 4)[0]
        if blen < 12 or blen % 4 or pos + blen > len(data):
            raise PcapError(f"{path}: bad pcapng block length {blen} at byte {pos}")
        body = data[pos + 8:pos + blen - 4]
        if btype == PCAPNG_IDB:
            if len(body) < 8:
                raise PcapError(f"{path}: truncated interface block at byte {pos}")
            linktype = struct.unpack_from(endian + "H", body)[0]
            ifaces.append((linktype, _pcapng_tsresol(path, body[8:], endian)))
        elif btype in (PCAPNG_EPB, PCAPNG_OPB):
            if len(body) < 20:
                raise PcapError(f"{path}: truncated packet block at byte {pos}")
            if btype == PCAPNG_EPB:
                iface, hi, lo, caplen, _orig = struct.unpack_from(endian + "IIIII", body)
            else:
                iface, _drops, hi, lo, caplen, _orig = struct.unpack_from(endian + "HHIIII", body)
            if iface >= len(ifaces):
                raise PcapError(f"{path}: packet at byte {pos} names unknown interface {iface}")
            linktype, (num, den) = ifaces[iface]
            if linktype != LINKTYPE_ETHERNET:
                raise PcapError(f"{path}: link type {linktype} is not Ethernet (1)")
            if 20 + caplen > len(body):
                raise PcapError(f"{path}: packet block at byte {pos} is shorter than its frame")
            ticks = (hi << 32) | lo
            spans.append((pos + 8 + 20, caplen, ticks * num // den))
        elif btype == PCAPNG_SPB:
            if not ifaces or ifaces[0][0] != LINKTYPE_ETHERNET:
                raise PcapError(f"{path}: simple packet block without an Ethernet interface")
            orig = struct.unpack_from(endian + "I", body)[0]
            caplen = min(orig, len(body) - 4)
            spans.append((pos + 12, caplen, 0))   # SPBs carry no time stamp
        pos += blen
    return spans


def _pcapng_tsresol(path, options, endian):
    """if_tsresol -> (numerator, denominator) turning ticks into ns."""
    pos = 0
    while pos + 4 <= len(options):
        code, length = struct.unpack_from(endian + "HH", options, pos)
        if code == 0:
            break
        if code == 9 and length >= 1:
            value = options[pos + 4]
            exp = value & 0x7F
            if value & 0x80:
                if exp > 40:
                    raise PcapError(f"{path}: unsupported if_tsresol 2^-{exp}")
                return 1_000_000_000, 1 << exp
            if exp > 18:
                raise PcapError(f"{path}: unsupported if_tsresol 10^-{exp}")
            if exp >= 9:
                return 1, 10 ** (exp - 9)
            return 10 ** (9 - exp), 1
        pos += 4 + ((length + 3) & ~3)
    return 1000, 1           # default: microseconds


def write_pcap(path, buf, offs, lens, times):
    """Write frames as a classic nanosecond pcap, atomically (temp + rename),
    so a failed run never leaves a half-written file in place of a good one."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".vernat-", suffix=".pcap", dir=directory)
    except OSError as e:
        raise PcapError(f"{path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<IHHiIII", PCAP_MAGIC_NS, 2, 4, 0, 0, MAX_FRAME,
                                LINKTYPE_ETHERNET))
            rec = struct.Struct("<IIII")
            data = buf.tobytes() if hasattr(buf, "tobytes") else bytes(buf)
            chunks = []
            for k in range(len(offs)):
                t = int(times[k])
                n = int(lens[k])
                start = int(offs[k])
                chunks.append(rec.pack(t // 1_000_000_000, t % 1_000_000_000, n, n))
                chunks.append(data[start:start + n])
                if len(chunks) >= 8192:
                    f.write(b"".join(chunks))
                    chunks = []
            f.write(b"".join(chunks))
        os.replace(tmp, path)
    except OSError as e:
        os.unlink(tmp)
        raise PcapError(f"{path}: {e.strerror or e}") from None
