"""HTTP for operations: readiness, Prometheus metrics, and the guard that answers 503
while storage cannot take writes (``docs/operations.md``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from gateway.errors import RateLimited, StorageUnavailable
from gateway.service.gateway import GatewayService
from gateway.service.metrics import CONTENT_TYPE

__all__ = ["RETRY_AFTER", "install_ops"]

#: seconds a client is asked to wait before trying again (503 and 429)
RETRY_AFTER = 5
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def _components(service: GatewayService) -> dict[str, Any]:
    return {
        c.name: {"ready": c.ready, **({"detail": c.detail} if c.detail else {})}
        for c in service.health.components()
    }


def install_ops(app: FastAPI, service: GatewayService) -> None:
    """Add ``/api/ready``, ``/metrics``, the storage guard and the 503/429 answers."""
    router = APIRouter(tags=["operations"])

    @router.get("/api/ready", responses={503: {"description": "a component is failing"}})
    async def ready() -> JSONResponse:
        """Readiness: 200 when every component (storage, MQTT broker, SMTP) can take work;
        503 naming the failing ones otherwise. ``/api/health`` is liveness."""
        failing = service.health.failing()
        for component in service.health.components():
            service.metrics.ready.labels(component.name).set(1 if component.ready else 0)
        body = {
            "status": "ready" if not failing else "not_ready",
            "failing": [f"{c.name}: {c.detail}" if c.detail else c.name for c in failing],
            "components": _components(service),
        }
        return JSONResponse(body, status_code=503 if failing else 200)

    @router.get("/metrics", response_class=Response)
    async def metrics() -> Response:
        """Prometheus text exposition of the gateway's metrics."""
        for component in service.health.components():
            service.metrics.ready.labels(component.name).set(1 if component.ready else 0)
        return Response(service.metrics.render(), media_type=CONTENT_TYPE)

    app.include_router(router)

    @app.middleware("http")
    async def storage_guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """While storage refuses writes, a request that would write is refused at once
        (503, ``Retry-After``) instead of waiting for the outage to end."""
        if request.method not in _SAFE and not service.health.is_ready("storage"):
            return _unavailable(service.health.component("storage").detail or "failing")
        return await call_next(request)

    @app.exception_handler(StorageUnavailable)
    async def storage_unavailable(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StorageUnavailable)
        return _unavailable(exc.reason)

    @app.exception_handler(RateLimited)
    async def rate_limited(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc)},
            status_code=429,
            headers={"Retry-After": "1"},
        )


def _unavailable(reason: str) -> JSONResponse:
    return JSONResponse(
        {"detail": f"storage unavailable, nothing was changed: {reason}"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER)},
    )
