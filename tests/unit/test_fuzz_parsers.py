"""Property-based fuzzing (hypothesis) of everything that parses what strangers send.

The command grammar, MQTT MO and usage payloads, inbound mail, and the MIME the
gateway writes: whatever the input, a parser either returns a valid value or raises
its own error (``GatewayError``, ``MailRejected`` with an SMTP reply) — never another
exception, never a value that cannot be stored (a lone surrogate, a number past the
bounds) or that breaks a header (CR/LF). ``SCGW_FUZZ_EXAMPLES`` sets the examples per
property (default 300, bounded so the suite stays quick).
"""

from __future__ import annotations

import json
import os
import quopri
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any, get_args

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carrier_rules import Catalog
from carrier_rules.catalog import parse_catalog
from gateway.adapters.mqtt_codec import MAX_TEXT, parse_mo, parse_usage
from gateway.domain.grammar import Action, Command, parse_command
from gateway.domain.mail import MailRejected, OutgoingMail, to_mime
from gateway.domain.mail_inbound import command_text, parse_inbound
from gateway.domain.model import MAX_USAGE_BYTES
from gateway.errors import GatewayError

EXAMPLES = int(os.environ.get("SCGW_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CATALOG: Catalog = parse_catalog(
    (files("carrier_rules") / "catalogs" / "zalo.toml").read_text(encoding="utf-8"),
    source="zalo.toml",
)
SHORTCODES = frozenset({"888"})
#: text as hostile senders make it: any code point, lone surrogates included
HOSTILE_TEXT = st.text(alphabet=st.characters(codec=None), max_size=80)
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | HOSTILE_TEXT
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(HOSTILE_TEXT, inner, max_size=3),
    max_leaves=8,
)


def _storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# -- the command grammar ----------------------------------------------------------------


@FUZZ
@given(HOSTILE_TEXT)
def test_any_text_is_a_command_or_help(text: str) -> None:
    """Any text parses to one of the grammar's actions; a target is a pack code of the
    catalog, a status group, an answer, or nothing."""
    command = parse_command(text, CATALOG)
    assert command.action in get_args(Action)
    if command.action in ("subscribe", "cancel", "reactivate", "check"):
        assert CATALOG.package(command.target or "") is not None
    elif command.action in ("list", "help"):
        assert command.target is None


@FUZZ
@given(
    keyword=st.sampled_from(CATALOG.keywords.subscribe),
    code=st.sampled_from([p.code for p in CATALOG.packages]),
    spaces=st.tuples(*[st.sampled_from([" ", "  ", "\t", "\n", "\u00a0"])] * 3),
    lower=st.booleans(),
)
def test_a_subscribe_command_survives_case_and_spacing(
    keyword: str, code: str, spaces: tuple[str, str, str], lower: bool
) -> None:
    """``<keyword> <code>`` with any case and any whitespace around and between is a
    subscription to that code."""
    text = f"{spaces[0]}{keyword}{spaces[1]}{code}{spaces[2]}"
    assert parse_command(text.lower() if lower else text, CATALOG) == Command("subscribe", code)


# -- MQTT payloads ----------------------------------------------------------------------


def _check_mo(topic: str, payload: bytes) -> None:
    try:
        sms = parse_mo(topic, payload, SHORTCODES)
    except GatewayError:
        return
    assert _storable(sms.text)
    assert _storable(sms.id)
    assert len(sms.text) <= MAX_TEXT
    assert 1 <= len(sms.id) <= 128
    assert sms.msisdn.startswith("84")
    assert sms.msisdn.isdigit()


@FUZZ
@given(payload=st.binary(max_size=300), suffix=st.sampled_from(["", "/0912345678", "/x/y"]))
def test_any_mo_bytes_are_an_mo_or_a_gateway_error(payload: bytes, suffix: str) -> None:
    """Raw bytes on ``sms/mo/888`` (JSON) or ``sms/mo/888/<msisdn>`` (text): an MO with
    storable text, or a ``GatewayError`` (which the transport reports on sms/errors)."""
    _check_mo(f"sms/mo/888{suffix}", payload)


@FUZZ
@given(
    sender=st.sampled_from(["0912345678", "+84912345678", "12"]) | HOSTILE_TEXT,
    text=HOSTILE_TEXT | st.text(min_size=1590, max_size=1610) | JSON_VALUES,
    given_id=JSON_VALUES,
    extra=st.dictionaries(HOSTILE_TEXT, JSON_VALUES, max_size=2),
)
def test_any_mo_json_is_an_mo_or_a_gateway_error(
    sender: str, text: Any, given_id: Any, extra: dict[str, Any]
) -> None:
    """JSON objects with any values (lone surrogates, huge numbers, nesting) under any keys."""
    body = {**extra, "from": sender, "text": text, "id": given_id}
    _check_mo("sms/mo/888", json.dumps(body).encode())


