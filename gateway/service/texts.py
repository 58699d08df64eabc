"""Reply texts built from several facts: confirmations, questions, offers, list items."""

from __future__ import annotations

from datetime import datetime

from carrier_rules import Charge, Language, Offer, month_key
from gateway.domain.model import Subscriber, Subscription
from gateway.domain.subscription import NEVER
from gateway.service.catalogue import Product

__all__ = ["confirmation", "item", "offers_text", "opt_in_question", "refund_question"]


def confirmation(
    product: Product,
    subscriber: Subscriber,
    sub: Subscription,
    paid: Charge,
    lang: Language,
    key: str,
) -> str:
    """``registered`` or ``renewed``: the plan, what was charged where, until when."""
    replies = product.replies
    amount = replies.money(lang, paid.amount)
    if subscriber.kind == "postpaid":
        month = replies.month(month_key(sub.period_start, product.catalog.zone))
        charge_text = replies.render(lang, "charge_postpaid", amount=amount, month=month)
    else:
        charge_text = replies.render(lang, "charge_prepaid", amount=amount)
    return replies.render(
        lang,
        key,
        package=sub.package,
        benefit=product.package.benefit[lang],
        charge=charge_text,
        expires=replies.when(sub.expires_at),
    )


def opt_in_question(product: Product, amount: int, lang: Language) -> str:
    replies, package = product.replies, product.package
    return replies.render(
        lang,
        "confirm_subscribe",
        package=package.code,
        price=replies.money(lang, amount),
        period=package.period[lang],
        minutes=product.catalog.conversation_minutes,
    )


def refund_question(product: Product, amount: int, ends: datetime, lang: Language) -> str:
    """Seed 000's choice: 1 (or Y) cancel now with the refund; 2 (or N) cancel without
    it, the plan running to ``ends``; 3 keep the plan."""
    replies = product.replies
    return replies.render(
        lang,
        "confirm_refund",
        package=product.package.code,
        amount=replies.money(lang, amount),
        expires=replies.when(ends),
        minutes=product.catalog.conversation_minutes,
    )


def offers_text(product: Product, offers: list[Offer], lang: Language) -> str:
    """Seed 002's retention offers, numbered, the last one "confirm the cancellation"."""
    replies = product.replies
    options = []
    for n, offer in enumerate(offers, start=1):
        if offer.kind == "pause":
            options.append(replies.render(lang, "offer_pause", n=n, cycles=offer.cycles))
        elif offer.plan is not None:
            price = replies.money(lang, offer.plan.price)
            options.append(
                replies.render(lang, "offer_switch", n=n, plan=offer.plan.code, price=price)
            )
    options.append(replies.render(lang, "offer_cancel", n=len(offers) + 1))
    return replies.render(
        lang, "retention_offer", package=product.package.code, options=", ".join(options)
    )


def item(product: Product, sub: Subscription, lang: Language) -> str:
    """One plan in a list: its state and, unless it is a free tier, until when."""
    replies = product.replies
    state = replies.render(lang, f"state_{sub.status}")
    if sub.expires_at == NEVER:  # a free tier: no end to show
        return replies.render(lang, "list_item_free", package=sub.package, state=state)
    ends = sub.next_action_at if sub.status in ("trial", "pending_cancel", "paused") else None
    return replies.render(
        lang,
        "list_item",
        package=sub.package,
        state=state,
        expires=replies.when(ends or sub.expires_at),
    )
