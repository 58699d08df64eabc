"""Plans loaded with their subscribers (``scgw load``, ``POST /api/subscribers/bulk``): a
plan already serving at the load's instant, its first period counted as paid before the
gateway knew of it (no charge), renewed and charged as usual at its end."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from carrier_rules import SubscriberKind, list_price, period_from
from gateway.domain.model import Subscription
from gateway.errors import PlanConflict
from gateway.service.catalogue import Product
from gateway.service.context import Context

__all__ = ["preload", "preloaded"]


def preloaded(
    product: Product, *, msisdn: str, kind: SubscriberKind, at: datetime, id: str
) -> Subscription:
    """``product`` as a subscription serving from ``at``: the list price of a sign-up at
    ``at`` held for its term, the period a sign-up at ``at`` gets (no trial), nothing
    charged (``last_paid_amount`` 0, so no rule refunds it)."""
    package, zone = product.package, product.catalog.zone
    price = list_price(package, signed_up_at=at, at=at, tz=zone, renewal=False).amount
    sub = Subscription.sign_up(
        id=id, msisdn=msisdn, package=package.code, group=package.group, at=at, price=price
    )
    period = period_from(package.validity.for_kind(kind), at, zone, None)
    sub.start_period(
        at=at,
        expires_at=period.expires_at,
        renews_at=period.renews_at,
        paid=0,
        free=package.price == 0,
    )
    return sub


def conflict(ctx: Context, msisdn: str, codes: Sequence[str]) -> PlanConflict | None:
    """An open plan of the subscriber in the group of one of ``codes``, if any."""
    open_subs = ctx.tx.subscriptions.open_of(msisdn)
    for code in codes:
        group = ctx.catalogue.product(code).package.group
        current = next((s for s in open_subs if s.group == group), None)
        if current is not None:
            return PlanConflict(msisdn, code, current.package)
    return None


def preload(
    ctx: Context, msisdn: str, kind: SubscriberKind, codes: Sequence[str], at: datetime
) -> None:
    """Give ``msisdn`` the plans ``codes`` (checked: known, one per group, add-ons with
    their base), serving from ``at``; ``PlanConflict`` when it has one of a group open."""
    found = conflict(ctx, msisdn, codes)
    if found is not None:
        raise found
    for code in codes:
        product = ctx.catalogue.product(code)
        ctx.tx.subscriptions.put(
            preloaded(product, msisdn=msisdn, kind=kind, at=at, id=ctx.new_id())
        )
