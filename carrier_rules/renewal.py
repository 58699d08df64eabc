"""Renewal retries: when a prepaid renewal that could not be paid is tried again."""

from __future__ import annotations

from datetime import datetime, timedelta

from carrier_rules.calendar import require_aware
from carrier_rules.catalog import RenewalPolicy

__all__ = ["next_retry"]


def next_retry(
    policy: RenewalPolicy, *, first_failed_at: datetime, now: datetime
) -> datetime | None:
    """The next retry after a failed attempt at ``now``, or ``None`` to give up.

    Retries come every ``retry_every_hours``; the last one is exactly
    ``give_up_after_days`` after the first failure, and a failure then ends the pack.
    """
    require_aware(first_failed_at)
    require_aware(now)
    deadline = first_failed_at + timedelta(days=policy.give_up_after_days)
    if now >= deadline:
        return None
    return min(now + timedelta(hours=policy.retry_every_hours), deadline)
