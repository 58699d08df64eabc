"""The storage engines the contract suite runs against: add one here to hold it to the contract.

An engine is a name, how to open an empty store of it (in a test's folder, or in a
PostgreSQL database created for the test and dropped after it), and the exception its
store raises for a write the schema refuses (a duplicate key, a missing parent, a
failed CHECK).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from gateway.adapters.postgres_store import PostgresStore
from gateway.adapters.sqlite_store import SqliteStore
from gateway.service.ports import Store
from tests.postgres_support import migrated_database
from tests.service.fakes import FakeIntegrityError, FakeStore

__all__ = ["ENGINES", "Engine"]


@dataclass(frozen=True, slots=True)
class Engine:
    name: str
    open: Callable[[Path], AbstractAsyncContextManager[Store]]
    integrity_error: type[Exception]


@asynccontextmanager
async def _fake(_: Path) -> AsyncIterator[Store]:
    store = FakeStore()
    yield store
    await store.close()


@asynccontextmanager
async def _sqlite(folder: Path) -> AsyncIterator[Store]:
    async with SqliteStore(str(folder / "contract.db")) as store:
        yield store


@asynccontextmanager
async def _postgres(_: Path) -> AsyncIterator[Store]:
    with migrated_database() as url:
        async with PostgresStore(url) as store:
            yield store


ENGINES = (
    Engine("fake", _fake, FakeIntegrityError),
    Engine("sqlite", _sqlite, sqlite3.IntegrityError),
    Engine("postgres", _postgres, psycopg.IntegrityError),
)
