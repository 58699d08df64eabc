"""In-memory repositories for accounts: subscribers, subscriptions, money, usage, conversations.

Each enforces the schema's constraints on its own rows (``FakeIntegrityError``) and
hands out copies, so changing what a read returned stores nothing.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from gateway.domain.model import (
    OPEN_STATUSES,
    ChargeRecord,
    Conversation,
    InvoiceLine,
    LedgerEntry,
    Subscriber,
    Subscription,
    UsageRecord,
)
from tests.service.fake_state import FakeIntegrityError, FakeState

__all__ = [
    "FakeBilling",
    "FakeConversations",
    "FakeSubscribers",
    "FakeSubscriptions",
    "FakeUsage",
]


class FakeSubscribers:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def get(self, msisdn: str) -> Subscriber | None:
        stored = self._state.subscribers.get(msisdn)
        return None if stored is None else dataclasses.replace(stored)

    def by_email(self, address: str) -> Subscriber | None:
        for stored in self._state.subscribers.values():
            if stored.email == address and stored.status == "active":
                return dataclasses.replace(stored)
        return None

    def put(self, subscriber: Subscriber) -> None:
        if subscriber.balance < 0:
            raise FakeIntegrityError(
                f"CHECK (balance >= 0) failed for {subscriber.msisdn}: {subscriber.balance}"
            )
        previous = self._state.subscribers.get(subscriber.msisdn)
        stored = dataclasses.replace(subscriber)
        if previous is not None:  # ON CONFLICT DO UPDATE keeps the original created_at
            stored.created_at = previous.created_at
        self._state.subscribers[subscriber.msisdn] = stored


class FakeSubscriptions:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def open_of(self, msisdn: str) -> list[Subscription]:
        return [s for s in self.all_of(msisdn) if s.status in OPEN_STATUSES]

    def open_of_package(self, package: str) -> list[Subscription]:
        mine = [
            s
            for s in self._state.subscriptions.values()
            if s.package == package and s.status in OPEN_STATUSES
        ]
        return [dataclasses.replace(s) for s in sorted(mine, key=lambda s: (s.started_at, s.id))]

    def all_of(self, msisdn: str) -> list[Subscription]:
        mine = [s for s in self._state.subscriptions.values() if s.msisdn == msisdn]
        return [dataclasses.replace(s) for s in sorted(mine, key=lambda s: s.started_at)]

    def put(self, subscription: Subscription) -> None:
        if subscription.msisdn not in self._state.subscribers:
            raise FakeIntegrityError(f"FOREIGN KEY: no subscriber {subscription.msisdn}")
        self._state.subscriptions[subscription.id] = dataclasses.replace(subscription)

    def due(self, until: datetime, limit: int) -> list[Subscription]:
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


class FakeBilling:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def add_charge(self, charge: ChargeRecord) -> None:
        if charge.id in self._state.charges:
            raise FakeIntegrityError(f"UNIQUE: charge {charge.id} already recorded")
        if charge.msisdn not in self._state.subscribers:
            raise FakeIntegrityError(f"FOREIGN KEY: no subscriber {charge.msisdn}")
        self._state.charges[charge.id] = charge

    def add_ledger_entry(self, entry: LedgerEntry) -> None:
        if entry.msisdn not in self._state.subscribers:
            raise FakeIntegrityError(f"FOREIGN KEY: no subscriber {entry.msisdn}")
        if entry.charge_id is not None:
            if entry.charge_id not in self._state.charges:
                raise FakeIntegrityError(f"FOREIGN KEY: no charge {entry.charge_id}")
            if any(e.charge_id == entry.charge_id for e in self._state.ledger):
                raise FakeIntegrityError(f"UNIQUE: ledger entry for charge {entry.charge_id}")
        self._state.ledger.append(entry)

    def charges(self, msisdn: str) -> list[ChargeRecord]:
        mine = [c for c in self._state.charges.values() if c.msisdn == msisdn]
        return sorted(mine, key=lambda c: c.at)

    def _lines(self, msisdn: str) -> list[InvoiceLine]:
        """A postpaid charge is its invoice line (SQL: the view ``invoice_lines``)."""
        return [
            InvoiceLine(
                c.id,
                c.msisdn,
                c.invoice_month,
                c.package,
                f"{c.package} {c.reason}",
                c.amount,
                c.at,
            )
            for c in self._state.charges.values()
            if c.msisdn == msisdn and c.billing == "invoice" and c.invoice_month is not None
        ]

    def invoice_lines(self, msisdn: str, month: str) -> list[InvoiceLine]:
        mine = [line for line in self._lines(msisdn) if line.month == month]
        return sorted(mine, key=lambda line: (line.at, line.charge_id))

    def invoice_months(self, msisdn: str) -> list[tuple[str, int, int]]:
        months: dict[str, list[int]] = {}
        for line in self._lines(msisdn):
            months.setdefault(line.month, []).append(line.amount)
        return [(m, sum(a), len(a)) for m, a in sorted(months.items(), reverse=True)]

    def ledger(self, msisdn: str) -> list[LedgerEntry]:
        return [e for e in self._state.ledger if e.msisdn == msisdn]


class FakeUsage:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def add(self, record: UsageRecord) -> None:
        if record.msisdn not in self._state.subscribers:
            raise FakeIntegrityError(f"FOREIGN KEY: no subscriber {record.msisdn}")
        if record.event_id is not None and self.seen(record.msisdn, record.event_id):
            raise FakeIntegrityError(f"UNIQUE: usage {record.msisdn} {record.event_id}")
        self._state.usage.append(record)

    def seen(self, msisdn: str, event_id: str) -> bool:
        return any(u.msisdn == msisdn and u.event_id == event_id for u in self._state.usage)

    def all_of(self, msisdn: str) -> list[UsageRecord]:
        return sorted((u for u in self._state.usage if u.msisdn == msisdn), key=lambda u: u.at)


class FakeConversations:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def get(self, msisdn: str, shortcode: str) -> Conversation | None:
        stored = self._state.conversations.get((msisdn, shortcode))
        return None if stored is None else dataclasses.replace(stored, data=dict(stored.data))

    def put(self, conversation: Conversation) -> None:
        key = (conversation.msisdn, conversation.shortcode)
        self._state.conversations[key] = dataclasses.replace(
            conversation, data=dict(conversation.data)
        )

    def delete(self, msisdn: str, shortcode: str) -> None:
        self._state.conversations.pop((msisdn, shortcode), None)
