"""What the HTTP routers depend on, read from ``app.state`` (set once by ``create_app``):
the gateway service, the support desk and the display time zone, as FastAPI ``Depends``."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Annotated, Any, cast

from fastapi import Depends, Request

from gateway.service.gateway import GatewayService
from gateway.service.support import SupportService

__all__ = ["ExtraHealth", "Service", "Support", "Zone", "iso", "iso_or_none"]


def _service(request: Request) -> GatewayService:
    return cast(GatewayService, request.app.state.service)


def _support(request: Request) -> SupportService:
    return cast(SupportService, request.app.state.support)


def _zone(request: Request) -> tzinfo:
    return cast(tzinfo, request.app.state.tz)


def _extra_health(request: Request) -> dict[str, Any]:
    """The bootstrap's additions to ``/api/health`` (values, or callables read each time)."""
    return cast(dict[str, Any], request.app.state.health)


#: the running :class:`GatewayService`
Service = Annotated[GatewayService, Depends(_service)]
#: the support desk and mailbox
Support = Annotated[SupportService, Depends(_support)]
#: the time zone instants are shown in
Zone = Annotated[tzinfo, Depends(_zone)]
#: what the bootstrap adds to ``/api/health``
ExtraHealth = Annotated[dict[str, Any], Depends(_extra_health)]


def iso(at: datetime, tz: tzinfo) -> str:
    """``at`` in ``tz``, ISO 8601 with its offset."""
    return at.astimezone(tz).isoformat()


def iso_or_none(at: datetime | None, tz: tzinfo) -> str | None:
    return None if at is None else at.astimezone(tz).isoformat()
