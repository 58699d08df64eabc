"""The role repositories a unit of work (``Transaction``) exposes: one small port per role.

Everything written through the repositories of one transaction is committed together
or not at all. Reads inside a transaction see its own writes. Entities handed out are
the caller's: changing one stores nothing until it is ``put`` back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from gateway.domain.events import LiveEvent
from gateway.domain.handsets import HandsetState, HandsetView
from gateway.domain.mail import OutgoingMail
from gateway.domain.model import (
    ChargeRecord,
    Conversation,
    InboundSms,
    LedgerEntry,
    Outgoing,
    Subscriber,
    Subscription,
    Ticket,
    TicketEvent,
    UsageRecord,
)
from gateway.domain.smsc import DeliveryKind, QueuedDelivery, SmscMessage

__all__ = [
    "ActivityLog",
    "Billing",
    "Conversations",
    "Handsets",
    "MailQueue",
    "Meta",
    "Outbox",
    "SmscReads",
    "SmscRecords",
    "SubscriberReads",
    "Subscribers",
    "SubscriptionReads",
    "Subscriptions",
    "Tickets",
    "Usage",
]


class SubscriberReads(Protocol):
    """Accounts, read."""

    def get(self, msisdn: str) -> Subscriber | None: ...

    def by_email(self, address: str) -> Subscriber | None:
        """The open account whose address this is (addresses are stored lower case)."""
        ...


class Subscribers(SubscriberReads, Protocol):
    """Accounts: read and written by MSISDN (a balance below zero is refused)."""

    def put(self, subscriber: Subscriber) -> None:
        """Insert or update; an existing account keeps its ``created_at``."""
        ...


class SubscriptionReads(Protocol):
    """Subscriptions, read."""

    def all_of(self, msisdn: str) -> list[Subscription]:
        """Every subscription of the subscriber, ended ones included, oldest first."""
        ...

    def next_due(self) -> datetime | None:
        """The earliest ``next_action_at`` of any subscription."""
        ...


class Subscriptions(SubscriptionReads, Protocol):
    """Subscriptions, and the due work they schedule."""

    def open_of(self, msisdn: str) -> list[Subscription]:
        """The subscriber's open subscriptions (``OPEN_STATUSES``), oldest first."""
        ...

    def open_of_package(self, package: str) -> list[Subscription]:
        """Every open subscription to ``package`` (a price change reaches them), oldest
        first (then by id)."""
        ...

    def put(self, subscription: Subscription) -> None:
        """Insert or update by id; the subscriber must exist."""
        ...

    def due(self, until: datetime, limit: int) -> list[Subscription]:
        """Up to ``limit`` subscriptions with ``next_action_at <= until``, by
        ``next_action_at`` then id."""
        ...


class Billing(Protocol):
    """Money written: charges (a postpaid one is its invoice line) and the ledger
    entries prepaid ones cause."""

    def add_charge(self, charge: ChargeRecord) -> None: ...
    def add_ledger_entry(self, entry: LedgerEntry) -> None: ...


class Outbox(Protocol):
    """MTs to publish, and the MOs they answer (an MO id is recorded once)."""

    def add(self, message: Outgoing, *, answer: bool = True) -> None:
        """Queue an MT; ``answer=False`` keeps it out of ``replies_to`` (an apology)."""
        ...

    def mark_published(self, ids: Sequence[str]) -> None: ...

    def record_inbound(self, message: InboundSms, received_at: datetime) -> None:
        """Record an MO; the same (msisdn, id) twice is the store's integrity error."""
        ...

    def replies_to(self, msisdn: str, inbound_id: str) -> list[Outgoing] | None:
        """The replies already queued for an inbound message, or None if it is new."""
        ...


class Meta(Protocol):
    """Small named values (the virtual clock, announcements done)."""

    def get(self, key: str) -> str | None: ...
    def set(self, key: str, value: str) -> None: ...


class Handsets(Protocol):
    """Each subscriber's handset state (only those ever set: the others are ``on``)."""

    def get(self, msisdn: str) -> HandsetView | None: ...
    def set(self, msisdn: str, state: HandsetState, at: datetime) -> None: ...


