"""HTTP for support tickets: list, read, open from the portal, verify a closure, close."""

from __future__ import annotations

from datetime import tzinfo
from typing import Annotated

from fastapi import APIRouter, Body, Path
from fastapi.responses import JSONResponse

from gateway.adapters.http_deps import Support, Zone, iso_or_none
from gateway.adapters.http_models import INT64_MAX, CloseIn, TicketIn, VerifyIn
from gateway.adapters.http_schemas import errors
from gateway.adapters.http_schemas_mail import (
    MailSummary,
    TicketDetailOut,
    TicketEventOut,
    TicketOut,
    TicketRefusal,
    TicketResultOut,
    TicketsOut,
    VerificationOut,
)
from gateway.adapters.mailpit import summary_json
from gateway.domain.model import Ticket
from gateway.domain.msisdn import canonical_msisdn
from gateway.service.tickets import TicketResult

__all__ = ["router", "ticket_out"]

router = APIRouter(tags=["tickets"], responses=errors(400, 404, 409, 422, 503))

TicketId = Annotated[int, Path(ge=1, le=INT64_MAX, description="a ticket number")]


def ticket_out(t: Ticket, tz: tzinfo) -> TicketOut:
    return TicketOut(
        id=t.id,
        source=t.source,
        kind=t.kind,
        status=t.status,
        requester=t.requester,
        msisdn=t.msisdn,
        product=t.product,
        category=t.category,
        title=t.title,
        content=t.content,
        created_at=iso_or_none(t.created_at, tz),
        updated_at=iso_or_none(t.updated_at, tz),
        verification=(
            None
            if t.otp_expires_at is None
            else VerificationOut(
                expires_at=iso_or_none(t.otp_expires_at, tz),
                wrong_attempts=t.otp_attempts,
                codes_sent=t.codes_sent,
            )
        ),
        resolution=t.resolution,
        closed_at=iso_or_none(t.closed_at, tz),
    )


def _result_out(result: TicketResult, tz: tzinfo) -> TicketResultOut:
    return TicketResultOut(ticket=ticket_out(result.ticket, tz), outcome=result.verify)


@router.get("/api/tickets")
async def list_tickets(support: Support, tz: Zone) -> TicketsOut:
    return TicketsOut(tickets=[ticket_out(t, tz) for t in await support.tickets()])


@router.get("/api/tickets/{ticket_id}")
async def get_ticket(ticket_id: TicketId, support: Support, tz: Zone) -> TicketDetailOut:
    """A ticket with its history and the mail it sent and received."""
    view = await support.ticket(ticket_id)
    return TicketDetailOut(
        **ticket_out(view.ticket, tz).model_dump(),
        events=[
            TicketEventOut(at=iso_or_none(e.at, tz), status=e.status, note=e.note)
            for e in view.events
        ],
        mails=[MailSummary.model_validate(summary_json(m, tz=tz)) for m in view.mails],
    )


@router.post("/api/tickets", status_code=201)
async def open_ticket(body: TicketIn, support: Support, tz: Zone) -> TicketOut:
    result = await support.open_ticket(
        msisdn=canonical_msisdn(body.msisdn),
        product=body.product,
        category=body.category,
        title=body.title,
        content=body.content,
    )
    return ticket_out(result.ticket, tz)


@router.post(
    "/api/tickets/{ticket_id}/verify",
    response_model=TicketResultOut,
    responses={422: {"model": TicketRefusal, "description": "a wrong or expired code"}},
)
async def verify_ticket(
    ticket_id: TicketId, body: VerifyIn, support: Support, tz: Zone
) -> TicketResultOut | JSONResponse:
    """Enter the code the requester received by SMS. A wrong or expired code is a 422
    (the attempt still counts); the right one closes the account and the ticket."""
    result = await support.verify(ticket_id, body.code)
    if result.verify == "closed":
        return _result_out(result, tz)
    reason = (
        "wrong code"
        if result.verify == "wrong_code"
        else "the code expired: a new one is sent when the requester replies to the ticket"
    )
    refusal = TicketRefusal(
        detail=reason, ticket=ticket_out(result.ticket, tz), outcome=result.verify
    )
    return JSONResponse(refusal.model_dump(mode="json"), status_code=422)


@router.post("/api/tickets/{ticket_id}/close")
async def close_ticket(
    ticket_id: TicketId,
    support: Support,
    tz: Zone,
    body: Annotated[CloseIn | None, Body()] = None,
) -> TicketOut:
    result = await support.close(ticket_id, None if body is None else body.resolution)
    return ticket_out(result.ticket, tz)
