"""A fresh PostgreSQL database for a test: created on the server at 127.0.0.1:5432, dropped after.

``SCGW_TEST_POSTGRES_URL`` names another server (its maintenance database, by default
``postgresql://postgres@127.0.0.1:5432/postgres``). Without a server the tests that need
one are skipped, with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

__all__ = ["ADMIN_URL", "fresh_database", "require_postgres"]

ADMIN_URL = os.environ.get(
    "SCGW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
_reachable: str | None = None  # "" once the server answered, else why not


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)


def require_postgres() -> None:
    """Skip the calling test when no PostgreSQL server answers."""
    global _reachable
    if _reachable is None:
        try:
            _admin().close()
            _reachable = ""
        except psycopg.Error as exc:
            _reachable = f"PostgreSQL at {ADMIN_URL} is unreachable: {exc}".strip()
    if _reachable:
        pytest.skip(_reachable)


@contextmanager
def fresh_database() -> Iterator[str]:
    """The URL of a new, empty database of its own, dropped afterwards."""
    require_postgres()
    name = f"scgw_test_{uuid.uuid4().hex[:16]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(ADMIN_URL)._replace(path=f"/{name}"))
    finally:
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
