"""HTTP for subscribers: provisioning, top-ups, charges, ledger, invoices and data usage."""

from __future__ import annotations

from datetime import tzinfo
from typing import Annotated

from fastapi import APIRouter, Path, Response

from gateway.adapters.http_deps import Service, Zone, iso_or_none
from gateway.adapters.http_models import MONTH_PATTERN, SubscriberIn, TopupIn
from gateway.adapters.http_schemas import (
    ChargeOut,
    ChargesOut,
    InvoiceLineOut,
    InvoiceOut,
    InvoicesOut,
    InvoiceSummary,
    LedgerEntryOut,
    LedgerOut,
    SubscriberOut,
    SubscriptionOut,
    UsageListOut,
    UsageRecordOut,
    errors,
)
from gateway.domain.mail import normalize_address
from gateway.domain.model import ChargeRecord, Subscription
from gateway.domain.msisdn import canonical_msisdn
from gateway.service.gateway import SubscriberView
from gateway.service.subscribers import KEEP, Keep

__all__ = ["charge_out", "router", "subscriber_out"]

router = APIRouter(tags=["subscribers"], responses=errors(400, 404, 409, 422, 503))

Month = Annotated[str, Path(pattern=MONTH_PATTERN, description="YYYY-MM, 2000-01 to 2100-12")]


def subscription_out(s: Subscription, tz: tzinfo) -> SubscriptionOut:
    next_at = iso_or_none(s.next_action_at, tz)
    return SubscriptionOut(
        id=s.id,
        package=s.package,
        status=s.status,
        started_at=iso_or_none(s.started_at, tz),
        expires_at=iso_or_none(s.expires_at, tz),
        auto_renew=s.auto_renew,
        next_renewal_at=next_at if s.status == "active" else None,
        next_retry_at=next_at if s.status == "renewal_failed" else None,
        cancelled_at=iso_or_none(s.cancelled_at, tz),
        usage_bytes=s.usage_bytes,
        next_action_at=next_at,
        price=s.price,
        first_paid_at=iso_or_none(s.first_paid_at, tz),
        last_paid_at=iso_or_none(s.last_paid_at, tz),
        periods_paid=s.periods_paid,
        used_since_last_payment=s.used_since_paid,
        next_package=s.next_package,
    )


def subscriber_out(view: SubscriberView, tz: tzinfo) -> SubscriberOut:
    s = view.subscriber
    return SubscriberOut(
        msisdn=s.msisdn,
        kind=s.kind,
        balance=s.balance,
        language=s.language,
        email=s.email,
        status=s.status,
        closed_at=iso_or_none(s.closed_at, tz),
        created_at=iso_or_none(s.created_at, tz),
        subscriptions=[subscription_out(x, tz) for x in view.subscriptions],
    )


def charge_out(c: ChargeRecord, tz: tzinfo) -> ChargeOut:
    return ChargeOut(
        id=c.id,
        package=c.package,
        reason=c.reason,
        rule=c.rule,
        amount=c.amount,
        billing=c.billing,
        invoice_month=c.invoice_month,
        at=iso_or_none(c.at, tz),
        subscription_id=c.subscription_id,
        message_id=c.message_id,
        inputs=dict(c.inputs),
    )


@router.put(
    "/api/subscribers/{msisdn}",
    responses={201: {"model": SubscriberOut, "description": "created"}},
)
async def put_subscriber(
    msisdn: str, body: SubscriberIn, response: Response, service: Service, tz: Zone
) -> SubscriberOut:
    """Create a subscriber (201) or change one (200); ``"email": null`` removes the
    address, leaving ``email`` out keeps it."""
    email: str | Keep | None = KEEP
    if "email" in body.model_fields_set:
        email = None if body.email is None else normalize_address(body.email)
    view, created = await service.provision(
        canonical_msisdn(msisdn),
        kind=body.kind,
        balance=body.balance,
        language=body.language,
        email=email,
    )
    response.status_code = 201 if created else 200
    return subscriber_out(view, tz)


@router.get("/api/subscribers/{msisdn}")
async def get_subscriber(msisdn: str, service: Service, tz: Zone) -> SubscriberOut:
    return subscriber_out(await service.reads.subscriber(canonical_msisdn(msisdn)), tz)


@router.post("/api/subscribers/{msisdn}/topup")
async def topup(msisdn: str, body: TopupIn, service: Service, tz: Zone) -> SubscriberOut:
    return subscriber_out(await service.topup(canonical_msisdn(msisdn), body.amount), tz)


@router.get("/api/subscribers/{msisdn}/charges")
async def charges(msisdn: str, service: Service, tz: Zone) -> ChargesOut:
    found = await service.reads.charges(canonical_msisdn(msisdn))
    return ChargesOut(charges=[charge_out(c, tz) for c in found])


@router.get("/api/subscribers/{msisdn}/usage")
async def usage(msisdn: str, service: Service, tz: Zone) -> UsageListOut:
    found = await service.reads.usage(canonical_msisdn(msisdn))
    return UsageListOut(
        usage=[
            UsageRecordOut(
                app=u.app,
                bytes=u.bytes,
                at=iso_or_none(u.at, tz),
                zero_rated_by=u.subscription_id,
                charge_id=u.charge_id,
                id=u.event_id,
            )
            for u in found
        ]
    )


@router.get("/api/subscribers/{msisdn}/ledger")
async def ledger(msisdn: str, service: Service, tz: Zone) -> LedgerOut:
    found = await service.reads.ledger(canonical_msisdn(msisdn))
    return LedgerOut(
        entries=[
            LedgerEntryOut(
                delta=e.delta,
                balance_after=e.balance_after,
                reason=e.reason,
                charge_id=e.charge_id,
                at=iso_or_none(e.at, tz),
            )
            for e in found
        ]
    )


@router.get("/api/subscribers/{msisdn}/invoices/{month}")
async def invoice(msisdn: str, month: Month, service: Service, tz: Zone) -> InvoiceOut:
    lines = await service.reads.invoice(canonical_msisdn(msisdn), month)
    return InvoiceOut(
        month=month,
        lines=[
            InvoiceLineOut(
                charge_id=line.charge_id,
                package=line.package,
                description=line.description,
                amount=line.amount,
                at=iso_or_none(line.at, tz),
            )
            for line in lines
        ],
        total=sum(line.amount for line in lines),
    )


@router.get("/api/subscribers/{msisdn}/invoices")
async def invoices(msisdn: str, service: Service) -> InvoicesOut:
    """Each month with invoice lines, newest first: its total and how many lines."""
    number = canonical_msisdn(msisdn)
    months = await service.reads.checked(number, lambda q: q.billing.invoice_months(number))
    return InvoicesOut(
        invoices=[
            InvoiceSummary(month=month, total=total, lines=lines) for month, total, lines in months
        ]
    )
