"""MQTT transport (aiomqtt 2.x): MO in on ``sms/mo/...``, MT out on ``sms/mt/<msisdn>``.

Inbound QoS 1 messages are acknowledged only after the transaction that processed
them has committed (paho's manual ack), and the session is persistent, so an MO the
broker accepted is never lost across a gateway restart.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import socket
import uuid
from collections.abc import Sequence
from datetime import tzinfo
from typing import Any, Literal, Self

import aiomqtt
import structlog
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gateway.domain.model import InboundSms, Outgoing, UsageEvent
from gateway.domain.msisdn import canonical_msisdn
from gateway.errors import GatewayError, InvalidMessage, UnknownShortcode
from gateway.service.gateway import GatewayService

__all__ = ["MO_TOPIC", "USAGE_TOPIC", "MqttTransport", "mt_payload", "parse_mo", "parse_usage"]

log = structlog.get_logger("gateway.mqtt")

MO_TOPIC = "sms/mo/#"
USAGE_TOPIC = "usage/+"
ERROR_TOPIC = "sms/errors"
MAX_TEXT = 1600
MAX_ID = 128
# a reply goes out at once instead of waiting for Nagle's algorithm to fill a packet
_NODELAY = ((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),)
PUBLISH_WINDOW = 256

Protocol = Literal["3.1.1", "5", "auto"]


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


class MqttTransport:
    """Connects to the broker, feeds MOs to the service and publishes MTs.

    ``run()`` keeps the connection up (reconnecting with backoff); ``publish()``
    waits for a connection and returns once the broker has acknowledged every MT.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        client_id: str,
        protocol: Protocol,
        tz: tzinfo,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.host, self.port = host, port
        self._client_id = client_id
        self._protocol = protocol
        self._tz = tz
        self._username, self._password = username, password
        self._client: aiomqtt.Client | None = None
        self._connected = asyncio.Event()
        self._service: GatewayService | None = None
        self._usage_tasks: set[asyncio.Future[None]] = set()
        self.protocol_in_use: str | None = None

    def attach(self, service: GatewayService) -> Self:
        self._service = service
        return self

    # -- connection -------------------------------------------------------------------

    def _make_client(self, version: Literal["3.1.1", "5"]) -> aiomqtt.Client:
        if version == "5":
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = 7 * 24 * 3600
            properties.ReceiveMaximum = 1000
            client = aiomqtt.Client(
                self.host,
                self.port,
                identifier=self._client_id,
                protocol=aiomqtt.ProtocolVersion.V5,
                clean_start=False,
                properties=properties,
                username=self._username,
                password=self._password,
                max_inflight_messages=1000,
                timeout=30,
                socket_options=_NODELAY,
            )
        else:
            client = aiomqtt.Client(
                self.host,
                self.port,
                identifier=self._client_id,
                protocol=aiomqtt.ProtocolVersion.V311,
                clean_session=False,
                username=self._username,
                password=self._password,
                max_inflight_messages=1000,
                timeout=30,
                socket_options=_NODELAY,
            )
        # aiomqtt has no manual-ack option; paho's is what keeps an MO unacknowledged
        # until it is committed.
        client._client.manual_ack_set(True)
        client.pending_calls_threshold = 1_000_000
        return client

    async def run(self) -> None:
        """Serve until cancelled, reconnecting when the broker goes away."""
        delay = 0.2
        versions: list[Literal["3.1.1", "5"]] = (
            ["5", "3.1.1"] if self._protocol == "auto" else [self._protocol]
        )
        attempt = 0
        while True:
            version = versions[attempt % len(versions)]
            try:
                async with self._make_client(version) as client:
                    self._client, self.protocol_in_use = client, version
                    await client.subscribe(MO_TOPIC, qos=1)
                    await client.subscribe(USAGE_TOPIC, qos=1)
                    self._connected.set()
                    log.info("mqtt_connected", host=self.host, port=self.port, protocol=version)
                    delay = 0.2
                    versions = [version]
                    attempt = 0
                    await self._consume(client)
            except aiomqtt.MqttError as exc:
                self._connected.clear()
                self._client = None
                attempt += 1
                log.warning("mqtt_disconnected", error=str(exc), retry_in=delay, protocol=version)
                if attempt % len(versions) == 0:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
            finally:
                self._connected.clear()
                self._client = None
                self.protocol_in_use = None

    async def connected(self) -> None:
        await self._connected.wait()

    # -- inbound ----------------------------------------------------------------------

    async def _consume(self, client: aiomqtt.Client) -> None:
        service = self._service
        if service is None:
            raise GatewayError("MqttTransport.attach(service) was not called")
        acks: collections.deque[tuple[int, asyncio.Future[Any] | None]] = collections.deque()

        def flush_acks(_: object = None) -> None:
            while acks and (acks[0][1] is None or acks[0][1].done()):
                mid, future = acks.popleft()
                if future is not None and not future.cancelled():
                    future.exception()  # a failed MO was answered and logged: retrieve it
                client._client.ack(mid, 1)

        async for message in client.messages:
            payload = (
                message.payload
                if isinstance(message.payload, bytes)
                else str(message.payload).encode()
            )
            topic = message.topic.value
            future: asyncio.Future[Any] | None
            try:
                if topic.startswith("usage/"):
                    event = parse_usage(topic, payload)
                    task = asyncio.ensure_future(self._usage(service, event, topic, payload))
                    self._usage_tasks.add(task)  # held until done: the loop keeps weak refs
                    task.add_done_callback(self._usage_tasks.discard)
                    future = task
                else:
                    future = service.submit(parse_mo(topic, payload, service.engine.shortcodes))
            except GatewayError as exc:
                await self._reject(service, "mo_rejected", topic, payload, exc)
                future = None
            if message.qos > 0:
                acks.append((message.mid, future))
                if future is None:
                    flush_acks()
                else:
                    future.add_done_callback(flush_acks)

    async def _usage(
        self, service: GatewayService, event: UsageEvent, topic: str, payload: bytes
    ) -> None:
        """Record a usage event; one that cannot be (an unknown MSISDN) goes to sms/errors."""
        try:
            await service.record_usage(event)
        except GatewayError as exc:
            await self._reject(service, "usage_rejected", topic, payload, exc)

    async def _reject(
        self,
        service: GatewayService,
        event: str,
        topic: str,
        payload: bytes,
        exc: GatewayError,
    ) -> None:
        """Log a message that changes nothing, and say why on sms/errors."""
        log.warning(event, topic=topic, reason=str(exc))
        await service.publish_error(
            {
                "reason": str(exc),
                "topic": topic,
                "payload": payload[:512].decode("utf-8", "replace"),
                "at": service.clock.now().astimezone(self._tz).isoformat(),
            }
        )

    # -- outbound ---------------------------------------------------------------------

    async def publish(self, messages: Sequence[Outgoing]) -> None:
        await self._connected.wait()
        client = self._client
        if client is None:
            raise aiomqtt.MqttError("not connected")
        # Windows of PUBLISH_WINDOW: aiomqtt scans its pending calls on every publish,
        # so one gather of thousands costs quadratic time.
        for start in range(0, len(messages), PUBLISH_WINDOW):
            await asyncio.gather(
                *(
                    client.publish(f"sms/mt/{m.msisdn}", mt_payload(m, self._tz), qos=1)
                    for m in messages[start : start + PUBLISH_WINDOW]
                )
            )

    async def publish_error(self, event: dict[str, Any]) -> None:
        client = self._client
        if client is None:
            return
        with contextlib.suppress(aiomqtt.MqttError):
            await client.publish(ERROR_TOPIC, json.dumps(event, ensure_ascii=False), qos=1)
