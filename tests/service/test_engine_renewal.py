"""Automatic renewal through the engine: prepaid charges, failures, retries, top-ups.

A prepaid renewal is paid from the balance at the renewal instant. When the balance
is short the pack becomes ``renewal_failed`` and the subscriber gets one SMS; it is
retried silently every 24 h, renewed at once on a top-up (a new period from the
top-up instant), and given up 7 days after the first failure (``expired`` and an
SMS). Every instant and amount below is worked out by hand (UTC+7).
"""

from __future__ import annotations

from carrier_rules import Catalog
from tests.service.support import EngineHarness, local, make_engine

#: also run on PostgreSQL (tests/service/conftest.py)
ON_POSTGRES = True

A = "84912345678"
B = "84912000002"
C = "84912000003"
T0 = local(2026, 3, 10, 10, 0)


def _renewed_zl1(expires: str) -> str:
    return (
        f"Goi ZL1 da duoc gia han, cuoc 1.000d tru vao TK chinh. Het han {expires}."
        " Huy: soan HUY ZL1 gui 888."
    )


ZL1_FAILED_AT_ZERO = (
    "Gia han goi ZL1 khong thanh cong do TK chinh (0d) khong du 1.000d."
    " Goi tam ngung va se duoc gia han khi Quy khach nap tien."
)
ZL1_GAVE_UP = "Goi ZL1 da het han do khong du tien gia han. De dang ky lai soan DK ZL1 gui 888."


async def test_daily_renewals_until_the_balance_runs_out_then_a_top_up_renews_at_once(
    harness: EngineHarness,
) -> None:
    """ZL1 on 10/03 10:00 with 4,000đ (3,000đ left): 11, 12, 13/03 renew, 14/03 fails.

    Run to 15/03 10:00: the 15/03 10:00 retry fails silently. A 5,000đ top-up at
    15/03 12:30 renews at once for 24 h from then: 4,000đ left, ends 12:30 16/03.
    """
    await harness.provision(A, at=T0, kind="prepaid", balance=4000)
    await harness.send(A, "DK ZL1", at=T0)
    assert harness.subscriber(A).balance == 3000

    due = await harness.run_due(local(2026, 3, 15, 10, 0))

    assert due.processed == 5
    assert due.last_due == local(2026, 3, 15, 10, 0)
    assert [(m.text, m.at, m.in_reply_to) for m in due.outgoing] == [
        (_renewed_zl1("10:00 12/03/2026"), local(2026, 3, 11, 10, 0), None),
        (_renewed_zl1("10:00 13/03/2026"), local(2026, 3, 12, 10, 0), None),
        (_renewed_zl1("10:00 14/03/2026"), local(2026, 3, 13, 10, 0), None),
        (ZL1_FAILED_AT_ZERO, local(2026, 3, 14, 10, 0), None),
    ]
    assert harness.subscriber(A).balance == 0
    sub = harness.only_subscription(A)
    assert (sub.status, sub.auto_renew) == ("renewal_failed", True)
    assert sub.failed_since == local(2026, 3, 14, 10, 0)
    assert sub.next_action_at == local(2026, 3, 16, 10, 0)
    assert sub.expires_at == local(2026, 3, 14, 10, 0)
    assert [(c.amount, c.reason, c.at) for c in harness.store.view().billing.charges(A)] == [
        (1000, "registration", T0),
        (1000, "renewal", local(2026, 3, 11, 10, 0)),
        (1000, "renewal", local(2026, 3, 12, 10, 0)),
        (1000, "renewal", local(2026, 3, 13, 10, 0)),
    ]

    topped = local(2026, 3, 15, 12, 30)
    out = await harness.topup(A, 5000, at=topped)

    assert [(m.text, m.at) for m in out] == [(_renewed_zl1("12:30 16/03/2026"), topped)]
    assert harness.subscriber(A).balance == 4000
    sub = harness.only_subscription(A)
    assert (sub.status, sub.failed_since) == ("active", None)
    assert (sub.period_start, sub.expires_at, sub.next_action_at) == (
        topped,
        local(2026, 3, 16, 12, 30),
        local(2026, 3, 16, 12, 30),
    )
    assert [
        (e.delta, e.balance_after, e.reason) for e in harness.store.view().billing.ledger(A)
    ] == [
        (4000, 4000, "provision"),
        (-1000, 3000, "charge"),
        (-1000, 2000, "charge"),
        (-1000, 1000, "charge"),
        (-1000, 0, "charge"),
        (5000, 5000, "topup"),
        (-1000, 4000, "charge"),
    ]


