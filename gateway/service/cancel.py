"""``HUY <CODE>`` and what undoes it: cancellation by the plan's terms (seeds 000-004),
reactivation (``KH``), and closing an account (a verified support request)."""

from __future__ import annotations

from datetime import datetime

from carrier_rules import (
    CancelDecision,
    Charge,
    Language,
    can_reactivate,
    cancel_decision,
    cancellation_adjustment,
    month_key,
    retention_offers,
)
from gateway.domain.model import Subscriber, Subscription
from gateway.errors import AccountClosed
from gateway.service import billing, conversations, plans, texts
from gateway.service.catalogue import Product
from gateway.service.context import Context

__all__ = ["apply_decision", "cancel", "cancel_now", "close_account", "reactivate"]


def cancel(
    ctx: Context,
    subscriber: Subscriber,
    code: str,
    lang: Language,
    now: datetime,
    message_id: str,
    *,
    confirmed: bool = False,
    offers_made: bool = False,
    waive_refund: bool = False,
) -> list[str]:
    """Cancel ``code``; the reply texts. ``confirmed``: a refund question was answered;
    ``offers_made``: the retention offers were made; ``waive_refund``: cancel without
    the refund a rule would give."""
    product = ctx.catalogue.product(code)
    package, replies, catalog = product.package, product.replies, product.catalog
    terms = package.cancellation
    sub = next(
        (s for s in ctx.tx.subscriptions.open_of(subscriber.msisdn) if s.package == code), None
    )
    if sub is None:
        return [replies.render(lang, "not_registered", package=code)]
    if sub.status == "pending_cancel":
        return [
            replies.render(lang, "pending_cancel", package=code, expires=replies.when(sub.ends_at))
        ]
    if not terms.self_service:
        return [replies.render(lang, "contact_sales", package=code)]
    if terms.effective == "immediate" and not terms.refunds and terms.fee is None:
        # the Zalo packs: ended now, with the postpaid correction of seed 004
        text = cancel_now(ctx, subscriber, sub, product, lang, now, message_id)
        ctx.fx.mail(product, subscriber, "cancelled", text, now)
        return [text]
    offers = retention_offers(catalog, package)
    if offers and not offers_made and not confirmed:
        conversations.ask(
            ctx,
            catalog,
            subscriber.msisdn,
            "retention",
            code,
            now,
            offers=[o.kind for o in offers] + ["cancel"],
        )
        return [texts.offers_text(product, offers, lang)]
    holding, price = plans.holding(sub), product.held_price(sub)
    decision = cancel_decision(
        package, holding, subscriber.kind, now, catalog.zone, price=price, waive_refund=waive_refund
    )
    if not decision.allowed:
        return [replies.render(lang, "contact_sales", package=code)]
    if decision.refund is not None and terms.confirm_refund and not confirmed:
        amount = -decision.refund.amount
        # seed 000: the refund may be asked for; cancelling without it runs to term end
        ends = cancel_decision(
            package, holding, subscriber.kind, now, catalog.zone, price=price, waive_refund=True
        ).ends_at
        conversations.ask(
            ctx,
            catalog,
            subscriber.msisdn,
            "refund",
            code,
            now,
            amount=amount,
            ends=ends.isoformat(),
        )
        return [texts.refund_question(product, amount, ends, lang)]
    return apply_decision(ctx, subscriber, sub, product, decision, lang, now, message_id)


def cancel_now(
    ctx: Context,
    subscriber: Subscriber,
    sub: Subscription,
    product: Product,
    lang: Language,
    now: datetime,
    message_id: str | None,
) -> str:
    """End a subscription now, with the cancellation correction the rules ask for."""
    replies, tz, code = product.replies, product.catalog.zone, sub.package
    month = month_key(now, tz)
    sub.cancel(now)
    ctx.fx.note("cancel", now, msisdn=subscriber.msisdn, package=sub.package, status="cancelled")
    text = replies.render(lang, "cancelled", package=code, at=replies.when(now))
    adjustment = cancellation_adjustment(
        product.package,
        subscriber.kind,
        now,
        tz,
        charged_this_month=sub.charged_in_month if sub.charge_month == month else 0,
    )
    if adjustment is not None:
        billing.charge(ctx, subscriber, sub, product, adjustment, "cancellation", now, message_id)
        text += " " + replies.render(
            lang,
            "cancel_adjusted",
            package=code,
            month=replies.month(month),
            amount=replies.money(lang, sub.charged_in_month),
        )
    ctx.tx.subscriptions.put(sub)
    return text


