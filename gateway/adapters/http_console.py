"""HTTP for the operator console: the live event stream, search, timeline, catalogs, reports."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, StreamingResponse

from gateway.domain.events import EventKind, LiveEvent
from gateway.domain.model import ChargeRecord, MessageRecord
from gateway.domain.msisdn import canonical_msisdn
from gateway.service.gateway import GatewayService

__all__ = ["console_router", "event_json"]

KINDS = frozenset(get_args(EventKind))
_HEARTBEAT = 15.0


def event_json(event: LiveEvent, tz: tzinfo) -> dict[str, Any]:
    """A live event as the stream and the timeline send it: instants in the display zone."""
    fields = {
        k: v.astimezone(tz).isoformat() if isinstance(v, datetime) else v
        for k, v in event.fields.items()
    }
    return {"kind": event.kind, "at": event.at.astimezone(tz).isoformat(), **fields}


def console_router(service: GatewayService, *, tz: tzinfo) -> APIRouter:
    router = APIRouter()

    def iso(at: datetime) -> str:
        return at.astimezone(tz).isoformat()

    def local_day(at: datetime) -> date:
        return at.astimezone(tz).date()

    def day_start(day: date) -> datetime:
        return datetime.combine(day, time(), tzinfo=tz)

    # -- the live stream ----------------------------------------------------------------

    @router.get("/api/events", tags=["console"], response_model=None)
    async def events(
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

    @router.get("/api/stats", tags=["console"])
    async def stats() -> dict[str, Any]:
        """Counters of committed events since the gateway started."""
        counts = service.events.counts
        return {
            "mo": counts["mo"],
            "mt": counts["mt"],
            "charges": counts["charge"],
            "renewals": counts["renewal"],
            "renewals_failed": counts["renewal_failed"],
            "errors": counts["error"],
            "mail": counts["mail"],
            "started_at": iso(service.events.started_at),
        }

    # -- subscribers --------------------------------------------------------------------

    @router.get("/api/subscribers", tags=["console"])
    async def search(
        query: Annotated[str, Query(max_length=64)] = "",
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> dict[str, Any]:
        """Subscribers whose MSISDN or email contains ``query`` (0912… is found as 84912…)."""
        needle = query.strip()
        if needle.startswith("0") and needle[1:].isdigit():
            needle = "84" + needle[1:]
        found = await service.read(lambda q: q.console.search(needle, limit))
        return {
            "subscribers": [
                {
                    "msisdn": s.msisdn,
                    "kind": s.kind,
                    "balance": s.balance,
                    "status": s.status,
                    "email": s.email,
                }
                for s in found
            ]
        }

    @router.get("/api/subscribers/{msisdn}/invoices", tags=["console"])
    async def invoices(msisdn: str) -> dict[str, Any]:
        number = canonical_msisdn(msisdn)
        months = await service.checked(number, lambda q: q.billing.invoice_months(number))
        return {
            "invoices": [
                {"month": month, "total": total, "lines": lines} for month, total, lines in months
            ]
        }

    def message_json(m: MessageRecord) -> dict[str, Any]:
        return {
            "direction": m.direction,
            "id": m.id,
            "shortcode": m.shortcode,
            "text": m.text,
            "encoding": m.encoding,
            "segments": m.segments,
            "in_reply_to": m.in_reply_to,
            "at": iso(m.at),
        }

    @router.get("/api/subscribers/{msisdn}/messages", tags=["console"])
    async def messages(
        msisdn: str,
        shortcode: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> dict[str, Any]:
        number = canonical_msisdn(msisdn)
        found = await service.checked(
            number, lambda q: q.console.messages(number, shortcode, limit)
        )
        return {"messages": [message_json(m) for m in found]}

    @router.get("/api/subscribers/{msisdn}/timeline", tags=["console"])
    async def timeline(msisdn: str) -> dict[str, Any]:
        """The subscriber's MOs, MTs, charges and plan events, oldest first."""
        number = canonical_msisdn(msisdn)

        def gather(q: Any) -> tuple[list[MessageRecord], list[ChargeRecord], list[LiveEvent]]:
            return (
                q.console.messages(number, None, 1000),
                q.billing.charges(number),
                q.console.activity(number),
            )

        sms, charges, activity = await service.checked(number, gather)
        # at one instant: the MO, what it caused (charges, plan events), then the replies
        rows: list[tuple[datetime, int, dict[str, Any]]] = []
        for m in sms:
            fields = {
                k: v for k, v in message_json(m).items() if k != "direction" and v is not None
            }
            rank = 0 if m.direction == "mo" else 3
            rows.append((m.at, rank, {"kind": m.direction, "msisdn": number, **fields}))
        for c in charges:
            rows.append(
                (
                    c.at,
                    1,
                    {
                        "kind": "charge",
                        "at": iso(c.at),
                        "id": c.id,
                        "msisdn": number,
                        "package": c.package,
                        "amount": c.amount,
                        "reason": c.reason,
                        "rule": c.rule,
                        "billing": c.billing,
                    },
                )
            )
        rows.extend((e.at, 2, event_json(e, tz)) for e in activity)
        rows.sort(key=lambda row: (row[0], row[1]))
        return {"events": [row for _, _, row in rows]}

    # -- catalogs -----------------------------------------------------------------------

    @router.get("/api/catalogs", tags=["console"])
    async def catalogs() -> dict[str, Any]:
        """The loaded catalogs and their plans' terms (texts left out)."""
        found = []
        for code in sorted(service.shortcodes):
            catalog = service.catalog(code)
            data = catalog.model_dump(mode="json", exclude={"templates", "emails"})
            found.append(data)
        return {"catalogs": found}

    # -- reports ------------------------------------------------------------------------

    def window(days: int) -> tuple[date, datetime, datetime]:
        today = local_day(service.clock.now())
        first = today - timedelta(days=days - 1)
        return first, day_start(first), day_start(today + timedelta(days=1))

    @router.get("/api/reports/revenue", tags=["console"])
    async def revenue(
        by: Annotated[str, Query(pattern="^(package|day)$")] = "package",
        days: Annotated[int, Query(ge=1, le=366)] = 30,
    ) -> dict[str, Any]:
        """Charges net of refunds over the last ``days`` local days, by plan or by day."""
        _, start, end = window(days)
        charges = await service.read(lambda q: q.reports.charges_between(start, end))
        totals: dict[str, list[int]] = {}
        for c in charges:
            key = c.package if by == "package" else local_day(c.at).isoformat()
            entry = totals.setdefault(key, [0, 0])
            entry[0] += c.amount
            entry[1] += 1
        return {
            "by": by,
            "rows": [
                {"key": key, "amount": amount, "count": count}
                for key, (amount, count) in sorted(totals.items())
            ],
        }

    @router.get("/api/reports/subscriptions", tags=["console"])
    async def active(days: Annotated[int, Query(ge=1, le=366)] = 30) -> dict[str, Any]:
        """Paid and trial plans serving at the end of each local day."""
        first, _, _ = window(days)
        now = service.clock.now()
        ends = [min(day_start(first + timedelta(days=i + 1)), now) for i in range(days)]
        counts = await service.read(lambda q: q.reports.active_at(ends))
        return {
            "rows": [
                {"day": (first + timedelta(days=i)).isoformat(), "active": n}
                for i, n in enumerate(counts)
            ]
        }

    @router.get("/api/reports/renewals", tags=["console"])
    async def renewals(days: Annotated[int, Query(ge=1, le=366)] = 30) -> dict[str, Any]:
        """Renewals paid and renewals that failed, per local day."""
        first, start, end = window(days)

        def gather(q: Any) -> tuple[list[ChargeRecord], list[LiveEvent]]:
            return q.reports.charges_between(start, end), q.reports.activity_between(
                "renewal_failed", start, end
            )

        charges, failures = await service.read(gather)
        rows = {
            (first + timedelta(days=i)).isoformat(): {"succeeded": 0, "failed": 0}
            for i in range(days)
        }
        for c in charges:
            if c.reason == "renewal":
                rows[local_day(c.at).isoformat()]["succeeded"] += 1
        for e in failures:
            rows[local_day(e.at).isoformat()]["failed"] += 1
        return {"rows": [{"day": day, **counts} for day, counts in rows.items()]}

    return router
