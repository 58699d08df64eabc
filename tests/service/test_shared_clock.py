"""A virtual clock shared by gateways on one store (``GatewayService(shared=True)``).

An advance on one instance stores its target first; the others follow the stored time
and help with the due work; each renewal runs once. Amounts and instants by hand (UTC+7).
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from carrier_rules import Catalog
from gateway.adapters.clock import VirtualClock
from gateway.service.gateway import GatewayService
from gateway.service.timekeeper import VIRTUAL_TARGET_KEY
from tests.service.fakes import FakePublisher, FakeStore
from tests.service.support import local, make_engine, sms

A = "84912345678"
T0 = local(2026, 3, 10, 10, 0)


def _instance(catalog: Catalog, store: FakeStore, start: datetime) -> GatewayService:
    return GatewayService(
        engine=make_engine(catalog, default_balance=4000),
        store=store,
        clock=VirtualClock(start),
        publisher=FakePublisher(),
        shared=True,
    )


async def _clock_reaches(service: GatewayService, to: datetime) -> None:
    async with asyncio.timeout(10):
        while service.clock.now() != to:  # noqa: ASYNC110 - the clock has no event
            await asyncio.sleep(0.05)


async def test_an_advance_on_one_instance_moves_the_other_and_renews_once(
    catalog: Catalog,
) -> None:
    """ZL1 registered at 10/03 10:00 with 4,000đ (3,000đ left); an advance of three days
    on the first instance renews it on 11, 12 and 13/03 at 10:00 (1,000đ each, 0đ left),
    once each though both instances run due work; the second instance's clock follows."""
    store = FakeStore()
    to = local(2026, 3, 13, 10, 0)
    async with _instance(catalog, store, T0) as first, _instance(catalog, store, T0) as second:
        await first.handle_sms(sms(A, "DK ZL1"))
        await first.advance(to=to)
        await _clock_reaches(second, to)
        charges = await second.reads.charges(A)
        balance = (await second.reads.subscriber(A)).subscriber.balance
    assert [(c.reason, c.amount, c.at) for c in charges] == [
        ("registration", 1000, T0),
        ("renewal", 1000, local(2026, 3, 11, 10, 0)),
        ("renewal", 1000, local(2026, 3, 12, 10, 0)),
        ("renewal", 1000, local(2026, 3, 13, 10, 0)),
    ]
    assert balance == 0


async def test_an_instance_started_after_an_unfinished_advance_resumes_at_its_target(
    catalog: Catalog,
) -> None:
    """The advancing instance died after storing its target (13/03 10:00) and before
    running anything: an instance starting on the store resumes at the target and runs
    the two renewals due by then (11 and 12/03), 2,000đ of the 3,000đ left."""
    store = FakeStore()
    async with _instance(catalog, store, T0) as first:
        await first.handle_sms(sms(A, "DK ZL1"))
    to = local(2026, 3, 12, 23, 0)
    await store.transaction(lambda tx: tx.meta.set(VIRTUAL_TARGET_KEY, to.isoformat()))
    async with _instance(catalog, store, T0) as restarted:
        assert restarted.clock.now() == to
        charges = await restarted.reads.charges(A)
        balance = (await restarted.reads.subscriber(A)).subscriber.balance
    assert [c.at for c in charges if c.reason == "renewal"] == [
        local(2026, 3, 11, 10, 0),
        local(2026, 3, 12, 10, 0),
    ]
    assert balance == 3000 - 2000
