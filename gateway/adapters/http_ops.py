"""HTTP for operations: liveness, readiness, Prometheus metrics, and the guard that answers
503 while storage cannot take writes (``docs/operations.md``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, Response

from gateway.adapters.http_deps import ExtraHealth, Service, Zone, iso
from gateway.adapters.http_errors import unavailable
from gateway.adapters.http_schemas import (
    ComponentOut,
    HealthClock,
    HealthOut,
    HealthOutbox,
    ReadyOut,
)
from gateway.service.gateway import GatewayService
from gateway.service.metrics import CONTENT_TYPE

__all__ = ["router", "storage_guard"]

_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})

router = APIRouter(tags=["operations"])


@router.get("/api/health")
async def health(service: Service, tz: Zone, extra: ExtraHealth) -> HealthOut:
    """Liveness: the clock, MTs waiting for the broker, and the transports' state."""
    return HealthOut(
        status="ok",
        clock=HealthClock(mode=service.clock.mode, now=iso(service.clock.now(), tz)),
        outbox=HealthOutbox(pending=await service.reads.pending_outbox()),
        **{k: v() if callable(v) else v for k, v in extra.items()},
    )


def _record_readiness(service: GatewayService) -> None:
    for component in service.health.components():
        service.metrics.ready.labels(component.name).set(1 if component.ready else 0)


@router.get(
    "/api/ready",
    response_model_exclude_none=True,
    responses={503: {"model": ReadyOut, "description": "a component is failing"}},
)
async def ready(service: Service, response: Response) -> ReadyOut:
    """Readiness: 200 when every component (storage, MQTT broker, SMTP) can take work;
    503 naming the failing ones otherwise. ``/api/health`` is liveness."""
    failing = service.health.failing()
    _record_readiness(service)
    response.status_code = 503 if failing else 200
    return ReadyOut(
        status="ready" if not failing else "not_ready",
        failing=[f"{c.name}: {c.detail}" if c.detail else c.name for c in failing],
        components={
            c.name: ComponentOut(ready=c.ready, detail=c.detail or None)
            for c in service.health.components()
        },
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text"}},
)
async def metrics(service: Service) -> Response:
    """Prometheus text exposition of the gateway's metrics."""
    _record_readiness(service)
    return Response(service.metrics.render(), media_type=CONTENT_TYPE)


async def storage_guard(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """While storage refuses writes, a request that would write is refused at once
    (503, ``Retry-After``) instead of waiting for the outage to end."""
    service: GatewayService = request.app.state.service
    if request.method not in _SAFE and not service.health.is_ready("storage"):
        return unavailable(service.health.component("storage").detail or "failing")
    return await call_next(request)
