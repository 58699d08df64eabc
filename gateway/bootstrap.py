"""The one place that reads settings and wires the adapters to the service."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import structlog
import uvicorn

from carrier_rules import Catalog, CatalogError, SupportPolicy, parse_catalog, parse_support_policy
from gateway.adapters.broker import embedded_broker, is_listening
from gateway.adapters.clock import SystemClock, VirtualClock
from gateway.adapters.http import create_app
from gateway.adapters.mqtt import MqttTransport
from gateway.adapters.mqtt_connection import MqttEndpoint
from gateway.adapters.smtp import SmtpIntake, start_smtp_server
from gateway.adapters.smtp_relay import SinkSender, SmtpRelay, parse_relay_url
from gateway.adapters.sqlite_store import SqliteStore
from gateway.errors import GatewayError
from gateway.logging import configure_logging
from gateway.service.engine import Engine
from gateway.service.gateway import GatewayService
from gateway.service.mail import MailDelivery
from gateway.service.ports import Clock, MailSender
from gateway.service.support import SupportService
from gateway.service.tickets import TicketDesk
from gateway.settings import Settings

__all__ = ["Running", "load_catalogs", "load_support_policy", "serve"]

log = structlog.get_logger("gateway")

DEFAULT_BROKER = ("127.0.0.1", 1883)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(
            source=str(path), field="(file)", reason=exc.strerror or str(exc)
        ) from exc


def load_catalogs(paths: list[Path]) -> Mapping[str, Catalog]:
    """Read and validate catalog files; keyed by short code."""
    catalogs: dict[str, Catalog] = {}
    for path in paths:
        catalog = parse_catalog(_read(path), source=str(path))
        if catalog.shortcode in catalogs:
            raise CatalogError(
                source=str(path),
                field="shortcode",
                reason=f"{catalog.shortcode} is already served by another catalog",
            )
        catalogs[catalog.shortcode] = catalog
    return catalogs


def load_support_policy(path: Path) -> SupportPolicy:
    """Read and validate the support desk's policy file."""
    return parse_support_policy(_read(path), source=str(path))


class _HttpServer(uvicorn.Server):
    """uvicorn without its own signal handling: ``serve`` shuts everything down in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass(frozen=True, slots=True)
class Running:
    """What a started gateway listens on (handed to ``on_ready``)."""

    http_host: str
    http_port: int
    mqtt_host: str
    mqtt_port: int
    smtp_port: int
    service: GatewayService


def _listen(host: str, port: int) -> socket.socket:
    """Bind the HTTP socket ourselves, so a taken port is a clear error, not an exit."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        raise GatewayError(
            f"cannot listen for HTTP on {host}:{port}: {exc.strerror or exc}"
        ) from exc
    return sock


