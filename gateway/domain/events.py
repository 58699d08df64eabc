"""Live events: what the console's stream shows, published once their transaction commits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

__all__ = ["ACTIVITY_KINDS", "EventKind", "LiveEvent"]

EventKind = Literal[
    "mo",
    "mt",
    "charge",
    "renewal",
    "renewal_failed",
    "expiry",
    "cancel",
    "price_notice",
    "error",
    "clock",
    "mail",
    "ticket",
    "handset",
    "dlr",
]

#: kinds also kept in the ``activity`` table (the rest are rows of their own already:
#: inbound, outbox, charges, mail, tickets)
ACTIVITY_KINDS: frozenset[str] = frozenset({"renewal_failed", "expiry", "cancel", "price_notice"})


@dataclass(frozen=True, slots=True)
class LiveEvent:
    kind: EventKind
    at: datetime
    fields: dict[str, object] = field(default_factory=dict)

    @property
    def msisdn(self) -> str | None:
        value = self.fields.get("msisdn")
        return value if isinstance(value, str) else None

    @property
    def shortcode(self) -> str | None:
        value = self.fields.get("shortcode")
        return value if isinstance(value, str) else None
