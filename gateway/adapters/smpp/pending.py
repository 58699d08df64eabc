"""Messages an application submitted, until their outcome is final: due work on the
gateway's clock (virtual or real), held messages, cancel_sm, and each final state as a
receipt (the application's queue, when asked), a live event and an MQTT message."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from functools import partial
from typing import Any

import structlog

from gateway.adapters.smpp.outcomes import (
    DEFAULT_VALIDITY,
    FINAL_ERRORS,
    Final,
    OutcomeDraw,
    Stat,
    settle,
)
from gateway.adapters.smpp.receipts import MESSAGE_STATE, receipt_text, wants_receipt
from gateway.domain.events import LiveEvent
from gateway.domain.smsc import SmscMessage
from gateway.errors import StorageError
from gateway.service.events import EventBus
from gateway.service.ports import Clock, Store, Transaction

__all__ = ["DlrSink", "OutcomeSettings", "PendingMessages", "Submission"]

log = structlog.get_logger("gateway.smpp")

#: publishes one final state: ``(short code, JSON payload)`` (MQTT ``sms/dlr/<code>``)
DlrSink = Callable[[str, dict[str, Any]], Awaitable[None]]

#: messages settled per transaction (one commit for all of them)
_BATCH = 100
#: seconds before settling again after the store failed
_RETRY = 1.0


@dataclass(frozen=True, slots=True)
class OutcomeSettings:
    """SCGW_SMPP_DELIVERY_DELAY, SCGW_SMPP_VALIDITY, SCGW_SMPP_OUTCOMES, SCGW_SMPP_SEED."""

    delay: timedelta = timedelta(0)
    validity: timedelta = DEFAULT_VALIDITY
    shares: tuple[tuple[Stat, int], ...] = (("DELIVRD", 100),)
    seed: int = 0


@dataclass(frozen=True, slots=True)
class Submission:
    """What an application's submit_sm asked for, before it has an id."""

    account: str
    shortcode: str
    msisdn: str
    text: str
    registered: int
    expires_at: datetime

    def message(self, *, id: str, at: datetime, drawn: str, due: datetime | None) -> SmscMessage:
        return SmscMessage(
            id=id,
            account=self.account,
            shortcode=self.shortcode,
            msisdn=self.msisdn,
            registered=self.registered,
            excerpt=self.text[:20],
            drawn=drawn,
            submitted_at=at,
            due_at=due,
            expires_at=self.expires_at,
        )


#: a final state reached in a transaction, to announce once it committed
_Settled = tuple[SmscMessage, Final, datetime]


def _release(tx: Transaction, *, msisdn: str, at: datetime) -> None:
    tx.smsc.release(msisdn, at)


