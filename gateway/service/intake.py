"""Intake: MOs queued, processed in batches (group commit), their callers answered.

``submit`` queues an MO with a future; the batch loop takes what is queued (up to
``max_batch``), runs it in one transaction with the due work that fell before it, and
resolves each future only after the commit (MQTT acknowledges then, HTTP answers).
Before the MOs run, the transaction prefetches what their handlers read of their
senders (``Transaction.prefetch``): on PostgreSQL a read is a network round trip.
Storage that refuses the batch holds it (``Durable``); a batch that fails otherwise is
retried one MO at a time, and an MO that still fails gets an apology.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import structlog

from gateway.domain.model import InboundSms, Outgoing
from gateway.errors import RateLimited
from gateway.logging import clip
from gateway.service.durable import Durable
from gateway.service.effects import Effects
from gateway.service.engine import Engine, SmsResult
from gateway.service.flood import MoRateLimiter
from gateway.service.metrics import Metrics
from gateway.service.outbox import Outbox
from gateway.service.ports import Transaction

__all__ = ["Intake"]

log = structlog.get_logger("gateway.service")


@dataclass(slots=True)
class _Pending:
    sms: InboundSms
    future: asyncio.Future[SmsResult]
    #: the event loop's time when it arrived (for the reply latency metric)
    arrived: float = 0.0


class Intake:
    """The MO queue and the batch loop (``run``)."""

    def __init__(
        self,
        *,
        engine: Engine,
        commit: Callable[..., Awaitable[Any]],
        durable: Durable,
        lock: asyncio.Lock,
        outbox: Outbox,
        metrics: Metrics,
        limiter: MoRateLimiter,
        event_time: Callable[[], datetime],
        real_clock: bool,
        due_chunk: int,
        max_batch: int,
        after_commit: Callable[[], None],
    ) -> None:
        self._engine = engine
        self._commit = commit
        self._durable = durable
        self._lock = lock
        self._outbox = outbox
        self._metrics = metrics
        self._limiter = limiter
        self._event_time = event_time
        self._real_clock = real_clock
        self._due_chunk = due_chunk
        self._max_batch = max_batch
        self._after_commit = after_commit
        self._inbox: asyncio.Queue[_Pending] = asyncio.Queue()
        self._busy = False  # a batch is being processed

    async def idle(self) -> None:
        """Wait until every MO taken in so far is committed and answered."""
        while not self._inbox.empty() or self._busy:  # noqa: ASYNC110 - no event for it
            await asyncio.sleep(0.01)

    def submit(self, sms: InboundSms) -> asyncio.Future[SmsResult]:
        """Queue an MO; the future resolves with its replies once they are committed.

        Raises ``RateLimited`` (nothing queued, stored or charged) past the per-sender
        flood limit.
        """
        if not self._limiter.allow(sms.msisdn):
            self._count_mo(sms.shortcode, "rate_limited")
            raise RateLimited(sms.msisdn, self._limiter.rate, self._limiter.burst)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[SmsResult] = loop.create_future()
        self._inbox.put_nowait(_Pending(sms, future, loop.time()))
        return future

    def _count_mo(self, shortcode: str, outcome: str, n: int = 1) -> None:
        self._metrics.child(self._metrics.mo, shortcode, outcome).inc(n)

    async def run(self) -> None:
        """Process batches until cancelled."""
        while True:
            batch = [await self._inbox.get()]
            while len(batch) < self._max_batch and not self._inbox.empty():
                batch.append(self._inbox.get_nowait())
            self._metrics.batch_size.observe(len(batch))
            self._busy = True
            try:
                await self._run_batch(batch)
            finally:
                self._busy = False

    async def _run_batch(self, batch: list[_Pending]) -> None:
        """Commit one batch, resolve its callers' futures, hand its replies to the outbox."""
        async with self._lock:
            results = await self._process(batch)
        outgoing: list[Outgoing] = []
        done = asyncio.get_running_loop().time()
        outcomes: Counter[tuple[str, str]] = Counter()
        for item, result in zip(batch, results, strict=True):
            self._metrics.reply_seconds.observe(done - item.arrived)
            sms = item.sms
            if isinstance(result, BaseException):
                outcomes[(sms.shortcode, "failed")] += 1
                item.future.set_exception(result)
                continue
            if result.duplicate:
                outcomes[(sms.shortcode, "duplicate")] += 1
                log.info(
                    "mo_duplicate",
                    message_id=sms.id,
                    msisdn=sms.msisdn,
                    replies=len(result.replies),
                )
            else:
                outcomes[(sms.shortcode, "processed")] += 1
                log.info(
                    "mo_processed",
                    message_id=sms.id,
                    msisdn=sms.msisdn,
                    shortcode=sms.shortcode,
                    text=clip(sms.text),
                    replies=len(result.replies),
                )
                outgoing.extend(result.replies)
            item.future.set_result(result)
        for (shortcode, outcome), n in outcomes.items():
            self._count_mo(shortcode, outcome, n)
        self._outbox.enqueue(outgoing)
        self._after_commit()

    async def _process(self, batch: list[_Pending]) -> list[SmsResult | BaseException]:
        """One transaction for the batch; storage that cannot take it holds the batch (its
        MOs stay unacknowledged) and retries it; a batch that fails for another reason is
        retried one MO at a time, and an MO that still fails gets an apology."""
        now = self._event_time()
        senders = {i.sms.msisdn for i in batch}

        def run_all(
            tx: Transaction, fx: Effects
        ) -> tuple[list[Outgoing], list[SmsResult | BaseException]]:
            due: list[Outgoing] = []
            if self._real_clock:
                # a renewal that fell due before these MOs runs first, in the same transaction
                due = self._engine.run_due(tx, now, self._due_chunk, fx=fx).outgoing
            if len(batch) > 1:  # the batch's reads in one round trip each, not one per MO
                tx.prefetch(senders, [(i.sms.msisdn, i.sms.id) for i in batch if i.sms.client_id])
            return due, [self._engine.handle_sms(tx, item.sms, now, fx=fx) for item in batch]

        async def attempt() -> tuple[list[Outgoing], list[SmsResult | BaseException]]:
            nonlocal now
            now = self._event_time()  # a batch held through an outage runs when it can
            done: tuple[list[Outgoing], list[SmsResult | BaseException]]
            # several gateways: the batch's subscribers are locked for it (scale-out.md)
            done = await self._commit(run_all, serialise=senders)
            return done

        try:
            due, results = await self._durable.run("mo_batch", attempt)
            self._outbox.enqueue(due)
            return results
        except Exception:
            if len(batch) > 1:
                log.warning("batch_failed_retrying_one_by_one", size=len(batch))
        one_by_one: list[SmsResult | BaseException] = []
        for item in batch:
            try:
                one_by_one.append(
                    await self._durable.run(
                        "mo",
                        partial(
                            self._commit,
                            self._handle_one(item.sms, now),
                            serialise=(item.sms.msisdn,),
                        ),
                    )
                )
            except Exception as exc:
                log.exception("mo_failed", message_id=item.sms.id, msisdn=item.sms.msisdn)
                one_by_one.append(await self._apologise(item.sms, now, exc))
        return one_by_one

    def _handle_one(
        self, sms: InboundSms, now: datetime
    ) -> Callable[[Transaction, Effects], SmsResult]:
        return lambda tx, fx: self._engine.handle_sms(tx, sms, now, fx=fx)

    async def _apologise(
        self, sms: InboundSms, now: datetime, exc: Exception
    ) -> SmsResult | BaseException:
        """A message that failed still gets a reply (and changes nothing else)."""
        try:
            return await self._durable.run(
                "apology",
                partial(
                    self._commit,
                    lambda tx, fx: self._engine.system_error(tx, sms, now, fx=fx),
                ),
            )
        except Exception:
            log.exception("apology_failed", message_id=sms.id, msisdn=sms.msisdn)
            return exc
