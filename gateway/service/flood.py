"""Flood control: a per-MSISDN token bucket on MOs, as an operator's SMSC has one.

Measured on the monotonic wall clock, not the virtual one: it limits real traffic (a
harness that sends 5,000 MOs in 5 s from one number), whatever the simulated time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["MoRateLimiter"]


class MoRateLimiter:
    """At most ``rate`` MOs per second per sender, with bursts of up to ``burst``.

    ``rate = 0`` turns it off. The table of senders is bounded: past ``max_tracked``
    senders, those whose bucket has refilled (idle ones) are forgotten, which changes no
    decision (a full bucket is what an unknown sender starts with).
    """

    def __init__(
        self,
        *,
        rate: float,
        burst: int,
        max_tracked: int = 100_000,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = max(burst, 1)
        self._max_tracked = max_tracked
        self._now = now
        #: msisdn -> (tokens left, when they were counted)
        self._buckets: dict[str, tuple[float, float]] = {}

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def allow(self, msisdn: str) -> bool:
        """Take one token for ``msisdn``; False when its bucket is empty."""
        if self.rate <= 0:
            return True
        now = self._now()
        tokens, since = self._buckets.get(msisdn, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - since) * self.rate)
        if tokens < 1.0:
            self._buckets[msisdn] = (tokens, now)
            return False
        self._buckets[msisdn] = (tokens - 1.0, now)
        if len(self._buckets) > self._max_tracked:
            self._forget_idle(now)
        return True

    def _forget_idle(self, now: float) -> None:
        refill = self.burst / self.rate
        self._buckets = {m: b for m, b in self._buckets.items() if now - b[1] < refill}
