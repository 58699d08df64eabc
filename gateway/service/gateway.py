"""The gateway service: batches inbound SMS into group commits, runs renewals, drains the outbox."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import structlog

from carrier_rules import Catalog, Language, SubscriberKind
from gateway.domain.events import LiveEvent
from gateway.domain.model import (
    InboundSms,
    Outgoing,
    UsageEvent,
)
from gateway.errors import (
    AccountClosed,
    BulkRefused,
    EmailInUse,
    PlanConflict,
    UnknownSubscriber,
)
from gateway.service import preload
from gateway.service.durable import Durable
from gateway.service.effects import Effects
from gateway.service.engine import KEEP, Engine, Keep, SmsResult, UsageResult
from gateway.service.events import EventBus
from gateway.service.flood import MoRateLimiter
from gateway.service.handsets import HandsetStates
from gateway.service.health import Health
from gateway.service.intake import Intake
from gateway.service.metrics import Metrics
from gateway.service.outbox import Outbox
from gateway.service.ports import Clock, MessagePublisher, Store, Transaction
from gateway.service.reads import Reads, SubscriberView
from gateway.service.timekeeper import AdvanceResult, Timekeeper

__all__ = ["AdvanceResult", "GatewayService", "ProvisionReport", "ProvisionRow", "SubscriberView"]

log = structlog.get_logger("gateway.service")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ProvisionRow:
    """One subscriber to provision in bulk; ``line`` names it in a refusal."""

    line: int
    msisdn: str
    kind: SubscriberKind
    balance: int
    language: Language | None
    email: str | None
    #: plans serving from the load's instant, not charged (``gateway.service.preload``)
    subscriptions: tuple[str, ...] = ()


@dataclass(slots=True)
class ProvisionReport:
    created: int = 0
    updated: int = 0
    #: (line, reason) of each row the rules refused (loaded only with ``skip_bad``)
    refused: list[tuple[int, str]] = field(default_factory=list)


def _mt_event(m: Outgoing) -> LiveEvent:
    """The live event of an MT a use case outside the engine queued (a ticket's SMS)."""
    return LiveEvent(
        "mt",
        m.at,
        {
            "id": m.id,
            "msisdn": m.msisdn,
            "shortcode": m.shortcode,
            "text": m.text,
            "in_reply_to": m.in_reply_to,
            "encoding": m.encoding,
            "segments": m.segments,
        },
    )


class GatewayService:
    """Owns the background work of the gateway; transports call into it.

    * inbound SMS are queued and processed in batches, one transaction per batch
      (group commit); a caller's future resolves only after its batch committed;
    * committed replies are published from the outbox, then marked published;
    * due renewals run in time order, each at its own instant.

    Use it as an async context manager: the background tasks live in a TaskGroup.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        store: Store,
        clock: Clock,
        publisher: MessagePublisher,
        max_batch: int = 256,
        due_chunk: int = 2000,
        outbox_memory: int = 20_000,
        on_commit: Callable[[], None] | None = None,
        data_rate_per_mb: int = 1000,
        health: Health | None = None,
        metrics: Metrics | None = None,
        rate_limiter: MoRateLimiter | None = None,
        shared: bool = False,
        adopt_outbox: Callable[[int], Awaitable[int]] | None = None,
    ) -> None:
        """``shared``: other gateways run on the same database (docs/scale-out.md): the
        virtual clock is theirs too; ``adopt_outbox`` takes over the replies an instance
        that died left unpublished (``Outbox``)."""
        self.engine = engine
        self.clock = clock
        self._store = store
        self._publisher = publisher
        self._max_batch = max_batch
        self._due_chunk = due_chunk
        self._tasks: list[asyncio.Task[None]] = []
        self._group: asyncio.TaskGroup | None = None
        self._data_rate_per_mb = data_rate_per_mb
        self.events = EventBus(started_at=clock.now())
        # told after each commit (the mail delivery loop: a commit may have queued mail)
        self._on_commit = on_commit or (lambda: None)
        self.health = health or Health()
        self.metrics = metrics or Metrics()
        self._durable = Durable(health=self.health, metrics=self.metrics)
        self.outbox = Outbox(
            store=store,
            publisher=publisher,
            durable=self._durable,
            metrics=self.metrics,
            memory=outbox_memory,
            adopt=adopt_outbox,
        )
        self.reads = Reads(store)
        self.handsets = HandsetStates(store=store, clock=clock, events=self.events)
        self.time = Timekeeper(
            engine=engine,
            store=store,
            clock=clock,
            commit=self._commit,
            durable=self._durable,
            outbox=self.outbox,
            events=self.events,
            on_commit=lambda: self._on_commit(),
            due_chunk=due_chunk,
            shared=shared,
        )
        self._shared = shared
        self._time_lock = self.time.lock  # MOs, due work and clock moves take turns
        self.limiter = rate_limiter or MoRateLimiter(rate=0, burst=1)
        self.intake = Intake(
            engine=engine,
            commit=self._commit,
            durable=self._durable,
            lock=self.time.lock,
            outbox=self.outbox,
            metrics=self.metrics,
            limiter=self.limiter,
            event_time=self._event_time,
            real_clock=clock.mode == "real",
            due_chunk=due_chunk,
            max_batch=max_batch,
            after_commit=self._after_batch,
        )

    # -- lifecycle --------------------------------------------------------------------

    async def _commit(
        self, work: Callable[[Transaction, Effects], T], *, serialise: Collection[str] = ()
    ) -> T:
        """Run ``work`` in one transaction with that transaction's ``Effects``; publish its
        live events once it committed (nothing of a rolled-back transaction is shown).
        ``serialise``: the subscribers it changes (``Store.transaction``)."""
        record = self.events.listening

        def run(tx: Transaction) -> tuple[T, tuple[list[LiveEvent], Counter[str]]]:
            fx = self.engine.effects(tx, record=record)
            result = work(tx, fx)
            return result, (fx.events, fx.tally)

        started = asyncio.get_running_loop().time()
        result, (events, counts) = await self._store.transaction(run, serialise=serialise)
        self.metrics.commit_seconds.observe(asyncio.get_running_loop().time() - started)
        self.metrics.count_commit(counts)
        self.events.publish(events, counts)
        return result

    async def __aenter__(self) -> Self:
        """Start the background loops (batcher, outbox, scheduler) as named tasks of one
        ``TaskGroup``, after running what fell due while the gateway was down."""
        self.health.set("storage", ready=True)
        await self.time.restore_clock()
        self._group = asyncio.TaskGroup()
        await self._group.__aenter__()
        self._spawn(self.intake.run, "scgw-batcher")
        self._spawn(self.outbox.run, "scgw-outbox")
        await self.run_due(self.clock.now())  # what fell due while we were down
        if self.clock.mode == "real":
            self._spawn(self.time.run, "scgw-scheduler")
        elif self._shared:
            self._spawn(self.time.follow, "scgw-clock")
        return self

    def _spawn(self, loop: Callable[[], Coroutine[Any, Any, None]], name: str) -> None:
        """Run a background loop that never dies silently: an unexpected error is logged
        and the loop started again (with backoff); only cancellation stops it."""

        async def supervised() -> None:
            delay = 0.5
            while True:
                try:
                    await loop()
                    return
                except Exception:
                    log.critical("background_task_restarted", task=name, delay=delay, exc_info=True)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 30.0)

        assert self._group is not None, "the service is not running (async with it)"
        self._tasks.append(self._group.create_task(supervised(), name=name))

    async def settle(self) -> None:
        """The orderly end of intake: wait until every MO taken in is committed and every
        committed reply published. Call it (under a timeout) once the transports stopped
        taking MOs and before they stop publishing."""
        await self.intake.idle()
        await self.outbox.drained()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        if self._group is not None:
            group, self._group = self._group, None
            await group.__aexit__(None, None, None)

    def _after_batch(self) -> None:
        self._on_commit()
        self.time.wake()

    def _event_time(self) -> datetime:
        """The instant an event is stamped with: whole seconds, as an SMSC records it."""
        return self.clock.now().replace(microsecond=0)

    # -- inbound SMS ------------------------------------------------------------------

    @property
    def shortcodes(self) -> frozenset[str]:
        """The short codes served (``Inbound``)."""
        return self.engine.shortcodes

    def now(self) -> datetime:
        """The gateway's clock (``Inbound``)."""
        return self.clock.now()

    @property
    def default_balance(self) -> int:
        """The balance a subscriber gets when none is given."""
        return self.engine.policy.default_balance

    def catalog(self, shortcode: str) -> Catalog:
        """The catalog served on ``shortcode`` (``UnknownShortcode`` if none)."""
        return self.engine.catalog(shortcode)

    def submit(self, sms: InboundSms) -> asyncio.Future[SmsResult]:
        """Queue an MO; resolves once it and its replies are committed (``Intake``)."""
        return self.intake.submit(sms)

    async def handle_sms(self, sms: InboundSms) -> SmsResult:
        return await self.intake.submit(sms)

    # -- outbox -----------------------------------------------------------------------

    def _enqueue(self, messages: list[Outgoing]) -> None:
        self.outbox.enqueue(messages)

    async def drained(self) -> None:
        """Wait until every committed reply so far has been published."""
        await self.outbox.drained()

    async def publish_error(self, event: dict[str, Any]) -> None:
        self.events.publish(
            [
                LiveEvent(
                    "error",
                    self._event_time(),
                    {"reason": event.get("reason"), "topic": event.get("topic")},
                )
            ]
        )
        try:
            await self._publisher.publish_error(event)
        except Exception as exc:
            log.warning("error_event_not_published", error=str(exc))

    # -- renewals and time (the Timekeeper) --------------------------------------------

    async def run_due(self, until: datetime) -> int:
        """Run every renewal and expiry due up to ``until``; returns how many ran."""
        return await self.time.run_due(until)

    async def advance(self, *, to: datetime) -> AdvanceResult:
        """Move the virtual clock forward to ``to``, running everything due on the way."""
        return await self.time.advance(to=to)

    # -- subscribers ------------------------------------------------------------------

    async def provision(
        self,
        msisdn: str,
        *,
        kind: SubscriberKind | None,
        balance: int | None,
        language: Language | None,
        email: str | Keep | None = KEEP,
    ) -> tuple[SubscriberView, bool]:
        now = self._event_time()

        def work(tx: Transaction, fx: Effects) -> bool:
            _, created = self.engine.provision(
                tx,
                msisdn,
                kind=kind,
                balance=balance,
                language=language,
                now=now,
                email=email,
                fx=fx,
            )
            return created

        created = await self._commit(work)
        return await self.reads.subscriber(msisdn), created

    async def provision_many(
        self, rows: Sequence[ProvisionRow], *, skip_bad: bool
    ) -> ProvisionReport:
        """Provision many subscribers in one transaction (``POST /api/subscribers/bulk``).

        A row the rules refuse (a closed account, an address another account has) is
        reported with its line; unless ``skip_bad``, one such row loads nothing.
        """
        now = self._event_time()

        def work(tx: Transaction, fx: Effects) -> ProvisionReport:
            report = ProvisionReport()
            for row in rows:
                ctx = self.engine.context(tx, fx)
                try:
                    if (clash := preload.conflict(ctx, row.msisdn, row.subscriptions)) is not None:
                        raise clash
                    _, created = self.engine.provision(
                        tx,
                        row.msisdn,
                        kind=row.kind,
                        balance=row.balance,
                        language=row.language,
                        now=now,
                        email=row.email,
                        fx=fx,
                    )
                except (AccountClosed, EmailInUse, PlanConflict) as exc:
                    report.refused.append((row.line, str(exc)))
                    continue
                preload.preload(ctx, row.msisdn, row.kind, row.subscriptions, now)
                report.created += created
                report.updated += not created
            if report.refused and not skip_bad:
                raise BulkRefused(report.refused)
            return report

        report = await self._commit(work)
        self.time.wake()  # loaded plans: the scheduler looks at what is due again
        return report

    async def topup(self, msisdn: str, amount: int) -> SubscriberView:
        async with self._time_lock:
            now = self._event_time()

            def work(tx: Transaction, fx: Effects) -> list[Outgoing]:
                subscriber = tx.subscribers.get(msisdn)
                if subscriber is None:
                    raise UnknownSubscriber(msisdn)
                return self.engine.topup(tx, subscriber, amount, now, fx=fx)

            self._enqueue(await self._commit(work))
        self._on_commit()
        return await self.reads.subscriber(msisdn)

    async def apply(self, work: Callable[[Transaction, datetime], tuple[T, list[Outgoing]]]) -> T:
        """Run a use case in one transaction, in event order with MOs and renewals: ``work``
        gets the transaction and the event time and returns its result and the SMS to
        publish once committed."""
        return await self._apply(lambda tx, fx, now: work(tx, now))

    async def _apply(
        self, work: Callable[[Transaction, Effects, datetime], tuple[T, list[Outgoing]]]
    ) -> T:
        """``apply`` for a use case that books through the transaction's ``Effects``."""
        async with self._time_lock:
            now = self._event_time()
            result, outgoing = await self._commit(lambda tx, fx: work(tx, fx, now))
            self._enqueue(outgoing)
            if self.events.listening and outgoing:
                self.events.publish([_mt_event(m) for m in outgoing])
        self._on_commit()
        return result

    async def send_mt(
        self,
        sender: str,
        msisdn: str,
        text: str,
        *,
        price: int = 0,
        track: Callable[[Transaction, Outgoing], None] | None = None,
    ) -> Outgoing:
        """An MT that no MO asked for (an application's ``submit_sm``): committed to the
        outbox, published like every reply. A ``price`` above zero is charged to the
        subscriber in the same transaction (``UnknownSubscriber``, ``AccountClosed`` or
        ``InsufficientBalance``: nothing sent, nothing charged). ``track`` writes the
        sender's own record of the MT (the SMSC's, for query_sm and its receipt) in that
        transaction too, once it is charged."""

        def work(tx: Transaction, fx: Effects, now: datetime) -> tuple[Outgoing, list[Outgoing]]:
            out = self.engine.emit_sms(tx, sender, msisdn, text, in_reply_to=None, at=now)
            if price > 0:
                self.engine.charge_mt(tx, out, price=price, fx=fx)
            if track is not None:
                track(tx, out)
            return out, [out]

        return await self._apply(work)

    async def record_usage(self, event: UsageEvent) -> UsageResult:
        """Data used in an app: zero-rated by a pack that covers it, else charged."""

        def work(tx: Transaction, now: datetime) -> tuple[UsageResult, list[Outgoing]]:
            subscriber = tx.subscribers.get(event.msisdn)
            if subscriber is None:
                raise UnknownSubscriber(event.msisdn)
            if subscriber.status == "closed":
                raise AccountClosed(event.msisdn)
            result = self.engine.record_usage(
                tx,
                subscriber,
                app=event.app,
                n_bytes=event.bytes,
                now=now,
                event_id=event.id,
                default_rate_per_mb=self._data_rate_per_mb,
            )
            return result, []

        return await self.apply(work)
