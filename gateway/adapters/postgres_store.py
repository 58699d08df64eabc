"""PostgreSQL storage (psycopg 3): the ``Store`` port, every query run on one dedicated thread.

The unit of work is synchronous, as on SQLite: one connection per store, owned by one
worker thread; each ``transaction`` is ``BEGIN ISOLATION LEVEL REPEATABLE READ`` ..
``COMMIT`` around the same repositories (``SqliteSession`` over a
``PostgresConnection``), whose buffered writes go out with ``executemany`` (psycopg
pipelines the batch).

Several gateways may share the database (docs/scale-out.md): a transaction that lost a
race with another (a serialization failure, a deadlock) is run again at once, and the
subscribers a unit of work names (``serialise``) are locked, one after the other in a
fixed order, before its snapshot is taken, so that two MO batches touching the same
subscriber queue instead of failing.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import zlib
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import psycopg

from gateway.adapters.postgres_connection import PostgresConnection, configure
from gateway.adapters.postgres_instances import ADOPT_OUTBOX, INSTANCE_LOCKS
from gateway.adapters.postgres_url import is_postgres_url, redacted
from gateway.adapters.schema import migrations
from gateway.adapters.sqlite_session import SqliteSession
from gateway.errors import StorageError, StorageUnavailable

__all__ = ["PostgresStore", "is_postgres_url", "redacted"]

T = TypeVar("T")

#: an advisory lock key held while migrating: two gateways starting at once migrate once
_MIGRATION_LOCK = 0x5C67_0001
#: SQLSTATEs that mean "storage cannot take this now" besides psycopg's OperationalError
#: (a lost connection, a serialization failure, a deadlock, a full disk, a shutdown):
#: a read-only transaction (a standby, default_transaction_read_only)
_UNAVAILABLE_STATES = frozenset({"25006"})
_BEGIN = "BEGIN ISOLATION LEVEL REPEATABLE READ"
#: the first key of a subscriber's advisory lock (the second: a CRC of the MSISDN)
_SUBSCRIBER_LOCKS = 0x5C67_0003
#: a transaction that lost a race with another gateway's is run again this many times
#: at once (after a few random milliseconds) before the service is told to hold it
_RETRIES = 8
_RACE_LOST = (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected)


def _unavailable(exc: psycopg.Error) -> StorageUnavailable | None:
    """The ``StorageUnavailable`` a psycopg error means, or None for any other error."""
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError) or (
        exc.sqlstate in _UNAVAILABLE_STATES
    ):
        return StorageUnavailable(str(exc).strip() or type(exc).__name__)
    return None


class PostgresStore:
    """The ``Store`` port on a PostgreSQL database (``postgresql://user@host/db``)."""

    def __init__(self, url: str, *, instance: str = "") -> None:
        if not is_postgres_url(url):
            raise StorageError(f"not a PostgreSQL URL: {redacted(url)!r}")
        self._url = url
        #: this gateway among those sharing the database: its outbox rows are its own
        self.instance = instance
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scgw-postgres")
        self._conn: psycopg.Connection[Any] | None = None

    @property
    def path(self) -> str:
        """The database, for messages: its URL without the password."""
        return redacted(self._url)

    async def open(self) -> PostgresStore:
        await self._run(self._open)
        return self

    async def __aenter__(self) -> PostgresStore:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _connect(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(self._url, autocommit=True, application_name="scgw")
        configure(conn)
        return conn

    def _open(self) -> None:
        try:
            conn = self._connect()
        except psycopg.Error as exc:
            reason = " ".join(str(exc).split())  # libpq's message runs over several lines
            raise StorageError(f"cannot open database {self.path}: {reason}") from exc
        try:
            self._migrate(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    @staticmethod
    def _migrate(conn: psycopg.Connection[Any]) -> None:
        """Run the migrations this database has not had, in one transaction."""
        steps = migrations("postgres")
        latest = steps[-1][0]
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                # the schema version (SQLite keeps it in PRAGMA user_version)
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS scgw_schema_version (version BIGINT NOT NULL)"
                )
                row = conn.execute("SELECT max(version) FROM scgw_schema_version").fetchone()
                current = 0 if row is None or row[0] is None else int(row[0])
                if current > latest:
                    raise StorageError(
                        f"database schema version {current} is newer than this gateway ({latest})"
                    )
                for version, script in steps:
                    if version > current:
                        conn.execute(script.encode())
                if latest > current:
                    conn.execute("DELETE FROM scgw_schema_version")
                    conn.execute("INSERT INTO scgw_schema_version VALUES (%s)", (latest,))
        except psycopg.Error as exc:
            raise StorageError(f"cannot migrate database: {exc}") from exc

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    def _connection(self) -> psycopg.Connection[Any]:
        """The open connection; a new one after the last was lost (a server restart)."""
        conn = self._conn
        if conn is None:
            raise StorageError("the store is not open")
        if conn.closed or conn.broken:
            conn = self._conn = self._connect()
        return conn

    def _guarded(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except psycopg.Error as exc:
            unavailable = _unavailable(exc)
            if unavailable is not None:
                raise unavailable from exc
            raise

    def _session(self, conn: psycopg.Connection[Any]) -> SqliteSession:
        return SqliteSession(PostgresConnection(conn), owner=self.instance)

    def _retried(self, run: Callable[[], T]) -> T:
        """``run`` again when it lost a race with another gateway's transaction."""
        for attempt in range(_RETRIES):
            try:
                return run()
            except _RACE_LOST:
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        return run()

    async def transaction(
        self, work: Callable[[Any], T], *, durable: bool = True, serialise: Collection[str] = ()
    ) -> T:
        # a subscriber's lock key; sorted, so that two gateways never wait on each other
        keys = sorted({zlib.crc32(m.encode()) - 0x8000_0000 for m in serialise})

        def run() -> T:
            conn = self._connection()
            try:
                if keys:  # before BEGIN: the snapshot sees what the last holder committed
                    conn.cursor().executemany(
                        "SELECT pg_advisory_lock(%s::int, %s::int)",
                        [(_SUBSCRIBER_LOCKS, k) for k in keys],
                    )
                return in_transaction(conn)
            finally:
                if keys and not conn.closed:
                    with contextlib.suppress(psycopg.Error):
                        conn.execute("SELECT pg_advisory_unlock_all()")

        def in_transaction(conn: psycopg.Connection[Any]) -> T:
            session = self._session(conn)
            conn.execute(_BEGIN)
            try:
                if not durable:  # safe to lose on a crash: do not wait for the WAL flush
                    conn.execute("SET LOCAL synchronous_commit = off")
                result = work(session)
                session.flush()
                conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(psycopg.Error):
                    conn.execute("ROLLBACK")
                raise
            return result

        return await self._run(lambda: self._guarded(lambda: self._retried(run)))

    async def adopt_outbox(self, limit: int) -> int:
        """Take over up to ``limit`` unpublished outbox rows of instances no longer
        running (their lock is gone); returns how many. Publish them as this one's."""

        def run() -> int:
            conn = self._connection()
            conn.execute(_BEGIN)
            try:
                cursor = conn.execute(
                    ADOPT_OUTBOX, {"ns": INSTANCE_LOCKS, "me": self.instance, "limit": limit}
                )
                conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(psycopg.Error):
                    conn.execute("ROLLBACK")
                raise
            return cursor.rowcount

        return await self._run(lambda: self._guarded(lambda: self._retried(run)))

    async def query(self, work: Callable[[Any], T]) -> T:
        def run() -> T:
            conn = self._connection()
            conn.execute(_BEGIN)  # one snapshot for every read of the work
            try:
                result = work(self._session(conn))
                conn.execute("COMMIT")  # as on SQLite, a query's unbuffered writes stand
            except BaseException:
                with contextlib.suppress(psycopg.Error):
                    conn.execute("ROLLBACK")
                raise
            return result

        return await self._run(lambda: self._guarded(run))

    async def close(self) -> None:
        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await self._run(shut)
        self._executor.shutdown(wait=True)
