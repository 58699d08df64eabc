"""Gateways sharing one PostgreSQL database: who is running, and the work a dead one left.

Each instance holds a session advisory lock on its id (``InstanceLease``) on a
connection of its own, for as long as it runs. The server drops the lock the moment that
connection goes, however the process ended (``kill -9`` included), so ``pg_locks`` is
the list of live instances: a second gateway with the same id is refused, and the
outbox rows an instance committed but did not publish are adopted by another
(``ADOPT_OUTBOX``) once it is gone.
"""

from __future__ import annotations

import contextlib
import re
import socket
from typing import Any

import psycopg

from gateway.adapters.postgres_url import redacted
from gateway.errors import StorageError

__all__ = ["ADOPT_OUTBOX", "INSTANCE_LOCKS", "InstanceHeld", "InstanceLease", "generated_ids"]

#: the first key (``classid`` in ``pg_locks``) of the advisory lock an instance holds;
#: the second is ``hashtext(<instance id>)``
INSTANCE_LOCKS = 0x5C67_0002
_LOCK = "SELECT pg_try_advisory_lock(%s::int, hashtext(%s))"
_UNLOCK = "SELECT pg_advisory_unlock(%s::int, hashtext(%s))"
#: ids tried, in order, when none was given: the host name, then <host>-2 ... <host>-64
_GENERATED = 64

#: Give this instance (``%(me)s``) up to ``%(limit)s`` of the unpublished outbox rows
#: whose owner holds no instance lock: an instance that died before publishing them.
#: Rows another transaction is adopting are skipped, not waited for.
ADOPT_OUTBOX = """
WITH live AS (
    SELECT objid::bigint AS key FROM pg_locks
    WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid::bigint = %(ns)s
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
)
UPDATE outbox SET owner = %(me)s WHERE seq IN (
    SELECT seq FROM outbox
    WHERE published = 0 AND owner <> %(me)s
      AND (hashtext(owner)::bigint & 4294967295) NOT IN (SELECT key FROM live)
    ORDER BY seq LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
"""


class InstanceHeld(StorageError):
    """A running gateway already has this instance id on this database."""

    def __init__(self, instance: str, database: str) -> None:
        self.instance = instance
        super().__init__(
            f"instance {instance!r} is already running on {database}:"
            " give this one another --instance-id (or stop the other)"
        )


def generated_ids(host: str | None = None) -> list[str]:
    """The ids tried when none was given: the host name (as a word), then ``-2``, ``-3``..."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", host or socket.gethostname()).strip("-")[:40]
    name = name or "scgw"
    return [name] + [f"{name}-{n}" for n in range(2, _GENERATED + 1)]


class InstanceLease:
    """The advisory lock on one instance id, held on a connection of its own.

    ``acquire`` takes ``wanted`` (refused with ``InstanceHeld`` if it is running), or the
    first free generated id; ``release`` (or the process ending) gives it back.
    """

    def __init__(self, url: str, *, wanted: str | None) -> None:
        self._url = url
        self._wanted = wanted
        self._conn: psycopg.Connection[Any] | None = None
        self.instance = ""

    def acquire(self) -> InstanceLease:
        database = redacted(self._url)
        try:
            conn = psycopg.connect(self._url, autocommit=True, application_name="scgw-instance")
        except psycopg.Error as exc:
            reason = " ".join(str(exc).split())  # libpq's message runs over several lines
            raise StorageError(f"cannot open database {database}: {reason}") from exc
        candidates = [self._wanted] if self._wanted is not None else generated_ids()
        try:
            for candidate in candidates:
                row = conn.execute(_LOCK, (INSTANCE_LOCKS, candidate)).fetchone()
                if row is not None and row[0]:
                    self._conn, self.instance = conn, candidate
                    return self
        except psycopg.Error as exc:
            conn.close()
            raise StorageError(f"cannot take an instance lock on {database}: {exc}") from exc
        conn.close()
        if self._wanted is not None:
            raise InstanceHeld(self._wanted, database)
        raise StorageError(
            f"every generated instance id ({candidates[0]}-N) is running on {database}:"
            " give this one an --instance-id"
        )

    def release(self) -> None:
        """Give the id back now: unlocked before the connection closes, since a closed
        connection's server process lets its locks go a moment later, not at once."""
        if self._conn is not None:
            # a connection already gone has taken its lock with it
            with contextlib.suppress(psycopg.Error):
                self._conn.execute(_UNLOCK, (INSTANCE_LOCKS, self.instance))
            self._conn.close()
            self._conn = None
