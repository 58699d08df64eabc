"""HTTP API (FastAPI): subscribers, SMS for harnesses, invoices, charges and the clock."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, tzinfo
from typing import Annotated, Any

from fastapi import FastAPI, Path, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from gateway.adapters.http_console import console_router
from gateway.adapters.http_models import (
    CLOCK_LIMIT,
    MAX_ADVANCE,
    MONTH_PATTERN,
    AdvanceIn,
    SmsIn,
    SubscriberIn,
    TopupIn,
    UsageIn,
    printable_json,
)
from gateway.adapters.http_ops import install_ops
from gateway.adapters.http_static import mount_console, require_token
from gateway.adapters.http_support import support_router
from gateway.domain.mail import normalize_address
from gateway.domain.model import ChargeRecord, InboundSms, Subscription, UsageEvent
from gateway.domain.msisdn import canonical_msisdn
from gateway.errors import (
    AccountClosed,
    ClockError,
    EmailInUse,
    GatewayError,
    InvalidEmail,
    InvalidMessage,
    InvalidMsisdn,
    TicketError,
    UnknownShortcode,
    UnknownSubscriber,
    UnknownTicket,
)
from gateway.service.gateway import GatewayService, SubscriberView
from gateway.service.subscribers import KEEP, Keep
from gateway.service.support import SupportService

__all__ = ["create_app"]


def create_app(
    service: GatewayService,
    *,
    support: SupportService,
    tz: tzinfo,
    health: dict[str, Any] | None = None,
    token: str | None = None,
) -> FastAPI:
    """The FastAPI application over a running :class:`GatewayService`."""
    app = FastAPI(
        title="shortcode-gateway",
        summary="SMS short-code simulator: subscribers, SMS, invoices and the virtual clock.",
        version="0.1.0",
    )
    extra_health = health if health is not None else {}
    install_ops(app, service)

    def iso(at: datetime | None) -> str | None:
        return None if at is None else at.astimezone(tz).isoformat()

    def subscription_json(s: Subscription) -> dict[str, Any]:
        return {
            "id": s.id,
            "package": s.package,
            "status": s.status,
            "started_at": iso(s.started_at),
            "expires_at": iso(s.expires_at),
            "auto_renew": s.auto_renew,
            "next_renewal_at": iso(s.next_action_at) if s.status == "active" else None,
            "next_retry_at": iso(s.next_action_at) if s.status == "renewal_failed" else None,
            "cancelled_at": iso(s.cancelled_at),
            "usage_bytes": s.usage_bytes,
            # the policy engine's facts: a trial converts, a pending cancellation ends,
            # a pause resumes, at next_action_at
            "next_action_at": iso(s.next_action_at),
            "price": s.price,
            "first_paid_at": iso(s.first_paid_at),
            "last_paid_at": iso(s.last_paid_at),
            "periods_paid": s.periods_paid,
            "used_since_last_payment": s.used_since_paid,
            "next_package": s.next_package,
        }

    def subscriber_json(view: SubscriberView) -> dict[str, Any]:
        s = view.subscriber
        return {
            "msisdn": s.msisdn,
            "kind": s.kind,
            "balance": s.balance,
            "language": s.language,
            "email": s.email,
            "status": s.status,
            "closed_at": iso(s.closed_at),
            "created_at": iso(s.created_at),
            "subscriptions": [subscription_json(x) for x in view.subscriptions],
        }

    def charge_json(c: ChargeRecord) -> dict[str, Any]:
        return {
            "id": c.id,
            "package": c.package,
            "reason": c.reason,
            "rule": c.rule,
            "amount": c.amount,
            "billing": c.billing,
            "invoice_month": c.invoice_month,
            "at": iso(c.at),
            "subscription_id": c.subscription_id,
            "message_id": c.message_id,
            "inputs": dict(c.inputs),
        }

    @app.exception_handler(GatewayError)
    async def gateway_error(_: Request, exc: Exception) -> JSONResponse:
        status = 400
        if isinstance(exc, UnknownSubscriber | UnknownShortcode | UnknownTicket):
            status = 404
        elif isinstance(exc, ClockError | AccountClosed | EmailInUse | TicketError):
            status = 409
        elif isinstance(exc, InvalidMsisdn | InvalidMessage | InvalidEmail):
            status = 422
        return JSONResponse({"detail": str(exc)}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: Exception) -> JSONResponse:
        """FastAPI's 422, rendered even when the refused input cannot be (a lone surrogate)."""
        errors = exc.errors() if isinstance(exc, RequestValidationError) else []
        return JSONResponse({"detail": printable_json(jsonable_encoder(errors))}, status_code=422)

    @app.get("/api/health")
    async def get_health() -> dict[str, Any]:
        return {
            "status": "ok",
            "clock": {"mode": service.clock.mode, "now": iso(service.clock.now())},
            "outbox": {"pending": await service.pending_outbox()},
            **{k: v() if callable(v) else v for k, v in extra_health.items()},
        }

    @app.put("/api/subscribers/{msisdn}")
    async def put_subscriber(msisdn: str, body: SubscriberIn, response: Response) -> dict[str, Any]:
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
        return subscriber_json(view)

    @app.get("/api/subscribers/{msisdn}")
    async def get_subscriber(msisdn: str) -> dict[str, Any]:
        return subscriber_json(await service.subscriber(canonical_msisdn(msisdn)))

    @app.post("/api/subscribers/{msisdn}/topup")
    async def topup(msisdn: str, body: TopupIn) -> dict[str, Any]:
        return subscriber_json(await service.topup(canonical_msisdn(msisdn), body.amount))

    @app.get("/api/subscribers/{msisdn}/charges")
    async def charges(msisdn: str) -> dict[str, Any]:
        found = await service.charges(canonical_msisdn(msisdn))
        return {"charges": [charge_json(c) for c in found]}

    @app.post("/api/usage")
    async def post_usage(body: UsageIn) -> dict[str, Any]:
        """Data used in an app: zero-rated by a pack that covers the app (and counted for
        ``KTTK``), else charged per started MB at the out-of-bundle rate."""
        result = await service.record_usage(
            UsageEvent(
                msisdn=canonical_msisdn(body.msisdn),
                app=body.app.strip().lower(),
                bytes=body.bytes,
                id=body.id,
            )
        )
        return {
            "zero_rated": result.zero_rated,
            "package": result.package,
            "charged": result.charged,
            "duplicate": result.duplicate,
        }

    @app.get("/api/subscribers/{msisdn}/usage")
    async def usage(msisdn: str) -> dict[str, Any]:
        found = await service.usage(canonical_msisdn(msisdn))
        return {
            "usage": [
                {
                    "app": u.app,
                    "bytes": u.bytes,
                    "at": iso(u.at),
                    "zero_rated_by": u.subscription_id,
                    "charge_id": u.charge_id,
                    "id": u.event_id,
                }
                for u in found
            ]
        }

    @app.get("/api/subscribers/{msisdn}/ledger")
    async def ledger(msisdn: str) -> dict[str, Any]:
        found = await service.ledger(canonical_msisdn(msisdn))
        return {
            "entries": [
                {
                    "delta": e.delta,
                    "balance_after": e.balance_after,
                    "reason": e.reason,
                    "charge_id": e.charge_id,
                    "at": iso(e.at),
                }
                for e in found
            ]
        }

    @app.get("/api/subscribers/{msisdn}/invoices/{month}")
    async def invoice(
        msisdn: str,
        month: Annotated[
            str, Path(pattern=MONTH_PATTERN, description="YYYY-MM, 2000-01 to 2100-12")
        ],
    ) -> dict[str, Any]:
        lines = await service.invoice(canonical_msisdn(msisdn), month)
        return {
            "month": month,
            "lines": [
                {
                    "charge_id": line.charge_id,
                    "package": line.package,
                    "description": line.description,
                    "amount": line.amount,
                    "at": iso(line.at),
                }
                for line in lines
            ],
            "total": sum(line.amount for line in lines),
        }

    @app.post("/api/sms")
    async def post_sms(body: SmsIn) -> dict[str, Any]:
        service.catalog(body.to)  # 404 for an unknown short code
        sms = InboundSms(
            id=body.id or uuid.uuid4().hex,
            msisdn=canonical_msisdn(body.sender),
            shortcode=body.to,
            text=body.text,
            client_id=body.id is not None,
        )
        result = await service.handle_sms(sms)
        return {
            "id": sms.id,
            "duplicate": result.duplicate,
            "replies": [
                {
                    "id": r.id,
                    "text": r.text,
                    "encoding": r.encoding,
                    "segments": r.segments,
                    "at": iso(r.at),
                }
                for r in result.replies
            ],
        }

    @app.get("/api/clock")
    async def get_clock() -> dict[str, Any]:
        return {"now": iso(service.clock.now()), "mode": service.clock.mode}

    @app.post("/api/clock/advance", response_model=None)
    async def advance(body: AdvanceIn) -> dict[str, Any] | JSONResponse:
        """Move the virtual clock forward: at most ten years a call, never past 2100."""
        now = service.clock.now()
        target = body.to if body.to is not None else now + timedelta(seconds=body.seconds or 0)
        if service.clock.mode != "virtual":
            pass  # the service refuses it: a real clock cannot be moved (409)
        elif target - now > MAX_ADVANCE:
            reason = f"at most {MAX_ADVANCE.days} days (ten years) a call"
            return JSONResponse({"detail": f"too far: {reason}"}, status_code=422)
        elif target > CLOCK_LIMIT:
            reason = f"the clock ends at {CLOCK_LIMIT.isoformat()}"
            return JSONResponse({"detail": f"too far: {reason}"}, status_code=422)
        result = await service.advance(to=target)
        return {"now": iso(result.now), "mode": service.clock.mode, "processed": result.processed}

    app.include_router(support_router(support, tz=tz))
    app.include_router(console_router(service, tz=tz))
    mount_console(app)
    if token is not None:
        require_token(app, token)
    return app
