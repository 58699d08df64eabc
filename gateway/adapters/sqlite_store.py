"""SQLite storage (WAL): the ``Store`` port, with every query run on one dedicated thread."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, cast

from gateway.domain.model import (
    ChargeRecord,
    InboundSms,
    InvoiceLine,
    LedgerEntry,
    Outgoing,
    Subscriber,
    Subscription,
)
from gateway.errors import StorageError

__all__ = ["SqliteStore", "from_micros", "micros"]

T = TypeVar("T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(at: datetime) -> int:
    """An aware instant as integer microseconds since the epoch."""
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def _opt(value: datetime | None) -> int | None:
    return None if value is None else micros(value)


def _opt_dt(value: int | None) -> datetime | None:
    return None if value is None else from_micros(value)


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("gateway.adapters") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


_SUBSCRIPTION_COLUMNS = (
    "id, msisdn, package, grp, status, started_at, period_start, expires_at, auto_renew,"
    " next_action_at, failed_since, cancelled_at, charge_month, charged_in_month, usage_bytes"
)
_OUTBOX_COLUMNS = "id, shortcode, msisdn, text, in_reply_to, encoding, segments, at"
_CHARGE_COLUMNS = (
    "id, msisdn, subscription_id, package, reason, rule, amount, billing, invoice_month, at,"
    " message_id"
)


def _subscription(row: sqlite3.Row | tuple[Any, ...]) -> Subscription:
    return Subscription(
        id=row[0],
        msisdn=row[1],
        package=row[2],
        group=row[3],
        status=row[4],
        started_at=from_micros(row[5]),
        period_start=from_micros(row[6]),
        expires_at=from_micros(row[7]),
        auto_renew=bool(row[8]),
        next_action_at=_opt_dt(row[9]),
        failed_since=_opt_dt(row[10]),
        cancelled_at=_opt_dt(row[11]),
        charge_month=row[12],
        charged_in_month=row[13],
        usage_bytes=row[14],
    )


def _outgoing(row: tuple[Any, ...]) -> Outgoing:
    return Outgoing(
        id=row[0],
        shortcode=row[1],
        msisdn=row[2],
        text=row[3],
        in_reply_to=row[4],
        encoding=row[5],
        segments=row[6],
        at=from_micros(row[7]),
    )


class _Session:
    """Implements both ``Transaction`` and ``Queries`` on one connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    # subscribers
    def get_subscriber(self, msisdn: str) -> Subscriber | None:
        row = self._conn.execute(
            "SELECT msisdn, kind, balance, language, created_at FROM subscribers WHERE msisdn = ?",
            (msisdn,),
        ).fetchone()
        if row is None:
            return None
        return Subscriber(row[0], row[1], row[2], row[3], from_micros(row[4]))

    def put_subscriber(self, subscriber: Subscriber) -> None:
        self._conn.execute(
            "INSERT INTO subscribers (msisdn, kind, balance, language, created_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (msisdn) DO UPDATE SET"
            " kind = excluded.kind, balance = excluded.balance, language = excluded.language",
            (
                subscriber.msisdn,
                subscriber.kind,
                subscriber.balance,
                subscriber.language,
                micros(subscriber.created_at),
            ),
        )

    # subscriptions
    def open_subscriptions(self, msisdn: str) -> list[Subscription]:
        rows = self._conn.execute(
            f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions"  # noqa: S608
            " WHERE msisdn = ? AND status IN ('active', 'renewal_failed') ORDER BY started_at",
            (msisdn,),
        ).fetchall()
        return [_subscription(r) for r in rows]

    def subscriptions(self, msisdn: str) -> list[Subscription]:
        rows = self._conn.execute(
            f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions"  # noqa: S608
            " WHERE msisdn = ? ORDER BY started_at, rowid",
            (msisdn,),
        ).fetchall()
        return [_subscription(r) for r in rows]

    def put_subscription(self, s: Subscription) -> None:
        self._conn.execute(
            f"INSERT INTO subscriptions ({_SUBSCRIPTION_COLUMNS})"  # noqa: S608
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET status = excluded.status,"
            " period_start = excluded.period_start, expires_at = excluded.expires_at,"
            " auto_renew = excluded.auto_renew, next_action_at = excluded.next_action_at,"
            " failed_since = excluded.failed_since, cancelled_at = excluded.cancelled_at,"
            " charge_month = excluded.charge_month, charged_in_month = excluded.charged_in_month,"
            " usage_bytes = excluded.usage_bytes",
            (
                s.id,
                s.msisdn,
                s.package,
                s.group,
                s.status,
                micros(s.started_at),
                micros(s.period_start),
                micros(s.expires_at),
                int(s.auto_renew),
                _opt(s.next_action_at),
                _opt(s.failed_since),
                _opt(s.cancelled_at),
                s.charge_month,
                s.charged_in_month,
                s.usage_bytes,
            ),
        )

    def due_subscriptions(self, until: datetime, limit: int) -> list[Subscription]:
        rows = self._conn.execute(
            f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions"  # noqa: S608
            " WHERE next_action_at IS NOT NULL AND next_action_at <= ?"
            " ORDER BY next_action_at, id LIMIT ?",
            (micros(until), limit),
        ).fetchall()
        return [_subscription(r) for r in rows]

    def next_due(self) -> datetime | None:
        row = self._conn.execute(
            "SELECT min(next_action_at) FROM subscriptions WHERE next_action_at IS NOT NULL"
        ).fetchone()
        return _opt_dt(row[0])

    # money
    def add_charge(self, c: ChargeRecord) -> None:
        self._conn.execute(
            f"INSERT INTO charges ({_CHARGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
            (
                c.id,
                c.msisdn,
                c.subscription_id,
                c.package,
                c.reason,
                c.rule,
                c.amount,
                c.billing,
                c.invoice_month,
                micros(c.at),
                c.message_id,
            ),
        )

    def charges(self, msisdn: str) -> list[ChargeRecord]:
        rows = self._conn.execute(
            f"SELECT {_CHARGE_COLUMNS} FROM charges WHERE msisdn = ? ORDER BY at, rowid",  # noqa: S608
            (msisdn,),
        ).fetchall()
        return [
            ChargeRecord(
                r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], from_micros(r[9]), r[10]
            )
            for r in rows
        ]

    def add_invoice_line(self, line: InvoiceLine) -> None:
        self._conn.execute(
            "INSERT INTO invoice_lines (charge_id, msisdn, month, package, description, amount, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                line.charge_id,
                line.msisdn,
                line.month,
                line.package,
                line.description,
                line.amount,
                micros(line.at),
            ),
        )

    def invoice_lines(self, msisdn: str, month: str) -> list[InvoiceLine]:
        rows = self._conn.execute(
            "SELECT charge_id, msisdn, month, package, description, amount, at FROM invoice_lines"
            " WHERE msisdn = ? AND month = ? ORDER BY at, charge_id",
            (msisdn, month),
        ).fetchall()
        return [InvoiceLine(r[0], r[1], r[2], r[3], r[4], r[5], from_micros(r[6])) for r in rows]

    def add_ledger_entry(self, e: LedgerEntry) -> None:
        self._conn.execute(
            "INSERT INTO ledger (msisdn, delta, balance_after, reason, charge_id, at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (e.msisdn, e.delta, e.balance_after, e.reason, e.charge_id, micros(e.at)),
        )

    def ledger(self, msisdn: str) -> list[LedgerEntry]:
        rows = self._conn.execute(
            "SELECT msisdn, delta, balance_after, reason, at, charge_id FROM ledger"
            " WHERE msisdn = ? ORDER BY id",
            (msisdn,),
        ).fetchall()
        return [LedgerEntry(r[0], r[1], r[2], r[3], from_micros(r[4]), r[5]) for r in rows]

    # messages
    def add_outgoing(self, m: Outgoing, *, answer: bool = True) -> None:
        self._conn.execute(
            f"INSERT INTO outbox ({_OUTBOX_COLUMNS}, answer)"  # noqa: S608
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                m.id,
                m.shortcode,
                m.msisdn,
                m.text,
                m.in_reply_to,
                m.encoding,
                m.segments,
                micros(m.at),
                int(answer),
            ),
        )

    def replies_to(self, msisdn: str, inbound_id: str) -> list[Outgoing] | None:
        seen = self._conn.execute(
            "SELECT 1 FROM inbound WHERE msisdn = ? AND id = ?", (msisdn, inbound_id)
        ).fetchone()
        if seen is None:
            return None
        rows = self._conn.execute(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox"  # noqa: S608
            " WHERE msisdn = ? AND in_reply_to = ? AND answer = 1 ORDER BY seq",
            (msisdn, inbound_id),
        ).fetchall()
        return [_outgoing(r) for r in rows]

    def record_inbound(self, message: InboundSms, received_at: datetime) -> None:
        self._conn.execute(
            "INSERT INTO inbound (msisdn, id, shortcode, text, received_at) VALUES (?, ?, ?, ?, ?)",
            (message.msisdn, message.id, message.shortcode, message.text, micros(received_at)),
        )

    def unpublished(self, limit: int) -> list[Outgoing]:
        rows = self._conn.execute(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE published = 0 ORDER BY seq LIMIT ?",  # noqa: S608
            (limit,),
        ).fetchall()
        return [_outgoing(r) for r in rows]

    def mark_published(self, ids: Sequence[str]) -> None:
        self._conn.executemany("UPDATE outbox SET published = 1 WHERE id = ?", [(i,) for i in ids])

    # meta
    def get_meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else cast(str, row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def stats(self) -> dict[str, Any]:
        one = self._conn.execute
        return {
            "subscribers": one("SELECT count(*) FROM subscribers").fetchone()[0],
            "open_subscriptions": one(
                "SELECT count(*) FROM subscriptions WHERE next_action_at IS NOT NULL"
            ).fetchone()[0],
            "unpublished": one("SELECT count(*) FROM outbox WHERE published = 0").fetchone()[0],
        }


class SqliteStore:
    """The ``Store`` port on a SQLite file in WAL mode.

    Every call runs on one dedicated thread that owns the connection, so the event
    loop never blocks on disk and transactions are naturally serialised.
    """

    def __init__(self, path: str, *, synchronous: str = "FULL") -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scgw-sqlite")
        self._conn: sqlite3.Connection | None = None
        self._synchronous = synchronous

    @classmethod
    def from_url(cls, url: str, *, synchronous: str = "FULL") -> SqliteStore:
        """``sqlite:///relative.db``, ``sqlite:////absolute.db`` or ``sqlite:///:memory:``."""
        prefix = "sqlite:///"
        if not url.startswith(prefix):
            raise StorageError(
                f"unsupported database URL {url!r}: only sqlite:///PATH is supported so far"
            )
        return cls(url[len(prefix) :], synchronous=synchronous)

    async def open(self) -> SqliteStore:
        await self._run(self._open)
        return self

    async def __aenter__(self) -> SqliteStore:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _open(self) -> None:
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {self._synchronous}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA busy_timeout = 5000")
            self._migrate(conn)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open database {self._path}: {exc}") from exc
        self._conn = conn

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        current = conn.execute("PRAGMA user_version").fetchone()[0]
        migrations = _migrations()
        latest = migrations[-1][0]
        if current > latest:
            raise StorageError(
                f"database schema version {current} is newer than this gateway ({latest})"
            )
        for version, script in migrations:
            if version <= current:
                continue
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;"
            )

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    def _session(self) -> _Session:
        if self._conn is None:
            raise StorageError("the store is not open")
        return _Session(self._conn)

    async def transaction(self, work: Callable[[Any], T]) -> T:
        def run() -> T:
            session = self._session()
            conn = self._conn
            assert conn is not None
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(session)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        return await self._run(run)

    async def query(self, work: Callable[[Any], T]) -> T:
        def run() -> T:
            return work(self._session())

        return await self._run(run)

    async def close(self) -> None:
        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await self._run(shut)
        self._executor.shutdown(wait=True)
