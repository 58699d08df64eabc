"""Response bodies of the HTTP API (pydantic): subscribers, SMS, the clock, operations,
the console and its reports.

These models are the OpenAPI's schemas and the shape on the wire: field order is the
JSON's key order, a field typed ``... | None`` is always present (``null`` when empty).
Instants are strings in the display time zone, ``datetime.isoformat()`` as the API has
always sent them. Tickets and the mailbox are in :mod:`gateway.adapters.http_schemas_mail`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ActiveOut",
    "ActiveRow",
    "AdvanceOut",
    "CatalogsOut",
    "ChargeOut",
    "ChargesOut",
    "ClockOut",
    "ComponentOut",
    "ErrorOut",
    "HealthClock",
    "HealthOut",
    "HealthOutbox",
    "Instant",
    "InvoiceLineOut",
    "InvoiceOut",
    "InvoiceSummary",
    "InvoicesOut",
    "LedgerEntryOut",
    "LedgerOut",
    "MessageOut",
    "MessagesOut",
    "Out",
    "ReadyOut",
    "RenewalRow",
    "RenewalsOut",
    "ReplyOut",
    "RevenueOut",
    "RevenueRow",
    "SearchOut",
    "SmsOut",
    "StatsOut",
    "SubscriberOut",
    "SubscriberSummary",
    "SubscriptionOut",
    "TimelineEntry",
    "TimelineOut",
    "UsageListOut",
    "UsageOut",
    "UsageRecordOut",
    "errors",
]

#: an instant in the display time zone: ``2025-03-01T09:30:00+07:00``
Instant = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class Out(BaseModel):
    """A response body: built by the handler, sent as is."""

    model_config = ConfigDict(frozen=True)


class ErrorOut(Out):
    """A refusal: the reason in a sentence, or for a malformed request FastAPI's list of
    what is wrong (``loc``, ``msg``, ``type``...)."""

    detail: str | list[dict[str, Any]]


_REASONS = {
    400: "refused: the reason is in detail",
    404: "no such subscriber, short code or ticket",
    409: "a conflict with what is stored (a closed account, an address in use, ...)",
    422: "invalid input: the reason is in detail",
    429: "too many MOs from this sender (Retry-After)",
    503: "storage cannot take writes now: nothing was changed (Retry-After)",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entries for these error statuses, each an :class:`ErrorOut`."""
    return {code: {"model": ErrorOut, "description": _REASONS[code]} for code in codes}


# -- subscribers ----------------------------------------------------------------------


class SubscriptionOut(Out):
    id: str
    package: str
    status: str
    started_at: Instant | None
    expires_at: Instant | None
    auto_renew: bool
    #: the renewal instant of an active plan
    next_renewal_at: Instant | None
    #: the next retry of a renewal that failed
    next_retry_at: Instant | None
    cancelled_at: Instant | None
    usage_bytes: int
    #: when a trial converts, a pending cancellation ends or a pause resumes
    next_action_at: Instant | None
    #: the list price held for the term (null: the plan's price)
    price: int | None
    first_paid_at: Instant | None
    last_paid_at: Instant | None
    periods_paid: int
    used_since_last_payment: int
    next_package: str | None


class SubscriberOut(Out):
    msisdn: str
    kind: str
    balance: int
    language: str | None
    email: str | None
    status: str
    closed_at: Instant | None
    created_at: Instant | None
    subscriptions: list[SubscriptionOut]


class ChargeOut(Out):
    id: str
    package: str
    reason: str
    rule: str
    #: negative for a correction (a postpaid cancellation before the 16th)
    amount: int
    billing: str
    invoice_month: str | None
    at: Instant | None
    subscription_id: str | None
    message_id: str | None
    #: the inputs of the rule that set the amount
    inputs: dict[str, Any]


class ChargesOut(Out):
    charges: list[ChargeOut]


class LedgerEntryOut(Out):
    delta: int
    balance_after: int
    reason: str
    charge_id: str | None
    at: Instant | None


class LedgerOut(Out):
    entries: list[LedgerEntryOut]


class InvoiceLineOut(Out):
    charge_id: str
    package: str
    description: str
    amount: int
    at: Instant | None


class InvoiceOut(Out):
    month: str
    lines: list[InvoiceLineOut]
    total: int


class InvoiceSummary(Out):
    month: str
    total: int
    #: how many lines the month's invoice has
    lines: int


class InvoicesOut(Out):
    invoices: list[InvoiceSummary]


class UsageRecordOut(Out):
    app: str
    bytes: int
    at: Instant | None
    #: the subscription whose plan covered it (null: charged out of bundle)
    zero_rated_by: str | None
    charge_id: str | None
    #: the reporter's id
    id: str | None


class UsageListOut(Out):
    usage: list[UsageRecordOut]


class SubscriberSummary(Out):
    msisdn: str
    kind: str
    balance: int
    status: str
    email: str | None


class SearchOut(Out):
    subscribers: list[SubscriberSummary]


# -- SMS and usage ----------------------------------------------------------------------


class ReplyOut(Out):
    id: str
    text: str
    encoding: str
    segments: int
    at: Instant | None


class SmsOut(Out):
    id: str
    duplicate: bool
    replies: list[ReplyOut]


class UsageOut(Out):
    zero_rated: bool
    package: str | None
    charged: int
    duplicate: bool


# -- the clock ------------------------------------------------------------------------


class ClockOut(Out):
    now: Instant | None
    mode: str


class AdvanceOut(Out):
    now: Instant | None
    mode: str
    #: due events run on the way
    processed: int


# -- operations -----------------------------------------------------------------------


class HealthClock(Out):
    mode: str
    now: Instant | None


class HealthOutbox(Out):
    #: MTs committed but not yet acknowledged by the broker
    pending: int


class HealthOut(Out):
    """Liveness; the bootstrap adds more keys (``mqtt``, ``smtp``, ...)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    status: str
    clock: HealthClock
    outbox: HealthOutbox


class ComponentOut(Out):
    ready: bool
    #: why it is failing (absent when there is nothing to say)
    detail: str | None = None


class ReadyOut(Out):
    #: ``ready`` or ``not_ready``
    status: str
    failing: list[str]
    components: dict[str, ComponentOut]


# -- the console ----------------------------------------------------------------------


class StatsOut(Out):
    mo: int
    mt: int
    charges: int
    renewals: int
    renewals_failed: int
    errors: int
    mail: int
    started_at: Instant


class MessageOut(Out):
    direction: str
    id: str
    shortcode: str
    text: str
    encoding: str | None
    segments: int | None
    in_reply_to: str | None
    at: Instant


class MessagesOut(Out):
    messages: list[MessageOut]


class TimelineEntry(Out):
    """An MO or MT (its fields, those without a value left out), a charge, or a live
    event (its fields): ``kind`` says which."""

    model_config = ConfigDict(frozen=True, extra="allow")

    kind: str


class TimelineOut(Out):
    events: list[TimelineEntry]


class CatalogsOut(Out):
    #: each catalog's plans and terms, as in its TOML file (texts left out)
    catalogs: list[dict[str, Any]]


# -- reports --------------------------------------------------------------------------


class RevenueRow(Out):
    #: the plan, or the local day
    key: str
    amount: int
    count: int


class RevenueOut(Out):
    by: str
    rows: list[RevenueRow]


class ActiveRow(Out):
    day: str
    active: int


class ActiveOut(Out):
    rows: list[ActiveRow]


class RenewalRow(Out):
    day: str
    succeeded: int
    failed: int


class RenewalsOut(Out):
    rows: list[RenewalRow]
