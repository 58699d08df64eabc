"""Time: due work in order, the scheduler on a real clock, advances of a virtual one.

Due work runs in chunks, one transaction each, every event at its own instant; a
virtual clock steps to each instant on the way and its time is stored with every
chunk, so a restart resumes where it was. MO batches, due work and clock moves take
turns on one lock: no MO is processed while time is being moved.

A ``shared`` clock is one row for several gateways on one database (docs/scale-out.md):
an advance stores its target first, every instance ``follow``s it (helping with the due
work on the way, rows claimed so that each runs once), and the advance ends once no
work due by the target is left on any of them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

import structlog

from gateway.domain.events import LiveEvent
from gateway.errors import ClockError
from gateway.service.durable import Durable
from gateway.service.effects import Effects
from gateway.service.engine import DueResult, Engine
from gateway.service.events import EventBus
from gateway.service.outbox import Outbox
from gateway.service.ports import Clock, Queries, Store, Transaction

__all__ = ["VIRTUAL_NOW_KEY", "VIRTUAL_TARGET_KEY", "AdvanceResult", "Timekeeper"]

log = structlog.get_logger("gateway.service")
T = TypeVar("T")

VIRTUAL_NOW_KEY = "virtual_now"
#: a shared clock: the time an advance under way (on any instance) moves to
VIRTUAL_TARGET_KEY = "virtual_target"
#: a shared clock: seconds between looks at the stored time, and at others' due work
FOLLOW_EVERY = 0.2


@dataclass(frozen=True, slots=True)
class AdvanceResult:
    now: datetime
    processed: int


class Timekeeper:
    """Runs due work and moves the virtual clock; ``lock`` orders it with MO batches."""

    def __init__(
        self,
        *,
        engine: Engine,
        store: Store,
        clock: Clock,
        commit: Callable[[Callable[[Transaction, Effects], Any]], Awaitable[Any]],
        durable: Durable,
        outbox: Outbox,
        events: EventBus,
        on_commit: Callable[[], None],
        due_chunk: int,
        shared: bool = False,
    ) -> None:
        self._engine = engine
        self._shared = shared
        self._store = store
        self._clock = clock
        self._commit = commit
        self._durable = durable
        self._outbox = outbox
        self._events = events
        self._on_commit = on_commit
        self._due_chunk = due_chunk
        self.lock = asyncio.Lock()
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something was committed: the scheduler looks at what is due again."""
        self._wake.set()

    async def restore_clock(self) -> None:
        """A virtual clock resumes from the time stored with the last committed work."""
        if self._clock.mode != "virtual":
            return
        persisted = await self._store.query(self._stored_time)
        if persisted is not None and persisted > self._clock.now():
            self._clock.set(persisted)
            log.info("virtual_clock_restored", now=persisted.isoformat())

    def _stored_time(self, q: Queries) -> datetime | None:
        """The stored virtual time; a shared clock's includes an advance under way."""
        keys = (VIRTUAL_NOW_KEY, VIRTUAL_TARGET_KEY) if self._shared else (VIRTUAL_NOW_KEY,)
        times = [datetime.fromisoformat(v) for k in keys if (v := q.meta.get(k)) is not None]
        return max(times, default=None)

    async def follow(self) -> None:
        """A shared clock: move with the stored time (an advance on another instance),
        running the due work on the way with the others, until cancelled."""
        while True:
            await asyncio.sleep(FOLLOW_EVERY)
            read = partial(self._store.query, self._stored_time)
            stored = await self._durable.run("clock_follow", read)
            if stored is None or stored <= self._clock.now():
                continue
            async with self.lock:
                if stored <= self._clock.now():  # this instance's own advance
                    continue
                processed = await self.run_due(stored)
                self._clock.set(max(self._clock.now(), stored))
            self._events.publish([LiveEvent("clock", stored, {"now": stored})])
            log.info("clock_followed", now=stored.isoformat(), processed=processed)

    async def _others_done(self, until: datetime) -> int:
        """A shared clock: wait until no work due by ``until`` is left (other instances
        may still be committing rows they claimed); returns how many this one ran."""
        processed = 0
        while True:
            due = await self._durable.run("due", partial(self._store.query, self._next_due))
            if due is None or due > until:
                return processed
            await asyncio.sleep(FOLLOW_EVERY / 4)
            processed += await self.run_due(until)  # what a dead instance left unclaimed

    async def run_due(self, until: datetime) -> int:
        """Run every renewal and expiry due up to ``until``; returns how many ran."""
        total = 0
        try:
            while True:
                result: DueResult = await self._durable.run(
                    "due", partial(self._commit, partial(self._chunk, until=until))
                )
                if result.processed == 0 and not result.announced:
                    return total
                total += result.processed
                self._on_commit()
                if result.processed >= self._due_chunk:
                    self._outbox.begin_burst()
                self._outbox.enqueue(result.outgoing)
                if self._clock.mode == "virtual" and result.last_due is not None:
                    self._clock.set(max(self._clock.now(), result.last_due))
        finally:
            self._outbox.end_burst()

    def _chunk(self, tx: Transaction, fx: Effects, until: datetime) -> DueResult:
        result = self._engine.run_due(tx, until, self._due_chunk, fx=fx)
        if self._clock.mode == "virtual" and result.last_due is not None and not self._shared:
            # the stored virtual time never lags what was committed (a shared clock's
            # target is stored before the advance runs anything)
            tx.meta.set(VIRTUAL_NOW_KEY, max(self._clock.now(), result.last_due).isoformat())
        return result

    async def advance(self, *, to: datetime) -> AdvanceResult:
        """Move the virtual clock forward to ``to``, running everything due on the way."""
        if self._clock.mode != "virtual":
            raise ClockError("the clock is real: it follows the wall clock and cannot be moved")
        async with self.lock:
            now = self._clock.now()
            if to < now:
                raise ClockError(
                    f"the clock only moves forward: {to.isoformat()} is before {now.isoformat()}"
                )
            stamp = to.isoformat()
            if self._shared:  # the other instances follow, and help
                await self._store.transaction(lambda tx: tx.meta.set(VIRTUAL_TARGET_KEY, stamp))
            processed = await self.run_due(to)
            if self._shared:
                processed += await self._others_done(to)
            self._clock.set(to)
            await self._store.transaction(lambda tx: tx.meta.set(VIRTUAL_NOW_KEY, stamp))
        self._events.publish([LiveEvent("clock", to, {"now": to})])
        log.info("clock_advanced", now=stamp, processed=processed)
        return AdvanceResult(now=to, processed=processed)

    def _next_due(self, q: Queries) -> datetime | None:
        """The next instant with due work: a renewal or expiry, or a price announcement."""
        due = q.subscriptions.next_due()
        announcement = self._engine.next_announcement(q)
        if announcement is not None and (due is None or announcement < due):
            return announcement
        return due

    async def run(self) -> None:
        """The scheduler of a real clock: sleep until the next due instant (30 s at most,
        or until woken), then run what is due."""
        while True:
            self._wake.clear()
            due = await self._durable.run("scheduler", partial(self._store.query, self._next_due))
            now = self._clock.now()
            if due is not None and due <= now:
                async with self.lock:
                    await self.run_due(now)
                continue
            timeout = 30.0 if due is None else min(30.0, (due - now).total_seconds())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
