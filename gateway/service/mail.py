"""Mail delivery: recorded mail goes to the sink or the relay, retried until it is taken."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from types import TracebackType
from typing import Self

import structlog

from gateway.domain.events import LiveEvent
from gateway.domain.mail import DeliveryOutcome, StoredMail, to_mime
from gateway.service.events import EventBus
from gateway.service.ports import Clock, MailSender, Queries, Store, Transaction

__all__ = ["MailDelivery"]

log = structlog.get_logger("gateway.mail")

_DEBOUNCE = 0.05


def _queued(q: Queries, due: datetime, limit: int) -> list[StoredMail]:
    return q.mail.due(due, limit)


def _next_attempt(q: Queries) -> datetime | None:
    return q.mail.next_attempt()


class MailDelivery:
    """Delivers queued mail in batches and records what became of each.

    A mail is recorded ``queued`` in the transaction that caused it, so it survives a
    crash; this loop hands it to the ``MailSender`` and marks it ``sent``, retries it
    with exponential backoff (``retry_base`` × 2^(attempts-1), at most ``retry_max``
    seconds) when delivery failed for now, and marks it ``failed`` only when the relay
    refused it for good. ``clock`` is the wall clock: retries follow real time even
    when the gateway runs on a virtual clock.
    """

    def __init__(
        self,
        *,
        store: Store,
        sender: MailSender,
        clock: Clock,
        batch: int = 100,
        retry_base: float = 2.0,
        retry_max: float = 300.0,
        events: EventBus | None = None,
    ) -> None:
        self._store = store
        self._sender = sender
        self._clock = clock
        self._batch = batch
        self._retry_base = retry_base
        self._retry_max = retry_max
        self.events = events
        self._signal = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._loop(), name="scgw-mail")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def notify(self) -> None:
        """Something was committed that may have queued mail: look now."""
        self._signal.set()

    def backoff(self, attempts: int) -> timedelta:
        seconds = min(self._retry_base * 2 ** max(attempts - 1, 0), self._retry_max)
        return timedelta(seconds=seconds)

    async def _loop(self) -> None:
        while True:
            self._signal.clear()
            now = self._clock.now()
            batch = await self._store.query(partial(_queued, due=now, limit=self._batch))
            if batch:
                await self._deliver(batch)
                continue
            upcoming = await self._store.query(_next_attempt)
            timeout = 30.0
            if upcoming is not None:
                timeout = min(max((upcoming - now).total_seconds(), 0.01), 30.0)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._signal.wait()
                # commits come hundreds a second under load: look at most every 50 ms
                await asyncio.sleep(_DEBOUNCE)

    async def _deliver(self, batch: Sequence[StoredMail]) -> None:
        pairs = [(stored.mail, to_mime(stored.mail)) for stored in batch]
        try:
            outcomes = await self._sender.deliver(pairs)
        except Exception as exc:  # a sender bug must not lose mail: retry it all
            log.exception("mail_sender_failed")
            outcomes = [
                DeliveryOutcome(mail_id=s.mail.id, ok=False, permanent=False, error=repr(exc))
                for s in batch
            ]
        now = self._clock.now()
        attempts = {stored.mail.id: stored.attempts + 1 for stored in batch}

        def record(tx: Transaction) -> None:
            sent = [o.mail_id for o in outcomes if o.ok]
            if sent:
                tx.mail.sent(sent, now)
            for o in outcomes:
                if o.ok:
                    continue
                error = o.error or "unknown error"
                if o.permanent:
                    tx.mail.failed(o.mail_id, attempts=attempts[o.mail_id], error=error)
                else:
                    tx.mail.retry(
                        o.mail_id,
                        attempts=attempts[o.mail_id],
                        next_at=now + self.backoff(attempts[o.mail_id]),
                        error=error,
                    )

        await self._store.transaction(record)
        if self.events is not None:
            sent = {o.mail_id for o in outcomes if o.ok}
            self.events.publish(
                LiveEvent(
                    "mail",
                    stored.mail.at,
                    {
                        "id": stored.mail.id,
                        "to": ", ".join(stored.mail.to),
                        "subject": stored.mail.subject,
                        "msisdn": stored.mail.msisdn,
                    },
                )
                for stored in batch
                if stored.mail.id in sent
            )
        for o in outcomes:
            if o.ok:
                log.debug("mail_sent", mail_id=o.mail_id, note=o.error)
            elif o.permanent:
                log.warning("mail_failed", mail_id=o.mail_id, reason=o.error)
            else:
                log.info(
                    "mail_retry_scheduled",
                    mail_id=o.mail_id,
                    attempts=attempts[o.mail_id],
                    delay=self.backoff(attempts[o.mail_id]).total_seconds(),
                    reason=o.error,
                )
