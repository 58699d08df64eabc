"""Telling subscribers of a new price (seed 001): at the announcement, or at sign-up after it."""

from __future__ import annotations

from datetime import datetime

from carrier_rules import Announcement, Language
from gateway.domain.model import Outgoing, Subscriber, Subscription
from gateway.service.announcements import Notice, PriceNotices
from gateway.service.catalogue import Product
from gateway.service.context import Context

__all__ = ["announce", "at_sign_up"]


def announce(ctx: Context, announcement: Announcement) -> list[Outgoing]:
    """Tell every open subscription that the new price will reach (seed 001: "chúng tôi
    sẽ luôn thông báo cho bạn trước"), once each, at the announcement's instant. Returns
    the MTs sent."""
    at = announcement.at
    product = ctx.catalogue.product(announcement.package.code)
    sent: list[Outgoing] = []
    for sub in ctx.tx.subscriptions.open_of_package(announcement.package.code):
        subscriber = ctx.tx.subscribers.get(sub.msisdn)
        if subscriber is None or subscriber.status == "closed":
            continue
        held = product.held_price(sub)
        notice = PriceNotices.owed(announcement, sub, subscriber.kind, product.catalog, held)
        if notice is None:
            continue
        lang = product.replies.language(subscriber.language)
        text = _tell(ctx, subscriber, sub, product, notice, lang, at)
        ctx.fx.mail(product, subscriber, "price_notice", text, at)
        sent.append(ctx.fx.reply(product.catalog, sub.msisdn, text, None, at))
    ctx.notices.mark_done(ctx.tx, announcement, at)
    return sent


def at_sign_up(
    ctx: Context,
    subscriber: Subscriber,
    sub: Subscription,
    product: Product,
    lang: Language,
    now: datetime,
) -> str:
    """A sign-up after a price change was announced hears of it at once: the text to
    append to its confirmation (" " first), or "" when no announced price will reach it."""
    held = product.held_price(sub)
    notice = ctx.notices.at_sign_up(
        product.package, sub, subscriber.kind, product.catalog, held, now
    )
    if notice is None:
        return ""
    return " " + _tell(ctx, subscriber, sub, product, notice, lang, now)


def _tell(
    ctx: Context,
    subscriber: Subscriber,
    sub: Subscription,
    product: Product,
    notice: Notice,
    lang: Language,
    at: datetime,
) -> str:
    """Record that ``sub`` is told of ``notice`` (once: the subscription remembers it) and
    note it on the timeline; returns the text."""
    sub.told_price(notice.announcement.key)
    ctx.tx.subscriptions.put(sub)
    ctx.fx.note(
        "price_notice",
        at,
        msisdn=subscriber.msisdn,
        package=sub.package,
        amount=notice.amount,
        status=notice.first_renewal.isoformat(),
    )
    return PriceNotices.text(product.replies, lang, notice, product.held_price(sub))
