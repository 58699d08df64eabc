"""HTTP API (FastAPI): the application composed of one router per resource.

The routers (``http_*.py``) are defined at module level and read what they need from
``app.state`` through :mod:`gateway.adapters.http_deps`; their response bodies are the
models of :mod:`gateway.adapters.http_schemas`, so ``/openapi.json`` documents each.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from fastapi import FastAPI

from gateway.adapters import (
    http_bulk,
    http_clock,
    http_console,
    http_handsets,
    http_mailbox,
    http_ops,
    http_recordings,
    http_reports,
    http_sms,
    http_subscribers,
    http_tickets,
)
from gateway.adapters.http_errors import EXCEPTION_HANDLERS
from gateway.adapters.http_static import mount_console, require_token
from gateway.service.gateway import GatewayService
from gateway.service.support import SupportService

__all__ = ["ROUTERS", "create_app"]

#: every resource's router, in the order they are included
ROUTERS = (
    http_ops.router,
    http_bulk.router,  # before /api/subscribers/{msisdn}
    http_subscribers.router,
    http_sms.router,
    http_clock.router,
    http_console.router,
    http_reports.router,
    http_tickets.router,
    http_mailbox.router,
    http_recordings.router,
    http_handsets.router,
)


def create_app(
    service: GatewayService,
    *,
    support: SupportService,
    tz: tzinfo,
    health: dict[str, Any] | None = None,
    token: str | None = None,
) -> FastAPI:
    """The FastAPI application over a running :class:`GatewayService`: ``health`` adds
    keys to ``/api/health`` (a callable is read on each request); ``token`` requires
    ``Authorization: Bearer <token>`` on every request but the probes."""
    app = FastAPI(
        title="shortcode-gateway",
        summary="SMS short-code simulator: subscribers, SMS, invoices and the virtual clock.",
        version="0.1.0",
        exception_handlers=dict(EXCEPTION_HANDLERS),
    )
    app.state.service = service
    app.state.support = support
    app.state.tz = tz
    app.state.health = health if health is not None else {}
    app.middleware("http")(http_ops.storage_guard)
    for router in ROUTERS:
        app.include_router(router)
    mount_console(app)
    if token is not None:
        require_token(app, token)
    return app
