"""Recorded mail as Mailpit's HTTP API (v1) JSON, and Mailpit's search syntax.

Pure shaping, no I/O: the HTTP adapter serves these dicts, the store filters with
:func:`matches`. Field names follow Mailpit's ``storage.MessageSummary``,
``storage.Message`` and ``apiv1.MessagesSummary`` exactly, so Mailpit clients and
test helpers work unchanged. Our mail has no Cc, Bcc, Reply-To, tags, HTML or
attachments; those fields are present and empty, as Mailpit shows them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any, Literal

from gateway.domain.mail import StoredMail, to_mime

__all__ = [
    "MailSearch",
    "SearchField",
    "SearchTerm",
    "list_json",
    "matches",
    "message_json",
    "parse_search",
    "rfc3339",
    "snippet",
    "summary_json",
]

#: Mailpit cuts its snippet here and appends ``...``
SNIPPET_LIMIT = 250


def rfc3339(at: datetime, tz: tzinfo) -> str:
    """``at`` in ``tz`` as Go's RFC3339Nano does it at millisecond precision.

    ``2025-03-01T09:30:00.25+07:00``; trailing zeros of the fraction dropped, ``Z``
    for UTC.
    """
    local = at.astimezone(tz)
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    millis = local.microsecond // 1000
    if millis:
        text += f".{millis:03d}".rstrip("0")
    offset = local.utcoffset() or timedelta(0)
    if not offset:
        return text + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


def _address(address: str, name: str = "") -> dict[str, str]:
    return {"Name": name, "Address": address}


def snippet(body: str) -> str:
    """The body on one line, whitespace collapsed, cut at 250 characters (+ ``...``)."""
    text = " ".join(body.replace("\ufeff", " ").split())
    return text if len(text) <= SNIPPET_LIMIT else text[:SNIPPET_LIMIT] + "..."


def _envelope(stored: StoredMail) -> dict[str, Any]:
    """The fields a summary and a full message share."""
    mail = stored.mail
    return {
        "ID": mail.id,
        "MessageID": mail.message_id,
        "Read": stored.read,
        "From": _address(mail.sender, mail.sender_name),
        "To": [_address(to) for to in mail.to],
        "Cc": [],
        "Bcc": [],
        "ReplyTo": [],
    }


def _extensions(stored: StoredMail) -> dict[str, Any]:
    mail = stored.mail
    return {
        "Status": stored.status,
        "Attempts": stored.attempts,
        "LastError": stored.last_error,
        "Kind": mail.kind,
        "MSISDN": mail.msisdn,
        "TicketID": mail.ticket_id,
    }


def summary_json(stored: StoredMail, *, tz: tzinfo) -> dict[str, Any]:
    """One entry of ``GET /api/v1/messages``: Mailpit's ``MessageSummary``.

    ``ID`` is our mail id, ``MessageID`` the Message-ID without brackets, ``Created``
    when the mail was recorded, ``Size`` the length of its RFC 5322 form,
    ``Attachments`` a count (always 0). Extensions, not in Mailpit: ``Status``
    (queued/sent/failed), ``Attempts``, ``LastError``, ``Kind``, ``MSISDN``,
    ``TicketID``.
    """
    mail = stored.mail
    return {
        **_envelope(stored),
        "Subject": mail.subject,
        "Created": rfc3339(mail.at, tz),
        "Tags": [],
        "Size": len(to_mime(mail)),
        "Attachments": 0,
        "Snippet": snippet(mail.body),
        **_extensions(stored),
    }


def message_json(stored: StoredMail, *, tz: tzinfo) -> dict[str, Any]:
    """``GET /api/v1/message/{ID}``: Mailpit's ``Message``.

    ``Date`` is the Date header (when the mail was recorded), ``Text`` the body,
    ``HTML`` empty, ``ReturnPath`` the sender, ``Inline``/``Attachments`` empty
    lists. Extensions, not in Mailpit: ``Read``, ``Status``, ``Attempts``,
    ``LastError``, ``Kind``, ``MSISDN``, ``TicketID``.
    """
    mail = stored.mail
    return {
        **_envelope(stored),
        "ReturnPath": mail.sender,
        "Subject": mail.subject,
        "ListUnsubscribe": {"Header": "", "Links": [], "Errors": "", "HeaderPost": ""},
        "Date": rfc3339(mail.at, tz),
        "Tags": [],
        "Text": mail.body,
        "HTML": "",
        "Size": len(to_mime(mail)),
        "Inline": [],
        "Attachments": [],
        **_extensions(stored),
    }


def list_json(
    items: Sequence[StoredMail],
    *,
    total: int,
    unread: int,
    start: int,
    tz: tzinfo,
    messages_count: int | None = None,
    messages_unread: int | None = None,
) -> dict[str, Any]:
    """``GET /api/v1/messages`` and ``/api/v1/search``: Mailpit's ``MessagesSummary``.

    ``total``/``unread`` count the whole mailbox; ``messages_count`` and
    ``messages_unread`` the mail matching the query (the mailbox's counts when not
    given, as for a plain listing); ``count`` is the length of this page
    (legacy in Mailpit, still sent).
    """
    return {
        "total": total,
        "unread": unread,
        "count": len(items),
        "messages_count": total if messages_count is None else messages_count,
        "messages_unread": unread if messages_unread is None else messages_unread,
        "start": start,
        "tags": [],
        "messages": [summary_json(stored, tz=tz) for stored in items],
    }


# -- search ------------------------------------------------------------------

#: ``text`` is a plain word or phrase, matched against the subject and the body
SearchField = Literal["to", "from", "subject", "message-id", "is", "text"]
_PREFIXES: tuple[SearchField, ...] = ("to", "from", "subject", "message-id")
_FLAGS = frozenset({"read", "unread"})
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class SearchTerm:
    """One condition: ``value`` (lower case) found in ``field``, or not when ``negated``."""

    field: SearchField
    value: str
    negated: bool = False


@dataclass(frozen=True, slots=True)
class MailSearch:
    """A parsed query: a mail matches when every term does (no terms: every mail)."""

    terms: tuple[SearchTerm, ...] = ()


def _tokens(query: str) -> list[tuple[str, bool]]:
    """Split on spaces outside double quotes, quotes removed; flag tokens that began quoted."""
    tokens: list[tuple[str, bool]] = []
    current: list[str] = []
    quoted = in_quotes = False
    for char in query:
        if char == '"':
            if not current or "".join(current) in ("-", "!"):
                quoted = True
            in_quotes = not in_quotes
        elif char.isspace() and not in_quotes:
            if current:
                tokens.append(("".join(current), quoted))
            current, quoted = [], False
        else:
            current.append(char)
    if current:
        tokens.append(("".join(current), quoted))
    return tokens


def _term(token: str, quoted: bool) -> SearchTerm | None:
    negated = len(token) > 1 and token[0] in "-!"
    word = token[1:] if negated else token
    lowered = _SPACE.sub(" ", word.lower())
    if not quoted:
        if lowered.startswith("is:") and lowered[3:] in _FLAGS:
            return SearchTerm("is", lowered[3:], negated)
        for prefix in _PREFIXES:
            if lowered.startswith(prefix + ":"):
                value = lowered[len(prefix) + 1 :].strip()
                if prefix == "message-id":
                    value = value.strip("<>")
                return SearchTerm(prefix, value, negated) if value else None
    lowered = lowered.strip()
    return SearchTerm("text", lowered, negated) if lowered else None


def parse_search(query: str) -> MailSearch:
    """Mailpit's search syntax, the common part of it.

    ``to:addr``, ``from:addr`` (address or name), ``subject:word`` or
    ``subject:"two words"``, ``message-id:id``, ``is:read``/``is:unread``; anything
    else, a word or a ``"quoted phrase"``, is looked for in the subject and the
    body. A leading ``-`` or ``!`` negates a term. Matching is by substring, case
    insensitive. Mailpit's other filters (``cc:``, ``tag:``, ``has:``, ``after:``...)
    are not understood and are searched for as text.
    """
    terms = (_term(token, quoted) for token, quoted in _tokens(query))
    return MailSearch(tuple(term for term in terms if term is not None))


def _contains(haystack: str, needle: str) -> bool:
    return needle in _SPACE.sub(" ", haystack.lower())


def _term_matches(term: SearchTerm, stored: StoredMail) -> bool:
    mail = stored.mail
    if term.field == "is":
        return stored.read if term.value == "read" else not stored.read
    if term.field == "to":
        return any(_contains(to, term.value) for to in mail.to)
    if term.field == "from":
        return _contains(mail.sender, term.value) or _contains(mail.sender_name, term.value)
    if term.field == "subject":
        return _contains(mail.subject, term.value)
    if term.field == "message-id":
        return _contains(mail.message_id, term.value)
    return _contains(mail.subject, term.value) or _contains(mail.body, term.value)


def matches(search: MailSearch, stored: StoredMail) -> bool:
    """Whether ``stored`` satisfies every term of ``search``."""
    return all(_term_matches(term, stored) != term.negated for term in search.terms)