class SmscReads(Protocol):
    """The SMSC's records, read (query_sm, the application queues, the outcome loop)."""

    def message(self, message_id: str) -> SmscMessage | None: ...

    def next_due(self) -> datetime | None:
        """The earliest ``due_at`` of a message still ``ENROUTE``."""
        ...

    def queued(self, account: str, limit: int) -> list[QueuedDelivery]:
        """Up to ``limit`` deliveries owed to ``account`` not yet acknowledged, by ``seq``."""
        ...


class SmscRecords(SmscReads, Protocol):
    """The SMSC's records (docs/smpp.md): an application's deliveries and its messages."""

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
        """Owe ``account`` a deliver_sm; the same id twice is kept once."""
        ...

    def delivered(self, seq: int, at: datetime) -> None: ...
    def attempted(self, seq: int) -> None: ...

    def add_message(self, message: SmscMessage) -> None:
        """Insert, or replace the message with the same id."""
        ...

    def due(self, until: datetime, limit: int) -> list[SmscMessage]:
        """Up to ``limit`` messages ``ENROUTE`` with ``due_at <= until``, by ``due_at``,
        then ``submitted_at``, then id."""
        ...

    def hold(self, message_id: str) -> None:
        """A pending message waits until its validity ends (``due_at = expires_at``)."""
        ...

    def release(self, msisdn: str, at: datetime) -> None:
        """The held messages to ``msisdn`` (``due_at = expires_at > at``) are due ``at``."""
        ...

    def matching(
        self, account: str, *, message_id: str, shortcode: str, msisdn: str
    ) -> list[SmscMessage]:
        """``account``'s pending messages from ``shortcode``: the one with ``message_id``
        (to ``msisdn`` when given), or with no id every one to ``msisdn`` (cancel_sm)."""
        ...

    def finish(self, message_id: str, *, state: str, error: int, at: datetime) -> bool:
        """A pending message's final state, done ``at``; False if it was final already."""
        ...


class ActivityLog(Protocol):
    """Plan events that have no row of their own (failed renewal, expiry, cancel)."""

    def add(self, event: LiveEvent) -> None: ...


class Conversations(Protocol):
    """The one open question per sender and short code."""

    def get(self, msisdn: str, shortcode: str) -> Conversation | None: ...
    def put(self, conversation: Conversation) -> None:
        """Insert, or replace the one for the same sender and short code."""
        ...

    def delete(self, msisdn: str, shortcode: str) -> None: ...


class Usage(Protocol):
    """Usage records (an event id is recorded once per subscriber)."""

    def add(self, record: UsageRecord) -> None: ...
    def seen(self, msisdn: str, event_id: str) -> bool: ...


class MailQueue(Protocol):
    """Mail to send and what became of it; the mailbox's deletions and read marks."""

    def add(self, mail: OutgoingMail) -> None:
        """Record a mail to send (``queued``); the delivery loop sends it."""
        ...

    def sent(self, ids: Sequence[str], at: datetime) -> None: ...
    def retry(self, mail_id: str, *, attempts: int, next_at: datetime, error: str) -> None: ...
    def failed(self, mail_id: str, *, attempts: int, error: str) -> None: ...

    def delete(self, ids: Sequence[str] | None) -> int:
        """Remove mail from the mailbox (all when ``ids`` is None); queued mail is
        hidden but still delivered. Returns how many were removed."""
        ...

    def mark_read(self, mail_id: str) -> None: ...


class Tickets(Protocol):
    """Support tickets, their events, and the support mail they came from."""

    def next_id(self) -> int: ...
    def get(self, ticket_id: int) -> Ticket | None: ...
    def put(self, ticket: Ticket) -> None: ...
    def add_event(self, event: TicketEvent) -> None: ...

    def of_mail(self, message_ids: Sequence[str]) -> int | None:
        """The ticket a mail answers: the first of these Message-IDs that is one of ours
        (sent for a ticket) or one the support mailbox received."""
        ...

    def support_mail_seen(self, message_id: str) -> int | None:
        """The ticket a support mail with this Message-ID already went to, if any."""
        ...

    def record_support_mail(
        self, *, message_id: str, ticket_id: int, sender: str, subject: str, at: datetime
    ) -> None: ...
