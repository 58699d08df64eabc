"""``DK <CODE>``: sign up for a plan (seed 004's packs, seed 001's trials, double opt-in)."""

from __future__ import annotations

from datetime import datetime

from carrier_rules import Language, list_price, period_charge, trial_end
from gateway.domain.model import Subscriber, Subscription
from gateway.service import billing, conversations, notices, plans, texts
from gateway.service.context import Context

__all__ = ["subscribe"]


def subscribe(
    ctx: Context,
    subscriber: Subscriber,
    code: str,
    lang: Language,
    now: datetime,
    message_id: str,
    *,
    confirmed: bool = False,
) -> list[str]:
    """Sign ``subscriber`` up for ``code``; the reply texts. ``confirmed``: the ``Y`` of a
    double opt-in was given."""
    product = ctx.catalogue.product(code)
    package, replies, catalog = product.package, product.replies, product.catalog
    tz = catalog.zone
    tx = ctx.tx
    open_subs = tx.subscriptions.open_of(subscriber.msisdn)
    in_group = [s for s in open_subs if s.group == package.group]
    current = next((s for s in in_group if s.status != "renewal_failed"), None)
    if current is not None and not ctx.catalogue.is_free(current):
        if current.package == code:
            return [
                replies.render(
                    lang,
                    "already_registered",
                    package=code,
                    expires=replies.when(current.expires_at),
                )
            ]
        return [replies.render(lang, "other_pack_active", current=current.package, requested=code)]
    if package.requires is not None and not any(
        s.group == package.requires and s.is_serving and not ctx.catalogue.is_free(s)
        for s in open_subs
    ):
        return [replies.render(lang, "addon_needs_base", package=code, group=package.requires)]
    price = list_price(package, signed_up_at=now, at=now, tz=tz, renewal=False)
    ends = trial_end(package, now)
    if ends is not None and any(
        s.package == code for s in tx.subscriptions.all_of(subscriber.msisdn)
    ):
        ends = None  # one trial per plan: a subscriber who had this plan pays at once
    charge = period_charge(package, subscriber.kind, now, tz, price=price.amount)
    if ends is None and subscriber.kind == "prepaid" and subscriber.balance < charge.amount:
        # said before any question: a Y could not be honoured
        return [
            replies.render(
                lang,
                "insufficient_balance",
                package=code,
                balance=replies.money(lang, subscriber.balance),
                price=replies.money(lang, charge.amount),
            )
        ]
    if catalog.double_opt_in and not confirmed and price.amount > 0:
        conversations.ask(ctx, catalog, subscriber.msisdn, "opt_in", code, now, amount=price.amount)
        return [texts.opt_in_question(product, price.amount, lang)]
    sub = Subscription.sign_up(
        id=ctx.new_id(),
        msisdn=subscriber.msisdn,
        package=code,
        group=package.group,
        at=now,
        price=price.amount,
    )
    plans.replace(ctx, in_group)
    if ends is not None:  # seed 001: the trial starts now, the first payment at its end
        sub.start_trial(ends)
        tx.subscriptions.put(sub)
        text = replies.render(
            lang,
            "trial_started",
            package=code,
            benefit=package.benefit[lang],
            expires=replies.when(ends),
            price=replies.money(lang, price.amount),
            period=package.period[lang],
        )
    else:
        billing.start_period(
            ctx,
            subscriber,
            sub,
            product,
            charge,
            "registration",
            now,
            message_id,
            {"price_rule": price.rule},
        )
        text = texts.confirmation(product, subscriber, sub, charge, lang, "registered")
    text += notices.at_sign_up(ctx, subscriber, sub, product, lang, now)
    ctx.fx.mail(product, subscriber, "registered", text, now)
    return [text]
