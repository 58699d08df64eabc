"""Response bodies of the email channel's HTTP API: support tickets, and the mailbox in
Mailpit's API v1 shape (``storage.MessageSummary``, ``storage.Message``,
``apiv1.MessagesSummary``; :mod:`gateway.adapters.mailpit` builds them).

Mailpit's field names are kept as they are (``ID``, ``MessageID``, ``From``...); our
extensions (``Status``, ``Attempts``, ``LastError``, ``Kind``, ``MSISDN``, ``TicketID``)
come last.
"""

from __future__ import annotations

from typing import Any

from gateway.adapters.http_schemas import Instant, Out

__all__ = [
    "MailAddress",
    "MailMessage",
    "MailSummary",
    "MailsPage",
    "TicketDetailOut",
    "TicketEventOut",
    "TicketOut",
    "TicketRefusal",
    "TicketResultOut",
    "TicketsOut",
    "Unsubscribe",
    "VerificationOut",
]

# -- tickets ----------------------------------------------------------------------------


class VerificationOut(Out):
    """Where an account closure's one-time code stands."""

    expires_at: Instant | None
    wrong_attempts: int
    codes_sent: int


class TicketOut(Out):
    id: int
    #: ``portal`` or ``email``
    source: str
    kind: str
    status: str
    requester: str | None
    msisdn: str | None
    product: str
    category: str
    title: str
    content: str
    created_at: Instant | None
    updated_at: Instant | None
    #: null unless a verification code was sent
    verification: VerificationOut | None
    resolution: str | None
    closed_at: Instant | None


class TicketsOut(Out):
    tickets: list[TicketOut]


class TicketEventOut(Out):
    at: Instant | None
    status: str
    note: str


class TicketResultOut(Out):
    ticket: TicketOut
    #: ``closed``, ``wrong_code`` or ``expired``
    outcome: str | None


class TicketRefusal(Out):
    """A 422: the reason, and for a wrong or expired code the ticket and the outcome
    (a malformed request has FastAPI's list of errors and neither)."""

    detail: str | list[dict[str, Any]]
    ticket: TicketOut | None = None
    outcome: str | None = None


# -- the mailbox (Mailpit) --------------------------------------------------------------


class MailAddress(Out):
    Name: str
    Address: str


class Unsubscribe(Out):
    Header: str
    Links: list[str]
    Errors: str
    HeaderPost: str


class MailSummary(Out):
    """One entry of a listing: Mailpit's ``MessageSummary``."""

    ID: str
    MessageID: str
    Read: bool
    From: MailAddress
    To: list[MailAddress]
    Cc: list[MailAddress]
    Bcc: list[MailAddress]
    ReplyTo: list[MailAddress]
    Subject: str
    #: RFC 3339 at millisecond precision, as Go writes it
    Created: str
    Tags: list[str]
    Size: int
    Attachments: int
    Snippet: str
    Status: str
    Attempts: int
    LastError: str | None
    Kind: str
    MSISDN: str | None
    TicketID: int | None


class MailMessage(Out):
    """One message: Mailpit's ``Message``."""

    ID: str
    MessageID: str
    Read: bool
    From: MailAddress
    To: list[MailAddress]
    Cc: list[MailAddress]
    Bcc: list[MailAddress]
    ReplyTo: list[MailAddress]
    ReturnPath: str
    Subject: str
    ListUnsubscribe: Unsubscribe
    Date: str
    Tags: list[str]
    Text: str
    HTML: str
    Size: int
    Inline: list[dict[str, Any]]
    Attachments: list[dict[str, Any]]
    Status: str
    Attempts: int
    LastError: str | None
    Kind: str
    MSISDN: str | None
    TicketID: int | None


class MailsPage(Out):
    """A listing or a search: Mailpit's ``MessagesSummary``."""

    total: int
    unread: int
    count: int
    messages_count: int
    messages_unread: int
    start: int
    tags: list[str]
    messages: list[MailSummary]


class TicketDetailOut(TicketOut):
    events: list[TicketEventOut]
    mails: list[MailSummary]
