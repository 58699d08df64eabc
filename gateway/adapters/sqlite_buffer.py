"""The write buffer and identity map one transaction's repositories share.

Writes are buffered and sent with ``executemany`` in a fixed order (parents before
children) just before the next read that could see them, and at commit. Keyed rows
(an upsert by primary key) keep only the last write of each row; appended rows keep
every one. Subscribers read or written in the transaction are kept in an identity
map, so a batch of renewals reads each subscriber once (joined to its subscription)
and writes it once. ``read_each`` reads rows for many keys at once (a batch of MOs
prefetches its senders' rows with it: one round trip instead of one per MO).
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Iterator, Sequence
from typing import Any, Protocol

from gateway.adapters.sqlite_codec import Row
from gateway.domain.model import Subscriber

__all__ = ["Connection", "Cursor", "WriteBuffer"]

#: keys per ``IN`` list of ``read_each`` (SQLite allows 32,766 parameters a statement)
_IN_CHUNK = 500


class Cursor(Protocol):
    """What the repositories read from a statement's result (``sqlite3`` or psycopg)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """The connection the repositories run their SQL on: ``sqlite3.Connection``, or
    ``PostgresConnection`` (which translates the placeholders)."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Cursor: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> Cursor: ...


class WriteBuffer:
    """One connection's pending writes, flushed in ``order`` before a read and at commit.

    A repository takes its own batch once (``keyed``/``appended``), adds rows to it and
    sets ``dirty``; statements not in ``order`` are not buffered (``write`` sends them
    at once, after everything buffered before them).
    """

    __slots__ = ("_appended", "_keyed", "_order", "conn", "dirty", "subscribers")

    def __init__(self, conn: Connection, order: Sequence[str]) -> None:
        self.conn = conn
        self.dirty = False
        #: the identity map: subscribers read or written in this transaction
        self.subscribers: dict[str, Subscriber] = {}
        self._order = tuple(order)
        self._keyed: dict[str, dict[Hashable, Row]] = {}
        self._appended: dict[str, list[Row]] = {}

    def keyed(self, sql: str) -> dict[Hashable, Row]:
        """The batch of upserts for ``sql``: the last row written for a key wins."""
        if sql not in self._order:
            raise ValueError(f"not a buffered statement: {sql}")
        return self._keyed.setdefault(sql, {})

    def appended(self, sql: str) -> list[Row]:
        """The batch of inserts for ``sql``, in the order added."""
        if sql not in self._order:
            raise ValueError(f"not a buffered statement: {sql}")
        return self._appended.setdefault(sql, [])

    def flush(self) -> None:
        """Send every buffered write (called before reads and at commit)."""
        if not self.dirty:
            return
        executemany = self.conn.executemany
        keyed, appended = self._keyed, self._appended
        for sql in self._order:
            rows = keyed.get(sql)
            if rows:
                executemany(sql, rows.values())
                rows.clear()
                continue
            added = appended.get(sql)
            if added:
                executemany(sql, added)
                added.clear()
        self.dirty = False

    def read(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        """Run a read after flushing, so that it sees this transaction's writes."""
        self.flush()
        return self.conn.execute(sql, params)

    def write(self, sql: str, params: Sequence[Any]) -> None:
        """Run an unbuffered write now (after the buffered ones, which it may depend on)."""
        self.flush()
        self.conn.execute(sql, params)

    def read_each(self, sql: str, keys: Collection[tuple[Any, ...]]) -> list[Any]:
        """The rows of ``sql`` for ``keys`` (tuples of one length), after flushing. Its
        ``{}`` is the list of keys: ``?, ?`` for one value each (``IN ({})``), ``(?, ?),
        (?, ?)`` for more (``VALUES {}``); sent ``_IN_CHUNK`` keys at a time."""
        self.flush()
        wanted: list[tuple[Any, ...]] = list(keys)
        if not wanted:
            return []
        width = len(wanted[0])
        mark = "?" if width == 1 else f"({', '.join('?' * width)})"
        rows: list[Any] = []
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            params = [value for key in chunk for value in key]
            rows.extend(self.conn.execute(sql.format(", ".join([mark] * len(chunk))), params))
        return rows
