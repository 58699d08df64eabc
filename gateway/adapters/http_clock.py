"""HTTP for the clock: read it, and move the virtual clock forward."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from gateway.adapters.http_deps import Service, Zone, iso
from gateway.adapters.http_models import CLOCK_LIMIT, MAX_ADVANCE, AdvanceIn
from gateway.adapters.http_schemas import AdvanceOut, ClockOut, ErrorOut, errors

__all__ = ["router"]

router = APIRouter(tags=["clock"], responses=errors(422, 503))


@router.get("/api/clock")
async def get_clock(service: Service, tz: Zone) -> ClockOut:
    return ClockOut(now=iso(service.clock.now(), tz), mode=service.clock.mode)


@router.post(
    "/api/clock/advance",
    response_model=AdvanceOut,
    responses={
        409: {
            "model": ErrorOut,
            "description": "the clock is real (wall clock): it cannot be moved",
        }
    },
)
async def advance(body: AdvanceIn, service: Service, tz: Zone) -> AdvanceOut | JSONResponse:
    """Move the virtual clock forward: at most ten years a call, never past 2100; the
    due renewals, retries and term ends run on the way, each at its own instant."""
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
    return AdvanceOut(now=iso(result.now, tz), mode=service.clock.mode, processed=result.processed)