async def test_a_failed_renewal_gives_up_seven_days_after_the_first_failure(
    harness: EngineHarness,
) -> None:
    """First failure 11/03 10:00; silent retries 12..17/03 10:00; gives up 18/03 10:00."""
    await harness.provision(A, at=T0, kind="prepaid", balance=1000)
    await harness.send(A, "DK ZL1", at=T0)

    before_deadline = await harness.run_due(local(2026, 3, 18, 9, 59, 59))

    assert before_deadline.processed == 7
    assert [(m.text, m.at) for m in before_deadline.outgoing] == [
        (ZL1_FAILED_AT_ZERO, local(2026, 3, 11, 10, 0))
    ]
    sub = harness.only_subscription(A)
    assert (sub.status, sub.failed_since, sub.next_action_at) == (
        "renewal_failed",
        local(2026, 3, 11, 10, 0),
        local(2026, 3, 18, 10, 0),
    )

    at_deadline = await harness.run_due(local(2026, 3, 20))

    assert [(m.text, m.at) for m in at_deadline.outgoing] == [
        (ZL1_GAVE_UP, local(2026, 3, 18, 10, 0))
    ]
    sub = harness.only_subscription(A)
    assert (sub.status, sub.auto_renew, sub.next_action_at) == ("expired", False, None)
    assert (await harness.run_due(local(2026, 12, 31))).processed == 0
    assert harness.subscriber(A).balance == 0
    assert len(harness.store.view().billing.charges(A)) == 1


async def test_status_during_a_failed_renewal_explains_the_missing_balance(
    harness: EngineHarness,
) -> None:
    await harness.provision(A, at=T0, kind="prepaid", balance=1000)
    await harness.send(A, "DK ZL1", at=T0)
    await harness.run_due(local(2026, 3, 11, 10, 0))

    reply = await harness.reply(A, "KTTK_ZL", at=local(2026, 3, 11, 11, 0))

    assert reply == ZL1_FAILED_AT_ZERO


async def test_a_retry_that_finds_the_balance_renews_at_the_retry_instant(
    harness: EngineHarness,
) -> None:
    """Balance set to 3,000đ by the operator at 12/03 08:00 (not a top-up: no instant renewal);
    the 12/03 10:00 retry renews until 10:00 13/03 and tells the subscriber."""
    await harness.provision(A, at=T0, kind="prepaid", balance=1000)
    await harness.send(A, "DK ZL1", at=T0)
    await harness.run_due(local(2026, 3, 11, 10, 0))
    await harness.provision(A, at=local(2026, 3, 12, 8, 0), balance=3000)
    assert harness.only_subscription(A).status == "renewal_failed"

    due = await harness.run_due(local(2026, 3, 12, 10, 0))

    assert [(m.text, m.at) for m in due.outgoing] == [
        (_renewed_zl1("10:00 13/03/2026"), local(2026, 3, 12, 10, 0))
    ]
    assert harness.subscriber(A).balance == 2000
    sub = harness.only_subscription(A)
    assert (sub.status, sub.failed_since, sub.next_action_at) == (
        "active",
        None,
        local(2026, 3, 13, 10, 0),
    )


async def test_a_top_up_too_small_for_the_renewal_changes_only_the_balance(
    harness: EngineHarness,
) -> None:
    await harness.provision(A, at=T0, kind="prepaid", balance=1000)
    await harness.send(A, "DK ZL1", at=T0)
    await harness.run_due(local(2026, 3, 11, 10, 0))

    out = await harness.topup(A, 500, at=local(2026, 3, 11, 15, 0))

    assert out == []
    assert harness.subscriber(A).balance == 500
    sub = harness.only_subscription(A)
    assert (sub.status, sub.failed_since) == ("renewal_failed", local(2026, 3, 11, 10, 0))
    assert sub.next_action_at == local(2026, 3, 12, 10, 0), "the retry schedule is unchanged"
    assert len(harness.store.view().billing.charges(A)) == 1


async def test_a_top_up_does_not_renew_an_active_pack_early(harness: EngineHarness) -> None:
    await harness.provision(A, at=T0, kind="prepaid", balance=1000)
    await harness.send(A, "DK ZL1", at=T0)

    out = await harness.topup(A, 10_000, at=local(2026, 3, 10, 18, 0))

    assert out == []
    assert harness.subscriber(A).balance == 10_000
    assert harness.only_subscription(A).next_action_at == local(2026, 3, 11, 10, 0)


async def test_dk_while_a_renewal_failed_replaces_the_suspended_pack(
    harness: EngineHarness,
) -> None:
    await harness.provision(A, at=T0, kind="prepaid", balance=1000)
    await harness.send(A, "DK ZL1", at=T0)
    await harness.run_due(local(2026, 3, 11, 10, 0))
    await harness.provision(A, at=local(2026, 3, 11, 11, 0), balance=5000)

    reply = await harness.reply(A, "DK ZL7", at=local(2026, 3, 11, 11, 0))

    assert reply.startswith("Dang ky thanh cong goi ZL7 ")
    assert [(s.package, s.status, s.next_action_at) for s in harness.subscriptions(A)] == [
        ("ZL1", "expired", None),
        ("ZL7", "active", local(2026, 3, 18, 11, 0)),
    ]
    assert harness.subscriber(A).balance == 0


