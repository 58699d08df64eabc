"""Retry schedule of a prepaid renewal that could not be paid (zalo.toml ``[renewal]``).

Decided policy: retry every 24 h; give up 7 days after the first failure. The last
retry is exactly at first failure + 7 days; a failure at or after that deadline ends
the pack (``None``). Every expected instant is written out by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.resources import files
from zoneinfo import ZoneInfo

import pytest

from carrier_rules import Catalog, RenewalPolicy, next_retry
from carrier_rules.catalog import parse_catalog

HCM = ZoneInfo("Asia/Ho_Chi_Minh")

FIRST_FAILED = datetime(2026, 5, 10, 8, 0, 0, tzinfo=HCM)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    path = files("carrier_rules") / "catalogs" / "zalo.toml"
    return parse_catalog(path.read_text(encoding="utf-8"), source="zalo.toml")


@pytest.fixture(scope="module")
def policy(catalog: Catalog) -> RenewalPolicy:
    return catalog.renewal


def test_catalog_policy_is_daily_for_seven_days(policy: RenewalPolicy) -> None:
    """The shipped Zalo catalog retries every 24 hours and gives up after 7 days."""
    assert policy == RenewalPolicy(retry_every_hours=24, give_up_after_days=7)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(
            datetime(2026, 5, 10, 8, 0, 0, tzinfo=HCM),
            datetime(2026, 5, 11, 8, 0, 0, tzinfo=HCM),
            id="first-failure",
        ),
        pytest.param(
            datetime(2026, 5, 11, 8, 0, 0, tzinfo=HCM),
            datetime(2026, 5, 12, 8, 0, 0, tzinfo=HCM),
            id="second-failure",
        ),
        pytest.param(
            datetime(2026, 5, 13, 8, 0, 0, tzinfo=HCM),
            datetime(2026, 5, 14, 8, 0, 0, tzinfo=HCM),
            id="fourth-failure",
        ),
        pytest.param(
            datetime(2026, 5, 15, 8, 0, 0, tzinfo=HCM),
            datetime(2026, 5, 16, 8, 0, 0, tzinfo=HCM),
            id="sixth-failure",
        ),
        pytest.param(
            datetime(2026, 5, 16, 8, 0, 0, tzinfo=HCM),
            datetime(2026, 5, 17, 8, 0, 0, tzinfo=HCM),
            id="seventh-failure-last-retry-at-deadline",
        ),
    ],
)
def test_retry_every_24_hours(policy: RenewalPolicy, now: datetime, expected: datetime) -> None:
    """After a failed attempt the renewal is retried 24 hours later."""
    assert next_retry(policy, first_failed_at=FIRST_FAILED, now=now) == expected


@pytest.mark.parametrize(
    "now",
    [
        pytest.param(datetime(2026, 5, 16, 20, 0, 0, tzinfo=HCM), id="off-schedule-6.5-days"),
        pytest.param(datetime(2026, 5, 17, 7, 59, 59, tzinfo=HCM), id="one-second-before"),
    ],
)
def test_retry_never_later_than_seven_days(policy: RenewalPolicy, now: datetime) -> None:
    """A retry that would fall after first failure + 7 days is held at exactly that deadline."""
    expected = datetime(2026, 5, 17, 8, 0, 0, tzinfo=HCM)
    assert next_retry(policy, first_failed_at=FIRST_FAILED, now=now) == expected


@pytest.mark.parametrize(
    "now",
    [
        pytest.param(datetime(2026, 5, 17, 8, 0, 0, tzinfo=HCM), id="at-deadline"),
        pytest.param(datetime(2026, 5, 17, 8, 0, 1, tzinfo=HCM), id="one-second-after"),
        pytest.param(datetime(2026, 5, 18, 8, 0, 0, tzinfo=HCM), id="a-day-after"),
    ],
)
def test_give_up_at_or_after_seven_days(policy: RenewalPolicy, now: datetime) -> None:
    """A failure at or after first failure + 7 days gives up (no further retry)."""
    assert next_retry(policy, first_failed_at=FIRST_FAILED, now=now) is None


def test_retry_schedule_crosses_new_year(policy: RenewalPolicy) -> None:
    """The 7-day deadline rolls over from December into January of the next year."""
    first = datetime(2026, 12, 28, 22, 0, 0, tzinfo=HCM)
    assert next_retry(policy, first_failed_at=first, now=first) == datetime(
        2026, 12, 29, 22, 0, 0, tzinfo=HCM
    )
    assert next_retry(
        policy, first_failed_at=first, now=datetime(2027, 1, 3, 22, 0, 0, tzinfo=HCM)
    ) == datetime(2027, 1, 4, 22, 0, 0, tzinfo=HCM)
    assert (
        next_retry(policy, first_failed_at=first, now=datetime(2027, 1, 4, 22, 0, 0, tzinfo=HCM))
        is None
    )


def test_retry_schedule_with_utc_inputs(policy: RenewalPolicy) -> None:
    """Retry instants are absolute: UTC inputs give the same instants as local ones."""
    first = datetime(2026, 5, 10, 1, 0, 0, tzinfo=UTC)  # 2026-05-10 08:00 local
    now = datetime(2026, 5, 17, 0, 59, 59, tzinfo=UTC)  # one second before the deadline
    assert next_retry(policy, first_failed_at=first, now=now) == datetime(
        2026, 5, 17, 8, 0, 0, tzinfo=HCM
    )
    assert (
        next_retry(policy, first_failed_at=first, now=datetime(2026, 5, 17, 1, 0, tzinfo=UTC))
        is None
    )


def test_zero_day_policy_gives_up_at_once() -> None:
    """With give_up_after_days = 0 the first failure is already at the deadline: give up."""
    policy = RenewalPolicy(retry_every_hours=24, give_up_after_days=0)
    assert next_retry(policy, first_failed_at=FIRST_FAILED, now=FIRST_FAILED) is None


def test_retry_interval_longer_than_a_day() -> None:
    """A 36-hour policy retries 36 hours after each failure, capped at the deadline."""
    policy = RenewalPolicy(retry_every_hours=36, give_up_after_days=2)
    assert next_retry(policy, first_failed_at=FIRST_FAILED, now=FIRST_FAILED) == datetime(
        2026, 5, 11, 20, 0, 0, tzinfo=HCM
    )
    assert next_retry(
        policy, first_failed_at=FIRST_FAILED, now=datetime(2026, 5, 11, 20, 0, 0, tzinfo=HCM)
    ) == datetime(2026, 5, 12, 8, 0, 0, tzinfo=HCM)
