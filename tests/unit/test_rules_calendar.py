"""Local-calendar helpers: month boundaries and invoice months in Asia/Ho_Chi_Minh (UTC+7).

Every expected instant and key is written out by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from carrier_rules import end_of_month, month_key, start_of_next_month

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        pytest.param(
            datetime(2026, 1, 1, 0, 0, 0, tzinfo=HCM),
            datetime(2026, 1, 31, 23, 59, 59, tzinfo=HCM),
            id="january-31-days",
        ),
        pytest.param(
            datetime(2026, 4, 15, 12, 0, tzinfo=HCM),
            datetime(2026, 4, 30, 23, 59, 59, tzinfo=HCM),
            id="april-30-days",
        ),
        pytest.param(
            datetime(2027, 2, 10, 12, 0, tzinfo=HCM),
            datetime(2027, 2, 28, 23, 59, 59, tzinfo=HCM),
            id="february-2027",
        ),
        pytest.param(
            datetime(2028, 2, 10, 12, 0, tzinfo=HCM),
            datetime(2028, 2, 29, 23, 59, 59, tzinfo=HCM),
            id="february-2028-leap",
        ),
        pytest.param(
            datetime(2026, 12, 31, 23, 59, 59, tzinfo=HCM),
            datetime(2026, 12, 31, 23, 59, 59, tzinfo=HCM),
            id="december-last-second",
        ),
        pytest.param(
            datetime(2026, 1, 31, 17, 0, 0, tzinfo=UTC),  # 2026-02-01 00:00 local
            datetime(2026, 2, 28, 23, 59, 59, tzinfo=HCM),
            id="utc-january-local-february",
        ),
    ],
)
def test_end_of_month(at: datetime, expected: datetime) -> None:
    """The end of a month is 23:59:59 local on the last day of the local month."""
    assert end_of_month(at, HCM) == expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        pytest.param(
            datetime(2026, 3, 31, 23, 59, 59, tzinfo=HCM),
            datetime(2026, 4, 1, 0, 0, 0, tzinfo=HCM),
            id="march",
        ),
        pytest.param(
            datetime(2028, 2, 29, 0, 0, 0, tzinfo=HCM),
            datetime(2028, 3, 1, 0, 0, 0, tzinfo=HCM),
            id="leap-february",
        ),
        pytest.param(
            datetime(2026, 12, 31, 23, 59, 59, tzinfo=HCM),
            datetime(2027, 1, 1, 0, 0, 0, tzinfo=HCM),
            id="december-to-january",
        ),
        pytest.param(
            datetime(2026, 12, 31, 17, 0, 0, tzinfo=UTC),  # 2027-01-01 00:00 local
            datetime(2027, 2, 1, 0, 0, 0, tzinfo=HCM),
            id="utc-2026-local-2027",
        ),
    ],
)
def test_start_of_next_month(at: datetime, expected: datetime) -> None:
    """The next month starts at 00:00:00 local on the 1st after the local month."""
    assert start_of_next_month(at, HCM) == expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        pytest.param(datetime(2026, 3, 16, 0, 30, tzinfo=HCM), "2026-03", id="local"),
        pytest.param(datetime(2026, 12, 31, 16, 59, 59, tzinfo=UTC), "2026-12", id="utc-still-dec"),
        pytest.param(datetime(2026, 12, 31, 17, 0, 0, tzinfo=UTC), "2027-01", id="utc-local-jan"),
        pytest.param(datetime(2028, 2, 29, 23, 59, 59, tzinfo=HCM), "2028-02", id="leap-day"),
    ],
)
def test_month_key(at: datetime, expected: str) -> None:
    """The invoice month is the local (UTC+7) calendar month as YYYY-MM."""
    assert month_key(at, HCM) == expected


def test_end_of_month_rejects_naive_datetime() -> None:
    """end_of_month raises ValueError for a naive datetime."""
    with pytest.raises(ValueError, match="aware"):
        end_of_month(datetime(2026, 3, 31, 12, 0), HCM)


def test_start_of_next_month_rejects_naive_datetime() -> None:
    """start_of_next_month raises ValueError for a naive datetime."""
    with pytest.raises(ValueError, match="aware"):
        start_of_next_month(datetime(2026, 3, 31, 12, 0), HCM)


def test_month_key_rejects_naive_datetime() -> None:
    """month_key raises ValueError for a naive datetime."""
    with pytest.raises(ValueError, match="aware"):
        month_key(datetime(2026, 3, 31, 12, 0), HCM)
