"""The stores the service tests run on: the in-memory fake, a SQLite file, a PostgreSQL database.

Each is a ``StoreUnderTest``: the ``Store`` port, plus the fake's synchronous reads for
assertions (``view()`` reads what is committed; ``snapshot()`` is equal to an earlier
one iff nothing committed since changed). A real store gets them through a second
connection of the test's own, so the assertions read what the database holds, not
what the store's connection may still have buffered.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

import psycopg

from gateway.adapters.postgres_connection import PostgresConnection, configure
from gateway.adapters.postgres_store import PostgresStore
from gateway.adapters.sqlite_buffer import Connection
from gateway.adapters.sqlite_session import SqliteSession
from gateway.adapters.sqlite_store import SqliteStore
from gateway.service.ports import Queries, Store, Transaction
from gateway.service.repositories import Conversations
from tests.postgres_support import migrated_database
from tests.service.fakes import FakeStore

__all__ = ["STORE_ENGINES", "RealStore", "StoreUnderTest", "View", "open_store"]

T = TypeVar("T")

#: the engines a parametrised service test runs on, by name
STORE_ENGINES = ("fake", "sqlite", "postgres")


class View(Queries, Protocol):
    """What a test reads back: the read models, and the conversations (a write-side
    repository the read models do not cover)."""

    @property
    def conversations(self) -> Conversations: ...


class StoreUnderTest(Protocol):
    async def transaction(
        self,
        work: Callable[[Transaction], T],
        *,
        durable: bool = True,
        serialise: Collection[str] = (),
    ) -> T: ...
    async def query(self, work: Callable[[Queries], T]) -> T: ...
    async def close(self) -> None: ...
    def view(self) -> View: ...
    def snapshot(self) -> object: ...


class RealStore:
    """A real store, with synchronous reads through ``reader``, a connection of its own."""

    def __init__(self, store: Store, reader: Connection, tables: list[str]) -> None:
        self._store = store
        self._reader = reader
        self._tables = tables

    async def transaction(
        self,
        work: Callable[[Transaction], T],
        *,
        durable: bool = True,
        serialise: Collection[str] = (),
    ) -> T:
        return await self._store.transaction(work, durable=durable, serialise=serialise)

    async def query(self, work: Callable[[Queries], T]) -> T:
        return await self._store.query(work)

    async def close(self) -> None:
        await self._store.close()

    def view(self) -> View:
        return SqliteSession(self._reader)

    def snapshot(self) -> object:
        """Every row of every table, in a stable order."""
        return {
            table: sorted(
                (tuple(row) for row in self._reader.execute(f"SELECT * FROM {table}")),  # noqa: S608 (the schema's own table names)
                key=repr,
            )
            for table in self._tables
        }


@asynccontextmanager
async def _fake(_: Path) -> AsyncIterator[StoreUnderTest]:
    store = FakeStore()
    yield store
    await store.close()


@asynccontextmanager
async def _sqlite(folder: Path) -> AsyncIterator[StoreUnderTest]:
    path = str(folder / "service.db")
    async with SqliteStore(path) as store:
        reader = sqlite3.connect(path, isolation_level=None)
        try:
            rows = reader.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            yield RealStore(store, reader, sorted(name for (name,) in rows))
        finally:
            reader.close()


@asynccontextmanager
async def _postgres(_: Path) -> AsyncIterator[StoreUnderTest]:
    with migrated_database() as url:
        async with PostgresStore(url) as store:
            raw: psycopg.Connection[Any] = psycopg.connect(url, autocommit=True)
            configure(raw)
            try:
                rows = raw.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                tables = sorted(str(name) for (name,) in rows)
                yield RealStore(store, PostgresConnection(raw), tables)
            finally:
                raw.close()


_OPENERS: dict[str, Callable[[Path], AbstractAsyncContextManager[StoreUnderTest]]] = {
    "fake": _fake,
    "sqlite": _sqlite,
    "postgres": _postgres,
}


def open_store(engine: str, folder: Path) -> AbstractAsyncContextManager[StoreUnderTest]:
    """An empty store of ``engine`` (one of ``STORE_ENGINES``), closed on exit."""
    return _OPENERS[engine](folder)
