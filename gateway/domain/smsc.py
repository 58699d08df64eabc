"""The SMSC's records (docs/smpp.md): deliveries owed to an application (its MOs and its
delivery receipts) and the messages its ``submit_sm`` created, until their outcome is
final. Values only; ``gateway/adapters/smpp`` decides what happens to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

__all__ = ["DeliveryKind", "QueuedDelivery", "SmscMessage"]

DeliveryKind = Literal["mo", "receipt"]


@dataclass(frozen=True, slots=True)
class QueuedDelivery:
    """A ``deliver_sm`` owed to an application, kept until a ``deliver_sm_resp``
    acknowledges it; ``seq`` orders the queue (the store numbers it)."""

    seq: int
    id: str
    account: str
    kind: DeliveryKind
    source: str
    destination: str
    text: str
    receipted_id: str | None
    message_state: int | None
    attempts: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SmscMessage:
    """A message accepted by ``submit_sm``: ``ENROUTE`` until ``due_at`` (``None`` once
    final), then the final ``state`` with its ``error`` and ``done_at`` (query_sm).
    ``drawn`` is the outcome drawn at submit_sm for a handset that is ``on``."""

    id: str
    account: str
    shortcode: str
    msisdn: str
    registered: int
    excerpt: str
    drawn: str
    submitted_at: datetime
    due_at: datetime | None
    expires_at: datetime
    state: str = "ENROUTE"
    error: int = 0
    done_at: datetime | None = None
