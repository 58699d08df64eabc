"""Reaching the broker: the endpoint a ``SCGW_MQTT_URL`` names, the client for it, its status."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import aiomqtt
from aiomqtt.exceptions import MqttConnectError
from paho.mqtt.client import MQTT_CLEAN_START_FIRST_ONLY
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

__all__ = [
    "MqttEndpoint",
    "MqttStatus",
    "Version",
    "describe_error",
    "make_client",
    "parse_mqtt_url",
    "worth_other_version",
]

Version = Literal["3.1.1", "5"]

#: a reply goes out at once instead of waiting for Nagle's algorithm to fill a packet
_NODELAY = ((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),)
#: seconds to wait for a CONNACK, a SUBACK or the PUBACK of a publish on a live connection
CALL_TIMEOUT = 30
_PORTS = {"mqtt": 1883, "tcp": 1883, "mqtts": 8883, "ssl": 8883}
# CONNACK codes that mean "not this protocol version" (3.1.1: 1; MQTT 5: 132)
_WRONG_VERSION = frozenset({1, 132})


@dataclass(frozen=True, slots=True)
class MqttEndpoint:
    """Where the broker is and how to log in; ``tls`` for ``mqtts://``."""

    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    #: CA certificates (PEM) to verify the broker with; None: the system's
    ca_file: Path | None = None

    @property
    def url(self) -> str:
        """The endpoint without credentials, for logs."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def parse_mqtt_url(url: str) -> MqttEndpoint:
    """``mqtt://[user:pass@]host[:port]`` or ``mqtts://...``; user and password are
    percent-decoded (``p%40ss`` is ``p@ss``). Raises ValueError with the reason."""
    parts = urlsplit(url)
    if parts.scheme not in _PORTS or not parts.hostname:
        raise ValueError(f"expected mqtt://host:port or mqtts://host:port, got {url!r}")
    try:
        port = parts.port or _PORTS[parts.scheme]
    except ValueError as exc:  # a port that is not a number, or out of range
        raise ValueError(f"{url!r}: {exc}") from exc
    return MqttEndpoint(
        host=parts.hostname,
        port=port,
        username=None if parts.username is None else unquote(parts.username),
        password=None if parts.password is None else unquote(parts.password),
        tls=parts.scheme in ("mqtts", "ssl"),
    )


@dataclass(frozen=True, slots=True)
class MqttStatus:
    """The broker connection as a readiness check reads it (``MqttTransport.status``).

    ``connected`` is true while the gateway holds a connection to the broker with its
    subscriptions in place. ``last_error`` is the reason the last connection attempt
    failed or the last connection dropped (``"Not authorized"``, ``"[Errno 111]
    Connection refused"``), and None once a connection succeeds. ``protocol`` is the
    MQTT version in use while connected.
    """

    connected: bool
    last_error: str | None
    protocol: Version | None


def describe_error(exc: BaseException) -> str:
    """A broker error as one readable reason (a CONNACK's reason without its code)."""
    if isinstance(exc, MqttConnectError):
        rc = exc.rc
        if isinstance(rc, int):
            return str(exc).split("] ", 1)[-1]
        return str(rc)
    return str(exc) or type(exc).__name__


def worth_other_version(exc: aiomqtt.MqttError) -> bool:
    """Whether another MQTT version might get through: the broker refused this one, or
    accepted the connection and never answered. Not when it cannot be reached at all,
    or refused the credentials: the other version would fail the same way."""
    if isinstance(exc, aiomqtt.MqttCodeError):
        code = exc.rc.value if isinstance(exc.rc, ReasonCode) else exc.rc
        return code in _WRONG_VERSION
    cause = exc.__context__
    return not isinstance(cause, OSError) or isinstance(cause, TimeoutError)


def _tls_context(endpoint: MqttEndpoint) -> ssl.SSLContext | None:
    if not endpoint.tls:
        return None
    cafile = None if endpoint.ca_file is None else str(endpoint.ca_file)
    return ssl.create_default_context(cafile=cafile)


def make_client(endpoint: MqttEndpoint, version: Version, client_id: str) -> aiomqtt.Client:
    """A client with a persistent session (7 days in MQTT 5) that acknowledges MOs only
    when told to (paho's manual ack: aiomqtt has no option for it)."""
    properties: Properties | None = None
    if version == "5":
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = 7 * 24 * 3600
        properties.ReceiveMaximum = 1000
    client = aiomqtt.Client(
        endpoint.host,
        endpoint.port,
        identifier=client_id,
        protocol=aiomqtt.ProtocolVersion.V5 if version == "5" else aiomqtt.ProtocolVersion.V311,
        clean_start=False if version == "5" else MQTT_CLEAN_START_FIRST_ONLY,  # MQTT 5
        clean_session=None if version == "5" else False,  # MQTT 3.1.1
        properties=properties,
        username=endpoint.username,
        password=endpoint.password,
        max_inflight_messages=1000,
        timeout=CALL_TIMEOUT,
        socket_options=_NODELAY,
        tls_context=_tls_context(endpoint),
    )
    client._client.manual_ack_set(True)
    client.pending_calls_threshold = 1_000_000
    _fail_fast_before_connack(client)
    return client


def _fail_fast_before_connack(client: aiomqtt.Client) -> None:
    """Make a connection the broker closes before its CONNACK fail at once.

    aiomqtt ignores a disconnection that comes before the CONNACK and waits for one
    until its timeout (30 s): a broker that accepts and then drops connections while it
    starts, or a proxy whose broker is down, would hold every attempt that long.
    """
    paho = client._client
    on_disconnect = paho.on_disconnect

    def fail() -> None:
        if not client._connected.done():
            client._connected.set_exception(
                aiomqtt.MqttError("the broker closed the connection before accepting it")
            )

    def disconnected(*args: Any) -> None:
        client._loop.call_soon_threadsafe(fail)
        if on_disconnect is not None:
            on_disconnect(*args)

    paho.on_disconnect = disconnected
