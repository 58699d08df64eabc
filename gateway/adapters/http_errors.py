"""How the HTTP API answers an error: the gateway's errors as 4xx with their reason,
FastAPI's 422, storage refusing writes (503) and a flood (429)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.responses import Response

from gateway.adapters.http_models import printable_json
from gateway.errors import (
    AccountClosed,
    ClockError,
    EmailInUse,
    GatewayError,
    InvalidEmail,
    InvalidMessage,
    InvalidMsisdn,
    RateLimited,
    StorageUnavailable,
    TicketError,
    UnknownShortcode,
    UnknownSubscriber,
    UnknownTicket,
)

__all__ = ["EXCEPTION_HANDLERS", "RETRY_AFTER", "unavailable"]

#: seconds a client is asked to wait before trying again (503)
RETRY_AFTER = 5

Handler = Callable[[Request, Any], Coroutine[Any, Any, Response]]


async def gateway_error(_: Request, exc: Exception) -> Response:
    """404 for what does not exist, 409 for a conflict, 422 for a malformed value, else 400."""
    status = 400
    if isinstance(exc, UnknownSubscriber | UnknownShortcode | UnknownTicket):
        status = 404
    elif isinstance(exc, ClockError | AccountClosed | EmailInUse | TicketError):
        status = 409
    elif isinstance(exc, InvalidMsisdn | InvalidMessage | InvalidEmail):
        status = 422
    return JSONResponse({"detail": str(exc)}, status_code=status)


async def invalid_request(_: Request, exc: Exception) -> Response:
    """FastAPI's 422, rendered even when the refused input cannot be (a lone surrogate)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse({"detail": printable_json(jsonable_encoder(errors))}, status_code=422)


def unavailable(reason: str) -> JSONResponse:
    """The 503 of a write refused while storage cannot take it."""
    return JSONResponse(
        {"detail": f"storage unavailable, nothing was changed: {reason}"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER)},
    )


async def storage_unavailable(_: Request, exc: Exception) -> Response:
    reason = exc.reason if isinstance(exc, StorageUnavailable) else str(exc)
    return unavailable(reason)


async def rate_limited(_: Request, exc: Exception) -> Response:
    return JSONResponse({"detail": str(exc)}, status_code=429, headers={"Retry-After": "1"})


#: exception class -> handler, for ``FastAPI(exception_handlers=...)``
EXCEPTION_HANDLERS: dict[int | type[Exception], Handler] = {
    GatewayError: gateway_error,
    RequestValidationError: invalid_request,
    StorageUnavailable: storage_unavailable,
    RateLimited: rate_limited,
}
