"""In-memory repositories for messages and the console: outbox, meta, activity, reads."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from gateway.domain.events import LiveEvent
from gateway.domain.handsets import HandsetState, HandsetView
from gateway.domain.model import (
    OPEN_STATUSES,
    ChargeRecord,
    InboundSms,
    MessageRecord,
    Outgoing,
    Subscriber,
)
from gateway.domain.traffic import BalanceMove, Position, Received, Sent, Traffic
from tests.service.fake_state import FakeIntegrityError, FakeState, FakeStoreFault

__all__ = [
    "FakeActivityLog",
    "FakeConsole",
    "FakeHandsets",
    "FakeMeta",
    "FakeOutbox",
    "FakeRecording",
    "FakeReports",
]


class FakeOutbox:
    """``fail_inbound_ids``: recording an MO with one of these ids raises ``FakeStoreFault``."""

    def __init__(self, state: FakeState, *, fail_inbound_ids: Collection[str] = ()) -> None:
        self._state = state
        self._fail_inbound_ids = fail_inbound_ids

    def add(self, message: Outgoing, *, answer: bool = True) -> None:
        if message.id in self._state.outbox:
            raise FakeIntegrityError(f"UNIQUE: outgoing {message.id}")
        self._state.outbox[message.id] = message
        if not answer:
            self._state.not_answers.add(message.id)

    def replies_to(self, msisdn: str, inbound_id: str) -> list[Outgoing] | None:
        if (msisdn, inbound_id) not in self._state.inbound:
            return None
        return [
            m
            for m in self._state.outbox.values()
            if m.msisdn == msisdn
            and m.in_reply_to == inbound_id
            and m.id not in self._state.not_answers
        ]

    def record_inbound(self, message: InboundSms, received_at: datetime) -> None:
        if message.id in self._fail_inbound_ids:
            raise FakeStoreFault(f"injected failure recording inbound {message.id}")
        key = (message.msisdn, message.id)
        if key in self._state.inbound:
            raise FakeIntegrityError(f"PRIMARY KEY: inbound {key} already recorded")
        self._state.inbound[key] = (message, received_at)

    def mark_published(self, ids: Sequence[str]) -> None:
        self._state.published.update(i for i in ids if i in self._state.outbox)

    def unpublished(self, limit: int) -> list[Outgoing]:
        pending = [m for i, m in self._state.outbox.items() if i not in self._state.published]
        return pending[:limit]

    def pending(self) -> int:
        return len(self._state.outbox) - len(self._state.published)


class FakeMeta:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def get(self, key: str) -> str | None:
        return self._state.meta.get(key)

    def set(self, key: str, value: str) -> None:
        self._state.meta[key] = value


class FakeHandsets:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def get(self, msisdn: str) -> HandsetView | None:
        return self._state.handsets.get(msisdn)

    def set(self, msisdn: str, state: HandsetState, at: datetime) -> None:
        self._state.handsets[msisdn] = HandsetView(msisdn, state, at)


class FakeActivityLog:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def add(self, event: LiveEvent) -> None:
        self._state.activity.append(event)


class FakeConsole:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def search(self, query: str, limit: int) -> list[Subscriber]:
        found = [
            dataclasses.replace(s)
            for s in sorted(self._state.subscribers.values(), key=lambda s: s.msisdn)
            if query in s.msisdn or (s.email is not None and query in s.email)
        ]
        return found[:limit]

    def messages(self, msisdn: str, shortcode: str | None, limit: int) -> list[MessageRecord]:
        found = [
            MessageRecord("mo", m.id, m.shortcode, m.text, at)
            for m, at in self._state.inbound.values()
            if m.msisdn == msisdn and shortcode in (None, m.shortcode)
        ] + [
            MessageRecord(
                "mt", o.id, o.shortcode, o.text, o.at, o.encoding, o.segments, o.in_reply_to
            )
            for o in self._state.outbox.values()
            if o.msisdn == msisdn and shortcode in (None, o.shortcode)
        ]
        found.sort(key=lambda m: (m.at, m.direction != "mo"))
        return found[-limit:]

    def activity(self, msisdn: str) -> list[LiveEvent]:
        return sorted((e for e in self._state.activity if e.msisdn == msisdn), key=lambda e: e.at)


class FakeReports:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def charges_between(self, start: datetime, end: datetime) -> list[ChargeRecord]:
        return sorted(
            (c for c in self._state.charges.values() if start <= c.at < end), key=lambda c: c.at
        )

    def activity_between(self, kind: str, start: datetime, end: datetime) -> list[LiveEvent]:
        return sorted(
            (e for e in self._state.activity if e.kind == kind and start <= e.at < end),
            key=lambda e: e.at,
        )

    def active_at(self, instants: Sequence[datetime]) -> list[int]:
        return [
            sum(
                1
                for s in self._state.subscriptions.values()
                if s.started_at <= at
                and (s.status in OPEN_STATUSES or s.expires_at > at)
                and (s.price is None or s.price > 0)
            )
            for at in instants
        ]

    def stats(self) -> dict[str, Any]:
        return {
            "subscribers": len(self._state.subscribers),
            "open_subscriptions": sum(
                1 for s in self._state.subscriptions.values() if s.next_action_at is not None
            ),
            "unpublished": len(self._state.outbox) - len(self._state.published),
        }


class FakeRecording:
    """Positions are 1-based places in the outbox's and the ledger's insertion order."""

    def __init__(self, state: FakeState) -> None:
        self._state = state

    def position(self) -> Position:
        return Position(outbox_seq=len(self._state.outbox), ledger_id=len(self._state.ledger))

    def since(self, position: Position, received_from: datetime) -> Traffic:
        received = sorted(
            (
                Received(m.msisdn, MessageRecord("mo", m.id, m.shortcode, m.text, at))
                for m, at in self._state.inbound.values()
                if at >= received_from
            ),
            key=lambda r: (r.message.at, r.msisdn, r.message.id),
        )
        sent = [
            Sent(
                seq,
                o.msisdn,
                MessageRecord(
                    "mt", o.id, o.shortcode, o.text, o.at, o.encoding, o.segments, o.in_reply_to
                ),
            )
            for seq, o in enumerate(self._state.outbox.values(), start=1)
            if seq > position.outbox_seq
        ]
        charges = self._state.charges
        moves = [
            BalanceMove(
                n,
                e,
                charges[e.charge_id].message_id if e.charge_id in charges else None,
            )
            for n, e in enumerate(self._state.ledger, start=1)
            if n > position.ledger_id
        ]
        return Traffic(received=received, sent=sent, moves=moves)
