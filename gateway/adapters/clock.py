"""Clocks: the system clock (the only reader of the wall clock) and a virtual one."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.errors import ClockError

__all__ = ["CLOCK_LIMIT", "SystemClock", "VirtualClock"]

#: the virtual clock never goes past this instant: calendars and reports stay in range
CLOCK_LIMIT = datetime(2100, 1, 1, tzinfo=UTC)


class SystemClock:
    """Follows the wall clock."""

    mode = "real"

    def now(self) -> datetime:
        return datetime.now(UTC)

    def set(self, to: datetime) -> None:
        raise ClockError("the clock is real: it follows the wall clock and cannot be moved")


class VirtualClock:
    """Moves only when told to, only forward, and never past :data:`CLOCK_LIMIT`."""

    mode = "virtual"

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ClockError("the virtual clock needs a time zone in its start time")
        _check_limit(start)
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, to: datetime) -> None:
        if to < self._now:
            raise ClockError(
                f"the clock only moves forward: {to.isoformat()} < {self._now.isoformat()}"
            )
        _check_limit(to)
        self._now = to.astimezone(UTC)


def _check_limit(at: datetime) -> None:
    if at > CLOCK_LIMIT:
        raise ClockError(f"the clock ends at {CLOCK_LIMIT.isoformat()}: {at.isoformat()} is after")
