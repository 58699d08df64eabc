"""Validity periods of the Zalo packs (seed 004, "Hiệu lực gói cước").

Every expected instant below is worked out by hand from the operator's rules, in
Asia/Ho_Chi_Minh local time (UTC+7, no DST). ``expires_at`` is the last valid
instant; ``renews_at`` equals it for a rolling end and is 00:00:00 the next day for
an end capped at 23:59:59 on the last day of the month.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.resources import files
from zoneinfo import ZoneInfo

import pytest

from carrier_rules import Catalog, Period, SubscriberKind, ValidityRule, period_from
from carrier_rules.catalog import parse_catalog

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    path = files("carrier_rules") / "catalogs" / "zalo.toml"
    return parse_catalog(path.read_text(encoding="utf-8"), source="zalo.toml")


def _rule(catalog: Catalog, code: str, kind: SubscriberKind) -> ValidityRule:
    package = catalog.package(code)
    assert package is not None
    return package.validity.for_kind(kind)


def _local(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=HCM)


def _rolling(start: datetime, end: datetime) -> Period:
    return Period(starts_at=start, expires_at=end, renews_at=end, capped=False)


def _capped(start: datetime, end: datetime, renews: datetime) -> Period:
    return Period(starts_at=start, expires_at=end, renews_at=renews, capped=True)


# --- prepaid: always rolling, never capped --------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected_end"),
    [
        pytest.param(_local(2026, 3, 10, 8, 15), _local(2026, 3, 11, 8, 15), id="mid-month"),
        pytest.param(
            _local(2026, 1, 31, 21), _local(2026, 2, 1, 21), id="last-day-of-31-day-month"
        ),
        pytest.param(_local(2026, 4, 30, 0), _local(2026, 5, 1, 0), id="last-day-of-30-day-month"),
        pytest.param(_local(2028, 2, 29, 12), _local(2028, 3, 1, 12), id="leap-day-2028"),
        pytest.param(_local(2027, 2, 28, 12), _local(2027, 3, 1, 12), id="feb-28-2027"),
        pytest.param(_local(2026, 12, 31, 20), _local(2027, 1, 1, 20), id="new-year-eve"),
    ],
)
def test_daily_prepaid_lasts_24_hours(
    catalog: Catalog, start: datetime, expected_end: datetime
) -> None:
    """Prepaid ZL1 lasts 24 h from registration, even across the end of a month."""
    rule = _rule(catalog, "ZL1", "prepaid")
    assert period_from(rule, start, HCM) == _rolling(start, expected_end)


@pytest.mark.parametrize(
    ("start", "expected_end"),
    [
        pytest.param(_local(2026, 3, 10, 8, 15), _local(2026, 3, 17, 8, 15), id="mid-month"),
        pytest.param(_local(2026, 3, 25, 14, 30), _local(2026, 4, 1, 14, 30), id="crosses-march"),
        pytest.param(_local(2026, 4, 24, 14, 30), _local(2026, 5, 1, 14, 30), id="crosses-april"),
        pytest.param(_local(2028, 2, 23, 10), _local(2028, 3, 1, 10), id="leap-feb-2028"),
        pytest.param(_local(2027, 2, 23, 10), _local(2027, 3, 2, 10), id="feb-2027"),
        pytest.param(_local(2026, 12, 28, 9), _local(2027, 1, 4, 9), id="december-to-january"),
    ],
)
def test_weekly_prepaid_lasts_7_times_24_hours(
    catalog: Catalog, start: datetime, expected_end: datetime
) -> None:
    """Prepaid ZL7 lasts until instant X of the 7th day (X + 7 x 24 h), never capped."""
    rule = _rule(catalog, "ZL7", "prepaid")
    assert period_from(rule, start, HCM) == _rolling(start, expected_end)


@pytest.mark.parametrize(
    ("start", "expected_end"),
    [
        pytest.param(_local(2026, 3, 5, 8), _local(2026, 4, 4, 8), id="march-5"),
        pytest.param(_local(2026, 4, 1, 0), _local(2026, 5, 1, 0), id="april-1-30-day-month"),
        pytest.param(_local(2026, 1, 1, 0), _local(2026, 1, 31, 0), id="january-1"),
        pytest.param(_local(2027, 1, 31, 10), _local(2027, 3, 2, 10), id="jan-31-2027"),
        pytest.param(_local(2028, 1, 31, 10), _local(2028, 3, 1, 10), id="jan-31-2028-leap"),
        pytest.param(_local(2027, 2, 1, 0), _local(2027, 3, 3, 0), id="feb-1-2027"),
        pytest.param(_local(2028, 2, 1, 0), _local(2028, 3, 2, 0), id="feb-1-2028-leap"),
        pytest.param(_local(2026, 12, 15, 9), _local(2027, 1, 14, 9), id="december-to-january"),
    ],
)
def test_monthly_prepaid_lasts_30_days(
    catalog: Catalog, start: datetime, expected_end: datetime
) -> None:
    """Prepaid ZL30 lasts 30 x 24 h from registration, whatever the month lengths."""
    rule = _rule(catalog, "ZL30", "prepaid")
    assert period_from(rule, start, HCM) == _rolling(start, expected_end)


# --- postpaid daily: 24 h, except on the last day of the month ------------------------


@pytest.mark.parametrize(
    ("start", "expected_end"),
    [
        pytest.param(_local(2026, 3, 10, 8, 15), _local(2026, 3, 11, 8, 15), id="mid-month"),
        pytest.param(_local(2026, 3, 30, 8, 15), _local(2026, 3, 31, 8, 15), id="30th-of-31"),
        pytest.param(
            _local(2026, 3, 30, 23, 59, 58), _local(2026, 3, 31, 23, 59, 58), id="30th-of-31-late"
        ),
        pytest.param(_local(2026, 4, 29, 9), _local(2026, 4, 30, 9), id="29th-of-30"),
        pytest.param(_local(2028, 2, 28, 12), _local(2028, 2, 29, 12), id="feb-28-leap-year"),
        pytest.param(_local(2027, 2, 27, 12), _local(2027, 2, 28, 12), id="feb-27-2027"),
        pytest.param(_local(2026, 12, 30, 18), _local(2026, 12, 31, 18), id="december-30"),
    ],
)
def test_daily_postpaid_before_last_day_lasts_24_hours(
    catalog: Catalog, start: datetime, expected_end: datetime
) -> None:
    """Postpaid ZL1 registered before the month's last day lasts a plain 24 h."""
    rule = _rule(catalog, "ZL1", "postpaid")
    assert period_from(rule, start, HCM) == _rolling(start, expected_end)


