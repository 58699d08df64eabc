"""The outbox on SQLite: MTs to publish and the MOs they answer (buffered appends)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from gateway.adapters.sqlite_buffer import WriteBuffer
from gateway.adapters.sqlite_codec import Row, from_micros, micros
from gateway.domain.model import InboundSms, Outgoing

__all__ = ["INSERT_INBOUND", "INSERT_OUTBOX", "SqliteOutbox"]

_OUTBOX_COLUMNS = "id, shortcode, msisdn, text, in_reply_to, encoding, segments, at"
INSERT_INBOUND = (
    "INSERT INTO inbound (msisdn, id, shortcode, text, received_at) VALUES (?, ?, ?, ?, ?)"
)
INSERT_OUTBOX = (
    f"INSERT INTO outbox ({_OUTBOX_COLUMNS}, answer, owner)"  # noqa: S608
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

#: ids per ``UPDATE`` of ``mark_published`` (SQLite allows 32,766 parameters a statement)
_MARK_CHUNK = 500


def _outgoing(row: Row) -> Outgoing:
    return Outgoing(
        id=row[0],
        shortcode=row[1],
        msisdn=row[2],
        text=row[3],
        in_reply_to=row[4],
        encoding=row[5],
        segments=row[6],
        at=from_micros(row[7]),
    )


class SqliteOutbox:
    """The ``Outbox`` port and the ``OutboxReads`` model.

    Rows belong to ``owner``, the instance that commits them ('' for a single gateway):
    ``unpublished`` reads that instance's own (docs/scale-out.md).
    """

    __slots__ = ("_buffer", "_inbound", "_new", "_outbox", "_owner", "_recorded")

    def __init__(self, buffer: WriteBuffer, owner: str = "") -> None:
        self._buffer = buffer
        self._owner = owner
        self._inbound = buffer.appended(INSERT_INBOUND)
        self._outbox = buffer.appended(INSERT_OUTBOX)
        #: MOs recorded in this transaction: only those need the buffered writes flushed
        self._recorded: set[tuple[str, str]] = set()
        #: MOs ``preload`` found not recorded before this transaction
        self._new: set[tuple[str, str]] = set()

    def preload(self, mos: Collection[tuple[str, str]]) -> None:
        """Look up which of ``mos`` (sender, MO id) were recorded before, in one query."""
        wanted = set(mos) - self._recorded - self._new
        seen = self._buffer.read_each(
            "SELECT i.msisdn, i.id FROM (VALUES {}) AS v"
            " JOIN inbound i ON i.msisdn = v.column1 AND i.id = v.column2",
            wanted,
        )
        self._new |= wanted.difference((m, i) for m, i in seen)

    def add(self, m: Outgoing, *, answer: bool = True) -> None:
        self._outbox.append(
            (
                m.id,
                m.shortcode,
                m.msisdn,
                m.text,
                m.in_reply_to,
                m.encoding,
                m.segments,
                micros(m.at),
                int(answer),
                self._owner,
            )
        )
        self._buffer.dirty = True

    def record_inbound(self, message: InboundSms, received_at: datetime) -> None:
        self._recorded.add((message.msisdn, message.id))
        self._inbound.append(
            (message.msisdn, message.id, message.shortcode, message.text, micros(received_at))
        )
        self._buffer.dirty = True

    def replies_to(self, msisdn: str, inbound_id: str) -> list[Outgoing] | None:
        # An MO seen in an earlier transaction is in the database with its replies; only
        # one recorded in this transaction needs the buffered writes flushed first.
        sql, key = "SELECT 1 FROM inbound WHERE msisdn = ? AND id = ?", (msisdn, inbound_id)
        if key in self._new and key not in self._recorded:
            return None  # preloaded: not seen before, not recorded since
        if key in self._recorded:
            seen = self._buffer.read(sql, key).fetchone()
        else:
            seen = self._buffer.conn.execute(sql, key).fetchone()
        if seen is None:
            return None
        rows = self._buffer.conn.execute(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox"  # noqa: S608
            " WHERE msisdn = ? AND in_reply_to = ? AND answer = 1 ORDER BY seq",
            (msisdn, inbound_id),
        ).fetchall()
        return [_outgoing(r) for r in rows]

    def mark_published(self, ids: Sequence[str]) -> None:
        # one statement per chunk of ids (``IN``), not one per id: half the time a row
        self._buffer.flush()
        execute = self._buffer.conn.execute
        for start in range(0, len(ids), _MARK_CHUNK):
            chunk = ids[start : start + _MARK_CHUNK]
            execute(
                f"UPDATE outbox SET published = 1 WHERE id IN ({', '.join('?' * len(chunk))})",  # noqa: S608
                chunk,
            )

    def unpublished(self, limit: int) -> list[Outgoing]:
        rows = self._buffer.read(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox"  # noqa: S608
            " WHERE published = 0 AND owner = ? ORDER BY seq LIMIT ?",
            (self._owner, limit),
        ).fetchall()
        return [_outgoing(r) for r in rows]

    def pending(self) -> int:
        return int(
            self._buffer.read("SELECT count(*) FROM outbox WHERE published = 0").fetchone()[0]
        )
