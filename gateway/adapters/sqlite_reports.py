"""The console on SQLite: the activity log, the views of one subscriber, and reports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gateway.adapters.sqlite_billing import CHARGE_COLUMNS, charge_of
from gateway.adapters.sqlite_buffer import WriteBuffer
from gateway.adapters.sqlite_codec import Row, from_micros, micros
from gateway.adapters.sqlite_subscribers import SUBSCRIBER_COLUMNS, subscriber_of
from gateway.domain.events import LiveEvent
from gateway.domain.model import ChargeRecord, MessageRecord, Subscriber

__all__ = ["INSERT_ACTIVITY", "SqliteActivityLog", "SqliteConsole", "SqliteReports"]

INSERT_ACTIVITY = (
    "INSERT INTO activity (kind, msisdn, package, amount, status, at) VALUES (?, ?, ?, ?, ?, ?)"
)

_ACTIVE_AT = (
    "SELECT count(*) FROM subscriptions WHERE started_at <= ?"
    " AND (status IN ('trial', 'active', 'renewal_failed', 'pending_cancel', 'paused')"
    " OR expires_at > ?) AND coalesce(price, 1) > 0"
)
_INBOUND = "SELECT id, shortcode, text, received_at FROM inbound WHERE msisdn = ?"
_OUTBOUND = (
    "SELECT id, shortcode, text, at, encoding, segments, in_reply_to FROM outbox WHERE msisdn = ?"
)


def _activity(r: Row) -> LiveEvent:
    fields: dict[str, object] = {"msisdn": r[1]}
    if r[2] is not None:
        fields["package"] = r[2]
    if r[3] is not None:
        fields["amount"] = r[3]
    if r[4] is not None:
        fields["status"] = r[4]
    return LiveEvent(kind=r[0], at=from_micros(r[5]), fields=fields)


class SqliteActivityLog:
    """The ``ActivityLog`` port: buffered appends (every cancellation writes one, so a
    write at once would flush a whole batch's buffered rows a row at a time)."""

    __slots__ = ("_buffer", "_rows")

    def __init__(self, buffer: WriteBuffer) -> None:
        self._buffer = buffer
        self._rows = buffer.appended(INSERT_ACTIVITY)

    def add(self, event: LiveEvent) -> None:
        f = event.fields
        self._rows.append(
            (
                event.kind,
                f.get("msisdn"),
                f.get("package"),
                f.get("amount"),
                f.get("status"),
                micros(event.at),
            )
        )
        self._buffer.dirty = True


class SqliteConsole:
    """The ``ConsoleReads`` model: search, and the views of one subscriber."""

    __slots__ = ("_known", "_read")

    def __init__(self, buffer: WriteBuffer) -> None:
        self._read = buffer.read
        self._known = buffer.subscribers

    def search(self, query: str, limit: int) -> list[Subscriber]:
        pattern = f"%{query}%"
        rows = self._read(
            f"SELECT {SUBSCRIBER_COLUMNS} FROM subscribers"  # noqa: S608
            " WHERE msisdn LIKE ? OR email LIKE ? ORDER BY msisdn LIMIT ?",
            (pattern, pattern, limit),
        ).fetchall()
        return [self._known.get(r[0]) or subscriber_of(r) for r in rows]

    def messages(self, msisdn: str, shortcode: str | None, limit: int) -> list[MessageRecord]:
        same_code = "" if shortcode is None else " AND shortcode = ?"
        params: tuple[Any, ...] = (msisdn,) if shortcode is None else (msisdn, shortcode)
        inbound = self._read(
            _INBOUND + same_code + " ORDER BY received_at DESC LIMIT ?", (*params, limit)
        ).fetchall()
        outbound = self._read(
            _OUTBOUND + same_code + " ORDER BY seq DESC LIMIT ?", (*params, limit)
        ).fetchall()
        found = [MessageRecord("mo", r[0], r[1], r[2], from_micros(r[3])) for r in inbound] + [
            MessageRecord("mt", r[0], r[1], r[2], from_micros(r[3]), r[4], r[5], r[6])
            for r in outbound
        ]
        # an MO before its replies at the same instant
        found.sort(key=lambda m: (m.at, m.direction != "mo"))
        return found[-limit:]

    def activity(self, msisdn: str) -> list[LiveEvent]:
        rows = self._read(
            "SELECT kind, msisdn, package, amount, status, at FROM activity"
            " WHERE msisdn = ? ORDER BY at, id",
            (msisdn,),
        ).fetchall()
        return [_activity(r) for r in rows]


class SqliteReports:
    """The ``ReportReads`` model: figures over every subscriber."""

    __slots__ = ("_read",)

    def __init__(self, buffer: WriteBuffer) -> None:
        self._read = buffer.read

    def charges_between(self, start: datetime, end: datetime) -> list[ChargeRecord]:
        rows = self._read(
            f"SELECT {CHARGE_COLUMNS} FROM charges WHERE at >= ? AND at < ? ORDER BY at",  # noqa: S608
            (micros(start), micros(end)),
        ).fetchall()
        return [charge_of(r) for r in rows]

    def activity_between(self, kind: str, start: datetime, end: datetime) -> list[LiveEvent]:
        rows = self._read(
            "SELECT kind, msisdn, package, amount, status, at FROM activity"
            " WHERE kind = ? AND at >= ? AND at < ? ORDER BY at, id",
            (kind, micros(start), micros(end)),
        ).fetchall()
        return [_activity(r) for r in rows]

    def active_at(self, instants: Sequence[datetime]) -> list[int]:
        counts = []
        for instant in instants:
            at = micros(instant)
            row = self._read(_ACTIVE_AT, (at, at)).fetchone()
            counts.append(int(row[0]))
        return counts

    def stats(self) -> dict[str, Any]:
        one = self._read
        return {
            "subscribers": one("SELECT count(*) FROM subscribers").fetchone()[0],
            "open_subscriptions": one(
                "SELECT count(*) FROM subscriptions WHERE next_action_at IS NOT NULL"
            ).fetchone()[0],
            "unpublished": one("SELECT count(*) FROM outbox WHERE published = 0").fetchone()[0],
        }
