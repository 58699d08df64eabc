"""The email channel on SQLite: the mail queue, the mailbox and support tickets."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from gateway.adapters.sqlite_buffer import WriteBuffer
from gateway.adapters.sqlite_codec import Row, from_micros, micros, opt_dt, opt_micros
from gateway.domain.mail import OutgoingMail, StoredMail
from gateway.domain.model import Ticket, TicketEvent

__all__ = ["INSERT_MAIL", "SqliteMail", "SqliteMailbox", "SqliteTickets", "mail_row"]

_MAIL_COLUMNS = (
    "id, kind, sender, sender_name, recipients, subject, body, at, msisdn, ticket_id,"
    " in_reply_to, refs, status, attempts, last_error, sent_at, read"
)
INSERT_MAIL = (
    "INSERT INTO mail (id, kind, sender, sender_name, recipients, subject, body, at, msisdn,"
    " ticket_id, in_reply_to, refs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_TICKET_COLUMNS = (
    "id, source, kind, status, requester, msisdn, product, category, title, content,"
    " created_at, updated_at, otp_hash, otp_expires_at, otp_attempts, codes_sent, resolution,"
    " closed_at"
)
_UPSERT_TICKET = (
    f"INSERT INTO tickets ({_TICKET_COLUMNS})"  # noqa: S608
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, status = excluded.status,"
    " requester = excluded.requester, msisdn = excluded.msisdn,"
    " updated_at = excluded.updated_at, otp_hash = excluded.otp_hash,"
    " otp_expires_at = excluded.otp_expires_at, otp_attempts = excluded.otp_attempts,"
    " codes_sent = excluded.codes_sent,"
    " resolution = excluded.resolution, closed_at = excluded.closed_at"
)


def mail_row(m: OutgoingMail) -> Row:
    return (
        m.id,
        m.kind,
        m.sender,
        m.sender_name,
        json.dumps(list(m.to)),
        m.subject,
        m.body,
        micros(m.at),
        m.msisdn,
        m.ticket_id,
        m.in_reply_to,
        json.dumps(list(m.references)),
    )


def _strings(text: str | None) -> tuple[str, ...]:
    """A JSON array of strings as stored; anything else (a damaged row) reads as empty."""
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return ()
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _stored_mail(r: Row) -> StoredMail:
    """A mail row as a value; ``OutgoingMail`` makes its header fields one-line, so a row
    stored with CR/LF by an older version still renders."""
    mail = OutgoingMail(
        id=r[0],
        kind=r[1],
        sender=r[2],
        sender_name=r[3],
        to=_strings(r[4]),
        subject=r[5],
        body=r[6],
        at=from_micros(r[7]),
        msisdn=r[8],
        ticket_id=r[9],
        in_reply_to=r[10],
        references=_strings(r[11]),
    )
    return StoredMail(
        mail=mail,
        status=r[12],
        attempts=r[13],
        last_error=r[14],
        sent_at=opt_dt(r[15]),
        read=bool(r[16]),
    )


def _ticket(r: Row) -> Ticket:
    return Ticket(
        id=r[0],
        source=r[1],
        kind=r[2],
        status=r[3],
        requester=r[4],
        msisdn=r[5],
        product=r[6],
        category=r[7],
        title=r[8],
        content=r[9],
        created_at=from_micros(r[10]),
        updated_at=from_micros(r[11]),
        otp_hash=r[12],
        otp_expires_at=opt_dt(r[13]),
        otp_attempts=r[14],
        codes_sent=r[15],
        resolution=r[16],
        closed_at=opt_dt(r[17]),
    )


class SqliteMail:
    """The ``MailQueue`` port and the ``MailQueueReads`` model.

    Mail rows are buffered like the other appends (a burst of renewals mails in one
    ``executemany``); the updates after delivery are written at once.
    """

    __slots__ = ("_buffer", "_conn", "_flush", "_queued", "_read", "_write")

    def __init__(self, buffer: WriteBuffer) -> None:
        self._buffer = buffer
        self._conn = buffer.conn
        self._flush = buffer.flush
        self._read = buffer.read
        self._write = buffer.write
        self._queued = buffer.appended(INSERT_MAIL)

    def add(self, mail: OutgoingMail) -> None:
        self._queued.append(mail_row(mail))
        self._buffer.dirty = True

    def sent(self, ids: Sequence[str], at: datetime) -> None:
        self._flush()
        stamp = micros(at)
        self._conn.executemany(
            "UPDATE mail SET status = 'sent', sent_at = ?, attempts = attempts + 1,"
            " last_error = NULL WHERE id = ? AND status = 'queued'",
            [(stamp, i) for i in ids],
        )

    def retry(self, mail_id: str, *, attempts: int, next_at: datetime, error: str) -> None:
        self._write(
            "UPDATE mail SET attempts = ?, next_attempt_at = ?, last_error = ?"
            " WHERE id = ? AND status = 'queued'",
            (attempts, micros(next_at), error, mail_id),
        )

    def failed(self, mail_id: str, *, attempts: int, error: str) -> None:
        self._write(
            "UPDATE mail SET status = 'failed', attempts = ?, last_error = ?"
            " WHERE id = ? AND status = 'queued'",
            (attempts, error, mail_id),
        )

    def delete(self, ids: Sequence[str] | None) -> int:
        self._flush()
        if ids is None:
            hidden = self._conn.execute(
                "UPDATE mail SET deleted = 1 WHERE status = 'queued' AND deleted = 0"
            ).rowcount
            return hidden + self._conn.execute("DELETE FROM mail WHERE status != 'queued'").rowcount
        removed = 0
        for mail_id in ids:
            removed += self._conn.execute(
                "UPDATE mail SET deleted = 1 WHERE id = ? AND status = 'queued' AND deleted = 0",
                (mail_id,),
            ).rowcount
            removed += self._conn.execute(
                "DELETE FROM mail WHERE id = ? AND status != 'queued'", (mail_id,)
            ).rowcount
        return removed

    def mark_read(self, mail_id: str) -> None:
        self._write("UPDATE mail SET read = 1 WHERE id = ?", (mail_id,))

    def due(self, until: datetime, limit: int) -> list[StoredMail]:
        rows = self._read(
            f"SELECT {_MAIL_COLUMNS} FROM mail WHERE status = 'queued'"  # noqa: S608
            " AND next_attempt_at <= ? ORDER BY next_attempt_at, seq LIMIT ?",
            (micros(until), limit),
        ).fetchall()
        return [_stored_mail(r) for r in rows]

    def next_attempt(self) -> datetime | None:
        row = self._read("SELECT min(next_attempt_at) FROM mail WHERE status = 'queued'").fetchone()
        return opt_dt(row[0])


class SqliteMailbox:
    """The ``MailboxReads`` model: recorded mail not deleted, newest first."""

    __slots__ = ("_conn", "_read")

    def __init__(self, buffer: WriteBuffer) -> None:
        self._conn = buffer.conn
        self._read = buffer.read

    def page(self, *, start: int, limit: int) -> tuple[list[StoredMail], int, int]:
        rows = self._read(
            f"SELECT {_MAIL_COLUMNS} FROM mail WHERE deleted = 0"  # noqa: S608
            " ORDER BY seq DESC LIMIT ? OFFSET ?",
            (limit, start),
        ).fetchall()
        total, unread = self._conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE read = 0) FROM mail WHERE deleted = 0"
        ).fetchone()
        return [_stored_mail(r) for r in rows], int(total), int(unread)

    def newest(self, limit: int) -> list[StoredMail]:
        rows = self._read(
            f"SELECT {_MAIL_COLUMNS} FROM mail WHERE deleted = 0 ORDER BY seq DESC LIMIT ?",  # noqa: S608
            (limit,),
        ).fetchall()
        return [_stored_mail(r) for r in rows]

    def get(self, mail_id: str) -> StoredMail | None:
        row = self._read(
            f"SELECT {_MAIL_COLUMNS} FROM mail WHERE id = ? AND deleted = 0",  # noqa: S608
            (mail_id,),
        ).fetchone()
        return None if row is None else _stored_mail(row)


class SqliteTickets:
    """The ``Tickets`` port and the ``TicketReads`` model (tickets are rare: written at once)."""

    __slots__ = ("_conn", "_read", "_write")

    def __init__(self, buffer: WriteBuffer) -> None:
        self._conn = buffer.conn
        self._read = buffer.read
        self._write = buffer.write

    def mail(self, ticket_id: int) -> list[StoredMail]:
        rows = self._read(
            f"SELECT {_MAIL_COLUMNS} FROM mail WHERE ticket_id = ? ORDER BY seq",  # noqa: S608
            (ticket_id,),
        ).fetchall()
        return [_stored_mail(r) for r in rows]

    def next_id(self) -> int:
        row = self._read("SELECT coalesce(max(id), 0) + 1 FROM tickets").fetchone()
        return int(row[0])

    def get(self, ticket_id: int) -> Ticket | None:
        row = self._read(
            f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE id = ?",  # noqa: S608
            (ticket_id,),
        ).fetchone()
        return None if row is None else _ticket(row)

    def put(self, t: Ticket) -> None:
        self._write(
            _UPSERT_TICKET,
            (
                t.id,
                t.source,
                t.kind,
                t.status,
                t.requester,
                t.msisdn,
                t.product,
                t.category,
                t.title,
                t.content,
                micros(t.created_at),
                micros(t.updated_at),
                t.otp_hash,
                opt_micros(t.otp_expires_at),
                t.otp_attempts,
                t.codes_sent,
                t.resolution,
                opt_micros(t.closed_at),
            ),
        )

    def all(self) -> list[Ticket]:
        rows = self._read(f"SELECT {_TICKET_COLUMNS} FROM tickets ORDER BY id").fetchall()  # noqa: S608
        return [_ticket(r) for r in rows]

    def add_event(self, e: TicketEvent) -> None:
        self._write(
            "INSERT INTO ticket_events (ticket_id, at, status, note) VALUES (?, ?, ?, ?)",
            (e.ticket_id, micros(e.at), e.status, e.note),
        )

    def events(self, ticket_id: int) -> list[TicketEvent]:
        rows = self._read(
            "SELECT ticket_id, at, status, note FROM ticket_events WHERE ticket_id = ? ORDER BY id",
            (ticket_id,),
        ).fetchall()
        return [TicketEvent(r[0], from_micros(r[1]), r[2], r[3]) for r in rows]

    def of_mail(self, message_ids: Sequence[str]) -> int | None:
        for message_id in message_ids:
            local, _, _ = message_id.partition("@")
            row = self._read(
                "SELECT ticket_id FROM mail WHERE id = ? AND ticket_id IS NOT NULL", (local,)
            ).fetchone()
            if row is None:
                row = self._conn.execute(
                    "SELECT ticket_id FROM support_inbox WHERE message_id = ?", (message_id,)
                ).fetchone()
            if row is not None:
                return int(row[0])
        return None

    def support_mail_seen(self, message_id: str) -> int | None:
        row = self._read(
            "SELECT ticket_id FROM support_inbox WHERE message_id = ?", (message_id,)
        ).fetchone()
        return None if row is None else int(row[0])

    def record_support_mail(
        self, *, message_id: str, ticket_id: int, sender: str, subject: str, at: datetime
    ) -> None:
        self._write(
            "INSERT INTO support_inbox (message_id, ticket_id, sender, subject, at)"
            " VALUES (?, ?, ?, ?, ?)",
            (message_id, ticket_id, sender, subject, micros(at)),
        )
