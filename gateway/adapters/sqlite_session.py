"""One SQLite transaction as the ``Transaction``/``Queries`` ports: one repository per role.

The repositories share one ``WriteBuffer`` (``sqlite_buffer``): writes are buffered and
sent with ``executemany`` in a fixed order (parents before children) just before the
next read that could see them, and at commit; subscribers are kept in an identity map,
so a batch of renewals reads each subscriber once (joined to its subscription) and
writes it once; ``prefetch`` reads a batch of MOs' senders with one query per table.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from typing import TYPE_CHECKING, cast

from gateway.adapters.sqlite_billing import (
    INSERT_CHARGE,
    INSERT_LEDGER,
    SqliteBilling,
)
from gateway.adapters.sqlite_buffer import Connection, WriteBuffer
from gateway.adapters.sqlite_codec import from_micros, micros
from gateway.adapters.sqlite_handsets import UPSERT_HANDSET, SqliteHandsets
from gateway.adapters.sqlite_mail import INSERT_MAIL, SqliteMail, SqliteMailbox, SqliteTickets
from gateway.adapters.sqlite_outbox import INSERT_INBOUND, INSERT_OUTBOX, SqliteOutbox
from gateway.adapters.sqlite_policy import SqliteConversations, SqliteUsage
from gateway.adapters.sqlite_recording import SqliteRecording
from gateway.adapters.sqlite_reports import (
    INSERT_ACTIVITY,
    SqliteActivityLog,
    SqliteConsole,
    SqliteReports,
)
from gateway.adapters.sqlite_smsc import SqliteSmsc
from gateway.adapters.sqlite_subscribers import (
    UPSERT_SUBSCRIBER,
    UPSERT_SUBSCRIPTION,
    SqliteSubscribers,
    SqliteSubscriptions,
)

if TYPE_CHECKING:
    from gateway.service.ports import Queries, Transaction

__all__ = ["SqliteMeta", "SqliteSession", "from_micros", "micros"]

_UPSERT_META = (
    "INSERT INTO meta (key, value) VALUES (?, ?)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)

#: the order buffered writes reach the database: parents before children
_FLUSH_ORDER = (
    UPSERT_SUBSCRIBER,
    UPSERT_SUBSCRIPTION,
    INSERT_CHARGE,
    INSERT_LEDGER,
    INSERT_INBOUND,
    INSERT_OUTBOX,
    _UPSERT_META,
    INSERT_MAIL,
    UPSERT_HANDSET,
    INSERT_ACTIVITY,
)


class SqliteMeta:
    """The ``Meta`` port: small named values (buffered upserts)."""

    __slots__ = ("_buffer", "_rows")

    def __init__(self, buffer: WriteBuffer) -> None:
        self._buffer = buffer
        self._rows = buffer.appended(_UPSERT_META)

    def get(self, key: str) -> str | None:
        row = self._buffer.read("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else cast(str, row[0])

    def set(self, key: str, value: str) -> None:
        self._rows.append((key, value))
        self._buffer.dirty = True


class SqliteSession:
    """The repositories and read models of one transaction on one connection.

    The SQL is the dialect both engines speak: PostgreSQL runs the same session over a
    ``PostgresConnection`` (``postgres_connection``), which translates the placeholders.
    """

    __slots__ = (
        "activity",
        "billing",
        "console",
        "conversations",
        "flush",
        "handsets",
        "mail",
        "mailbox",
        "meta",
        "outbox",
        "recording",
        "reports",
        "smsc",
        "subscribers",
        "subscriptions",
        "tickets",
        "usage",
    )

    def __init__(self, conn: Connection, *, owner: str = "") -> None:
        buffer = WriteBuffer(conn, _FLUSH_ORDER)
        #: send every buffered write (the store calls it before COMMIT)
        self.flush = buffer.flush
        self.subscribers = SqliteSubscribers(buffer)
        self.subscriptions = SqliteSubscriptions(buffer)
        self.billing = SqliteBilling(buffer)
        self.outbox = SqliteOutbox(buffer, owner)
        self.meta = SqliteMeta(buffer)
        self.handsets = SqliteHandsets(buffer)
        self.activity = SqliteActivityLog(buffer)
        self.conversations = SqliteConversations(buffer)
        self.usage = SqliteUsage(buffer)
        self.mail = SqliteMail(buffer)
        self.mailbox = SqliteMailbox(buffer)
        self.tickets = SqliteTickets(buffer)
        self.console = SqliteConsole(buffer)
        self.reports = SqliteReports(buffer)
        self.recording = SqliteRecording(buffer)
        self.smsc = SqliteSmsc(buffer)

    def prefetch(self, msisdns: Collection[str], mos: Collection[tuple[str, str]]) -> None:
        """The ``Transaction.prefetch`` hint: each repository preloads its rows."""
        self.subscribers.preload(msisdns)
        self.subscriptions.preload(msisdns)
        self.outbox.preload(mos)


if TYPE_CHECKING:  # mypy --strict proves the session implements both ports
    _transaction: Transaction = SqliteSession(sqlite3.connect(":memory:"))
    _queries: Queries = SqliteSession(sqlite3.connect(":memory:"))
