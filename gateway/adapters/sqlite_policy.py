"""The policy engine's storage on SQLite: conversations and usage records (written at once)."""

from __future__ import annotations

import json

from gateway.adapters.sqlite_buffer import WriteBuffer
from gateway.adapters.sqlite_codec import Row, from_micros, micros
from gateway.domain.model import Conversation, UsageRecord

__all__ = ["SqliteConversations", "SqliteUsage"]


class SqliteConversations:
    """The ``Conversations`` port: one open question per sender and short code."""

    __slots__ = ("_read", "_write")

    def __init__(self, buffer: WriteBuffer) -> None:
        self._read = buffer.read
        self._write = buffer.write

    def get(self, msisdn: str, shortcode: str) -> Conversation | None:
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

    def put(self, c: Conversation) -> None:
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

    def delete(self, msisdn: str, shortcode: str) -> None:
        self._write(
            "DELETE FROM conversations WHERE msisdn = ? AND shortcode = ?", (msisdn, shortcode)
        )


class SqliteUsage:
    """The ``Usage`` port and the ``UsageReads`` model."""

    __slots__ = ("_read", "_write")

    def __init__(self, buffer: WriteBuffer) -> None:
        self._read = buffer.read
        self._write = buffer.write

    def add(self, u: UsageRecord) -> None:
        self._write(
            "INSERT INTO usage (msisdn, app, bytes, at, subscription_id, charge_id, event_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (u.msisdn, u.app, u.bytes, micros(u.at), u.subscription_id, u.charge_id, u.event_id),
        )

    def seen(self, msisdn: str, event_id: str) -> bool:
        row = self._read(
            "SELECT 1 FROM usage WHERE msisdn = ? AND event_id = ?", (msisdn, event_id)
        ).fetchone()
        return row is not None

    def all_of(self, msisdn: str) -> list[UsageRecord]:
        rows = self._read(
            "SELECT msisdn, app, bytes, at, subscription_id, charge_id, event_id FROM usage"
            " WHERE msisdn = ? ORDER BY at, id",
            (msisdn,),
        ).fetchall()
        return [_usage(r) for r in rows]


def _usage(r: Row) -> UsageRecord:
    return UsageRecord(r[0], r[1], r[2], from_micros(r[3]), r[4], r[5], r[6])
