"""The read models ``Queries`` exposes: what the HTTP API, the console, the mailbox and the
pipeline read, outside any write. Each is a small port of its own."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from gateway.domain.events import LiveEvent
from gateway.domain.handsets import HandsetView
from gateway.domain.mail import StoredMail
from gateway.domain.model import (
    ChargeRecord,
    InvoiceLine,
    LedgerEntry,
    MessageRecord,
    Outgoing,
    Subscriber,
    Ticket,
    TicketEvent,
    UsageRecord,
)
from gateway.domain.traffic import Position, Traffic

__all__ = [
    "BillingReads",
    "ConsoleReads",
    "HandsetReads",
    "MailQueueReads",
    "MailboxReads",
    "MetaReads",
    "OutboxReads",
    "RecordingReads",
    "ReportReads",
    "TicketReads",
    "UsageReads",
]


class BillingReads(Protocol):
    """A subscriber's money: charges, ledger and invoices."""

    def charges(self, msisdn: str) -> list[ChargeRecord]:
        """In time order (then in the order recorded)."""
        ...

    def ledger(self, msisdn: str) -> list[LedgerEntry]:
        """In the order recorded."""
        ...

    def invoice_lines(self, msisdn: str, month: str) -> list[InvoiceLine]:
        """One month's lines (``YYYY-MM``), by time then charge id."""
        ...

    def invoice_months(self, msisdn: str) -> list[tuple[str, int, int]]:
        """(month, total, lines) for each month with an invoice line, newest first."""
        ...


class UsageReads(Protocol):
    def all_of(self, msisdn: str) -> list[UsageRecord]:
        """The subscriber's usage records, in time order."""
        ...


class OutboxReads(Protocol):
    """The replies committed and not yet published."""

    def unpublished(self, limit: int) -> list[Outgoing]:
        """The oldest ``limit`` of them, in the order queued."""
        ...

    def pending(self) -> int:
        """How many there are (cheap: it reads an index of them)."""
        ...


class HandsetReads(Protocol):
    def get(self, msisdn: str) -> HandsetView | None: ...


class MetaReads(Protocol):
    def get(self, key: str) -> str | None: ...


class MailQueueReads(Protocol):
    """The delivery loop's view of the mail queue."""

    def due(self, until: datetime, limit: int) -> list[StoredMail]:
        """Queued mail whose next attempt is due by ``until`` (wall clock), oldest first."""
        ...

    def next_attempt(self) -> datetime | None: ...


class MailboxReads(Protocol):
    """The mailbox API: every recorded mail not deleted, newest first."""

    def page(self, *, start: int, limit: int) -> tuple[list[StoredMail], int, int]:
        """A page, the total and how many are unread."""
        ...

    def newest(self, limit: int) -> list[StoredMail]:
        """Up to ``limit`` of the newest mails, for searching in memory."""
        ...

    def get(self, mail_id: str) -> StoredMail | None: ...


class TicketReads(Protocol):
    """The support desk: tickets and their threads."""

    def get(self, ticket_id: int) -> Ticket | None: ...
    def all(self) -> list[Ticket]:
        """By id."""
        ...

    def events(self, ticket_id: int) -> list[TicketEvent]: ...
    def mail(self, ticket_id: int) -> list[StoredMail]:
        """The mail sent for the ticket, in the order recorded."""
        ...


class ConsoleReads(Protocol):
    """The operator console's views of one subscriber."""

    def search(self, query: str, limit: int) -> list[Subscriber]:
        """Accounts whose MSISDN or address contains ``query``, by MSISDN."""
        ...

    def messages(self, msisdn: str, shortcode: str | None, limit: int) -> list[MessageRecord]:
        """The subscriber's MOs and MTs (the newest ``limit``), oldest first."""
        ...

    def activity(self, msisdn: str) -> list[LiveEvent]: ...


class RecordingReads(Protocol):
    """The stored history a console recording replays: every number's traffic since a mark."""

    def position(self) -> Position:
        """The last MT queued and the last ledger entry (0 when there is none)."""
        ...

    def since(self, position: Position, received_from: datetime) -> Traffic:
        """MOs received at ``received_from`` or later, MTs and ledger entries after
        ``position``; each list in the order stored."""
        ...


class ReportReads(Protocol):
    """Figures over all subscribers: the console's charts and the health counters."""

    def charges_between(self, start: datetime, end: datetime) -> list[ChargeRecord]: ...
    def activity_between(self, kind: str, start: datetime, end: datetime) -> list[LiveEvent]: ...

    def active_at(self, instants: Sequence[datetime]) -> list[int]:
        """How many paid or trial plans were serving at each instant."""
        ...

    def stats(self) -> dict[str, Any]:
        """Counts of subscribers, open subscriptions and unpublished replies."""
        ...
