"""A typed Python client of the gateway's HTTP API, blocking (:class:`Client`) and
asyncio (:class:`AsyncClient`); the answers are the pydantic models of
:mod:`gateway.client.models`."""

from __future__ import annotations

from gateway.client._async import AsyncClient
from gateway.client._calls import UNSET, Call, Unset
from gateway.client._sync import Client
from gateway.client.errors import ApiError, ClientError, GatewayUnreachable
from gateway.client.models import (
    AdvanceResult,
    Charge,
    ClockState,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Mail,
    MailAddress,
    Message,
    Readiness,
    Reply,
    SmsResult,
    Subscriber,
    Subscription,
    UsageResult,
)

__all__ = [
    "UNSET",
    "AdvanceResult",
    "ApiError",
    "AsyncClient",
    "Call",
    "Charge",
    "Client",
    "ClientError",
    "ClockState",
    "GatewayUnreachable",
    "Invoice",
    "InvoiceLine",
    "LedgerEntry",
    "Mail",
    "MailAddress",
    "Message",
    "Readiness",
    "Reply",
    "SmsResult",
    "Subscriber",
    "Subscription",
    "Unset",
    "UsageResult",
]