@dataclass(eq=False)
class PendingMessages:
    """Runs while the SMPP server runs (``run``): settles each message at the instant it
    is due, in order; a virtual clock's advance (a ``clock`` live event) and a handset
    change (``handset``) wake it, a real clock's time too. One lock orders settling and
    cancel_sm, so a cancelled message never gets a receipt.

    Its records are the gateway store's (``tx.smsc``): an accepted MT's record is written
    by ``record`` in the transaction that queues the MT and charges it."""

    store: Store
    clock: Clock
    events: EventBus
    tz: tzinfo
    settings: OutcomeSettings
    #: told which account has a receipt waiting in its queue
    on_receipt: Callable[[str], None]
    dlr: DlrSink | None = None
    #: accounts with percentages of their own (``outcomes`` in the accounts file)
    account_shares: Mapping[str, tuple[tuple[Stat, int], ...]] = field(default_factory=dict)
    _draw: OutcomeDraw = field(init=False)
    _draws: dict[str, OutcomeDraw] = field(init=False)
    _wake: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _lock: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)
    _tasks: set[asyncio.Task[None]] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        self._draw = OutcomeDraw(self.settings.shares, self.settings.seed)
        self._draws = {
            name: OutcomeDraw(shares, self.settings.seed)
            for name, shares in self.account_shares.items()
        }

    # -- submit_sm, cancel_sm ---------------------------------------------------------

    def expiry(self, submitted: datetime, asked: datetime | None) -> datetime:
        return submitted + self.settings.validity if asked is None else asked

    def record(self, tx: Transaction, submission: Submission, *, id: str, at: datetime) -> None:
        """Keep an accepted message (ENROUTE) until its outcome is due, in ``tx`` (the
        MT's own transaction); the outcome is drawn here, in commit order. Call
        ``accepted`` once ``tx`` committed."""
        drawn = self._draws.get(submission.account, self._draw).draw()
        due = at + self.settings.delay
        tx.smsc.add_message(submission.message(id=id, at=at, drawn=drawn, due=due))

    def accepted(self) -> None:
        """A message ``record`` kept was committed: look at what is due."""
        self._wake.set()

    async def fail(self, submission: Submission, *, id: str, at: datetime, failed: Final) -> None:
        """Keep a message that failed already (an MT that could not be charged): final at
        once, at ``at``, never due and drawing no outcome."""
        message = submission.message(id=id, at=at, drawn=failed.stat, due=None)

        def work(tx: Transaction) -> list[_Settled]:
            tx.smsc.add_message(message)
            return self._finish(tx, message, failed, at)

        async with self._lock:  # no cancel_sm sees it pending
            self._announce_all(await self.store.transaction(work))

    async def cancel(self, *, account: str, message_id: str, shortcode: str, msisdn: str) -> int:
        """cancel_sm (SMPP 3.4, 4.9): the message with this id from ``shortcode``, or with
        no id every pending message from ``shortcode`` to ``msisdn``. Returns how many
        were DELETED (no receipt: the application asked for it)."""
        now = self.clock.now()
        deleted = Final("DELETED", FINAL_ERRORS["DELETED"])

        def work(tx: Transaction) -> list[_Settled]:
            found = tx.smsc.matching(
                account, message_id=message_id, shortcode=shortcode, msisdn=msisdn
            )
            return [s for m in found for s in self._finish(tx, m, deleted, now)]

        async with self._lock:
            cancelled = await self.store.transaction(work)
        self._announce_all(cancelled)
        return len(cancelled)

    # -- due work ---------------------------------------------------------------------

    async def run(self) -> None:
        with self.events.subscribe(kinds=frozenset({"clock", "handset"})) as cues:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._follow(cues.queue), name="scgw-smpp-cues")
                while True:
                    self._wake.clear()
                    try:
                        await self.settle_due()
                        pause = await self._sleep()
                    except (sqlite3.Error, StorageError) as exc:  # what is due stays due
                        log.error("smpp_outcomes_failed", error=str(exc))
                        pause = _RETRY
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(pause):
                            await self._wake.wait()

    async def _sleep(self) -> float | None:
        """How long to wait for a cue: a virtual clock's time moves only by them; a real
        one's until the next message is due (30 s at most)."""
        if self.clock.mode != "real":
            return None
        due = await self.store.query(lambda q: q.smsc.next_due())
        wait = 30.0 if due is None else (due - self.clock.now()).total_seconds()
        return max(0.0, min(wait, 30.0))

    async def _follow(self, cues: asyncio.Queue[LiveEvent]) -> None:
        """A handset changed: what it holds is due now; the clock moved: look again."""
        while True:
            cue = await cues.get()
            if cue.kind == "handset" and cue.msisdn is not None:
                msisdn, now = cue.msisdn, self.clock.now()
                try:
                    async with self._lock:
                        await self.store.transaction(partial(_release, msisdn=msisdn, at=now))
                except (sqlite3.Error, StorageError) as exc:  # held until its validity ends
                    log.error("smpp_release_failed", msisdn=msisdn, error=str(exc))
            self._wake.set()

    async def settle_due(self) -> int:
        """Settle everything due by now, each at its own instant, up to ``_BATCH`` in one
        transaction (their receipts queued with them); returns how many."""
        settled = 0
        while True:
            async with self._lock:  # a handset change waits: none is missed
                seen, done = await self.store.transaction(
                    partial(self._settle_batch, until=self.clock.now()),
                    # lost on a power cut only with what came after it: the messages are
                    # still due, and settle again, alike (the outcome was drawn and kept)
                    durable=False,
                )
            self._announce_all(done)
            settled += len(done)
            if seen < _BATCH:
                return settled

    def _settle_batch(self, tx: Transaction, *, until: datetime) -> tuple[int, list[_Settled]]:
        """One transaction's worth of due messages: each settled or held."""
        rows = tx.smsc.due(until, _BATCH)
        done: list[_Settled] = []
        for message in rows:
            handset = tx.handsets.get(message.msisdn)
            at = message.due_at or until  # due: never None
            final = settle(
                handset="on" if handset is None else handset.state,
                drawn=message.drawn,
                at=at,
                expires_at=message.expires_at,
            )
            if final is None:
                tx.smsc.hold(message.id)
            else:
                done += self._finish(tx, message, final, at)
        return len(rows), done

    def _finish(
        self, tx: Transaction, message: SmscMessage, final: Final, done: datetime
    ) -> list[_Settled]:
        """The final state, done at ``done``: the receipt queued (when asked) in the same
        transaction as the state, so a crash keeps both or neither."""
        if not tx.smsc.finish(message.id, state=final.stat, error=final.error, at=done):
            return []
        if final.stat != "DELETED" and wants_receipt(message.registered, final.stat):
            tx.smsc.enqueue(
                id=f"dlr-{message.id}",
                account=message.account,
                kind="receipt",
                source=message.msisdn,
                destination=message.shortcode,
                text=self._receipt(message, final, done),
                at=done,
                receipted_id=message.id,
                message_state=MESSAGE_STATE[final.stat],
            )
        return [(message, final, done)]

    def _announce_all(self, settled: list[_Settled]) -> None:
        """After the commit: wake the queues that have a receipt, announce each state."""
        for message, final, done in settled:
            if final.stat != "DELETED" and wants_receipt(message.registered, final.stat):
                self.on_receipt(message.account)
            self._announce(message, final, done)

    def _receipt(self, row: SmscMessage, final: Final, done: datetime) -> str:
        return receipt_text(
            message_id=row.id,
            state=final.stat,
            submitted=row.submitted_at,
            done=done,
            text=row.excerpt,
            tz=self.tz,
            error=final.error,
        )

    def _announce(self, row: SmscMessage, final: Final, done: datetime) -> None:
        """The final state on the live stream (the console) and on MQTT."""
        log.info("smpp_outcome", id=row.id, msisdn=row.msisdn, stat=final.stat, err=final.error)
        fields: dict[str, object] = {
            "id": row.id,
            "msisdn": row.msisdn,
            "shortcode": row.shortcode,
            "account": row.account,
            "stat": final.stat,
            "err": final.error,
        }
        self.events.publish([LiveEvent("dlr", done, fields)])
        if self.dlr is None:
            return
        payload = {
            **fields,
            "submitted_at": row.submitted_at.astimezone(self.tz).isoformat(),
            "done_at": done.astimezone(self.tz).isoformat(),
            "receipt": self._receipt(row, final, done),
        }
        task = asyncio.ensure_future(self.dlr(row.shortcode, payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
