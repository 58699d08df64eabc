"""HTTP for the operator console: the live event stream, counters, search, a subscriber's
messages and timeline."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, tzinfo
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, StreamingResponse

from gateway.adapters.http_deps import Service, Zone, iso
from gateway.adapters.http_schemas import (
    MessageOut,
    MessagesOut,
    SearchOut,
    StatsOut,
    SubscriberSummary,
    TimelineEntry,
    TimelineOut,
    errors,
)
from gateway.domain.events import EventKind, LiveEvent
from gateway.domain.model import ChargeRecord, MessageRecord
from gateway.domain.msisdn import canonical_msisdn
from gateway.service.ports import Queries

__all__ = ["event_json", "router"]

KINDS = frozenset(get_args(EventKind))
_HEARTBEAT = 15.0

router = APIRouter(tags=["console"], responses=errors(404, 422))


def event_json(event: LiveEvent, tz: tzinfo) -> dict[str, Any]:
    """A live event as the stream and the timeline send it: instants in the display zone."""
    fields = {
        k: v.astimezone(tz).isoformat() if isinstance(v, datetime) else v
        for k, v in event.fields.items()
    }
    return {"kind": event.kind, "at": event.at.astimezone(tz).isoformat(), **fields}


def message_out(m: MessageRecord, tz: tzinfo) -> MessageOut:
    return MessageOut(
        direction=m.direction,
        id=m.id,
        shortcode=m.shortcode,
        text=m.text,
        encoding=m.encoding,
        segments=m.segments,
        in_reply_to=m.in_reply_to,
        at=iso(m.at, tz),
    )


@router.get(
    "/api/events",
    response_model=None,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "an endless event stream"}
    },
)
async def events(
    service: Service,
    tz: Zone,
    msisdn: str | None = None,
    shortcode: str | None = None,
    kind: Annotated[str | None, Query(description="comma-separated kinds")] = None,
) -> StreamingResponse | JSONResponse:
    """Server-Sent Events: each committed event as ``event: <kind>`` with JSON data."""
    kinds = None
    if kind:
        kinds = frozenset(k.strip() for k in kind.split(",") if k.strip())
        unknown = sorted(kinds - KINDS)
        if unknown:
            return JSONResponse(
                {"detail": f"unknown kind(s) {', '.join(unknown)}: one of {sorted(KINDS)}"},
                status_code=422,
            )
    wanted = None if not msisdn else canonical_msisdn(msisdn)

    async def stream() -> AsyncIterator[str]:
        with service.events.subscribe(msisdn=wanted, shortcode=shortcode, kinds=kinds) as sub:
            yield ": connected\n\n"
            while True:
                try:
                    async with asyncio.timeout(_HEARTBEAT):
                        event = await sub.queue.get()
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if sub.dropped:
                    yield f"event: dropped\ndata: {json.dumps({'dropped': sub.dropped})}\n\n"
                    sub.dropped = 0
                data = json.dumps(event_json(event, tz), ensure_ascii=False, default=str)
                yield f"event: {event.kind}\ndata: {data}\n\n"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/api/stats")
async def stats(service: Service, tz: Zone) -> StatsOut:
    """Counters of committed events since the gateway started."""
    counts = service.events.counts
    return StatsOut(
        mo=counts["mo"],
        mt=counts["mt"],
        charges=counts["charge"],
        renewals=counts["renewal"],
        renewals_failed=counts["renewal_failed"],
        errors=counts["error"],
        mail=counts["mail"],
        started_at=iso(service.events.started_at, tz),
    )


@router.get("/api/subscribers")
async def search(
    service: Service,
    query: Annotated[str, Query(max_length=64)] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> SearchOut:
    """Subscribers whose MSISDN or email contains ``query`` (0912… is found as 84912…)."""
    needle = query.strip()
    if needle.startswith("0") and needle[1:].isdigit():
        needle = "84" + needle[1:]
    found = await service.reads.read(lambda q: q.console.search(needle, limit))
    return SearchOut(
        subscribers=[
            SubscriberSummary(
                msisdn=s.msisdn, kind=s.kind, balance=s.balance, status=s.status, email=s.email
            )
            for s in found
        ]
    )


@router.get("/api/subscribers/{msisdn}/messages")
async def messages(
    msisdn: str,
    service: Service,
    tz: Zone,
    shortcode: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> MessagesOut:
    number = canonical_msisdn(msisdn)
    found = await service.reads.checked(
        number, lambda q: q.console.messages(number, shortcode, limit)
    )
    return MessagesOut(messages=[message_out(m, tz) for m in found])


@router.get("/api/subscribers/{msisdn}/timeline")
async def timeline(msisdn: str, service: Service, tz: Zone) -> TimelineOut:
    """The subscriber's MOs, MTs, charges and plan events, oldest first."""
    number = canonical_msisdn(msisdn)

    def gather(q: Queries) -> tuple[list[MessageRecord], list[ChargeRecord], list[LiveEvent]]:
        return (
            q.console.messages(number, None, 1000),
            q.billing.charges(number),
            q.console.activity(number),
        )

    sms, charges, activity = await service.reads.checked(number, gather)
    # at one instant: the MO, what it caused (charges, plan events), then the replies
    rows: list[tuple[datetime, int, dict[str, Any]]] = []
    for m in sms:
        fields = {
            k: v
            for k, v in message_out(m, tz).model_dump().items()
            if k != "direction" and v is not None
        }
        rank = 0 if m.direction == "mo" else 3
        rows.append((m.at, rank, {"kind": m.direction, "msisdn": number, **fields}))
    for c in charges:
        charge = {
            "kind": "charge",
            "at": iso(c.at, tz),
            "id": c.id,
            "msisdn": number,
            "package": c.package,
            "amount": c.amount,
            "reason": c.reason,
            "rule": c.rule,
            "billing": c.billing,
        }
        rows.append((c.at, 1, charge))
    rows.extend((e.at, 2, event_json(e, tz)) for e in activity)
    rows.sort(key=lambda row: (row[0], row[1]))
    return TimelineOut(events=[TimelineEntry.model_validate(row) for _, _, row in rows])
