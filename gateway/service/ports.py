"""Ports: what the service layer needs from storage, the clock and the transports."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from gateway.domain.mail import DeliveryOutcome, OutgoingMail
from gateway.domain.model import Outgoing
from gateway.service.read_models import (
    BillingReads,
    ConsoleReads,
    HandsetReads,
    MailboxReads,
    MailQueueReads,
    MetaReads,
    OutboxReads,
    RecordingReads,
    ReportReads,
    TicketReads,
    UsageReads,
)
from gateway.service.repositories import (
    ActivityLog,
    Billing,
    Conversations,
    Handsets,
    MailQueue,
    Meta,
    Outbox,
    SmscReads,
    SmscRecords,
    SubscriberReads,
    Subscribers,
    SubscriptionReads,
    Subscriptions,
    Tickets,
    Usage,
)

__all__ = ["Clock", "MailSender", "MessagePublisher", "Queries", "Store", "Transaction"]

T = TypeVar("T")


class Clock(Protocol):
    """The only source of "now" for the service layer."""

    @property
    def mode(self) -> str: ...

    def now(self) -> datetime: ...

    def set(self, to: datetime) -> None:
        """Move a virtual clock forward; a real clock raises ``ClockError``."""
        ...


class Transaction(Protocol):
    """A unit of work: the role repositories of one atomic transaction.

    Everything written through one transaction is committed together or not at all:
    the charge, the subscription change and the replies to send (the outbox).
    """

    @property
    def subscribers(self) -> Subscribers: ...
    @property
    def subscriptions(self) -> Subscriptions: ...
    @property
    def billing(self) -> Billing: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def meta(self) -> Meta: ...
    @property
    def handsets(self) -> Handsets: ...
    @property
    def smsc(self) -> SmscRecords: ...
    @property
    def activity(self) -> ActivityLog: ...
    @property
    def conversations(self) -> Conversations: ...
    @property
    def usage(self) -> Usage: ...
    @property
    def mail(self) -> MailQueue: ...
    @property
    def tickets(self) -> Tickets: ...

    def prefetch(self, msisdns: Collection[str], mos: Collection[tuple[str, str]]) -> None:
        """A hint, changing no read: the accounts and open subscriptions of ``msisdns``
        and whether the MOs ``mos`` (sender, MO id) were seen before, fetched together
        (one round trip each instead of one per MO) for the reads that follow."""
        ...


class Queries(Protocol):
    """The read models, for the HTTP API, the console, the pipeline and start-up."""

    @property
    def subscribers(self) -> SubscriberReads: ...
    @property
    def subscriptions(self) -> SubscriptionReads: ...
    @property
    def billing(self) -> BillingReads: ...
    @property
    def usage(self) -> UsageReads: ...
    @property
    def outbox(self) -> OutboxReads: ...
    @property
    def meta(self) -> MetaReads: ...
    @property
    def handsets(self) -> HandsetReads: ...
    @property
    def smsc(self) -> SmscReads: ...
    @property
    def mail(self) -> MailQueueReads: ...
    @property
    def mailbox(self) -> MailboxReads: ...
    @property
    def tickets(self) -> TicketReads: ...
    @property
    def console(self) -> ConsoleReads: ...
    @property
    def reports(self) -> ReportReads: ...
    @property
    def recording(self) -> RecordingReads: ...


class Store(Protocol):
    """Durable state. Work runs serialised, one transaction at a time."""

    async def transaction(
        self,
        work: Callable[[Transaction], T],
        *,
        durable: bool = True,
        serialise: Collection[str] = (),
    ) -> T:
        """Run ``work`` atomically. ``durable=False`` may skip the flush to disk: for
        bookkeeping that is safe to lose on a power cut (it becomes durable with the
        next durable commit). ``serialise``: the MSISDNs whose state the work changes;
        a store shared by several gateways runs works on the same subscriber one after
        the other (docs/scale-out.md)."""
        ...

    async def query(self, work: Callable[[Queries], T]) -> T: ...
    async def close(self) -> None: ...


class MessagePublisher(Protocol):
    """Outbound transport for MT messages and error events."""

    async def publish(self, messages: Sequence[Outgoing]) -> None:
        """Publish every message; return only when the transport has accepted all."""
        ...

    async def publish_error(self, event: dict[str, Any]) -> None: ...


class MailSender(Protocol):
    """Outbound transport for mail: a relay, or the gateway's own sink."""

    async def deliver(self, batch: Sequence[tuple[OutgoingMail, bytes]]) -> list[DeliveryOutcome]:
        """Deliver each ``(mail, raw RFC 5322 bytes)``: one outcome per mail, in order.
        Never raises for a delivery problem (it is an outcome)."""
        ...

    async def close(self) -> None: ...
    def describe(self) -> str:
        """Where mail goes, for logs and health (no password)."""
        ...
