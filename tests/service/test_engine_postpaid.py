"""Postpaid through the engine (seed 004): invoice lines, month-end caps, the 16th rule.

Postpaid packs go on the invoice of the local calendar month of the charge, at full
price, except ZL30 registered on or after the 16th (50%: 7,500đ). ZL30 cancelled
before the 16th costs 50% for that month: a -7,500đ correction when 15,000đ was
charged. Validity: ZL1 24 h (on the last day of the month: until 23:59:59), ZL7
7 × 24 h unless that passes the month end (then 23:59:59 on the last day), ZL30 until
23:59:59 on the last day. A capped pack renews at 00:00:00 on the 1st, at 100%.
The balance is never touched. Every figure is worked out by hand (UTC+7).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.domain.model import ChargeRecord, InvoiceLine
from tests.service.support import EngineHarness, local

#: also run on PostgreSQL (tests/service/conftest.py)
ON_POSTGRES = True


P = "84918000001"


async def _postpaid(harness: EngineHarness, at: datetime) -> None:
    await harness.provision(P, at=at, kind="postpaid", balance=0)


def _lines(harness: EngineHarness, month: str) -> list[tuple[int, str, datetime]]:
    return [
        (x.amount, x.description, x.at)
        for x in harness.store.view().billing.invoice_lines(P, month)
    ]


@pytest.mark.parametrize(
    ("code", "at", "amount", "month", "expires", "renews"),
    [
        pytest.param(
            "ZL1",
            local(2026, 3, 30, 10, 0),
            1000,
            "2026-03",
            local(2026, 3, 31, 10, 0),
            local(2026, 3, 31, 10, 0),
            id="ZL1-30th-rolling",
        ),
        pytest.param(
            "ZL1",
            local(2026, 3, 31, 10, 0),
            1000,
            "2026-03",
            local(2026, 3, 31, 23, 59, 59),
            local(2026, 4, 1),
            id="ZL1-last-day-capped",
        ),
        pytest.param(
            "ZL1",
            local(2026, 2, 28, 8, 0),
            1000,
            "2026-02",
            local(2026, 2, 28, 23, 59, 59),
            local(2026, 3, 1),
            id="ZL1-28-february-capped",
        ),
        pytest.param(
            "ZL7",
            local(2026, 3, 20, 10, 0),
            5000,
            "2026-03",
            local(2026, 3, 27, 10, 0),
            local(2026, 3, 27, 10, 0),
            id="ZL7-inside-month",
        ),
        pytest.param(
            "ZL7",
            local(2026, 3, 24, 23, 59, 59),
            5000,
            "2026-03",
            local(2026, 3, 31, 23, 59, 59),
            local(2026, 3, 31, 23, 59, 59),
            id="ZL7-ends-exactly-at-month-end",
        ),
        pytest.param(
            "ZL7",
            local(2026, 3, 25, 0, 0, 0),
            5000,
            "2026-03",
            local(2026, 3, 31, 23, 59, 59),
            local(2026, 4, 1),
            id="ZL7-one-second-past-capped",
        ),
        pytest.param(
            "ZL7",
            local(2026, 3, 26, 10, 0),
            5000,
            "2026-03",
            local(2026, 3, 31, 23, 59, 59),
            local(2026, 4, 1),
            id="ZL7-26th-capped",
        ),
        pytest.param(
            "ZL30",
            local(2026, 3, 10, 9, 0),
            15_000,
            "2026-03",
            local(2026, 3, 31, 23, 59, 59),
            local(2026, 4, 1),
            id="ZL30-10th-full",
        ),
        pytest.param(
            "ZL30",
            local(2026, 3, 15, 23, 59, 59),
            15_000,
            "2026-03",
            local(2026, 3, 31, 23, 59, 59),
            local(2026, 4, 1),
            id="ZL30-15th-last-second-full",
        ),
        pytest.param(
            "ZL30",
            local(2026, 3, 16, 0, 0, 0),
            7500,
            "2026-03",
            local(2026, 3, 31, 23, 59, 59),
            local(2026, 4, 1),
            id="ZL30-16th-first-second-half",
        ),
        pytest.param(
            "ZL30",
            datetime(2026, 3, 15, 17, 30, tzinfo=UTC),
            7500,
            "2026-03",
            local(2026, 3, 31, 23, 59, 59),
            local(2026, 4, 1),
            id="ZL30-15th-utc-is-16th-local-half",
        ),
        pytest.param(
            "ZL30",
            local(2026, 3, 31, 23, 0),
            7500,
            "2026-03",
            local(2026, 3, 31, 23, 59, 59),
            local(2026, 4, 1),
            id="ZL30-last-hour-half",
        ),
        pytest.param(
            "ZL30",
            datetime(2026, 3, 31, 17, 30, tzinfo=UTC),
            15_000,
            "2026-04",
            local(2026, 4, 30, 23, 59, 59),
            local(2026, 5, 1),
            id="ZL30-31st-utc-is-1st-april-local",
        ),
        pytest.param(
            "ZL30",
            local(2026, 2, 3, 8, 0),
            15_000,
            "2026-02",
            local(2026, 2, 28, 23, 59, 59),
            local(2026, 3, 1),
            id="ZL30-february",
        ),
    ],
)
async def test_postpaid_registration_price_invoice_month_and_validity(
    harness: EngineHarness,
    code: str,
    at: datetime,
    amount: int,
    month: str,
    expires: datetime,
    renews: datetime,
) -> None:
    await _postpaid(harness, at)

    await harness.send(P, f"DK {code}", at=at, id="m1")

    sub = harness.only_subscription(P)
    assert (sub.status, sub.expires_at, sub.next_action_at) == ("active", expires, renews)
    (charge,) = harness.store.view().billing.charges(P)
    assert (charge.amount, charge.billing, charge.invoice_month, charge.reason) == (
        amount,
        "invoice",
        month,
        "registration",
    )
    assert harness.store.view().billing.invoice_lines(P, month) == [
        InvoiceLine(charge.id, P, month, code, f"{code} registration", amount, at)
    ]
    assert harness.subscriber(P).balance == 0
    assert [e.reason for e in harness.store.view().billing.ledger(P)] == ["provision"]


async def test_postpaid_confirmation_names_the_invoice_month(harness: EngineHarness) -> None:
    await _postpaid(harness, local(2026, 3, 10))

    full = await harness.reply(P, "DK ZL30", at=local(2026, 3, 10, 9, 0))
    await harness.send(P, "HUY ZL30", at=local(2026, 3, 20, 9, 0))
    half = await harness.reply(P, "DK ZL30", at=local(2026, 3, 20, 9, 5))

    assert full == (
        "Dang ky thanh cong goi ZL30 (Mien phi data Zalo), cuoc 15.000d tinh vao HD thang"
        " 03/2026. Het han 23:59 31/03/2026, tu dong gia han. Huy: soan HUY ZL30 gui 888."
    )
    assert half == (
        "Dang ky thanh cong goi ZL30 (Mien phi data Zalo), cuoc 7.500d tinh vao HD thang"
        " 03/2026. Het han 23:59 31/03/2026, tu dong gia han. Huy: soan HUY ZL30 gui 888."
    )


async def test_zl30_from_the_16th_costs_half_then_the_new_month_starts_at_full_price(
    harness: EngineHarness,
) -> None:
    """Registered 20/03 (7,500đ on March); renewed 00:00 01/04 (15,000đ on April), 01/05 too."""
    registered = local(2026, 3, 20, 10, 0)
    await _postpaid(harness, registered)
    await harness.send(P, "DK ZL30", at=registered)

    assert (await harness.run_due(local(2026, 3, 31, 23, 59, 59))).processed == 0
    april = await harness.run_due(local(2026, 4, 1))

    assert [(m.text, m.at) for m in april.outgoing] == [
        (
            "Goi ZL30 da duoc gia han, cuoc 15.000d tinh vao HD thang 04/2026."
            " Het han 23:59 30/04/2026. Huy: soan HUY ZL30 gui 888.",
            local(2026, 4, 1),
        )
    ]
    sub = harness.only_subscription(P)
    assert (sub.period_start, sub.expires_at, sub.next_action_at) == (
        local(2026, 4, 1),
        local(2026, 4, 30, 23, 59, 59),
        local(2026, 5, 1),
    )

    await harness.run_due(local(2026, 5, 1))

    assert _lines(harness, "2026-03") == [(7500, "ZL30 registration", registered)]
    assert _lines(harness, "2026-04") == [(15_000, "ZL30 renewal", local(2026, 4, 1))]
    assert _lines(harness, "2026-05") == [(15_000, "ZL30 renewal", local(2026, 5, 1))]
    assert harness.only_subscription(P).expires_at == local(2026, 5, 31, 23, 59, 59)


async def test_zl30_cancelled_before_the_16th_costs_half_for_that_month(
    harness: EngineHarness,
) -> None:
    await _postpaid(harness, local(2026, 3, 10))
    await harness.send(P, "DK ZL30", at=local(2026, 3, 10, 9, 0))

    result = await harness.send(P, "HUY ZL30", at=local(2026, 3, 12, 14, 0), id="m2")

    assert [r.text for r in result.replies] == [
        "Quy khach da huy thanh cong goi ZL30. Goi ngung hieu luc tu 14:00 12/03/2026"
        " va khong tu dong gia han. Cuoc goi ZL30 thang 03/2026 tinh 7.500d."
    ]
    registration, correction = harness.store.view().billing.charges(P)
    assert correction == ChargeRecord(
        id=correction.id,
        msisdn=P,
        subscription_id=registration.subscription_id,
        package="ZL30",
        reason="cancellation",
        rule="postpaid_cancel_before_day_16_50pct",
        amount=-7500,
        billing="invoice",
        invoice_month="2026-03",
        at=local(2026, 3, 12, 14, 0),
        message_id="m2",
    )
    assert _lines(harness, "2026-03") == [
        (15_000, "ZL30 registration", local(2026, 3, 10, 9, 0)),
        (-7500, "ZL30 cancellation", local(2026, 3, 12, 14, 0)),
    ]
    assert sum(amount for amount, _, _ in _lines(harness, "2026-03")) == 7500
    assert harness.only_subscription(P).status == "cancelled"


@pytest.mark.parametrize(
    ("cancelled_at", "march_total"),
    [
        pytest.param(local(2026, 3, 15, 23, 59, 59), 7500, id="15th-last-second-half"),
        pytest.param(local(2026, 3, 16, 0, 0, 0), 15_000, id="16th-first-second-full"),
        pytest.param(datetime(2026, 3, 15, 17, 0, tzinfo=UTC), 15_000, id="utc-15th-is-16th"),
    ],
)
async def test_the_cancellation_rule_turns_on_the_local_16th(
    harness: EngineHarness, cancelled_at: datetime, march_total: int
) -> None:
    await _postpaid(harness, local(2026, 3, 1))
    await harness.send(P, "DK ZL30", at=local(2026, 3, 1, 0, 0))

    await harness.send(P, "HUY ZL30", at=cancelled_at)

    assert sum(amount for amount, _, _ in _lines(harness, "2026-03")) == march_total


async def test_cancelling_a_half_price_zl30_changes_nothing_more(harness: EngineHarness) -> None:
    """Registered on the 20th (7,500đ), cancelled on the 25th: it stays 7,500đ."""
    await _postpaid(harness, local(2026, 3, 20))
    await harness.send(P, "DK ZL30", at=local(2026, 3, 20, 10, 0))

    reply = await harness.reply(P, "HUY ZL30", at=local(2026, 3, 25, 10, 0))

    assert reply == (
        "Quy khach da huy thanh cong goi ZL30. Goi ngung hieu luc tu 10:00 25/03/2026"
        " va khong tu dong gia han."
    )
    assert _lines(harness, "2026-03") == [(7500, "ZL30 registration", local(2026, 3, 20, 10, 0))]


async def test_zl30_renewed_on_the_1st_and_cancelled_on_the_5th_costs_half_of_that_month(
    harness: EngineHarness,
) -> None:
    await _postpaid(harness, local(2026, 3, 20))
    await harness.send(P, "DK ZL30", at=local(2026, 3, 20, 10, 0))
    await harness.run_due(local(2026, 4, 5, 10, 0))

    reply = await harness.reply(P, "HUY ZL30", at=local(2026, 4, 5, 10, 0))

    assert reply.endswith(" Cuoc goi ZL30 thang 04/2026 tinh 7.500d.")
    assert _lines(harness, "2026-03") == [(7500, "ZL30 registration", local(2026, 3, 20, 10, 0))]
    assert _lines(harness, "2026-04") == [
        (15_000, "ZL30 renewal", local(2026, 4, 1)),
        (-7500, "ZL30 cancellation", local(2026, 4, 5, 10, 0)),
    ]


@pytest.mark.parametrize("code", ["ZL1", "ZL7"])
async def test_only_the_monthly_pack_has_the_cancellation_rule(
    harness: EngineHarness, code: str
) -> None:
    await _postpaid(harness, local(2026, 3, 10))
    await harness.send(P, f"DK {code}", at=local(2026, 3, 10, 9, 0))

    await harness.send(P, f"HUY {code}", at=local(2026, 3, 10, 9, 30))

    assert [c.reason for c in harness.store.view().billing.charges(P)] == ["registration"]


async def test_postpaid_renewals_never_fail_for_lack_of_balance(harness: EngineHarness) -> None:
    """ZL1 from 30/03 10:00 with a 0đ balance: 31/03 10:00 (capped at 23:59:59), 01/04 00:00."""
    await _postpaid(harness, local(2026, 3, 30))
    await harness.send(P, "DK ZL1", at=local(2026, 3, 30, 10, 0))

    due = await harness.run_due(local(2026, 4, 1, 12, 0))

    assert [(m.text, m.at) for m in due.outgoing] == [
        (
            "Goi ZL1 da duoc gia han, cuoc 1.000d tinh vao HD thang 03/2026."
            " Het han 23:59 31/03/2026. Huy: soan HUY ZL1 gui 888.",
            local(2026, 3, 31, 10, 0),
        ),
        (
            "Goi ZL1 da duoc gia han, cuoc 1.000d tinh vao HD thang 04/2026."
            " Het han 00:00 02/04/2026. Huy: soan HUY ZL1 gui 888.",
            local(2026, 4, 1),
        ),
    ]
    assert _lines(harness, "2026-03") == [
        (1000, "ZL1 registration", local(2026, 3, 30, 10, 0)),
        (1000, "ZL1 renewal", local(2026, 3, 31, 10, 0)),
    ]
    assert _lines(harness, "2026-04") == [(1000, "ZL1 renewal", local(2026, 4, 1))]
    sub = harness.only_subscription(P)
    assert (sub.status, sub.expires_at, sub.next_action_at) == (
        "active",
        local(2026, 4, 2),
        local(2026, 4, 2),
    )
    assert harness.subscriber(P).balance == 0


async def test_postpaid_zl7_capped_at_month_end_renews_at_midnight_for_seven_days(
    harness: EngineHarness,
) -> None:
    """26/03 10:00 → 23:59:59 31/03; 00:00 01/04 → 00:00 08/04; 00:00 08/04 → 00:00 15/04."""
    await _postpaid(harness, local(2026, 3, 26))
    await harness.send(P, "DK ZL7", at=local(2026, 3, 26, 10, 0))

    due = await harness.run_due(local(2026, 4, 8))

    assert [m.at for m in due.outgoing] == [local(2026, 4, 1), local(2026, 4, 8)]
    assert _lines(harness, "2026-03") == [(5000, "ZL7 registration", local(2026, 3, 26, 10, 0))]
    assert _lines(harness, "2026-04") == [
        (5000, "ZL7 renewal", local(2026, 4, 1)),
        (5000, "ZL7 renewal", local(2026, 4, 8)),
    ]
    assert harness.only_subscription(P).expires_at == local(2026, 4, 15)
