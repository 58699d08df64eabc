"""The storage engine a database URL names: the one place that chooses between them.

``sqlite:///PATH`` is a SQLite file (the default); ``postgresql://user@host:port/db``
(or ``postgres://``) a PostgreSQL database.
"""

from __future__ import annotations

from gateway.adapters.postgres_store import PostgresStore, is_postgres_url
from gateway.adapters.sqlite_store import SqliteStore

__all__ = ["AnyStore", "is_postgres_url", "store_for"]

AnyStore = SqliteStore | PostgresStore


def store_for(url: str, *, sqlite_synchronous: str = "FULL") -> AnyStore:
    """The store for ``url``, not opened yet (start-up locks a SQLite file first).

    Raises ``StorageError`` for a URL of neither kind.
    """
    if is_postgres_url(url):
        return PostgresStore(url)
    return SqliteStore.from_url(url, synchronous=sqlite_synchronous)
