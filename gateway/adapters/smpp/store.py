"""The SMPP server's own rows (migration 006): deliveries waiting for an application, and
the messages its ``submit_sm`` created. Its own connection to the gateway's SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Literal, Self, TypeVar

__all__ = ["QueuedDelivery", "SmppStore", "StoredMessage"]

T = TypeVar("T")
Kind = Literal["mo", "receipt"]


def _micros(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000)


def _instant(micros: int | None) -> datetime | None:
    return None if micros is None else datetime.fromtimestamp(micros / 1_000_000, UTC)


@dataclass(frozen=True, slots=True)
class QueuedDelivery:
    """A ``deliver_sm`` owed to an application: an MO, or a receipt for its submit_sm."""

    seq: int
    id: str
    account: str
    kind: Kind
    source: str
    destination: str
    text: str
    receipted_id: str | None
    message_state: int | None
    attempts: int


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message accepted by submit_sm, with its delivery state (query_sm)."""

    id: str
    account: str
    source: str
    destination: str
    state: str
    error: int
    submitted_at: datetime
    done_at: datetime | None


class SmppStore:
    """Serialised on one thread; the tables exist once the gateway's store migrated."""

    def __init__(self, path: str, *, synchronous: str = "FULL") -> None:
        self._path = path
        self._synchronous = synchronous
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scgw-smpp-db")
        self._conn: sqlite3.Connection | None = None

    async def __aenter__(self) -> Self:
        await self._run(self._open)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._run(self._close)
        self._executor.shutdown(wait=True)

    def _open(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        if self._path == ":memory:":  # tests without a file: the tables of migration 006
            from importlib import resources

            folder = resources.files("gateway.adapters") / "migrations"
            for name in ("006_smpp.sql", "009_smpp_outcomes.sql"):
                conn.executescript((folder / name).read_text())
        self._conn = conn

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def _run(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    async def atomically(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` on the connection in one write transaction (for the tables other
        modules own: ``smpp.pending``)."""

        def run() -> T:
            assert self._conn is not None
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(self._conn)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            return result

        return await self._run(run)

    def _write(self, sql: str, params: tuple[object, ...]) -> None:
        assert self._conn is not None
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.execute(sql, params)
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    # -- the delivery queue -------------------------------------------------------------

    async def enqueue(
        self,
        *,
        id: str,
        account: str,
        kind: Kind,
        source: str,
        destination: str,
        text: str,
        at: datetime,
        receipted_id: str | None = None,
        message_state: int | None = None,
    ) -> None:
        """Keep a delivery until acknowledged (committed, durable, when this returns);
        the same id twice is kept once."""
        await self._run(
            lambda: self._write(
                "INSERT OR IGNORE INTO smpp_queue (id, account, kind, source, destination, text,"
                " receipted_id, message_state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    id,
                    account,
                    kind,
                    source,
                    destination,
                    text,
                    receipted_id,
                    message_state,
                    _micros(at),
                ),
            )
        )

    async def pending(self, account: str, limit: int = 100) -> list[QueuedDelivery]:
        def read() -> list[QueuedDelivery]:
            assert self._conn is not None
            rows = self._conn.execute(
                "SELECT seq, id, account, kind, source, destination, text, receipted_id,"
                " message_state, attempts FROM smpp_queue"
                " WHERE account = ? AND delivered_at IS NULL ORDER BY seq LIMIT ?",
                (account, limit),
            ).fetchall()
            return [QueuedDelivery(*row) for row in rows]

        return await self._run(read)

    async def delivered(self, seq: int, at: datetime) -> None:
        await self._run(
            lambda: self._write(
                "UPDATE smpp_queue SET delivered_at = ?, attempts = attempts + 1 WHERE seq = ?",
                (_micros(at), seq),
            )
        )

    async def attempted(self, seq: int) -> None:
        await self._run(
            lambda: self._write(
                "UPDATE smpp_queue SET attempts = attempts + 1 WHERE seq = ?", (seq,)
            )
        )

    # -- submitted messages -------------------------------------------------------------

    async def add_message(self, message: StoredMessage) -> None:
        await self._run(
            lambda: self._write(
                "INSERT OR REPLACE INTO smpp_messages (id, account, source, destination, state,"
                " error, submitted_at, done_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    message.id,
                    message.account,
                    message.source,
                    message.destination,
                    message.state,
                    message.error,
                    _micros(message.submitted_at),
                    None if message.done_at is None else _micros(message.done_at),
                ),
            )
        )

    async def message(self, message_id: str) -> StoredMessage | None:
        def read() -> StoredMessage | None:
            assert self._conn is not None
            row = self._conn.execute(
                "SELECT id, account, source, destination, state, error, submitted_at, done_at"
                " FROM smpp_messages WHERE id = ?",
                (message_id,),
            ).fetchone()
            if row is None:
                return None
            submitted = _instant(row[6])
            assert submitted is not None
            return StoredMessage(
                id=row[0],
                account=row[1],
                source=row[2],
                destination=row[3],
                state=row[4],
                error=row[5],
                submitted_at=submitted,
                done_at=_instant(row[7]),
            )

        return await self._run(read)
