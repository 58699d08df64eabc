"""A fresh PostgreSQL database for a test: created on the server at 127.0.0.1:5432, dropped after.

``SCGW_TEST_POSTGRES_URL`` names another server (its maintenance database, by default
``postgresql://postgres@127.0.0.1:5432/postgres``). Without a server the tests that need
one are skipped, with the reason; with ``SCGW_TEST_REQUIRE_POSTGRES=1`` (``.ci/run``
sets it: CI has a server) they fail instead, so that they never pass unseen.

``fresh_database()`` is empty (for tests of the migrations themselves);
``migrated_database()`` is a copy of a template database the gateway migrated once per
test session (``CREATE DATABASE ... TEMPLATE``), made while the test before runs:
no test waits for the migrations, and few wait for the copy.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from gateway.adapters.postgres_store import PostgresStore

__all__ = [
    "ADMIN_URL",
    "database_url",
    "fresh_database",
    "migrated_database",
    "require_postgres",
]

ADMIN_URL = os.environ.get(
    "SCGW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
_reachable: str | None = None  # "" once the server answered, else why not
_template: str | None = None  # the migrated template of this session, once made


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)


def database_url(name: str) -> str:
    """The URL of the database ``name`` on the test server."""
    return urlunsplit(urlsplit(ADMIN_URL)._replace(path=f"/{name}"))


def require_postgres() -> None:
    """Skip the calling test when no PostgreSQL server answers."""
    global _reachable
    if _reachable is None:
        try:
            _admin().close()
            _reachable = ""
        except psycopg.Error as exc:
            _reachable = f"PostgreSQL at {ADMIN_URL} is unreachable: {exc}".strip()
    if _reachable and os.environ.get("SCGW_TEST_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{_reachable} (SCGW_TEST_REQUIRE_POSTGRES=1)")
    if _reachable:
        pytest.skip(_reachable)


def _drop(name: str) -> None:
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database() -> Iterator[str]:
    """The URL of a new, empty database of its own, dropped afterwards."""
    require_postgres()
    name = f"scgw_test_{uuid.uuid4().hex[:16]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(name)
    finally:
        _drop(name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _drop_orphans(admin: psycopg.Connection[tuple[object, ...]]) -> None:
    """Drop the templates of test sessions that died before their exit (named after
    their process id; only for a server on this machine, where those ids mean something)."""
    if urlsplit(ADMIN_URL).hostname not in {"127.0.0.1", "localhost", "::1"}:
        return
    rows = admin.execute(
        "SELECT datname FROM pg_database WHERE datname LIKE 'scgw\\_template\\_%'"
    ).fetchall()
    for (name,) in rows:
        pid = str(name).split("_")[2]
        if pid.isdigit() and not _alive(int(pid)):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrated_template() -> str:
    """The session's template: a database the gateway opened (and so migrated) once,
    dropped when the test process exits."""
    global _template
    if _template is None:
        name = f"scgw_template_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with _admin() as admin:
            _drop_orphans(admin)
            admin.execute(f'CREATE DATABASE "{name}"')
        atexit.register(_drop, name)

        async def migrate() -> None:
            async with PostgresStore(database_url(name)):
                pass

        # the caller may be inside a running event loop: migrate on a thread of its own
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, migrate()).result()
        _template = name
    return _template


class _Copies:
    """Copies of the template made one ahead, and dropped, on a thread of their own: the
    copying (most of a test's set-up on a busy server) overlaps the test before."""

    def __init__(self, template: str) -> None:
        self._template = template
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scgw-test-db")
        self._next: Future[str] | None = None
        atexit.register(self._shut)  # before the template's drop (atexit runs LIFO)

    def _copy(self) -> str:
        name = f"scgw_test_{uuid.uuid4().hex[:16]}"
        with _admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"')
        return name

    def take(self) -> str:
        ready = self._next or self._worker.submit(self._copy)
        self._next = self._worker.submit(self._copy)
        return ready.result()

    def drop(self, name: str) -> None:
        self._worker.submit(_drop, name)

    def _shut(self) -> None:
        # by now the interpreter's exit has let the worker finish what it was given
        self._worker.shutdown(wait=True)
        if self._next is not None:
            _drop(self._next.result())


_copies: _Copies | None = None


@contextmanager
def migrated_database() -> Iterator[str]:
    """The URL of a new database of its own with the gateway's tables, dropped afterwards."""
    global _copies
    require_postgres()
    if _copies is None:
        _copies = _Copies(_migrated_template())
    name = _copies.take()
    try:
        yield database_url(name)
    finally:
        _copies.drop(name)
