"""The storage engines the contract suite runs against: add one here to hold it to the contract.

An engine is a name, how to open an empty store of it (``tests/service/stores``: in a
test's folder, or in a PostgreSQL database of the test's own, dropped after it), and the
exception its
store raises for a write the schema refuses (a duplicate key, a missing parent, a
failed CHECK).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from gateway.service.ports import Store
from tests.service.fakes import FakeIntegrityError
from tests.service.stores import open_store

__all__ = ["ENGINES", "Engine"]


@dataclass(frozen=True, slots=True)
class Engine:
    name: str
    open: Callable[[Path], AbstractAsyncContextManager[Store]]
    integrity_error: type[Exception]


def _opener(engine: str) -> Callable[[Path], AbstractAsyncContextManager[Store]]:
    return lambda folder: open_store(engine, folder)


ENGINES = (
    Engine("fake", _opener("fake"), FakeIntegrityError),
    Engine("sqlite", _opener("sqlite"), sqlite3.IntegrityError),
    Engine("postgres", _opener("postgres"), psycopg.IntegrityError),
)
