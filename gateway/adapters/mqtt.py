"""MQTT transport (aiomqtt 2.x): MO in on ``sms/mo/...``, MT out on ``sms/mt/<msisdn>``.

Inbound QoS 1 messages are acknowledged only after the transaction that processed
them has committed (paho's manual ack), and the session is persistent, so an MO the
broker accepted is never lost across a gateway restart. A retained message on an
inbound topic is state, not an event: it is never processed (see ``_retained``).
When the connection drops, MT publishes the broker has not acknowledged fail at once
and go out again (same ids) on the next connection.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, Literal, Self, TypeVar

import aiomqtt
import structlog

from gateway.adapters.mqtt_codec import mt_payload, parse_mo, parse_usage
from gateway.adapters.mqtt_connection import (
    MqttEndpoint,
    MqttStatus,
    Version,
    describe_error,
    make_client,
    worth_other_version,
)
from gateway.adapters.mqtt_io import Lane, install_lane
from gateway.adapters.mqtt_publish import PublishBatch
from gateway.domain.model import InboundSms, Outgoing, UsageEvent
from gateway.errors import GatewayError
from gateway.service.inbound import Inbound

__all__ = [
    "ERROR_TOPIC",
    "MO_TOPIC",
    "USAGE_TOPIC",
    "MqttStatus",
    "MqttTransport",
    "mt_payload",
    "parse_mo",
    "parse_usage",
]

log = structlog.get_logger("gateway.mqtt")
T = TypeVar("T")

MO_TOPIC = "sms/mo/#"
USAGE_TOPIC = "usage/+"
ERROR_TOPIC = "sms/errors"
PUBLISH_WINDOW = 1000  # the client's max_inflight_messages
#: connection attempts back off from RETRY_FIRST seconds, doubling, to RETRY_MAX: a
#: broker that comes back is found within a second
RETRY_FIRST, RETRY_MAX = 0.1, 1.0

Protocol = Literal["3.1.1", "5", "auto"]


class ConnectionLost(aiomqtt.MqttError):
    """The connection a call was made on dropped before the broker answered."""


@dataclass(slots=True)
class _Link:
    """One connection to the broker; ``lost`` is done once it has dropped."""

    client: aiomqtt.Client
    version: Version
    lost: asyncio.Future[None]
    #: the MOs, their PUBACKs, the MTs and their PUBACKs (``mqtt_io``)
    lane: Lane

    async def call(self, awaitable: Awaitable[T]) -> T:
        """Await a call on this connection, failing at once if the connection drops
        (aiomqtt would wait for the broker's answer until its timeout)."""
        task = asyncio.ensure_future(awaitable)
        try:
            await asyncio.wait((task, self.lost), return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if task.done():
            return task.result()
        task.cancel()
        task.add_done_callback(_retrieve)
        raise ConnectionLost("the connection to the broker dropped")


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark the outcome of an abandoned call as seen (asyncio logs one nobody read)."""
    if not future.cancelled():
        future.exception()


class MqttTransport:
    """Connects to the broker, feeds MOs to the service and publishes MTs.

    ``run()`` keeps the connection up (reconnecting with backoff, one log line per
    attempt); ``publish()`` waits for a connection and returns once the broker has
    acknowledged every MT; ``status`` says whether the broker is connected, and why not.
    """

    def __init__(
        self,
        *,
        endpoint: MqttEndpoint,
        client_id: str,
        protocol: Protocol,
        tz: tzinfo,
        share_group: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._client_id = client_id
        # several gateways: MOs and usage events spread over them (MQTT v5 shared
        # subscription), each delivered to one
        share = "" if share_group is None else f"$share/{share_group}/"
        self._topics = (share + MO_TOPIC, share + USAGE_TOPIC)
        self._protocol = protocol
        self._tz = tz
        self._link: _Link | None = None
        self._linked = asyncio.Event()
        self._last_error: str | None = None
        self._intake = asyncio.Event()  # cleared: MOs wait at the broker (shutdown)
        self._intake.set()
        # short codes served elsewhere (an SMPP application): their MOs go there
        self._routed: frozenset[str] = frozenset()
        self._route: Callable[[InboundSms], Awaitable[None]] | None = None
        self._tasks: set[asyncio.Future[None]] = set()  # usage, retained, rejections
        # topics we published an empty retained message to: its echo is not an SMS
        self._clearing: collections.Counter[str] = collections.Counter()

    @property
    def host(self) -> str:
        return self.endpoint.host

    @property
    def port(self) -> int:
        return self.endpoint.port

    def pause_intake(self) -> None:
        """Take no more MOs (they stay unacknowledged at the broker, for the next run);
        MTs are still published. The first step of an orderly shutdown."""
        self._intake.clear()

    def route(
        self, shortcodes: frozenset[str], deliver: Callable[[InboundSms], Awaitable[None]]
    ) -> Self:
        """MOs to these short codes go to ``deliver`` (acknowledged once it returns)."""
        self._routed, self._route = shortcodes, deliver
        return self

    # -- connection -------------------------------------------------------------------

    @property
    def status(self) -> MqttStatus:
        """The broker connection, read-only, for a readiness check (see ``MqttStatus``)."""
        link = self._link
        return MqttStatus(
            connected=link is not None,
            last_error=self._last_error,
            protocol=None if link is None else link.version,
        )

    @property
    def protocol_in_use(self) -> Version | None:
        return self.status.protocol

    async def connected(self) -> None:
        await self._link_up()

    async def run(self, inbound: Inbound) -> None:
        """Serve until cancelled, reconnecting when the broker goes away: MOs and usage
        events go to ``inbound``; MTs go out through ``publish``."""
        versions: list[Version] = ["5", "3.1.1"] if self._protocol == "auto" else [self._protocol]
        delay, attempt = RETRY_FIRST, 0
        while True:
            attempt += 1
            link: _Link | None = None
            try:
                async with contextlib.AsyncExitStack() as stack:
                    client, version = await self._open(stack, versions)
                    link = await self._start(client, version)
                    versions, delay, attempt = [version], RETRY_FIRST, 0
                    await self._consume(link, inbound)
            except aiomqtt.MqttError as exc:
                self._last_error = describe_error(exc)
                if link is None:
                    log.warning(
                        "mqtt_connect_failed",
                        broker=self.endpoint.url,
                        error=self._last_error,
                        attempt=attempt,
                        retry_in=delay,
                    )
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RETRY_MAX)
                else:  # try again at once: a restarted broker is often back already
                    log.warning(
                        "mqtt_disconnected",
                        broker=self.endpoint.url,
                        error=self._last_error,
                        protocol=link.version,
                    )
            finally:
                if link is not None:
                    self._drop(link)

    async def _open(
        self, stack: contextlib.AsyncExitStack, versions: list[Version]
    ) -> tuple[aiomqtt.Client, Version]:
        """Connect with the first version the broker takes (``auto``: 5, then 3.1.1)."""
        for index, version in enumerate(versions):
            client = make_client(self.endpoint, version, self._client_id)
            try:
                await stack.enter_async_context(client)
            except aiomqtt.MqttError as exc:
                if index + 1 == len(versions) or not worth_other_version(exc):
                    raise
                log.debug("mqtt_version_refused", protocol=version, error=describe_error(exc))
                continue
            return client, version
        raise aiomqtt.MqttError("no MQTT version to try")

    async def _start(self, client: aiomqtt.Client, version: Version) -> _Link:
        lane = install_lane(client, version)
        for topic in self._topics:
            await client.subscribe(topic, qos=1)
        link = _Link(client, version, asyncio.get_running_loop().create_future(), lane)
        # the moment paho sees the connection go, calls waiting on it fail (_Link.call)
        client._disconnected.add_done_callback(lambda gone: self._drop(link, gone))
        self._link, self._last_error = link, None
        self._linked.set()
        log.info("mqtt_connected", broker=self.endpoint.url, protocol=version)
        return link

    def _drop(self, link: _Link, gone: asyncio.Future[None] | None = None) -> None:
        if gone is not None and not gone.cancelled():
            gone.exception()  # retrieved here; the message loop raises its own error
        if not link.lost.done():
            link.lost.set_result(None)
        if self._link is link:
            self._link = None
            self._linked.clear()

    async def _link_up(self) -> _Link:
        while (link := self._link) is None or link.lost.done():
            await self._linked.wait()
        return link

    # -- inbound ----------------------------------------------------------------------

    async def _consume(self, link: _Link, service: Inbound) -> None:
        """Take MOs from the lane (and from aiomqtt's queue what paho decoded itself:
        what came before the lane took over, QoS 2) until the connection drops. Each
        QoS 1 MO is acknowledged once its future is done (committed and answered, or
        rejected), in the order the MOs came."""
        client, lane = link.client, link.lane
        acks: collections.deque[tuple[int, int, asyncio.Future[Any] | None]] = collections.deque()

        def flush_acks(_: object = None) -> None:
            mids: list[int] = []
            while acks and (acks[0][2] is None or acks[0][2].done()):
                mid, qos, future = acks.popleft()
                if future is not None and not future.cancelled():
                    future.exception()  # a failed MO was answered and logged: retrieve it
                if qos == 1:
                    mids.append(mid)
                else:  # QoS 2 (paho decoded it): paho's PUBREC, after the PUBACKs before it
                    lane.ack(mids)
                    mids = []
                    client._client.ack(mid, qos)
            lane.ack(mids)

        def take(topic: str, payload: bytes, qos: int, mid: int, retain: bool) -> None:
            if not self._intake.is_set():  # shutting down: left unacknowledged
                return
            future = self._take(service, link, topic, payload, retain)
            if qos > 0:
                acks.append((mid, qos, future))
                if future is None:
                    flush_acks()
                else:
                    future.add_done_callback(flush_acks)

        def take_safely(topic: str, payload: bytes, qos: int, mid: int, retain: bool) -> None:
            try:
                take(topic, payload, qos, mid, retain)
            except Exception:  # a bug must not stop the connection's reads: not acknowledged
                log.exception("mqtt_message_failed", topic=topic)

        queued = client._queue  # decoded by paho before the lane took over
        lane.on_publish = take_safely
        while not queued.empty():
            self._take_paho(take_safely, queued.get_nowait())
        async for message in client.messages:  # paho's (QoS 2); ends when the link drops
            self._take_paho(take_safely, message)

    @staticmethod
    def _take_paho(
        take: Callable[[str, bytes, int, int, bool], None], message: aiomqtt.Message
    ) -> None:
        payload = message.payload
        if not isinstance(payload, bytes):
            payload = str(payload).encode()
        take(message.topic.value, payload, message.qos, message.mid, message.retain)

    def _take(
        self, service: Inbound, link: _Link, topic: str, payload: bytes, retain: bool
    ) -> asyncio.Future[Any] | None:
        """Start handling one inbound message; its future is done once it may be
        acknowledged (None: at once)."""
        if not payload and self._clearing[topic] > 0:
            self._clearing[topic] -= 1  # our own clearing of a retained message
            return None
        try:
            if retain:
                return self._task(self._retained(service, link, topic, payload))
            if topic.startswith("usage/"):
                event = parse_usage(topic, payload)
                return self._task(self._usage(service, event, topic, payload))
            sms = parse_mo(topic, payload, service.shortcodes | self._routed)
            if self._route is not None and sms.shortcode in self._routed:
                return asyncio.ensure_future(self._route(sms))
            return service.submit(sms)
        except GatewayError as exc:
            return self._task(self._reject(service, "mo_rejected", topic, payload, str(exc)))

    def _task(self, work: Awaitable[None]) -> asyncio.Future[None]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)  # held until done: the loop keeps weak refs
        task.add_done_callback(self._tasks.discard)
        return task

    async def _retained(self, service: Inbound, link: _Link, topic: str, payload: bytes) -> None:
        """A retained message on an inbound topic is never processed.

        Brokers hand retained messages to every new subscription, so one would be
        processed (and charged) again at each reconnect. MQTT sets the retain flag on
        exactly those deliveries (a live publish to a subscriber arrives without it, and
        is processed once). The message is cleared by publishing an empty retained
        message to its topic (a broker's ACL may refuse that), and reported on
        ``sms/errors``.
        """
        self._clearing[topic] += 1
        try:
            await link.call(link.client.publish(topic, b"", qos=1, retain=True))
            outcome = "cleared"
        except aiomqtt.MqttError as exc:
            outcome = f"could not clear it: {describe_error(exc)}"
        kind = "a usage event" if topic.startswith("usage/") else "an SMS"
        await self._reject(
            service,
            "retained_message_ignored",
            topic,
            payload,
            f"retained message: state, not {kind}; not processed ({outcome})",
        )

    async def _usage(self, service: Inbound, event: UsageEvent, topic: str, payload: bytes) -> None:
        """Record a usage event; one that cannot be (an unknown MSISDN) goes to sms/errors."""
        try:
            await service.record_usage(event)
        except GatewayError as exc:
            await self._reject(service, "usage_rejected", topic, payload, str(exc))

    async def _reject(
        self, service: Inbound, event: str, topic: str, payload: bytes, reason: str
    ) -> None:
        """Log a message that changes nothing, and say why on sms/errors."""
        log.warning(event, topic=topic, reason=reason)
        await service.publish_error(
            {
                "reason": reason,
                "topic": topic,
                "payload": payload[:512].decode("utf-8", "replace"),
                "at": service.now().astimezone(self._tz).isoformat(),
            }
        )

    # -- outbound ---------------------------------------------------------------------

    async def publish(self, messages: Sequence[Outgoing]) -> None:
        """Publish every MT; return once the broker has acknowledged them all.

        When the connection drops, what the broker has not acknowledged is published
        again (same ids) on the next connection, without waiting for a timeout.
        """
        pending = list(messages)
        while pending:
            pending = await self._publish_on(await self._link_up(), pending)

    async def _publish_on(self, link: _Link, messages: list[Outgoing]) -> list[Outgoing]:
        """Publish on one connection; returns what is left if it fails part way."""
        # Windows of PUBLISH_WINDOW (paho's in-flight limit): one future per window, see
        # ``mqtt_publish``.
        tz = self._tz
        for start in range(0, len(messages), PUBLISH_WINDOW):
            window = messages[start : start + PUBLISH_WINDOW]
            items = [(f"sms/mt/{m.msisdn}", mt_payload(m, tz)) for m in window]
            batch: PublishBatch | None = None
            try:
                batch = PublishBatch(link.lane, items)
                await link.call(batch.wait())
            except aiomqtt.MqttError as exc:
                acked = batch.acked if batch is not None else [False] * len(window)
                left = [m for m, done in zip(window, acked, strict=True) if not done]
                left += messages[start + PUBLISH_WINDOW :]
                log.info("mt_publish_interrupted", error=describe_error(exc), left=len(left))
                if not link.lost.done():  # the connection is up: pause rather than spin
                    await asyncio.wait((link.lost,), timeout=RETRY_FIRST)
                return left
            finally:
                if batch is not None:
                    batch.close()
        return []

    async def publish_event(self, topic: str, event: dict[str, Any], attempts: int = 5) -> None:
        """One JSON event at QoS 1 (a delivery receipt on ``sms/dlr/<code>``): waits for
        the broker, and tries again on a lost connection, ``attempts`` times at most."""
        payload = json.dumps(event, ensure_ascii=False)
        for _ in range(attempts):
            link = await self._link_up()
            try:
                await link.call(link.client.publish(topic, payload, qos=1))
                return
            except aiomqtt.MqttError as exc:
                log.info("event_publish_interrupted", topic=topic, error=describe_error(exc))
                if not link.lost.done():
                    await asyncio.wait((link.lost,), timeout=RETRY_FIRST)
        log.warning("event_not_published", topic=topic)

    async def publish_error(self, event: dict[str, Any]) -> None:
        link = self._link
        if link is None:
            return
        with contextlib.suppress(aiomqtt.MqttError):
            await link.call(
                link.client.publish(ERROR_TOPIC, json.dumps(event, ensure_ascii=False), qos=1)
            )
