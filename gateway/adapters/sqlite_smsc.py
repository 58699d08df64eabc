"""The ``SmscRecords`` port in SQL both engines speak: ``smpp_queue`` and ``smpp_messages``
(migrations 006 and 009), written in the gateway's own transactions, so an MT's record
commits with its outbox row and its charge."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.adapters.sqlite_buffer import WriteBuffer
from gateway.adapters.sqlite_codec import from_micros, micros, opt_dt, opt_micros
from gateway.domain.smsc import DeliveryKind, QueuedDelivery, SmscMessage

__all__ = ["SqliteSmsc"]

_MESSAGE = (
    "id, account, source, destination, registered, excerpt, drawn, submitted_at, due_at,"
    " expires_at, state, error, done_at"
)
_QUEUED = (
    "seq, id, account, kind, source, destination, text, receipted_id, message_state,"
    " attempts, created_at"
)


def _message(row: Any) -> SmscMessage:
    id, account, source, destination, registered, excerpt, drawn = row[:7]
    submitted, due, expires, state, error, done = row[7:]
    return SmscMessage(
        id=id,
        account=account,
        shortcode=source,
        msisdn=destination,
        registered=registered,
        excerpt=excerpt,
        drawn=drawn,
        submitted_at=from_micros(submitted),
        due_at=opt_dt(due),
        # a message stored before migration 9 has no validity: it ended when submitted
        expires_at=from_micros(submitted if expires is None else expires),
        state=state,
        error=error,
        done_at=opt_dt(done),
    )


def _queued(row: Any) -> QueuedDelivery:
    seq, id, account, kind, source, destination, text, receipted, state, attempts, at = row
    return QueuedDelivery(
        *(seq, id, account, kind, source, destination, text, receipted, state, attempts),
        created_at=from_micros(at),
    )


class SqliteSmsc:
    """Unbuffered: each write goes out at once, after what the transaction buffered."""

    __slots__ = ("_buffer",)

    def __init__(self, buffer: WriteBuffer) -> None:
        self._buffer = buffer

    # -- reads ----------------------------------------------------------------------------

    def message(self, message_id: str) -> SmscMessage | None:
        row = self._buffer.read(
            f"SELECT {_MESSAGE} FROM smpp_messages WHERE id = ?",  # noqa: S608
            (message_id,),
        ).fetchone()
        return None if row is None else _message(row)

    def next_due(self) -> datetime | None:
        row = self._buffer.read(
            "SELECT min(due_at) FROM smpp_messages WHERE state = 'ENROUTE'"
        ).fetchone()
        return None if row is None or row[0] is None else from_micros(row[0])

    def queued(self, account: str, limit: int) -> list[QueuedDelivery]:
        rows = self._buffer.read(
            f"SELECT {_QUEUED} FROM smpp_queue"  # noqa: S608
            " WHERE account = ? AND delivered_at IS NULL ORDER BY seq LIMIT ?",
            (account, limit),
        ).fetchall()
        return [_queued(row) for row in rows]

    def due(self, until: datetime, limit: int) -> list[SmscMessage]:
        rows = self._buffer.read(
            f"SELECT {_MESSAGE} FROM smpp_messages WHERE state = 'ENROUTE'"  # noqa: S608
            " AND due_at <= ? ORDER BY due_at, submitted_at, id LIMIT ?",
            (micros(until), limit),
        ).fetchall()
        return [_message(row) for row in rows]

    def matching(
        self, account: str, *, message_id: str, shortcode: str, msisdn: str
    ) -> list[SmscMessage]:
        where, params = "source = ? AND destination = ?", [shortcode, msisdn]
        if message_id:
            where, params = "id = ? AND source = ?", [message_id, shortcode]
            if msisdn:
                where, params = f"{where} AND destination = ?", [*params, msisdn]
        rows = self._buffer.read(
            f"SELECT {_MESSAGE} FROM smpp_messages WHERE account = ?"  # noqa: S608
            f" AND state = 'ENROUTE' AND {where} ORDER BY submitted_at, id",
            (account, *params),
        ).fetchall()
        return [_message(row) for row in rows]

    # -- writes ---------------------------------------------------------------------------

    def enqueue(
        self,
        *,
        id: str,
        account: str,
        kind: DeliveryKind,
        source: str,
        destination: str,
        text: str,
        at: datetime,
        receipted_id: str | None = None,
        message_state: int | None = None,
    ) -> None:
        self._buffer.write(
            "INSERT INTO smpp_queue (id, account, kind, source, destination, text,"
            " receipted_id, message_state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO NOTHING",
            (id, account, kind, source, destination, text, receipted_id, message_state, micros(at)),
        )

    def delivered(self, seq: int, at: datetime) -> None:
        self._buffer.write(
            "UPDATE smpp_queue SET delivered_at = ?, attempts = attempts + 1 WHERE seq = ?",
            (micros(at), seq),
        )

    def attempted(self, seq: int) -> None:
        self._buffer.write("UPDATE smpp_queue SET attempts = attempts + 1 WHERE seq = ?", (seq,))

    def add_message(self, message: SmscMessage) -> None:
        m = message
        self._buffer.write(
            f"INSERT INTO smpp_messages ({_MESSAGE})"  # noqa: S608
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
            " account = excluded.account, source = excluded.source,"
            " destination = excluded.destination, registered = excluded.registered,"
            " excerpt = excluded.excerpt, drawn = excluded.drawn,"
            " submitted_at = excluded.submitted_at, due_at = excluded.due_at,"
            " expires_at = excluded.expires_at, state = excluded.state,"
            " error = excluded.error, done_at = excluded.done_at",
            (
                *(m.id, m.account, m.shortcode, m.msisdn, m.registered, m.excerpt, m.drawn),
                *(micros(m.submitted_at), opt_micros(m.due_at), micros(m.expires_at)),
                *(m.state, m.error, opt_micros(m.done_at)),
            ),
        )

    def hold(self, message_id: str) -> None:
        self._buffer.write(
            "UPDATE smpp_messages SET due_at = expires_at WHERE id = ? AND state = 'ENROUTE'",
            (message_id,),
        )

    def release(self, msisdn: str, at: datetime) -> None:
        self._buffer.write(
            "UPDATE smpp_messages SET due_at = ? WHERE destination = ?"
            " AND state = 'ENROUTE' AND due_at = expires_at AND due_at > ?",
            (micros(at), msisdn, micros(at)),
        )

    def finish(self, message_id: str, *, state: str, error: int, at: datetime) -> bool:
        self._buffer.flush()
        changed = self._buffer.conn.execute(
            "UPDATE smpp_messages SET state = ?, error = ?, done_at = ?, due_at = NULL"
            " WHERE id = ? AND state = 'ENROUTE'",
            (state, error, micros(at), message_id),
        ).rowcount
        return changed > 0
