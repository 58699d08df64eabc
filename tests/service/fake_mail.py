"""In-memory repositories for the email channel: the mail queue, the mailbox, tickets."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from gateway.domain.mail import OutgoingMail, StoredMail
from gateway.domain.model import Ticket, TicketEvent
from tests.service.fake_state import FakeIntegrityError, FakeState

__all__ = ["FakeMail", "FakeMailbox", "FakeTickets"]

#: when a new mail's first attempt is due: at once (the schema's default, 0)
_AT_ONCE = datetime(1970, 1, 1, tzinfo=UTC)


class FakeMail:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def add(self, mail: OutgoingMail) -> None:
        if mail.id in self._state.mail:
            raise FakeIntegrityError(f"UNIQUE: mail {mail.id}")
        self._state.mail[mail.id] = StoredMail(mail, "queued")
        self._state.mail_next_attempt[mail.id] = _AT_ONCE

    def _update(self, mail_id: str, **changes: Any) -> None:
        stored = self._state.mail.get(mail_id)
        if stored is not None and stored.status == "queued":
            self._state.mail[mail_id] = dataclasses.replace(stored, **changes)

    def sent(self, ids: Sequence[str], at: datetime) -> None:
        for mail_id in ids:
            stored = self._state.mail.get(mail_id)
            attempts = 0 if stored is None else stored.attempts + 1
            self._update(mail_id, status="sent", sent_at=at, attempts=attempts, last_error=None)

    def retry(self, mail_id: str, *, attempts: int, next_at: datetime, error: str) -> None:
        stored = self._state.mail.get(mail_id)
        if stored is not None and stored.status == "queued":
            self._state.mail_next_attempt[mail_id] = next_at
        self._update(mail_id, attempts=attempts, last_error=error)

    def failed(self, mail_id: str, *, attempts: int, error: str) -> None:
        self._update(mail_id, status="failed", attempts=attempts, last_error=error)

    def delete(self, ids: Sequence[str] | None) -> int:
        chosen = [
            i for i in (ids if ids is not None else list(self._state.mail)) if i in self._state.mail
        ]
        removed = 0
        for mail_id in chosen:
            if self._state.mail[mail_id].status == "queued":
                if mail_id not in self._state.hidden_mail:
                    self._state.hidden_mail.add(mail_id)
                    removed += 1
            else:
                del self._state.mail[mail_id]
                removed += 1
        return removed

    def mark_read(self, mail_id: str) -> None:
        stored = self._state.mail.get(mail_id)
        if stored is not None:
            self._state.mail[mail_id] = dataclasses.replace(stored, read=True)

    def _queued(self) -> list[tuple[datetime, int, StoredMail]]:
        """Queued mail with its next attempt and its place in the queue."""
        next_at = self._state.mail_next_attempt
        return [
            (next_at.get(m.mail.id, _AT_ONCE), seq, m)
            for seq, m in enumerate(self._state.mail.values())
            if m.status == "queued"
        ]

    def due(self, until: datetime, limit: int) -> list[StoredMail]:
        due = sorted((at, seq, m) for at, seq, m in self._queued() if at <= until)
        return [m for _, _, m in due[:limit]]

    def next_attempt(self) -> datetime | None:
        return min((at for at, _, _ in self._queued()), default=None)


class FakeMailbox:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def _visible(self) -> list[StoredMail]:
        return [
            m for i, m in reversed(self._state.mail.items()) if i not in self._state.hidden_mail
        ]

    def page(self, *, start: int, limit: int) -> tuple[list[StoredMail], int, int]:
        visible = self._visible()
        unread = sum(1 for m in visible if not m.read)
        return visible[start : start + limit], len(visible), unread

    def newest(self, limit: int) -> list[StoredMail]:
        return self._visible()[:limit]

    def get(self, mail_id: str) -> StoredMail | None:
        if mail_id in self._state.hidden_mail:
            return None
        return self._state.mail.get(mail_id)


class FakeTickets:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def next_id(self) -> int:
        return max(self._state.tickets, default=0) + 1

    def get(self, ticket_id: int) -> Ticket | None:
        stored = self._state.tickets.get(ticket_id)
        return None if stored is None else dataclasses.replace(stored)

    def put(self, ticket: Ticket) -> None:
        if ticket.msisdn is not None and ticket.msisdn not in self._state.subscribers:
            raise FakeIntegrityError(f"FOREIGN KEY: no subscriber {ticket.msisdn}")
        self._state.tickets[ticket.id] = dataclasses.replace(ticket)

    def all(self) -> list[Ticket]:
        return [dataclasses.replace(t) for _, t in sorted(self._state.tickets.items())]

    def add_event(self, event: TicketEvent) -> None:
        if event.ticket_id not in self._state.tickets:
            raise FakeIntegrityError(f"FOREIGN KEY: no ticket {event.ticket_id}")
        self._state.ticket_events.append(event)

    def events(self, ticket_id: int) -> list[TicketEvent]:
        return [e for e in self._state.ticket_events if e.ticket_id == ticket_id]

    def mail(self, ticket_id: int) -> list[StoredMail]:
        return [m for m in self._state.mail.values() if m.mail.ticket_id == ticket_id]

    def of_mail(self, message_ids: Sequence[str]) -> int | None:
        for message_id in message_ids:
            local = message_id.partition("@")[0]
            stored = self._state.mail.get(local)
            if stored is not None and stored.mail.ticket_id is not None:
                return stored.mail.ticket_id
            if message_id in self._state.support_inbox:
                return self._state.support_inbox[message_id]
        return None

    def support_mail_seen(self, message_id: str) -> int | None:
        return self._state.support_inbox.get(message_id)

    def record_support_mail(
        self, *, message_id: str, ticket_id: int, sender: str, subject: str, at: datetime
    ) -> None:
        if message_id in self._state.support_inbox:
            raise FakeIntegrityError(f"PRIMARY KEY: support mail {message_id}")
        self._state.support_inbox[message_id] = ticket_id
