"""`scripts/bench.py --quick`: the benchmark runs end to end and reports every figure.

It checks that the benchmark works, not how fast anything is: no timed assertions.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[2] / "scripts" / "bench.py"

TARGETS = [
    "gateway / echo round-trip throughput",
    "p99 MO->MT latency at 50% of max load",
    "1M simultaneous renewals committed",
    "renewal notifications drain / bare publish",
    "peak RSS during 1M renewals",
    "throughput 1M subscribers / 1k subscribers",
    "start-up to healthy with 1M subscribers",
]

LOOP_FIGURES = ["count", "rate", "p50_ms", "p95_ms", "p99_ms", "max_ms"]


def _positive(section: dict[str, Any], keys: list[str]) -> None:
    for key in keys:
        assert section[key] > 0, (key, section)


def test_quick_bench_reports_every_section(tmp_path: Path) -> None:
    out = tmp_path / "b.json"
    run = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr[-4000:]
    results = json.loads(out.read_text())

    mqtt = results["mqtt"]
    for run_name in ("echo_closed", "gateway_closed", "echo_open", "gateway_open"):
        _positive(mqtt[run_name], LOOP_FIGURES)
    _positive(mqtt, ["ratio", "open_rate", "mos_recorded"])
    for size in ("small", "big"):
        _positive(results["scale"][size], ["subscribers", *LOOP_FIGURES])
    _positive(results["scale"], ["ratio"])
    _positive(results["startup"], ["subscribers", "median_s", "max_s"])
    assert results["renewals"], results
    for row in results["renewals"]:
        _positive(
            row,
            ["k", "commit_s", "publish_s", "drain_rate", "bare_rate", "ratio", "peak_rss_mb"],
        )
    _positive(results["meta"], ["cpus"])

    assert [t["name"] for t in results["targets"]] == TARGETS
    assert all(t["value"] is not None for t in results["targets"]), results["targets"]
    for name in TARGETS:
        assert name in run.stdout, (name, run.stdout)
    assert "met" in run.stdout
