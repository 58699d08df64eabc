"""Billing: the only writer of money. Periods paid, charges, refunds, fees, ledger and invoice.

A prepaid charge comes off the main balance with a ledger entry; a postpaid one is a
line on the invoice of its local month. Every charge records its rule and the inputs
the rule read (``docs/catalogs.md``, "Explaining a charge").
"""

from __future__ import annotations

import functools
from datetime import datetime
from zoneinfo import ZoneInfo

from carrier_rules import Charge, Period, month_key, period_from
from gateway.domain.model import (
    ChargeReason,
    ChargeRecord,
    LedgerEntry,
    LedgerReason,
    Subscriber,
    Subscription,
)
from gateway.service.catalogue import Product
from gateway.service.context import Context

__all__ = ["adjust_balance", "billing_day", "book", "charge", "start_period"]


@functools.lru_cache(maxsize=4096)
def _local_iso(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).isoformat()


def billing_day(sub: Subscription, zone: ZoneInfo) -> int | None:
    """The local day of the first payment: monthly periods keep it (31st, 28/02, 31st)."""
    return None if sub.first_paid_at is None else sub.first_paid_at.astimezone(zone).day


def start_period(
    ctx: Context,
    subscriber: Subscriber,
    sub: Subscription,
    product: Product,
    paid: Charge,
    reason: ChargeReason,
    at: datetime,
    message_id: str | None,
    inputs: dict[str, object] | None = None,
    *,
    period: Period | None = None,
) -> None:
    """A period of ``sub`` starts at ``at``, paid ``paid`` (charged when above zero).
    ``period``: the one ``period_from`` gives for it, when the caller has it already."""
    if period is None:
        rule = product.package.validity.for_kind(subscriber.kind)
        zone = product.catalog.zone
        period = period_from(rule, at, zone, billing_day(sub, zone))
    sub.start_period(
        at=at,
        expires_at=period.expires_at,
        renews_at=period.renews_at,
        paid=paid.amount,
        free=product.package.price == 0 and paid.amount == 0,
    )
    if paid.amount > 0:
        charge(ctx, subscriber, sub, product, paid, reason, at, message_id, inputs)
    ctx.tx.subscriptions.put(sub)


def charge(
    ctx: Context,
    subscriber: Subscriber,
    sub: Subscription,
    product: Product,
    amount: Charge,
    reason: ChargeReason,
    at: datetime,
    message_id: str | None,
    inputs: dict[str, object] | None = None,
) -> None:
    """Book a charge (or a refund: a negative one) of ``sub`` with its rule's inputs."""
    zone = product.catalog.zone
    explained: dict[str, object] = {
        "list_price": product.held_price(sub),
        "subscriber_kind": subscriber.kind,
        "local_time": _local_iso(at, zone),
        **(inputs or {}),
    }
    book(ctx, subscriber, sub, sub.package, amount, reason, at, zone, message_id, explained)
    if subscriber.kind == "postpaid":
        sub.book_postpaid(month_key(at, zone), amount.amount)


def book(
    ctx: Context,
    subscriber: Subscriber,
    sub: Subscription | None,
    package: str,
    amount: Charge,
    reason: ChargeReason,
    at: datetime,
    zone: ZoneInfo,
    message_id: str | None,
    inputs: dict[str, object],
) -> str:
    """Record a charge: on the postpaid invoice of its month (the charge is the invoice
    line), or on the prepaid balance with its ledger entry. Returns the charge id."""
    month = month_key(at, zone)
    postpaid = subscriber.kind == "postpaid"
    record = ChargeRecord(
        id=ctx.new_id(),
        msisdn=subscriber.msisdn,
        subscription_id=None if sub is None else sub.id,
        package=package,
        reason=reason,
        rule=amount.rule,
        amount=amount.amount,
        billing="invoice" if postpaid else "balance",
        invoice_month=month if postpaid else None,
        at=at,
        message_id=message_id,
        inputs=inputs,
    )
    tx, fx = ctx.tx, ctx.fx
    tx.billing.add_charge(record)
    fx.count(f"charge_{reason}")  # the metrics count charges by reason
    if fx.recording:
        fx.note(
            "charge",
            at,
            id=record.id,
            msisdn=subscriber.msisdn,
            package=package,
            amount=amount.amount,
            reason=reason,
            rule=amount.rule,
            billing=record.billing,
        )
    else:
        fx.count("charge")
    if not postpaid:  # a postpaid charge is its invoice line (the view ``invoice_lines``)
        subscriber.balance -= amount.amount
        tx.subscribers.put(subscriber)
        tx.billing.add_ledger_entry(
            LedgerEntry(
                subscriber.msisdn,
                -amount.amount,
                subscriber.balance,
                "refund" if reason == "refund" else "charge",
                at,
                record.id,
            )
        )
    return record.id


def adjust_balance(
    ctx: Context, subscriber: Subscriber, delta: int, reason: LedgerReason, at: datetime
) -> None:
    """Move the main balance by ``delta`` (provisioning, an adjustment, a top-up)."""
    subscriber.balance += delta
    ctx.tx.subscribers.put(subscriber)
    ctx.tx.billing.add_ledger_entry(
        LedgerEntry(subscriber.msisdn, delta, subscriber.balance, reason, at)
    )
