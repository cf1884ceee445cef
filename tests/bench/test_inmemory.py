"""The in-memory benchmark runs and reports what the README quotes. No
timing is asserted here: speed is measured by `vernat bench`, not by tests."""

import json

from vernat.bench import inmemory
from vernat.cli import main


def test_bench_reports_every_key(tmp_path):
    results = inmemory.run(packets=5_000, flow_counts=(1, 100), repeats=1)
    for key in ("flows", "dict_flows", "random_flows", "dict_random_flows", "plain_flows",
                "plain_random_flows"):
        assert set(results[key]) == {"1", "100"}
        assert all(v > 0 for v in results[key].values())
    assert results["noop_ns"] > 0 and results["dict_ns"] > 0


def test_bench_cli_writes_json(tmp_path, capsys):
    out = tmp_path / "b.json"
    assert main(["bench", "--in-memory", "--packets", "2000", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert set(data["flows"]) == {"1", "1000", "60000"}
    assert "noop_ns" in data and "dict_ns" in data


def test_bench_frames_are_real_translations():
    """Every benchmark frame must be forwarded, or the figure would time drops."""
    import numpy as np
    from vernat import build
    from vernat.state.tables import new_table
    k = build.load(True)
    cfg = inmemory.bench_config().to_array()
    tables = (new_table(k, 65535), new_table(k, 65535))
    ns = inmemory.run_one(k.process_batch, tables, cfg, inmemory.flow_frames(50), 3_000,
                          np.random.default_rng(0), 1)
    assert ns > 0
    assert k.flow_count(tables[1]) == 50


def test_in_memory_needs_enough_packets(capsys):
    # (without --in-memory, `vernat bench` is the live benchmark: tests/bench/test_live_bench.py)
    assert main(["bench", "--in-memory", "--packets", "999"]) == 2
    assert capsys.readouterr().err == "vernat: error: --packets must be at least 1000\n"
