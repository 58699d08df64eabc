"""A gateway of a test's own, run in this process on a thread with its own event loop.

Why a thread and not a child process: the gateway starts in a fraction of a second
(no interpreter to start, nothing to import twice), a blocking test can call it without
freezing it, and an ``async`` test's loop is never shared with it. Isolation holds
because everything a gateway owns is its own: a fresh SQLite file, free ports, its own
broker (a private mosquitto, or amqtt in the gateway's loop), its own settings built
from their defaults (the ``SCGW_*`` variables of the environment are not read). The
host's logging is left as it is: the gateway logs through structlog as the host set it up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVarTuple

import structlog

from gateway.bootstrap import Running, serve
from gateway.client import Client
from gateway.settings import Settings
from gateway.testing.brokers import BrokerChoice, Mosquitto, find_mosquitto

__all__ = ["DEFAULT_CLOCK_START", "GatewayConfig", "RunningGateway"]

#: where a test gateway's virtual clock starts unless told otherwise
DEFAULT_CLOCK_START = datetime.fromisoformat("2026-03-10T10:00:00+07:00")


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """How a test gateway is set up (the ``scgw`` marker's and a scenario's keys)."""

    clock_start: datetime = DEFAULT_CLOCK_START
    #: catalog files; ``None``: the four shipped ones
    catalogs: tuple[Path, ...] | None = None
    auto_provision: bool = True
    default_balance: int = 50_000
    broker: BrokerChoice = "auto"
    #: any other :class:`~gateway.settings.Settings` field, e.g. ``{"mo_rate_limit": 5}``
    settings: Mapping[str, Any] = field(default_factory=dict)

    def build(self, *, workdir: Path, mqtt_url: str | None) -> Settings:
        """Settings from their defaults (not the environment), then ours, then ``settings``."""
        values: dict[str, Any] = {
            name: info.get_default(call_default_factory=True)
            for name, info in Settings.model_fields.items()
        }
        values.update(
            mqtt_url=mqtt_url,
            mqtt_protocol="auto" if mqtt_url is None else values["mqtt_protocol"],
            mqtt_client_id=f"scgw-test-{id(self):x}-{workdir.name}",
            http_host="127.0.0.1",
            http_port=0,
            smtp_host="127.0.0.1",
            smtp_port=0,
            smpp_port=0,
            database_url=f"sqlite:///{workdir / 'scgw.db'}",
            # a test machine's power is not lost mid-test: NORMAL is as safe here, and faster
            sqlite_synchronous="NORMAL",
            clock="virtual",
            clock_start=self.clock_start,
            auto_provision=self.auto_provision,
            default_balance=self.default_balance,
            # a harness sends bursts on purpose
            mo_rate_limit=0,
        )
        if self.catalogs is not None:
            values["catalogs"] = list(self.catalogs)
        values.update(self.settings)
        return Settings(**values)


_Ts = TypeVarTuple("_Ts")


class _HarnessLoop(asyncio.SelectorEventLoop):
    """An event loop off the main thread, where signals cannot be watched: ``serve``'s
    SIGINT/SIGTERM handlers are kept, and :meth:`RunningGateway.stop` calls them."""

    def __init__(self) -> None:
        super().__init__()
        self.signal_handlers: dict[int, Callable[[], object]] = {}

    def add_signal_handler(self, sig: int, callback: Callable[[*_Ts], object], *args: *_Ts) -> None:
        self.signal_handlers[sig] = lambda: callback(*args)

    def remove_signal_handler(self, sig: int) -> bool:
        return self.signal_handlers.pop(sig, None) is not None


@contextlib.asynccontextmanager
async def _embedded_broker() -> AsyncIterator[int]:
    from gateway.adapters.broker import embedded_broker

    async with embedded_broker("127.0.0.1", 0) as port:
        yield port


class RunningGateway:
    """Start with :meth:`start` (or ``with``); ``client``, ``http_url``, ``mqtt_url`` and
    ``smtp_port`` are then set; :meth:`stop` shuts it down as SIGTERM would."""

    def __init__(self, config: GatewayConfig, *, workdir: Path) -> None:
        self.config = config
        self.workdir = workdir
        self.settings: Settings | None = None
        self.running: Running | None = None
        self.broker: str = "none"
        self._mosquitto: Mosquitto | None = None
        self._loop: _HarnessLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._client: Client | None = None

    # -- what a test talks to -----------------------------------------------------------

    @property
    def client(self) -> Client:
        if self._client is None:
            raise RuntimeError("the gateway is not running")
        return self._client

    def _up(self) -> Running:
        if self.running is None:
            raise RuntimeError("the gateway is not running")
        return self.running

    @property
    def http_url(self) -> str:
        up = self._up()
        return f"http://{up.http_host}:{up.http_port}"

    @property
    def mqtt_host(self) -> str:
        return self._up().mqtt_host

    @property
    def mqtt_port(self) -> int:
        return self._up().mqtt_port

    @property
    def mqtt_url(self) -> str:
        up = self._up()
        return f"mqtt://{up.mqtt_host}:{up.mqtt_port}"

    @property
    def smtp_port(self) -> int:
        return self._up().smtp_port

    @property
    def database_path(self) -> Path:
        return self.workdir / "scgw.db"

    # -- life ---------------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self, timeout: float = 30) -> Self:
        self.workdir.mkdir(parents=True, exist_ok=True)
        mqtt_url = self._start_broker()
        self.settings = self.config.build(workdir=self.workdir, mqtt_url=mqtt_url)
        self._thread = threading.Thread(
            target=self._run, args=(self.settings,), name=f"scgw-{self.workdir.name}", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(timeout) or self.running is None:
            self.stop()
            if self._error is not None:
                raise RuntimeError(f"the gateway did not start: {self._error}") from self._error
            raise TimeoutError(f"the gateway did not start within {timeout}s")
        self._client = Client(self.http_url)
        try:
            # ready: storage, SMTP and the broker connection (subscriptions in place)
            self._client.wait_ready(timeout)
        except TimeoutError:
            self.stop()
            raise
        return self

    def _start_broker(self) -> str | None:
        choice = self.config.broker
        program = find_mosquitto() if choice != "embedded" else None
        if choice == "mosquitto" and program is None:
            raise RuntimeError("broker=mosquitto, but no mosquitto program is installed")
        if program is None:
            self.broker = "embedded"
            return None
        self._mosquitto = Mosquitto(program, self.workdir).start()
        self.broker = "mosquitto"
        return self._mosquitto.url

    def _run(self, settings: Settings) -> None:
        configured = _quiet_unless_configured()

        def ready(running: Running) -> None:
            self.running = running
            self._ready.set()

        async def main() -> None:
            loop = asyncio.get_running_loop()
            assert isinstance(loop, _HarnessLoop)
            self._loop = loop
            if settings.mqtt_url is not None:
                await serve(settings, on_ready=ready, configure_logs=False)
                return
            async with _embedded_broker() as port:
                await serve(
                    settings.model_copy(
                        update={"mqtt_url": f"mqtt://127.0.0.1:{port}", "mqtt_protocol": "3.1.1"}
                    ),
                    on_ready=ready,
                    configure_logs=False,
                )

        try:
            with asyncio.Runner(loop_factory=_HarnessLoop) as runner:
                runner.run(main())
        except BaseException as exc:  # reported by start() or stop()
            self._error = exc
        finally:
            if configured:  # leave structlog as the host had it
                structlog.reset_defaults()
            self._ready.set()

    def stop(self, timeout: float = 30) -> None:
        """Shut the gateway down (as on SIGTERM), then its broker. Raises what the
        gateway's loop died of, if it did."""
        if self._client is not None:
            self._client.close()
            self._client = None
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            handler = loop.signal_handlers.get(15)
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                if handler is not None:
                    loop.call_soon_threadsafe(handler)
            thread.join(timeout)
        self._thread = None
        self._loop = None
        self.running = None
        if self._mosquitto is not None:
            self._mosquitto.stop()
            self._mosquitto = None
        error, self._error = self._error, None
        if error is not None and not isinstance(error, KeyboardInterrupt):
            raise RuntimeError(f"the gateway failed: {error!r}") from error


def _stderr_logger(*_: object) -> structlog.PrintLogger:
    """A logger on the stderr of the moment (pytest swaps it for each test's capture)."""
    return structlog.PrintLogger(sys.stderr)


def _quiet_unless_configured() -> bool:
    """A host that set structlog up keeps its setup; otherwise the gateway's traffic log
    (INFO, one line per MO and MT) would land in the test's output: warnings and worse
    go to stderr instead. Returns whether it configured structlog (to undo it after)."""
    if structlog.is_configured():
        return False
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    return True
