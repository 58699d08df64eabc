"""Local-calendar helpers: month boundaries in the operator's time zone."""

from __future__ import annotations

import functools
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["add_months", "end_of_month", "month_key", "require_aware", "start_of_next_month"]

_LAST_SECOND = time(23, 59, 59)


def require_aware(at: datetime) -> None:
    """Rules decide for an instant, never for a naive wall-clock reading."""
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at.isoformat()}: carrier rules need an aware time")


def start_of_next_month(at: datetime, tz: ZoneInfo) -> datetime:
    """00:00:00 local on the 1st of the month after the local month of ``at``."""
    require_aware(at)
    local = at.astimezone(tz)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1, tzinfo=tz)


def end_of_month(at: datetime, tz: ZoneInfo) -> datetime:
    """23:59:59 local on the last day of the local month of ``at``."""
    last_day = (start_of_next_month(at, tz) - timedelta(days=1)).date()
    return datetime.combine(last_day, _LAST_SECOND, tzinfo=tz)


@functools.lru_cache(maxsize=4096)
def month_key(at: datetime, tz: ZoneInfo) -> str:
    """The local calendar month of ``at`` as ``YYYY-MM`` (the invoice month)."""
    require_aware(at)
    return at.astimezone(tz).strftime("%Y-%m")


def add_months(at: datetime, months: int, tz: ZoneInfo, *, day: int | None = None) -> datetime:
    """The same local day and time ``months`` later, on the month's last day when that
    month is shorter (31/01 + 1 month = 28/02 or 29/02): a monthly billing date.

    ``day`` is the billing day to keep (31 for a plan first paid on the 31st), so a
    period that started on the 28th of February ends on the 31st of March, not the 28th.
    """
    require_aware(at)
    local = at.astimezone(tz)
    index = local.year * 12 + (local.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    first_of_next = datetime(year + (month == 12), month % 12 + 1, 1)
    last_day = (first_of_next - timedelta(days=1)).day
    wanted = local.day if day is None else day
    return local.replace(year=year, month=month, day=min(wanted, last_day)).replace(tzinfo=tz)
