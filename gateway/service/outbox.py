"""The outbox: committed MTs published to the transport, then marked published.

Replies reach the outbox only after the transaction that made them committed. They are
handed over in memory; past ``memory`` waiting (a burst of renewals) or after a restart
they are read back from the database instead, so memory stays bounded and nothing
committed is ever skipped. A publish that fails is retried with backoff; a mark lost on
a power cut only means a message is published again, with the same id.

Batches are pipelined: up to ``_IN_FLIGHT`` are published at once (started in order, so
they reach the broker in order), and the marks of every batch acknowledged meanwhile go
to the database in one transaction, so a reply never waits for the PUBACKs of the batch
before it nor for that batch's mark. Before the database is read for a backlog, what is
in flight is published and marked first, so nothing is read back while being published.

Several gateways on one database (docs/scale-out.md): each publishes the rows it
committed; with ``adopt`` it also looks every ``sweep`` seconds for rows an instance
that died left unpublished, takes them over and publishes them.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from functools import partial

import structlog

from gateway.domain.model import Outgoing
from gateway.logging import clip
from gateway.service.durable import Durable
from gateway.service.metrics import Metrics
from gateway.service.ports import MessagePublisher, Queries, Store, Transaction

__all__ = ["Outbox"]

log = structlog.get_logger("gateway.service")

_PUBLISH_BATCH = 5000
#: batches published at once (their PUBACKs awaited side by side)
_IN_FLIGHT = 4


def _mark_published(tx: Transaction, ids: list[str]) -> None:
    tx.outbox.mark_published(ids)


def _unpublished(q: Queries, limit: int) -> list[Outgoing]:
    return q.outbox.unpublished(limit)


class Outbox:
    """Publishes committed MTs in order, in batches."""

    def __init__(
        self,
        *,
        store: Store,
        publisher: MessagePublisher,
        durable: Durable,
        metrics: Metrics,
        memory: int = 20_000,
        adopt: Callable[[int], Awaitable[int]] | None = None,
        sweep: float = 2.0,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._durable = durable
        self._metrics = metrics
        self._memory = memory
        self._adopt = adopt
        self._sweep = None if adopt is None else sweep
        self._queue: collections.deque[Outgoing] = collections.deque()
        self._signal = asyncio.Event()
        self._backlog = True  # start by publishing what a previous run left
        self._burst = asyncio.Event()  # cleared while a burst of renewals is committing
        self._burst.set()
        self._skipped = 0
        self._idle = asyncio.Event()  # set once the outbox (backlog included) is empty
        self._window = asyncio.Semaphore(_IN_FLIGHT)
        self._flying = 0  # batches being published or waiting for their mark
        self._landed = asyncio.Event()  # set when the last of them is marked
        self._landed.set()
        self._to_mark: list[list[str]] = []  # the ids of each batch published, not marked
        self._marks_due = asyncio.Event()
        metrics.watch_outbox(lambda: len(self._queue))

    def enqueue(self, messages: list[Outgoing]) -> None:
        """Hand committed replies over (in memory, or via the database past ``memory``)."""
        if not messages:
            return
        self._idle.clear()
        if self._backlog or len(self._queue) + len(messages) > self._memory:
            self._backlog = True
            self._skipped += 1
        else:
            self._queue.extend(messages)
        self._signal.set()

    def begin_burst(self) -> None:
        """A burst (say every postpaid pack on the 1st) is committing: publish it after,
        from the database; the two would only slow each other."""
        self._burst.clear()
        self._backlog = True

    def end_burst(self) -> None:
        self._burst.set()

    async def drained(self) -> None:
        """Wait until every committed reply so far has been published."""
        await self._idle.wait()

    async def run(self) -> None:
        """Publish until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._mark_loop())
            while True:
                batch = await self._next_batch()
                if batch:
                    await self._window.acquire()
                    self._flying += 1
                    self._landed.clear()
                    group.create_task(self._deliver(batch))

    async def _next_batch(self) -> list[Outgoing]:
        """What to publish next: the queue, else the backlog in the database (after what
        is in flight landed), else nothing once idle (a sweep, or a new reply)."""
        size = min(len(self._queue), _PUBLISH_BATCH)
        batch = [self._queue.popleft() for _ in range(size)]
        if not batch and self._backlog:
            await self._burst.wait()
            await self._landed.wait()  # rows in flight are not read back as unpublished
            seen = self._skipped
            if self._adopt is not None:
                adopted = await self._durable.run(
                    "outbox_adopt", partial(self._adopt, _PUBLISH_BATCH)
                )
                if adopted:
                    log.info("outbox_adopted", messages=adopted)
            batch = await self._durable.run(
                "outbox_read",
                partial(self._store.query, partial(_unpublished, limit=_PUBLISH_BATCH)),
            )
            if batch:
                log.debug("outbox_backlog", messages=len(batch))
            elif self._skipped == seen:  # nothing was committed meanwhile
                self._backlog = False
        if not batch and not self._queue and not self._backlog:
            if self._flying:  # not idle yet: wait for a new reply or the last mark
                self._signal.clear()
                await self._signal.wait()
                return []
            self._idle.set()
            self._signal.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._sweep):
                    await self._signal.wait()
            if not self._signal.is_set():  # a sweep: what did others leave?
                self._backlog = True
        return batch

    async def _deliver(self, batch: list[Outgoing]) -> None:
        """Publish one batch (until the broker has it), then hand its ids to the marks."""
        try:
            await self._publish_until_done(batch)
        finally:
            self._window.release()
        for shortcode, n in Counter(m.shortcode for m in batch).items():
            self._metrics.child(self._metrics.mt, shortcode).inc(n)
        for m in batch:
            log.info(
                "mt_published",
                msisdn=m.msisdn,
                shortcode=m.shortcode,
                message_id=m.id,
                in_reply_to=m.in_reply_to,
                text=clip(m.text),
            )
        self._to_mark.append([m.id for m in batch])
        self._marks_due.set()

    async def _mark_loop(self) -> None:
        """Mark what was published, every batch acknowledged meanwhile in one transaction."""
        while True:
            await self._marks_due.wait()
            self._marks_due.clear()
            batches, self._to_mark = self._to_mark, []
            ids = [id_ for batch in batches for id_ in batch]
            await self._durable.run(
                "outbox_mark",
                partial(self._store.transaction, partial(_mark_published, ids=ids), durable=False),
            )
            self._flying -= len(batches)
            if not self._flying:
                self._landed.set()
                self._signal.set()  # wakes the idle check in ``_next_batch``

    async def _publish_until_done(self, batch: Sequence[Outgoing]) -> None:
        delay = 0.1
        while True:
            try:
                await self._publisher.publish(batch)
                return
            except Exception as exc:
                log.warning(
                    "publish_failed_retrying", error=str(exc), messages=len(batch), delay=delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
