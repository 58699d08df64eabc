"""Prepaid registration through the engine (seed 004): price, validity, balance, ledger.

Prepaid packs are paid from the main balance at registration: ZL1 1,000đ for 24 h,
ZL7 5,000đ for 7 × 24 h, ZL30 15,000đ for 30 × 24 h, whatever the day of the month
(no month-end cap, no 50% rule). Not enough balance: refused with a clear reply and
nothing charged. Times are Asia/Ho_Chi_Minh (UTC+7); every figure is worked out by
hand.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from carrier_rules import Catalog
from gateway.domain.model import ChargeRecord, LedgerEntry
from tests.service.support import EngineHarness, local, make_engine

#: also run on PostgreSQL (tests/service/conftest.py)
ON_POSTGRES = True

A = "84912345678"
T0 = local(2026, 3, 10, 10, 0)


async def test_zl1_registration_charges_1000_from_the_balance_and_lasts_24_hours(
    harness: EngineHarness,
) -> None:
    await harness.provision(A, at=T0, kind="prepaid", balance=10_000)

    result = await harness.send(A, "DK ZL1", at=T0, id="m1")

    (reply,) = result.replies
    assert not result.duplicate
    assert reply.text == (
        "Dang ky thanh cong goi ZL1 (Mien phi data Zalo), cuoc 1.000d tru vao TK chinh."
        " Het han 10:00 11/03/2026, tu dong gia han. Huy: soan HUY ZL1 gui 888."
    )
    assert (reply.msisdn, reply.shortcode, reply.in_reply_to, reply.encoding, reply.at) == (
        A,
        "888",
        "m1",
        "GSM7",
        T0,
    )
    assert harness.subscriber(A).balance == 9000
    sub = harness.only_subscription(A)
    assert (sub.package, sub.group, sub.status, sub.auto_renew) == ("ZL1", "zalo", "active", True)
    assert sub.started_at == sub.period_start == T0
    assert sub.expires_at == local(2026, 3, 11, 10, 0)
    assert sub.next_action_at == local(2026, 3, 11, 10, 0)
    (charge,) = harness.store.view().billing.charges(A)
    assert charge == ChargeRecord(
        id=charge.id,
        msisdn=A,
        subscription_id=sub.id,
        package="ZL1",
        reason="registration",
        rule="prepaid_full_price",
        amount=1000,
        billing="balance",
        invoice_month=None,
        at=T0,
        message_id="m1",
    )
    assert harness.store.view().billing.ledger(A) == [
        LedgerEntry(A, 10_000, 10_000, "provision", T0),
        LedgerEntry(A, -1000, 9000, "charge", T0, charge.id),
    ]
    assert harness.store.view().billing.invoice_lines(A, "2026-03") == []


@pytest.mark.parametrize(
    ("code", "at", "price", "expires"),
    [
        pytest.param(
            "ZL1", local(2026, 3, 31, 10, 0), 1000, local(2026, 4, 1, 10, 0), id="ZL1-last-day"
        ),
        pytest.param(
            "ZL1", local(2026, 2, 28, 23, 30), 1000, local(2026, 3, 1, 23, 30), id="ZL1-28-feb"
        ),
        pytest.param("ZL7", T0, 5000, local(2026, 3, 17, 10, 0), id="ZL7-10th"),
        pytest.param(
            "ZL7",
            local(2026, 3, 28, 15, 30),
            5000,
            local(2026, 4, 4, 15, 30),
            id="ZL7-over-month-end-not-capped",
        ),
        pytest.param("ZL30", T0, 15_000, local(2026, 4, 9, 10, 0), id="ZL30-10th-30-days"),
        pytest.param(
            "ZL30",
            local(2026, 3, 20, 8, 0),
            15_000,
            local(2026, 4, 19, 8, 0),
            id="ZL30-20th-full-price",
        ),
        pytest.param(
            "ZL30",
            local(2026, 2, 10, 9, 15),
            15_000,
            local(2026, 3, 12, 9, 15),
            id="ZL30-february-28-days",
        ),
    ],
)
async def test_prepaid_price_and_validity(
    harness: EngineHarness, code: str, at: datetime, price: int, expires: datetime
) -> None:
    """Prepaid: full price every day of the month, X + N × 24 h, never capped."""
    await harness.provision(A, at=at, kind="prepaid", balance=20_000)

    await harness.send(A, f"DK {code}", at=at)

    assert harness.subscriber(A).balance == 20_000 - price
    sub = harness.only_subscription(A)
    assert (sub.package, sub.status, sub.expires_at, sub.next_action_at) == (
        code,
        "active",
        expires,
        expires,
    )
    assert [(c.amount, c.reason, c.billing) for c in harness.store.view().billing.charges(A)] == [
        (price, "registration", "balance")
    ]


async def test_expiry_in_the_reply_is_local_time_even_when_the_instant_is_utc(
    harness: EngineHarness,
) -> None:
    """09/03 23:00 UTC is 10/03 06:00 in Ho Chi Minh City: ZL1 ends 06:00 11/03."""
    at = datetime(2026, 3, 9, 23, 0, tzinfo=UTC)
    await harness.provision(A, at=at, kind="prepaid", balance=1000)

    reply = await harness.reply(A, "DK ZL1", at=at)

    assert "Het han 06:00 11/03/2026," in reply
    assert harness.only_subscription(A).expires_at == local(2026, 3, 11, 6, 0)


async def test_exactly_enough_balance_registers_and_leaves_zero(harness: EngineHarness) -> None:
    await harness.provision(A, at=T0, kind="prepaid", balance=5000)

    reply = await harness.reply(A, "DK ZL7", at=T0)

    assert reply.startswith("Dang ky thanh cong goi ZL7 (Mien phi data Zalo), cuoc 5.000d")
    assert harness.subscriber(A).balance == 0


@pytest.mark.parametrize(
    ("balance", "text", "expected"),
    [
        pytest.param(
            10_000,
            "DK ZL30",
            "Dang ky goi ZL30 khong thanh cong: TK chinh (10.000d) khong du 15.000d."
            " Vui long nap them tien va thu lai.",
            id="ZL30-with-10000",
        ),
        pytest.param(
            999,
            "DK ZL1",
            "Dang ky goi ZL1 khong thanh cong: TK chinh (999d) khong du 1.000d."
            " Vui long nap them tien va thu lai.",
            id="ZL1-with-999",
        ),
        pytest.param(
            0,
            "DK ZL7",
            "Dang ky goi ZL7 khong thanh cong: TK chinh (0d) khong du 5.000d."
            " Vui long nap them tien va thu lai.",
            id="ZL7-with-0",
        ),
    ],
)
async def test_not_enough_balance_refuses_with_a_clear_reply_and_charges_nothing(
    harness: EngineHarness, balance: int, text: str, expected: str
) -> None:
    await harness.provision(A, at=T0, kind="prepaid", balance=balance)

    reply = await harness.reply(A, text, at=T0)

    assert reply == expected
    assert harness.subscriber(A).balance == balance
    assert harness.subscriptions(A) == []
    assert harness.store.view().billing.charges(A) == []
    assert [e.reason for e in harness.store.view().billing.ledger(A)] == ["provision"]


async def test_auto_provisioned_sender_starts_with_the_default_balance(catalog: Catalog) -> None:
    """An unknown MSISDN becomes a prepaid subscriber with ``default_balance`` (here 4,000đ)."""
    harness = EngineHarness(make_engine(catalog, auto_provision=True, default_balance=4000))

    await harness.send(A, "DK ZL1", at=T0)

    subscriber = harness.subscriber(A)
    assert (subscriber.kind, subscriber.balance, subscriber.language) == ("prepaid", 3000, None)
    assert [
        (e.delta, e.balance_after, e.reason) for e in harness.store.view().billing.ledger(A)
    ] == [
        (4000, 4000, "provision"),
        (-1000, 3000, "charge"),
    ]


async def test_provisioning_again_records_a_balance_adjustment(harness: EngineHarness) -> None:
    _, created = await harness.provision(A, at=T0, kind="prepaid", balance=10_000)
    subscriber, created_again = await harness.provision(
        A, at=local(2026, 3, 11), balance=2500, language="en"
    )

    assert (created, created_again) == (True, False)
    assert (subscriber.balance, subscriber.kind, subscriber.language) == (2500, "prepaid", "en")
    assert [
        (e.delta, e.balance_after, e.reason) for e in harness.store.view().billing.ledger(A)
    ] == [
        (10_000, 10_000, "provision"),
        (-7500, 2500, "adjustment"),
    ]
    assert harness.subscriber(A).created_at == T0


async def test_cancelling_a_prepaid_pack_refunds_nothing(harness: EngineHarness) -> None:
    """HUY on the 12th of a ZL30 paid on the 10th: the 15,000đ stay spent (no 50% rule)."""
    await harness.provision(A, at=T0, kind="prepaid", balance=20_000)
    await harness.send(A, "DK ZL30", at=T0)

    reply = await harness.reply(A, "HUY ZL30", at=local(2026, 3, 12, 9, 0))

    assert reply == (
        "Quy khach da huy thanh cong goi ZL30. Goi ngung hieu luc tu 09:00 12/03/2026"
        " va khong tu dong gia han."
    )
    assert harness.subscriber(A).balance == 5000
    assert [c.amount for c in harness.store.view().billing.charges(A)] == [15_000]
