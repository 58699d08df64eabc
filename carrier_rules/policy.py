"""Policy decisions: pure functions of (a plan's terms, a subscription's facts, now).

They return decisions (what to charge or refund, when the service ends, which state
follows) with the name of the rule that produced each amount; the gateway applies
them. Nothing here does I/O or reads the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from carrier_rules.calendar import add_months, require_aware
from carrier_rules.catalog import Catalog, Package, SubscriberKind
from carrier_rules.pricing import Charge, percent_of
from carrier_rules.terms import RefundRule

__all__ = [
    "CancelDecision",
    "Holding",
    "Offer",
    "can_reactivate",
    "cancel_decision",
    "list_price",
    "renewal_price",
    "retention_offers",
    "term_end",
    "trial_end",
]


@dataclass(frozen=True, slots=True)
class Holding:
    """What the rules need to know about one subscription to a plan.

    ``first_paid_at`` is the first purchase (None while a trial has not converted);
    ``periods_paid`` counts billing periods charged (for a commitment);
    ``period_end`` is when the current period (paid or trial) ends;
    ``used_since_last_payment`` comes from the usage records.
    """

    signed_up_at: datetime
    first_paid_at: datetime | None
    last_paid_at: datetime | None
    last_paid_amount: int
    periods_paid: int
    period_start: datetime
    period_end: datetime
    in_trial: bool
    used_since_last_payment: bool


@dataclass(frozen=True, slots=True)
class CancelDecision:
    """What a cancellation request does.

    ``allowed = False``: the plan cannot be cancelled by the subscriber ("contact
    sales", seed 000). Otherwise the service ends at ``ends_at``: now (``cancelled``)
    or at the end of the period or term (``pending_cancel``: it stops renewing and
    runs to term end). ``refund`` is a negative charge, ``fee`` a positive one; each
    names its rule. ``rule`` names the rule that decided the outcome.
    """

    allowed: bool
    status: Literal["cancelled", "pending_cancel"]
    ends_at: datetime
    refund: Charge | None
    fee: Charge | None
    rule: str


@dataclass(frozen=True, slots=True)
class Offer:
    """A retention offer (seed 002): pause for ``cycles`` periods, or switch plan."""

    kind: Literal["pause", "switch"]
    cycles: int | None = None
    plan: Package | None = None


def list_price(
    package: Package, *, signed_up_at: datetime, at: datetime, tz: ZoneInfo, renewal: bool
) -> Charge:
    """The list price of a period starting at ``at``, before any proration.

    Seed 001: the price is the one shown at sign-up and is fixed for the term; it may
    change only at a renewal, announced in advance. So a period pays:

    * at sign-up (``renewal=False``), and when a trial converts: the version in force
      on the local sign-up date;
    * at a renewal: the newest version in force on ``at``'s date that was announced at
      least ``notice_days`` before it; within a commitment, only a renewal that starts
      a new term may change it (the caller passes ``renewal=False`` inside a term).
    """
    require_aware(at)
    require_aware(signed_up_at)
    signed = signed_up_at.astimezone(tz).date()
    amount, rule = package.price, "list_price"
    for version in sorted(package.price_versions, key=lambda v: v.from_date):
        if version.from_date <= signed:
            amount, rule = version.amount, f"price_from_{version.from_date.isoformat()}"
    if not renewal:
        return Charge(amount, rule)
    day = at.astimezone(tz).date()
    for version in sorted(package.price_versions, key=lambda v: v.from_date):
        noticed = version.announced + timedelta(days=version.notice_days)
        if version.from_date <= day and noticed <= day:
            amount, rule = version.amount, f"price_from_{version.from_date.isoformat()}"
    return Charge(amount, rule)


def renewal_price(
    package: Package,
    *,
    held: int,
    in_trial: bool,
    periods_paid: int,
    signed_up_at: datetime,
    at: datetime,
    tz: ZoneInfo,
) -> Charge:
    """The list price a renewal at ``at`` pays (seed 001), naming the rule that set it.

    A trial converts at the price shown at sign-up (``held``); within a commitment billed
    per period the price is fixed for the term; otherwise the renewal pays the version
    in force, with notice (``list_price(renewal=True)``).
    """
    if in_trial:
        return Charge(held, "trial_converts_at_signup_price")
    commitment = package.commitment
    if (
        commitment is not None
        and commitment.billing == "per_period"
        and periods_paid % commitment.periods != 0
    ):
        return Charge(held, "price_fixed_for_the_term")
    return list_price(package, signed_up_at=signed_up_at, at=at, tz=tz, renewal=True)


def trial_end(package: Package, signed_up_at: datetime) -> datetime | None:
    """When a trial started at ``signed_up_at`` ends (and the first payment is due)."""
    require_aware(signed_up_at)
    if package.trial is None:
        return None
    return signed_up_at + timedelta(days=package.trial.days)


def term_end(
    package: Package, kind: SubscriberKind, first_paid_at: datetime, tz: ZoneInfo
) -> datetime | None:
    """The end of the commitment that started with the first payment (None: evergreen)."""
    require_aware(first_paid_at)
    commitment = package.commitment
    if commitment is None:
        return None
    rule = package.validity.for_kind(kind)
    if commitment.billing == "upfront" or (rule.months is None and rule.hours is None):
        return None  # the one period is the term: its own end
    if rule.months is not None:
        return add_months(first_paid_at, rule.months * commitment.periods, tz)
    assert rule.hours is not None
    return first_paid_at + timedelta(hours=rule.hours * commitment.periods)


def _refund_rule(rules: list[RefundRule], holding: Holding, at: datetime) -> RefundRule | None:
    for rule in rules:
        if rule.within_days is not None:
            first = holding.first_paid_at
            if first is None or at >= first + timedelta(days=rule.within_days):
                continue
        if rule.unused_since_last_payment and holding.used_since_last_payment:
            continue
        return rule
    return None


def _refund(rule: RefundRule, holding: Holding, at: datetime) -> Charge | None:
    paid = holding.last_paid_amount
    if rule.refund == "none" or paid <= 0:
        return None
    if rule.refund == "full":
        return Charge(-paid, rule.name)
    total = (holding.period_end - holding.period_start).total_seconds()
    left = max((holding.period_end - at).total_seconds(), 0.0)
    share = 0 if total <= 0 else round(paid * left / total)
    return None if share <= 0 else Charge(-share, rule.name)


def cancel_decision(
    package: Package,
    holding: Holding,
    kind: SubscriberKind,
    at: datetime,
    tz: ZoneInfo,
    *,
    price: int,
    waive_refund: bool = False,
) -> CancelDecision:
    """What cancelling ``package`` at ``at`` does (seeds 000, 001, 002, 004).

    In order: a plan the subscriber may not cancel is refused ("contact sales"); a trial
    ends at once with nothing charged; the first refund rule that matches ends the
    plan at once and refunds the last payment (full or the unused share); otherwise a
    termination fee may apply (``percent`` of the periods of the commitment not yet
    charged × ``price``, after ``after_days`` from the first purchase), and the plan
    ends as ``effective`` says: now, at the end of the period, or at the end of the term.

    ``waive_refund``: the subscriber cancels without asking for the refund a rule would
    give (seed 000: cancelling stops the renewal and the plan runs to the end of its
    term; the refund is something one *may* ask for): the refund rules are skipped.
    """
    require_aware(at)
    terms = package.cancellation
    if not terms.self_service:
        return CancelDecision(
            False, "pending_cancel", holding.period_end, None, None, "contact_sales"
        )
    if holding.in_trial:
        return CancelDecision(
            True, "cancelled", at, None, None, "trial_cancelled_before_conversion"
        )
    matched = None if waive_refund else _refund_rule(terms.refunds, holding, at)
    if matched is not None and matched.refund != "none":
        refund = _refund(matched, holding, at)
        return CancelDecision(True, "cancelled", at, refund, None, matched.name)
    fee = None
    commitment = package.commitment
    first = holding.first_paid_at
    if (
        terms.fee is not None
        and commitment is not None
        and commitment.billing == "per_period"
        and first is not None
    ) and at >= first + timedelta(days=terms.fee.after_days):
        remaining = max(commitment.periods - holding.periods_paid, 0)
        amount = percent_of(price * remaining, terms.fee.percent)
        if amount > 0:
            fee = Charge(amount, terms.fee.name)
    rule = matched.name if matched is not None else f"cancel_{terms.effective}"
    if terms.effective == "immediate":
        return CancelDecision(True, "cancelled", at, None, fee, rule)
    if terms.effective == "end_of_term" and first is not None:
        end = term_end(package, kind, first, tz) or holding.period_end
        return CancelDecision(True, "pending_cancel", max(end, at), None, fee, rule)
    return CancelDecision(True, "pending_cancel", max(holding.period_end, at), None, fee, rule)


def can_reactivate(package: Package, *, status: str, ends_at: datetime, at: datetime) -> bool:
    """Seed 000: a plan cancelled to the end of its term can be reactivated before then."""
    require_aware(at)
    return package.reactivation and status == "pending_cancel" and at < ends_at


def retention_offers(catalog: Catalog, package: Package) -> list[Offer]:
    """The offers made before a cancellation, in the order they are numbered (seed 002)."""
    retention = package.retention
    if retention is None or not package.cancellation.offer_retention:
        return []
    offers: list[Offer] = []
    if retention.pause_cycles is not None:
        offers.append(Offer("pause", cycles=retention.pause_cycles))
    if retention.switch_to is not None:
        target = catalog.package(retention.switch_to)
        if target is not None:
            offers.append(Offer("switch", plan=target))
    return offers
