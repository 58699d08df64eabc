"""The ``SmscRecords`` port in memory: the SMSC's queue and messages on a ``FakeState``."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from gateway.domain.smsc import DeliveryKind, QueuedDelivery, SmscMessage
from tests.service.fake_state import FakeState

__all__ = ["FakeSmsc"]


class FakeSmsc:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def message(self, message_id: str) -> SmscMessage | None:
        return self._state.smsc_messages.get(message_id)

    def _pending(self) -> list[SmscMessage]:
        return [
            m
            for m in self._state.smsc_messages.values()
            if m.state == "ENROUTE" and m.due_at is not None
        ]

    def next_due(self) -> datetime | None:
        return min((m.due_at for m in self._pending() if m.due_at is not None), default=None)

    def queued(self, account: str, limit: int) -> list[QueuedDelivery]:
        rows = self._state.smsc_queue.values()
        waiting = [d for d in rows if d.account == account and d.seq not in self._state.smsc_done]
        return sorted(waiting, key=lambda d: d.seq)[:limit]

    def due(self, until: datetime, limit: int) -> list[SmscMessage]:
        found = [m for m in self._pending() if m.due_at is not None and m.due_at <= until]
        found.sort(key=lambda m: (m.due_at, m.submitted_at, m.id))
        return found[:limit]

    def matching(
        self, account: str, *, message_id: str, shortcode: str, msisdn: str
    ) -> list[SmscMessage]:
        def wanted(m: SmscMessage) -> bool:
            if m.account != account or m.state != "ENROUTE" or m.shortcode != shortcode:
                return False
            if message_id:
                return m.id == message_id and (not msisdn or m.msisdn == msisdn)
            return m.msisdn == msisdn

        found = [m for m in self._state.smsc_messages.values() if wanted(m)]
        return sorted(found, key=lambda m: (m.submitted_at, m.id))

    def enqueue(
        self,
        *,
        id: str,
        account: str,
        kind: DeliveryKind,
        source: str,
        destination: str,
        text: str,
        at: datetime,
        receipted_id: str | None = None,
        message_state: int | None = None,
    ) -> None:
        if any(d.id == id for d in self._state.smsc_queue.values()):
            return
        seq = len(self._state.smsc_queue) + 1
        self._state.smsc_queue[seq] = QueuedDelivery(
            seq, id, account, kind, source, destination, text, receipted_id, message_state, 0, at
        )

    def _attempt(self, seq: int) -> None:
        row = self._state.smsc_queue.get(seq)
        if row is not None:
            self._state.smsc_queue[seq] = dataclasses.replace(row, attempts=row.attempts + 1)

    def delivered(self, seq: int, at: datetime) -> None:
        self._attempt(seq)
        self._state.smsc_done.add(seq)

    def attempted(self, seq: int) -> None:
        self._attempt(seq)

    def add_message(self, message: SmscMessage) -> None:
        self._state.smsc_messages[message.id] = message

    def _update(self, message: SmscMessage, **changes: object) -> None:
        self._state.smsc_messages[message.id] = dataclasses.replace(message, **changes)  # type: ignore[arg-type]

    def hold(self, message_id: str) -> None:
        m = self._state.smsc_messages.get(message_id)
        if m is not None and m.state == "ENROUTE":
            self._update(m, due_at=m.expires_at)

    def release(self, msisdn: str, at: datetime) -> None:
        for m in self._pending():
            if m.msisdn == msisdn and m.due_at == m.expires_at and m.expires_at > at:
                self._update(m, due_at=at)

    def finish(self, message_id: str, *, state: str, error: int, at: datetime) -> bool:
        m = self._state.smsc_messages.get(message_id)
        if m is None or m.state != "ENROUTE":
            return False
        self._update(m, state=state, error=error, done_at=at, due_at=None)
        return True
