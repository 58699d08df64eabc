"""The Zalo packs (seed 004) through the plan-terms model: proration cases and cancellation.

The notice: *Cước sử dụng đối với các gói tháng cho thuê bao trả sau: Đăng ký trước
ngày 16: tính 100% gói cước. Đăng ký từ ngày 16 trở đi, hoặc hủy gói trường ngày 16
trong tháng: tính 50% giá gói cước.* (``trường`` read as ``trước``, "before": see
docs/rules.md, P4). Only the monthly pack ZL30 (15,000 đ) has this rule, and only for
postpaid subscribers. ``HUY`` ends a pack at once and never refunds (docs/rules.md §8.5:
the notice says nothing of refunds). Days are local Asia/Ho_Chi_Minh days.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from carrier_rules import (
    Catalog,
    SubscriberKind,
    cancel_decision,
    cancellation_adjustment,
    period_charge,
)
from tests.unit.policy_support import HCM, load_catalog, local, package, paid_holding


@pytest.fixture(scope="module")
def zalo() -> Catalog:
    return load_catalog("zalo")


# --- the cases as data -------------------------------------------------------------------


def test_zl30_has_the_two_postpaid_cases_in_order(zalo: Catalog) -> None:
    """ZL30's shorthand becomes two ordered postpaid cases: registration from the 16th
    at 50%, then cancellation before the 16th at 50%."""
    cases = package(zalo, "ZL30").proration
    assert [(c.on, c.kind, c.from_day, c.before_day, c.percent) for c in cases] == [
        # "Đăng ký từ ngày 16 trở đi": days 16..31 (before_day 32 = to the month's end)
        ("registration", "postpaid", 16, 32, 50),
        # "hủy gói trước ngày 16": days 1..15
        ("cancellation", "postpaid", 1, 16, 50),
    ]


@pytest.mark.parametrize("code", ["ZL1", "ZL7"])
def test_daily_and_weekly_packs_have_no_proration_cases(zalo: Catalog, code: str) -> None:
    """Only "các gói tháng" (monthly packs) are prorated: ZL1 and ZL7 have no cases."""
    assert package(zalo, code).proration == []


# --- registration: what a period costs ---------------------------------------------------


@pytest.mark.parametrize(
    ("code", "kind", "at", "amount", "rule"),
    [
        # before the 16th: 100% = 15,000
        pytest.param(
            "ZL30",
            "postpaid",
            local(2026, 3, 15),
            15_000,
            "postpaid_full_price",
            id="ZL30-post-15th",
        ),
        # last second of the 15th: still 100% = 15,000
        pytest.param(
            "ZL30",
            "postpaid",
            local(2026, 3, 15, 23, 59, 59),
            15_000,
            "postpaid_full_price",
            id="ZL30-post-15th-23:59:59",
        ),
        # from the 16th: 15,000 × 50% = 7,500
        pytest.param(
            "ZL30",
            "postpaid",
            local(2026, 3, 16, 0, 0, 0),
            7_500,
            "postpaid_from_day_16_50pct",
            id="ZL30-post-16th-00:00",
        ),
        pytest.param(
            "ZL30",
            "postpaid",
            local(2026, 3, 16),
            7_500,
            "postpaid_from_day_16_50pct",
            id="ZL30-post-16th",
        ),
        # the last day of the month is still "từ ngày 16 trở đi": 7,500
        pytest.param(
            "ZL30",
            "postpaid",
            local(2026, 3, 31, 23, 59, 59),
            7_500,
            "postpaid_from_day_16_50pct",
            id="ZL30-post-31st",
        ),
        # 2026-03-15T17:00Z = 00:00 on 16/03 local (UTC+7): the local day decides → 7,500
        pytest.param(
            "ZL30",
            "postpaid",
            datetime(2026, 3, 15, 17, 0, tzinfo=UTC),
            7_500,
            "postpaid_from_day_16_50pct",
            id="ZL30-post-16th-local-from-utc",
        ),
        # the rule is "cho thuê bao trả sau": prepaid pays 15,000 on any day
        pytest.param(
            "ZL30", "prepaid", local(2026, 3, 15), 15_000, "prepaid_full_price", id="ZL30-pre-15th"
        ),
        pytest.param(
            "ZL30", "prepaid", local(2026, 3, 16), 15_000, "prepaid_full_price", id="ZL30-pre-16th"
        ),
        # daily and weekly packs: full price on the 16th too (1,000 / 5,000)
        pytest.param(
            "ZL1", "postpaid", local(2026, 3, 16), 1_000, "postpaid_full_price", id="ZL1-post-16th"
        ),
        pytest.param(
            "ZL7", "postpaid", local(2026, 3, 16), 5_000, "postpaid_full_price", id="ZL7-post-16th"
        ),
    ],
)
def test_registration_charge_follows_the_16th_rule(
    zalo: Catalog, code: str, kind: SubscriberKind, at: datetime, amount: int, rule: str
) -> None:
    """A postpaid ZL30 registered before the 16th pays 15,000, from the 16th 7,500;
    prepaid subscribers and the other packs always pay the full price."""
    charge = period_charge(package(zalo, code), kind, at, HCM)
    assert (charge.amount, charge.rule) == (amount, rule)


# --- cancellation: the invoice correction ------------------------------------------------


@pytest.mark.parametrize(
    ("code", "kind", "at", "charged", "expected"),
    [
        # renewed 01/04 for 15,000, cancelled 10/04: month costs 50% = 7,500;
        # 7,500 − 15,000 = −7,500
        pytest.param(
            "ZL30", "postpaid", local(2026, 4, 10, 9), 15_000, -7_500, id="ZL30-post-10th"
        ),
        # last second of the 15th is still before the 16th: −7,500
        pytest.param(
            "ZL30", "postpaid", local(2026, 4, 15, 23, 59, 59), 15_000, -7_500, id="ZL30-post-15th"
        ),
        # from the 16th there is no cancellation rule: the 15,000 stands
        pytest.param(
            "ZL30", "postpaid", local(2026, 4, 16, 0, 0, 0), 15_000, None, id="ZL30-post-16th"
        ),
        # registered 20/03 for 7,500, cancelled 25/03 (after the 16th): no correction
        pytest.param(
            "ZL30", "postpaid", local(2026, 3, 25), 7_500, None, id="ZL30-post-half-month"
        ),
        # prepaid: the rule is for "thuê bao trả sau" only, and a prepaid pack is never refunded
        pytest.param("ZL30", "prepaid", local(2026, 4, 10, 9), 15_000, None, id="ZL30-prepaid"),
        # not a monthly pack: nothing to correct
        pytest.param("ZL1", "postpaid", local(2026, 4, 10, 9), 1_000, None, id="ZL1-post"),
        pytest.param("ZL7", "postpaid", local(2026, 4, 10, 9), 5_000, None, id="ZL7-post"),
    ],
)
def test_cancellation_before_the_16th_brings_the_month_to_half(
    zalo: Catalog,
    code: str,
    kind: SubscriberKind,
    at: datetime,
    charged: int,
    expected: int | None,
) -> None:
    """A postpaid ZL30 cancelled before the 16th after a full charge gets a −7,500
    correction (that month costs 7,500); on or after the 16th, prepaid, ZL1 and ZL7: none."""
    correction = cancellation_adjustment(
        package(zalo, code), kind, at, HCM, charged_this_month=charged
    )
    if expected is None:
        assert correction is None
    else:
        assert correction is not None
        assert (correction.amount, correction.rule) == (
            expected,
            "postpaid_cancel_before_day_16_50pct",
        )


# --- cancellation: the decision ----------------------------------------------------------


@pytest.mark.parametrize("kind", ["prepaid", "postpaid"])
@pytest.mark.parametrize("used", [True, False], ids=["used", "unused"])
def test_zl7_cancel_ends_now_without_refund(
    zalo: Catalog, kind: SubscriberKind, used: bool
) -> None:
    """``HUY ZL7`` on 12/03 15:00 of a pack bought 10/03 10:00 for 5,000 (valid to 17/03
    10:00) ends it at 12/03 15:00, ``cancelled``: no refund, no fee, used or not."""
    holding = paid_holding(
        first_paid_at=local(2026, 3, 10),
        last_paid_at=local(2026, 3, 10),
        last_paid_amount=5_000,
        periods_paid=1,
        period_start=local(2026, 3, 10),
        period_end=local(2026, 3, 17),  # 10 + 7 = 17, inside March
        used_since_last_payment=used,
    )
    at = local(2026, 3, 12, 15)
    decision = cancel_decision(package(zalo, "ZL7"), holding, kind, at, HCM, price=5_000)
    assert decision.allowed
    assert decision.status == "cancelled"
    assert decision.ends_at == at
    assert decision.refund is None
    assert decision.fee is None
    assert decision.rule == "cancel_immediate"
