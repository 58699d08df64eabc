"""The in-memory fake store's state and the errors its constraints raise."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from gateway.domain.events import LiveEvent
from gateway.domain.handsets import HandsetView
from gateway.domain.mail import StoredMail
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
from gateway.domain.smsc import QueuedDelivery, SmscMessage
from gateway.errors import StorageError

__all__ = ["FakeIntegrityError", "FakeState", "FakeStoreFault", "check_deferred"]


class FakeIntegrityError(StorageError):
    """A write the real schema would reject (CHECK, UNIQUE or FOREIGN KEY)."""


class FakeStoreFault(StorageError):
    """A failure injected by a test (the disk is full, the connection dropped...)."""


@dataclass(slots=True)
class FakeState:
    """Everything the store holds. Containers are copied per transaction; the
    entities in them are never mutated in place (writes replace them with a fresh
    copy), so a shallow copy of each container is an independent snapshot."""

    subscribers: dict[str, Subscriber] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    charges: dict[str, ChargeRecord] = field(default_factory=dict)
    ledger: list[LedgerEntry] = field(default_factory=list)
    inbound: dict[tuple[str, str], tuple[InboundSms, datetime]] = field(default_factory=dict)
    outbox: dict[str, Outgoing] = field(default_factory=dict)
    published: set[str] = field(default_factory=set)
    not_answers: set[str] = field(default_factory=set)
    meta: dict[str, str] = field(default_factory=dict)
    handsets: dict[str, HandsetView] = field(default_factory=dict)
    #: mail in the order recorded; a StoredMail is replaced, never mutated
    mail: dict[str, StoredMail] = field(default_factory=dict)
    hidden_mail: set[str] = field(default_factory=set)
    #: when each queued mail's next attempt is due
    mail_next_attempt: dict[str, datetime] = field(default_factory=dict)
    tickets: dict[int, Ticket] = field(default_factory=dict)
    ticket_events: list[TicketEvent] = field(default_factory=list)
    support_inbox: dict[str, int] = field(default_factory=dict)
    conversations: dict[tuple[str, str], Conversation] = field(default_factory=dict)
    usage: list[UsageRecord] = field(default_factory=list)
    activity: list[LiveEvent] = field(default_factory=list)
    smsc_messages: dict[str, SmscMessage] = field(default_factory=dict)
    #: the SMSC's deliveries by seq, and the seqs acknowledged
    smsc_queue: dict[int, QueuedDelivery] = field(default_factory=dict)
    smsc_done: set[int] = field(default_factory=set)

    def copy(self) -> FakeState:
        return FakeState(
            subscribers=dict(self.subscribers),
            subscriptions=dict(self.subscriptions),
            charges=dict(self.charges),
            ledger=list(self.ledger),
            inbound=dict(self.inbound),
            outbox=dict(self.outbox),
            published=set(self.published),
            not_answers=set(self.not_answers),
            meta=dict(self.meta),
            handsets=dict(self.handsets),
            mail=dict(self.mail),
            hidden_mail=set(self.hidden_mail),
            mail_next_attempt=dict(self.mail_next_attempt),
            tickets=dict(self.tickets),
            ticket_events=list(self.ticket_events),
            support_inbox=dict(self.support_inbox),
            conversations=dict(self.conversations),
            usage=list(self.usage),
            activity=list(self.activity),
            smsc_messages=dict(self.smsc_messages),
            smsc_queue=dict(self.smsc_queue),
            smsc_done=set(self.smsc_done),
        )


def check_deferred(state: FakeState) -> None:
    """Constraints SQLite checks at COMMIT (``DEFERRABLE INITIALLY DEFERRED``)."""
    for charge in state.charges.values():
        if charge.subscription_id is not None and charge.subscription_id not in state.subscriptions:
            raise FakeIntegrityError(
                f"FOREIGN KEY: charge {charge.id} names no subscription {charge.subscription_id}"
            )
