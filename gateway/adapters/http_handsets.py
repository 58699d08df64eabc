"""HTTP for handset states: what the simulated network does with a subscriber's messages
(the SMSC's delivery receipts, docs/smpp.md)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from gateway.adapters.http_deps import Service, Zone, iso_or_none
from gateway.adapters.http_models import Body
from gateway.adapters.http_schemas import Instant, Out, errors
from gateway.domain.handsets import HandsetState, HandsetView
from gateway.domain.msisdn import canonical_msisdn

__all__ = ["HandsetIn", "HandsetOut", "router"]

router = APIRouter(tags=["handsets"], responses=errors(422, 503))

_STATES = (
    "on: takes messages; off: holds them until on again or their validity period ends"
    " (EXPIRED); absent, memory_full: UNDELIV; barred: REJECTD"
)


class HandsetIn(Body):
    state: HandsetState = Field(description=_STATES)


class HandsetOut(Out):
    msisdn: str
    state: HandsetState = Field(description=_STATES)
    #: when it was last set; null: never set, so ``on``
    updated_at: Instant | None


def handset_out(view: HandsetView, tz: Zone) -> HandsetOut:
    return HandsetOut(
        msisdn=view.msisdn, state=view.state, updated_at=iso_or_none(view.updated_at, tz)
    )


@router.get("/api/handsets/{msisdn}")
async def get_handset(msisdn: str, service: Service, tz: Zone) -> HandsetOut:
    """A subscriber's handset state (``on`` until set)."""
    return handset_out(await service.handsets.get(canonical_msisdn(msisdn)), tz)


@router.put("/api/handsets/{msisdn}")
async def put_handset(msisdn: str, body: HandsetIn, service: Service, tz: Zone) -> HandsetOut:
    """Set a subscriber's handset state; messages the SMSC holds for it are tried again
    at once."""
    return handset_out(await service.handsets.set(canonical_msisdn(msisdn), body.state), tz)
