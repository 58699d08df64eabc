"""Bulk loading with sqlite3 into the gateway's own schema.

Prepaid subscribers for the MQTT sections, postpaid ZL30 packs all due at one instant
for the renewals.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import time
from pathlib import Path

from benchmarks.common import BALANCE, MQTT_CLOCK, RENEWAL_DUE, RENEWAL_START, micros, msisdn


def create_schema(db: Path) -> None:
    """The gateway's own schema, by opening the store once (runs the migrations)."""
    from gateway.adapters.sqlite_store import SqliteStore

    async def make() -> None:
        await (await SqliteStore(str(db)).open()).close()

    asyncio.run(make())


def _loader(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -262144")
    conn.execute("BEGIN")
    return conn


def _finish_load(conn: sqlite3.Connection) -> None:
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _insert_subscribers(
    conn: sqlite3.Connection, count: int, kind: str, balance: int, at: int
) -> None:
    conn.executemany(
        "INSERT INTO subscribers (msisdn, kind, balance, language, created_at)"
        " VALUES (?, ?, ?, NULL, ?)",
        ((msisdn(i), kind, balance, at) for i in range(count)),
    )
    conn.executemany(
        "INSERT INTO ledger (msisdn, delta, balance_after, reason, at)"
        " VALUES (?, ?, ?, 'provision', ?)",
        ((msisdn(i), balance, balance, at) for i in range(count)),
    )


def load_subscribers(db: Path, count: int) -> float:
    """``count`` prepaid subscribers with a large balance; returns the seconds it took."""
    started = time.monotonic()
    create_schema(db)
    conn = _loader(db)
    _insert_subscribers(conn, count, "prepaid", BALANCE, micros(MQTT_CLOCK - dt.timedelta(days=30)))
    _finish_load(conn)
    return time.monotonic() - started


def load_renewals(db: Path, count: int) -> float:
    """``count`` postpaid subscribers, each with an active ZL30 due at RENEWAL_DUE."""
    started = time.monotonic()
    create_schema(db)
    conn = _loader(db)
    start, due = micros(RENEWAL_START), micros(RENEWAL_DUE)
    _insert_subscribers(conn, count, "postpaid", 0, start)
    conn.executemany(
        "INSERT INTO subscriptions (id, msisdn, package, grp, status, started_at, period_start,"
        " expires_at, auto_renew, next_action_at) VALUES (?, ?, 'ZL30', 'zalo', 'active',"
        " ?, ?, ?, 1, ?)",
        ((f"{i:032x}", msisdn(i), start, start, due - 1_000_000, due) for i in range(count)),
    )
    _finish_load(conn)
    return time.monotonic() - started


def db_counts(db: Path, *queries: str) -> list[int]:
    conn = sqlite3.connect(db)
    try:
        return [int(conn.execute(q).fetchone()[0]) for q in queries]
    finally:
        conn.close()


def remove_db(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
