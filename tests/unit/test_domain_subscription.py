"""A subscription's life: each transition's effect on its fields, and the ones refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from gateway.domain.subscription import NEVER, IllegalTransition, Subscription

T0 = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)  # 10:00 10/03/2026 in Ho Chi Minh City
WEEK = timedelta(days=7)


def _new() -> Subscription:
    return Subscription.sign_up(
        id="s1", msisdn="84912345678", package="ZL7", group="zalo", at=T0, price=5000
    )


def _active() -> Subscription:
    sub = _new()
    sub.start_period(at=T0, expires_at=T0 + WEEK, renews_at=T0 + WEEK, paid=5000, free=False)
    return sub


def test_a_first_period_sets_the_facts_the_refund_rules_read() -> None:
    """Paid 5,000 at T0 for a week: active, expires and renews at T0 + 7 days, first and
    last payment T0, one period paid, nothing used since."""
    sub = _active()

    assert (sub.status, sub.expires_at, sub.next_action_at) == ("active", T0 + WEEK, T0 + WEEK)
    assert (sub.first_paid_at, sub.last_paid_at, sub.last_paid_amount) == (T0, T0, 5000)
    assert (sub.periods_paid, sub.used_since_paid, sub.usage_bytes) == (1, 0, 0)


def test_a_renewal_keeps_the_first_payment_and_counts_the_period() -> None:
    sub = _active()
    sub.use(1_000)
    at = T0 + WEEK

    sub.start_period(at=at, expires_at=at + WEEK, renews_at=at + WEEK, paid=5000, free=False)

    assert (sub.first_paid_at, sub.last_paid_at, sub.periods_paid) == (T0, at, 2)
    assert (sub.usage_bytes, sub.used_since_paid) == (0, 0)


def test_a_free_period_never_ends_nor_renews() -> None:
    sub = _new()
    sub.start_period(at=T0, expires_at=T0 + WEEK, renews_at=T0 + WEEK, paid=0, free=True)
    assert (sub.expires_at, sub.next_action_at, sub.auto_renew) == (NEVER, None, False)


def test_a_trial_converts_with_its_first_period() -> None:
    sub = _new()
    sub.start_trial(T0 + WEEK)
    assert (sub.status, sub.ends_at) == ("trial", T0 + WEEK)

    at = T0 + WEEK
    sub.start_period(at=at, expires_at=at + WEEK, renews_at=at + WEEK, paid=5000, free=False)

    assert (sub.status, sub.first_paid_at, sub.periods_paid) == ("active", at, 1)


def test_a_failed_renewal_is_retried_then_paid() -> None:
    sub = _active()
    sub.fail_renewal(first_failure=T0 + WEEK, retry_at=T0 + WEEK + timedelta(days=1))
    assert (sub.status, sub.failed_since) == ("renewal_failed", T0 + WEEK)

    at = T0 + WEEK + timedelta(days=1)
    sub.start_period(at=at, expires_at=at + WEEK, renews_at=at + WEEK, paid=5000, free=False)

    assert (sub.status, sub.failed_since) == ("active", None)


def test_cancelling_to_term_end_then_reactivating_restores_renewal() -> None:
    sub = _active()
    sub.schedule_cancel(at=T0 + timedelta(days=1), ends_at=T0 + WEEK)
    assert (sub.status, sub.auto_renew, sub.ends_at) == ("pending_cancel", False, T0 + WEEK)

    sub.reactivate()

    assert (sub.status, sub.auto_renew, sub.cancelled_at) == ("active", True, None)


def test_the_end_of_term_cancels_at_that_instant() -> None:
    sub = _active()
    sub.schedule_cancel(at=T0 + timedelta(days=1), ends_at=T0 + WEEK)

    sub.end_term(T0 + WEEK)

    assert (sub.status, sub.next_action_at, sub.expires_at) == ("cancelled", None, T0 + WEEK)
    assert sub.cancelled_at == T0 + timedelta(days=1)


def test_cancelling_now_ends_the_service_now() -> None:
    sub = _active()
    sub.cancel(T0 + timedelta(days=2))
    assert (sub.status, sub.expires_at, sub.next_action_at, sub.auto_renew) == (
        "cancelled",
        T0 + timedelta(days=2),
        None,
        False,
    )


def test_a_switch_takes_the_new_plan_with_a_new_term() -> None:
    sub = _active()
    sub.accept_switch("PBASIC")
    sub.switch_plan(package="PBASIC", group="streaming")
    assert (sub.package, sub.next_package, sub.price, sub.periods_paid) == (
        "PBASIC",
        None,
        None,
        0,
    )


@pytest.mark.parametrize(
    ("prepare", "transition"),
    [
        pytest.param(lambda s: s.cancel(T0), lambda s: s.cancel(T0), id="cancel-twice"),
        pytest.param(
            lambda s: s.expire(),
            lambda s: s.start_period(at=T0, expires_at=T0, renews_at=T0, paid=1, free=False),
            id="renew-an-expired-plan",
        ),
        pytest.param(lambda s: None, lambda s: s.reactivate(), id="reactivate-an-active-plan"),
        pytest.param(lambda s: None, lambda s: s.end_term(T0), id="end-a-term-not-cancelled"),
        pytest.param(lambda s: None, lambda s: s.start_trial(T0), id="trial-after-a-payment"),
        pytest.param(
            lambda s: s.schedule_cancel(at=T0, ends_at=T0 + WEEK),
            lambda s: s.pause(T0 + WEEK),
            id="pause-an-ending-plan",
        ),
        pytest.param(lambda s: s.cancel(T0), lambda s: s.use(1), id="usage-on-a-cancelled-plan"),
    ],
)
def test_an_illegal_transition_raises_and_changes_nothing(
    prepare: Callable[[Subscription], object], transition: Callable[[Subscription], object]
) -> None:
    sub = _active()
    prepare(sub)
    before = (sub.status, sub.expires_at, sub.next_action_at, sub.periods_paid)

    with pytest.raises(IllegalTransition):
        transition(sub)

    assert (sub.status, sub.expires_at, sub.next_action_at, sub.periods_paid) == before
