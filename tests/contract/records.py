"""Records for the contract suite: small builders with the fields each test cares about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.domain.mail import OutgoingMail
from gateway.domain.model import (
    ChargeRecord,
    InboundSms,
    LedgerEntry,
    Outgoing,
    Subscriber,
    Subscription,
    Ticket,
)
from gateway.domain.subscription import SubscriptionStatus

__all__ = [
    "T0",
    "A",
    "B",
    "C",
    "charge",
    "hours",
    "inbound",
    "ledger",
    "mail",
    "outgoing",
    "subscriber",
    "subscription",
    "ticket",
]

A = "84912000001"
B = "84912000002"
C = "84912000003"
T0 = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def subscriber(
    msisdn: str = A, *, balance: int = 10_000, email: str | None = None, at: datetime = T0
) -> Subscriber:
    return Subscriber(msisdn, "prepaid", balance, None, at, email)


def subscription(
    sid: str,
    msisdn: str = A,
    *,
    package: str = "ZL7",
    status: SubscriptionStatus = "active",
    started: datetime = T0,
    next_action_at: datetime | None = None,
    expires_at: datetime | None = None,
    price: int | None = 5000,
) -> Subscription:
    return Subscription(
        id=sid,
        msisdn=msisdn,
        package=package,
        group="zalo",
        status=status,
        started_at=started,
        period_start=started,
        expires_at=expires_at if expires_at is not None else started + timedelta(days=7),
        auto_renew=True,
        next_action_at=next_action_at,
        price=price,
    )


def charge(
    cid: str,
    msisdn: str = A,
    *,
    sid: str | None = "s1",
    amount: int = 5000,
    at: datetime = T0,
    month: str | None = None,
) -> ChargeRecord:
    return ChargeRecord(
        id=cid,
        msisdn=msisdn,
        subscription_id=sid,
        package="ZL7",
        reason="registration",
        rule="zalo.ZL7",
        amount=amount,
        billing="balance" if month is None else "invoice",
        invoice_month=month,
        at=at,
        message_id=None,
        inputs={"price": amount, "days": 7},
    )


def ledger(msisdn: str, delta: int, after: int, charge_id: str | None = None) -> LedgerEntry:
    return LedgerEntry(msisdn, delta, after, "charge" if charge_id else "provision", T0, charge_id)


def inbound(
    mid: str, msisdn: str = A, *, shortcode: str = "888", text: str = "DK ZL7"
) -> InboundSms:
    return InboundSms(mid, msisdn, shortcode, text)


def outgoing(
    oid: str,
    msisdn: str = A,
    *,
    reply_to: str | None = None,
    at: datetime = T0,
    shortcode: str = "888",
) -> Outgoing:
    return Outgoing(oid, shortcode, msisdn, f"text of {oid}", reply_to, "GSM7", 1, at)


def mail(
    mid: str, *, at: datetime = T0, ticket_id: int | None = None, msisdn: str | None = None
) -> OutgoingMail:
    return OutgoingMail(
        id=mid,
        sender="support@gateway.test",
        sender_name="Support",
        to=("someone@example.test",),
        subject=f"subject of {mid}",
        body="body",
        at=at,
        kind="ticket" if ticket_id is not None else "reply",
        msisdn=msisdn,
        ticket_id=ticket_id,
        references=("earlier@example.test",),
    )


def ticket(tid: int, *, msisdn: str | None = None, at: datetime = T0) -> Ticket:
    return Ticket(
        id=tid,
        source="email",
        kind="general",
        status="open",
        requester="someone@example.test",
        msisdn=msisdn,
        product="zalo",
        category="billing",
        title=f"ticket {tid}",
        content="help",
        created_at=at,
        updated_at=at,
    )
