"""The outbox: committed MTs published to the transport, then marked published.

Replies reach the outbox only after the transaction that made them committed. They are
handed over in memory; past ``memory`` waiting (a burst of renewals) or after a restart
they are read back from the database instead, so memory stays bounded and nothing
committed is ever skipped. A publish that fails is retried with backoff; a mark lost on
a power cut only means a message is published again, with the same id.

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
        while True:
            size = min(len(self._queue), _PUBLISH_BATCH)
            batch = [self._queue.popleft() for _ in range(size)]
            if not batch and self._backlog:
                await self._burst.wait()
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
            if not batch:
                if not self._queue and not self._backlog:
                    self._idle.set()
                    self._signal.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self._sweep):
                            await self._signal.wait()
                    if not self._signal.is_set():  # a sweep: what did others leave?
                        self._backlog = True
                continue
            await self._publish_until_done(batch)
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
            await self._durable.run(
                "outbox_mark",
                partial(
                    self._store.transaction,
                    partial(_mark_published, ids=[m.id for m in batch]),
                    durable=False,
                ),
            )

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
