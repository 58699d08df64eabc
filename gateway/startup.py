"""Opening the database at start-up: one gateway per file, and the clock it was run with.

A SQLite file is locked (``<file>.lock``) for the gateway's life: one gateway per file.
A PostgreSQL database is shared by any number of gateways, each with an instance id of
its own, held as an advisory lock for its life (``postgres_instances``): a second
gateway with a running one's id is refused, as a second one on a SQLite file is.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog

from gateway.adapters.lockfile import LockHeld, PidLock
from gateway.adapters.postgres_instances import InstanceHeld, InstanceLease
from gateway.adapters.postgres_store import PostgresStore
from gateway.adapters.storage import AnyStore, store_for
from gateway.errors import SettingError, StorageError
from gateway.service.ports import Queries
from gateway.service.timekeeper import VIRTUAL_NOW_KEY
from gateway.settings import Settings

__all__ = ["CLOCK_MODE_KEY", "OpenedDatabase", "lock_database", "open_database"]

log = structlog.get_logger("gateway")

#: the clock mode a database was last run with (``real`` or ``virtual``)
CLOCK_MODE_KEY = "clock_mode"
_SQLITE_SIDE_FILES = ("", "-wal", "-shm", "-journal")


@dataclass(frozen=True, slots=True)
class OpenedDatabase:
    store: AnyStore
    #: the stored virtual time a virtual clock resumes from, if any
    virtual_now: datetime | None


def _move_aside(path: Path, stamp: str) -> Path | None:
    """``scgw.db`` (and its WAL) -> ``scgw.db.<stamp>.bak``; ``None`` if there was none."""
    if not path.exists():
        return None
    target = path.with_name(f"{path.name}.{stamp}.bak")
    for suffix in _SQLITE_SIDE_FILES:
        source = Path(f"{path}{suffix}")
        if source.exists():
            source.rename(Path(f"{target}{suffix}"))
    return target


def _lock(path: Path) -> PidLock:
    """``<file>.lock`` beside the database, held until released."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingError(
            "database_url", f"cannot create the folder {path.parent}: {exc.strerror or exc}"
        ) from exc
    try:
        lock = PidLock(path.with_name(f"{path.name}.lock"))
        lock.acquire()
    except LockHeld as exc:
        holder = "another gateway" if exc.pid is None else f"another gateway (pid {exc.pid})"
        raise SettingError(
            "database_url",
            f"{path} is in use by {holder}: stop it first, or give this one another database",
        ) from exc
    except OSError as exc:
        raise SettingError("database_url", f"cannot lock {path}: {exc.strerror or exc}") from exc
    return lock


def lock_database(settings: Settings, stack: contextlib.ExitStack) -> AnyStore:
    """The store for ``SCGW_DATABASE_URL``, a SQLite file locked for this process's life
    (released when ``stack`` closes), or this gateway's instance id taken on a PostgreSQL
    database; not opened yet."""
    try:
        store = store_for(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    except StorageError as exc:
        raise SettingError("database_url", str(exc)) from exc
    if isinstance(store, PostgresStore):
        lease = InstanceLease(settings.database_url, wanted=settings.instance_id)
        try:
            lease.acquire()
        except InstanceHeld as exc:
            raise SettingError("instance_id", str(exc)) from exc
        except StorageError as exc:
            raise SettingError("database_url", str(exc)) from exc
        stack.callback(lease.release)
        store.instance = lease.instance
    elif store.path != ":memory:":
        stack.callback(_lock(Path(store.path)).release)
    return store


async def open_database(
    store: AnyStore,
    settings: Settings,
    stack: contextlib.AsyncExitStack,
    *,
    fresh: bool,
    stamp: datetime,
) -> OpenedDatabase:
    """Open the locked ``store`` (closed with ``stack``) and check its clock mode.

    ``fresh`` moves an existing file aside (``<name>.<stamp>.bak``) and starts a new one.
    A database last run with the other clock mode is refused: a virtual clock's
    renewals and a real one's do not mix.
    """
    if fresh and isinstance(store, PostgresStore):
        raise SettingError(
            "database_url",
            f"--fresh moves a SQLite file aside; {store.path} is a PostgreSQL database:"
            " give the gateway a new one (createdb) instead",
        )
    if fresh and store.path != ":memory:":
        path = Path(store.path)
        try:
            moved = _move_aside(path, stamp.strftime("%Y%m%dT%H%M%S"))
        except OSError as exc:
            raise SettingError(
                "database_url", f"cannot move {path} aside: {exc.strerror or exc}"
            ) from exc
        if moved is not None:
            log.info("database_moved_aside", database=str(path), kept_as=str(moved))
    try:
        await stack.enter_async_context(store)
    except StorageError as exc:
        raise SettingError("database_url", str(exc)) from exc

    def read(q: Queries) -> tuple[str | None, str | None]:
        return q.meta.get(CLOCK_MODE_KEY), q.meta.get(VIRTUAL_NOW_KEY)

    stored, virtual_now = await store.query(read)
    if stored is None and virtual_now is not None:
        stored = "virtual"  # a database from before the mode was recorded
    if stored is not None and stored != settings.clock:
        raise SettingError(
            "clock",
            f"{store.path} was last run with the {stored} clock, not the {settings.clock} one:"
            f" give the {settings.clock} clock its own database (--database-url),"
            " or add --fresh to start over (the old file is kept aside)",
        )
    if stored is None:
        mode = settings.clock
        await store.transaction(lambda tx: tx.meta.set(CLOCK_MODE_KEY, mode))
    return OpenedDatabase(
        store=store,
        virtual_now=None if virtual_now is None else datetime.fromisoformat(virtual_now),
    )
