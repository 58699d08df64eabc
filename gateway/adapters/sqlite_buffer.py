"""The write buffer and identity map one transaction's repositories share.

Writes are buffered and sent with ``executemany`` in a fixed order (parents before
children) just before the next read that could see them, and at commit. Keyed rows
(an upsert by primary key) keep only the last write of each row; appended rows keep
every one. A keyed statement ``track``ed with its table keeps the image of each row
as the database holds it (read or written in this transaction): a row written again
is sent as an ``UPDATE`` of only the columns that changed (none: not sent), so the
indexes of unchanged columns are not rewritten; a row with no image is upserted.
Subscribers read or written in the transaction are kept in an identity map, so a batch
of renewals reads each subscriber once (joined to its subscription) and writes it once.
``read_each`` reads rows for many keys at once (a batch of MOs prefetches its senders'
rows with it: one round trip instead of one per MO).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterable, Iterator, Sequence
from typing import Any, Protocol

from gateway.adapters.sqlite_codec import Row
from gateway.domain.model import Subscriber

__all__ = ["Connection", "Cursor", "Tracked", "WriteBuffer"]

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


class Tracked:
    """A keyed upsert whose rows are diffed against their images (``WriteBuffer.track``).

    ``columns`` are the upsert's values in order (the first is the key), ``settable``
    the ones its ``DO UPDATE SET`` writes: an ``UPDATE`` names only those, so a row is
    written exactly as the upsert would leave it.
    """

    __slots__ = ("_names", "_settable", "_statements", "_table", "images", "upsert")

    def __init__(self, upsert: str, table: str, columns: str, settable: str) -> None:
        names = [c.strip() for c in columns.split(",")]
        self.upsert = upsert
        self._table = table
        self._settable = tuple(names.index(c.strip()) for c in settable.split(","))
        self._statements: dict[tuple[int, ...], str] = {}
        #: the row of each key as the database holds it now (in the ``settable`` columns,
        #: the only ones compared: the others never change once a row exists)
        self.images: dict[Hashable, Row] = {}
        self._names = names

    def seen(self, rows: Iterable[Row], width: int | None = None) -> None:
        """Rows just read from the database (their first ``width`` values, if given)."""
        images = self.images
        if width is None:
            for row in rows:
                images[row[0]] = tuple(row)
        else:
            for row in rows:
                images[row[0]] = tuple(row[:width])

    def _update(self, changed: tuple[int, ...]) -> str:
        sql = self._statements.get(changed)
        if sql is None:
            names = self._names
            sets = ", ".join(f"{names[i]} = ?" for i in changed)
            sql = self._statements[changed] = (
                f"UPDATE {self._table} SET {sets} WHERE {names[0]} = ?"  # noqa: S608
            )
        return sql

    def flush(
        self, executemany: Callable[[str, list[Sequence[Any]]], Any], rows: dict[Hashable, Row]
    ) -> None:
        """Send ``rows`` in order: consecutive rows of one statement in one ``executemany``."""
        images, settable = self.images, self._settable
        sql = ""
        run: list[Sequence[Any]] = []
        params: Sequence[Any]
        for key, row in rows.items():
            image = images.get(key)
            images[key] = row
            if image is None:
                this, params = self.upsert, row
            elif image == row:
                continue
            else:
                changed = tuple(i for i in settable if row[i] != image[i])
                if not changed:  # only columns the upsert keeps differ
                    continue
                this = self._update(changed)
                params = [*(row[i] for i in changed), key]
            if this != sql:
                if run:
                    executemany(sql, run)
                sql, run = this, []
            run.append(params)
        if run:
            executemany(sql, run)


class WriteBuffer:
    """One connection's pending writes, flushed in ``order`` before a read and at commit.

    A repository takes its own batch once (``keyed``/``appended``), adds rows to it and
    sets ``dirty``; statements not in ``order`` are not buffered (``write`` sends them
    at once, after everything buffered before them).
    """

    __slots__ = ("_appended", "_keyed", "_order", "_tracked", "conn", "dirty", "subscribers")

    def __init__(self, conn: Connection, order: Sequence[str]) -> None:
        self.conn = conn
        self.dirty = False
        #: the identity map: subscribers read or written in this transaction
        self.subscribers: dict[str, Subscriber] = {}
        self._order = tuple(order)
        self._keyed: dict[str, dict[Hashable, Row]] = {}
        self._appended: dict[str, list[Row]] = {}
        self._tracked: dict[str, Tracked] = {}

    def keyed(self, sql: str) -> dict[Hashable, Row]:
        """The batch of upserts for ``sql``: the last row written for a key wins."""
        if sql not in self._order:
            raise ValueError(f"not a buffered statement: {sql}")
        return self._keyed.setdefault(sql, {})

    def track(self, upsert: str, table: str, columns: str, settable: str) -> Tracked:
        """Diff the rows of the keyed ``upsert`` against their images (``Tracked``)."""
        tracked = self._tracked.get(upsert)
        if tracked is None:
            tracked = self._tracked[upsert] = Tracked(upsert, table, columns, settable)
        return tracked

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
        keyed, appended, tracked = self._keyed, self._appended, self._tracked
        for sql in self._order:
            rows = keyed.get(sql)
            if rows:
                diffed = tracked.get(sql)
                if diffed is None:
                    executemany(sql, rows.values())
                else:
                    diffed.flush(executemany, rows)
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
        """Run an unbuffered write now (after the buffered ones, which it may depend on).
        It may change rows whose images are kept: they are forgotten (upserted next)."""
        self.flush()
        self.conn.execute(sql, params)
        for diffed in self._tracked.values():
            diffed.images.clear()

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
