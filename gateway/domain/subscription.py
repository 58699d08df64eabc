"""A subscription's life: its states and the transitions between them, each checked here.

    (new) --start_trial--> trial --start_period--> active --start_period--> active ...
    active --fail_renewal--> renewal_failed --start_period--> active | --expire--> expired
    active --schedule_cancel--> pending_cancel --reactivate--> active
                                               --end_term--> cancelled
    active --pause--> paused --start_period--> active
    any open state --cancel--> cancelled;  --expire--> expired

The service layer decides *what* happens (the carrier rules); the subscription decides
whether it *may* happen and keeps its fields consistent. An illegal transition raises
``IllegalTransition``: a bug, never a subscriber's mistake.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from gateway.errors import GatewayError

__all__ = [
    "ENDED_STATUSES",
    "NEVER",
    "OPEN_STATUSES",
    "SERVING_STATUSES",
    "IllegalTransition",
    "Subscription",
    "SubscriptionStatus",
]

SubscriptionStatus = Literal[
    "trial", "active", "renewal_failed", "pending_cancel", "paused", "cancelled", "expired"
]

#: statuses that still have something scheduled (a renewal or a retry)
OPEN_STATUSES: frozenset[SubscriptionStatus] = frozenset(
    {"trial", "active", "renewal_failed", "pending_cancel", "paused"}
)
ENDED_STATUSES: frozenset[SubscriptionStatus] = frozenset({"cancelled", "expired"})
#: states in which a plan serves its subscriber (an add-on's base must be in one)
SERVING_STATUSES: frozenset[SubscriptionStatus] = frozenset({"trial", "active", "pending_cancel"})
#: a free tier has no end: it is where an account stands once its paid plan ended
NEVER = datetime(9999, 12, 31, tzinfo=UTC)


class IllegalTransition(GatewayError):
    """A change of state the subscription's life does not allow (a bug in the caller)."""

    def __init__(self, sub: Subscription, transition: str) -> None:
        self.subscription_id = sub.id
        self.status = sub.status
        self.transition = transition
        super().__init__(
            f"subscription {sub.id} ({sub.package}) cannot {transition} when {sub.status}"
        )


