"""`vernat replay` and the command line, end to end."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from scapy.all import IP, UDP, rdpcap

from vernat.cli import main
from vernat.io.pcap import write_pcap
from vernat.nat.engine import frames_to_batch
from tests.helpers import EXT, in_udp, out_udp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE = ["--external-ip", EXT, "--port-range", "40000-40009", "--udp-timeout", "30"]


def write(path, frames, times):
    buf, offs, lens, _, _ = frames_to_batch(frames)
    write_pcap(str(path), buf, offs, lens, times)
    return str(path)


def replay(tmp_path, inside, outside, *extra):
    args = ["replay", *BASE, "--to-inside", str(tmp_path / "ti.pcap"),
            "--to-outside", str(tmp_path / "to.pcap"), "--stats-json", str(tmp_path / "s.json")]
    if inside is not None:
        args += ["--inside", inside]
    if outside is not None:
        args += ["--outside", outside]
    code = main(args + list(extra))
    return code


def test_replay_translates_both_ways_and_keeps_time_stamps(tmp_path):
    inside = write(tmp_path / "in.pcap", [out_udp(sport=5000)], [1_000])
    outside = write(tmp_path / "out.pcap", [in_udp(dport=40000)], [2_000])
    assert replay(tmp_path, inside, outside) == 0
    to_out = rdpcap(str(tmp_path / "to.pcap"))
    to_in = rdpcap(str(tmp_path / "ti.pcap"))
    assert to_out[0][IP].src == EXT and to_out[0][UDP].sport == 40000
    assert to_in[0][IP].dst == "10.0.0.2" and to_in[0][UDP].dport == 5000
    from vernat.io.pcap import read_capture
    assert list(read_capture(str(tmp_path / "to.pcap")).times) == [1_000]
    assert list(read_capture(str(tmp_path / "ti.pcap")).times) == [2_000]
    stats = json.loads((tmp_path / "s.json").read_text())
    assert stats["verdicts"] == {"drop": 0, "to_inside": 1, "to_outside": 1}
    assert stats["active_flows"] == {"tcp": 0, "udp": 1}


def test_ties_go_inside_first(tmp_path):
    """A reply with the same time stamp as the frame that opens its flow is
    processed after it (inside first), so it is translated."""
    inside = write(tmp_path / "in.pcap", [out_udp()], [5_000])
    outside = write(tmp_path / "out.pcap", [in_udp()], [5_000])
    replay(tmp_path, inside, outside)
    stats = json.loads((tmp_path / "s.json").read_text())
    assert stats["verdicts"]["to_inside"] == 1


def test_frames_are_merged_by_time_then_file_order(tmp_path):
    # the reply (t=2) comes before the request (t=3): no flow yet, dropped;
    # within the inside file, equal times keep file order (ports 40000, 40001)
    inside = write(tmp_path / "in.pcap", [out_udp(sport=1), out_udp(sport=2)], [3, 3])
    outside = write(tmp_path / "out.pcap", [in_udp(dport=40000)], [2])
    replay(tmp_path, inside, outside)
    stats = json.loads((tmp_path / "s.json").read_text())
    assert stats["drops"]["no_flow"] == 1
    ports = [p[UDP].sport for p in rdpcap(str(tmp_path / "to.pcap"))]
    srcs = [p[UDP].dport for p in rdpcap(str(tmp_path / "to.pcap"))]
    assert ports == [40000, 40001] and srcs == [53, 53]


def test_replay_is_deterministic(tmp_path):
    rng = np.random.default_rng(1)
    frames = [out_udp(sport=int(p)) for p in rng.integers(1, 9, size=50)]
    replies = [in_udp(dport=int(p)) for p in rng.integers(40000, 40010, size=50)]
    inside = write(tmp_path / "in.pcap", frames, sorted(rng.integers(0, 10**11, size=50)))
    outside = write(tmp_path / "out.pcap", replies, sorted(rng.integers(0, 10**11, size=50)))
    outputs = []
    for run in range(2):
        d = tmp_path / f"run{run}"
        d.mkdir()
        assert replay(d, inside, outside) == 0
        outputs.append([(d / n).read_bytes() for n in ("ti.pcap", "to.pcap", "s.json")])
    assert outputs[0] == outputs[1]


def test_either_input_may_be_omitted(tmp_path):
    inside = write(tmp_path / "in.pcap", [out_udp()], [1])
    assert replay(tmp_path, inside, None) == 0
    outside = write(tmp_path / "out.pcap", [in_udp()], [1])
    assert replay(tmp_path, None, outside) == 0
    assert json.loads((tmp_path / "s.json").read_text())["drops"]["no_flow"] == 1


def test_config_file_and_flags(tmp_path):
    conf = tmp_path / "nat.toml"
    conf.write_text('external-ip = "192.0.2.1"\nport-range = "5000-5001"\n')
    inside = write(tmp_path / "in.pcap", [out_udp()], [1])
    assert main(["replay", "--config", str(conf), "--inside", inside,
                 "--to-outside", str(tmp_path / "o.pcap")]) == 0
    p = rdpcap(str(tmp_path / "o.pcap"))[0]
    assert p[IP].src == "192.0.2.1" and p[UDP].sport == 5000
    # a flag overrides the file
    assert main(["replay", "--config", str(conf), "--external-ip", "192.0.2.9",
                 "--inside", inside, "--to-outside", str(tmp_path / "o.pcap")]) == 0
    assert rdpcap(str(tmp_path / "o.pcap"))[0][IP].src == "192.0.2.9"


@pytest.mark.parametrize("args, message", [
    (["replay", "--external-ip", EXT], "needs --inside"),
    (["replay", "--inside", "x.pcap"], "external-ip is required"),
    (["replay", "--external-ip", "300.1.1.1", "--inside", "x"], "not an IPv4 address"),
    (["replay", "--external-ip", EXT, "--port-range", "0-10", "--inside", "x"], "1 <= S <= E"),
    (["replay", "--external-ip", EXT, "--port-range", "9-8", "--inside", "x"], "1 <= S <= E"),
    (["replay", "--external-ip", EXT, "--port-range", "1-65536", "--inside", "x"], "1 <= S <= E"),
    (["replay", "--external-ip", EXT, "--port-range", "abc", "--inside", "x"], "not S-E"),
    (["replay", "--external-ip", EXT, "--udp-timeout", "0", "--inside", "x"], "must be > 0"),
    (["replay", "--external-ip", EXT, "--tcp-timeout", "soon", "--inside", "x"], "not a number"),
    (["replay", "--external-ip", EXT, "--gateway-mac", "zz", "--inside", "x"], "not a MAC"),
    (["replay", "--external-ip", EXT, "--inside", "/nonexistent.pcap"], "No such file"),
    (["replay", "--bogus"], "unrecognized arguments"),
    (["replay", "--config", "/nonexistent.toml", "--inside", "x"], "config /nonexistent.toml"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, args, message):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_bad_config_keys(tmp_path, capsys):
    conf = tmp_path / "nat.toml"
    conf.write_text('external-ip = "192.0.2.1"\nport_rnage = "1-2"\n')
    assert main(["replay", "--config", str(conf), "--inside", "x"]) == 2
    assert "unknown key 'port_rnage'" in capsys.readouterr().err
    conf.write_text('external-ip = [1, 2\n')
    assert main(["replay", "--config", str(conf), "--inside", "x"]) == 2
    assert "not valid TOML" in capsys.readouterr().err


def test_a_bad_input_file_writes_no_output(tmp_path, capsys):
    good = write(tmp_path / "in.pcap", [out_udp()], [1])
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"garbage garbage garbage")
    (tmp_path / "to.pcap").write_bytes(b"previous result")
    assert replay(tmp_path, good, str(bad)) == 2
    assert (tmp_path / "to.pcap").read_bytes() == b"previous result"
    assert "bad.pcap" in capsys.readouterr().err


def test_the_installed_command_prints_no_traceback(tmp_path):
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"\x00" * 40)
    vernat = os.path.join(os.path.dirname(sys.executable), "vernat")
    result = subprocess.run([vernat, "replay", "--external-ip", EXT, "--inside", str(bad)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("vernat: error:") and "Traceback" not in result.stderr


def test_the_bundled_example_replays_as_documented(tmp_path):
    ex = os.path.join(ROOT, "examples")
    assert main(["replay", "--config", os.path.join(ex, "nat.toml"),
                 "--inside", os.path.join(ex, "inside.pcap"),
                 "--outside", os.path.join(ex, "outside.pcap"),
                 "--stats-json", str(tmp_path / "s.json")]) == 0
    stats = json.loads((tmp_path / "s.json").read_text())
    assert stats["verdicts"] == {"drop": 11, "to_inside": 3, "to_outside": 6}
    assert all(v == 1 for k, v in stats["drops"].items() if k not in ("no_flow", "table_full", "bad_descriptor", "bad_ip_header"))
    assert stats["drops"]["no_flow"] == 2
