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
    "gateway / paho echo throughput, writes",
    "gateway / paho echo throughput, mixed",
    "gateway CPU per MO / echo CPU per message, writes",
    "gateway CPU per MO / echo CPU per message, mixed",
    "gateway p99 / echo p99, half the gateway's max, writes",
    "gateway p99 / echo p99, half the gateway's max, mixed",
    "renewals commit rate / bare SQLite writer, 100k",
    "renewals commit rate / bare SQLite writer, 1M",
    "peak RSS during 1M renewals",
    "renewal notifications drain / bare publisher",
    "throughput 1M subscribers / 1k subscribers",
    "start-up to healthy with 1M subscribers",
]

LOOP_FIGURES = ["count", "rate", "p50_ms", "p95_ms", "p99_ms", "max_ms"]
CPU_FIGURES = ["cpu_us_per_mo", "load_cpu_us_per_mo"]
RENEWAL_FIGURES = ["k", "commit_s", "publish_s", "drain_rate", "bare_rate", "ratio", "peak_rss_mb"]


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
    assert sorted(mqtt) == ["mixed", "writes"], mqtt.keys()
    for mix, by_setting in mqtt.items():
        assert sorted(by_setting) == ["no_nodelay", "nodelay"], (mix, by_setting.keys())
        for loop in by_setting.values():
            for name in ("echo_closed", "gateway_closed", "echo_open", "gateway_open"):
                _positive(loop[name], LOOP_FIGURES + CPU_FIGURES)
            _positive(loop, ["throughput_ratio", "cpu_ratio", "p99_ratio", "open_rate"])
    for loop in mqtt["writes"].values():
        assert (loop["senders"], loop["texts"]) == (400, ["DK ZL1", "HUY ZL1"]), loop
        # every MO of the writes mix charged (a DK) or ended a subscription (a HUY)
        assert loop["charges"] + loop["subscriptions_ended"] == loop["mos_recorded"] > 0, loop
    for size in ("small", "big"):
        _positive(results["scale"][size], ["subscribers", *LOOP_FIGURES])
    _positive(results["scale"], ["ratio"])
    _positive(results["startup"], ["subscribers", "median_s", "max_s"])
    assert results["renewals"], results
    for row in results["renewals"]:
        _positive(
            row,
            [*RENEWAL_FIGURES, "sqlite_rate", "sqlite_ratio", "sqlite_rss_mb"],
        )
        # the bare writer wrote what the gateway wrote: k renewal charges, k outbox rows,
        # k subscriptions moved to their next period
        assert row["sqlite_rows"] == row["gateway_rows"] == [row["k"]] * 3, row
    instances = results["instances"]
    for run_name in ("sqlite-1", "postgres-1", "postgres-2", "postgres-3"):
        _positive(instances[run_name], ["instances", *LOOP_FIGURES, "gateways_cpu_us_per_mo"])
    _positive(instances, ["speedup_2", "speedup_3", "postgres_vs_sqlite"])
    assert "instances (mixed MOs, closed loop):" in run.stdout
    smpp = results["smpp"]
    for peer in ("echo", "gateway"):
        for loop in ("mo", "mt"):  # MO -> deliver_sm, submit_sm -> receipt
            _positive(smpp[peer][loop], LOOP_FIGURES)
            assert smpp[peer][loop]["count"] == smpp["count"] > 0, (peer, loop, smpp)
    _positive(smpp, ["mo_ratio", "mt_ratio"])
    assert "gateway / echo: MO -> deliver_sm" in run.stdout
    _positive(results["meta"], ["cpus"])

    assert [t["name"] for t in results["targets"]] == TARGETS
    assert all(t["value"] is not None for t in results["targets"]), results["targets"]
    for name in TARGETS:
        assert name in run.stdout, (name, run.stdout)
    assert "met" in run.stdout
