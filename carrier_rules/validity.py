"""Validity: when a pack registered or renewed at instant X stops, and when it renews."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from carrier_rules.calendar import add_months, end_of_month, require_aware, start_of_next_month
from carrier_rules.catalog import ValidityRule

__all__ = ["Period", "period_from"]


@dataclass(frozen=True, slots=True)
class Period:
    """One paid period of a pack.

    ``expires_at`` is the last valid instant as the operator states it (X + N x 24 h,
    or 23:59:59 local when capped); ``renews_at`` is the first instant after it, when
    the next period starts: the same instant for a rolling end, 00:00:00 on the next
    day for a capped one.
    """

    starts_at: datetime
    expires_at: datetime
    renews_at: datetime
    capped: bool


@functools.lru_cache(maxsize=4096)
def period_from(
    rule: ValidityRule, start: datetime, tz: ZoneInfo, anchor_day: int | None = None
) -> Period:
    """The period that starts at ``start`` under ``rule`` (seed 004, "Hiệu lực gói cước").

    For a rule in months, ``anchor_day`` is the billing day of month (the day of the
    first payment): twelve monthly periods from the 31st of January end on the 31st of
    January, not drifting to the 28th after February.
    """
    require_aware(start)
    rolling_end: datetime | None = None
    if rule.hours is not None:
        rolling_end = start + timedelta(hours=rule.hours)
    elif rule.months is not None:
        rolling_end = add_months(start, rule.months, tz, day=anchor_day)
    if rule.cap == "month_end":
        last_instant = end_of_month(start, tz)
        if rolling_end is None or rolling_end > last_instant:
            return Period(
                starts_at=start,
                expires_at=last_instant,
                renews_at=start_of_next_month(start, tz),
                capped=True,
            )
    if rolling_end is None:  # pragma: no cover - ValidityRule forbids no hours and no cap
        raise ValueError("a validity needs hours, a cap, or both")
    return Period(starts_at=start, expires_at=rolling_end, renews_at=rolling_end, capped=False)
