"""How values are stored in SQLite: instants as integer microseconds since the epoch (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["CLAIM_ROWS", "Row", "from_micros", "micros", "opt_dt", "opt_micros"]

#: appended to a SELECT whose rows the transaction claims (``{}``: the table's alias): a
#: comment to SQLite, whose one writer is alone anyway; ``FOR UPDATE OF <alias> SKIP
#: LOCKED`` on PostgreSQL (``postgres_connection.translate``)
CLAIM_ROWS = "/* claim {} */"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Row = tuple[Any, ...]


def micros(at: datetime) -> int:
    """An aware instant as integer microseconds since the epoch."""
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def opt_micros(value: datetime | None) -> int | None:
    return None if value is None else micros(value)


def opt_dt(value: int | None) -> datetime | None:
    return None if value is None else from_micros(value)
