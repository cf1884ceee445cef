"""Capture files: what scapy writes, we read; what we write, scapy reads."""

import struct

import numpy as np
import pytest
from scapy.all import Ether, IP, UDP, PcapNgWriter, rdpcap, raw

from vernat.io.pcap import PcapError, read_capture, write_pcap
from vernat.nat.engine import frames_to_batch

FRAMES = [raw(Ether() / IP(dst="198.51.100.1") / UDP(sport=n, dport=53) / (b"x" * n))
          for n in range(1, 6)]
TIMES = [1_700_000_000_123_456_000 + n * 1_000 for n in range(5)]   # whole microseconds


def scapy_packets():
    pkts = []
    for frame, t in zip(FRAMES, TIMES):
        p = Ether(frame)
        p.time = t / 1e9
        pkts.append(p)
    return pkts


@pytest.mark.parametrize("nano", [False, True])
@pytest.mark.parametrize("endian", ["<", ">"])
def test_classic_pcap_is_read(tmp_path, nano, endian):
    path = tmp_path / "a.pcap"
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    data = struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, 65535, 1)
    for frame, t in zip(FRAMES, TIMES):
        frac = t % 10**9 if nano else (t % 10**9) // 1000
        data += struct.pack(endian + "IIII", t // 10**9, frac, len(frame), len(frame)) + frame
    path.write_bytes(data)
    cap = read_capture(str(path))
    assert [cap.frame(k) for k in range(len(cap))] == FRAMES
    assert list(cap.times) == TIMES


def test_pcapng_is_read(tmp_path):
    path = tmp_path / "a.pcapng"
    with PcapNgWriter(str(path)) as w:
        for p in scapy_packets():
            w.write(p)
    cap = read_capture(str(path))
    assert [cap.frame(k) for k in range(len(cap))] == FRAMES
    assert np.all(np.abs(cap.times - np.array(TIMES)) < 1000)


def test_written_pcap_roundtrips_through_scapy(tmp_path):
    path = tmp_path / "out.pcap"
    buf, offs, lens, _, _ = frames_to_batch(FRAMES)
    times = [t + 789 for t in TIMES]                       # nanoseconds survive
    write_pcap(str(path), buf, offs, lens, times)
    assert [raw(p) for p in rdpcap(str(path))] == FRAMES
    cap = read_capture(str(path))
    assert list(cap.times) == times


def test_empty_capture(tmp_path):
    path = tmp_path / "empty.pcap"
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    assert len(read_capture(str(path))) == 0


@pytest.mark.parametrize("content, message", [
    (b"", "too short"),
    (b"hello world, not a capture", "not a pcap"),
    (struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101), "not Ethernet"),
    (struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1) + b"\x01\x02", "truncated"),
    (struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1) +
     struct.pack("<IIII", 0, 0, 100, 100) + b"short", "truncated"),
    (struct.pack("<IIIHHq", 0x0A0D0D0A, 30, 0x1A2B3C4D, 1, 0, -1) + b"\x00" * 4, "block length"),
])
def test_bad_files_raise_one_line_errors(tmp_path, content, message):
    path = tmp_path / "bad.pcap"
    path.write_bytes(content)
    with pytest.raises(PcapError) as e:
        read_capture(str(path))
    assert message in str(e.value) and "\n" not in str(e.value)


def test_missing_file(tmp_path):
    with pytest.raises(PcapError, match="No such file"):
        read_capture(str(tmp_path / "nope.pcap"))
