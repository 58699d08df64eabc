"""The printed report: one table per section, then the targets with their verdicts."""

from __future__ import annotations

from collections.abc import Sequence

from benchmarks.common import Json
from benchmarks.targets import Target

_RUNS = (
    ("echo_closed", "echo, closed"),
    ("gateway_closed", "gateway, closed"),
    ("echo_open", "echo, open"),
    ("gateway_open", "gateway, open"),
)


def _cell(cell: object) -> str:
    return f"{cell:,.1f}" if isinstance(cell, float) else str(cell)


def _row(cells: Sequence[object], widths: Sequence[int]) -> str:
    out = []
    for cell, width in zip(cells, widths, strict=True):
        text = _cell(cell)
        out.append(text.ljust(-width) if width < 0 else text.rjust(abs(width)))
    return "  ".join(out).rstrip()


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    cells: list[list[object]] = [list(header), *[list(r) for r in rows]]
    widths = [max(len(_cell(c)) for c in col) for col in zip(*cells, strict=True)]
    widths = [-widths[0], *widths[1:]]
    return [title, *("  " + _row(r, widths) for r in cells), ""]


def _mix_lines(mix: str, by_setting: Json) -> list[str]:
    rows: list[list[object]] = []
    notes = []
    for setting, run in by_setting.items():
        for key, label in _RUNS:
            r = run.get(key)
            if r:
                rows.append(
                    [f"{label}, {setting}", r["count"], r["rate"], r["p50_ms"], r["p95_ms"],
                     r["p99_ms"], r["max_ms"], r["cpu_us_per_mo"]]
                )  # fmt: skip
        notes.append(
            f"  {setting}: gateway / echo {run['throughput_ratio']:.2f};"
            f" CPU per MO {run['cpu_ratio']:.2f}x;"
            f" p99 at {run['open_rate']:,.0f}/s (half the gateway's max) {run['p99_ratio']:.2f}x"
        )
    first = next(iter(by_setting.values()))
    texts = " / ".join(first["texts"])
    lines = table(
        f"mqtt, {mix} mix ({texts} from {first['senders']:,} subscribers; QoS 1 round trips)",
        ["run, broker", "msgs", "rt/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "CPU us/MO"],
        rows,
    )
    return lines[:-1] + notes + [""]


def _renewal_lines(rows: Sequence[Json]) -> list[str]:
    lines = table(
        "renewals (postpaid ZL30, all due at one instant, one clock advance)",
        ["K", "load s", "commit s", "commit/s", "SQLite/s", "ratio", "publish s", "drain/s",
         "bare/s", "ratio", "RSS MB", "SQLite RSS"],
        [
            [f"{r['k']:,}", r["load_s"], r["commit_s"], r["commit_rate"], r["sqlite_rate"],
             f"{r['sqlite_ratio']:.2f}", r["publish_s"], r["drain_rate"], r["bare_rate"],
             f"{r['ratio']:.2f}", r["peak_rss_mb"], r["sqlite_rss_mb"]]
            for r in rows
        ],
    )  # fmt: skip
    lines.insert(
        -1,
        "  commit: the advance returned; SQLite/s: a bare sqlite3 writer of the same rows (one\n"
        "  executemany per table per chunk of 2,000, WAL, synchronous=FULL); publish: the last\n"
        "  notification arrived; drain/s: K / (last - first arrival); bare/s: a bare aiomqtt\n"
        "  publisher of K messages of the same size",
    )
    return lines


def _scale_lines(scale: Json) -> list[str]:
    rows = [
        [f"{r['subscribers']:,}", r["rate"], r["p50_ms"], r["p99_ms"], r["cpu_us_per_mo"]]
        for r in (scale["small"], scale["big"])
    ]
    lines = table(
        "scale (gateway closed loop, mixed MOs; subscribers already in the database)",
        ["subscribers", "rt/s", "p50 ms", "p99 ms", "CPU us/MO"],
        rows,
    )
    lines.insert(-1, f"  ratio big / small: {scale['ratio']:.2f}")
    return lines


def target_lines(found: Sequence[Target]) -> list[str]:
    rows = [[t.name, t.measured, t.without_nodelay, t.bar, t.verdict] for t in found]
    lines = table(
        "targets (issue 13; each side by side in this run)",
        ["target", "measured", "no nodelay", "bar", "met?"],
        rows,
    )
    lines.insert(
        -1,
        "  measured: broker with set_tcp_nodelay true; no nodelay: mosquitto's default (shown,"
        " not judged)",
    )
    if any(t.note and t.met is not None for t in found):
        lines.insert(-1, "  * at smaller sizes than the target names: indicative only")
    return lines


def report(results: Json, found: Sequence[Target]) -> str:
    meta = results["meta"]
    lines = [
        f"shortcode-gateway benchmark: {meta['date']}, {meta['host']}, {meta['cpus']} CPUs,"
        f" Python {meta['python']}, load average {meta['load_average_at_start']:.2f} at start",
        "",
    ]
    for mix, by_setting in results.get("mqtt", {}).items():
        if by_setting:
            lines += _mix_lines(mix, by_setting)
    if "scale" in results:
        lines += _scale_lines(results["scale"])
    if "startup" in results:
        s = results["startup"]
        runs = ", ".join(f"{t:.2f}" for t in s["runs_s"])
        lines += [f"startup ({s['subscribers']:,} subscribers): {runs} s to healthy", ""]
    if results.get("renewals"):
        lines += _renewal_lines(results["renewals"])
    if "smpp" in results:
        from benchmarks.smpp import smpp_lines

        lines += smpp_lines(results["smpp"])
    if results.get("instances"):
        lines += _instance_lines(results["instances"])
    return "\n".join(lines + target_lines(found))


def _instance_lines(out: Json) -> list[str]:
    lines = ["instances (mixed MOs, closed loop):"]
    for run in out.values():
        if isinstance(run, dict):
            lines.append(
                f"  {run['instances']} on {run['engine']:<8} {run['rate']:>8,.0f} MO/s"
                f"  p50 {run['p50_ms']:>6.1f} ms  p99 {run['p99_ms']:>7.1f} ms"
                f"  gateways' CPU {run['gateways_cpu_us_per_mo']:>6.0f} us/MO"
            )
    lines.append(
        f"  PostgreSQL 2 / 1: {out['speedup_2']:.2f}x, 3 / 1: {out['speedup_3']:.2f}x;"
        f" PostgreSQL 1 / SQLite 1: {out['postgres_vs_sqlite']:.2f}x"
    )
    return [*lines, ""]
