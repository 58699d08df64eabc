"""HTTP for traffic: an SMS to a short code (for harnesses) and data used in an app."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from gateway.adapters.http_deps import Service, Zone, iso_or_none
from gateway.adapters.http_models import SmsIn, UsageIn
from gateway.adapters.http_schemas import ReplyOut, SmsOut, UsageOut, errors
from gateway.domain.model import InboundSms, UsageEvent
from gateway.domain.msisdn import canonical_msisdn

__all__ = ["router"]

router = APIRouter(tags=["traffic"], responses=errors(400, 404, 409, 422, 429, 503))


@router.post("/api/sms")
async def post_sms(body: SmsIn, service: Service, tz: Zone) -> SmsOut:
    """An MO as if sent over MQTT; answered once committed, with its replies. A resend
    with the same ``id`` is a duplicate: its stored replies, nothing done again."""
    service.catalog(body.to)  # 404 for an unknown short code
    sms = InboundSms(
        id=body.id or uuid.uuid4().hex,
        msisdn=canonical_msisdn(body.sender),
        shortcode=body.to,
        text=body.text,
        client_id=body.id is not None,
    )
    result = await service.handle_sms(sms)
    return SmsOut(
        id=sms.id,
        duplicate=result.duplicate,
        replies=[
            ReplyOut(
                id=r.id,
                text=r.text,
                encoding=r.encoding,
                segments=r.segments,
                at=iso_or_none(r.at, tz),
            )
            for r in result.replies
        ],
    )


@router.post("/api/usage")
async def post_usage(body: UsageIn, service: Service) -> UsageOut:
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
    return UsageOut(
        zero_rated=result.zero_rated,
        package=result.package,
        charged=result.charged,
        duplicate=result.duplicate,
    )
