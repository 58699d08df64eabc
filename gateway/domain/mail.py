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
from email.headerregistry import Address, AddressHeader
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import format_datetime
from html.parser import HTMLParser
from typing import Literal

from gateway.errors import GatewayError, InvalidEmail

__all__ = [
    "DeliveryOutcome",
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


def to_mime(mail: OutgoingMail) -> bytes:
    """The RFC 5322 message for ``mail``: same mail, same bytes (CRLF line ends).

    Non-ASCII headers are RFC 2047-encoded by the policy; the body is
    ``text/plain; charset=utf-8`` in quoted-printable, so it passes 7-bit relays.
    """
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = Address(display_name=mail.sender_name, addr_spec=mail.sender)
    if mail.to:
        message["To"] = ", ".join(mail.to)
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

_PARSER = BytesParser(policy=policy.default)

#: defects that mean the structure cannot be trusted, and how to tell the sender
_FATAL_DEFECTS: tuple[tuple[type[email_errors.MessageDefect], str], ...] = (
    (email_errors.NoBoundaryInMultipartDefect, "multipart without a boundary parameter"),
    (email_errors.StartBoundaryNotFoundDefect, "multipart start boundary not found"),
    (email_errors.CloseBoundaryNotFoundDefect, "multipart closing boundary missing"),
    (email_errors.MultipartInvariantViolationDefect, "multipart content without parts"),
    (email_errors.MissingHeaderBodySeparatorDefect, "no blank line between header and body"),
    (email_errors.FirstHeaderLineIsContinuationDefect, "header starts with a continuation line"),
)
_MSG_ID = re.compile(r"<([^<>]*)>")


def _rejected(reason: str) -> MailRejected:
    return MailRejected(550, "5.6.0", reason)


def _quoted(value: str, limit: int = 80) -> str:
    """``value`` quoted for an SMTP reply line: ASCII, escapes for the rest, short."""
    return ascii(value if len(value) <= limit else value[:limit] + "...")


def _shown(value: str) -> str:
    """``value`` as is when it is short printable ASCII, else :func:`_quoted`."""
    return value if value.isascii() and value.isprintable() and len(value) <= 40 else _quoted(value)


def _redecode(value: str) -> str:
    """Undo the parser's surrogate escapes: raw 8-bit header bytes are read as UTF-8 (RFC 6532)."""
    raw = value.encode("utf-8", "surrogateescape")
    return raw.decode("utf-8", "replace")


def _header(message: Message, name: str) -> str | None:
    """The first ``name`` header, decoded (RFC 2047 by the policy, raw UTF-8 by us)."""
    try:
        value = message.get(name)
        return None if value is None else unicodedata.normalize("NFC", _redecode(str(value)))
    except Exception as exc:  # the header parser can fail on hostile input
        raise _rejected(f"invalid {name} header") from exc


def _parts(message: Message) -> Iterator[Message]:
    """Every part, containers included, without looking inside attached messages."""
    yield message
    if message.is_multipart() and message.get_content_maintype() != "message":
        for part in message.get_payload():
            if isinstance(part, Message):
                yield from _parts(part)


def _body_part(message: Message) -> tuple[Message | None, bool]:
    """The first inline ``text/plain`` leaf, else the first inline ``text/html`` one (html_only)."""
    html: Message | None = None
    for part in _parts(message):
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        if part.get_content_type() == "text/plain":
            return part, False
        if part.get_content_type() == "text/html" and html is None:
            html = part
    return html, html is not None


def _decode_body(part: Message) -> str:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    if any(isinstance(d, email_errors.InvalidBase64LengthDefect) for d in part.defects):
        raise _rejected("malformed MIME: base64 body cannot be decoded")
    declared = part.get_content_charset()
    if not declared or declared in ("us-ascii", "ascii"):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _rejected(f"body is not valid {declared or 'us-ascii'} (nor UTF-8)") from exc
    else:
        try:
            text = data.decode(declared)
        except LookupError as exc:
            raise _rejected(f"unknown charset {_quoted(declared)}") from exc
        except UnicodeDecodeError as exc:
            raise _rejected(f"body is not valid {_shown(declared)}") from exc
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def _message_ids(value: str) -> list[str]:
    """``<a@b> <c@d>`` -> ``["a@b", "c@d"]``; bare ids separated by spaces are accepted too."""
    bracketed = [found.strip() for found in _MSG_ID.findall(value)]
    ids = bracketed if bracketed else value.split()
    return [msg_id for msg_id in ids if msg_id]


def _sender(message: Message) -> str:
    try:
        headers = message.get_all("From") or []
    except Exception as exc:  # the header parser can fail on hostile input
        raise _rejected("invalid From header") from exc
    if not headers or not str(headers[0]).strip():
        raise _rejected("missing From header")
    if len(headers) > 1:
        raise _rejected("invalid From header: more than one")
    header = headers[0]
    shown = _quoted(str(header))
    addresses = header.addresses if isinstance(header, AddressHeader) else ()
    if len(addresses) != 1:
        raise _rejected(f"invalid From header {shown}: expected one address")
    address = addresses[0]
    candidate = f"{address.username}@{address.domain}" if address.username or address.domain else ""
    try:
        return normalize_address(_redecode(candidate))
    except InvalidEmail as exc:
        raise _rejected(f"invalid From header {shown}: {exc.reason}") from exc


def parse_inbound(raw: bytes) -> InboundMail:
    """Parse a mail received over SMTP, or refuse it with a :class:`MailRejected` (550 5.6.0).

    Refused: a missing, repeated or unparsable ``From``; a structure that cannot be
    trusted (no multipart boundary, start boundary not found, closing boundary
    missing, a multipart without parts, no blank line between header and body, a
    header starting with a continuation line, a base64 body part that cannot be
    decoded); a body part that is not valid in its declared charset, or an unknown
    charset. Tolerated, because the text still comes out right: stray characters or
    missing padding in base64, obsolete or slightly malformed headers other than
    ``From``, non-ASCII bytes in headers (read as UTF-8, RFC 6532), a misplaced
    envelope ``From `` line. Mail attached to the mail (``message/rfc822``) is
    neither checked nor searched for the body.

    The body is the first ``text/plain`` part that is not an attachment; without
    one, the first ``text/html`` part through :func:`html_to_text` (``html_only``).
    No charset, or ``us-ascii``, is read as UTF-8 (ASCII's superset, and what
    mislabelled mail almost always is). Text is NFC-normalised and stripped.
    """
    message = _PARSER.parsebytes(raw)
    for part in _parts(message):
        for defect in part.defects:
            for kind, problem in _FATAL_DEFECTS:
                if isinstance(defect, kind):
                    raise _rejected(f"malformed MIME: {problem}")
    sender = _sender(message)
    subject = (_header(message, "Subject") or "").strip()
    message_ids = _message_ids(_header(message, "Message-ID") or "")
    replies_to: list[str] = []
    for name in ("In-Reply-To", "References"):
        for msg_id in _message_ids(_header(message, name) or ""):
            if msg_id not in replies_to:
                replies_to.append(msg_id)
    body, html_only = _body_part(message)
    text = "" if body is None else _decode_body(body)
    if html_only:
        text = html_to_text(text)
    return InboundMail(
        message_id=message_ids[0] if message_ids else None,
        sender=sender,
        subject=subject,
        text=text.strip(),
        html_only=html_only,
        replies_to=tuple(replies_to),
    )


# -- text --------------------------------------------------------------------

_SKIPPED_TAGS = frozenset({"head", "noscript", "script", "style", "template", "title"})
#: blocks set off by a blank line
_PARAGRAPH_TAGS = frozenset(
    {"blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "ol", "p", "pre", "table", "ul"}
)
#: blocks that start on a line of their own
_LINE_TAGS = frozenset(
    {
        *("address", "article", "aside", "dd", "div", "dl", "dt", "fieldset", "figcaption"),
        *("figure", "footer", "form", "header", "li", "main", "nav", "section", "tr"),
    }
)
_CELL_TAGS = frozenset({"td", "th"})
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")


class _TextExtractor(HTMLParser):
    """Collects text; block boundaries become pending line breaks, written before the
    next text, so adjacent boundaries give one break, not one each."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._pending = 0
        self._skipping = 0
        self._pre = 0

    def _boundary(self, tag: str) -> None:
        if tag in _PARAGRAPH_TAGS:
            self._pending = max(self._pending, 2)
        elif tag in _LINE_TAGS:
            self._pending = max(self._pending, 1)
        elif tag in _CELL_TAGS:
            self.chunks.append(" ")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping += 1
        elif tag == "br":
            self.chunks.append("\n" * max(1, self._pending))
            self._pending = 0
        else:
            self._pre += tag == "pre"
            self._boundary(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping = max(0, self._skipping - 1)
        else:
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
            self._boundary(tag)

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        text = data if self._pre else _HTML_SPACE.sub(" ", data)
        if not text.strip() and self._pending:
            return
        if self._pending:
            self.chunks.append("\n" * self._pending)
            self._pending = 0
        self.chunks.append(text)


def html_to_text(html: str) -> str:
    """Readable text from HTML: no script/style/head; a line per ``<br>``, ``<div>``,
    ``<li>``, ``<tr>``...; a blank line around ``<p>``, headings, lists and tables.

    Entities are unescaped (``&nbsp;`` is a space); source line breaks count as
    spaces except in ``<pre>``; spaces are collapsed, lines stripped and runs of
    blank lines reduced to one.
    """
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines: list[str] = []
    for line in "".join(extractor.chunks).split("\n"):
        cleaned = " ".join(line.replace("\xa0", " ").split())
        if cleaned or (lines and lines[-1]):
            lines.append(cleaned)
    return "\n".join(lines).strip()


_REPLY_PREFIX = re.compile(r"^(?:\s*(?:re|fwd?|tr)\s*(?:\[\d+\])?\s*:)+", re.IGNORECASE)
_QUOTE_HEADERS = (
    re.compile(r"^On\s.*\swrote:$", re.IGNORECASE),
    re.compile(r"^Vào\s.*\sđã viết:$", re.IGNORECASE),
    re.compile(r"^-{2,}\s*Original Message\s*-{2,}$", re.IGNORECASE),
    re.compile(r"^_{10,}$"),
)


def command_text(mail: InboundMail) -> str | None:
    """The text to read as a command: the subject without ``Re:``/``Fwd:``/``TR:`` prefixes,
    or when that is empty the first non-empty line the sender wrote (see :func:`reply_text`);
    None when there is neither.
    """
    subject = _REPLY_PREFIX.sub("", mail.subject).strip()
    if subject:
        return subject
    for line in reply_text(mail.text).splitlines():
        if line.strip():
            return line.strip()
    return None


def _is_quote_header(line: str) -> bool:
    return any(pattern.match(line) for pattern in _QUOTE_HEADERS)


def reply_text(text: str) -> str:
    """What the sender of a reply wrote: quoted ``>`` lines dropped, and nothing from the
    quote header (``On ... wrote:``, ``Vào ... đã viết:``, ``-----Original Message-----``,
    Outlook's underscore rule, also when the header wraps onto a second line) or the
    signature separator ``--`` on.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped == "--" or _is_quote_header(stripped):
            break
        following = lines[index + 1].strip() if index + 1 < len(lines) else ""
        if following and _is_quote_header(f"{stripped} {following}"):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()
