"""What the client raises: the gateway refused a request, or could not be reached."""

from __future__ import annotations

from typing import Any

from gateway.errors import GatewayError

__all__ = ["ApiError", "ClientError", "GatewayUnreachable"]


class ClientError(GatewayError):
    """Root of the errors :mod:`gateway.client` raises."""


class GatewayUnreachable(ClientError):
    """No answer from the gateway (refused, timed out, reset)."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"cannot reach the gateway at {url}: {reason}")


class ApiError(ClientError):
    """The gateway answered with a 4xx or 5xx; ``detail`` is its reason."""

    def __init__(self, *, method: str, path: str, status: int, detail: Any) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.detail = detail
        super().__init__(f"{method} {path}: {status}: {_readable(detail)}")


def _readable(detail: Any) -> str:
    """FastAPI's list of validation errors as one line; any other detail as it is."""
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                where = ".".join(str(p) for p in item.get("loc", []))
                parts.append(f"{where}: {item.get('msg', item)}")
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return str(detail)
