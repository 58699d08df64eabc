"""A subscriber's plans together: replacing one, falling back to the free tier, add-ons that
end with their base, and a subscription's facts as the pure rules read them."""

from __future__ import annotations

from datetime import datetime

from carrier_rules import CancelDecision, Charge, Holding, Language, renewal_price
from gateway.domain.model import Subscriber, Subscription
from gateway.service.catalogue import Product
from gateway.service.context import Context

__all__ = ["end_addons", "fall_back", "holding", "holding_inputs", "renewal_list_price", "replace"]


def replace(ctx: Context, in_group: list[Subscription]) -> None:
    """A new plan replaces a pack whose renewal failed, and a free tier, of its group."""
    for stale in in_group:
        stale.expire()
        ctx.tx.subscriptions.put(stale)


def fall_back(
    ctx: Context,
    subscriber: Subscriber,
    sub: Subscription,
    product: Product,
    lang: Language,
    at: datetime,
) -> list[str]:
    """When a plan ends, the account drops to its free tier (seeds 001, 002)."""
    fallback = product.package.fallback
    if fallback is None:
        return []
    free = ctx.catalogue.product(fallback).package
    ctx.tx.subscriptions.put(
        Subscription.free_tier(
            id=ctx.new_id(), msisdn=subscriber.msisdn, package=free.code, group=free.group, at=at
        )
    )
    return [product.replies.render(lang, "ended_fallback", package=sub.package, fallback=free.code)]


def end_addons(ctx: Context, subscriber: Subscriber, base: Subscription, at: datetime) -> list[str]:
    """An add-on is sold on top of a paid base plan (seed 000): when the base ends and
    no other paid plan of its group serves, its add-ons end with it. Returns the texts."""
    open_subs = ctx.tx.subscriptions.open_of(subscriber.msisdn)
    if any(
        s.group == base.group and s.is_serving and not ctx.catalogue.is_free(s) and s.id != base.id
        for s in open_subs
    ):
        return []
    texts = []
    for other in open_subs:
        product = ctx.catalogue.get(other.package)
        if product is None or product.package.requires != base.group:
            continue
        other.cancel(at)
        ctx.tx.subscriptions.put(other)
        lang = product.replies.language(subscriber.language)
        texts.append(product.replies.render(lang, "ended", package=other.package))
    return texts


def holding(sub: Subscription) -> Holding:
    """The facts of ``sub`` the cancellation and refund rules read."""
    return Holding(
        signed_up_at=sub.started_at,
        first_paid_at=sub.first_paid_at,
        last_paid_at=sub.last_paid_at,
        last_paid_amount=sub.last_paid_amount,
        periods_paid=sub.periods_paid,
        period_start=sub.period_start,
        period_end=sub.ends_at if sub.status == "trial" else sub.expires_at,
        in_trial=sub.status == "trial",
        used_since_last_payment=sub.used_since_paid > 0,
    )


def holding_inputs(sub: Subscription, decision: CancelDecision) -> dict[str, object]:
    """A cancellation decision's inputs, recorded with the refund or fee it books (its
    instants in the zone the rules decided in, whatever zone storage gave them back in)."""
    zone = decision.ends_at.tzinfo
    first_paid_at = None if sub.first_paid_at is None else sub.first_paid_at.astimezone(zone)
    return {
        "decision": decision.rule,
        "first_paid_at": None if first_paid_at is None else first_paid_at.isoformat(),
        "last_paid_amount": sub.last_paid_amount,
        "periods_paid": sub.periods_paid,
        "used_since_last_payment_bytes": sub.used_since_paid,
        "ends_at": decision.ends_at.isoformat(),
    }


def renewal_list_price(product: Product, sub: Subscription, at: datetime) -> Charge:
    """Seed 001: a trial converts at the price shown at sign-up; the price is fixed for
    a commitment's term; otherwise a renewal pays the version in force (with notice).
    The charge's rule names which of these set the price."""
    return renewal_price(
        product.package,
        held=product.held_price(sub),
        in_trial=sub.status == "trial",
        periods_paid=sub.periods_paid,
        signed_up_at=sub.started_at,
        at=at,
        tz=product.catalog.zone,
    )
