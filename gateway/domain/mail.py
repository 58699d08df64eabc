"""Email as values: outbound mail the gateway records and sends, inbound mail it accepts.

Pure: building and parsing RFC 5322 messages with the standard library, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email import errors as email_errors
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import format_datetime
from html.parser import HTMLParser
from typing import Literal

from gateway.errors import GatewayError, InvalidEmail

__all__ = [
    "InboundMail",
    "MailKind",
    "MailRejected",
    "MailStatus",
    "OutgoingMail",
    "StoredMail",
    "command_text",
    "html_to_text",
    "normalize_address",
    "parse_inbound",
    "reply_text",
    "to_mime",
]

#: why the gateway sent a mail
MailKind = Literal[
    "registered",
    "renewed",
    "renewal_failed",
    "renewal_gave_up",
    "cancelled",
    "account_closed",
    "reply",
    "ticket",
]
#: ``queued`` until the sink or relay accepted it; ``failed`` when the relay refused it for good
MailStatus = Literal["queued", "sent", "failed"]


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """A mail the gateway sends: recorded in the same transaction as what caused it."""

    id: str
    sender: str
    sender_name: str
    to: tuple[str, ...]
    subject: str
    body: str
    at: datetime
    kind: MailKind
    msisdn: str | None = None
    ticket_id: int | None = None
    #: Message-ID (without angle brackets) of the mail this one answers
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()

    @property
    def message_id(self) -> str:
        """``<id>@<domain of the sender>``, without angle brackets."""
        return f"{self.id}@{self.sender.rpartition('@')[2]}"


@dataclass(frozen=True, slots=True)
class StoredMail:
    """A recorded mail and where its delivery stands."""

    mail: OutgoingMail
    status: MailStatus
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = None
    read: bool = False


@dataclass(frozen=True, slots=True)
class InboundMail:
    """A mail accepted by the SMTP server, parsed."""

    #: the Message-ID header without angle brackets, None when the mail has none
    message_id: str | None
    #: the From header's address, normalised (lower case)
    sender: str
    subject: str
    #: the plain-text body (from the HTML part when the mail has no text part)
    text: str
    html_only: bool
    #: Message-IDs named by In-Reply-To and References, without angle brackets
    replies_to: tuple[str, ...] = ()


class MailRejected(GatewayError):
    """An inbound mail refused, with the SMTP reply to give: ``550 5.6.0 <reason>``."""

    def __init__(self, code: int, enhanced: str, reason: str) -> None:
        self.code = code
        self.enhanced = enhanced
        self.reason = reason
        super().__init__(f"{code} {enhanced} {reason}")

    @property
    def smtp_reply(self) -> str:
        return f"{self.code} {self.enhanced} {self.reason}"
