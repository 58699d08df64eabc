"""HTTP for loading subscribers in bulk: ``POST /api/subscribers/bulk``.

The rows are the columns of ``scgw load`` (``msisdn, kind, balance, language, email``,
``subscriptions``),
checked the same way (``gateway.bulk.rows``); every bad row is reported with its line
(its position in ``rows``, from 1) and, unless ``skip_bad``, nothing is loaded. Good
rows go into the running gateway in one transaction, by the provisioning rules (an
existing subscriber is updated, as ``PUT /api/subscribers/{msisdn}`` does).
"""

from __future__ import annotations

from typing import Any, cast

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from carrier_rules import Language, SubscriberKind
from gateway.adapters.http_deps import Service
from gateway.adapters.http_schemas import Out, errors
from gateway.bulk.rows import check_rows
from gateway.errors import BulkRefused
from gateway.service.gateway import ProvisionRow

__all__ = ["router"]

#: rows one request may carry (larger loads: several requests, or ``scgw load``)
MAX_ROWS = 10_000

router = APIRouter(tags=["subscribers"], responses=errors(400, 409, 503))


class BulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rows: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_ROWS)
    #: load the good rows and report the bad ones, instead of loading nothing
    skip_bad: bool = False


class BadRowOut(Out):
    line: int
    reason: str


class BulkOut(Out):
    created: int
    updated: int
    skipped: list[BadRowOut]


class BulkRefusedOut(Out):
    """Bad rows (``bad``, nothing loaded), or a malformed request (FastAPI's list)."""

    detail: str | list[dict[str, Any]]
    bad: list[BadRowOut] = Field(default_factory=list)


@router.post(
    "/api/subscribers/bulk",
    response_model=BulkOut,
    responses={422: {"model": BulkRefusedOut, "description": "bad rows: nothing loaded"}},
)
async def load_subscribers(body: BulkIn, service: Service) -> BulkOut | JSONResponse:
    """Provision up to 10,000 subscribers in one transaction."""
    numbered = ((n, row) for n, row in enumerate(body.rows, start=1))
    packages = {code: p.package for code, p in service.engine.catalogue.products.items()}
    loaded = check_rows(numbered, default_balance=service.default_balance, packages=packages)
    bad = [BadRowOut(line=b.line, reason=b.reason) for b in loaded.bad]
    if bad and not body.skip_bad:
        return _refused(bad)
    rows = [
        ProvisionRow(
            line=r.line,
            msisdn=r.msisdn,
            kind=cast(SubscriberKind, r.kind),
            balance=r.balance,
            language=cast(Language | None, r.language),
            email=r.email,
            subscriptions=r.subscriptions,
        )
        for r in loaded.rows
    ]
    try:
        report = await service.provision_many(rows, skip_bad=body.skip_bad)
    except BulkRefused as exc:
        return _refused(bad + [BadRowOut(line=n, reason=why) for n, why in exc.refused])
    refused = [BadRowOut(line=n, reason=why) for n, why in report.refused]
    return BulkOut(
        created=report.created,
        updated=report.updated,
        skipped=sorted(bad + refused, key=lambda b: b.line),
    )


def _refused(bad: list[BadRowOut]) -> JSONResponse:
    body = BulkRefusedOut(
        detail=f"{len(bad)} bad row(s): nothing was loaded (skip_bad loads the others)",
        bad=sorted(bad, key=lambda b: b.line),
    )
    return JSONResponse(body.model_dump(), status_code=422)
