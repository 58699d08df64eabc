"""Pricing: what a registration, a renewal or a cancellation costs, and under which rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from carrier_rules.calendar import require_aware
from carrier_rules.catalog import Package, SubscriberKind

__all__ = ["Charge", "cancellation_adjustment", "percent_of", "period_charge"]


@dataclass(frozen=True, slots=True)
class Charge:
    """An amount in đồng and the name of the rule that produced it."""

    amount: int
    rule: str


def percent_of(amount: int, percent: int) -> int:
    """``percent`` % of ``amount`` in whole đồng, halves rounded up."""
    return (amount * percent + 50) // 100


def period_charge(package: Package, kind: SubscriberKind, at: datetime, tz: ZoneInfo) -> Charge:
    """The charge for a period registered or renewed at ``at``.

    Prepaid pays the full price from the main balance. Postpaid puts the full price
    on the invoice, except a pack with a mid-month proration registered on or after
    its ``from_day`` (seed 004: monthly packs from the 16th cost 50%).
    """
    require_aware(at)
    if kind == "prepaid":
        return Charge(package.price, "prepaid_full_price")
    proration = package.postpaid_proration
    if proration is not None and at.astimezone(tz).day >= proration.from_day:
        return Charge(
            percent_of(package.price, proration.registration_percent),
            f"postpaid_from_day_{proration.from_day}_{proration.registration_percent}pct",
        )
    return Charge(package.price, "postpaid_full_price")


def cancellation_adjustment(
    package: Package,
    kind: SubscriberKind,
    at: datetime,
    tz: ZoneInfo,
    *,
    charged_this_month: int,
) -> Charge | None:
    """The invoice correction for a cancellation at ``at``, if any.

    Seed 004: a postpaid monthly pack cancelled before the 16th costs 50% for that
    month. ``charged_this_month`` is what this subscription already put on the
    invoice of ``at``'s month; the correction is a negative charge down to the
    reduced amount. Prepaid is never refunded.
    """
    require_aware(at)
    proration = package.postpaid_proration
    if kind != "postpaid" or proration is None:
        return None
    if at.astimezone(tz).day >= proration.from_day:
        return None
    reduced = percent_of(package.price, proration.cancel_before_day_percent)
    if charged_this_month <= reduced:
        return None
    return Charge(
        reduced - charged_this_month,
        f"postpaid_cancel_before_day_{proration.from_day}_{proration.cancel_before_day_percent}pct",
    )
