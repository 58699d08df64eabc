"""``Y``, ``N`` or a digit: the answer to the open question of a short code."""

from __future__ import annotations

from datetime import datetime

from carrier_rules import Catalog, Language, period_from, retention_offers
from gateway.domain.model import Conversation, Subscriber, Subscription
from gateway.service import billing, cancel, subscribe, texts
from gateway.service.catalogue import Product
from gateway.service.context import Context

__all__ = ["answer"]

#: answers to the refund question (seed 000): the refund and the end now; no refund and
#: the plan to the end of its term; keep the plan
_REFUND_CHOICES = {
    "1": "refund",
    "Y": "refund",
    "2": "no_refund",
    "N": "no_refund",
    "3": "keep",
}


def answer(
    ctx: Context,
    subscriber: Subscriber,
    catalog: Catalog,
    reply: str,
    lang: Language,
    now: datetime,
    message_id: str,
) -> list[str]:
    """Answer this short code's open question with ``reply`` (``Y``, ``N`` or a digit)."""
    replies = ctx.catalogue.replies[catalog.shortcode]
    tx = ctx.tx
    conversation = tx.conversations.get(subscriber.msisdn, catalog.shortcode)
    if conversation is None:
        return [replies.render(lang, "no_conversation", commands=replies.commands(lang))]
    tx.conversations.delete(subscriber.msisdn, catalog.shortcode)
    if now > conversation.expires_at:
        return [replies.render(lang, "conversation_expired")]
    code = conversation.package
    product = ctx.catalogue.get(code)
    if product is None:  # the catalog stopped selling it meanwhile
        return [replies.render(lang, "conversation_expired")]
    if conversation.kind == "refund":
        choice = _REFUND_CHOICES.get(reply)
        if choice is None:  # not one of the three: ask again, still open
            tx.conversations.put(conversation)
            asked = int(str(conversation.data.get("amount", 0)))
            return [texts.refund_question(product, asked, _asked_end(ctx, conversation), lang)]
        if choice == "keep":
            return [replies.render(lang, "declined")]
        return cancel.cancel(
            ctx,
            subscriber,
            code,
            lang,
            now,
            message_id,
            confirmed=True,
            offers_made=True,
            waive_refund=choice == "no_refund",
        )
    if reply == "N":
        return [replies.render(lang, "declined")]
    if conversation.kind == "opt_in":
        if reply != "Y":  # a digit is no answer to a yes/no question: ask again
            tx.conversations.put(conversation)
            amount = conversation.data.get("amount", product.package.price)
            return [texts.opt_in_question(product, int(str(amount)), lang)]
        return subscribe.subscribe(ctx, subscriber, code, lang, now, message_id, confirmed=True)
    return _retention(ctx, subscriber, catalog, conversation, product, reply, lang, now, message_id)


def _retention(
    ctx: Context,
    subscriber: Subscriber,
    catalog: Catalog,
    conversation: Conversation,
    product: Product,
    reply: str,
    lang: Language,
    now: datetime,
    message_id: str,
) -> list[str]:
    """Seed 002's offers: 1) pause, 2) the cheaper plan, 3) cancel (as numbered)."""
    code = conversation.package
    offered = conversation.data.get("offers", [])
    choices = [str(c) for c in offered] if isinstance(offered, list) else []
    index = int(reply) - 1 if reply.isdigit() else -1
    if not 0 <= index < len(choices):
        ctx.tx.conversations.put(conversation)  # still open: ask again
        return [texts.offers_text(product, retention_offers(catalog, product.package), lang)]
    choice = choices[index]
    if choice == "cancel":
        return cancel.cancel(ctx, subscriber, code, lang, now, message_id, offers_made=True)
    sub = next(
        (s for s in ctx.tx.subscriptions.open_of(subscriber.msisdn) if s.package == code), None
    )
    replies = ctx.catalogue.replies[catalog.shortcode]
    if sub is None:
        return [replies.render(lang, "not_registered", package=code)]
    retention = product.package.retention
    assert retention is not None
    if choice == "pause" and retention.pause_cycles is not None:
        return [_pause(ctx, subscriber, sub, product, retention.pause_cycles, lang)]
    target = ctx.catalogue.product(retention.switch_to or code)
    sub.accept_switch(target.package.code)
    ctx.tx.subscriptions.put(sub)
    return [
        replies.render(
            lang,
            "switched",
            plan=target.package.code,
            price=replies.money(lang, target.package.price),
            at=replies.when(sub.ends_at),
        )
    ]


def _pause(
    ctx: Context,
    subscriber: Subscriber,
    sub: Subscription,
    product: Product,
    cycles: int,
    lang: Language,
) -> str:
    """Seed 002's pause: the paid period runs out, then ``cycles`` periods are skipped
    (nothing charged); the plan renews at the end of the pause."""
    rule = product.package.validity.for_kind(subscriber.kind)
    zone = product.catalog.zone
    resume = sub.ends_at
    for _ in range(cycles):
        resume = period_from(rule, resume, zone, billing.billing_day(sub, zone)).renews_at
    sub.pause(resume)
    ctx.tx.subscriptions.put(sub)
    replies = product.replies
    return replies.render(lang, "paused", package=sub.package, until=replies.when(resume))


def _asked_end(ctx: Context, conversation: Conversation) -> datetime:
    """The end of term a refund question named (a question asked by an older version
    kept none: the plan's current period end)."""
    stored = conversation.data.get("ends")
    if isinstance(stored, str):
        return datetime.fromisoformat(stored)
    for sub in ctx.tx.subscriptions.open_of(conversation.msisdn):
        if sub.package == conversation.package:
            return sub.ends_at
    return conversation.started_at
