"""A psycopg 3 connection that speaks the repositories' SQL: ``?`` placeholders, SQLite's values.

The repositories (``sqlite_*.py``) are written in the SQL both engines accept:
``INSERT ... ON CONFLICT``, ``excluded.``, ``coalesce``, ``LIMIT ? OFFSET ?``. What
differs is small and is translated here, once per statement text (cached):

- placeholders: ``?`` becomes ``%s`` (and a literal ``%`` becomes ``%%``);
- a row claim (``CLAIM_ROWS``), a comment to SQLite (whose writer is alone anyway),
  becomes ``FOR UPDATE OF <table> SKIP LOCKED``: rows another transaction claimed are
  skipped, so gateways sharing the database split due work instead of queueing on it;
- ``LIKE`` becomes ``ILIKE``: SQLite's LIKE ignores the case of ASCII letters;
- values: a Python ``bool`` is stored as the integer 0 or 1 (the columns are
  integers, as in SQLite) and a ``sum()`` of integers, which PostgreSQL types
  ``numeric``, reads back as an ``int``, not a ``Decimal``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.adapt import Dumper
from psycopg.types.numeric import NumericLoader

from gateway.adapters.sqlite_codec import CLAIM_ROWS

__all__ = ["CLAIM_ROWS", "PostgresConnection", "translate"]

_CLAIM = re.compile(r"/\* claim (\w+) \*/")
_PLACEHOLDER = re.compile(r"\?")
_LIKE = re.compile(r"\bLIKE\b")
_cache: dict[str, str] = {}


def translate(sql: str) -> str:
    """The PostgreSQL form of one of the repositories' statements."""
    done = _cache.get(sql)
    if done is None:
        done = _LIKE.sub("ILIKE", _PLACEHOLDER.sub("%s", sql.replace("%", "%%")))
        done = _CLAIM.sub(r"FOR UPDATE OF \1 SKIP LOCKED", done)
        _cache[sql] = done
    return done


class _BoolAsInt(Dumper):
    """``True``/``False`` as the integers 1/0: flags are integer columns in both engines."""

    oid = psycopg.postgres.types["int8"].oid

    def dump(self, obj: bool) -> bytes:
        return b"1" if obj else b"0"


class _IntegralNumeric(NumericLoader):
    """A whole ``numeric`` (``sum()`` of a bigint column) as an ``int``, like SQLite."""

    def load(self, data: Any) -> Any:
        value = super().load(data)
        if isinstance(value, Decimal) and value == value.to_integral_value():
            return int(value)
        return value


def configure(conn: psycopg.Connection[Any]) -> None:
    """Register the value adaptations above on ``conn``."""
    conn.adapters.register_dumper(bool, _BoolAsInt)
    conn.adapters.register_loader("numeric", _IntegralNumeric)


class PostgresConnection:
    """The slice of ``sqlite3.Connection`` the repositories use, on a psycopg connection."""

    __slots__ = ("raw",)

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        return self.raw.execute(translate(sql), params or None)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> psycopg.Cursor[Any]:
        cursor = self.raw.cursor()
        batch = list(rows)
        if batch:
            cursor.executemany(translate(sql), batch)
        return cursor
