"""Each API call as data (method, path, body, how to read the answer), shared by the
sync and the async client so the two cannot drift apart."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter

from gateway.client.errors import ApiError
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

__all__ = ["UNSET", "Call", "Unset"]

T = TypeVar("T")


class Unset(enum.Enum):
    """A field left out of a request (``None`` may mean "remove it")."""

    UNSET = "UNSET"


UNSET = Unset.UNSET


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One request, and how its answer becomes ``T``."""

    method: str
    path: str
    read: Callable[[httpx.Response], T]
    json: Any = None
    params: Mapping[str, str | int] = field(default_factory=dict)
    #: statuses that are an answer, not an error
    ok: tuple[int, ...] = (200,)

    def result(self, response: httpx.Response) -> T:
        if response.status_code not in self.ok:
            try:
                detail: Any = response.json().get("detail", response.text)
            except (ValueError, AttributeError):
                detail = response.text
            raise ApiError(
                method=self.method, path=self.path, status=response.status_code, detail=detail
            )
        return self.read(response)


def _model(adapter: TypeAdapter[T], key: str | None = None) -> Callable[[httpx.Response], T]:
    def read(response: httpx.Response) -> T:
        body = response.json()
        return adapter.validate_python(body if key is None else body[key])

    return read


def _path(msisdn: str) -> str:
    return quote(msisdn, safe="")


_SUBSCRIBER = TypeAdapter(Subscriber)
_CHARGES = TypeAdapter(list[Charge])
_LEDGER = TypeAdapter(list[LedgerEntry])
_MESSAGES = TypeAdapter(list[Message])
_MAILS = TypeAdapter(list[Mail])


def health() -> Call[dict[str, Any]]:
    return Call("GET", "/api/health", lambda r: dict(r.json()))


def ready() -> Call[Readiness]:
    return Call("GET", "/api/ready", _model(TypeAdapter(Readiness)), ok=(200, 503))


def sms(sender: str, text: str, *, to: str, id: str | None) -> Call[SmsResult]:
    body: dict[str, Any] = {"from": sender, "to": to, "text": text}
    if id is not None:
        body["id"] = id
    return Call("POST", "/api/sms", _model(TypeAdapter(SmsResult)), json=body)


def provision(
    msisdn: str,
    *,
    kind: str | None,
    balance: int | None,
    language: str | None,
    email: str | Unset | None,
) -> Call[Subscriber]:
    body: dict[str, Any] = {
        k: v
        for k, v in (("kind", kind), ("balance", balance), ("language", language))
        if v is not None
    }
    if email is not UNSET:
        body["email"] = email
    return Call(
        "PUT", f"/api/subscribers/{_path(msisdn)}", _model(_SUBSCRIBER), json=body, ok=(200, 201)
    )


def subscriber(msisdn: str) -> Call[Subscriber]:
    return Call("GET", f"/api/subscribers/{_path(msisdn)}", _model(_SUBSCRIBER))


def topup(msisdn: str, amount: int) -> Call[Subscriber]:
    return Call(
        "POST",
        f"/api/subscribers/{_path(msisdn)}/topup",
        _model(_SUBSCRIBER),
        json={"amount": amount},
    )


def charges(msisdn: str) -> Call[list[Charge]]:
    return Call("GET", f"/api/subscribers/{_path(msisdn)}/charges", _model(_CHARGES, "charges"))


def ledger(msisdn: str) -> Call[list[LedgerEntry]]:
    return Call("GET", f"/api/subscribers/{_path(msisdn)}/ledger", _model(_LEDGER, "entries"))


def invoice(msisdn: str, month: str) -> Call[Invoice]:
    return Call(
        "GET",
        f"/api/subscribers/{_path(msisdn)}/invoices/{quote(month, safe='')}",
        _model(TypeAdapter(Invoice)),
    )


def messages(msisdn: str, *, shortcode: str | None, limit: int) -> Call[list[Message]]:
    params: dict[str, str | int] = {"limit": limit}
    if shortcode is not None:
        params["shortcode"] = shortcode
    return Call(
        "GET",
        f"/api/subscribers/{_path(msisdn)}/messages",
        _model(_MESSAGES, "messages"),
        params=params,
    )


def clock() -> Call[ClockState]:
    return Call("GET", "/api/clock", _model(TypeAdapter(ClockState)))


def advance(*, seconds: float | None, to: datetime | None) -> Call[AdvanceResult]:
    if (seconds is None) == (to is None):
        raise ValueError("give exactly one of seconds or to")
    body: dict[str, Any] = {"seconds": seconds} if to is None else {"to": to.isoformat()}
    return Call("POST", "/api/clock/advance", _model(TypeAdapter(AdvanceResult)), json=body)


def duration(*, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0) -> float:
    """A duration in seconds, refusing a negative one (the clock only moves forward)."""
    total = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds).total_seconds()
    if total < 0:
        raise ValueError(f"the clock only moves forward: {total} seconds")
    return total


def usage(msisdn: str, app: str, size: int, *, id: str | None) -> Call[UsageResult]:
    body: dict[str, Any] = {"msisdn": msisdn, "app": app, "bytes": size}
    if id is not None:
        body["id"] = id
    return Call("POST", "/api/usage", _model(TypeAdapter(UsageResult)), json=body)


def mails(query: str | None, *, limit: int) -> Call[list[Mail]]:
    if query is None:
        return Call("GET", "/api/v1/messages", _model(_MAILS, "messages"), params={"limit": limit})
    return Call(
        "GET",
        "/api/v1/search",
        _model(_MAILS, "messages"),
        params={"query": query, "limit": limit},
    )
