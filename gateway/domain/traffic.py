"""Traffic since a mark: what a console recording is built from (``GET /api/recordings``)."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain.model import LedgerEntry, MessageRecord

__all__ = ["BalanceMove", "Position", "Received", "Sent", "Traffic"]


@dataclass(frozen=True, slots=True)
class Position:
    """Where the stored history stands: the last MT queued and the last balance change."""

    outbox_seq: int
    ledger_id: int


@dataclass(frozen=True, slots=True)
class Received:
    """An MO, with the number that sent it."""

    msisdn: str
    message: MessageRecord


@dataclass(frozen=True, slots=True)
class Sent:
    """An MT, with its place in the order MTs were queued."""

    seq: int
    msisdn: str
    message: MessageRecord


@dataclass(frozen=True, slots=True)
class BalanceMove:
    """A ledger entry, its place in the ledger and, for a charge, the MO that caused it."""

    id: int
    entry: LedgerEntry
    message_id: str | None = None


@dataclass(frozen=True, slots=True)
class Traffic:
    """What was stored after a position: MOs (from an instant on), MTs and balance moves."""

    received: list[Received]
    sent: list[Sent]
    moves: list[BalanceMove]
