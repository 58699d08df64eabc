"""MQTT payloads: MOs and usage events in (``sms/mo/...``, ``usage/<msisdn>``), MTs out."""

from __future__ import annotations

import json
import uuid
from datetime import tzinfo

from gateway.domain.model import InboundSms, Outgoing, UsageEvent
from gateway.domain.msisdn import canonical_msisdn
from gateway.errors import InvalidMessage, UnknownShortcode

__all__ = ["MAX_ID", "MAX_TEXT", "mt_payload", "parse_mo", "parse_usage"]

MAX_TEXT = 1600
MAX_ID = 128


def parse_mo(topic: str, payload: bytes, shortcodes: frozenset[str]) -> InboundSms:
    """An MO from ``sms/mo/<code>`` (JSON) or ``sms/mo/<code>/<msisdn>`` (raw UTF-8 text)."""
    parts = topic.split("/")
    if len(parts) not in (3, 4) or parts[:2] != ["sms", "mo"]:
        raise InvalidMessage(f"unexpected topic {topic!r}")
    shortcode = parts[2]
    if shortcode not in shortcodes:
        raise UnknownShortcode(shortcode)
    try:
        body = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidMessage("payload is not UTF-8") from exc
    sender: object
    text: object
    given_id: object
    if len(parts) == 4:
        sender, text, given_id = parts[3], body, None
    else:
        try:
            data = json.loads(body)
        except json.JSONDecodeError as exc:
            raise InvalidMessage(f"payload is not JSON: {exc.msg}") from exc
        if not isinstance(data, dict):
            raise InvalidMessage("payload must be a JSON object")
        sender, text, given_id = data.get("from"), data.get("text"), data.get("id")
        if not isinstance(sender, str):
            raise InvalidMessage('"from" is required and must be a string')
        if not isinstance(text, str):
            raise InvalidMessage('"text" is required and must be a string')
        if given_id is not None and (
            isinstance(given_id, bool) or not isinstance(given_id, str | int)
        ):
            raise InvalidMessage('"id" must be a string or an integer')
    if not isinstance(sender, str) or not isinstance(text, str):  # pragma: no cover - narrowed
        raise InvalidMessage('"from" and "text" must be strings')
    if len(text) > MAX_TEXT:
        raise InvalidMessage(f"text is longer than {MAX_TEXT} characters")
    msisdn = canonical_msisdn(sender)
    if given_id is None:
        return InboundSms(uuid.uuid4().hex, msisdn, shortcode, text, client_id=False)
    message_id = str(given_id)
    if not message_id or len(message_id) > MAX_ID:
        raise InvalidMessage(f'"id" must be 1 to {MAX_ID} characters')
    return InboundSms(message_id, msisdn, shortcode, text, client_id=True)


def parse_usage(topic: str, payload: bytes) -> UsageEvent:
    """``usage/<msisdn>`` with ``{"app": "zalo", "bytes": 123456, "id": "optional"}``."""
    parts = topic.split("/")
    if len(parts) != 2 or parts[0] != "usage":
        raise InvalidMessage(f"unexpected topic {topic!r}: expected usage/<msisdn>")
    msisdn = canonical_msisdn(parts[1])
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidMessage(f"usage payload is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise InvalidMessage('usage payload must be an object: {"app": ..., "bytes": ...}')
    app, n_bytes, event_id = body.get("app"), body.get("bytes"), body.get("id")
    if not isinstance(app, str) or not app.strip() or len(app) > 64:
        raise InvalidMessage('"app" must be a non-empty string (at most 64 characters)')
    if isinstance(n_bytes, bool) or not isinstance(n_bytes, int) or n_bytes <= 0:
        raise InvalidMessage('"bytes" must be a positive integer')
    if event_id is not None and (not isinstance(event_id, str | int) or len(str(event_id)) > 128):
        raise InvalidMessage('"id" must be a string or number (at most 128 characters)')
    return UsageEvent(
        msisdn=msisdn,
        app=app.strip().lower(),
        bytes=n_bytes,
        id=None if event_id is None else str(event_id),
    )


def mt_payload(message: Outgoing, tz: tzinfo) -> bytes:
    return json.dumps(
        {
            "id": message.id,
            "from": message.shortcode,
            "to": message.msisdn,
            "text": message.text,
            "in_reply_to": message.in_reply_to,
            "encoding": message.encoding,
            "segments": message.segments,
            "at": message.at.astimezone(tz).isoformat(),
        },
        ensure_ascii=False,
    ).encode("utf-8")