async def test_prepaid_weekly_and_monthly_renewals_run_every_7_and_30_days(
    harness: EngineHarness,
) -> None:
    """A: ZL7 10/03 10:00 with 10,000đ renews 17/03 (0đ left), fails 24/03, gives up 31/03.
    B: ZL30 10/03 10:00 with 30,000đ renews 09/04 10:00 until 10:00 09/05."""
    await harness.provision(A, at=T0, kind="prepaid", balance=10_000)
    await harness.provision(B, at=T0, kind="prepaid", balance=30_000)
    await harness.send(A, "DK ZL7", at=T0)
    await harness.send(B, "DK ZL30", at=T0)

    due = await harness.run_due(local(2026, 4, 9, 10, 0))

    assert [(m.msisdn, m.at, m.text) for m in due.outgoing] == [
        (
            A,
            local(2026, 3, 17, 10, 0),
            "Goi ZL7 da duoc gia han, cuoc 5.000d tru vao TK chinh. Het han 10:00 24/03/2026."
            " Huy: soan HUY ZL7 gui 888.",
        ),
        (
            A,
            local(2026, 3, 24, 10, 0),
            "Gia han goi ZL7 khong thanh cong do TK chinh (0d) khong du 5.000d."
            " Goi tam ngung va se duoc gia han khi Quy khach nap tien.",
        ),
        (
            A,
            local(2026, 3, 31, 10, 0),
            "Goi ZL7 da het han do khong du tien gia han. De dang ky lai soan DK ZL7 gui 888.",
        ),
        (
            B,
            local(2026, 4, 9, 10, 0),
            "Goi ZL30 da duoc gia han, cuoc 15.000d tru vao TK chinh. Het han 10:00 09/05/2026."
            " Huy: soan HUY ZL30 gui 888.",
        ),
    ]
    assert (harness.subscriber(A).balance, harness.subscriber(B).balance) == (0, 0)
    assert harness.only_subscription(A).status == "expired"
    assert harness.only_subscription(B).expires_at == local(2026, 5, 9, 10, 0)


async def test_due_events_run_in_time_order_across_subscribers_whatever_the_chunk(
    catalog: Catalog,
) -> None:
    """B (09:00), A (10:00), C (ZL7, 11:00) registered 10/03: to 13/03 12:00 the renewals
    alternate B, A each day; C's first renewal is 17/03. Same order in chunks of 1, 2, 100."""
    expected = [
        (B, local(2026, 3, 11, 9, 0)),
        (A, local(2026, 3, 11, 10, 0)),
        (B, local(2026, 3, 12, 9, 0)),
        (A, local(2026, 3, 12, 10, 0)),
        (B, local(2026, 3, 13, 9, 0)),
        (A, local(2026, 3, 13, 10, 0)),
    ]
    for limit in (1, 2, 100):
        harness = EngineHarness(make_engine(catalog, default_balance=10_000))
        await harness.send(B, "DK ZL1", at=local(2026, 3, 10, 9, 0))
        await harness.send(A, "DK ZL1", at=local(2026, 3, 10, 10, 0))
        await harness.send(C, "DK ZL7", at=local(2026, 3, 10, 11, 0))

        out = await harness.run_all_due(local(2026, 3, 13, 12, 0), limit=limit)

        assert [(m.msisdn, m.at) for m in out] == expected, f"limit={limit}"
        assert harness.subscriber(A).balance == 6000
        assert harness.subscriber(B).balance == 6000
        assert harness.subscriber(C).balance == 5000


async def test_huy_of_a_suspended_pack_stops_the_retries_and_a_top_up_does_not_revive_it(
    harness: EngineHarness,
) -> None:
    await harness.provision(A, at=T0, kind="prepaid", balance=1000)
    await harness.send(A, "DK ZL1", at=T0)
    await harness.run_due(local(2026, 3, 11, 10, 0))

    reply = await harness.reply(A, "HUY ZL1", at=local(2026, 3, 11, 12, 0))
    out = await harness.topup(A, 5000, at=local(2026, 3, 11, 13, 0))

    assert reply == (
        "Quy khach da huy thanh cong goi ZL1. Goi ngung hieu luc tu 12:00 11/03/2026"
        " va khong tu dong gia han."
    )
    assert out == []
    sub = harness.only_subscription(A)
    assert (sub.status, sub.auto_renew, sub.next_action_at) == ("cancelled", False, None)
    assert (await harness.run_due(local(2026, 4, 30))).processed == 0
    assert harness.subscriber(A).balance == 5000