@pytest.mark.parametrize(
    ("start", "expected_end", "expected_renewal"),
    [
        pytest.param(
            _local(2026, 3, 31, 0, 0, 0),
            _local(2026, 3, 31, 23, 59, 59),
            _local(2026, 4, 1),
            id="31-day-month-at-00:00:00",
        ),
        pytest.param(
            _local(2026, 3, 31, 12),
            _local(2026, 3, 31, 23, 59, 59),
            _local(2026, 4, 1),
            id="31-day-month-at-noon",
        ),
        pytest.param(
            _local(2026, 3, 31, 23, 59, 59),
            _local(2026, 3, 31, 23, 59, 59),
            _local(2026, 4, 1),
            id="31-day-month-at-23:59:59",
        ),
        pytest.param(
            _local(2026, 4, 30, 0, 0, 0),
            _local(2026, 4, 30, 23, 59, 59),
            _local(2026, 5, 1),
            id="30-day-month-at-00:00:00",
        ),
        pytest.param(
            _local(2026, 4, 30, 23, 59, 59),
            _local(2026, 4, 30, 23, 59, 59),
            _local(2026, 5, 1),
            id="30-day-month-at-23:59:59",
        ),
        pytest.param(
            _local(2028, 2, 29, 12),
            _local(2028, 2, 29, 23, 59, 59),
            _local(2028, 3, 1),
            id="leap-day-2028",
        ),
        pytest.param(
            _local(2027, 2, 28, 12),
            _local(2027, 2, 28, 23, 59, 59),
            _local(2027, 3, 1),
            id="feb-28-2027",
        ),
        pytest.param(
            _local(2026, 12, 31, 0),
            _local(2026, 12, 31, 23, 59, 59),
            _local(2027, 1, 1),
            id="december-31",
        ),
    ],
)
def test_daily_postpaid_on_last_day_ends_at_23_59_59(
    catalog: Catalog, start: datetime, expected_end: datetime, expected_renewal: datetime
) -> None:
    """Postpaid ZL1 registered on the month's last day ends at 23:59:59 that day."""
    rule = _rule(catalog, "ZL1", "postpaid")
    assert period_from(rule, start, HCM) == _capped(start, expected_end, expected_renewal)


# --- postpaid weekly: X + 7 days unless that passes the month's end ------------------


