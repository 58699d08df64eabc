"""A batch's prefetch on the real engines: one statement per table, then none per MO.

The storage contract (``tests/contract/test_storage_contract_prefetch.py``) proves a
prefetch changes no read; this proves it saves the round trips it is for, by counting
the statements a session sends (SQLite, and PostgreSQL where each is a network round
trip).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gateway.adapters.postgres_connection import PostgresConnection, configure
from gateway.adapters.postgres_store import PostgresStore
from gateway.adapters.sqlite_buffer import Connection, Cursor
from gateway.adapters.sqlite_session import SqliteSession
from gateway.adapters.sqlite_store import SqliteStore
from gateway.service.ports import Store, Transaction
from tests.contract.records import T0, A, B, C, hours, inbound, subscriber, subscription
from tests.postgres_support import migrated_database


class Counting:
    """A connection that counts the statements sent through it."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.sent = 0

    def execute(self, sql: str, params: Sequence[Any] = (), /) -> Cursor:
        self.sent += 1
        return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> Cursor:
        self.sent += 1
        return self._conn.executemany(sql, rows)


@pytest.fixture(params=["sqlite", "postgres"])
async def opened(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Store, Connection]]:
    """A store of the engine, and a connection of its own to the same database."""
    if request.param == "sqlite":
        path = str(tmp_path / "prefetch.db")
        async with SqliteStore(path) as store:
            reader = sqlite3.connect(path, isolation_level=None)
            try:
                yield store, reader
            finally:
                reader.close()
        return
    with migrated_database() as url:
        async with PostgresStore(url) as pg:
            raw: psycopg.Connection[Any] = psycopg.connect(url, autocommit=True)
            configure(raw)
            try:
                yield pg, PostgresConnection(raw)
            finally:
                raw.close()


async def test_a_prefetched_batch_reads_its_senders_in_three_statements(
    opened: tuple[Store, Connection],
) -> None:
    store, conn = opened

    def seed(tx: Transaction) -> None:
        tx.subscribers.put(subscriber(A))
        tx.subscribers.put(subscriber(B))
        tx.subscriptions.put(subscription("a1", started=hours(1)))
        tx.outbox.record_inbound(inbound("m1"), T0)

    await store.transaction(seed)
    senders, mos = (A, B, C), ((A, "m1"), (A, "m2"), (B, "m3"), (C, "m4"))

    def reads(session: SqliteSession) -> None:
        for msisdn in senders:
            session.subscribers.get(msisdn)
            session.subscriptions.open_of(msisdn)
        for msisdn, mo in mos[1:]:  # the new ones: a seen MO then reads its replies
            assert session.outbox.replies_to(msisdn, mo) is None

    plain = Counting(conn)
    reads(SqliteSession(plain))
    # one statement per read, whether it finds something or not
    assert plain.sent == 3 + 3 + 3

    prefetched = Counting(conn)
    session = SqliteSession(prefetched)
    session.prefetch(senders, mos)
    assert prefetched.sent == 3, "one statement per table"
    reads(session)
    assert prefetched.sent == 3, "every read answered from what was prefetched"
