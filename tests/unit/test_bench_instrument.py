"""The benchmark's own logic: the MOs it plans, what it expects them to write, its verdicts.

The benchmark is run end to end by tests/e2e/test_bench_smoke.py; these pin the parts
whose mistakes would silently change what is measured.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from benchmarks.mqtt import _writes_expected
from benchmarks.paho_workers import plan
from benchmarks.targets import Target, targets


def _texts(senders: int, offset: int, count: int) -> list[tuple[str, str]]:
    spec = {
        "mix": "writes",
        "senders": senders,
        "stride": 1,
        "offset": offset,
        "tag": "t",
        "warmup": 0,
        "count": count,
    }
    return [(json.loads(body)["from"], json.loads(body)["text"]) for _, body in plan(spec)]


def test_each_writes_subscriber_alternates_dk_and_huy_across_runs() -> None:
    # 2 subscribers: MOs 0, 1 are each one's first (DK), 2, 3 their second (HUY), ...
    a, b = "84900000000", "84900000001"
    assert _texts(2, 0, 6) == [
        (a, "DK ZL1"), (b, "DK ZL1"), (a, "HUY ZL1"), (b, "HUY ZL1"),
        (a, "DK ZL1"), (b, "DK ZL1"),
    ]  # fmt: skip
    # a run that carries on at MO 6 goes on with each subscriber's HUY
    assert _texts(2, 6, 2) == [(a, "HUY ZL1"), (b, "HUY ZL1")]


def test_writes_expected_counts_the_dks_and_huys_sent() -> None:
    # 1,000 MOs from 400: MOs 0-399 DK, 400-799 HUY, 800-999 DK
    assert _writes_expected(400, 1000) == (600, 400)
    assert _writes_expected(400, 400) == (400, 0)


def test_a_target_is_met_not_met_or_only_at_its_floor() -> None:
    def verdict(value: float | None, note: str = "") -> str:
        return Target("t", 0.8, True, "x", value, note=note, floor=0.7).verdict

    assert verdict(0.85) == "met"
    assert verdict(0.75) == "floor only"
    assert verdict(0.65) == "NOT MET"
    assert verdict(None) == "not run"
    assert verdict(0.85, note="at 1,000") == "met*"
    at_most = Target("rss", 400, False, "MB", 401.0)
    assert (at_most.verdict, at_most.bar) == ("NOT MET", "<= 400 MB")


def test_renewal_targets_judge_100k_and_1m_or_the_largest_k_below() -> None:
    rows = [
        {"k": 10_000, "sqlite_ratio": 0.4, "peak_rss_mb": 80.0, "ratio": 1.0},
        {"k": 100_000, "sqlite_ratio": 0.45, "peak_rss_mb": 150.0, "ratio": 0.95},
    ]
    found = {t.name: t for t in targets({"renewals": rows})}
    at_100k = found["renewals commit rate / bare SQLite writer, 100k"]
    at_1m = found["renewals commit rate / bare SQLite writer, 1M"]
    assert (at_100k.value, at_100k.note) == (0.45, "")
    assert (at_1m.value, at_1m.note, at_1m.verdict) == (0.45, "at 100,000", "NOT MET*")
    assert found["peak RSS during 1M renewals"].verdict == "met*"
    assert found["gateway / paho echo throughput, writes"].verdict == "not run"
