"""Bulk loading of subscribers straight into the SQLite file: one transaction,
``executemany`` in chunks. The fast path of ``scgw load`` (the gateway stopped, its
database locked by the loader), beside the store rather than through it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from gateway.adapters.sqlite_codec import micros
from gateway.bulk.rows import BadRow, SubscriberRow

__all__ = ["BulkWriter"]

_INSERT_SUBSCRIBER = (
    "INSERT INTO subscribers (msisdn, kind, balance, language, created_at, email, status)"
    " VALUES (?, ?, ?, ?, ?, ?, 'active')"
)
_INSERT_LEDGER = (
    "INSERT INTO ledger (msisdn, delta, balance_after, reason, charge_id, at)"
    " VALUES (?, ?, ?, 'provision', NULL, ?)"
)
CHUNK = 20_000


class BulkWriter:
    """A connection of its own to a migrated database file."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA busy_timeout = 30000")
        self.conn.execute("PRAGMA foreign_keys = ON")

    def close(self) -> None:
        self.conn.close()

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def conflicts(self, rows: Sequence[SubscriberRow]) -> list[BadRow]:
        """Rows whose number is already a subscriber, or whose address an open account's."""
        numbers = {r[0] for r in self.conn.execute("SELECT msisdn FROM subscribers")}
        emails = {
            r[0]: r[1]
            for r in self.conn.execute(
                "SELECT email, msisdn FROM subscribers"
                " WHERE email IS NOT NULL AND status = 'active'"
            )
        }
        bad = []
        for row in rows:
            if row.msisdn in numbers:
                bad.append(BadRow(row.line, f"msisdn {row.msisdn} is already a subscriber"))
            elif row.email is not None and row.email in emails:
                bad.append(BadRow(row.line, f"email {row.email} is already {emails[row.email]}'s"))
        return bad

    def insert(
        self,
        rows: Sequence[SubscriberRow],
        *,
        at: datetime,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Insert ``rows`` and their opening ledger entries in one transaction."""
        stamp = micros(at)
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            for start in range(0, len(rows), CHUNK):
                chunk = rows[start : start + CHUNK]
                conn.executemany(
                    _INSERT_SUBSCRIBER,
                    [(r.msisdn, r.kind, r.balance, r.language, stamp, r.email) for r in chunk],
                )
                conn.executemany(
                    _INSERT_LEDGER,
                    [(r.msisdn, r.balance, r.balance, stamp) for r in chunk if r.balance],
                )
                if progress is not None:
                    progress(len(chunk))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return len(rows)