def apply_decision(
    ctx: Context,
    subscriber: Subscriber,
    sub: Subscription,
    product: Product,
    decision: CancelDecision,
    lang: Language,
    now: datetime,
    message_id: str | None,
) -> list[str]:
    """Carry out a cancellation decision: now (a refund, a trial) or at term end."""
    replies, code = product.replies, sub.package
    inputs = plans.holding_inputs(sub, decision)
    ctx.fx.note("cancel", now, msisdn=subscriber.msisdn, package=code, status=decision.status)
    texts_out: list[str] = []
    if decision.status == "cancelled":
        sub.cancel(now)
        if decision.refund is not None:
            billing.charge(
                ctx, subscriber, sub, product, decision.refund, "refund", now, message_id, inputs
            )
            text = replies.render(
                lang,
                "cancel_refunded",
                package=code,
                amount=replies.money(lang, -decision.refund.amount),
            )
        else:
            text = replies.render(lang, "cancelled", package=code, at=replies.when(now))
        ctx.tx.subscriptions.put(sub)
        texts_out.append(text)
    else:
        sub.schedule_cancel(at=now, ends_at=decision.ends_at)
        ctx.tx.subscriptions.put(sub)
        texts_out.append(
            replies.render(
                lang, "pending_cancel", package=code, expires=replies.when(decision.ends_at)
            )
        )
    if decision.fee is not None:
        texts_out[0] += " " + _fee(
            ctx, subscriber, sub, product, decision, lang, now, message_id, inputs
        )
    if decision.status == "cancelled":
        texts_out.extend(plans.end_addons(ctx, subscriber, sub, now))
        texts_out.extend(plans.fall_back(ctx, subscriber, sub, product, lang, now))
    ctx.fx.mail(product, subscriber, "cancelled", texts_out[0], now)
    return texts_out


def _fee(
    ctx: Context,
    subscriber: Subscriber,
    sub: Subscription,
    product: Product,
    decision: CancelDecision,
    lang: Language,
    now: datetime,
    message_id: str | None,
    inputs: dict[str, object],
) -> str:
    """Seed 001's early-termination fee: booked (down to a prepaid balance of zero, the
    rest recorded as owed); returns its text."""
    assert decision.fee is not None
    fee = decision.fee
    terms = product.package.cancellation.fee
    commitment = product.package.commitment
    if terms is not None and commitment is not None:
        inputs = {
            **inputs,
            "commitment_periods": commitment.periods,
            "periods_remaining": max(commitment.periods - sub.periods_paid, 0),
            "price": product.held_price(sub),
            "fee_percent": terms.percent,
        }
    if subscriber.kind == "prepaid" and subscriber.balance < fee.amount:
        # a balance never goes below zero: what it cannot pay is recorded as owed
        inputs = {**inputs, "fee": fee.amount, "owed": fee.amount - subscriber.balance}
        fee = Charge(subscriber.balance, fee.rule)
    if fee.amount > 0:
        billing.charge(ctx, subscriber, sub, product, fee, "fee", now, message_id, inputs)
    return product.replies.render(
        lang, "cancel_fee", amount=product.replies.money(lang, decision.fee.amount)
    )


def reactivate(
    ctx: Context, subscriber: Subscriber, code: str, lang: Language, now: datetime
) -> list[str]:
    """``KH <CODE>`` (seed 000): a plan cancelled to the end of its term comes back before then."""
    product = ctx.catalogue.product(code)
    replies = product.replies
    sub = next(
        (s for s in ctx.tx.subscriptions.open_of(subscriber.msisdn) if s.package == code), None
    )
    ends = None if sub is None else sub.ends_at
    if (
        sub is None
        or ends is None
        or not can_reactivate(product.package, status=sub.status, ends_at=ends, at=now)
    ):
        return [replies.render(lang, "cannot_reactivate", package=code)]
    sub.reactivate()
    ctx.tx.subscriptions.put(sub)
    return [replies.render(lang, "reactivated", package=code, expires=replies.when(ends))]


def close_account(ctx: Context, subscriber: Subscriber, now: datetime) -> list[tuple[str, str]]:
    """Close an account (a verified support request): every open pack is cancelled by
    the normal cancellation rules, the account is kept, ``closed``. Returns each pack
    cancelled with its cancellation text (a correction included). The support desk
    tells the subscriber (one SMS, one email)."""
    if subscriber.status == "closed":
        raise AccountClosed(subscriber.msisdn)
    cancelled: list[tuple[str, str]] = []
    for sub in ctx.tx.subscriptions.open_of(subscriber.msisdn):
        product = ctx.catalogue.get(sub.package)
        if product is None:
            sub.cancel(now)
            ctx.tx.subscriptions.put(sub)
            cancelled.append((sub.package, ""))
        else:
            lang = product.replies.language(subscriber.language)
            cancelled.append(
                (sub.package, cancel_now(ctx, subscriber, sub, product, lang, now, None))
            )
    subscriber.status = "closed"
    subscriber.closed_at = now
    ctx.tx.subscribers.put(subscriber)
    return cancelled
