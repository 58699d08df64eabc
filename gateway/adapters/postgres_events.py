"""Live events across gateways on one PostgreSQL database: LISTEN/NOTIFY on one channel.

Each gateway's ``PostgresEventRelay`` sends the events its bus publishes (after their
transaction committed) with ``pg_notify`` and LISTENs for the others', which it hands
to its bus's listeners (the console's stream), so every console sees every gateway's
events. The channel carries JSON notes, each under PostgreSQL's 8000-byte limit:

- ``{"o": origin, "e": [event, ...]}``: events (a gateway ignores its own);
- ``{"o": origin, "l": n}``: ``origin`` now has ``n`` listeners (sent when that
  crosses zero, and in answer to a hello): a gateway builds events for others only
  while some other gateway listens;
- ``{"o": origin, "hello": 1, "l": n}``: a gateway (re)connected with ``n`` listeners
  (0 after a start: what an earlier run of the same instance id announced is over),
  asking who listens.

Delivery is as live as the console's stream itself: an event is sent after its commit,
so one committed just before its gateway died may not reach the others (it is in the
database: the timeline and reports show it); a listener on a gateway that died
unannounced keeps the others building events (a cost, not an error) until their relays
reconnect or restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Self, cast

import psycopg
import structlog

from gateway.domain.events import EventKind, LiveEvent
from gateway.service.events import EventBus

__all__ = ["CHANNEL", "PostgresEventRelay", "decode_events", "encode_events"]

log = structlog.get_logger(__name__)

CHANNEL = "scgw_events"
#: a NOTIFY payload must stay under 8000 bytes
_LIMIT = 7900
#: a longer text field of an event that alone passes the limit is cut to this
_CUT = 1000
#: notes waiting for the connection; more are dropped (the stream is live, not a log)
_BACKLOG = 10_000


def _encode_event(event: LiveEvent) -> dict[str, Any]:
    fields = {
        k: {"$t": v.isoformat()} if isinstance(v, datetime) else v for k, v in event.fields.items()
    }
    return {"k": event.kind, "at": event.at.isoformat(), "f": fields}


def _decode_value(value: object) -> object:
    if isinstance(value, dict) and set(value) == {"$t"}:
        return datetime.fromisoformat(str(value["$t"]))
    return value


def _decode_event(raw: dict[str, Any]) -> LiveEvent:
    fields = {k: _decode_value(v) for k, v in dict(raw["f"]).items()}
    return LiveEvent(cast(EventKind, raw["k"]), datetime.fromisoformat(raw["at"]), fields)


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _cut(encoded: dict[str, Any]) -> dict[str, Any]:
    fields = {
        k: v[:_CUT] + "…" if isinstance(v, str) and len(v) > _CUT else v
        for k, v in encoded["f"].items()
    }
    return {**encoded, "f": fields}


def encode_events(origin: str, events: Sequence[LiveEvent]) -> Iterator[str]:
    """``events`` as notes of at most ``_LIMIT`` bytes (long texts cut, never split)."""
    head = len(_dumps({"o": origin, "e": []}).encode())
    batch: list[str] = []
    size = head
    for event in events:
        item = _dumps(_encode_event(event))
        if head + len(item.encode()) > _LIMIT:
            item = _dumps(_cut(_encode_event(event)))
            if head + len(item.encode()) > _LIMIT:
                log.warning("event_not_relayed", kind=event.kind, reason="too large")
                continue
        if batch and size + len(item.encode()) + 1 > _LIMIT:
            yield f'{{"o":{_dumps(origin)},"e":[{",".join(batch)}]}}'
            batch, size = [], head
        batch.append(item)
        size += len(item.encode()) + 1
    if batch:
        yield f'{{"o":{_dumps(origin)},"e":[{",".join(batch)}]}}'


def decode_events(raw: list[dict[str, Any]]) -> list[LiveEvent]:
    return [_decode_event(item) for item in raw]


def _lost(exc: Exception) -> None:
    if isinstance(exc, psycopg.Error | OSError):
        log.warning("events_relay_lost", reason=" ".join(str(exc).split()))
    else:
        log.exception("events_relay_failed")


class PostgresEventRelay:
    """The ``EventRelay`` of one gateway on the database at ``url`` (attached to ``bus``
    while entered)."""

    def __init__(
        self, *, url: str, bus: EventBus, origin: str | None = None, retry: float = 1.0
    ) -> None:
        self._url = url
        self._bus = bus
        self._retry = retry
        #: this gateway's name on the channel: its instance id when it has one (unique
        #: among the gateways on the database), else a new random one on each start
        self.origin = origin or uuid.uuid4().hex[:12]
        self._outgoing: asyncio.Queue[str] = asyncio.Queue(maxsize=_BACKLOG)
        self._others: dict[str, int] = {}
        self._local = 0
        self.dropped = 0
        self.connected = False
        self._tasks: list[asyncio.Task[None]] = []

    # -- EventRelay -------------------------------------------------------------------

    @property
    def others_listen(self) -> bool:
        return any(self._others.values())

    def send(self, events: Sequence[LiveEvent]) -> None:
        for note in encode_events(self.origin, events):
            self._put(note)

    def listeners_changed(self, count: int) -> None:
        crossed = (count > 0) != (self._local > 0)
        self._local = count
        if crossed:
            self._put(_dumps({"o": self.origin, "l": count}))

    # -- the connections --------------------------------------------------------------

    def _put(self, note: str) -> None:
        try:
            self._outgoing.put_nowait(note)
        except asyncio.QueueFull:
            self.dropped += 1

    def describe(self) -> dict[str, object]:
        """For /api/health: whether the relay is connected, whom it knows to listen."""
        return {
            "relay": "postgres",
            "connected": self.connected,
            "other_gateways_listening": sum(1 for n in self._others.values() if n),
        }

    async def __aenter__(self) -> Self:
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._listen(), name="scgw-events-listen"),
            loop.create_task(self._notify(), name="scgw-events-notify"),
        ]
        self._bus.relay = self
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._bus.relay = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(
            self._url, autocommit=True, application_name="scgw-events"
        )

    async def _listen(self) -> None:
        """LISTEN, say hello, hand what others send to the bus; again after a loss."""
        while True:
            try:
                async with await self._connect() as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self._others.clear()  # who listens now answers the hello
                    self.connected = True
                    log.info("events_relay_listening", origin=self.origin)
                    self._put(_dumps({"o": self.origin, "hello": 1, "l": self._local}))
                    async for notice in conn.notifies():
                        self._receive(notice.payload)
            except Exception as exc:  # the relay outlives any failure
                _lost(exc)
            self.connected = False
            await asyncio.sleep(self._retry)

    def _receive(self, payload: str) -> None:
        try:
            note = json.loads(payload)
            origin = str(note["o"])
            if origin == self.origin:
                return
            if "e" in note:
                self._bus.deliver(decode_events(note["e"]))
                return
            if "l" in note:
                self._others[origin] = int(note["l"])
            if "hello" in note and self._local:
                self._put(_dumps({"o": self.origin, "l": self._local}))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("events_relay_bad_note", reason=str(exc))

    async def _notify(self) -> None:
        """Send the queued notes in order; a note that failed is sent again."""
        note: str | None = None
        while True:
            try:
                async with await self._connect() as conn:
                    while True:
                        if note is None:
                            note = await self._outgoing.get()
                        await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, note))
                        note = None
            except Exception as exc:  # the relay outlives any failure
                _lost(exc)
            await asyncio.sleep(self._retry)
