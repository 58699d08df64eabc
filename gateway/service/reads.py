"""The read facade: what the HTTP API, the console and the CLI read, outside any write."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from gateway.domain.model import (
    ChargeRecord,
    InvoiceLine,
    LedgerEntry,
    Subscriber,
    Subscription,
    UsageRecord,
)
from gateway.errors import UnknownSubscriber
from gateway.service.ports import Queries, Store

__all__ = ["Reads", "SubscriberView"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SubscriberView:
    subscriber: Subscriber
    subscriptions: list[Subscription]


class Reads:
    """Read-only views of the store; a subscriber that must exist raises
    ``UnknownSubscriber`` when it does not."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def read(self, work: Callable[[Queries], T]) -> T:
        """Run read-only work on the store."""
        return await self._store.query(work)

    async def subscriber(self, msisdn: str) -> SubscriberView:
        def work(q: Queries) -> SubscriberView:
            subscriber = q.subscribers.get(msisdn)
            if subscriber is None:
                raise UnknownSubscriber(msisdn)
            return SubscriberView(subscriber, q.subscriptions.all_of(msisdn))

        return await self._store.query(work)

    async def charges(self, msisdn: str) -> list[ChargeRecord]:
        return await self.checked(msisdn, lambda q: q.billing.charges(msisdn))

    async def ledger(self, msisdn: str) -> list[LedgerEntry]:
        return await self.checked(msisdn, lambda q: q.billing.ledger(msisdn))

    async def invoice(self, msisdn: str, month: str) -> list[InvoiceLine]:
        return await self.checked(msisdn, lambda q: q.billing.invoice_lines(msisdn, month))

    async def usage(self, msisdn: str) -> list[UsageRecord]:
        return await self.checked(msisdn, lambda q: q.usage.all_of(msisdn))

    async def pending_outbox(self) -> int:
        return await self._store.query(lambda q: q.outbox.pending())

    async def stats(self) -> dict[str, Any]:
        return await self._store.query(lambda q: q.reports.stats())

    async def checked(self, msisdn: str, fn: Callable[[Queries], T]) -> T:
        """Read-only ``fn`` for a subscriber that must exist (``UnknownSubscriber`` if not)."""

        def work(q: Queries) -> T:
            if q.subscribers.get(msisdn) is None:
                raise UnknownSubscriber(msisdn)
            return fn(q)

        return await self._store.query(work)
