"""SQLite storage (WAL): the ``Store`` port, with every query run on one dedicated thread."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from gateway.adapters.schema import migrations as _all_migrations
from gateway.adapters.sqlite_session import SqliteSession, from_micros, micros
from gateway.errors import StorageError, StorageUnavailable

__all__ = ["SqliteStore", "from_micros", "micros"]

T = TypeVar("T")

#: SQLite primary result codes that mean "storage cannot take this now" rather than a
#: bug in the statement: BUSY, LOCKED, READONLY, IOERR, CORRUPT, FULL, CANTOPEN, PERM
#: (https://sqlite.org/rescode.html)
_UNAVAILABLE = frozenset({3, 5, 6, 8, 10, 11, 13, 14})


def _unavailable(exc: sqlite3.Error) -> StorageUnavailable | None:
    """The ``StorageUnavailable`` an SQLite error means, or None for any other error."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError) and (
        (code is not None and code & 0xFF in _UNAVAILABLE)
        or (code is None and isinstance(exc, sqlite3.OperationalError))
    ):
        return StorageUnavailable(str(exc))
    return None


def conn_path(conn: sqlite3.Connection) -> str:
    """The file behind ``conn`` (for messages)."""
    row = conn.execute("PRAGMA database_list").fetchone()
    return str(row[2]) if row and row[2] else ":memory:"


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back whatever is open; after an I/O error SQLite may have done it already,
    or may fail to: the connection stays usable either way."""
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


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
        self._current_synchronous = synchronous

    @classmethod
    def from_url(cls, url: str, *, synchronous: str = "FULL") -> SqliteStore:
        """``sqlite:///relative.db``, ``sqlite:////absolute.db`` or ``sqlite:///:memory:``."""
        prefix = "sqlite:///"
        if not url.startswith(prefix):
            raise StorageError(
                f"unsupported database URL {url!r}:"
                " use sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE"
            )
        return cls(url[len(prefix) :], synchronous=synchronous)

    @property
    def path(self) -> str:
        """The database file (``:memory:`` for a database in memory)."""
        return self._path

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
            self._check_writable(Path(self._path))
        try:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {self._synchronous}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA busy_timeout = 5000")
            # checkpoint the WAL every ~32 MB rather than every 4 MB: fewer, larger copies
            conn.execute("PRAGMA wal_autocheckpoint = 8000")
            conn.execute("PRAGMA cache_size = -65536")  # 64 MiB of pages
            self._migrate(conn)
            self._probe_write(conn)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open database {self._path}: {exc}") from exc
        self._conn = conn

    @staticmethod
    def _check_writable(path: Path) -> None:
        """The database file (or, for a new one, its folder) must be writable: SQLite's
        own word for this is a bare "unable to open database file"."""
        target = path if path.exists() else path.parent
        try:
            if target.is_dir():
                probe = target / f".scgw-write-probe-{os.getpid()}"
                probe.touch()
                probe.unlink()
            else:
                os.close(os.open(target, os.O_RDWR))
        except OSError as exc:
            raise StorageError(f"database {path} is not writable: {exc.strerror or exc}") from exc

    @staticmethod
    def _probe_write(conn: sqlite3.Connection) -> None:
        """Refuse a database this process cannot write (a read-only file or folder): the
        gateway would start, look healthy, and lose every message."""
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('write_probe', '1')"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            )
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StorageError(f"database {conn_path(conn)} is not writable: {exc}") from exc

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        current = conn.execute("PRAGMA user_version").fetchone()[0]
        migrations = _all_migrations("sqlite")
        latest = migrations[-1][0]
        if current > latest:
            raise StorageError(
                f"database schema version {current} is newer than this gateway ({latest})"
            )
        for version, script in migrations:
            if version <= current:
                continue
            # SQLite's procedure for schema changes that rebuild a table: foreign keys
            # off (they cannot change inside a transaction), the change, a check of
            # every foreign key, then commit; anything wrong rolls the change back.
            conn.execute("PRAGMA foreign_keys = OFF")
            try:
                conn.executescript(f"BEGIN IMMEDIATE;\n{script}")
                broken = conn.execute("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise StorageError(f"migration {version} breaks foreign keys: {broken[:5]}")
                conn.execute(f"PRAGMA user_version = {version}")
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            finally:
                conn.execute("PRAGMA foreign_keys = ON")

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    def _session(self) -> SqliteSession:
        if self._conn is None:
            raise StorageError("the store is not open")
        return SqliteSession(self._conn)

    async def transaction(
        self, work: Callable[[Any], T], *, durable: bool = True, serialise: Collection[str] = ()
    ) -> T:
        # ``serialise`` needs nothing here: one writer holds the file at a time
        def run() -> T:
            session = self._session()
            conn = self._conn
            assert conn is not None
            synchronous = self._synchronous if durable else "OFF"
            if synchronous != self._current_synchronous:
                conn.execute(f"PRAGMA synchronous = {synchronous}")
                self._current_synchronous = synchronous
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = work(session)
                    session.flush()
                    conn.execute("COMMIT")
                except BaseException:
                    _rollback(conn)
                    raise
            except sqlite3.Error as exc:
                unavailable = _unavailable(exc)
                if unavailable is not None:
                    raise unavailable from exc
                raise
            return result

        return await self._run(run)

    async def query(self, work: Callable[[Any], T]) -> T:
        def run() -> T:
            try:
                return work(self._session())
            except sqlite3.Error as exc:
                unavailable = _unavailable(exc)
                if unavailable is not None:
                    raise unavailable from exc
                raise

        return await self._run(run)

    async def close(self) -> None:
        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await self._run(shut)
        self._executor.shutdown(wait=True)
