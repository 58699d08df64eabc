"""The PostgreSQL store on a real server: its schema version, a lost connection, the URL."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from gateway.adapters.postgres_store import PostgresStore, redacted
from gateway.adapters.schema import migrations
from gateway.adapters.sqlite_store import SqliteStore
from gateway.adapters.storage import store_for
from gateway.errors import StorageError, StorageUnavailable
from tests.postgres_support import ADMIN_URL, fresh_database


@pytest.fixture
def database_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


def _version(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT version FROM scgw_schema_version").fetchone()
    assert row is not None
    return int(row[0])


async def test_a_new_database_gets_every_migration_once(database_url: str) -> None:
    """The version table holds the last migration's number; opening the store again
    changes nothing and keeps what was stored."""
    async with PostgresStore(database_url) as store:
        await store.transaction(lambda tx: tx.meta.set("kept", "yes"))
    assert _version(database_url) == migrations("postgres")[-1][0] == 10
    async with PostgresStore(database_url) as store:
        assert await store.query(lambda q: q.meta.get("kept")) == "yes"
    assert _version(database_url) == 10


async def test_a_newer_schema_is_refused(database_url: str) -> None:
    async with PostgresStore(database_url):
        pass
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE scgw_schema_version SET version = 99")
    with pytest.raises(StorageError, match="schema version 99 is newer than this gateway"):
        await PostgresStore(database_url).open()


async def test_a_lost_connection_is_unavailable_storage_then_reconnects(database_url: str) -> None:
    """The server ends the store's session (a restart, a failover): the next transaction
    fails as StorageUnavailable (the service holds its work), and the one after it runs
    on a new connection."""
    async with PostgresStore(database_url) as store:
        await store.transaction(lambda tx: tx.meta.set("k", "1"))
        name = database_url.rsplit("/", 1)[1]
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            ended = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = %s AND application_name = 'scgw'",
                (name,),
            ).fetchone()
        assert ended == (1,)
        with pytest.raises(StorageUnavailable):
            await store.transaction(lambda tx: tx.meta.set("k", "2"))
        await store.transaction(lambda tx: tx.meta.set("k", "3"))
        assert await store.query(lambda q: q.meta.get("k")) == "3"


def test_the_url_chooses_the_engine() -> None:
    assert isinstance(store_for("postgresql://postgres@127.0.0.1:5432/x"), PostgresStore)
    assert isinstance(store_for("postgres://postgres@127.0.0.1/x"), PostgresStore)
    assert isinstance(store_for("sqlite:///:memory:"), SqliteStore)
    with pytest.raises(StorageError, match="sqlite:///PATH or postgresql://"):
        store_for("mysql://root@localhost/x")


def test_messages_name_the_database_without_its_password() -> None:
    assert redacted("postgresql://scgw:s3cret@db.example:6432/scgw") == (
        "postgresql://scgw:***@db.example:6432/scgw"
    )
    assert redacted("postgresql://scgw@db/scgw") == "postgresql://scgw@db/scgw"
