"""The ``RecordingReads`` model on SQLite (and PostgreSQL, same SQL): traffic since a mark."""

from __future__ import annotations

from datetime import datetime

from gateway.adapters.sqlite_buffer import WriteBuffer
from gateway.adapters.sqlite_codec import from_micros, micros
from gateway.domain.model import LedgerEntry, MessageRecord
from gateway.domain.traffic import BalanceMove, Position, Received, Sent, Traffic

__all__ = ["SqliteRecording"]


class SqliteRecording:
    """Every number's MOs, MTs and balance moves after a position, in the order stored."""

    __slots__ = ("_read",)

    def __init__(self, buffer: WriteBuffer) -> None:
        self._read = buffer.read

    def position(self) -> Position:
        row = self._read(
            "SELECT (SELECT coalesce(max(seq), 0) FROM outbox),"
            " (SELECT coalesce(max(id), 0) FROM ledger)"
        ).fetchone()
        return Position(outbox_seq=int(row[0]), ledger_id=int(row[1]))

    def since(self, position: Position, received_from: datetime) -> Traffic:
        inbound = self._read(
            "SELECT msisdn, id, shortcode, text, received_at FROM inbound"
            " WHERE received_at >= ? ORDER BY received_at, msisdn, id",
            (micros(received_from),),
        ).fetchall()
        outbound = self._read(
            "SELECT seq, msisdn, id, shortcode, text, at, encoding, segments, in_reply_to"
            " FROM outbox WHERE seq > ? ORDER BY seq",
            (position.outbox_seq,),
        ).fetchall()
        ledger = self._read(
            "SELECT l.id, l.msisdn, l.delta, l.balance_after, l.reason, l.at, l.charge_id,"
            " c.message_id FROM ledger l LEFT JOIN charges c ON c.id = l.charge_id"
            " WHERE l.id > ? ORDER BY l.id",
            (position.ledger_id,),
        ).fetchall()
        return Traffic(
            received=[
                Received(r[0], MessageRecord("mo", r[1], r[2], r[3], from_micros(r[4])))
                for r in inbound
            ],
            sent=[
                Sent(
                    r[0],
                    r[1],
                    MessageRecord("mt", r[2], r[3], r[4], from_micros(r[5]), r[6], r[7], r[8]),
                )
                for r in outbound
            ],
            moves=[
                BalanceMove(
                    r[0], LedgerEntry(r[1], r[2], r[3], r[4], from_micros(r[5]), r[6]), r[7]
                )
                for r in ledger
            ],
        )
