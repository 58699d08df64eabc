"""The asyncio client: ``async with AsyncClient(url) as gw: await gw.sms(...)``."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from gateway.client import _calls
from gateway.client._calls import UNSET, Call, Unset
from gateway.client.errors import ApiError, GatewayUnreachable
from gateway.client.models import (
    AdvanceResult,
    Charge,
    ClockState,
    Invoice,
    LedgerEntry,
    Mail,
    Message,
    Readiness,
    SmsResult,
    Subscriber,
    UsageResult,
)

__all__ = ["AsyncClient"]

T = TypeVar("T")


class AsyncClient:
    """The gateway's HTTP API, typed. ``token``: the ``SCGW_API_TOKEN`` off loopback."""

    def __init__(self, base_url: str, *, token: str | None = None, timeout: float = 60) -> None:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=timeout)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def call(self, call: Call[T]) -> T:
        try:
            response = await self._http.request(
                call.method, call.path, json=call.json, params=dict(call.params)
            )
        except httpx.HTTPError as exc:
            raise GatewayUnreachable(self.base_url, str(exc) or type(exc).__name__) from exc
        return call.result(response)

    # -- health -------------------------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        return await self.call(_calls.health())

    async def ready(self) -> Readiness:
        return await self.call(_calls.ready())

    async def wait_ready(self, timeout: float = 30) -> Readiness:  # noqa: ASYNC109 - a deadline over many calls
        """Poll ``/api/ready`` until every component is ready (or raise ``TimeoutError``)."""
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            try:
                state = await self.ready()
            except (GatewayUnreachable, ApiError) as exc:
                last = exc
            else:
                if state.status == "ready":
                    return state
                last = state.failing
            await asyncio.sleep(0.02)
        raise TimeoutError(f"the gateway at {self.base_url} is not ready: {last}")

    # -- subscribers --------------------------------------------------------------------

    async def provision(
        self,
        msisdn: str,
        *,
        kind: str | None = None,
        balance: int | None = None,
        language: str | None = None,
        email: str | Unset | None = UNSET,
    ) -> Subscriber:
        """Create or update a subscriber (``PUT``): only the fields given change."""
        return await self.call(
            _calls.provision(msisdn, kind=kind, balance=balance, language=language, email=email)
        )

    async def subscriber(self, msisdn: str) -> Subscriber:
        return await self.call(_calls.subscriber(msisdn))

    async def topup(self, msisdn: str, amount: int) -> Subscriber:
        return await self.call(_calls.topup(msisdn, amount))

    async def charges(self, msisdn: str) -> list[Charge]:
        return await self.call(_calls.charges(msisdn))

    async def ledger(self, msisdn: str) -> list[LedgerEntry]:
        return await self.call(_calls.ledger(msisdn))

    async def invoice(self, msisdn: str, month: str) -> Invoice:
        return await self.call(_calls.invoice(msisdn, month))

    async def messages(
        self, msisdn: str, *, shortcode: str | None = None, limit: int = 200
    ) -> list[Message]:
        """The subscriber's MOs and MTs, oldest first."""
        return await self.call(_calls.messages(msisdn, shortcode=shortcode, limit=limit))

    # -- traffic ------------------------------------------------------------------------

    async def sms(
        self, sender: str, text: str, *, to: str = "888", id: str | None = None
    ) -> SmsResult:
        """Text a short code (``POST /api/sms``); answers after the commit, with the replies."""
        return await self.call(_calls.sms(sender, text, to=to, id=id))

    async def usage(
        self, msisdn: str, app: str, size: int, *, id: str | None = None
    ) -> UsageResult:
        return await self.call(_calls.usage(msisdn, app, size, id=id))

    async def mails(self, query: str | None = None, *, limit: int = 50) -> list[Mail]:
        """Mail the gateway sent, newest first; ``query`` as Mailpit's (``to:an@x.vn``)."""
        return await self.call(_calls.mails(query, limit=limit))

    # -- the clock ----------------------------------------------------------------------

    async def clock(self) -> ClockState:
        return await self.call(_calls.clock())

    async def advance(
        self,
        *,
        days: float = 0,
        hours: float = 0,
        minutes: float = 0,
        seconds: float = 0,
        to: datetime | None = None,
    ) -> AdvanceResult:
        """Move the virtual clock forward by a duration, or ``to`` an instant."""
        if to is not None:
            return await self.call(_calls.advance(seconds=None, to=to))
        span = _calls.duration(days=days, hours=hours, minutes=minutes, seconds=seconds)
        return await self.call(_calls.advance(seconds=span, to=None))
