"""HTTP for the mailbox in Mailpit's API v1 shape (a subset): list, search, read, raw,
delete; :mod:`gateway.adapters.mailpit` shapes the JSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import ValidationError

from gateway.adapters.http_deps import Support, Zone
from gateway.adapters.http_models import MAX_OFFSET, DeleteIn
from gateway.adapters.http_schemas import ErrorOut, errors
from gateway.adapters.http_schemas_mail import MailMessage, MailsPage
from gateway.adapters.mailpit import list_json, matches, message_json, parse_search
from gateway.domain.mail import to_mime

__all__ = ["router"]

router = APIRouter(tags=["mailbox"], responses=errors(422, 503))

Start = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="messages to skip")]
Limit = Annotated[int, Query(ge=1, le=5000)]


_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "no such message"}
}


@router.get("/api/v1/messages")
async def list_messages(
    support: Support, tz: Zone, start: Start = 0, limit: Limit = 50
) -> MailsPage:
    """The mailbox, newest first: Mailpit's ``MessagesSummary``."""
    items, total, unread = await support.mails(start=start, limit=limit)
    return MailsPage.model_validate(
        list_json(items, total=total, unread=unread, start=start, tz=tz)
    )


@router.get("/api/v1/search")
async def search_messages(
    support: Support,
    tz: Zone,
    query: Annotated[str, Query(min_length=1, max_length=500)],
    start: Start = 0,
    limit: Limit = 50,
) -> MailsPage:
    """Mail matching Mailpit's search syntax (``to:``, ``from:``, ``subject:``,
    ``message-id:``, ``is:read``, words and phrases, ``-`` to negate)."""
    search = parse_search(query)
    found = [m for m in await support.recent_mail() if matches(search, m)]
    unread = sum(1 for m in found if not m.read)
    page = list_json(
        found[start : start + limit], total=len(found), unread=unread, start=start, tz=tz
    )
    return MailsPage.model_validate(page)


@router.get("/api/v1/message/{mail_id}", response_model=MailMessage, responses=_NOT_FOUND)
async def get_message(mail_id: str, support: Support, tz: Zone) -> MailMessage | JSONResponse:
    """One message (marked read): Mailpit's ``Message``; ``latest`` is the newest."""
    stored = await support.mail(mail_id, mark_read=True)
    if stored is None:
        return JSONResponse({"detail": f"no message {mail_id}"}, status_code=404)
    return MailMessage.model_validate(message_json(stored, tz=tz))


@router.get(
    "/api/v1/message/{mail_id}/raw",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "the RFC 5322 message"},
        **_NOT_FOUND,
    },
)
async def get_raw(mail_id: str, support: Support) -> Response:
    stored = await support.mail(mail_id, mark_read=False)
    if stored is None:
        return JSONResponse({"detail": f"no message {mail_id}"}, status_code=404)
    return Response(to_mime(stored.mail), media_type="text/plain; charset=utf-8")


@router.delete(
    "/api/v1/messages",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "ok"}},
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": DeleteIn.model_json_schema()}},
        }
    },
)
async def delete_messages(request: Request, support: Support) -> Response:
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
