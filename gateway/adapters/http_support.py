"""HTTP for the email channel: support tickets, and the mailbox in Mailpit's API shape."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway.adapters.http_models import INT64_MAX, MAX_OFFSET
from gateway.adapters.http_models import Body as JsonBody
from gateway.adapters.mailpit import list_json, matches, message_json, parse_search, summary_json
from gateway.domain.mail import StoredMail, to_mime
from gateway.domain.model import Ticket
from gateway.domain.msisdn import canonical_msisdn
from gateway.service.support import SupportService
from gateway.service.tickets import TicketResult

__all__ = ["support_router"]

Text = Annotated[str, Field(min_length=1, max_length=10_000)]
Short = Annotated[str, Field(min_length=1, max_length=200)]
TicketId = Annotated[int, Path(ge=1, le=INT64_MAX, description="a ticket number")]
Start = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="messages to skip")]


class TicketIn(JsonBody):
    """The portal's ticket form (seed 003): the logged-in subscriber, product, category,
    title and content."""

    msisdn: str
    product: Short = "Other"
    category: Short
    title: Short
    content: Text


class VerifyIn(JsonBody):
    code: Annotated[str, Field(min_length=1, max_length=20)]


class CloseIn(JsonBody):
    resolution: Annotated[str, Field(max_length=1000)] | None = None


class DeleteIn(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    ids: list[str] | None = Field(default=None, alias="IDs")


def support_router(support: SupportService, *, tz: tzinfo) -> APIRouter:
    router = APIRouter()

    def iso(at: datetime | None) -> str | None:
        return None if at is None else at.astimezone(tz).isoformat()

    def ticket_json(t: Ticket) -> dict[str, Any]:
        return {
            "id": t.id,
            "source": t.source,
            "kind": t.kind,
            "status": t.status,
            "requester": t.requester,
            "msisdn": t.msisdn,
            "product": t.product,
            "category": t.category,
            "title": t.title,
            "content": t.content,
            "created_at": iso(t.created_at),
            "updated_at": iso(t.updated_at),
            "verification": (
                None
                if t.otp_expires_at is None
                else {
                    "expires_at": iso(t.otp_expires_at),
                    "wrong_attempts": t.otp_attempts,
                    "codes_sent": t.codes_sent,
                }
            ),
            "resolution": t.resolution,
            "closed_at": iso(t.closed_at),
        }

    def result_json(result: TicketResult) -> dict[str, Any]:
        return {"ticket": ticket_json(result.ticket), "outcome": result.verify}

    # -- tickets --------------------------------------------------------------------------

    @router.get("/api/tickets", tags=["tickets"])
    async def list_tickets() -> dict[str, Any]:
        return {"tickets": [ticket_json(t) for t in await support.tickets()]}

    @router.get("/api/tickets/{ticket_id}", tags=["tickets"])
    async def get_ticket(ticket_id: TicketId) -> dict[str, Any]:
        view = await support.ticket(ticket_id)
        return {
            **ticket_json(view.ticket),
            "events": [{"at": iso(e.at), "status": e.status, "note": e.note} for e in view.events],
            "mails": [summary_json(m, tz=tz) for m in view.mails],
        }

    @router.post("/api/tickets", status_code=201, tags=["tickets"])
    async def open_ticket(body: TicketIn) -> dict[str, Any]:
        result = await support.open_ticket(
            msisdn=canonical_msisdn(body.msisdn),
            product=body.product,
            category=body.category,
            title=body.title,
            content=body.content,
        )
        return ticket_json(result.ticket)

    @router.post("/api/tickets/{ticket_id}/verify", tags=["tickets"])
    async def verify_ticket(ticket_id: TicketId, body: VerifyIn) -> JSONResponse:
        """Enter the code the requester received by SMS. A wrong or expired code is a 422
        (the attempt still counts); the right one closes the account and the ticket."""
        result = await support.verify(ticket_id, body.code)
        if result.verify == "closed":
            return JSONResponse(result_json(result))
        reason = (
            "wrong code"
            if result.verify == "wrong_code"
            else "the code expired: a new one is sent when the requester replies to the ticket"
        )
        return JSONResponse({"detail": reason, **result_json(result)}, status_code=422)

    @router.post("/api/tickets/{ticket_id}/close", tags=["tickets"])
    async def close_ticket(
        ticket_id: TicketId, body: Annotated[CloseIn | None, Body()] = None
    ) -> dict[str, Any]:
        result = await support.close(ticket_id, None if body is None else body.resolution)
        return ticket_json(result.ticket)

    # -- mailbox (Mailpit API v1 subset) --------------------------------------------------

    def page(items: list[StoredMail], total: int, unread: int, start: int) -> dict[str, Any]:
        return list_json(items, total=total, unread=unread, start=start, tz=tz)

    @router.get("/api/v1/messages", tags=["mailbox"])
    async def list_messages(
        start: Start = 0, limit: Annotated[int, Query(ge=1, le=5000)] = 50
    ) -> dict[str, Any]:
        items, total, unread = await support.mails(start=start, limit=limit)
        return page(items, total, unread, start)

    @router.get("/api/v1/search", tags=["mailbox"])
    async def search_messages(
        query: Annotated[str, Query(min_length=1, max_length=500)],
        start: Start = 0,
        limit: Annotated[int, Query(ge=1, le=5000)] = 50,
    ) -> dict[str, Any]:
        search = parse_search(query)
        found = [m for m in await support.recent_mail() if matches(search, m)]
        unread = sum(1 for m in found if not m.read)
        return page(found[start : start + limit], len(found), unread, start)

    @router.get("/api/v1/message/{mail_id}", tags=["mailbox"])
    async def get_message(mail_id: str) -> JSONResponse:
        stored = await support.mail(mail_id, mark_read=True)
        if stored is None:
            return JSONResponse({"detail": f"no message {mail_id}"}, status_code=404)
        return JSONResponse(message_json(stored, tz=tz))

    @router.get("/api/v1/message/{mail_id}/raw", tags=["mailbox"])
    async def get_raw(mail_id: str) -> Response:
        stored = await support.mail(mail_id, mark_read=False)
        if stored is None:
            return JSONResponse({"detail": f"no message {mail_id}"}, status_code=404)
        return Response(to_mime(stored.mail), media_type="text/plain; charset=utf-8")

    @router.delete(
        "/api/v1/messages",
        tags=["mailbox"],
        openapi_extra={
            "requestBody": {
                "required": False,
                "content": {"application/json": {"schema": DeleteIn.model_json_schema()}},
            }
        },
    )
    async def delete_messages(request: Request) -> Response:
        """All messages, or those in ``{"IDs": [...]}`` (read whatever the content type,
        as Mailpit does). Mail still waiting for delivery is hidden from the mailbox but
        still delivered."""
        raw = await request.body()
        ids: list[str] | None = None
        if raw.strip():
            try:
                ids = DeleteIn.model_validate_json(raw).ids
            except ValidationError as exc:
                reason = exc.errors()[0]["msg"]
                return JSONResponse({"detail": f'expected {{"IDs": [...]}}: {reason}'}, 422)
        await support.delete_mail(ids or None)
        return PlainTextResponse("ok")

    return router
