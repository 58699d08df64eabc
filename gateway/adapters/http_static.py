"""The console's page and assets (shipped in the package), and the API token."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["CONSOLE", "mount_console", "require_token"]

#: the console's files: HTML, CSS and JavaScript, no build step
CONSOLE = Path(str(resources.files("gateway") / "console"))
_COOKIE = "scgw_token"


def mount_console(app: FastAPI) -> None:
    """``/`` is the console page; ``/console/...`` its assets."""
    app.mount("/console", StaticFiles(directory=CONSOLE), name="console")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(CONSOLE / "index.html", headers={"Cache-Control": "no-cache"})


def require_token(app: FastAPI, token: str) -> None:
    """Every request but ``/api/health`` carries the token: ``Authorization: Bearer``,
    ``?token=``, or the cookie the console page sets when it was opened with ``?token=``."""
    expected = token.encode()

    def given(request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            return header[7:].strip()
        return request.query_params.get("token") or request.cookies.get(_COOKIE)

    @app.middleware("http")
    async def check(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.url.path in ("/api/health", "/api/ready"):  # probes: no secrets in them
            return await call_next(request)
        value = given(request)
        if value is None or not hmac.compare_digest(value.encode(), expected):
            return JSONResponse(
                {"detail": "a token is required: Authorization: Bearer <SCGW_API_TOKEN>"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        response = await call_next(request)
        if request.query_params.get("token"):
            response.set_cookie(_COOKIE, value, httponly=True, samesite="strict")
        return response
