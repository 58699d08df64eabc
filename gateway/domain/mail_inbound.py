"""Inbound mail, parsed: MIME, charsets, HTML-only bodies, the command or reply it carries.

Pure: the standard library's email parser and html.parser, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from email import errors as email_errors
from email import policy
from email.headerregistry import AddressHeader
from email.message import Message
from email.parser import BytesParser
from html.parser import HTMLParser

from gateway.domain.mail import InboundMail, MailRejected, normalize_address
from gateway.domain.model import unicode_problem
from gateway.errors import InvalidEmail

__all__ = ["command_text", "html_to_text", "parse_inbound", "reply_text"]


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


#: what an encoded word (``=?utf-8?q?=0D=0A?=``) can smuggle into a header value: a line
#: break would start a header of its own (``Bcc:``) in any mail that quotes the value
_HEADER_BREAKERS = re.compile(r"[\r\n\x00]")


def _header(message: Message, name: str) -> str | None:
    """The first ``name`` header, decoded (RFC 2047 by the policy, raw UTF-8 by us).

    A decoded value with CR, LF or NUL in it is refused (550 5.6.0), never stored.
    """
    try:
        value = message.get(name)
        decoded = None if value is None else unicodedata.normalize("NFC", _redecode(str(value)))
    except Exception as exc:  # the header parser can fail on hostile input
        raise _rejected(f"invalid {name} header") from exc
    if decoded is not None:
        found = _HEADER_BREAKERS.search(decoded)
        if found is not None:
            what = "a NUL" if found.group() == "\x00" else "a line break (CR/LF)"
            raise _rejected(f"invalid {name} header: it decodes to text with {what} in it")
    return decoded


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
    if unicode_problem(text) is not None:  # UTF-7 and a few others can decode to a lone surrogate
        raise _rejected(f"body is not valid {_shown(declared or 'us-ascii')}: a lone surrogate")
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
    charset; a header (Subject, Message-ID, In-Reply-To, References) that decodes to
    text with CR, LF or NUL in it (an encoded word smuggling a header of its own).
    Tolerated, because the text still comes out right: stray characters or missing
    padding in base64, obsolete or slightly malformed headers other than ``From``,
    non-ASCII bytes in headers (read as UTF-8, RFC 6532), a misplaced envelope
    ``From `` line. Mail attached to the mail (``message/rfc822``) is neither checked
    nor searched for the body.

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