@pytest.mark.parametrize(
    ("start", "expected_end"),
    [
        pytest.param(_local(2026, 3, 10, 8, 15), _local(2026, 3, 17, 8, 15), id="mid-month"),
        pytest.param(_local(2026, 3, 1, 0), _local(2026, 3, 8, 0), id="first-of-month"),
        pytest.param(_local(2026, 3, 24, 14, 30), _local(2026, 3, 31, 14, 30), id="24th-of-31"),
        pytest.param(
            _local(2026, 3, 24, 23, 59, 58), _local(2026, 3, 31, 23, 59, 58), id="24th-of-31-late"
        ),
        pytest.param(_local(2026, 4, 23, 14, 30), _local(2026, 4, 30, 14, 30), id="23rd-of-30"),
        pytest.param(_local(2028, 2, 22, 10), _local(2028, 2, 29, 10), id="feb-22-2028-leap"),
        pytest.param(_local(2027, 2, 21, 10), _local(2027, 2, 28, 10), id="feb-21-2027"),
        pytest.param(_local(2026, 12, 24, 10), _local(2026, 12, 31, 10), id="december-24"),
    ],
)
def test_weekly_postpaid_ending_on_or_before_last_day_is_not_capped(
    catalog: Catalog, start: datetime, expected_end: datetime
) -> None:
    """Postpaid ZL7 whose X + 7 days falls on or before the month's last day keeps X + 7 d."""
    rule = _rule(catalog, "ZL7", "postpaid")
    assert period_from(rule, start, HCM) == _rolling(start, expected_end)


@pytest.mark.parametrize(
    ("start", "expected_end", "expected_renewal"),
    [
        pytest.param(
            _local(2026, 3, 25, 0, 0, 0),
            _local(2026, 3, 31, 23, 59, 59),
            _local(2026, 4, 1),
            id="25th-of-31-at-midnight",
        ),
        pytest.param(
            _local(2026, 3, 25, 14, 30),
            _local(2026, 3, 31, 23, 59, 59),
            _local(2026, 4, 1),
            id="25th-of-31",
        ),
        pytest.param(
            _local(2026, 3, 31, 9),
            _local(2026, 3, 31, 23, 59, 59),
            _local(2026, 4, 1),
            id="last-day-of-31",
        ),
        pytest.param(
            _local(2026, 4, 24, 14, 30),
            _local(2026, 4, 30, 23, 59, 59),
            _local(2026, 5, 1),
            id="24th-of-30",
        ),
        pytest.param(
            _local(2028, 2, 23, 10),
            _local(2028, 2, 29, 23, 59, 59),
            _local(2028, 3, 1),
            id="feb-23-2028-leap",
        ),
        pytest.param(
            _local(2027, 2, 22, 10),
            _local(2027, 2, 28, 23, 59, 59),
            _local(2027, 3, 1),
            id="feb-22-2027",
        ),
        pytest.param(
            _local(2026, 12, 28, 9),
            _local(2026, 12, 31, 23, 59, 59),
            _local(2027, 1, 1),
            id="december-to-january",
        ),
    ],
)
def test_weekly_postpaid_passing_month_end_is_capped(
    catalog: Catalog, start: datetime, expected_end: datetime, expected_renewal: datetime
) -> None:
    """Postpaid ZL7 whose X + 7 days passes the month's end stops at 23:59:59 on its last day."""
    rule = _rule(catalog, "ZL7", "postpaid")
    assert period_from(rule, start, HCM) == _capped(start, expected_end, expected_renewal)


# --- postpaid monthly: until the end of the calendar month ---------------------------


@pytest.mark.parametrize(
    ("start", "expected_end", "expected_renewal"),
    [
        pytest.param(
            _local(2026, 3, 1, 0, 0, 0),
            _local(2026, 3, 31, 23, 59, 59),
            _local(2026, 4, 1),
            id="march-1-midnight",
        ),
        pytest.param(
            _local(2026, 3, 15, 23, 59, 59),
            _local(2026, 3, 31, 23, 59, 59),
            _local(2026, 4, 1),
            id="march-15-last-second",
        ),
        pytest.param(
            _local(2026, 3, 31, 23, 59, 59),
            _local(2026, 3, 31, 23, 59, 59),
            _local(2026, 4, 1),
            id="march-31-last-second",
        ),
        pytest.param(
            _local(2026, 4, 20, 10),
            _local(2026, 4, 30, 23, 59, 59),
            _local(2026, 5, 1),
            id="april-30-day-month",
        ),
        pytest.param(
            _local(2028, 2, 10, 10),
            _local(2028, 2, 29, 23, 59, 59),
            _local(2028, 3, 1),
            id="feb-2028-leap",
        ),
        pytest.param(
            _local(2028, 2, 29, 8),
            _local(2028, 2, 29, 23, 59, 59),
            _local(2028, 3, 1),
            id="leap-day-2028",
        ),
        pytest.param(
            _local(2027, 2, 10, 10),
            _local(2027, 2, 28, 23, 59, 59),
            _local(2027, 3, 1),
            id="feb-2027",
        ),
        pytest.param(
            _local(2027, 1, 31, 10),
            _local(2027, 1, 31, 23, 59, 59),
            _local(2027, 2, 1),
            id="january-31",
        ),
        pytest.param(
            _local(2026, 12, 20, 10),
            _local(2026, 12, 31, 23, 59, 59),
            _local(2027, 1, 1),
            id="december-to-january",
        ),
    ],
)
def test_monthly_postpaid_lasts_until_end_of_calendar_month(
    catalog: Catalog, start: datetime, expected_end: datetime, expected_renewal: datetime
) -> None:
    """Postpaid ZL30 lasts until 23:59:59 on the last day of the registration month."""
    rule = _rule(catalog, "ZL30", "postpaid")
    assert period_from(rule, start, HCM) == _capped(start, expected_end, expected_renewal)


