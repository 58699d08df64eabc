"""Prices of the Zalo packs and the postpaid mid-month rules (seed 004).

Every expected amount is integer VND worked out by hand from the notice: ZL1 1,000,
ZL7 5,000, ZL30 15,000; postpaid ZL30 registered from the 16th costs 50% (7,500);
postpaid ZL30 cancelled before the 16th costs 50% for that month. Days are local
Asia/Ho_Chi_Minh (UTC+7) days.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.resources import files
from zoneinfo import ZoneInfo

import pytest

from carrier_rules import (
    Catalog,
    Package,
    SubscriberKind,
    cancellation_adjustment,
    period_charge,
)
from carrier_rules.catalog import parse_catalog

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    path = files("carrier_rules") / "catalogs" / "zalo.toml"
    return parse_catalog(path.read_text(encoding="utf-8"), source="zalo.toml")


def _package(catalog: Catalog, code: str) -> Package:
    package = catalog.package(code)
    assert package is not None
    return package


# --- registration / renewal charge -----------------------------------------------------


@pytest.mark.parametrize(
    ("code", "at", "expected"),
    [
        pytest.param("ZL1", datetime(2026, 3, 1, 0, 0, 0, tzinfo=HCM), 1000, id="ZL1-1st"),
        pytest.param("ZL1", datetime(2026, 3, 20, 9, 0, tzinfo=HCM), 1000, id="ZL1-20th"),
        pytest.param("ZL7", datetime(2026, 3, 15, 23, 59, 59, tzinfo=HCM), 5000, id="ZL7-15th"),
        pytest.param("ZL7", datetime(2026, 3, 16, 0, 0, 0, tzinfo=HCM), 5000, id="ZL7-16th"),
        pytest.param("ZL30", datetime(2026, 3, 1, 0, 0, 0, tzinfo=HCM), 15000, id="ZL30-1st"),
        pytest.param(
            "ZL30", datetime(2026, 3, 15, 23, 59, 59, tzinfo=HCM), 15000, id="ZL30-15th-last-second"
        ),
        pytest.param(
            "ZL30", datetime(2026, 3, 16, 0, 0, 0, tzinfo=HCM), 15000, id="ZL30-16th-first-second"
        ),
        pytest.param("ZL30", datetime(2026, 3, 31, 23, 59, 59, tzinfo=HCM), 15000, id="ZL30-31st"),
    ],
)
def test_prepaid_pays_full_price(catalog: Catalog, code: str, at: datetime, expected: int) -> None:
    """Prepaid always pays the full list price, whatever the day of the month."""
    charge = period_charge(_package(catalog, code), "prepaid", at, HCM)
    assert charge.amount == expected


@pytest.mark.parametrize(
    ("code", "at", "expected"),
    [
        pytest.param("ZL1", datetime(2026, 3, 1, 0, 0, 0, tzinfo=HCM), 1000, id="ZL1-1st"),
        pytest.param("ZL1", datetime(2026, 3, 16, 0, 0, 0, tzinfo=HCM), 1000, id="ZL1-16th"),
        pytest.param("ZL1", datetime(2026, 3, 31, 12, 0, tzinfo=HCM), 1000, id="ZL1-31st"),
        pytest.param("ZL7", datetime(2026, 3, 15, 23, 59, 59, tzinfo=HCM), 5000, id="ZL7-15th"),
        pytest.param("ZL7", datetime(2026, 3, 16, 0, 0, 0, tzinfo=HCM), 5000, id="ZL7-16th"),
        pytest.param("ZL7", datetime(2026, 3, 25, 14, 30, tzinfo=HCM), 5000, id="ZL7-25th"),
    ],
)
def test_postpaid_daily_and_weekly_pay_full_price(
    catalog: Catalog, code: str, at: datetime, expected: int
) -> None:
    """Postpaid ZL1 and ZL7 go on the invoice at full price, even from the 16th."""
    charge = period_charge(_package(catalog, code), "postpaid", at, HCM)
    assert charge.amount == expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        pytest.param(datetime(2026, 3, 1, 0, 0, 0, tzinfo=HCM), 15000, id="1st"),
        pytest.param(datetime(2026, 3, 10, 9, 0, tzinfo=HCM), 15000, id="10th"),
        pytest.param(datetime(2026, 3, 15, 23, 59, 59, tzinfo=HCM), 15000, id="15th-23:59:59"),
        pytest.param(datetime(2026, 3, 16, 0, 0, 0, tzinfo=HCM), 7500, id="16th-00:00:00"),
        pytest.param(datetime(2026, 3, 31, 23, 59, 59, tzinfo=HCM), 7500, id="31st"),
        pytest.param(datetime(2026, 4, 30, 12, 0, tzinfo=HCM), 7500, id="30th-of-30-day-month"),
        pytest.param(datetime(2027, 2, 28, 12, 0, tzinfo=HCM), 7500, id="feb-28-2027"),
        pytest.param(datetime(2028, 2, 29, 12, 0, tzinfo=HCM), 7500, id="feb-29-2028"),
        pytest.param(datetime(2027, 1, 1, 0, 0, 0, tzinfo=HCM), 15000, id="new-year"),
    ],
)
def test_postpaid_monthly_half_price_from_the_16th(
    catalog: Catalog, at: datetime, expected: int
) -> None:
    """Postpaid ZL30 registered before the 16th costs 100%, from the 16th on 50% (7,500)."""
    charge = period_charge(_package(catalog, "ZL30"), "postpaid", at, HCM)
    assert charge.amount == expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # 2026-03-15T17:30Z is 2026-03-16 00:30 local: the 16th.
        pytest.param(datetime(2026, 3, 15, 17, 30, tzinfo=UTC), 7500, id="utc-15th-local-16th"),
        # 2026-03-15T16:59:59Z is 2026-03-15 23:59:59 local: still the 15th.
        pytest.param(
            datetime(2026, 3, 15, 16, 59, 59, tzinfo=UTC), 15000, id="utc-15th-local-15th"
        ),
        # 2026-03-31T17:00Z is 2026-04-01 00:00 local: the 1st of April.
        pytest.param(datetime(2026, 3, 31, 17, 0, tzinfo=UTC), 15000, id="utc-31st-local-1st"),
    ],
)
def test_postpaid_monthly_price_uses_local_date(
    catalog: Catalog, at: datetime, expected: int
) -> None:
    """The 16th-of-the-month rule uses the local UTC+7 date, not the UTC date."""
    charge = period_charge(_package(catalog, "ZL30"), "postpaid", at, HCM)
    assert charge.amount == expected


def test_prepaid_and_postpaid_charges_name_different_rules(catalog: Catalog) -> None:
    """A charge names the rule that produced it: full price vs the postpaid 50% rule differ."""
    package = _package(catalog, "ZL30")
    at = datetime(2026, 3, 20, 10, 0, tzinfo=HCM)
    prepaid = period_charge(package, "prepaid", at, HCM)
    postpaid = period_charge(package, "postpaid", at, HCM)
    assert prepaid.rule
    assert postpaid.rule
    assert prepaid.rule != postpaid.rule


# --- cancellation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "at",
    [
        pytest.param(datetime(2026, 3, 1, 0, 0, 0, tzinfo=HCM), id="1st-00:00:00"),
        pytest.param(datetime(2026, 3, 10, 9, 0, tzinfo=HCM), id="10th"),
        pytest.param(datetime(2026, 3, 15, 23, 59, 59, tzinfo=HCM), id="15th-23:59:59"),
        # 2026-03-15T16:59:59Z is 2026-03-15 23:59:59 local.
        pytest.param(datetime(2026, 3, 15, 16, 59, 59, tzinfo=UTC), id="utc-local-15th"),
        pytest.param(datetime(2028, 2, 15, 12, 0, tzinfo=HCM), id="feb-15-2028"),
    ],
)
def test_postpaid_monthly_cancel_before_16th_refunds_half(catalog: Catalog, at: datetime) -> None:
    """Postpaid ZL30 cancelled before the 16th after a 15,000 charge is corrected by -7,500."""
    adjustment = cancellation_adjustment(
        _package(catalog, "ZL30"), "postpaid", at, HCM, charged_this_month=15000
    )
    assert adjustment is not None
    assert adjustment.amount == -7500


@pytest.mark.parametrize(
    "at",
    [
        pytest.param(datetime(2026, 3, 16, 0, 0, 0, tzinfo=HCM), id="16th-00:00:00"),
        pytest.param(datetime(2026, 3, 31, 23, 59, 59, tzinfo=HCM), id="31st"),
        # 2026-03-15T17:30Z is 2026-03-16 00:30 local.
        pytest.param(datetime(2026, 3, 15, 17, 30, tzinfo=UTC), id="utc-15th-local-16th"),
    ],
)
def test_postpaid_monthly_cancel_from_16th_changes_nothing(catalog: Catalog, at: datetime) -> None:
    """Postpaid ZL30 cancelled on or after the 16th (local date) gets no correction."""
    adjustment = cancellation_adjustment(
        _package(catalog, "ZL30"), "postpaid", at, HCM, charged_this_month=15000
    )
    assert adjustment is None


@pytest.mark.parametrize("charged", [7500, 5000, 0])
def test_postpaid_monthly_cancel_when_half_or_less_charged_changes_nothing(
    catalog: Catalog, charged: int
) -> None:
    """Postpaid ZL30 cancelled before the 16th with 7,500 or less charged gets no correction."""
    at = datetime(2026, 3, 10, 9, 0, tzinfo=HCM)
    adjustment = cancellation_adjustment(
        _package(catalog, "ZL30"), "postpaid", at, HCM, charged_this_month=charged
    )
    assert adjustment is None


@pytest.mark.parametrize(
    ("code", "kind", "charged"),
    [
        pytest.param("ZL30", "prepaid", 15000, id="ZL30-prepaid"),
        pytest.param("ZL1", "prepaid", 1000, id="ZL1-prepaid"),
        pytest.param("ZL7", "prepaid", 5000, id="ZL7-prepaid"),
        pytest.param("ZL1", "postpaid", 1000, id="ZL1-postpaid"),
        pytest.param("ZL7", "postpaid", 5000, id="ZL7-postpaid"),
        pytest.param("ZL7", "postpaid", 10000, id="ZL7-postpaid-two-weeks"),
    ],
)
def test_no_cancellation_adjustment_outside_postpaid_monthly(
    catalog: Catalog, code: str, kind: SubscriberKind, charged: int
) -> None:
    """Cancelling prepaid, or ZL1/ZL7 on postpaid, never corrects the charge."""
    at = datetime(2026, 3, 10, 9, 0, tzinfo=HCM)
    adjustment = cancellation_adjustment(
        _package(catalog, code), kind, at, HCM, charged_this_month=charged
    )
    assert adjustment is None


# --- naive datetimes --------------------------------------------------------------------


def test_period_charge_rejects_naive_datetime(catalog: Catalog) -> None:
    """A naive registration time raises ValueError: the 16th rule needs a local date."""
    with pytest.raises(ValueError, match="aware"):
        period_charge(_package(catalog, "ZL30"), "postpaid", datetime(2026, 3, 15, 23, 0), HCM)


def test_cancellation_adjustment_rejects_naive_datetime(catalog: Catalog) -> None:
    """A naive cancellation time raises ValueError: the 16th rule needs a local date."""
    with pytest.raises(ValueError, match="aware"):
        cancellation_adjustment(
            _package(catalog, "ZL30"),
            "postpaid",
            datetime(2026, 3, 15, 23, 0),
            HCM,
            charged_this_month=15000,
        )
