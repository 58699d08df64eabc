"""Bulk loading of subscribers straight into the SQLite file: one transaction,
``executemany`` in chunks. The fast path of ``scgw load`` (the gateway stopped, its
database locked by the loader), beside the store rather than through it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from carrier_rules import SubscriberKind
from gateway.adapters.sqlite_codec import micros
from gateway.adapters.sqlite_subscribers import UPSERT_SUBSCRIPTION, subscription_values
from gateway.bulk.rows import BadRow, SubscriberRow
from gateway.service.catalogue import Catalogue
from gateway.service.preload import preloaded

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
        catalogue: Catalogue | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Insert ``rows``, their opening ledger entries and the plans of their
        ``subscriptions`` (from ``catalogue``) in one transaction."""
        stamp = micros(at)
        plans = _Plans(catalogue, at)
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
                conn.executemany(
                    UPSERT_SUBSCRIPTION,
                    [plans.values(r, code) for r in chunk for code in r.subscriptions],
                )
                if progress is not None:
                    progress(len(chunk))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return len(rows)


class _Plans:
    """The subscriptions rows load: one template per plan and kind (every row is loaded at
    the same instant), given a fresh id and the row's number."""

    def __init__(self, catalogue: Catalogue | None, at: datetime) -> None:
        self._catalogue, self._at = catalogue, at
        self._templates: dict[tuple[str, str], tuple[Any, ...]] = {}

    def values(self, row: SubscriberRow, code: str) -> tuple[Any, ...]:
        catalogue = self._catalogue
        if catalogue is None:
            raise ValueError(f"line {row.line}: plans to load but no catalogs to load them from")
        template = self._templates.get((code, row.kind))
        if template is None:
            kind = cast(SubscriberKind, row.kind)
            sub = preloaded(catalogue.product(code), msisdn="", kind=kind, at=self._at, id="")
            template = self._templates[(code, row.kind)] = subscription_values(sub)
        return (catalogue.new_id(), row.msisdn, *template[2:])
