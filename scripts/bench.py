"""Benchmarks for shortcode-gateway: MQTT round trips, bulk renewals, scale and start-up.

``scripts/bench`` (or ``python scripts/bench.py``) sets up everything it needs itself: a
mosquitto on a free port, temporary SQLite files (bulk-loaded with sqlite3), the gateway as
``python -m gateway serve`` with a virtual clock, and every load generator, echo responder
and counter as a separate Python process (aiomqtt, MQTT 5), so that nothing shares a GIL
with what it measures. It prints a table, writes every figure to JSON and, with
``--chart``, a PNG (matplotlib, optional).

Sections (``--only``):

* ``mqtt``: closed loop, N MOs from M subscribers at QoS 1 with at most W outstanding,
  against a bare echo responder and against the gateway, on the same broker; then an
  open loop at half the gateway's closed-loop rate against both.
* ``scale``: the gateway's closed-loop figure with a small and a large subscriber table.
* ``startup``: spawn to ``/api/health`` reporting MQTT connected, on the large table.
* ``renewals``: K postpaid ZL30 packs due at the same instant, one clock advance past it:
  time to commit, time to publish every notification, drain rate against a bare
  publisher of the same messages, peak RSS of the gateway.

Every target of the issue is printed as met / not met; a run at smaller sizes than a target
names marks its verdict with ``*`` (the 1M commit time is then projected linearly).
``--quick`` is the tiny run that the test suite uses (it checks that the benchmark works,
not how fast). ``--fail-on-miss`` exits 1 when a target is not met.

Measurement choices, each found to matter on a 2-CPU machine:

* mosquitto runs with ``set_tcp_nodelay true`` (``--broker-nagle`` for the stock
  configuration of tests/support.py): with Nagle's algorithm on in the broker, a bare echo
  answers in ~25 ms at p50 even at 200 messages/s, which would swamp every latency figure.
  The harness's own clients set TCP_NODELAY, and so does the gateway's.
* The bare publisher of the renewal baseline keeps a sliding window of ``--bare-window``
  (100) unacknowledged messages: aiomqtt scans all pending calls on every publish, so one
  gather of thousands is quadratic and several times slower (the gateway's outbox
  publishes in windows of 256 for the same reason).
* Figures from a machine that is busy elsewhere are noisy; the load average at the start
  is recorded in the JSON, and a warning printed when it is high.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib
import json
import math
import os
import platform
import queue
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt
import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support import MOSQUITTO, GatewayProcess, Mosquitto, _wait_port  # noqa: E402

Json = dict[str, Any]

SECTIONS = ("mqtt", "scale", "startup", "renewals")
MO_TOPIC = "sms/mo/888"
MT_TOPICS = "sms/mt/#"
TEXTS = ("DK ZL7", "KTTK_ZL", "HUY ZL7")
#: the same in-flight limit as the gateway's own MQTT client
INFLIGHT = 1000
BALANCE = 1_000_000_000
MQTT_CLOCK = dt.datetime.fromisoformat("2026-03-10T10:00:00+07:00")
#: every postpaid ZL30 renews at 00:00 on the 1st of the month
RENEWAL_DUE = dt.datetime.fromisoformat("2026-04-01T00:00:00+07:00")
RENEWAL_START = dt.datetime.fromisoformat("2026-03-01T00:00:00+07:00")
IDLE_TIMEOUT = 120.0
#: the harness's own clients switch Nagle's algorithm off, so that they add no delayed-ACK
#: waits of their own to what they measure
NODELAY = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class BenchError(RuntimeError):
    """The benchmark could not measure something (not: a target was missed)."""


def msisdn(index: int) -> str:
    """The canonical MSISDN of bulk-loaded subscriber ``index`` (84 9xxxxxxxx)."""
    return f"849{index:08d}"


def micros(at: dt.datetime) -> int:
    """An aware instant as integer microseconds since the epoch, as the gateway stores it."""
    delta = at - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def percentile(ordered: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted sequence."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


# ==========================================================================================
# Workers: each runs in its own process (``bench.py --worker ROLE --worker-config JSON``)
# and talks to the parent with JSON lines on stdout: {"event": "ready"}, {"event": "result"}.
# ==========================================================================================


def _emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def _client(port: int, name: str) -> aiomqtt.Client:
    client = aiomqtt.Client(
        "127.0.0.1",
        port,
        identifier=f"bench-{name}-{os.getpid()}",
        protocol=aiomqtt.ProtocolVersion.V5,
        max_inflight_messages=INFLIGHT,
        timeout=60,
        socket_options=[NODELAY],
    )
    client.pending_calls_threshold = 1_000_000
    return client


def _payload(message: aiomqtt.Message) -> bytes:
    body = message.payload
    return body if isinstance(body, bytes) else str(body).encode()


class _Tasks:
    """Keeps fire-and-forget publish tasks alive and surfaces their first error."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self.error: BaseException | None = None

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None and self.error is None:
            self.error = task.exception()

    async def join(self) -> None:
        await asyncio.gather(*self._tasks)
        if self.error is not None:
            raise self.error


async def echo_worker(cfg: Mapping[str, Any]) -> None:
    """A bare responder: subscribe, parse JSON, publish a reply. No rules, no storage."""
    async with _client(cfg["port"], "echo") as client:
        await client.subscribe("sms/mo/#", qos=1)
        tasks = _Tasks()
        _emit("ready")
        async for message in client.messages:
            data = json.loads(_payload(message))
            reply = json.dumps({"id": uuid.uuid4().hex, "in_reply_to": data["id"], "text": "ok"})
            tasks.spawn(client.publish(f"sms/mt/{data['from']}", reply, qos=1))


