"""Email as values: outbound mail the gateway records and sends, inbound mail it accepts.

Pure: building and parsing RFC 5322 messages with the standard library, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Literal

from gateway.domain.model import without_surrogates
from gateway.errors import GatewayError, InvalidEmail

__all__ = [
    "DeliveryOutcome",
    "InboundMail",
    "MailKind",
    "MailRejected",
    "MailStatus",
    "OutgoingMail",
    "StoredMail",
    "header_safe",
    "normalize_address",
    "text_safe",
    "to_mime",
]

#: why the gateway sent a mail
MailKind = Literal[
    "registered",
    "renewed",
    "renewal_failed",
    "renewal_gave_up",
    "cancelled",
    "price_notice",
    "account_closed",
    "reply",
    "ticket",
]
#: ``queued`` until the sink or relay accepted it; ``failed`` when the relay refused it for good
MailStatus = Literal["queued", "sent", "failed"]


def _unsafe_in_header(char: str) -> bool:
    """Control characters (CR, LF, NUL...), line and paragraph separators, surrogates."""
    return unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp")


def header_safe(value: str) -> str:
    """``value`` on one line, fit for a header: every control character (CR and LF among
    them), line or paragraph separator becomes a space, a lone surrogate U+FFFD.

    A header value with a line break would end the header and start another
    (``Subject: x\\r\\nBcc: ...``): that is never stored nor sent.
    """
    if value.isprintable():  # no controls, separators or surrogates
        return value
    return "".join(
        ("\ufffd" if unicodedata.category(c) == "Cs" else " ") if _unsafe_in_header(c) else c
        for c in value
    )


def text_safe(value: str) -> str:
    """``value`` with each lone surrogate replaced by U+FFFD (it cannot be stored as UTF-8)."""
    return without_surrogates(value)


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """A mail the gateway sends: recorded in the same transaction as what caused it.

    Header fields (subject, names, addresses, Message-IDs) are made one-line and
    printable on construction (:func:`header_safe`), the body storable
    (:func:`text_safe`): whatever went into a template, and whatever an older version
    stored, the mail can be stored, shown and sent.
    """

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

    def __post_init__(self) -> None:
        fix = object.__setattr__  # frozen: set once, here
        for name in ("sender", "sender_name", "subject"):
            fix(self, name, header_safe(getattr(self, name)))
        fix(self, "to", tuple(header_safe(to) for to in self.to))
        fix(self, "body", text_safe(self.body))
        if self.in_reply_to is not None:
            fix(self, "in_reply_to", header_safe(self.in_reply_to))
        fix(self, "references", tuple(header_safe(ref) for ref in self.references))

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


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryOutcome:
    """What became of one mail: taken (``ok``), refused for good (``permanent``), or to retry."""

    mail_id: str
    ok: bool
    permanent: bool
    #: why it failed; for a mail that went out, the recipients the relay refused (if any)
    error: str | None

    def __post_init__(self) -> None:
        if self.ok and self.permanent:
            raise ValueError(f"mail {self.mail_id}: an accepted mail cannot fail permanently")
        if not self.ok and not self.error:
            raise ValueError(f"mail {self.mail_id}: a failed delivery needs an error")


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


# -- addresses ---------------------------------------------------------------

_MAX_ADDRESS = 254
_MAX_LOCAL_PART = 64
_ANGLE_ADDR = re.compile(r"<([^<>]*)>\s*\Z")
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_LOCAL_SPECIALS = frozenset('<>()[],;:"\\')


def normalize_address(value: str) -> str:
    """``Name <A@Example.VN>`` or ``A@Example.VN`` -> ``a@example.vn``.

    Plausible rather than RFC-complete: exactly one ``@``; a local part of at most
    64 characters without spaces, control characters or specials (so no quoted
    local parts); a domain of dot-separated labels of ASCII letters, digits and
    inner hyphens (one label, like ``localhost``, is enough); 254 characters at
    most. Anything else raises :class:`InvalidEmail` with the reason.
    """
    text = value.strip()
    match = _ANGLE_ADDR.search(text)
    addr = match.group(1).strip() if match else text
    if not addr:
        raise InvalidEmail(value, "empty address")
    if len(addr) > _MAX_ADDRESS:
        raise InvalidEmail(value, f"longer than {_MAX_ADDRESS} characters")
    if addr.count("@") != 1:
        raise InvalidEmail(value, "expected exactly one '@'")
    local, _, domain = addr.partition("@")
    if not local:
        raise InvalidEmail(value, "nothing before '@'")
    if not domain:
        raise InvalidEmail(value, "no domain after '@'")
    if len(local) > _MAX_LOCAL_PART:
        raise InvalidEmail(value, f"local part longer than {_MAX_LOCAL_PART} characters")
    for char in local:
        if char.isspace() or char in _LOCAL_SPECIALS or unicodedata.category(char)[0] == "C":
            raise InvalidEmail(value, f"local part contains {char!a}")
    if not _DOMAIN.fullmatch(domain.lower()):
        raise InvalidEmail(
            value, f"domain {domain!a} is not dot-separated letters, digits and hyphens"
        )
    return addr.lower()


# -- outbound ----------------------------------------------------------------


def _plain(addresses: tuple[str, ...]) -> list[str]:
    plain = []
    for address in addresses:
        try:
            plain.append(normalize_address(address))
        except InvalidEmail:
            continue
    return plain


def to_mime(mail: OutgoingMail) -> bytes:
    """The RFC 5322 message for ``mail``: same mail, same bytes (CRLF line ends).

    Non-ASCII headers are RFC 2047-encoded by the policy; the body is
    ``text/plain; charset=utf-8`` in quoted-printable, so it passes 7-bit relays.
    """
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = Address(display_name=mail.sender_name, addr_spec=mail.sender)
    if mail.to:
        # only plain addresses: a value that is not one (a row no version of the gateway
        # writes) would make the header fail to render; the mailbox JSON still shows it
        message["To"] = ", ".join(_plain(mail.to)) or "undisclosed-recipients:;"
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(mail.at)
    message["Message-ID"] = f"<{mail.message_id}>"
    if mail.in_reply_to:
        message["In-Reply-To"] = f"<{mail.in_reply_to}>"
    if mail.references:
        message["References"] = " ".join(f"<{ref}>" for ref in mail.references)
    message.set_content(mail.body, charset="utf-8", cte="quoted-printable")
    return message.as_bytes()


# -- inbound -----------------------------------------------------------------
