"""Pricing: what a registration, a renewal or a cancellation costs, and under which rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from carrier_rules.calendar import require_aware
from carrier_rules.catalog import Package, SubscriberKind
from carrier_rules.terms import ProrationCase

__all__ = ["Charge", "cancellation_adjustment", "percent_of", "period_charge"]


@dataclass(frozen=True, slots=True)
class Charge:
    """An amount in đồng and the name of the rule that produced it."""

    amount: int
    rule: str


def percent_of(amount: int, percent: int) -> int:
    """``percent`` % of ``amount`` in whole đồng, halves rounded up."""
    return (amount * percent + 50) // 100


def period_charge(
    package: Package,
    kind: SubscriberKind,
    at: datetime,
    tz: ZoneInfo,
    *,
    price: int | None = None,
) -> Charge:
    """The charge for a period registered or renewed at ``at``.

    The list price (``price`` when the subscription holds another one: a price version,
    the price shown at sign-up), reduced by the first ``registration`` proration case
    that matches the subscriber's kind and the local day of ``at`` (seed 004: a postpaid
    monthly pack registered from the 16th costs 50%).
    """
    require_aware(at)
    amount = package.price if price is None else price
    day = at.astimezone(tz).day
    for case in package.proration:
        if case.on == "registration" and _matches(case, kind, day):
            return Charge(percent_of(amount, case.percent), case.name)
    return Charge(amount, f"{kind}_full_price")


def _matches(case: ProrationCase, kind: SubscriberKind, day: int) -> bool:
    return case.kind in ("any", kind) and case.from_day <= day < case.before_day


def cancellation_adjustment(
    package: Package,
    kind: SubscriberKind,
    at: datetime,
    tz: ZoneInfo,
    *,
    charged_this_month: int,
) -> Charge | None:
    """The invoice correction for a cancellation at ``at``, if any.

    The first ``cancellation`` proration case that matches brings what this subscription
    put on the invoice of ``at``'s month (``charged_this_month``) down to its percent
    of the price: a negative charge (seed 004: a postpaid monthly pack cancelled before
    the 16th costs 50% for that month). Nothing is given back below zero, and prepaid
    balances are never adjusted here (refunds are the cancellation policy's).
    """
    require_aware(at)
    if kind != "postpaid":
        return None
    day = at.astimezone(tz).day
    for case in package.proration:
        if case.on == "cancellation" and _matches(case, kind, day):
            reduced = percent_of(package.price, case.percent)
            if charged_this_month <= reduced:
                return None
            return Charge(reduced - charged_this_month, case.name)
    return None
