"""The one place that reads settings and wires the adapters to the service."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
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
from gateway.adapters.postgres_events import PostgresEventRelay
from gateway.adapters.postgres_store import PostgresStore
from gateway.adapters.publishers import CompositePublisher
from gateway.adapters.smpp import Account, SmppServer, load_accounts
from gateway.adapters.smpp.outcomes import parse_outcomes
from gateway.adapters.smpp.pending import OutcomeSettings
from gateway.adapters.smpp.tls import server_context
from gateway.adapters.smtp import SmtpIntake, start_smtp_server
from gateway.adapters.smtp_relay import SinkSender, SmtpRelay, parse_relay_url
from gateway.errors import SettingError
from gateway.event_loop import loop_name
from gateway.logging import configure_logging
from gateway.service.engine import Engine
from gateway.service.flood import MoRateLimiter
from gateway.service.gateway import GatewayService
from gateway.service.mail import MailDelivery
from gateway.service.ports import Clock, MailSender
from gateway.service.support import SupportService
from gateway.service.tickets import TicketDesk
from gateway.settings import Settings
from gateway.startup import lock_database, open_database

__all__ = ["Running", "load_catalogs", "load_support_policy", "serve"]

log = structlog.get_logger("gateway")

DEFAULT_BROKER = ("127.0.0.1", 1883)


def _read(path: Path, setting: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingError(setting, f"cannot read {path}: {exc.strerror or exc}") from exc


def load_catalogs(paths: list[Path]) -> Mapping[str, Catalog]:
    """Read and validate catalog files; keyed by short code."""
    catalogs: dict[str, Catalog] = {}
    for path in paths:
        catalog = parse_catalog(_read(path, "catalogs"), source=str(path))
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
    return parse_support_policy(_read(path, "support_policy"), source=str(path))


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
    smpp_port: int = 0


def _listen(host: str, port: int, *, what: str) -> socket.socket:
    """Bind a listening socket ourselves, before anything starts: a port in use is one
    clear line naming the setting (``what`` is ``http`` or ``smtp``), not a traceback."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except OSError as exc:
        raise SettingError(f"{what}_host", f"not an address: {exc.strerror or exc}") from exc
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise SettingError(
                f"{what}_port",
                f"{host}:{port} is already in use (another gateway?):"
                " choose another port, or 0 for a free one",
            ) from exc
        setting = f"{what}_host" if exc.errno == errno.EADDRNOTAVAIL else f"{what}_port"
        raise SettingError(
            setting, f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from exc
    return sock


def _smpp_accounts(settings: Settings, catalogs: Mapping[str, Catalog]) -> Mapping[str, Account]:
    """The SMPP accounts; an application may not own a short code a catalog serves."""
    accounts = load_accounts(settings.smpp_accounts)
    for account in accounts.values():
        for code in account.short_codes:
            if code in catalogs:
                raise SettingError(
                    "smpp_accounts",
                    f"{account.system_id}: short code {code} is served by a catalog already",
                )
    return accounts


def _clock_note(settings: Settings, stored: datetime | None) -> dict[str, str]:
    """Say so when a virtual clock resumed the stored time instead of the given start."""
    start = settings.clock_start
    if settings.clock != "virtual" or start is None or stored is None or stored <= start:
        return {}
    return {
        "clock_note": f"resumed the database's virtual time; clock start {start.isoformat()}"
        " ignored (--fresh starts over)"
    }


async def serve(
    settings: Settings,
    *,
    on_ready: Callable[[Running], None] | None = None,
    fresh: bool = False,
    configure_logs: bool = True,
) -> None:
    """Run the gateway until SIGINT/SIGTERM.

    Everything that can refuse to start (a catalog, a port in use, a database another
    gateway holds or last ran with the other clock) is checked before anything starts.
    ``fresh`` moves an existing database aside and starts a new one. ``configure_logs``
    False leaves structlog as the host process set it (a gateway run inside a test run).
    """
    if configure_logs:
        configure_logging(settings.log_level, settings.log_format)
    catalogs = load_catalogs(settings.catalogs)
    policy = load_support_policy(settings.support_policy)
    accounts = _smpp_accounts(settings, catalogs)
    smpp_tls = (
        None
        if settings.smpp_tls_cert is None or settings.smpp_tls_key is None
        else server_context(settings.smpp_tls_cert, settings.smpp_tls_key)
    )
    tz = ZoneInfo(settings.display_timezone)
    async with contextlib.AsyncExitStack() as stack:
        # another gateway on this database first: it is likely on these ports too
        store = lock_database(settings, stack.enter_context(contextlib.ExitStack()))
        http_sock = stack.enter_context(
            _listen(settings.http_host, settings.http_port, what="http")
        )
        smtp_sock = stack.enter_context(
            _listen(settings.smtp_host, settings.smtp_port, what="smtp")
        )
        smpp_sock = stack.enter_context(
            _listen(settings.smpp_host, settings.smpp_port, what="smpp")
        )
        database = await open_database(
            store, settings, stack, fresh=fresh, stamp=SystemClock().now()
        )
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
        # several gateways on one PostgreSQL database: each its own persistent session
        instance = store.instance if isinstance(store, PostgresStore) else settings.instance_id
        client_id = settings.mqtt_client_id + ("" if instance is None else f"-{instance}")
        share_group = settings.share_group()
        transport = MqttTransport(
            endpoint=endpoint,
            client_id=client_id,
            protocol=protocol,
            tz=tz,
            share_group=share_group,
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
        publisher = CompositePublisher(transport)
        service = GatewayService(
            engine=engine,
            store=store,
            clock=clock,
            publisher=publisher,
            on_commit=delivery.notify,
            data_rate_per_mb=settings.data_rate_per_mb,
            rate_limiter=MoRateLimiter(rate=settings.mo_rate_limit, burst=settings.mo_burst),
            shared=isinstance(store, PostgresStore),
            adopt_outbox=store.adopt_outbox if isinstance(store, PostgresStore) else None,
        )

        def broker_state() -> tuple[bool, str | None]:
            state = transport.status
            if state.connected:
                return True, None
            return False, f"not connected to the broker ({state.last_error or 'connecting'})"

        service.health.watch("mqtt", broker_state)
        service.metrics.watch_broker(lambda: 1.0 if transport.status.connected else 0.0)
        delivery.events = service.events
        events_relay: PostgresEventRelay | None = None
        if isinstance(store, PostgresStore):  # the other gateways on this database
            events_relay = await stack.enter_async_context(
                PostgresEventRelay(
                    url=settings.database_url,
                    bus=service.events,
                    # named on the channel by this instance's id (given or generated)
                    origin=store.instance or None,
                )
            )
        await stack.enter_async_context(delivery)
        await stack.enter_async_context(service)
        smpp = await stack.enter_async_context(
            SmppServer(
                accounts=accounts,
                service=service,
                store=store,
                sock=smpp_sock,
                tz=tz,
                outcomes=OutcomeSettings(
                    delay=timedelta(seconds=settings.smpp_delivery_delay),
                    validity=timedelta(seconds=settings.smpp_validity),
                    shares=parse_outcomes(settings.smpp_outcomes),
                    seed=settings.smpp_seed,
                ),
                dlr=lambda code, event: transport.publish_event(f"sms/dlr/{code}", event),
                tls=smpp_tls,
            )
        )
        publisher.add(smpp)
        transport.route(smpp.shortcodes, smpp.deliver_mo)
        support = SupportService(gateway=service, desk=TicketDesk(engine=engine, policy=policy))
        smtp_server = await start_smtp_server(
            intake=SmtpIntake(support=support, max_recipients=settings.smtp_max_recipients),
            sock=smtp_sock,
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
        service.health.watch(
            "smtp",
            lambda: (
                smtp_server.is_serving(),
                None if smtp_server.is_serving() else "not listening",
            ),
        )
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
                    "client_id": client_id,
                    "share_group": share_group,
                },
                "instance": instance,
                "shortcodes": sorted(catalogs),
                "smpp": {
                    "host": settings.smpp_host,
                    "port": smpp.port,
                    "tls": smpp_tls is not None,
                    "accounts": sorted(accounts),
                    "shortcodes": sorted(smpp.shortcodes),
                },
                "smtp": {
                    "host": settings.smtp_host,
                    "port": smtp_port,
                    "domain": settings.mail_domain,
                    "auth": settings.smtp_auth,
                    "delivery": sender.describe(),
                },
                **({} if events_relay is None else {"events": events_relay.describe}),
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
        http_port = int(http_sock.getsockname()[1])
        async with asyncio.TaskGroup() as transports:
            mqtt_task = transports.create_task(transport.run(service), name="scgw-mqtt")
            http_task = transports.create_task(server.serve(sockets=[http_sock]), name="scgw-http")
            while not server.started and not http_task.done():  # noqa: ASYNC110 - no event
                await asyncio.sleep(0.01)
            if http_task.done():
                mqtt_task.cancel()
                return
            log.info(
                "gateway_started",
                http=f"http://{settings.http_host}:{http_port}",
                mqtt=endpoint.url,
                smtp=f"smtp://{settings.smtp_host}:{smtp_port}",
                smpp=f"{'smpps' if smpp_tls else 'smpp'}://{settings.smpp_host}:{smpp.port}",
                instance=instance,
                mqtt_client_id=client_id,
                mqtt_share_group=share_group,
                mail_domain=settings.mail_domain,
                mail_delivery=sender.describe(),
                clock=clock.mode,
                now=clock.now().isoformat(),
                event_loop=loop_name(),
                database=settings.database_url,
                shortcodes=sorted(catalogs),
                **_clock_note(settings, database.virtual_now),
            )
            if on_ready is not None:
                on_ready(
                    Running(
                        settings.http_host, http_port, host, port, smtp_port, service, smpp.port
                    )
                )
            await http_task  # returns on SIGINT/SIGTERM: HTTP has stopped taking requests
            # an orderly stop: no more intake, the last batch committed, its replies out
            smtp_server.close()
            transport.pause_intake()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await service.settle()
            mqtt_task.cancel()
        log.info("gateway_stopped")
