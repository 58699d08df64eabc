"""In-memory fakes of the service ports: a transactional ``FakeStore`` and a ``FakePublisher``.

``FakeStore`` behaves like the SQLite store where the service can tell: work runs
one transaction at a time; work that raises leaves the state exactly as it was
(a private working copy is taken on begin and swapped in on commit); stored
entities are copies, so mutating what a read returned changes nothing until it is
put back; and the schema's constraints are enforced (a negative balance, a
duplicate inbound id, a charge for an unknown subscription all fail the
transaction like ``CHECK``/``UNIQUE``/``FOREIGN KEY`` would).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from gateway.domain.events import LiveEvent
from gateway.domain.mail import OutgoingMail, StoredMail
from gateway.domain.model import (
    OPEN_STATUSES,
    ChargeRecord,
    Conversation,
    InboundSms,
    InvoiceLine,
    LedgerEntry,
    MessageRecord,
    Outgoing,
    Subscriber,
    Subscription,
    Ticket,
    TicketEvent,
    UsageRecord,
)
from gateway.errors import StorageError

if TYPE_CHECKING:
    from gateway.service.ports import MessagePublisher, Queries, Store, Transaction

__all__ = ["FakeIntegrityError", "FakePublisher", "FakeStore", "FakeStoreFault"]

T = TypeVar("T")


class FakeIntegrityError(StorageError):
    """A write the real schema would reject (CHECK, UNIQUE or FOREIGN KEY)."""


class FakeStoreFault(StorageError):
    """A failure injected by a test (the disk is full, the connection dropped...)."""


@dataclass(slots=True)
class _State:
    """Everything the store holds. Containers are copied per transaction; the
    entities in them are never mutated in place (writes replace them with a fresh
    copy), so a shallow copy of each container is an independent snapshot."""

    subscribers: dict[str, Subscriber] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    charges: dict[str, ChargeRecord] = field(default_factory=dict)
    invoice_lines: dict[str, InvoiceLine] = field(default_factory=dict)
    ledger: list[LedgerEntry] = field(default_factory=list)
    inbound: dict[tuple[str, str], tuple[InboundSms, datetime]] = field(default_factory=dict)
    outbox: dict[str, Outgoing] = field(default_factory=dict)
    published: set[str] = field(default_factory=set)
    not_answers: set[str] = field(default_factory=set)
    meta: dict[str, str] = field(default_factory=dict)
    #: mail in the order recorded; a StoredMail is replaced, never mutated
    mail: dict[str, StoredMail] = field(default_factory=dict)
    hidden_mail: set[str] = field(default_factory=set)
    tickets: dict[int, Ticket] = field(default_factory=dict)
    ticket_events: list[TicketEvent] = field(default_factory=list)
    support_inbox: dict[str, int] = field(default_factory=dict)
    conversations: dict[tuple[str, str], Conversation] = field(default_factory=dict)
    usage: list[UsageRecord] = field(default_factory=list)
    activity: list[LiveEvent] = field(default_factory=list)

    def copy(self) -> _State:
        return _State(
            subscribers=dict(self.subscribers),
            subscriptions=dict(self.subscriptions),
            charges=dict(self.charges),
            invoice_lines=dict(self.invoice_lines),
            ledger=list(self.ledger),
            inbound=dict(self.inbound),
            outbox=dict(self.outbox),
            published=set(self.published),
            not_answers=set(self.not_answers),
            meta=dict(self.meta),
            mail=dict(self.mail),
            hidden_mail=set(self.hidden_mail),
            tickets=dict(self.tickets),
            ticket_events=list(self.ticket_events),
            support_inbox=dict(self.support_inbox),
            conversations=dict(self.conversations),
            usage=list(self.usage),
            activity=list(self.activity),
        )


class FakeSession:
    """Implements both ``Transaction`` and ``Queries`` on one ``_State``."""

    def __init__(self, state: _State, *, fail_inbound_ids: Collection[str] = ()) -> None:
        self._state = state
        self._fail_inbound_ids = fail_inbound_ids

    # -- subscribers -------------------------------------------------------------------

    def get_subscriber(self, msisdn: str) -> Subscriber | None:
        stored = self._state.subscribers.get(msisdn)
        return None if stored is None else dataclasses.replace(stored)

    def put_subscriber(self, subscriber: Subscriber) -> None:
        if subscriber.balance < 0:
            raise FakeIntegrityError(
                f"CHECK (balance >= 0) failed for {subscriber.msisdn}: {subscriber.balance}"
            )
        previous = self._state.subscribers.get(subscriber.msisdn)
        stored = dataclasses.replace(subscriber)
        if previous is not None:  # ON CONFLICT DO UPDATE keeps the original created_at
            stored.created_at = previous.created_at
        self._state.subscribers[subscriber.msisdn] = stored

    # -- subscriptions -----------------------------------------------------------------

    def open_subscriptions(self, msisdn: str) -> list[Subscription]:
        return [s for s in self.subscriptions(msisdn) if s.status in OPEN_STATUSES]

    def open_subscriptions_of(self, package: str) -> list[Subscription]:
        mine = [
            s
            for s in self._state.subscriptions.values()
            if s.package == package and s.status in OPEN_STATUSES
        ]
        return [dataclasses.replace(s) for s in sorted(mine, key=lambda s: (s.started_at, s.id))]

    def subscriptions(self, msisdn: str) -> list[Subscription]:
        mine = [s for s in self._state.subscriptions.values() if s.msisdn == msisdn]
        return [dataclasses.replace(s) for s in sorted(mine, key=lambda s: s.started_at)]

    def put_subscription(self, subscription: Subscription) -> None:
        if subscription.msisdn not in self._state.subscribers:
            raise FakeIntegrityError(f"FOREIGN KEY: no subscriber {subscription.msisdn}")
        self._state.subscriptions[subscription.id] = dataclasses.replace(subscription)

    def due_subscriptions(self, until: datetime, limit: int) -> list[Subscription]:
        due = [
            s
            for s in self._state.subscriptions.values()
            if s.next_action_at is not None and s.next_action_at <= until
        ]
        due.sort(key=lambda s: (s.next_action_at, s.id))
        return [dataclasses.replace(s) for s in due[:limit]]

    def next_due(self) -> datetime | None:
        pending = [
            s.next_action_at
            for s in self._state.subscriptions.values()
            if s.next_action_at is not None
        ]
        return min(pending, default=None)

    # -- money -------------------------------------------------------------------------

    def add_charge(self, charge: ChargeRecord) -> None:
        if charge.id in self._state.charges:
            raise FakeIntegrityError(f"UNIQUE: charge {charge.id} already recorded")
        if charge.msisdn not in self._state.subscribers:
            raise FakeIntegrityError(f"FOREIGN KEY: no subscriber {charge.msisdn}")
        self._state.charges[charge.id] = charge

    def charges(self, msisdn: str) -> list[ChargeRecord]:
        mine = [c for c in self._state.charges.values() if c.msisdn == msisdn]
        return sorted(mine, key=lambda c: c.at)

    def add_invoice_line(self, line: InvoiceLine) -> None:
        if line.charge_id in self._state.invoice_lines:
            raise FakeIntegrityError(f"UNIQUE: invoice line for charge {line.charge_id}")
        if line.charge_id not in self._state.charges:
            raise FakeIntegrityError(f"FOREIGN KEY: no charge {line.charge_id}")
        self._state.invoice_lines[line.charge_id] = line

    def invoice_lines(self, msisdn: str, month: str) -> list[InvoiceLine]:
        mine = [
            line
            for line in self._state.invoice_lines.values()
            if line.msisdn == msisdn and line.month == month
        ]
        return sorted(mine, key=lambda line: (line.at, line.charge_id))

    def add_ledger_entry(self, entry: LedgerEntry) -> None:
        if entry.msisdn not in self._state.subscribers:
            raise FakeIntegrityError(f"FOREIGN KEY: no subscriber {entry.msisdn}")
        if entry.charge_id is not None:
            if entry.charge_id not in self._state.charges:
                raise FakeIntegrityError(f"FOREIGN KEY: no charge {entry.charge_id}")
            if any(e.charge_id == entry.charge_id for e in self._state.ledger):
                raise FakeIntegrityError(f"UNIQUE: ledger entry for charge {entry.charge_id}")
        self._state.ledger.append(entry)

    def ledger(self, msisdn: str) -> list[LedgerEntry]:
        return [e for e in self._state.ledger if e.msisdn == msisdn]

    # -- messages ----------------------------------------------------------------------

    def add_outgoing(self, message: Outgoing, *, answer: bool = True) -> None:
        if message.id in self._state.outbox:
            raise FakeIntegrityError(f"UNIQUE: outgoing {message.id}")
        self._state.outbox[message.id] = message
        if not answer:
            self._state.not_answers.add(message.id)

    def replies_to(self, msisdn: str, inbound_id: str) -> list[Outgoing] | None:
        if (msisdn, inbound_id) not in self._state.inbound:
            return None
        return [
            m
            for m in self._state.outbox.values()
            if m.msisdn == msisdn
            and m.in_reply_to == inbound_id
            and m.id not in self._state.not_answers
        ]

    def record_inbound(self, message: InboundSms, received_at: datetime) -> None:
        if message.id in self._fail_inbound_ids:
            raise FakeStoreFault(f"injected failure recording inbound {message.id}")
        key = (message.msisdn, message.id)
        if key in self._state.inbound:
            raise FakeIntegrityError(f"PRIMARY KEY: inbound {key} already recorded")
        self._state.inbound[key] = (message, received_at)

    def unpublished(self, limit: int) -> list[Outgoing]:
        pending = [m for i, m in self._state.outbox.items() if i not in self._state.published]
        return pending[:limit]

    def mark_published(self, ids: Sequence[str]) -> None:
        self._state.published.update(i for i in ids if i in self._state.outbox)

    # -- meta --------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        return self._state.meta.get(key)

    def set_meta(self, key: str, value: str) -> None:
        self._state.meta[key] = value

    def pending_outbox(self) -> int:
        return len(self._state.outbox) - len(self._state.published)

    def stats(self) -> dict[str, Any]:
        return {
            "subscribers": len(self._state.subscribers),
            "open_subscriptions": sum(
                1 for s in self._state.subscriptions.values() if s.next_action_at is not None
            ),
            "unpublished": len(self._state.outbox) - len(self._state.published),
        }

    # -- conversations and usage --------------------------------------------------------

    def get_conversation(self, msisdn: str, shortcode: str) -> Conversation | None:
        stored = self._state.conversations.get((msisdn, shortcode))
        return None if stored is None else dataclasses.replace(stored, data=dict(stored.data))

    def put_conversation(self, conversation: Conversation) -> None:
        key = (conversation.msisdn, conversation.shortcode)
        self._state.conversations[key] = dataclasses.replace(
            conversation, data=dict(conversation.data)
        )

    def delete_conversation(self, msisdn: str, shortcode: str) -> None:
        self._state.conversations.pop((msisdn, shortcode), None)

    def add_usage(self, record: UsageRecord) -> None:
        if record.msisdn not in self._state.subscribers:
            raise FakeIntegrityError(f"FOREIGN KEY: no subscriber {record.msisdn}")
        if record.event_id is not None and self.usage_seen(record.msisdn, record.event_id):
            raise FakeIntegrityError(f"UNIQUE: usage {record.msisdn} {record.event_id}")
        self._state.usage.append(record)

    def usage_seen(self, msisdn: str, event_id: str) -> bool:
        return any(u.msisdn == msisdn and u.event_id == event_id for u in self._state.usage)

    def usage(self, msisdn: str) -> list[UsageRecord]:
        return [u for u in self._state.usage if u.msisdn == msisdn]

    # -- the console's views --------------------------------------------------------------

    def add_activity(self, event: LiveEvent) -> None:
        self._state.activity.append(event)

    def activity(self, msisdn: str) -> list[LiveEvent]:
        return [e for e in self._state.activity if e.msisdn == msisdn]

    def activity_between(self, kind: str, start: datetime, end: datetime) -> list[LiveEvent]:
        return [e for e in self._state.activity if e.kind == kind and start <= e.at < end]

    def search_subscribers(self, query: str, limit: int) -> list[Subscriber]:
        found = [
            dataclasses.replace(s)
            for s in sorted(self._state.subscribers.values(), key=lambda s: s.msisdn)
            if query in s.msisdn or (s.email is not None and query in s.email)
        ]
        return found[:limit]

    def invoice_months(self, msisdn: str) -> list[tuple[str, int, int]]:
        months: dict[str, list[int]] = {}
        for line in self._state.invoice_lines.values():
            if line.msisdn == msisdn:
                months.setdefault(line.month, []).append(line.amount)
        return [(m, sum(a), len(a)) for m, a in sorted(months.items(), reverse=True)]

    def messages(self, msisdn: str, shortcode: str | None, limit: int) -> list[MessageRecord]:
        found = [
            MessageRecord("mo", m.id, m.shortcode, m.text, at)
            for m, at in self._state.inbound.values()
            if m.msisdn == msisdn and shortcode in (None, m.shortcode)
        ] + [
            MessageRecord(
                "mt", o.id, o.shortcode, o.text, o.at, o.encoding, o.segments, o.in_reply_to
            )
            for o in self._state.outbox.values()
            if o.msisdn == msisdn and shortcode in (None, o.shortcode)
        ]
        found.sort(key=lambda m: (m.at, m.direction != "mo"))
        return found[-limit:]

    def charges_between(self, start: datetime, end: datetime) -> list[ChargeRecord]:
        return sorted(
            (c for c in self._state.charges.values() if start <= c.at < end), key=lambda c: c.at
        )

    def active_at(self, instants: Sequence[datetime]) -> list[int]:
        return [
            sum(
                1
                for s in self._state.subscriptions.values()
                if s.started_at <= at
                and (s.status in OPEN_STATUSES or s.expires_at > at)
                and (s.price is None or s.price > 0)
            )
            for at in instants
        ]

    # -- email channel -----------------------------------------------------------------

    def subscriber_by_email(self, address: str) -> Subscriber | None:
        for stored in self._state.subscribers.values():
            if stored.email == address and stored.status == "active":
                return dataclasses.replace(stored)
        return None

    def add_mail(self, mail: OutgoingMail) -> None:
        if mail.id in self._state.mail:
            raise FakeIntegrityError(f"UNIQUE: mail {mail.id}")
        self._state.mail[mail.id] = StoredMail(mail, "queued")

    def _update_mail(self, mail_id: str, **changes: Any) -> None:
        stored = self._state.mail.get(mail_id)
        if stored is not None and stored.status == "queued":
            self._state.mail[mail_id] = dataclasses.replace(stored, **changes)

    def mail_sent(self, ids: Sequence[str], at: datetime) -> None:
        for mail_id in ids:
            stored = self._state.mail.get(mail_id)
            attempts = 0 if stored is None else stored.attempts + 1
            self._update_mail(mail_id, status="sent", sent_at=at, attempts=attempts)

    def mail_retry(self, mail_id: str, *, attempts: int, next_at: datetime, error: str) -> None:
        self._update_mail(mail_id, attempts=attempts, last_error=error)

    def mail_failed(self, mail_id: str, *, attempts: int, error: str) -> None:
        self._update_mail(mail_id, status="failed", attempts=attempts, last_error=error)

    def delete_mail(self, ids: Sequence[str] | None) -> int:
        chosen = [
            i for i in (ids if ids is not None else list(self._state.mail)) if i in self._state.mail
        ]
        removed = 0
        for mail_id in chosen:
            if self._state.mail[mail_id].status == "queued":
                if mail_id not in self._state.hidden_mail:
                    self._state.hidden_mail.add(mail_id)
                    removed += 1
            else:
                del self._state.mail[mail_id]
                removed += 1
        return removed

    def mark_mail_read(self, mail_id: str) -> None:
        stored = self._state.mail.get(mail_id)
        if stored is not None:
            self._state.mail[mail_id] = dataclasses.replace(stored, read=True)

    def queued_mail(self, due: datetime, limit: int) -> list[StoredMail]:
        return [m for m in self._state.mail.values() if m.status == "queued"][:limit]

    def next_mail_attempt(self) -> datetime | None:
        queued = [m.mail.at for m in self._state.mail.values() if m.status == "queued"]
        return min(queued, default=None)

    def _visible_mail(self) -> list[StoredMail]:
        return [
            m for i, m in reversed(self._state.mail.items()) if i not in self._state.hidden_mail
        ]

    def mails(self, *, start: int, limit: int) -> tuple[list[StoredMail], int, int]:
        visible = self._visible_mail()
        unread = sum(1 for m in visible if not m.read)
        return visible[start : start + limit], len(visible), unread

    def all_mail(self, limit: int) -> list[StoredMail]:
        return self._visible_mail()[:limit]

    def get_mail(self, mail_id: str) -> StoredMail | None:
        if mail_id in self._state.hidden_mail:
            return None
        return self._state.mail.get(mail_id)

    def ticket_mail(self, ticket_id: int) -> list[StoredMail]:
        return [m for m in self._state.mail.values() if m.mail.ticket_id == ticket_id]

    def next_ticket_id(self) -> int:
        return max(self._state.tickets, default=0) + 1

    def get_ticket(self, ticket_id: int) -> Ticket | None:
        stored = self._state.tickets.get(ticket_id)
        return None if stored is None else dataclasses.replace(stored)

    def put_ticket(self, ticket: Ticket) -> None:
        if ticket.msisdn is not None and ticket.msisdn not in self._state.subscribers:
            raise FakeIntegrityError(f"FOREIGN KEY: no subscriber {ticket.msisdn}")
        self._state.tickets[ticket.id] = dataclasses.replace(ticket)

    def tickets(self) -> list[Ticket]:
        return [dataclasses.replace(t) for _, t in sorted(self._state.tickets.items())]

    def add_ticket_event(self, event: TicketEvent) -> None:
        if event.ticket_id not in self._state.tickets:
            raise FakeIntegrityError(f"FOREIGN KEY: no ticket {event.ticket_id}")
        self._state.ticket_events.append(event)

    def ticket_events(self, ticket_id: int) -> list[TicketEvent]:
        return [e for e in self._state.ticket_events if e.ticket_id == ticket_id]

    def ticket_of_mail(self, message_ids: Sequence[str]) -> int | None:
        for message_id in message_ids:
            local = message_id.partition("@")[0]
            stored = self._state.mail.get(local)
            if stored is not None and stored.mail.ticket_id is not None:
                return stored.mail.ticket_id
            if message_id in self._state.support_inbox:
                return self._state.support_inbox[message_id]
        return None

    def support_mail_seen(self, message_id: str) -> int | None:
        return self._state.support_inbox.get(message_id)

    def record_support_mail(
        self, *, message_id: str, ticket_id: int, sender: str, subject: str, at: datetime
    ) -> None:
        if message_id in self._state.support_inbox:
            raise FakeIntegrityError(f"PRIMARY KEY: support mail {message_id}")
        self._state.support_inbox[message_id] = ticket_id


def _check_deferred(state: _State) -> None:
    """Constraints SQLite checks at COMMIT (``DEFERRABLE INITIALLY DEFERRED``)."""
    for charge in state.charges.values():
        if charge.subscription_id is not None and charge.subscription_id not in state.subscriptions:
            raise FakeIntegrityError(
                f"FOREIGN KEY: charge {charge.id} names no subscription {charge.subscription_id}"
            )


class FakeStore:
    """The ``Store`` port in memory, with real transaction semantics.

    ``fail_inbound_ids``: ids of inbound messages whose recording raises
    ``FakeStoreFault`` (a test can clear it to let the store recover).
    """

    def __init__(self, *, fail_inbound_ids: Collection[str] = ()) -> None:
        self._state = _State()
        self._lock = asyncio.Lock()
        self._closed = False
        self.fail_inbound_ids: set[str] = set(fail_inbound_ids)
        self.commits = 0
        self.rollbacks = 0

    async def transaction(self, work: Callable[[Transaction], T], *, durable: bool = True) -> T:
        async with self._lock:
            await asyncio.sleep(0)  # a real store hands the work to another thread
            self._ensure_open()
            working = self._state.copy()
            try:
                result = work(FakeSession(working, fail_inbound_ids=self.fail_inbound_ids))
                _check_deferred(working)
            except BaseException:
                self.rollbacks += 1
                raise
            self._state = working
            self.commits += 1
            return result

    async def query(self, work: Callable[[Queries], T]) -> T:
        async with self._lock:
            await asyncio.sleep(0)
            self._ensure_open()
            return work(self.view())

    async def close(self) -> None:
        self._closed = True

    def view(self) -> FakeSession:
        """Synchronous read access to the committed state, for assertions.

        It reads a snapshot: writing through it changes nothing in the store.
        """
        return FakeSession(self._state.copy())

    def snapshot(self) -> object:
        """An independent copy of the whole committed state; equal iff nothing changed."""
        return self._state.copy()

    def outbox(self) -> list[Outgoing]:
        """Every committed outgoing message, in the order it was written."""
        return list(self._state.outbox.values())

    def _ensure_open(self) -> None:
        if self._closed:
            raise StorageError("the store is not open")


class FakePublisher:
    """The ``MessagePublisher`` port: records what it is asked to publish.

    ``failures`` publish attempts raise ``ConnectionError`` before it accepts any.
    """

    def __init__(self, *, failures: int = 0) -> None:
        self.failures = failures
        self.attempts = 0
        self.messages: list[Outgoing] = []
        self.errors: list[dict[str, Any]] = []

    async def publish(self, messages: Sequence[Outgoing]) -> None:
        self.attempts += 1
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("fake broker unavailable")
        self.messages.extend(messages)

    async def publish_error(self, event: dict[str, Any]) -> None:
        self.errors.append(dict(event))

    def texts_to(self, msisdn: str) -> list[str]:
        return [m.text for m in self.messages if m.msisdn == msisdn]


if TYPE_CHECKING:  # mypy --strict proves the fakes implement the ports
    _store: Store = FakeStore()
    _transaction: Transaction = FakeSession(_State())
    _queries: Queries = FakeSession(_State())
    _publisher: MessagePublisher = FakePublisher()