async def serve(settings: Settings, *, on_ready: Callable[[Running], None] | None = None) -> None:
    """Run the gateway until SIGINT/SIGTERM."""
    configure_logging(settings.log_level, settings.log_format)
    catalogs = load_catalogs(settings.catalogs)
    policy = load_support_policy(settings.support_policy)
    tz = ZoneInfo(settings.display_timezone)
    async with contextlib.AsyncExitStack() as stack:
        endpoint = settings.mqtt_endpoint()
        protocol = settings.mqtt_protocol
        if endpoint is None and await is_listening(*DEFAULT_BROKER):
            endpoint = MqttEndpoint(*DEFAULT_BROKER)
            log.info(
                "broker_found",
                host=endpoint.host,
                port=endpoint.port,
                note="SCGW_MQTT_URL unset: using the broker on 1883",
            )
        elif endpoint is None:
            port = await stack.enter_async_context(embedded_broker(*DEFAULT_BROKER))
            endpoint = MqttEndpoint(DEFAULT_BROKER[0], port)
            protocol = "3.1.1"
            log.info(
                "broker_embedded",
                host=endpoint.host,
                port=endpoint.port,
                note="no broker on 1883: started amqtt in-process",
            )
        host, port = endpoint.host, endpoint.port

        store = await stack.enter_async_context(
            SqliteStore.from_url(settings.database_url, synchronous=settings.sqlite_synchronous)
        )
        clock: Clock
        if settings.clock == "virtual":
            clock = VirtualClock(settings.virtual_start(SystemClock().now()))
        else:
            clock = SystemClock()
        engine = Engine(
            catalogs=catalogs,
            auto_provision=settings.auto_provision,
            default_balance=settings.default_balance,
            mail_domain=settings.mail_domain,
        )
        transport = MqttTransport(
            endpoint=endpoint, client_id=settings.mqtt_client_id, protocol=protocol, tz=tz
        )
        sender: MailSender
        if settings.smtp_relay_url is not None:
            relay = SmtpRelay(config=parse_relay_url(settings.smtp_relay_url))
            stack.push_async_callback(relay.close)
            sender = relay
        else:
            sender = SinkSender()
        delivery = MailDelivery(
            store=store,
            sender=sender,
            clock=SystemClock(),
            retry_base=settings.mail_retry_base,
            retry_max=settings.mail_retry_max,
        )
        service = GatewayService(
            engine=engine,
            store=store,
            clock=clock,
            publisher=transport,
            on_commit=delivery.notify,
            data_rate_per_mb=settings.data_rate_per_mb,
        )
        delivery.events = service.events
        transport.attach(service)
        await stack.enter_async_context(delivery)
        await stack.enter_async_context(service)
        support = SupportService(gateway=service, desk=TicketDesk(engine=engine, policy=policy))
        smtp_server = await start_smtp_server(
            intake=SmtpIntake(support=support, max_recipients=settings.smtp_max_recipients),
            host=settings.smtp_host,
            port=settings.smtp_port,
            hostname=settings.mail_domain,
            data_size_limit=settings.smtp_max_size,
            idle_timeout=settings.smtp_timeout,
            users=(
                {u: p.get_secret_value() for u, p in settings.smtp_users.items()}
                if settings.smtp_auth == "required"
                else None
            ),
        )
        stack.push_async_callback(smtp_server.wait_closed)
        stack.callback(smtp_server.close)
        smtp_port = int(smtp_server.sockets[0].getsockname()[1])
        app = create_app(
            service,
            support=support,
            tz=tz,
            token=None if settings.api_token is None else settings.api_token.get_secret_value(),
            health={
                "mqtt": lambda: {
                    "host": host,
                    "port": port,
                    "connected": transport.protocol_in_use is not None,
                    "protocol": transport.protocol_in_use,
                },
                "shortcodes": sorted(catalogs),
                "smtp": {
                    "host": settings.smtp_host,
                    "port": smtp_port,
                    "domain": settings.mail_domain,
                    "auth": settings.smtp_auth,
                    "delivery": sender.describe(),
                },
            },
        )
        server = _HttpServer(
            uvicorn.Config(
                app,
                host=settings.http_host,
                port=settings.http_port,
                log_level="warning",
                lifespan="off",
                access_log=False,
                # open event streams must not hold the shutdown up
                timeout_graceful_shutdown=1,
            )
        )

        def request_exit() -> None:
            server.should_exit = True

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, request_exit)
            stack.callback(loop.remove_signal_handler, sig)
        mqtt_task = asyncio.create_task(transport.run(), name="scgw-mqtt")
        stack.callback(mqtt_task.cancel)
        sock = _listen(settings.http_host, settings.http_port)
        stack.callback(sock.close)
        http_port = int(sock.getsockname()[1])
        http_task = asyncio.create_task(server.serve(sockets=[sock]), name="scgw-http")
        while not server.started and not http_task.done():  # noqa: ASYNC110 - uvicorn has no event
            await asyncio.sleep(0.01)
        if http_task.done():
            await http_task
            return
        log.info(
            "gateway_started",
            http=f"http://{settings.http_host}:{http_port}",
            mqtt=endpoint.url,
            smtp=f"smtp://{settings.smtp_host}:{smtp_port}",
            mail_domain=settings.mail_domain,
            mail_delivery=sender.describe(),
            clock=clock.mode,
            now=clock.now().isoformat(),
            database=settings.database_url,
            shortcodes=sorted(catalogs),
        )
        if on_ready is not None:
            on_ready(Running(settings.http_host, http_port, host, port, smtp_port, service))
        await http_task  # returns on SIGINT/SIGTERM
        with contextlib.suppress(TimeoutError):  # publish what is committed, while MQTT is up
            async with asyncio.timeout(5):
                await service.drained()
        mqtt_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await mqtt_task
        log.info("gateway_stopped")