class _Tracker:
    """Matches replies to outstanding MOs by ``in_reply_to`` and records latencies."""

    def __init__(self) -> None:
        self.pending: dict[str, float] = {}
        self.latencies: list[float] = []
        self.last_reply = 0.0
        self.unmatched = 0
        self.slots: asyncio.Semaphore | None = None

    def reset(self, slots: asyncio.Semaphore | None) -> None:
        self.latencies, self.slots = [], slots

    async def receive(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            now = time.perf_counter()
            sent = self.pending.pop(json.loads(_payload(message)).get("in_reply_to"), None)
            if sent is None:
                self.unmatched += 1
                continue
            self.latencies.append(now - sent)
            self.last_reply = now
            if self.slots is not None:
                self.slots.release()

    async def wait_all(self, idle: float) -> None:
        seen, since = len(self.latencies), time.monotonic()
        while self.pending:
            await asyncio.sleep(0.02)
            if len(self.latencies) != seen:
                seen, since = len(self.latencies), time.monotonic()
            elif time.monotonic() - since > idle:
                raise BenchError(f"{len(self.pending)} MOs unanswered after {idle:.0f}s")


def _plan(cfg: Mapping[str, Any]) -> list[tuple[str, bytes]]:
    """The MOs: subscriber ``i % M``, each cycling through TEXTS, unique ids per run."""
    senders, stride, offset, tag = cfg["senders"], cfg["stride"], cfg["offset"], cfg["tag"]
    plan = []
    for i in range(offset, offset + cfg["warmup"] + cfg["count"]):
        sender = msisdn((i % senders) * stride)
        text = TEXTS[(i // senders) % len(TEXTS)]
        message_id = f"{tag}-{i}"
        body = json.dumps({"id": message_id, "from": sender, "text": text}).encode()
        plan.append((message_id, body))
    return plan


def _figures(latencies: list[float], start: float, end: float) -> Json:
    ordered = sorted(latencies)
    seconds = max(end - start, 1e-9)
    return {
        "count": len(ordered),
        "seconds": seconds,
        "rate": len(ordered) / seconds,
        "p50_ms": percentile(ordered, 50) * 1e3,
        "p95_ms": percentile(ordered, 95) * 1e3,
        "p99_ms": percentile(ordered, 99) * 1e3,
        "max_ms": (ordered[-1] if ordered else 0.0) * 1e3,
    }


async def _closed(
    client: aiomqtt.Client, tracker: _Tracker, plan: Sequence[tuple[str, bytes]], window: int
) -> Json:
    slots = asyncio.Semaphore(window)
    tracker.reset(slots)
    tasks = _Tasks()
    start = time.perf_counter()
    for message_id, body in plan:
        async with asyncio.timeout(IDLE_TIMEOUT):
            await slots.acquire()
        tracker.pending[message_id] = time.perf_counter()
        tasks.spawn(client.publish(MO_TOPIC, body, qos=1))
    await tracker.wait_all(IDLE_TIMEOUT)
    await tasks.join()
    return _figures(tracker.latencies, start, tracker.last_reply)


async def _open(
    client: aiomqtt.Client, tracker: _Tracker, plan: Sequence[tuple[str, bytes]], rate: float
) -> Json:
    """Send on a fixed schedule whatever the replies; latency counts from the scheduled time."""
    tracker.reset(None)
    tasks = _Tasks()
    start = time.perf_counter() + 0.01
    sent = 0
    while sent < len(plan):
        due = min(len(plan), max(0, int((time.perf_counter() - start) * rate) + 1))
        for message_id, body in plan[sent:due]:
            tracker.pending[message_id] = start + sent / rate
            tasks.spawn(client.publish(MO_TOPIC, body, qos=1))
            sent += 1
        await asyncio.sleep(max(0.0, start + sent / rate - time.perf_counter()))
    sent_seconds = time.perf_counter() - start
    await tracker.wait_all(IDLE_TIMEOUT)
    await tasks.join()
    figures = _figures(tracker.latencies, start, tracker.last_reply)
    return {**figures, "offered_rate": rate, "sent_rate": len(plan) / sent_seconds}


async def load_worker(cfg: Mapping[str, Any]) -> None:
    """The load generator: a warm-up (closed loop), then the measured closed or open loop."""
    plan = _plan(cfg)
    warmup = cfg["warmup"]
    async with _client(cfg["port"], "load") as client:
        await client.subscribe(MT_TOPICS, qos=1)
        tracker = _Tracker()
        receiver = asyncio.create_task(tracker.receive(client))
        _emit("ready")
        if warmup:
            await _closed(client, tracker, plan[:warmup], cfg["window"])
        if cfg["mode"] == "closed":
            result = await _closed(client, tracker, plan[warmup:], cfg["window"])
        else:
            result = await _open(client, tracker, plan[warmup:], cfg["rate"])
        receiver.cancel()
    _emit("result", **result, unmatched=tracker.unmatched)


async def count_worker(cfg: Mapping[str, Any]) -> None:
    """Counts distinct MTs (by id) on ``sms/mt/#``; reports first and last arrival."""
    expected, seen = cfg["expected"], set()
    stats = {"first": 0.0, "last": 0.0, "bytes": 0, "duplicates": 0}
    async with _client(cfg["port"], "count") as client:
        await client.subscribe(MT_TOPICS, qos=1)

        async def consume() -> None:
            async for message in client.messages:
                now, body = time.monotonic(), _payload(message)
                message_id = json.loads(body)["id"]
                if message_id in seen:
                    stats["duplicates"] += 1
                    continue
                seen.add(message_id)
                stats["first"] = stats["first"] or now
                stats["last"], stats["bytes"] = now, stats["bytes"] + len(body)
                if len(seen) >= expected:
                    return

        task = asyncio.create_task(consume())
        _emit("ready")
        ready = time.monotonic()
        while not task.done():
            await asyncio.wait({task}, timeout=1)
            if time.monotonic() - (stats["last"] or ready) > cfg["idle"]:
                task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    _emit("result", count=len(seen), **stats)


def _bare_message(index: int, size: int) -> bytes:
    head = {"id": f"{index:032x}", "from": "888", "to": msisdn(index), "text": ""}
    pad = max(0, size - len(json.dumps(head)))
    return json.dumps({**head, "text": "x" * pad}).encode()


async def publish_worker(cfg: Mapping[str, Any]) -> None:
    """A bare publisher: K QoS 1 messages of a given size, at most ``window`` unacknowledged.

    A sliding window, not one gather of thousands: aiomqtt scans every pending call on
    each publish, so gathering 5,000 at once costs O(n²) and quarters the rate.
    """
    count, size, slots = cfg["count"], cfg["size"], asyncio.Semaphore(cfg["window"])
    async with _client(cfg["port"], "publish") as client:
        tasks = _Tasks()

        async def one(index: int) -> None:
            try:
                await client.publish(f"sms/mt/{msisdn(index)}", _bare_message(index, size), qos=1)
            finally:
                slots.release()

        _emit("ready")
        start = time.monotonic()
        for index in range(count):
            await slots.acquire()
            tasks.spawn(one(index))
        await tasks.join()
    _emit("result", start=start, end=time.monotonic())


WORKERS: dict[str, Callable[[Mapping[str, Any]], Coroutine[Any, Any, None]]] = {
    "echo": echo_worker,
    "load": load_worker,
    "count": count_worker,
    "publish": publish_worker,
}


def run_worker(role: str, config: str) -> int:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(WORKERS[role](json.loads(config)))
    return 0


# ==========================================================================================
# Parent side: child processes, bulk loading, the sections.
# ==========================================================================================


class Worker:
    """A worker process; its JSON lines are read by a thread, its stderr goes to a log."""

    _seq = 0

    def __init__(self, role: str, cfg: Mapping[str, Any], workdir: Path) -> None:
        Worker._seq += 1
        self.role = role
        self.log_path = workdir / f"{role}-{Worker._seq}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, __file__, "--worker", role, "--worker-config", json.dumps(cfg)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _failure(self, what: str) -> BenchError:
        tail = self.log_path.read_text(errors="replace")[-2000:]
        return BenchError(f"{self.role} worker: {what}\n{tail}")

    def expect(self, event: str, timeout: float) -> Json:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise self._failure(f"no {event!r} within {timeout:.0f}s") from None
            if line is None:
                raise self._failure(f"exited with {self.process.wait()} before {event!r}")
            message: Json = json.loads(line)
            if message.get("event") == event:
                return message

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def worker(role: str, cfg: Mapping[str, Any], workdir: Path) -> Iterator[Worker]:
    child = Worker(role, cfg, workdir)
    try:
        child.expect("ready", 60)
        yield child
    finally:
        child.stop()


class TunedMosquitto(Mosquitto):
    """The test suite's broker with ``set_tcp_nodelay true``.

    With mosquitto's default (Nagle's algorithm on), each small PUBLISH to a subscriber
    can wait for a delayed ACK: a bare echo then answers in ~25 ms at p50 even at 200
    messages/s, and that, not the gateway, would dominate every latency figure.
    """

    def start(self) -> TunedMosquitto:
        conf = self.workdir / f"mosquitto-{self.port}.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
            "persistence false\nmax_queued_messages 0\nmax_inflight_messages 0\n"
            "set_tcp_nodelay true\n"
        )
        with (self.workdir / f"mosquitto-{self.port}.log").open("ab") as log:
            self.process = subprocess.Popen(
                [MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=log
            )
        _wait_port(self.port, 10)
        return self


#: ``--broker-nagle`` uses the test suite's stock configuration instead
BROKER: list[type[Mosquitto]] = [TunedMosquitto]


@contextlib.contextmanager
def broker(workdir: Path) -> Iterator[Mosquitto]:
    mosquitto = BROKER[0](workdir)
    try:
        yield mosquitto.start()
    finally:
        mosquitto.stop()


def gateway_env(mosquitto: Mosquitto, db: Path, clock_start: dt.datetime) -> dict[str, str]:
    return {
        "SCGW_MQTT_URL": mosquitto.url,
        "SCGW_DATABASE_URL": f"sqlite:///{db}",
        "SCGW_CLOCK": "virtual",
        "SCGW_CLOCK_START": clock_start.isoformat(),
        "SCGW_LOG_LEVEL": "WARNING",
        "SCGW_SMTP_PORT": "0",  # the email channel is not measured here: any free port
        "SCGW_MQTT_CLIENT_ID": f"scgw-bench-{uuid.uuid4().hex[:12]}",
    }


async def _forget_session(port: int, client_id: str) -> None:
    """Drop a stopped gateway's persistent session, so the broker stops queueing for it."""
    async with aiomqtt.Client(
        "127.0.0.1", port, identifier=client_id, protocol=aiomqtt.ProtocolVersion.V5
    ):
        pass


@contextlib.contextmanager
def gateway(
    workdir: Path, mosquitto: Mosquitto, db: Path, clock_start: dt.datetime
) -> Iterator[GatewayProcess]:
    process = GatewayProcess(workdir, gateway_env(mosquitto, db, clock_start))
    try:
        yield process.start(timeout=120)
    finally:
        try:
            process.stop()
        except subprocess.TimeoutExpired:  # e.g. interrupted in the middle of a long advance
            process.kill()
        with contextlib.suppress(aiomqtt.MqttError, OSError):
            asyncio.run(_forget_session(mosquitto.port, process.env["SCGW_MQTT_CLIENT_ID"]))


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set size) of a running process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise BenchError(f"no VmHWM in /proc/{pid}/status")


# -- bulk loading -----------------------------------------------------------------------


def create_schema(db: Path) -> None:
    """The gateway's own schema, by opening the store once (runs the migrations)."""
    from gateway.adapters.sqlite_store import SqliteStore

    async def make() -> None:
        await (await SqliteStore(str(db)).open()).close()

    asyncio.run(make())


def _loader(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -262144")
    conn.execute("BEGIN")
    return conn


def _finish_load(conn: sqlite3.Connection) -> None:
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _insert_subscribers(
    conn: sqlite3.Connection, count: int, kind: str, balance: int, at: int
) -> None:
    conn.executemany(
        "INSERT INTO subscribers (msisdn, kind, balance, language, created_at)"
        " VALUES (?, ?, ?, NULL, ?)",
        ((msisdn(i), kind, balance, at) for i in range(count)),
    )
    conn.executemany(
        "INSERT INTO ledger (msisdn, delta, balance_after, reason, at)"
        " VALUES (?, ?, ?, 'provision', ?)",
        ((msisdn(i), balance, balance, at) for i in range(count)),
    )


def load_subscribers(db: Path, count: int) -> float:
    """``count`` prepaid subscribers with a large balance; returns the seconds it took."""
    started = time.monotonic()
    create_schema(db)
    conn = _loader(db)
    _insert_subscribers(conn, count, "prepaid", BALANCE, micros(MQTT_CLOCK - dt.timedelta(days=30)))
    _finish_load(conn)
    return time.monotonic() - started


def load_renewals(db: Path, count: int) -> float:
    """``count`` postpaid subscribers, each with an active ZL30 due at RENEWAL_DUE."""
    started = time.monotonic()
    create_schema(db)
    conn = _loader(db)
    start, due = micros(RENEWAL_START), micros(RENEWAL_DUE)
    _insert_subscribers(conn, count, "postpaid", 0, start)
    conn.executemany(
        "INSERT INTO subscriptions (id, msisdn, package, grp, status, started_at, period_start,"
        " expires_at, auto_renew, next_action_at) VALUES (?, ?, 'ZL30', 'zalo', 'active',"
        " ?, ?, ?, 1, ?)",
        ((f"{i:032x}", msisdn(i), start, start, due - 1_000_000, due) for i in range(count)),
    )
    _finish_load(conn)
    return time.monotonic() - started


def db_counts(db: Path, *queries: str) -> list[int]:
    conn = sqlite3.connect(db)
    try:
        return [int(conn.execute(q).fetchone()[0]) for q in queries]
    finally:
        conn.close()


def remove_db(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


# -- configuration ----------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    sections: tuple[str, ...]
    messages: int
    subscribers: int
    window: int
    warmup: int
    open_seconds: float
    renewals: tuple[int, ...]
    scale: tuple[int, int]
    startup_subscribers: int
    startup_runs: int
    bare_window: int


@dataclass
class Context:
    cfg: Config
    workdir: Path
    results: Json = field(default_factory=dict)
    #: the large subscriber table of ``scale``, kept for ``startup``
    big_db: Path | None = None


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- mqtt -------------------------------------------------------------------------------


def load_spec(
    cfg: Config,
    port: int,
    tag: str,
    *,
    offset: int = 0,
    stride: int = 1,
    rate: float | None = None,
) -> Json:
    """What a load generator sends: a closed loop, or an open loop at ``rate``."""
    spec: Json = {
        "port": port,
        "mode": "closed" if rate is None else "open",
        "tag": f"{tag}-{uuid.uuid4().hex[:6]}",
        "senders": cfg.subscribers,
        "stride": stride,
        "offset": offset,
        "window": cfg.window,
        "warmup": cfg.warmup if rate is None else 0,
        "count": cfg.messages,
    }
    if rate is not None:
        spec.update(rate=rate, count=max(1, round(rate * cfg.open_seconds)))
    return spec


def run_load(ctx: Context, spec: Json) -> Json:
    with worker("load", spec, ctx.workdir) as load:
        result = load.expect("result", 3600)
    if result["count"] <= 0:
        raise BenchError(f"load generator got no replies: {result}")
    result.pop("event")
    return result


def mqtt_section(ctx: Context) -> Json:
    cfg = ctx.cfg
    out: Json = {}
    db = ctx.workdir / "mqtt.db"
    say(f"mqtt: loading {cfg.subscribers} subscribers")
    load_subscribers(db, cfg.subscribers)
    sent = cfg.warmup + cfg.messages
    with broker(ctx.workdir) as mosquitto:
        port = mosquitto.port
        say(f"mqtt: echo, closed loop, {cfg.messages} MOs, window {cfg.window}")
        with worker("echo", {"port": port}, ctx.workdir):
            out["echo_closed"] = run_load(ctx, load_spec(cfg, port, "echo"))
        say("mqtt: gateway, closed loop")
        with gateway(ctx.workdir, mosquitto, db, MQTT_CLOCK):
            out["gateway_closed"] = run_load(ctx, load_spec(cfg, port, "gw"))
            rate = out["open_rate"] = 0.5 * out["gateway_closed"]["rate"]
            say(f"mqtt: gateway, open loop at {rate:,.0f}/s")
            spec = load_spec(cfg, port, "gwo", offset=sent, rate=rate)
            out["gateway_open"] = run_load(ctx, spec)
            sent += spec["count"]
        say("mqtt: echo, open loop")
        with worker("echo", {"port": port}, ctx.workdir):
            out["echo_open"] = run_load(ctx, load_spec(cfg, port, "echoo", rate=rate))
    out["ratio"] = out["gateway_closed"]["rate"] / out["echo_closed"]["rate"]
    [inbound] = db_counts(db, "SELECT count(*) FROM inbound")
    if inbound != sent:
        raise BenchError(f"the gateway recorded {inbound} MOs, {sent} were sent")
    out["mos_recorded"] = inbound
    remove_db(db)
    return out


# -- scale and start-up -----------------------------------------------------------------


def scale_section(ctx: Context) -> Json:
    cfg = ctx.cfg
    out: Json = {}
    with broker(ctx.workdir) as mosquitto:
        for label, size in zip(("small", "big"), cfg.scale, strict=True):
            db = ctx.workdir / f"scale-{size}.db"
            say(f"scale: loading {size:,} subscribers")
            loaded = load_subscribers(db, size)
            stride = max(1, size // cfg.subscribers)
            with gateway(ctx.workdir, mosquitto, db, MQTT_CLOCK):
                say(f"scale: closed loop with {size:,} subscribers in the database")
                spec = load_spec(cfg, mosquitto.port, f"s{size}", stride=stride)
                out[label] = {"subscribers": size, "load_s": loaded, **run_load(ctx, spec)}
            if label == "big" and "startup" in cfg.sections:
                ctx.big_db = db  # the start-up section reuses it
            else:
                remove_db(db)
    out["ratio"] = out["big"]["rate"] / out["small"]["rate"]
    return out


def startup_section(ctx: Context) -> Json:
    cfg, db = ctx.cfg, ctx.big_db
    if db is None:
        db = ctx.workdir / "startup.db"
        say(f"startup: loading {cfg.startup_subscribers:,} subscribers")
        load_subscribers(db, cfg.startup_subscribers)
    times = []
    with broker(ctx.workdir) as mosquitto:
        for run in range(cfg.startup_runs):
            started = time.monotonic()
            with gateway(ctx.workdir, mosquitto, db, MQTT_CLOCK):
                times.append(time.monotonic() - started)
            say(f"startup: run {run + 1}: {times[-1]:.2f}s to healthy")
    remove_db(db)
    return {
        "subscribers": cfg.startup_subscribers,
        "runs_s": times,
        "median_s": sorted(times)[len(times) // 2],
        "max_s": max(times),
    }


# -- renewals ---------------------------------------------------------------------------


def _advance(url: str) -> tuple[float, int]:
    """POST /api/clock/advance past the due instant; returns (seconds, processed)."""
    target = (RENEWAL_DUE + dt.timedelta(seconds=1)).isoformat()
    started = time.monotonic()
    response = httpx.post(f"{url}/api/clock/advance", json={"to": target}, timeout=3600)
    response.raise_for_status()
    return time.monotonic() - started, int(response.json()["processed"])


def _gateway_renewals(ctx: Context, mosquitto: Mosquitto, db: Path, k: int) -> Json:
    start = RENEWAL_DUE - dt.timedelta(hours=1)
    with gateway(ctx.workdir, mosquitto, db, start) as gw:
        spec = {"port": mosquitto.port, "expected": k, "idle": IDLE_TIMEOUT}
        with worker("count", spec, ctx.workdir) as counter:
            t0 = time.monotonic()
            commit_s, processed = _advance(gw.url)
            seen = counter.expect("result", 3600)
        assert gw.process is not None
        rss = peak_rss_mb(gw.process.pid)
    if seen["count"] != k or processed != k:
        raise BenchError(f"{k} renewals due: {processed} processed, {seen['count']} published")
    return {
        "commit_s": commit_s,
        "publish_s": seen["last"] - t0,
        "drain_rate": k / max(seen["last"] - seen["first"], 1e-9),
        "message_bytes": seen["bytes"] / k,
        "duplicates": seen["duplicates"],
        "lag_s": seen["last"] - t0 - commit_s,
        "peak_rss_mb": rss,
    }


def _bare_publish(ctx: Context, mosquitto: Mosquitto, k: int, size: int) -> Json:
    port = mosquitto.port
    count = {"port": port, "expected": k, "idle": 60}
    publish = {"port": port, "count": k, "size": size, "window": ctx.cfg.bare_window}
    with (
        worker("count", count, ctx.workdir) as counter,
        worker("publish", publish, ctx.workdir),
    ):
        seen = counter.expect("result", 3600)
    if seen["count"] != k:
        raise BenchError(f"bare publisher: {seen['count']} of {k} messages arrived")
    return {"bare_rate": k / max(seen["last"] - seen["first"], 1e-9)}


def renewal_run(ctx: Context, k: int) -> Json:
    """One K: bulk-load, advance the gateway's clock, then the bare publisher baseline."""
    db = ctx.workdir / f"renewals-{k}.db"
    say(f"renewals: loading {k:,} postpaid ZL30 packs due {RENEWAL_DUE.isoformat()}")
    loaded = load_renewals(db, k)
    with broker(ctx.workdir) as mosquitto:
        say(f"renewals: advancing the clock past {k:,} renewals")
        row = {"k": k, "load_s": loaded, **_gateway_renewals(ctx, mosquitto, db, k)}
        say(f"renewals: bare publisher, {k:,} messages of {row['message_bytes']:.0f} B")
        row.update(_bare_publish(ctx, mosquitto, k, round(row["message_bytes"])))
    row["ratio"] = row["drain_rate"] / row["bare_rate"]
    charged, unpublished = db_counts(
        db,
        "SELECT count(*) FROM charges WHERE reason = 'renewal'",
        "SELECT count(*) FROM outbox WHERE published = 0",
    )
    remove_db(db)
    if charged != k:
        raise BenchError(f"{k} renewals due, {charged} charged")
    row["unpublished_after_stop"] = unpublished
    return row


def renewals_section(ctx: Context) -> list[Json]:
    return [renewal_run(ctx, k) for k in ctx.cfg.renewals]


# -- targets and report -----------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    name: str
    goal: float
    #: True: the value must be at least the goal; False: at most
    higher: bool
    unit: str
    value: float | None
    #: how the run differs from what the target names (smaller sizes, a projection)
    note: str = ""
    aim: str = ""

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return self.value >= self.goal if self.higher else self.value <= self.goal

    @property
    def bar(self) -> str:
        unit = "" if self.unit == "x" else f" {self.unit}"
        return f"{'>=' if self.higher else '<='} {self.goal:g}{unit}{self.aim}"

    @property
    def headroom(self) -> float | None:
        """value / goal, turned so that >= 1 means met."""
        if self.value is None or self.value <= 0:
            return None
        return self.value / self.goal if self.higher else self.goal / self.value

    @property
    def verdict(self) -> str:
        if self.met is None:
            return "not run"
        text = "met" if self.met else "NOT MET"
        return f"{text}*" if self.note else text

    @property
    def measured(self) -> str:
        if self.value is None:
            return "-"
        text = f"{self.value:,.2f} {self.unit}"
        return f"{text} ({self.note})" if self.note else text

    def as_json(self) -> Json:
        return {
            **asdict(self),
            "bar": self.bar,
            "met": self.met,
            "measured": self.measured,
            "verdict": self.verdict,
        }


def _smaller(size: int, full: int = 1_000_000) -> str:
    return "" if size >= full else f"at {size:,}"


def _renewal_targets(last: Json) -> list[Target]:
    """The 1M renewal targets; a smaller K projects its commit time linearly to 1M."""
    k = last.get("k", 1_000_000)
    at_k = _smaller(k)
    commit = last.get("commit_s")
    if commit is not None and k < 1_000_000:
        commit *= 1_000_000 / k
    projected = f"projected from {k:,}" if at_k else ""
    return [
        Target("1M simultaneous renewals committed", 60, False, "s", commit, projected),
        Target("renewal notifications drain / bare publish", 0.8, True, "x", last.get("ratio"),
               at_k),
        Target("peak RSS during 1M renewals", 400, False, "MB", last.get("peak_rss_mb"), at_k),
    ]  # fmt: skip


def targets(results: Json) -> list[Target]:
    mqtt, scale = results.get("mqtt", {}), results.get("scale", {})
    startup = results.get("startup", {})
    big = scale.get("big", {}).get("subscribers", 1_000_000)
    return [
        Target("gateway / echo round-trip throughput", 0.6, True, "x", mqtt.get("ratio"),
               aim=" (aim 0.8)"),
        Target("p99 MO->MT latency at 50% of max load", 20, False, "ms",
               mqtt.get("gateway_open", {}).get("p99_ms")),
        *_renewal_targets((results.get("renewals") or [{}])[-1]),
        Target("throughput 1M subscribers / 1k subscribers", 0.9, True, "x", scale.get("ratio"),
               _smaller(big)),
        Target("start-up to healthy with 1M subscribers", 1.5, False, "s", startup.get("max_s"),
               _smaller(startup.get("subscribers", 1_000_000))),
    ]  # fmt: skip


def _row(cells: Sequence[object], widths: Sequence[int]) -> str:
    out = []
    for cell, width in zip(cells, widths, strict=True):
        text = f"{cell:,.1f}" if isinstance(cell, float) else str(cell)
        out.append(text.ljust(-width) if width < 0 else text.rjust(abs(width)))
    return "  ".join(out).rstrip()


def _table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    cells: list[list[object]] = [list(header), *[list(r) for r in rows]]
    widths = [
        max(len(f"{c:,.1f}" if isinstance(c, float) else str(c)) for c in col)
        for col in zip(*cells, strict=True)
    ]
    widths = [-widths[0], *widths[1:]]
    return [title, *("  " + _row(r, widths) for r in cells), ""]


def _mqtt_lines(mqtt: Json) -> list[str]:
    rows = []
    for key, label in (
        ("echo_closed", "echo, closed loop"),
        ("gateway_closed", "gateway, closed loop"),
        ("echo_open", "echo, open loop"),
        ("gateway_open", "gateway, open loop"),
    ):
        r = mqtt.get(key)
        if r:
            rows.append(
                [label, r["count"], r["rate"], r["p50_ms"], r["p95_ms"], r["p99_ms"], r["max_ms"]]
            )
    lines = _table(
        "mqtt (QoS 1, MO -> MT round trips)",
        ["run", "msgs", "rt/s", "p50 ms", "p95 ms", "p99 ms", "max ms"],
        rows,
    )
    lines.insert(
        -1,
        f"  gateway / echo throughput: {mqtt['ratio']:.2f}; open loop offered "
        f"{mqtt['open_rate']:,.0f}/s (0.5 x gateway closed loop)",
    )
    return lines


def _renewal_lines(rows: Sequence[Json]) -> list[str]:
    keys = ("load_s", "commit_s", "publish_s", "drain_rate", "bare_rate")
    lines = _table(
        "renewals (postpaid ZL30, all due at one instant, one clock advance)",
        ["K", "load s", "commit s", "publish s", "drain/s", "bare/s", "ratio", "RSS MB"],
        [
            [f"{r['k']:,}", *(r[k] for k in keys), f"{r['ratio']:.2f}", r["peak_rss_mb"]]
            for r in rows
        ],
    )
    lines.insert(
        -1,
        "  commit: the advance returned; publish: the last notification arrived (both from the"
        " advance);\n  drain/s: K / (last - first arrival); bare/s: the same count by a bare"
        " aiomqtt publisher",
    )
    return lines


def _scale_lines(scale: Json) -> list[str]:
    rows = [
        [f"{r['subscribers']:,}", r["rate"], r["p50_ms"], r["p99_ms"]]
        for r in (scale["small"], scale["big"])
    ]
    lines = _table(
        "scale (closed loop; subscribers already in the database)",
        ["subscribers", "rt/s", "p50 ms", "p99 ms"],
        rows,
    )
    lines.insert(-1, f"  ratio big / small: {scale['ratio']:.2f}")
    return lines


def _target_lines(found: Sequence[Target]) -> list[str]:
    rows = [[t.name, t.measured, t.bar, t.verdict] for t in found]
    lines = _table("targets", ["target", "measured", "bar", "met?"], rows)
    if any(t.note and t.met is not None for t in found):
        lines.insert(-1, "  * at smaller sizes than the target names: indicative only")
    return lines


def report(results: Json, found: Sequence[Target]) -> str:
    meta = results["meta"]
    lines = [
        f"shortcode-gateway benchmark: {meta['date']}, {meta['host']}, {meta['cpus']} CPUs,"
        f" Python {meta['python']}",
        "",
    ]
    if "mqtt" in results:
        lines += _mqtt_lines(results["mqtt"])
    if "scale" in results:
        lines += _scale_lines(results["scale"])
    if "startup" in results:
        s = results["startup"]
        runs = ", ".join(f"{t:.2f}" for t in s["runs_s"])
        lines += [f"startup ({s['subscribers']:,} subscribers): {runs} s to healthy", ""]
    if results.get("renewals"):
        lines += _renewal_lines(results["renewals"])
    return "\n".join(lines + _target_lines(found))


def _chart_mqtt(axes: Any, mqtt: Json) -> None:
    runs = [k for k in ("echo_closed", "gateway_closed", "echo_open", "gateway_open") if k in mqtt]
    labels = [k.replace("_", "\n") for k in runs]
    axes[0].bar(labels, [mqtt[k]["rate"] for k in runs])
    axes[0].set_title("MO -> MT round trips per second")
    width = 0.25
    for i, pct in enumerate(("p50_ms", "p95_ms", "p99_ms")):
        xs = [x + (i - 1) * width for x in range(len(runs))]
        axes[1].bar(xs, [mqtt[k][pct] for k in runs], width, label=pct.removesuffix("_ms"))
    axes[1].set_xticks(range(len(runs)), labels)
    axes[1].set_title("latency, ms")
    axes[1].legend()


def _chart_renewals(axis: Any, rows: Sequence[Json]) -> None:
    ks = [r["k"] for r in rows]
    for key in ("commit_s", "publish_s"):
        axis.plot(ks, [r[key] for r in rows], marker="o", label=key.removesuffix("_s"))
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("K renewals due at one instant")
    axis.set_title("renewals: seconds after the clock advance")
    axis.legend()


def _chart_targets(axis: Any, found: Sequence[Target]) -> None:
    measured = [t for t in found if t.headroom is not None]
    axis.barh(
        [t.name.replace(" / ", " /\n", 1) for t in measured],
        [t.headroom for t in measured],
        color=["tab:green" if t.met else "tab:red" for t in measured],
    )
    axis.axvline(1, color="black", linewidth=1)
    axis.set_title("targets: measured vs bar (>= 1 is met)")


def write_chart(results: Json, found: Sequence[Target], path: Path) -> None:
    try:
        matplotlib = importlib.import_module("matplotlib")
    except ImportError:
        say(
            f"--chart: matplotlib is not installed, so no chart was written to {path}"
            " (.venv/bin/pip install matplotlib)"
        )
        return
    matplotlib.use("Agg")
    plt = importlib.import_module("matplotlib.pyplot")
    fig, axes = plt.subplots(2, 2, figsize=(14, 9))
    if "mqtt" in results:
        _chart_mqtt(axes[0], results["mqtt"])
    if results.get("renewals"):
        _chart_renewals(axes[1][0], results["renewals"])
    _chart_targets(axes[1][1], found)
    fig.suptitle(f"shortcode-gateway benchmark, {results['meta']['date']}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    say(f"bench: chart written to {path}")


# -- main -------------------------------------------------------------------------------


def _positive(text: str) -> int:
    value = int(text.replace("_", ""))
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _ints(text: str) -> tuple[int, ...]:
    return tuple(_positive(x) for x in text.split(",") if x.strip())


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Benchmark shortcode-gateway (mosquitto, SQLite and the gateway are"
        " started here, on free ports, in a temporary folder).",
    )
    p.add_argument(
        "--only", default=",".join(SECTIONS), help="sections: mqtt,scale,startup,renewals"
    )
    p.add_argument("--quick", action="store_true", help="tiny sizes (the test suite's smoke run)")
    p.add_argument(
        "--json",
        type=Path,
        default=REPO / "test-artifacts" / "bench-results.json",
        help="where to write every figure (default test-artifacts/bench-results.json)",
    )
    p.add_argument("--chart", type=Path, help="write a PNG chart (needs matplotlib)")
    p.add_argument("-n", "--messages", type=_positive, help="measured MOs per run (default 20000)")
    p.add_argument("--subscribers", type=_positive, help="simulated senders M (default 1000)")
    p.add_argument(
        "--window", type=_positive, default=64, help="outstanding MOs at most (default 64)"
    )
    p.add_argument("--warmup", type=int, help="MOs before measuring (default 500)")
    p.add_argument("--open-seconds", type=float, help="open-loop duration (default 10)")
    p.add_argument("--renewals", type=_ints, help="K values (default 10000,100000,1000000)")
    p.add_argument("--scale", type=_ints, help="small,big subscriber tables (default 1000,1000000)")
    p.add_argument("--startup-runs", type=_positive, default=3, help="start-ups timed (default 3)")
    p.add_argument(
        "--bare-window",
        type=_positive,
        default=100,
        help="unacknowledged QoS 1 messages of the bare publisher baseline (default 100)",
    )
    p.add_argument(
        "--broker-nagle",
        action="store_true",
        help="mosquitto with its default set_tcp_nodelay false (slow small messages)",
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, DBs)")
    p.add_argument("--fail-on-miss", action="store_true", help="exit 1 when a target is not met")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--worker-config", help=argparse.SUPPRESS)
    return p


def make_config(args: argparse.Namespace) -> Config:
    quick = bool(args.quick)
    sections = tuple(s.strip() for s in args.only.split(",") if s.strip())
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown section(s) {sorted(unknown)}: choose from {SECTIONS}")
    scale = args.scale or ((1000, 5000) if quick else (1000, 1_000_000))
    senders = args.subscribers or (100 if quick else 1000)
    if len(scale) != 2 or min(scale) < senders:
        raise SystemExit(
            f"--scale takes two sizes, small,big, each at least --subscribers {senders}"
        )
    return Config(
        sections=tuple(s for s in SECTIONS if s in sections),
        messages=args.messages or (200 if quick else 20_000),
        subscribers=senders,
        window=args.window,
        warmup=args.warmup if args.warmup is not None else (50 if quick else 500),
        open_seconds=args.open_seconds or (2.0 if quick else 10.0),
        renewals=args.renewals or ((1000,) if quick else (10_000, 100_000, 1_000_000)),
        scale=(scale[0], scale[1]),
        startup_subscribers=scale[1],
        startup_runs=args.startup_runs,
        bare_window=args.bare_window,
    )


def _meta(cfg: Config) -> Json:
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg()[0],
        "config": asdict(cfg),
    }


SECTION_RUNNERS: dict[str, Callable[[Context], object]] = {
    "mqtt": mqtt_section,
    "scale": scale_section,
    "startup": startup_section,
    "renewals": renewals_section,
}


def _terminate(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run_sections(ctx: Context) -> dict[str, str]:
    """Run each chosen section; one that fails is reported and the others still run."""
    errors: dict[str, str] = {}
    for name in ctx.cfg.sections:
        try:
            ctx.results[name] = SECTION_RUNNERS[name](ctx)
        except Exception as exc:
            if not isinstance(exc, BenchError):
                traceback.print_exc()
            say(f"bench: {name} failed: {exc}")
            errors[name] = f"{type(exc).__name__}: {exc}"
    return errors


def write_outputs(results: Json, args: argparse.Namespace) -> list[Target]:
    """Print the table, write the JSON (and the chart); returns the targets."""
    found = targets(results)
    results["targets"] = [t.as_json() for t in found]
    print(report(results, found), flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    say(f"bench: figures written to {args.json}")
    if args.chart is not None:
        write_chart(results, found, args.chart)
    return found


def run(cfg: Config, args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="scgw-bench-"))
    ctx = Context(cfg, workdir, {"meta": _meta(cfg)})
    say(f"bench: working in {workdir}")
    busy = os.getloadavg()[0]
    if busy > 0.5 * (os.cpu_count() or 1):
        say(f"bench: warning: load average {busy:.2f} before starting; figures will be noisy")
    try:
        errors = run_sections(ctx)
    finally:
        if args.keep:
            say(f"bench: kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if errors:
        ctx.results["errors"] = errors
    found = write_outputs(ctx.results, args)
    if errors:
        say(f"bench: sections that failed: {', '.join(errors)}")
        return 2
    missed = any(t.met is False for t in found)
    return 1 if args.fail_on_miss and missed else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.worker:
        return run_worker(args.worker, args.worker_config or "{}")
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started ignoring it
    if args.broker_nagle:
        BROKER[0] = Mosquitto
    try:
        return run(make_config(args), args)
    except KeyboardInterrupt:
        say("bench: interrupted; every process it started was stopped")
        return 130
    except BenchError as exc:
        say(f"bench: failed: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
