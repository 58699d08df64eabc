"""The ``Handsets`` port in SQL both engines speak: each subscriber's handset state."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from gateway.adapters.sqlite_buffer import WriteBuffer
from gateway.adapters.sqlite_codec import from_micros, micros
from gateway.domain.handsets import HANDSET_STATES, HandsetState, HandsetView

__all__ = ["UPSERT_HANDSET", "SqliteHandsets"]

UPSERT_HANDSET = (
    "INSERT INTO handsets (msisdn, state, updated_at) VALUES (?, ?, ?)"
    " ON CONFLICT (msisdn) DO UPDATE SET state = excluded.state,"
    " updated_at = excluded.updated_at"
)


class SqliteHandsets:
    """Buffered upserts (the last state written for an MSISDN wins), read back at once."""

    __slots__ = ("_buffer", "_rows")

    def __init__(self, buffer: WriteBuffer) -> None:
        self._buffer = buffer
        self._rows = buffer.keyed(UPSERT_HANDSET)

    def get(self, msisdn: str) -> HandsetView | None:
        row = self._buffer.read(
            "SELECT state, updated_at FROM handsets WHERE msisdn = ?", (msisdn,)
        ).fetchone()
        if row is None or row[0] not in HANDSET_STATES:
            return None
        return HandsetView(msisdn, cast(HandsetState, row[0]), from_micros(row[1]))

    def set(self, msisdn: str, state: HandsetState, at: datetime) -> None:
        self._rows[msisdn] = (msisdn, state, micros(at))
        self._buffer.dirty = True
