"""The policy engine's part of a SQLite session: conversations and usage records."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from gateway.adapters.sqlite_codec import Row, from_micros, micros
from gateway.domain.model import Conversation, UsageRecord

__all__ = ["PolicySessionMixin"]


class PolicySessionMixin:
    """Conversations (one open question per sender and short code) and usage records."""

    _conn: sqlite3.Connection

    def flush(self) -> None:
        raise NotImplementedError

    def _read(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        raise NotImplementedError

    def _write(self, sql: str, params: Sequence[Any]) -> None:
        raise NotImplementedError

    def get_conversation(self, msisdn: str, shortcode: str) -> Conversation | None:
        row = self._read(
            "SELECT msisdn, shortcode, kind, package, data, started_at, expires_at"
            " FROM conversations WHERE msisdn = ? AND shortcode = ?",
            (msisdn, shortcode),
        ).fetchone()
        if row is None:
            return None
        return Conversation(
            msisdn=row[0],
            shortcode=row[1],
            kind=row[2],
            package=row[3],
            data=json.loads(row[4]),
            started_at=from_micros(row[5]),
            expires_at=from_micros(row[6]),
        )

    def put_conversation(self, c: Conversation) -> None:
        self._write(
            "INSERT INTO conversations (msisdn, shortcode, kind, package, data, started_at,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (msisdn, shortcode) DO UPDATE"
            " SET kind = excluded.kind, package = excluded.package, data = excluded.data,"
            " started_at = excluded.started_at, expires_at = excluded.expires_at",
            (
                c.msisdn,
                c.shortcode,
                c.kind,
                c.package,
                json.dumps(c.data),
                micros(c.started_at),
                micros(c.expires_at),
            ),
        )

    def delete_conversation(self, msisdn: str, shortcode: str) -> None:
        self._write(
            "DELETE FROM conversations WHERE msisdn = ? AND shortcode = ?", (msisdn, shortcode)
        )

    def add_usage(self, u: UsageRecord) -> None:
        self._write(
            "INSERT INTO usage (msisdn, app, bytes, at, subscription_id, charge_id, event_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (u.msisdn, u.app, u.bytes, micros(u.at), u.subscription_id, u.charge_id, u.event_id),
        )

    def usage_seen(self, msisdn: str, event_id: str) -> bool:
        row = self._read(
            "SELECT 1 FROM usage WHERE msisdn = ? AND event_id = ?", (msisdn, event_id)
        ).fetchone()
        return row is not None

    def usage(self, msisdn: str) -> list[UsageRecord]:
        rows = self._read(
            "SELECT msisdn, app, bytes, at, subscription_id, charge_id, event_id FROM usage"
            " WHERE msisdn = ? ORDER BY at, id",
            (msisdn,),
        ).fetchall()
        return [_usage(r) for r in rows]


def _usage(r: Row) -> UsageRecord:
    return UsageRecord(r[0], r[1], r[2], from_micros(r[3]), r[4], r[5], r[6])
