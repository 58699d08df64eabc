"""The virtual clock of ``GatewayService``: ``advance(to=...)``, restarts, and its limits.

Advancing runs every due renewal at its own instant and in time order, across
subscribers and across due chunks; what fell due while the gateway was stopped runs
at start-up. Every amount and instant is worked out by hand (UTC+7).
"""

from __future__ import annotations

import pytest

from carrier_rules import Catalog
from gateway.adapters.clock import SystemClock
from gateway.errors import ClockError
from gateway.service.gateway import AdvanceResult, GatewayService
from tests.service.fakes import FakePublisher, FakeStore
from tests.service.support import local, make_engine, make_service, sms

A = "84912345678"
B = "84912000002"
C = "84912000003"
T0 = local(2026, 3, 10, 10, 0)


def _renewed_zl1(expires: str) -> str:
    return (
        f"Goi ZL1 da duoc gia han, cuoc 1.000d tru vao TK chinh. Het han {expires}."
        " Huy: soan HUY ZL1 gui 888."
    )


async def test_advance_runs_every_renewal_at_its_own_instant_then_a_top_up_renews_at_once(
    catalog: Catalog,
) -> None:
    """ZL1 at 10/03 10:00 with 4,000đ (3,000đ left after registration), advanced 5 days:
    11, 12, 13/03 10:00 renew (2,000đ, 1,000đ, 0đ), 14/03 10:00 fails, 15/03 10:00 retries
    silently. A 5,000đ top-up at 15/03 12:30 renews at once: 4,000đ, ends 12:30 16/03."""
    store, publisher = FakeStore(), FakePublisher()
    async with make_service(
        catalog, start=T0, store=store, publisher=publisher, default_balance=4000
    ) as svc:
        await svc.handle_sms(sms(A, "DK ZL1"))
        assert (await svc.reads.subscriber(A)).subscriber.balance == 3000

        advanced = await svc.advance(to=local(2026, 3, 15, 10, 0))
        await svc.drained()

        assert advanced == AdvanceResult(now=local(2026, 3, 15, 10, 0), processed=5)
        assert svc.clock.now() == local(2026, 3, 15, 10, 0)
        assert [(m.text, m.at) for m in publisher.messages[1:]] == [
            (_renewed_zl1("10:00 12/03/2026"), local(2026, 3, 11, 10, 0)),
            (_renewed_zl1("10:00 13/03/2026"), local(2026, 3, 12, 10, 0)),
            (_renewed_zl1("10:00 14/03/2026"), local(2026, 3, 13, 10, 0)),
            (
                "Gia han goi ZL1 khong thanh cong do TK chinh (0d) khong du 1.000d."
                " Goi tam ngung va se duoc gia han khi Quy khach nap tien.",
                local(2026, 3, 14, 10, 0),
            ),
        ]
        view = await svc.reads.subscriber(A)
        assert view.subscriber.balance == 0
        (sub,) = view.subscriptions
        assert (sub.status, sub.failed_since, sub.next_action_at, sub.expires_at) == (
            "renewal_failed",
            local(2026, 3, 14, 10, 0),
            local(2026, 3, 16, 10, 0),
            local(2026, 3, 14, 10, 0),
        )
        assert [(c.amount, c.at) for c in await svc.reads.charges(A)] == [
            (1000, T0),
            (1000, local(2026, 3, 11, 10, 0)),
            (1000, local(2026, 3, 12, 10, 0)),
            (1000, local(2026, 3, 13, 10, 0)),
        ]

        await svc.advance(to=local(2026, 3, 15, 12, 30))
        topped = await svc.topup(A, 5000)
        await svc.drained()

    assert topped.subscriber.balance == 4000
    (sub,) = topped.subscriptions
    assert (sub.status, sub.period_start, sub.expires_at, sub.next_action_at) == (
        "active",
        local(2026, 3, 15, 12, 30),
        local(2026, 3, 16, 12, 30),
        local(2026, 3, 16, 12, 30),
    )
    assert (publisher.messages[-1].text, publisher.messages[-1].at) == (
        _renewed_zl1("12:30 16/03/2026"),
        local(2026, 3, 15, 12, 30),
    )
    assert len(publisher.messages) == 6
    assert store.view().meta.get("virtual_now") == local(2026, 3, 15, 12, 30).isoformat()


