"""The outbox pipelines its batches: a reply does not wait for the batch before it.

A broker that has not yet acknowledged one batch of MTs (its PUBACKs are late) must not
hold the next reply back; both are marked published once acknowledged, and ``drained``
waits for the late one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from carrier_rules import Catalog
from gateway.domain.model import Outgoing
from gateway.service.ports import Queries
from tests.service.fakes import FakePublisher, FakeStore
from tests.service.support import local, make_service, sms

A = "84912345678"
B = "84912000002"


def _pending(q: Queries) -> int:
    return q.outbox.pending()


class LateFirstPublisher(FakePublisher):
    """Starts every publish at once; the first one returns (is acknowledged) only when
    ``release`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.started: list[list[str]] = []
        self.release = asyncio.Event()

    async def publish(self, messages: Sequence[Outgoing]) -> None:
        self.started.append([m.msisdn for m in messages])
        if len(self.started) == 1:
            await self.release.wait()
        await super().publish(messages)


async def test_a_reply_is_published_while_the_batch_before_it_waits_for_its_puback(
    catalog: Catalog,
) -> None:
    store, publisher = FakeStore(), LateFirstPublisher()
    async with make_service(
        catalog, start=local(2026, 3, 10, 10), store=store, publisher=publisher
    ) as svc:
        await svc.handle_sms(sms(A, "KTTK_ZL"))
        async with asyncio.timeout(5):
            while not publisher.started:  # noqa: ASYNC110 - the outbox has no event for it
                await asyncio.sleep(0.01)
        await svc.handle_sms(sms(B, "KTTK_ZL"))
        async with asyncio.timeout(5):  # B's reply goes out while A's is unacknowledged
            while [m.msisdn for m in publisher.messages] != [B]:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        assert publisher.started == [[A], [B]]  # started in the order they were committed
        drained = asyncio.create_task(svc.drained())
        await asyncio.sleep(0.2)
        assert not drained.done()  # A's MT is not acknowledged yet
        assert await store.query(_pending) == 1  # ... nor marked
        publisher.release.set()
        async with asyncio.timeout(5):
            await drained
        assert [m.msisdn for m in publisher.messages] == [B, A]
        assert await store.query(_pending) == 0