@FUZZ
@given(
    msisdn=st.sampled_from(["0912345678", "abc"]),
    body=st.fixed_dictionaries(
        {},
        optional={
            "app": HOSTILE_TEXT | JSON_VALUES,
            "bytes": st.integers(min_value=-(2**70), max_value=2**70) | JSON_VALUES,
            "id": JSON_VALUES,
        },
    ),
)
def test_any_usage_report_is_an_event_or_a_gateway_error(msisdn: str, body: Any) -> None:
    """``usage/<msisdn>``: an event within the byte bound with storable text, or refused."""
    try:
        event = parse_usage(f"usage/{msisdn}", json.dumps(body).encode())
    except GatewayError:
        return
    assert 0 < event.bytes <= MAX_USAGE_BYTES
    assert _storable(event.app)
    assert event.id is None or _storable(event.id)


# -- inbound mail -----------------------------------------------------------------------


def _check_inbound(raw: bytes) -> None:
    reply: str | None = None
    try:
        mail = parse_inbound(raw)
    except MailRejected as exc:
        reply = exc.smtp_reply
    if reply is not None:
        assert reply.startswith("550 5.6.0 ")
        assert reply.isascii()
        assert "\n" not in reply
        return
    for value in (mail.subject, mail.message_id or "", *mail.replies_to):
        assert not set(value) & {"\r", "\n", "\x00"}, value
        assert _storable(value)
    assert _storable(mail.text)
    command_text(mail)  # never raises either


@FUZZ
@given(st.binary(max_size=600))
def test_any_bytes_over_smtp_are_a_mail_or_a_550(raw: bytes) -> None:
    """Arbitrary bytes as a message: parsed, or refused with ``550 5.6.0``."""
    _check_inbound(b"From: an@example.com\r\n" + raw)


def _encoded_word(text: str, charset: str) -> str:
    data = text.encode(charset, "surrogatepass")
    return f"=?{charset}?q?{quopri.encodestring(data, header=True).decode()}?="


@FUZZ
@given(
    subject=HOSTILE_TEXT,
    charset=st.sampled_from(["utf-8", "utf-16", "utf-7", "latin-1"]),
    message_id=HOSTILE_TEXT,
    body=st.binary(max_size=200),
    body_charset=st.sampled_from(["utf-8", "utf-7", "iso-8859-1", "x-unknown", ""]),
)
def test_encoded_headers_and_bodies_never_carry_line_breaks_or_surrogates(
    subject: str, charset: str, message_id: str, body: bytes, body_charset: str
) -> None:
    """Subjects and Message-IDs as RFC 2047 encoded words holding anything (CR, LF, NUL,
    surrogates), bodies in any charset: refused, or parsed into one-line storable text."""
    try:
        encoded = _encoded_word(subject, charset)
    except UnicodeEncodeError:  # latin-1 cannot hold it: not a mail anyone can send
        encoded = _encoded_word(subject, "utf-8")
    content_type = "text/plain" + (f"; charset={body_charset}" if body_charset else "")
    raw = (
        "From: an@example.com\r\nTo: 888@sms.local\r\n"
        f"Subject: {encoded}\r\nMessage-ID: <{_encoded_word(message_id, 'utf-8')}>\r\n"
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode() + body
    _check_inbound(raw)


# -- outbound MIME ----------------------------------------------------------------------

EXPECTED_HEADERS = {"from", "to", "subject", "date", "message-id", "mime-version"}


@FUZZ
@given(
    subject=HOSTILE_TEXT,
    name=HOSTILE_TEXT,
    to=st.lists(HOSTILE_TEXT | st.just("an@example.com"), min_size=1, max_size=2),
    in_reply_to=st.none() | HOSTILE_TEXT,
    body=HOSTILE_TEXT,
)
def test_any_mail_renders_with_only_its_own_headers(
    subject: str, name: str, to: list[str], in_reply_to: str | None, body: str
) -> None:
    """Whatever a template was filled with (or an older version stored), the mail renders,
    and its header block has only the headers the gateway writes: nothing injected."""
    mail = OutgoingMail(
        id="m1",
        sender="888@sms.local",
        sender_name=name,
        to=tuple(to),
        subject=subject,
        body=body,
        at=datetime(2026, 3, 10, 3, tzinfo=UTC),
        kind="reply",
        in_reply_to=in_reply_to,
        references=() if in_reply_to is None else (in_reply_to,),
    )
    head, _, _ = to_mime(mail).partition(b"\r\n\r\n")
    names = {
        line.split(b":", 1)[0].decode().lower()
        for line in head.split(b"\r\n")
        if line[:1] not in (b" ", b"\t")
    }
    expected = EXPECTED_HEADERS | {"content-type", "content-transfer-encoding"}
    if in_reply_to:
        expected.add("in-reply-to")
    if in_reply_to is not None:
        expected.add("references")
    assert names == expected
