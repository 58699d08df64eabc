"""What a subscriber has: ``KTTK`` (a group's status), ``KT <CODE>`` and ``TC`` (the list)."""

from __future__ import annotations

from carrier_rules import Catalog, Language, period_charge
from gateway.domain.model import Subscriber
from gateway.domain.subscription import NEVER
from gateway.service import texts
from gateway.service.context import Context
from gateway.service.plans import renewal_list_price

__all__ = ["check", "list_all", "status"]


def status(
    ctx: Context, subscriber: Subscriber, catalog: Catalog, group: str, lang: Language
) -> list[str]:
    """The status of the subscriber's plan in ``group``: until when, renewing or not, or
    what a failed renewal will charge."""
    replies = ctx.catalogue.replies[catalog.shortcode]
    for sub in ctx.tx.subscriptions.open_of(subscriber.msisdn):
        if sub.group != group:
            continue
        product = ctx.catalogue.get(sub.package)
        if sub.status == "renewal_failed" and product is not None:
            # what the retry will charge: the held price, at the renewal's instant
            price = period_charge(
                product.package,
                subscriber.kind,
                sub.expires_at,
                catalog.zone,
                price=renewal_list_price(product, sub, sub.expires_at).amount,
            )
            return [
                replies.render(
                    lang,
                    "renewal_failed",
                    package=sub.package,
                    balance=replies.money(lang, subscriber.balance),
                    price=replies.money(lang, price.amount),
                )
            ]
        if sub.expires_at == NEVER and product is not None:
            return [texts.item(product, sub, lang)]
        return [
            replies.render(
                lang,
                "status",
                package=sub.package,
                expires=replies.when(sub.expires_at),
                auto_renew=replies.render(
                    lang, "auto_renew_on" if sub.auto_renew else "auto_renew_off"
                ),
                used=replies.data(sub.usage_bytes),
            )
        ]
    return [replies.render(lang, "status_none", commands=replies.commands(lang))]


def check(ctx: Context, subscriber: Subscriber, code: str, lang: Language) -> list[str]:
    """``KT <CODE>``: the state of one service."""
    product = ctx.catalogue.product(code)
    subs = ctx.tx.subscriptions.open_of(subscriber.msisdn)
    sub = next((s for s in subs if s.package == code), None)
    if sub is None:
        return [product.replies.render(lang, "not_registered", package=code)]
    return [texts.item(product, sub, lang)]


def list_all(ctx: Context, subscriber: Subscriber, catalog: Catalog, lang: Language) -> list[str]:
    """``TC``: what the subscriber has on this short code."""
    replies = ctx.catalogue.replies[catalog.shortcode]
    items = [
        texts.item(ctx.catalogue.product(s.package), s, lang)
        for s in ctx.tx.subscriptions.open_of(subscriber.msisdn)
        if s.package in catalog.by_code
    ]
    if not items:
        return [replies.render(lang, "list_none", commands=replies.commands(lang))]
    return [replies.render(lang, "list", items="; ".join(items))]
