"""The SMPP section: MO -> deliver_sm and submit_sm -> receipt round trips per second of
the gateway against a bare SMPP echo peer, in the same run, as a ratio.

The echo peer (``bench.py --worker smpp_echo``, its own process) is the gateway's SMPP
session layer and codec with nothing behind them: a handsets ``submit_sm`` to 9029 is
answered and forwarded at once as ``deliver_sm`` to the bound application, an
application's ``submit_sm`` is answered and followed at once by its DELIVRD receipt. The
gateway does the same through its pipeline: the MO stored in ``smpp_queue`` before it is
answered, the MT committed to the outbox and its receipt queued. The same smpp34 client
(a Rust codec, in this process) drives both, closed loop, at most ``--window`` requests
outstanding, after a warm-up.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC
from typing import Any

import smpp34

from benchmarks.common import MQTT_CLOCK, BenchError, Context, Json, emit, figures, msisdn, say
from benchmarks.processes import broker, gateway_env, worker
from gateway.adapters.smpp.codec import Status, text_field
from gateway.adapters.smpp.delivery import send_receipt, send_text
from gateway.adapters.smpp.receipts import MESSAGE_STATE, receipt_text
from gateway.adapters.smpp.session import Session
from tests.support import GatewayProcess, free_port

__all__ = ["echo_worker", "smpp_lines", "smpp_section"]

SHORTCODE = "9029"
#: the built-in demo accounts, which the echo peer accepts too
HANDSETS, APP = ("handsets", "handsets"), ("app9029", "s3cret")
#: round trips of the full run at most: the gateway commits each one (fsync), so a run of
#: 20,000 would take minutes for no better figure
FULL_COUNT, FULL_WARMUP = 2000, 100
LOOPS = (("mo", "MO -> deliver_sm"), ("mt", "submit_sm -> receipt"))


# -- the bare echo peer ----------------------------------------------------------------


class _Echo:
    """A ``SessionHandler`` that answers at once and echoes (see the module docstring)."""

    def __init__(self) -> None:
        self._apps: list[Session] = []
        self._ids = itertools.count(1)
        self._turn = itertools.count()
        self._tasks: set[asyncio.Task[None]] = set()

    async def accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await Session(reader=reader, writer=writer, handler=self, system_id="echo").serve()

    async def bind(self, session: Session, bind_type: str, system_id: str, password: str) -> int:
        if system_id == APP[0] and bind_type != "transmitter":
            self._apps.append(session)
        return Status.ROK

    async def submit(self, session: Session, pdu: Any) -> tuple[int, str]:
        message_id = f"e{next(self._ids)}"
        source = text_field(pdu, "source_addr")
        destination = text_field(pdu, "destination_addr")
        text = bytes(pdu.short_message or b"").decode("ascii")
        if session.account == APP[0]:
            receipt = receipt_text(
                message_id=message_id, state="DELIVRD", submitted=MQTT_CLOCK, done=MQTT_CLOCK,
                text=text, tz=UTC,
            )  # fmt: skip
            work = send_receipt(
                session,
                subscriber=destination,
                shortcode=source,
                text=receipt,
                receipted_id=message_id,
                message_state=MESSAGE_STATE["DELIVRD"],
            )
        else:
            apps = [s for s in self._apps if s.can_receive]
            if not apps:
                return Status.RSUBMITFAIL, ""
            app = apps[next(self._turn) % len(apps)]
            work = send_text(app, source=source, destination=destination, text=text, dest_ton=0)
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return Status.ROK, message_id

    async def query(self, session: Session, pdu: Any) -> tuple[int, dict[str, Any]]:
        return Status.RQUERYFAIL, {}

    async def cancel(self, session: Session, request: Any) -> int:
        return Status.RCANCELFAIL

    def closed(self, session: Session) -> None:
        if session in self._apps:
            self._apps.remove(session)


async def echo_worker(cfg: Mapping[str, Any]) -> None:
    """``--worker smpp_echo``: the echo peer on ``cfg["port"]`` until terminated."""
    echo = _Echo()
    server = await asyncio.start_server(echo.accept, "127.0.0.1", int(cfg["port"]))
    emit("ready")
    async with server:
        await server.serve_forever()


# -- the client that measures ----------------------------------------------------------


class _Arrivals:
    """Futures keyed by MO text or receipted message id, whichever comes first."""

    def __init__(self) -> None:
        self._waiting: dict[str, asyncio.Future[None]] = {}

    def get(self, key: str) -> asyncio.Future[None]:
        if key not in self._waiting:
            self._waiting[key] = asyncio.get_running_loop().create_future()
        return self._waiting[key]

    async def pop(self, key: str) -> None:
        await asyncio.wait_for(self.get(key), 60)
        del self._waiting[key]

    async def read(self, session: smpp34.Smsc) -> None:
        while True:
            event = await session.next()
            if not isinstance(event, smpp34.DeliverSmEvent):
                return
            text = event.short_message.decode("ascii", "replace")
            key = text.split(" ", 1)[0].removeprefix("id:") if event.esm_class & 0x04 else text
            future = self.get(key)
            if not future.done():
                future.set_result(None)


async def _closed_loop(
    send: Callable[[int], Awaitable[None]], count: int, warmup: int, window: int
) -> Json:
    latencies: list[float] = []
    slots = asyncio.Semaphore(window)

    async def one(i: int) -> None:
        async with slots:
            started = time.perf_counter()
            await send(i)
            if i >= warmup:
                latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(one(i) for i in range(warmup)))
    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(warmup, warmup + count)))
    return figures(latencies, start, time.perf_counter())


async def _measure(port: int, count: int, warmup: int, window: int) -> Json:
    """Both loops against the SMSC on ``port``."""

    def client(account: tuple[str, str], bind_type: str) -> smpp34.Client:
        return smpp34.Client("127.0.0.1", port, *account, bind_type=bind_type, window_size=window)

    arrivals = _Arrivals()
    handsets = await client(HANDSETS, "TX").connect()
    app = await client(APP, "TRX").connect()
    reader = asyncio.ensure_future(arrivals.read(app))
    tag = uuid.uuid4().hex[:6]

    async def mo(i: int) -> None:
        text = f"mo {tag} {i}"
        arrived = arrivals.get(text)
        response = await handsets.submit_sm(SHORTCODE, text.encode(), source_addr=msisdn(i))
        if response.command_status != 0:
            raise BenchError(f"submit_sm of an MO: status 0x{response.command_status:08X}")
        await asyncio.wait_for(arrived, 60)
        await arrivals.pop(text)

    async def mt(i: int) -> None:
        response = await app.submit_sm(
            msisdn(i), f"mt {tag} {i}".encode(), source_addr=SHORTCODE, registered_delivery=1
        )
        if response.command_status != 0 or not response.message_id:
            raise BenchError(f"submit_sm of an MT: status 0x{response.command_status:08X}")
        await arrivals.pop(response.message_id)

    try:
        return {
            "mo": await _closed_loop(mo, count, warmup, window),
            "mt": await _closed_loop(mt, count, warmup, window),
        }
    finally:
        await asyncio.gather(handsets.unbind(), app.unbind(), return_exceptions=True)
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)


def smpp_section(ctx: Context) -> Json:
    cfg = ctx.cfg
    count, warmup = min(cfg.messages, FULL_COUNT), min(cfg.warmup, FULL_WARMUP)
    out: Json = {"count": count, "window": cfg.window}
    port = free_port()
    with worker("smpp_echo", {"port": port}, ctx.workdir):
        say(f"smpp: echo peer, {count:,} round trips of each kind")
        out["echo"] = asyncio.run(_measure(port, count, warmup, cfg.window))
    with broker(ctx.workdir) as mosquitto:
        env = gateway_env(mosquitto, ctx.workdir / "smpp.db", MQTT_CLOCK)
        gw = GatewayProcess(ctx.workdir, env)
        try:
            gw.start(timeout=120)
            say(f"smpp: gateway, {count:,} round trips of each kind")
            out["gateway"] = asyncio.run(_measure(gw.smpp_port, count, warmup, cfg.window))
        except smpp34.SmppError as exc:
            raise BenchError(f"smpp: the gateway: {exc}") from exc
        finally:
            gw.stop()
    for key, _ in LOOPS:
        out[f"{key}_ratio"] = out["gateway"][key]["rate"] / out["echo"][key]["rate"]
    return out


def smpp_lines(smpp: Json) -> list[str]:
    """The section's lines of the printed report."""
    lines = [
        f"smpp (closed loop, {smpp['count']:,} round trips, at most {smpp['window']} outstanding;"
        " smpp34 client)",
        "  run                             rt/s    p50 ms    p99 ms",
    ]
    for key, label in LOOPS:
        for peer in ("echo", "gateway"):
            r = smpp[peer][key]
            lines.append(
                f"  {label + ', ' + peer:<28}{r['rate']:>8,.1f}{r['p50_ms']:>10.2f}"
                f"{r['p99_ms']:>10.2f}"
            )
    lines += [
        f"  gateway / echo: MO -> deliver_sm {smpp['mo_ratio']:.2f},"
        f" submit_sm -> receipt {smpp['mt_ratio']:.2f}",
        "",
    ]
    return lines
