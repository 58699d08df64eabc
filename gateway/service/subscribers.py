"""Subscribers: provisioning (create or update) and top-ups (which retry failed renewals)."""

from __future__ import annotations

from datetime import datetime

from carrier_rules import Language, SubscriberKind, period_charge
from gateway.domain.model import Outgoing, Subscriber, Subscription
from gateway.errors import AccountClosed, EmailInUse
from gateway.service import billing, renewals
from gateway.service.context import Context
from gateway.service.plans import renewal_list_price

__all__ = ["KEEP", "Keep", "affordable", "provision", "topup"]


class Keep:
    """The type of ``KEEP``: "leave this field as it is" (None means "clear it")."""


#: pass as ``email=`` to ``provision`` to leave a subscriber's address unchanged
KEEP = Keep()


def provision(
    ctx: Context,
    msisdn: str,
    *,
    kind: SubscriberKind | None,
    balance: int | None,
    language: Language | None,
    now: datetime,
    email: str | Keep | None = KEEP,
) -> tuple[Subscriber, bool]:
    """Create or update a subscriber; returns it and whether it was created.

    ``email`` is an already normalised address, None to remove it, or ``KEEP``.
    """
    tx = ctx.tx
    subscriber = tx.subscribers.get(msisdn)
    if subscriber is not None and subscriber.status == "closed":
        raise AccountClosed(msisdn)
    if isinstance(email, str):
        owner = tx.subscribers.by_email(email)
        if owner is not None and owner.msisdn != msisdn:
            raise EmailInUse(email, owner.msisdn)
    if subscriber is None:
        subscriber = Subscriber(
            msisdn=msisdn,
            kind=kind or "prepaid",
            balance=0,
            language=language,
            created_at=now,
            email=None if isinstance(email, Keep) else email,
        )
        start = ctx.policy.default_balance if balance is None else balance
        billing.adjust_balance(ctx, subscriber, start, "provision", now)
        return subscriber, True
    if kind is not None:
        subscriber.kind = kind
    if language is not None:
        subscriber.language = language
    if not isinstance(email, Keep):
        subscriber.email = email
    tx.subscribers.put(subscriber)
    if balance is not None and balance != subscriber.balance:
        billing.adjust_balance(ctx, subscriber, balance - subscriber.balance, "adjustment", now)
    return subscriber, False


def topup(ctx: Context, subscriber: Subscriber, amount: int, now: datetime) -> list[Outgoing]:
    """Add to the main balance, then renew at once what failed for lack of it."""
    if subscriber.status == "closed":
        raise AccountClosed(subscriber.msisdn)
    billing.adjust_balance(ctx, subscriber, amount, "topup", now)
    out: list[Outgoing] = []
    for sub in ctx.tx.subscriptions.open_of(subscriber.msisdn):
        if sub.status == "renewal_failed" and affordable(ctx, subscriber, sub, now):
            out.extend(renewals.renew(ctx, subscriber, sub, now))
    return out


def affordable(ctx: Context, subscriber: Subscriber, sub: Subscription, at: datetime) -> bool:
    """Whether a renewal at ``at`` can be paid (a top-up too small changes nothing else)."""
    product = ctx.catalogue.get(sub.package)
    if product is None or subscriber.kind == "postpaid":
        return True
    price = renewal_list_price(product, sub, at).amount
    charge = period_charge(product.package, subscriber.kind, at, product.catalog.zone, price=price)
    return subscriber.balance >= charge.amount
