"""Due work, in time order: renewals and their retries, trials converting, plans reaching
the end of their term, pauses ending, and price change announcements (seed 001)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from carrier_rules import next_retry
from gateway.domain.mail import MailKind
from gateway.domain.model import Outgoing, Subscriber, Subscription
from gateway.service import billing, notices, plans, texts
from gateway.service.catalogue import Product
from gateway.service.context import Context
from gateway.service.renewal_terms import RenewalTerms

__all__ = ["DueResult", "renew", "run_due"]


@dataclass(slots=True)
class DueResult:
    """What one chunk of due work did: renewals and expiries (``processed``), and price
    change announcements sent (``announced``, each with its ``notices``)."""

    outgoing: list[Outgoing] = field(default_factory=list)
    processed: int = 0
    last_due: datetime | None = None
    announced: int = 0
    notices: int = 0


def run_due(ctx: Context, until: datetime, limit: int) -> DueResult:
    """Run, in time order and each at its own instant, up to ``limit`` due events.

    A renewal that schedules its next event inside the fetched window runs again in this
    same call, so events never run out of order across subscriptions. A price change
    announced on the way (seed 001) is sent at its own instant, after the renewals before
    it and before those at or after it.
    """
    result = DueResult()
    while True:
        announcement = ctx.notices.next_due(ctx.tx, until)
        stop = until if announcement is None else announcement.at - timedelta(microseconds=1)
        _run_renewals(ctx, stop, limit - result.processed, result)
        if announcement is None or result.processed >= limit:
            return result
        sent = notices.announce(ctx, announcement)
        result.outgoing.extend(sent)
        result.announced += 1
        result.notices += len(sent)
        result.last_due = announcement.at


def _in_time_order(
    due: list[Subscription], horizon: datetime
) -> Iterator[tuple[datetime, Subscription]]:
    """``due`` (in time order already) merged with the events its renewals schedule up to
    ``horizon``: a renewal whose next event falls inside the window runs again, after
    every event before it. At one instant, events run in the order they became known
    (those of ``due`` first). Read the next item only once the last one has run."""
    later: list[tuple[datetime, int, Subscription]] = []  # a heap of rescheduled events
    order = itertools.count(len(due))

    def ran(sub: Subscription) -> None:
        if sub.next_action_at is not None and sub.next_action_at <= horizon:
            heapq.heappush(later, (sub.next_action_at, next(order), sub))

    for sub in due:
        at = sub.next_action_at
        assert at is not None
        while later and later[0][0] < at:
            again_at, _, again = heapq.heappop(later)
            yield again_at, again
            ran(again)
        yield at, sub
        ran(sub)
    while later:
        again_at, _, again = heapq.heappop(later)
        yield again_at, again
        ran(again)


def _run_renewals(ctx: Context, until: datetime, limit: int, result: DueResult) -> None:
    due = ctx.tx.subscriptions.due(until, limit)
    if not due:
        return
    horizon = until if len(due) < limit else min(until, due[-1].next_action_at or until)
    subscribers: dict[str, Subscriber] = {}
    terms = RenewalTerms()  # a burst of renewals shares a few sets of terms
    for at, sub in _in_time_order(due, horizon):
        subscriber = subscribers.get(sub.msisdn) or ctx.tx.subscribers.get(sub.msisdn)
        if subscriber is None:  # cannot happen with foreign keys; never loop on it
            sub.expire()
            ctx.tx.subscriptions.put(sub)
            continue
        subscribers[sub.msisdn] = subscriber
        result.outgoing.extend(renew(ctx, subscriber, sub, at, terms))
        result.processed += 1
        result.last_due = at


def renew(
    ctx: Context,
    subscriber: Subscriber,
    sub: Subscription,
    at: datetime,
    terms: RenewalTerms | None = None,
) -> list[Outgoing]:
    """The due event of ``sub`` at ``at``: a renewal (charged, or failed for lack of
    balance: retried, then given up), the end of a term, a trial converting. ``terms``:
    those already worked out in this transaction (a burst of renewals shares them)."""
    product = ctx.catalogue.get(sub.package)
    if product is None:  # the catalog no longer sells it
        sub.expire()
        ctx.tx.subscriptions.put(sub)
        return []
    if sub.status == "pending_cancel":  # it ran to the end of its term
        return _end_term(ctx, subscriber, sub, product, at)
    if sub.next_package is not None and ctx.catalogue.get(sub.next_package) is not None:
        product = ctx.catalogue.product(sub.next_package)  # a switch accepted for this period
        sub.switch_plan(package=product.package.code, group=product.package.group)
    catalog, replies = product.catalog, product.replies
    lang = replies.language(subscriber.language)
    paid = (terms or RenewalTerms()).of(product, subscriber, sub, at)
    charge = paid.charge
    if subscriber.kind == "prepaid" and subscriber.balance < charge.amount:
        return _unpaid(ctx, subscriber, sub, product, charge.amount, at)
    inputs: dict[str, object] = {
        "price_rule": paid.list_price.rule,
        "period": sub.periods_paid + 1,
    }
    if sub.status == "trial":
        inputs["trial_conversion"] = True
    sub.hold_price(paid.list_price.amount)
    billing.start_period(
        ctx, subscriber, sub, product, charge, "renewal", at, None, inputs, period=paid.period
    )
    if ctx.fx.recording:
        ctx.fx.note(
            "renewal", at, msisdn=subscriber.msisdn, package=sub.package, amount=charge.amount
        )
    else:
        ctx.fx.count("renewal")
    if terms is None:
        text = texts.confirmation(product, subscriber, sub, charge, lang, "renewed")
    else:
        text = terms.text(
            paid,
            lang,
            lambda: texts.confirmation(product, subscriber, sub, charge, lang, "renewed"),
        )
    ctx.fx.mail(product, subscriber, "renewed", text, at)
    return [ctx.fx.reply(catalog, subscriber.msisdn, text, None, at)]


def _unpaid(
    ctx: Context,
    subscriber: Subscriber,
    sub: Subscription,
    product: Product,
    amount: int,
    at: datetime,
) -> list[Outgoing]:
    """A prepaid renewal the balance cannot pay: retried as the catalog says, then given
    up (the plan expires, its add-ons with it). Only the first failure is told."""
    catalog, replies = product.catalog, product.replies
    lang = replies.language(subscriber.language)
    first_failure = sub.failed_since or at
    retry_at = next_retry(catalog.renewal, first_failed_at=first_failure, now=at)
    notify = sub.status == "active"
    key: MailKind
    if retry_at is None:
        sub.expire()
        key = "renewal_gave_up"
    else:
        sub.fail_renewal(first_failure=first_failure, retry_at=retry_at)
        key = "renewal_failed"
    ctx.tx.subscriptions.put(sub)
    if key == "renewal_gave_up":
        ctx.fx.note("expiry", at, msisdn=subscriber.msisdn, package=sub.package)
    elif notify:
        ctx.fx.note(
            "renewal_failed", at, msisdn=subscriber.msisdn, package=sub.package, amount=amount
        )
    if not notify and key == "renewal_failed":
        return []  # retries are silent; the subscriber was told at the first failure
    text = replies.render(
        lang,
        key,
        package=sub.package,
        balance=replies.money(lang, subscriber.balance),
        price=replies.money(lang, amount),
    )
    ctx.fx.mail(product, subscriber, key, text, at)
    out = [text]
    if key == "renewal_gave_up":
        out.extend(plans.end_addons(ctx, subscriber, sub, at))
    return [ctx.fx.reply(catalog, subscriber.msisdn, t, None, at) for t in out]


def _end_term(
    ctx: Context, subscriber: Subscriber, sub: Subscription, product: Product, at: datetime
) -> list[Outgoing]:
    """A plan cancelled to the end of its term ends; the account drops to its free tier."""
    replies = product.replies
    lang = replies.language(subscriber.language)
    sub.end_term(at)
    ctx.tx.subscriptions.put(sub)
    ctx.fx.note("expiry", at, msisdn=subscriber.msisdn, package=sub.package)
    out = plans.fall_back(ctx, subscriber, sub, product, lang, at) or [
        replies.render(lang, "ended", package=sub.package)
    ]
    out.extend(plans.end_addons(ctx, subscriber, sub, at))
    return [ctx.fx.reply(product.catalog, subscriber.msisdn, t, None, at) for t in out]