@dataclass(slots=True)
class Subscription:
    """One registration of a pack, from ``DK`` to cancellation or expiry.

    ``next_action_at`` is when the scheduler next looks at it: the renewal instant
    of an active pack, the next retry of a failed renewal, ``None`` once it ended.
    ``charge_month``/``charged_in_month`` remember what this subscription put on
    the invoice of the month of its latest charge (the 16th-of-month rule needs it).
    """

    id: str
    msisdn: str
    package: str
    group: str
    status: SubscriptionStatus
    started_at: datetime
    period_start: datetime
    expires_at: datetime
    auto_renew: bool
    next_action_at: datetime | None
    failed_since: datetime | None = None
    cancelled_at: datetime | None = None
    charge_month: str | None = None
    charged_in_month: int = 0
    usage_bytes: int = 0
    #: the list price held for the term (None: the plan's price)
    price: int | None = None
    first_paid_at: datetime | None = None
    last_paid_at: datetime | None = None
    last_paid_amount: int = 0
    periods_paid: int = 0
    #: bytes used since the last payment (a refund rule may ask for none)
    used_since_paid: int = 0
    #: a plan switch accepted for the next period (a retention offer)
    next_package: str | None = None
    #: the price change this subscription was last told of (seed 001), as
    #: ``Announcement.key``: ``CAPM@2026-07-01``; each is told once
    price_notice: str | None = None

    @classmethod
    def sign_up(
        cls, *, id: str, msisdn: str, package: str, group: str, at: datetime, price: int
    ) -> Subscription:
        """A new subscription, before its first period or trial starts."""
        return cls(
            id=id,
            msisdn=msisdn,
            package=package,
            group=group,
            status="active",
            started_at=at,
            period_start=at,
            expires_at=at,
            auto_renew=True,
            next_action_at=None,
            price=price,
        )

    @classmethod
    def free_tier(
        cls, *, id: str, msisdn: str, package: str, group: str, at: datetime
    ) -> Subscription:
        """The free plan an account drops to: no period, no end, nothing to renew."""
        sub = cls.sign_up(id=id, msisdn=msisdn, package=package, group=group, at=at, price=0)
        sub.expires_at, sub.auto_renew = NEVER, False
        return sub

    # -- queries -----------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_serving(self) -> bool:
        return self.status in SERVING_STATUSES

    @property
    def ends_at(self) -> datetime:
        """When the service ends if nothing else happens: the next action, or the expiry."""
        return self.next_action_at or self.expires_at

    # -- transitions -------------------------------------------------------------------

    def _require(self, transition: str, allowed: frozenset[SubscriptionStatus]) -> None:
        if self.status not in allowed:
            raise IllegalTransition(self, transition)

    def start_trial(self, ends: datetime) -> None:
        """Seed 001: the trial starts at sign-up; its end is the first payment."""
        self._require("start a trial", frozenset({"active"}))
        if self.periods_paid:
            raise IllegalTransition(self, "start a trial after a payment")
        self.status, self.expires_at, self.next_action_at = "trial", ends, ends

    def start_period(
        self, *, at: datetime, expires_at: datetime, renews_at: datetime, paid: int, free: bool
    ) -> None:
        """A period paid (``paid`` đồng, possibly 0) starts at ``at``: a sign-up, a trial
        converting, a renewal, a retry that succeeds, a pause that ends."""
        self._require("start a period", frozenset({"active", "trial", "renewal_failed", "paused"}))
        self.first_paid_at = self.first_paid_at or at
        self.status = "active"
        self.period_start = at
        self.expires_at, self.next_action_at = expires_at, renews_at
        if free:  # a free tier has no period to renew: it stays until replaced
            self.expires_at, self.next_action_at, self.auto_renew = NEVER, None, False
        self.failed_since = None
        self.usage_bytes = 0
        # the facts the cancellation and refund rules read
        self.last_paid_at, self.last_paid_amount = at, paid
        self.periods_paid += 1
        self.used_since_paid = 0

    def fail_renewal(self, *, first_failure: datetime, retry_at: datetime) -> None:
        """A prepaid renewal that could not be paid: retried at ``retry_at``."""
        self._require("fail a renewal", frozenset({"active", "trial", "renewal_failed", "paused"}))
        self.status, self.failed_since, self.next_action_at = (
            "renewal_failed",
            first_failure,
            retry_at,
        )

    def schedule_cancel(self, *, at: datetime, ends_at: datetime) -> None:
        """Stop renewing; the plan serves to ``ends_at`` (seed 000: end of the term)."""
        self._require(
            "schedule a cancellation", frozenset({"active", "trial", "renewal_failed", "paused"})
        )
        self.status, self.auto_renew = "pending_cancel", False
        self.cancelled_at, self.next_action_at = at, ends_at

    def reactivate(self) -> None:
        """Seed 000: a plan cancelled to the end of its term comes back before then."""
        self._require("reactivate", frozenset({"pending_cancel"}))
        self.status, self.auto_renew, self.cancelled_at = "active", True, None

    def end_term(self, at: datetime) -> None:
        """A plan cancelled to the end of its term reaches it."""
        self._require("end its term", frozenset({"pending_cancel"}))
        self.status, self.auto_renew, self.next_action_at = "cancelled", False, None
        self.expires_at = min(self.expires_at, at)

    def pause(self, resume_at: datetime) -> None:
        """Seed 002: the paid period runs out, then nothing is charged until ``resume_at``."""
        self._require("pause", frozenset({"active", "trial"}))
        self.status, self.next_action_at = "paused", resume_at

    def cancel(self, at: datetime) -> None:
        """End now (``HUY`` of an immediate plan, a refund, a trial, a closed account)."""
        self._require("be cancelled", OPEN_STATUSES)
        self.status = "cancelled"
        self.cancelled_at = at
        self.expires_at = min(self.expires_at, at)
        self.auto_renew = False
        self.next_action_at = None

    def expire(self) -> None:
        """End without a cancellation: given up for lack of balance, replaced, unsold."""
        self._require("expire", OPEN_STATUSES)
        self.status = "expired"
        self.auto_renew = False
        self.next_action_at = None

    def accept_switch(self, package: str) -> None:
        """Seed 002: a retention offer's plan, taken at the next renewal."""
        self._require("accept a plan switch", OPEN_STATUSES - {"pending_cancel"})
        self.next_package = package

    def switch_plan(self, *, package: str, group: str) -> None:
        """The accepted switch happens: a new plan, its own price, a new term."""
        self._require("switch plan", OPEN_STATUSES)
        self.package, self.group = package, group
        self.next_package, self.price = None, None
        self.periods_paid = 0

    def hold_price(self, price: int) -> None:
        """The list price this period was paid at, held for the term."""
        self.price = price

    def use(self, n_bytes: int) -> None:
        """Data used in the plan's app (zero-rated by it)."""
        self._require("record usage", OPEN_STATUSES)
        self.usage_bytes += n_bytes
        self.used_since_paid += n_bytes

    def told_price(self, key: str) -> None:
        """Seed 001: told of the announced price ``key``."""
        self.price_notice = key

    def book_postpaid(self, month: str, amount: int) -> None:
        """What this subscription put on the invoice of ``month`` (seed 004's 16th rule)."""
        if self.charge_month == month:
            self.charged_in_month += amount
        else:
            self.charge_month, self.charged_in_month = month, amount