async def test_advance_orders_renewals_across_subscribers_even_in_small_chunks(
    catalog: Catalog,
) -> None:
    """B at 09:00, A at 10:00 and C at 11:00 each register ZL1 on 10/03 (clock moved
    between them); with a due chunk of 1 the renewals to 12/03 12:00 still come B, A, C
    each day."""
    publisher = FakePublisher()
    async with make_service(
        catalog,
        start=local(2026, 3, 10, 9, 0),
        publisher=publisher,
        default_balance=10_000,
        due_chunk=1,
    ) as svc:
        await svc.handle_sms(sms(B, "DK ZL1"))
        await svc.advance(to=local(2026, 3, 10, 10, 0))
        await svc.handle_sms(sms(A, "DK ZL1"))
        await svc.advance(to=local(2026, 3, 10, 11, 0))
        await svc.handle_sms(sms(C, "DK ZL1"))

        result = await svc.advance(to=local(2026, 3, 12, 12, 0))
        await svc.drained()

    assert result.processed == 6
    renewals = [(m.msisdn, m.at) for m in publisher.messages if m.in_reply_to is None]
    assert renewals == [
        (B, local(2026, 3, 11, 9, 0)),
        (A, local(2026, 3, 11, 10, 0)),
        (C, local(2026, 3, 11, 11, 0)),
        (B, local(2026, 3, 12, 9, 0)),
        (A, local(2026, 3, 12, 10, 0)),
        (C, local(2026, 3, 12, 11, 0)),
    ]


async def test_the_clock_only_moves_forward(catalog: Catalog) -> None:
    async with make_service(catalog, start=T0) as svc:
        with pytest.raises(ClockError, match="only moves forward"):
            await svc.advance(to=local(2026, 3, 10, 9, 59, 59))
        assert svc.clock.now() == T0


async def test_a_real_clock_cannot_be_advanced(catalog: Catalog) -> None:
    svc = GatewayService(
        engine=make_engine(catalog),
        store=FakeStore(),
        clock=SystemClock(),
        publisher=FakePublisher(),
    )

    with pytest.raises(ClockError, match="real"):
        await svc.advance(to=local(2030, 1, 1))


async def test_renewals_that_fell_due_while_stopped_run_at_start_up(catalog: Catalog) -> None:
    """Registered 10/03 10:00, restarted with the clock at 12/03 10:30: the 11/03 and
    12/03 10:00 renewals run on start-up, each at its own instant."""
    store, publisher = FakeStore(), FakePublisher()
    async with make_service(catalog, start=T0, store=store, default_balance=4000) as svc:
        await svc.handle_sms(sms(A, "DK ZL1"))
        await svc.drained()

    async with make_service(
        catalog, start=local(2026, 3, 12, 10, 30), store=store, publisher=publisher
    ) as svc:
        await svc.drained()
        view = await svc.reads.subscriber(A)

    assert [(m.text, m.at) for m in publisher.messages] == [
        (_renewed_zl1("10:00 12/03/2026"), local(2026, 3, 11, 10, 0)),
        (_renewed_zl1("10:00 13/03/2026"), local(2026, 3, 12, 10, 0)),
    ]
    assert view.subscriber.balance == 1000


async def test_a_restarted_virtual_clock_resumes_where_it_was_advanced_to(
    catalog: Catalog,
) -> None:
    store = FakeStore()
    async with make_service(catalog, start=T0, store=store) as svc:
        await svc.advance(to=local(2026, 3, 20, 8, 0))

    async with make_service(catalog, start=T0, store=store) as svc:
        assert svc.clock.now() == local(2026, 3, 20, 8, 0)
