"""Messages an application submitted, until their outcome is final: due work on the
gateway's clock (virtual or real), held messages, cancel_sm, and each final state as a
receipt (the application's queue, when asked), a live event and an MQTT message."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
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
from gateway.adapters.smpp.store import SmppStore
from gateway.domain.events import LiveEvent
from gateway.errors import StorageError
from gateway.service.events import EventBus
from gateway.service.handsets import HandsetStates
from gateway.service.ports import Clock

__all__ = ["DlrSink", "OutcomeSettings", "PendingMessages"]

log = structlog.get_logger("gateway.smpp")

#: publishes one final state: ``(short code, JSON payload)`` (MQTT ``sms/dlr/<code>``)
DlrSink = Callable[[str, dict[str, Any]], Awaitable[None]]

_COLUMNS = (
    "id, account, source, destination, registered, excerpt, drawn, submitted_at, due_at, expires_at"
)
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
class _Row:
    id: str
    account: str
    shortcode: str
    msisdn: str
    registered: int
    excerpt: str
    drawn: str
    submitted_at: datetime
    due_at: datetime
    expires_at: datetime


def _micros(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000)


def _instant(micros: int) -> datetime:
    return datetime.fromtimestamp(micros / 1_000_000, UTC)


def _row(values: tuple[Any, ...]) -> _Row:
    id, account, shortcode, msisdn, registered, excerpt, drawn, submitted, due, expires = values
    return _Row(
        id=id,
        account=account,
        shortcode=shortcode,
        msisdn=msisdn,
        registered=registered,
        excerpt=excerpt,
        drawn=drawn,
        submitted_at=_instant(submitted),
        due_at=_instant(due),
        expires_at=_instant(expires),
    )


def _due(conn: sqlite3.Connection, *, until: int) -> list[tuple[Any, ...]]:
    return conn.execute(
        f"SELECT {_COLUMNS} FROM smpp_messages WHERE state = 'ENROUTE'"  # noqa: S608
        " AND due_at <= ? ORDER BY due_at, submitted_at, id LIMIT ?",
        (until, _BATCH),
    ).fetchall()


@dataclass(eq=False)
class PendingMessages:
    """Runs while the SMPP server runs (``run``): settles each message at the instant it
    is due, in order; a virtual clock's advance (a ``clock`` live event) and a handset
    change (``handset``) wake it, a real clock's time too. One lock orders settling and
    cancel_sm, so a cancelled message never gets a receipt."""

    store: SmppStore
    clock: Clock
    events: EventBus
    handsets: HandsetStates
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

    async def accept(
        self,
        *,
        id: str,
        account: str,
        shortcode: str,
        msisdn: str,
        text: str,
        registered: int,
        submitted: datetime,
        expires_at: datetime,
        failed: Final | None = None,
    ) -> None:
        """Keep an accepted message (ENROUTE) until its outcome is due; one that ``failed``
        already (an MT that could not be charged) is final at once, at ``submitted``."""
        row = _Row(
            id=id,
            account=account,
            shortcode=shortcode,
            msisdn=msisdn,
            registered=registered,
            excerpt=text[:20],
            drawn=failed.stat if failed else self._draws.get(account, self._draw).draw(),
            submitted_at=submitted,
            due_at=submitted if failed else submitted + self.settings.delay,
            expires_at=expires_at,
        )
        # one that failed already is never due: settled here, not by the loop
        due = None if failed else _micros(row.due_at)
        values = (
            *(row.id, row.account, row.shortcode, row.msisdn, row.registered, row.excerpt),
            *(row.drawn, _micros(submitted), due, _micros(expires_at)),
        )

        def insert(conn: sqlite3.Connection) -> None:
            conn.execute(
                f"INSERT OR REPLACE INTO smpp_messages ({_COLUMNS}, state, error)"  # noqa: S608
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'ENROUTE', 0)",
                values,
            )

        if failed is None:
            await self.store.atomically(insert)
            self._wake.set()
            return
        async with self._lock:  # no cancel_sm sees it pending
            await self.store.atomically(insert)
            await self._finish(row, failed)

    async def cancel(self, *, account: str, message_id: str, shortcode: str, msisdn: str) -> int:
        """cancel_sm (SMPP 3.4, 4.9): the message with this id from ``shortcode``, or with
        no id every pending message from ``shortcode`` to ``msisdn``. Returns how many
        were DELETED (no receipt: the application asked for it)."""
        params: tuple[str, ...]
        if message_id:
            where, params = "id = ? AND source = ?", (message_id, shortcode)
            if msisdn:
                where, params = f"{where} AND destination = ?", (*params, msisdn)
        else:
            where, params = "source = ? AND destination = ?", (shortcode, msisdn)
        now = self.clock.now()

        def work(conn: sqlite3.Connection) -> list[_Row]:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM smpp_messages WHERE account = ?"  # noqa: S608
                f" AND state = 'ENROUTE' AND {where}",
                (account, *params),
            ).fetchall()
            conn.executemany(
                "UPDATE smpp_messages SET state = 'DELETED', error = ?, done_at = ?,"
                " due_at = NULL WHERE id = ?",
                [(FINAL_ERRORS["DELETED"], _micros(now), r[0]) for r in rows],
            )
            return [_row(r) for r in rows]

        async with self._lock:
            cancelled = await self.store.atomically(work)
        for row in cancelled:
            self._announce(row, Final("DELETED", FINAL_ERRORS["DELETED"]), now)
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
        due = await self._next_due()
        wait = 30.0 if due is None else (due - self.clock.now()).total_seconds()
        return max(0.0, min(wait, 30.0))

    async def _follow(self, cues: asyncio.Queue[LiveEvent]) -> None:
        """A handset changed: what it holds is due now; the clock moved: look again."""
        while True:
            cue = await cues.get()
            if cue.kind == "handset" and cue.msisdn is not None:
                try:
                    await self._release(cue.msisdn, self.clock.now())
                except (sqlite3.Error, StorageError) as exc:  # held until its validity ends
                    log.error("smpp_release_failed", msisdn=cue.msisdn, error=str(exc))
            self._wake.set()

    async def _release(self, msisdn: str, now: datetime) -> None:
        async with self._lock:
            await self.store.atomically(
                lambda conn: conn.execute(
                    "UPDATE smpp_messages SET due_at = ? WHERE destination = ?"
                    " AND state = 'ENROUTE' AND due_at = expires_at AND due_at > ?",
                    (_micros(now), msisdn, _micros(now)),
                )
            )

    async def _next_due(self) -> datetime | None:
        row = await self.store.atomically(
            lambda conn: conn.execute(
                "SELECT min(due_at) FROM smpp_messages WHERE state = 'ENROUTE'"
            ).fetchone()
        )
        return None if row is None or row[0] is None else _instant(row[0])

    async def settle_due(self) -> int:
        """Settle everything due by now, each at its own instant; returns how many."""
        settled = 0
        while True:
            rows = await self.store.atomically(partial(_due, until=_micros(self.clock.now())))
            if not rows:
                return settled
            for row in map(_row, rows):
                async with self._lock:  # a handset change waits: none is missed
                    handset = await self.handsets.get(row.msisdn)
                    final = settle(
                        handset=handset.state,
                        drawn=row.drawn,
                        at=row.due_at,
                        expires_at=row.expires_at,
                    )
                    if final is None:
                        await self._hold(row)
                    elif await self._finish(row, final):
                        settled += 1

    async def _hold(self, row: _Row) -> None:
        await self.store.atomically(
            lambda conn: conn.execute(
                "UPDATE smpp_messages SET due_at = expires_at WHERE id = ? AND state = 'ENROUTE'",
                (row.id,),
            )
        )

    async def _finish(self, row: _Row, final: Final) -> bool:
        """The final state at ``row.due_at``: the receipt queued (when asked) in the same
        transaction as the state, so a crash keeps both or neither."""
        done = row.due_at
        text = self._receipt(row, final, done)
        wanted = wants_receipt(row.registered, final.stat)

        def work(conn: sqlite3.Connection) -> bool:
            changed = conn.execute(
                "UPDATE smpp_messages SET state = ?, error = ?, done_at = ?, due_at = NULL"
                " WHERE id = ? AND state = 'ENROUTE'",
                (final.stat, final.error, _micros(done), row.id),
            ).rowcount
            if changed and wanted:
                conn.execute(
                    "INSERT OR IGNORE INTO smpp_queue (id, account, kind, source, destination,"
                    " text, receipted_id, message_state, created_at)"
                    " VALUES (?, ?, 'receipt', ?, ?, ?, ?, ?, ?)",
                    (
                        f"dlr-{row.id}",
                        row.account,
                        row.msisdn,
                        row.shortcode,
                        text,
                        row.id,
                        MESSAGE_STATE[final.stat],
                        _micros(done),
                    ),
                )
            return bool(changed)

        if not await self.store.atomically(work):
            return False
        if wanted:
            self.on_receipt(row.account)
        self._announce(row, final, done)
        return True

    def _receipt(self, row: _Row, final: Final, done: datetime) -> str:
        return receipt_text(
            message_id=row.id,
            state=final.stat,
            submitted=row.submitted_at,
            done=done,
            text=row.excerpt,
            tz=self.tz,
            error=final.error,
        )

    def _announce(self, row: _Row, final: Final, done: datetime) -> None:
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
