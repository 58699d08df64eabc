"""``--chart``: a PNG of the figures (matplotlib, optional: the ``bench`` extra)."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import Json, say
from benchmarks.targets import Target

_RUNS = ("echo_closed", "gateway_closed", "echo_open", "gateway_open")


def _chart_mqtt(axes: Any, mqtt: Json) -> None:
    runs = [(mix, setting, run) for mix, by in mqtt.items() for setting, run in by.items()]
    labels = [f"{mix}\n{setting}" for mix, setting, _ in runs]
    width = 0.2
    for i, key in enumerate(_RUNS):
        xs = [x + (i - 1.5) * width for x in range(len(runs))]
        axes[0].bar(xs, [run[key]["rate"] for *_, run in runs], width, label=key)
        axes[1].bar(xs, [run[key]["p99_ms"] for *_, run in runs], width, label=key)
    for axis, title in zip(axes, ("round trips per second", "p99 latency, ms"), strict=True):
        axis.set_xticks(range(len(runs)), labels)
        axis.set_title(title)
        axis.legend(fontsize="small")


def _chart_renewals(axis: Any, rows: Sequence[Json]) -> None:
    ks = [r["k"] for r in rows]
    for key in ("commit_rate", "sqlite_rate", "drain_rate", "bare_rate"):
        axis.plot(ks, [r[key] for r in rows], marker="o", label=key)
    axis.set_xscale("log")
    axis.set_xlabel("K renewals due at one instant")
    axis.set_title("renewals per second")
    axis.legend(fontsize="small")


def _chart_targets(axis: Any, found: Sequence[Target]) -> None:
    measured = [t for t in found if t.headroom is not None]
    axis.barh(
        [t.name.replace(" / ", " /\n", 1) for t in measured],
        [t.headroom for t in measured],
        color=["tab:green" if t.met else "tab:red" for t in measured],
    )
    axis.axvline(1, color="black", linewidth=1)
    axis.set_title("targets: measured vs bar (>= 1 is met)")


def write_chart(results: Json, found: Sequence[Target], path: Path) -> None:
    try:
        matplotlib = importlib.import_module("matplotlib")
    except ImportError:
        say(
            f"--chart: matplotlib is not installed, so no chart was written to {path}"
            " (.venv/bin/pip install -e .[bench])"
        )
        return
    matplotlib.use("Agg")
    plt = importlib.import_module("matplotlib.pyplot")
    fig, axes = plt.subplots(2, 2, figsize=(16, 10))
    if results.get("mqtt"):
        _chart_mqtt(axes[0], results["mqtt"])
    if results.get("renewals"):
        _chart_renewals(axes[1][0], results["renewals"])
    _chart_targets(axes[1][1], found)
    fig.suptitle(f"shortcode-gateway benchmark, {results['meta']['date']}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    say(f"bench: chart written to {path}")
