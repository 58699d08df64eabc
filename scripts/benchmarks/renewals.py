"""The renewals section: K postpaid ZL30 packs due at one instant, one clock advance.

For each K: the gateway's time to commit (the advance returned) and to publish every
notification, its peak RSS; then, side by side in the same run, a bare aiomqtt publisher of
K messages of the same size (drain rate) and a bare SQLite writer of the same rows
(``bare_sqlite``: commit rate, and its own peak RSS).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import httpx

from benchmarks import bare_sqlite
from benchmarks.common import (
    DUE_CHUNK,
    IDLE_TIMEOUT,
    RENEWAL_DUE,
    BenchError,
    Context,
    Json,
    micros,
    say,
)
from benchmarks.loading import db_counts, load_renewals, remove_db
from benchmarks.processes import broker, cpu_seconds, gateway, gateway_pid, peak_rss_mb, worker
from benchmarks.progress import bar
from tests.support import Mosquitto


def _advance(url: str) -> tuple[float, int]:
    """POST /api/clock/advance past the due instant; returns (seconds, processed)."""
    target = (RENEWAL_DUE + dt.timedelta(seconds=1)).isoformat()
    started = time.monotonic()
    response = httpx.post(f"{url}/api/clock/advance", json={"to": target}, timeout=3600)
    response.raise_for_status()
    return time.monotonic() - started, int(response.json()["processed"])


def _gateway_renewals(ctx: Context, mosquitto: Mosquitto, db: Path, k: int) -> Json:
    start = RENEWAL_DUE - dt.timedelta(hours=1)
    with gateway(ctx.workdir, mosquitto, db, start) as gw:
        # the first notification comes once the whole burst is committed (the advance)
        spec = {"port": mosquitto.port, "expected": k, "idle": IDLE_TIMEOUT, "first_wait": 3600}
        with worker("count", spec, ctx.workdir) as counter:
            t0, cpu = time.monotonic(), cpu_seconds(gateway_pid(gw))
            with bar(f"renewals {k:,}: committing (one clock advance)", None):
                commit_s, processed = _advance(gw.url)
            commit_cpu_s = cpu_seconds(gateway_pid(gw)) - cpu
            with bar(f"renewals {k:,}: notifications", k) as update:
                seen = counter.expect("result", 3600, update)
        rss = peak_rss_mb(gateway_pid(gw))
    if seen["count"] != k or processed != k:
        raise BenchError(f"{k} renewals due: {processed} processed, {seen['count']} published")
    return {
        "commit_s": commit_s,
        "commit_rate": k / commit_s,
        # the gateway's CPU time (every thread) while the advance ran
        "commit_cpu_s": commit_cpu_s,
        "publish_s": seen["last"] - t0,
        "drain_rate": k / max(seen["last"] - seen["first"], 1e-9),
        "message_bytes": seen["bytes"] / k,
        "duplicates": seen["duplicates"],
        "lag_s": seen["last"] - t0 - commit_s,
        "peak_rss_mb": rss,
    }


def _bare_publish(ctx: Context, mosquitto: Mosquitto, k: int, size: int) -> Json:
    port = mosquitto.port
    count = {"port": port, "expected": k, "idle": 60}
    publish = {"port": port, "count": k, "size": size, "window": ctx.cfg.bare_window}
    with (
        worker("count", count, ctx.workdir) as counter,
        worker("publish", publish, ctx.workdir),
        bar(f"renewals {k:,}: bare publisher", k) as update,
    ):
        seen = counter.expect("result", 3600, update)
    if seen["count"] != k:
        raise BenchError(f"bare publisher: {seen['count']} of {k} messages arrived")
    return {"bare_rate": k / max(seen["last"] - seen["first"], 1e-9)}


def _bare_sqlite(ctx: Context, k: int, templates: Json) -> Json:
    """The bare writer on a fresh copy of the same load; its rows are counted as the
    gateway's are, so a difference in what the two write shows."""
    db = ctx.workdir / f"renewals-{k}-bare.db"
    load_renewals(db, k)
    spec = {"db": str(db), "chunk": DUE_CHUNK, "templates": templates}
    with (
        worker("sqlite", spec, ctx.workdir) as writer,
        bar(f"renewals {k:,}: bare SQLite writer", k) as update,
    ):
        result = writer.expect("result", 3600, update)
    rows = _rows(db)
    remove_db(db)
    if result["renewed"] != k:
        raise BenchError(f"bare SQLite writer: {result['renewed']} of {k} renewed")
    return {
        "sqlite_s": result["seconds"],
        "sqlite_rate": k / result["seconds"],
        "sqlite_cpu_s": result["cpu_s"],
        "sqlite_rss_mb": result["peak_rss_mb"],
        "sqlite_rows": rows,
    }


def _rows(db: Path) -> list[int]:
    """Renewal charges, outbox rows, subscriptions moved past the due instant."""
    due = micros(RENEWAL_DUE)
    return db_counts(
        db,
        "SELECT count(*) FROM charges WHERE reason = 'renewal'",
        "SELECT count(*) FROM outbox",
        f"SELECT count(*) FROM subscriptions WHERE next_action_at > {due}",  # noqa: S608
    )


def renewal_run(ctx: Context, k: int) -> Json:
    """One K: the gateway, then the bare publisher and the bare SQLite writer."""
    db = ctx.workdir / f"renewals-{k}.db"
    say(f"renewals: loading {k:,} postpaid ZL30 packs due {RENEWAL_DUE.isoformat()}")
    loaded = load_renewals(db, k)
    with broker(ctx.workdir) as mosquitto:
        row = {"k": k, "load_s": loaded, **_gateway_renewals(ctx, mosquitto, db, k)}
        say(f"renewals: {k:,}: bare publisher, messages of {row['message_bytes']:.0f} B")
        row.update(_bare_publish(ctx, mosquitto, k, round(row["message_bytes"])))
    row["ratio"] = row["drain_rate"] / row["bare_rate"]
    charged, unpublished = db_counts(
        db,
        "SELECT count(*) FROM charges WHERE reason = 'renewal'",
        "SELECT count(*) FROM outbox WHERE published = 0",
    )
    if charged != k:
        raise BenchError(f"{k} renewals due, {charged} charged")
    row["unpublished_after_stop"] = unpublished
    row["gateway_rows"] = _rows(db)
    templates = bare_sqlite.templates(db)
    remove_db(db)
    say(f"renewals: {k:,}: bare SQLite writer of the same rows")
    row.update(_bare_sqlite(ctx, k, templates))
    row["sqlite_ratio"] = row["commit_rate"] / row["sqlite_rate"]
    # CPU per renewal, which a busy machine disturbs less than elapsed time
    row["cpu_ratio"] = row["sqlite_cpu_s"] / max(row["commit_cpu_s"], 1e-9)
    if row["sqlite_rows"] != row["gateway_rows"]:
        say(
            f"renewals: warning: rows (renewal charges, outbox, renewed subscriptions) written"
            f" by the gateway {row['gateway_rows']} and the bare writer {row['sqlite_rows']}"
            " differ: the bare writer no longer writes what a renewal writes"
        )
    return row


def renewals_section(ctx: Context) -> list[Json]:
    return [renewal_run(ctx, k) for k in ctx.cfg.renewals]
