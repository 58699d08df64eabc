"""Flood control: the per-MSISDN token bucket, on a clock the test moves."""

from __future__ import annotations

from gateway.service.flood import MoRateLimiter


class _Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_a_burst_passes_then_the_rate_holds() -> None:
    """10 per second with bursts of 20: 20 at once pass, the 21st does not; 0.1 s later
    one more token has refilled (10 × 0.1), so exactly one more passes."""
    clock = _Clock()
    limiter = MoRateLimiter(rate=10, burst=20, now=clock)

    assert [limiter.allow("a") for _ in range(21)] == [True] * 20 + [False]
    clock.t += 0.1
    assert [limiter.allow("a") for _ in range(2)] == [True, False]


def test_each_sender_has_its_own_bucket() -> None:
    clock = _Clock()
    limiter = MoRateLimiter(rate=1, burst=1, now=clock)

    assert (limiter.allow("a"), limiter.allow("a"), limiter.allow("b")) == (True, False, True)


def test_an_idle_sender_is_back_to_a_full_burst() -> None:
    """After 2 s idle at 10/s the bucket is full again (capped at the burst, 20), not 40."""
    clock = _Clock()
    limiter = MoRateLimiter(rate=10, burst=20, now=clock)
    for _ in range(20):
        limiter.allow("a")
    clock.t += 4.0

    assert sum(limiter.allow("a") for _ in range(40)) == 20


def test_rate_zero_turns_it_off() -> None:
    limiter = MoRateLimiter(rate=0, burst=1)
    assert all(limiter.allow("a") for _ in range(1000))


def test_the_table_of_senders_stays_bounded_without_changing_decisions() -> None:
    """Past ``max_tracked`` senders, idle ones (refilled to a full bucket) are forgotten;
    a sender whose bucket is empty is kept, and still refused."""
    clock = _Clock()
    limiter = MoRateLimiter(rate=1, burst=1, max_tracked=10, now=clock)
    for i in range(20):
        limiter.allow(f"idle{i}")
    clock.t += 2.0  # every one of them has refilled (1 token a second, bursts of 1)

    assert limiter.allow("busy") is True  # 21 senders > 10: the idle ones are forgotten
    assert limiter.allow("busy") is False
    assert limiter.allow("new") is True
    assert sorted(limiter._buckets) == ["busy", "new"]
