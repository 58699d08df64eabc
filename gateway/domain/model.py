"""Entities and values of the gateway: subscribers, subscriptions, charges, messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from carrier_rules import Language, SubscriberKind
from gateway.domain.encoding import Encoding
from gateway.domain.subscription import OPEN_STATUSES, Subscription, SubscriptionStatus
from gateway.errors import InvalidMessage

__all__ = [
    "MAX_AMOUNT",
    "MAX_USAGE_BYTES",
    "OPEN_STATUSES",
    "AccountStatus",
    "ChargeReason",
    "ChargeRecord",
    "Conversation",
    "EmailOrigin",
    "InboundSms",
    "InvoiceLine",
    "LedgerEntry",
    "LedgerReason",
    "MessageRecord",
    "Outgoing",
    "Subscriber",
    "Subscription",
    "SubscriptionStatus",
    "Ticket",
    "TicketEvent",
    "UsageEvent",
    "UsageRecord",
    "unicode_problem",
    "without_surrogates",
]

ChargeReason = Literal["registration", "renewal", "cancellation", "refund", "fee", "usage", "mt"]
LedgerReason = Literal["provision", "adjustment", "topup", "charge", "refund"]
AccountStatus = Literal["active", "closed"]
TicketStatus = Literal["open", "verifying", "closed"]
TicketKind = Literal["account_closure", "general"]
TicketSource = Literal["email", "portal"]
ConversationKind = Literal["opt_in", "retention", "refund"]

#: the most money (đồng) a balance is set to or a top-up adds at once: a trillion
MAX_AMOUNT = 1_000_000_000_000
#: the most data one usage report may carry: 10 TB (sums stay far inside int64)
MAX_USAGE_BYTES = 10**13


def unicode_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored as UTF-8 (a lone surrogate, which JSON's ``\\ud800``
    can carry), or None when it can."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"not valid Unicode: lone surrogate {text[exc.start]!a} at character {exc.start}"
    return None


def without_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD, so it can be stored and sent."""
    if unicode_problem(text) is None:
        return text
    return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)


def _require_unicode(**fields: str | None) -> None:
    for name, value in fields.items():
        problem = None if value is None else unicode_problem(value)
        if problem is not None:
            raise InvalidMessage(f'"{name}" is {problem}')


@dataclass(slots=True)
class Subscriber:
    msisdn: str
    kind: SubscriberKind
    balance: int
    language: Language | None
    created_at: datetime
    #: confirmation emails go here; mail from it to ``<shortcode>@<domain>`` is a command
    email: str | None = None
    #: ``closed`` once a support ticket closed the account (its data is kept)
    status: AccountStatus = "active"
    closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ChargeRecord:
    """A recorded charge: on the prepaid balance or on a postpaid invoice.

    ``amount`` is negative for a correction (a postpaid cancellation before the 16th).
    """

    id: str
    msisdn: str
    #: None for data charged outside any pack
    subscription_id: str | None
    package: str
    reason: ChargeReason
    rule: str
    amount: int
    billing: Literal["balance", "invoice"]
    invoice_month: str | None
    at: datetime
    message_id: str | None
    #: the inputs of the rule, so "why was I charged 7,500 đ?" has an answer
    inputs: Mapping[str, object] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    charge_id: str
    msisdn: str
    month: str
    package: str
    description: str
    amount: int
    at: datetime


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One change of a prepaid main balance; a ``charge`` entry names its charge."""

    msisdn: str
    delta: int
    balance_after: int
    reason: LedgerReason
    at: datetime
    charge_id: str | None = None


@dataclass(frozen=True, slots=True)
class EmailOrigin:
    """Where an MO that arrived by email came from: its replies are also mailed back."""

    address: str
    subject: str
    message_id: str | None


@dataclass(frozen=True, slots=True)
class InboundSms:
    """A mobile-originated SMS (MO) after validation: canonical MSISDN, known id."""

    id: str
    msisdn: str
    shortcode: str
    text: str
    #: whether the sender gave the id (only those are de-duplicated)
    client_id: bool = True
    #: set when the command came by email to ``<shortcode>@<domain>``
    email: EmailOrigin | None = None

    def __post_init__(self) -> None:
        """Text that cannot be stored is refused here, whatever the transport."""
        _require_unicode(id=self.id, text=self.text, shortcode=self.shortcode)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A mobile-terminated SMS (MT) to publish on ``sms/mt/<msisdn>``."""

    id: str
    shortcode: str
    msisdn: str
    text: str
    in_reply_to: str | None
    encoding: Encoding
    segments: int
    at: datetime


@dataclass(slots=True)
class Ticket:
    """A support request (seed 003): by email to ``support@<domain>`` or from the portal.

    An ``account_closure`` ticket is verified with a one-time code sent by SMS to the
    account's MSISDN (only its hash is kept); the account is closed when it matches.
    """

    id: int
    source: TicketSource
    kind: TicketKind
    status: TicketStatus
    requester: str | None
    msisdn: str | None
    product: str
    category: str
    title: str
    content: str
    created_at: datetime
    updated_at: datetime
    otp_hash: str | None = None
    otp_expires_at: datetime | None = None
    otp_attempts: int = 0
    #: verification codes sent for this ticket (capped by the policy)
    codes_sent: int = 0
    resolution: str | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TicketEvent:
    """One line of a ticket's history: a status change or a message in its thread."""

    ticket_id: int
    at: datetime
    status: TicketStatus
    note: str


@dataclass(slots=True)
class Conversation:
    """A question the gateway asked and waits an answer for (one per sender and short code).

    ``kind``: ``opt_in`` (a paid registration waits for ``Y``), ``retention`` (offers
    numbered 1..n, the last one "cancel"), ``refund`` (a refund to confirm with ``Y``).
    """

    msisdn: str
    shortcode: str
    kind: ConversationKind
    package: str
    started_at: datetime
    expires_at: datetime
    data: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """Data used by a subscriber in an app: zero-rated by a pack, or charged."""

    msisdn: str
    app: str
    bytes: int
    at: datetime
    subscription_id: str | None
    charge_id: str | None
    event_id: str | None = None


@dataclass(frozen=True, slots=True)
class UsageEvent:
    """Data a subscriber used in an app, as reported on ``usage/<msisdn>`` or the API."""

    msisdn: str
    app: str
    bytes: int
    #: the reporter's id: a resend with the same id is counted once
    id: str | None = None

    def __post_init__(self) -> None:
        """Data counts are bounded and text is storable, whatever the transport."""
        _require_unicode(app=self.app, id=self.id)
        if isinstance(self.bytes, bool) or not 0 < self.bytes <= MAX_USAGE_BYTES:
            raise InvalidMessage(f'"bytes" must be from 1 to {MAX_USAGE_BYTES}')


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """One SMS of a subscriber's conversation with a short code, either way."""

    direction: Literal["mo", "mt"]
    id: str
    shortcode: str
    text: str
    at: datetime
    encoding: str | None = None
    segments: int | None = None
    in_reply_to: str | None = None
