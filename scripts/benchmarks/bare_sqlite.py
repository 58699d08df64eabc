"""The physical limit of renewals: a bare sqlite3 writer of the rows a renewal writes.

It reads the due subscriptions in the gateway's order and chunk (2,000), and for each chunk
sends one ``executemany`` per table (the subscription upsert, the charge, the outbox row;
the invoice line too on a database where ``invoice_lines`` is still a table, before schema
7 made it a view over charges) and commits, with the gateway's
durability (WAL, ``synchronous = FULL``) and page cache. The rows' values are copied from
rows the gateway wrote in the same run (``templates``), so both write rows of one size.
No rules, no objects, no events: what is left is what SQLite itself costs.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import RENEWAL_DUE, Json, emit, micros

SUBSCRIPTION_COLUMNS = (
    "id, msisdn, package, grp, status, started_at, period_start, expires_at, auto_renew,"
    " next_action_at, failed_since, cancelled_at, charge_month, charged_in_month, usage_bytes,"
    " price, first_paid_at, last_paid_at, last_paid_amount, periods_paid, used_since_paid,"
    " next_package, price_notice"
)
_COLUMNS = [c.strip() for c in SUBSCRIPTION_COLUMNS.split(",")]
_UPSERT_SUBSCRIPTION = (
    f"INSERT INTO subscriptions ({SUBSCRIPTION_COLUMNS})"  # noqa: S608
    f" VALUES ({', '.join('?' for _ in _COLUMNS)}) ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[2:])
)
_CHARGE_COLUMNS = (
    "id, msisdn, subscription_id, package, reason, rule, amount, billing, invoice_month, at,"
    " message_id, inputs"
)
_INSERT_CHARGE = f"INSERT INTO charges ({_CHARGE_COLUMNS}) VALUES ({', '.join('?' * 12)})"  # noqa: S608
_INSERT_INVOICE_LINE = (
    "INSERT INTO invoice_lines (charge_id, msisdn, month, package, description, amount, at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_OUTBOX_COLUMNS = "id, shortcode, msisdn, text, in_reply_to, encoding, segments, at, answer"
_INSERT_OUTBOX = f"INSERT INTO outbox ({_OUTBOX_COLUMNS}) VALUES ({', '.join('?' * 9)})"  # noqa: S608
_DUE = (
    f"SELECT {', '.join('s.' + c for c in _COLUMNS)}, b.kind, b.balance"  # noqa: S608
    " FROM subscriptions s JOIN subscribers b ON b.msisdn = s.msisdn"
    " WHERE s.next_action_at IS NOT NULL AND s.next_action_at <= ?"
    " ORDER BY s.next_action_at, s.id LIMIT ?"
)


def _one(conn: sqlite3.Connection, sql: str, *params: object) -> tuple[Any, ...]:
    row = conn.execute(sql, params).fetchone()
    if row is None:
        raise RuntimeError(f"no template row: {sql}")
    return tuple(row)


def templates(db: Path) -> Json:
    """One renewal's rows, as the gateway wrote them (read after its run)."""
    conn = sqlite3.connect(db)
    try:
        charge = _one(
            conn,
            f"SELECT {_CHARGE_COLUMNS} FROM charges WHERE reason = 'renewal' LIMIT 1",  # noqa: S608
        )
        sub = _one(
            conn,
            f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = ?",  # noqa: S608
            charge[2],
        )
        outbox = _one(conn, f"SELECT {_OUTBOX_COLUMNS} FROM outbox LIMIT 1")  # noqa: S608
        kind = _one(conn, "SELECT type FROM sqlite_master WHERE name = 'invoice_lines'")[0]
        line: tuple[Any, ...] | None = None
        if kind == "table":
            line = _one(
                conn,
                "SELECT charge_id, msisdn, month, package, description, amount, at"
                " FROM invoice_lines WHERE charge_id = ?",
                charge[0],
            )
        return {"subscription": sub, "charge": charge, "outbox": outbox, "invoice_line": line}
    finally:
        conn.close()


def _open(db: str) -> sqlite3.Connection:
    """The gateway's connection settings (gateway/adapters/sqlite_store.py)."""
    conn = sqlite3.connect(db, isolation_level=None)
    for pragma in (
        "journal_mode = WAL",
        "synchronous = FULL",
        "foreign_keys = ON",
        "wal_autocheckpoint = 8000",
        "cache_size = -65536",
    ):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def _chunk(
    rows: Sequence[tuple[Any, ...]], tpl: Mapping[str, Any], ids: Any
) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    sub_t, charge_t, out_t, line_t = (
        tpl["subscription"],
        tpl["charge"],
        tpl["outbox"],
        tpl["invoice_line"],
    )
    subs, charges, lines, outbox = [], [], [], []
    for row in rows:
        sub_id, number = row[0], row[1]
        subs.append((sub_id, number, *sub_t[2:]))
        charge_id = next(ids)
        charges.append((charge_id, number, sub_id, *charge_t[3:]))
        if line_t is not None:
            lines.append((charge_id, number, *line_t[2:]))
        outbox.append((next(ids), out_t[1], number, *out_t[3:]))
    return subs, charges, lines, outbox


def _ids() -> Any:
    prefix = uuid.uuid4().hex[:16]
    n = 0
    while True:
        n += 1
        yield f"{prefix}{n:016x}"


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def sqlite_worker(cfg: Mapping[str, Any]) -> None:
    """Renew every due subscription of ``cfg['db']``, chunk by chunk; report the time."""
    conn = _open(cfg["db"])
    tpl, chunk, done, ids = cfg["templates"], cfg["chunk"], 0, _ids()
    until = micros(RENEWAL_DUE) + 1_000_000
    emit("ready")
    cpu, start = time.process_time(), time.perf_counter()
    while True:
        conn.execute("BEGIN IMMEDIATE")
        rows = conn.execute(_DUE, (until, chunk)).fetchall()
        if not rows:
            conn.execute("COMMIT")
            break
        subs, charges, lines, outbox = _chunk(rows, tpl, ids)
        conn.executemany(_UPSERT_SUBSCRIPTION, subs)
        conn.executemany(_INSERT_CHARGE, charges)
        if lines:
            conn.executemany(_INSERT_INVOICE_LINE, lines)
        conn.executemany(_INSERT_OUTBOX, outbox)
        conn.execute("COMMIT")
        done += len(rows)
        emit("progress", done=done)
    seconds = time.perf_counter() - start
    conn.close()
    emit(
        "result",
        renewed=done,
        seconds=seconds,
        cpu_s=time.process_time() - cpu,
        peak_rss_mb=_peak_rss_mb(),
    )
