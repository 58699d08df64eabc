"""The HTTP API's response bodies as frozen pydantic models (``docs/http-api.md``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AdvanceResult",
    "Charge",
    "ClockState",
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
    "UsageResult",
]


class _Model(BaseModel):
    # a newer gateway may add fields: an older client keeps working
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class Reply(_Model):
    """One MT the gateway answered an MO with."""

    id: str
    text: str
    encoding: str
    segments: int
    at: datetime


class SmsResult(_Model):
    """``POST /api/sms``: the MO's id, whether it was a resend, and its replies."""

    id: str
    duplicate: bool
    replies: list[Reply]


class Subscription(_Model):
    id: str
    package: str
    status: str
    started_at: datetime
    expires_at: datetime | None = None
    auto_renew: bool = False
    next_renewal_at: datetime | None = None
    next_retry_at: datetime | None = None
    cancelled_at: datetime | None = None
    usage_bytes: int = 0
    next_action_at: datetime | None = None
    price: int | None = None
    first_paid_at: datetime | None = None
    last_paid_at: datetime | None = None
    periods_paid: int | None = None
    used_since_last_payment: bool | None = None
    next_package: str | None = None


class Subscriber(_Model):
    msisdn: str
    kind: Literal["prepaid", "postpaid"]
    balance: int
    language: str | None = None
    email: str | None = None
    status: str = "active"
    closed_at: datetime | None = None
    created_at: datetime
    subscriptions: list[Subscription] = Field(default_factory=list)

    def subscription(self, package: str) -> Subscription | None:
        """The latest registration of ``package`` (case-insensitive), or None."""
        wanted = package.upper()
        found = [s for s in self.subscriptions if s.package.upper() == wanted]
        return found[-1] if found else None


class Charge(_Model):
    """A charge, refund or fee, with the rule that produced it and its inputs."""

    id: str
    package: str | None = None
    reason: str
    rule: str
    amount: int
    billing: Literal["balance", "invoice"]
    invoice_month: str | None = None
    at: datetime
    subscription_id: str | None = None
    message_id: str | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)


class InvoiceLine(_Model):
    charge_id: str
    package: str | None = None
    description: str
    amount: int
    at: datetime


class Invoice(_Model):
    month: str
    lines: list[InvoiceLine]
    total: int


class LedgerEntry(_Model):
    delta: int
    balance_after: int
    reason: str
    charge_id: str | None = None
    at: datetime


class Message(_Model):
    """One SMS of a subscriber's conversation, either way (``mo`` in, ``mt`` out)."""

    direction: Literal["mo", "mt"]
    id: str
    shortcode: str
    text: str
    encoding: str | None = None
    segments: int | None = None
    in_reply_to: str | None = None
    at: datetime


class ClockState(_Model):
    now: datetime
    mode: Literal["real", "virtual"]


class AdvanceResult(ClockState):
    """Where the clock is after an advance, and how many renewals ran on the way."""

    processed: int


class UsageResult(_Model):
    zero_rated: bool
    package: str | None = None
    charged: int
    duplicate: bool


class Readiness(_Model):
    status: Literal["ready", "not_ready"]
    failing: list[str]
    components: dict[str, dict[str, Any]]


class MailAddress(_Model):
    name: str = Field(default="", alias="Name")
    address: str = Field(alias="Address")


class Mail(_Model):
    """A mail the gateway sent (or took in), as the Mailpit-compatible API summarises it."""

    id: str = Field(alias="ID")
    sender: MailAddress = Field(alias="From")
    to: list[MailAddress] = Field(alias="To")
    subject: str = Field(alias="Subject")
    created: datetime = Field(alias="Created")
    snippet: str = Field(default="", alias="Snippet")
    status: str | None = Field(default=None, alias="Status")
    kind: str | None = Field(default=None, alias="Kind")
    msisdn: str | None = Field(default=None, alias="MSISDN")
