"""Price change notices (seed 001): when a new price is announced, whom it reaches, and from
which renewal.

*"Giá có thể thay đổi, nhưng chỉ khi gia hạn và chúng tôi sẽ luôn thông báo cho bạn
trước"*: a price may change only at a renewal, and the subscriber is always told first.
A ``PriceVersion`` is announced at local midnight of its ``announced`` date; every
subscription it will reach is told then, once, naming the new price and the first
renewal that charges it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from carrier_rules.calendar import require_aware
from carrier_rules.catalog import Package, SubscriberKind
from carrier_rules.policy import list_price, renewal_price
from carrier_rules.terms import PriceVersion
from carrier_rules.validity import period_from

__all__ = ["Announcement", "announcements", "first_renewal_at_version", "version_rule"]

#: renewals looked ahead for the first one that pays a new price (ten years of months)
_LOOKAHEAD = 120


@dataclass(frozen=True, slots=True)
class Announcement:
    """A price version of ``package``, announced at ``at`` (local midnight)."""

    package: Package
    version: PriceVersion
    at: datetime

    @property
    def key(self) -> str:
        """Names the announcement: ``CAPM@2026-07-01`` (the plan and the version's date)."""
        return f"{self.package.code}@{self.version.from_date.isoformat()}"


def version_rule(version: PriceVersion) -> str:
    """The rule name a charge at ``version``'s price carries (as ``list_price`` names it)."""
    return f"price_from_{version.from_date.isoformat()}"


def announcements(packages: list[Package], tz: ZoneInfo) -> list[Announcement]:
    """Every price version of ``packages``, in the order they are announced."""
    found = [
        Announcement(p, v, datetime.combine(v.announced, time(0), tzinfo=tz))
        for p in packages
        for v in p.price_versions
    ]
    return sorted(found, key=lambda a: (a.at, a.package.code, a.version.from_date))


def first_renewal_at_version(
    package: Package,
    version: PriceVersion,
    kind: SubscriberKind,
    tz: ZoneInfo,
    *,
    held: int,
    in_trial: bool,
    periods_paid: int,
    signed_up_at: datetime,
    next_renewal: datetime,
    billing_day: int | None,
) -> datetime | None:
    """The first renewal, from ``next_renewal`` on, that pays ``version``'s price.

    None when the subscription already pays it (it signed up at that version) or no
    renewal within ten years would. Renewals are followed as the engine runs them: a
    trial converts at the sign-up price, a commitment keeps its price for the term, and
    each renewal then takes the newest version in force with its notice.
    """
    require_aware(next_renewal)
    rule = version_rule(version)
    signed = list_price(package, signed_up_at=signed_up_at, at=signed_up_at, tz=tz, renewal=False)
    if signed.rule == rule:
        return None
    validity = package.validity.for_kind(kind)
    at, day = next_renewal, billing_day
    for _ in range(_LOOKAHEAD):
        price = renewal_price(
            package,
            held=held,
            in_trial=in_trial,
            periods_paid=periods_paid,
            signed_up_at=signed_up_at,
            at=at,
            tz=tz,
        )
        if price.rule == rule:
            return at
        if day is None:  # a trial converting: the billing day is the first payment's
            day = at.astimezone(tz).day
        held, in_trial, periods_paid = price.amount, False, periods_paid + 1
        nxt = period_from(validity, at, tz, day).renews_at
        if nxt <= at:  # pragma: no cover - a validity always moves forward
            return None
        at = nxt
    return None