# --- inputs given in UTC: the local (UTC+7) date decides ------------------------------


@pytest.mark.parametrize(
    ("code", "kind", "start", "expected"),
    [
        pytest.param(
            "ZL1",
            "postpaid",
            datetime(2026, 3, 30, 17, 0, 0, tzinfo=UTC),  # 31 Mar 00:00 local: last day
            Period(
                starts_at=_local(2026, 3, 31, 0),
                expires_at=_local(2026, 3, 31, 23, 59, 59),
                renews_at=_local(2026, 4, 1),
                capped=True,
            ),
            id="daily-utc-30th-is-local-31st",
        ),
        pytest.param(
            "ZL1",
            "postpaid",
            datetime(2026, 3, 31, 17, 30, tzinfo=UTC),  # 1 Apr 00:30 local: not a last day
            Period(
                starts_at=_local(2026, 4, 1, 0, 30),
                expires_at=_local(2026, 4, 2, 0, 30),
                renews_at=_local(2026, 4, 2, 0, 30),
                capped=False,
            ),
            id="daily-utc-31st-is-local-april-1st",
        ),
        pytest.param(
            "ZL7",
            "postpaid",
            datetime(2026, 3, 24, 17, 30, tzinfo=UTC),  # 25 Mar 00:30 local
            Period(
                starts_at=_local(2026, 3, 25, 0, 30),
                expires_at=_local(2026, 3, 31, 23, 59, 59),
                renews_at=_local(2026, 4, 1),
                capped=True,
            ),
            id="weekly-utc-24th-is-local-25th",
        ),
        pytest.param(
            "ZL30",
            "postpaid",
            datetime(2026, 1, 31, 17, 30, tzinfo=UTC),  # 1 Feb 00:30 local
            Period(
                starts_at=_local(2026, 2, 1, 0, 30),
                expires_at=_local(2026, 2, 28, 23, 59, 59),
                renews_at=_local(2026, 3, 1),
                capped=True,
            ),
            id="monthly-utc-january-is-local-february",
        ),
        pytest.param(
            "ZL30",
            "postpaid",
            datetime(2026, 12, 31, 17, 0, tzinfo=UTC),  # 1 Jan 2027 00:00 local
            Period(
                starts_at=_local(2027, 1, 1),
                expires_at=_local(2027, 1, 31, 23, 59, 59),
                renews_at=_local(2027, 2, 1),
                capped=True,
            ),
            id="monthly-utc-2026-is-local-2027",
        ),
        pytest.param(
            "ZL30",
            "prepaid",
            datetime(2026, 1, 31, 17, 30, tzinfo=UTC),  # 1 Feb 00:30 local
            Period(
                starts_at=_local(2026, 2, 1, 0, 30),
                expires_at=_local(2026, 3, 3, 0, 30),
                renews_at=_local(2026, 3, 3, 0, 30),
                capped=False,
            ),
            id="monthly-prepaid-from-utc",
        ),
    ],
)
def test_utc_input_uses_local_calendar(
    catalog: Catalog, code: str, kind: SubscriberKind, start: datetime, expected: Period
) -> None:
    """A start given in UTC is judged by its Asia/Ho_Chi_Minh (UTC+7) date and month."""
    rule = _rule(catalog, code, kind)
    assert period_from(rule, start, HCM) == expected


@pytest.mark.parametrize("kind", ["prepaid", "postpaid"])
@pytest.mark.parametrize("code", ["ZL1", "ZL7", "ZL30"])
def test_naive_start_is_rejected(catalog: Catalog, code: str, kind: SubscriberKind) -> None:
    """A naive start datetime (no time zone) raises ValueError instead of guessing a zone."""
    rule = _rule(catalog, code, kind)
    with pytest.raises(ValueError, match="aware"):
        period_from(rule, datetime(2026, 3, 31, 12, 0, 0), HCM)
