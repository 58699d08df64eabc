"""HTTP for the console's catalogs and reports: revenue, plans serving, renewals."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Annotated

from fastapi import APIRouter, Query

from gateway.adapters.http_deps import Service, Zone
from gateway.adapters.http_schemas import (
    ActiveOut,
    ActiveRow,
    CatalogsOut,
    RenewalRow,
    RenewalsOut,
    RevenueOut,
    RevenueRow,
    errors,
)
from gateway.domain.events import LiveEvent
from gateway.domain.model import ChargeRecord
from gateway.service.gateway import GatewayService
from gateway.service.ports import Queries

__all__ = ["router"]

router = APIRouter(tags=["console"], responses=errors(422))

Days = Annotated[int, Query(ge=1, le=366)]


def _local_day(at: datetime, tz: tzinfo) -> date:
    return at.astimezone(tz).date()


def _day_start(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz)


def _window(service: GatewayService, days: int, tz: tzinfo) -> tuple[date, datetime, datetime]:
    """The first of the last ``days`` local days, its start, and the end of today."""
    today = _local_day(service.clock.now(), tz)
    first = today - timedelta(days=days - 1)
    return first, _day_start(first, tz), _day_start(today + timedelta(days=1), tz)


@router.get("/api/catalogs")
async def catalogs(service: Service) -> CatalogsOut:
    """The loaded catalogs and their plans' terms (texts left out)."""
    found = [
        service.catalog(code).model_dump(mode="json", exclude={"templates", "emails"})
        for code in sorted(service.shortcodes)
    ]
    return CatalogsOut(catalogs=found)


@router.get("/api/reports/revenue")
async def revenue(
    service: Service,
    tz: Zone,
    by: Annotated[str, Query(pattern="^(package|day)$")] = "package",
    days: Days = 30,
) -> RevenueOut:
    """Charges net of refunds over the last ``days`` local days, by plan or by day."""
    _, start, end = _window(service, days, tz)
    charges = await service.reads.read(lambda q: q.reports.charges_between(start, end))
    totals: dict[str, list[int]] = {}
    for c in charges:
        key = c.package if by == "package" else _local_day(c.at, tz).isoformat()
        entry = totals.setdefault(key, [0, 0])
        entry[0] += c.amount
        entry[1] += 1
    return RevenueOut(
        by=by,
        rows=[
            RevenueRow(key=key, amount=amount, count=count)
            for key, (amount, count) in sorted(totals.items())
        ],
    )


@router.get("/api/reports/subscriptions")
async def active(service: Service, tz: Zone, days: Days = 30) -> ActiveOut:
    """Paid and trial plans serving at the end of each local day."""
    first, _, _ = _window(service, days, tz)
    now = service.clock.now()
    ends = [min(_day_start(first + timedelta(days=i + 1), tz), now) for i in range(days)]
    counts = await service.reads.read(lambda q: q.reports.active_at(ends))
    return ActiveOut(
        rows=[
            ActiveRow(day=(first + timedelta(days=i)).isoformat(), active=n)
            for i, n in enumerate(counts)
        ]
    )


@router.get("/api/reports/renewals")
async def renewals(service: Service, tz: Zone, days: Days = 30) -> RenewalsOut:
    """Renewals paid and renewals that failed, per local day."""
    first, start, end = _window(service, days, tz)

    def gather(q: Queries) -> tuple[list[ChargeRecord], list[LiveEvent]]:
        return q.reports.charges_between(start, end), q.reports.activity_between(
            "renewal_failed", start, end
        )

    charges, failures = await service.reads.read(gather)
    rows = {(first + timedelta(days=i)).isoformat(): [0, 0] for i in range(days)}
    for c in charges:
        if c.reason == "renewal":
            rows[_local_day(c.at, tz).isoformat()][0] += 1
    for e in failures:
        rows[_local_day(e.at, tz).isoformat()][1] += 1
    return RenewalsOut(
        rows=[
            RenewalRow(day=day, succeeded=succeeded, failed=failed)
            for day, (succeeded, failed) in rows.items()
        ]
    )
