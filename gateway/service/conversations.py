"""Questions that wait for an answer: a double opt-in, retention offers, a refund to confirm."""

from __future__ import annotations

from datetime import datetime, timedelta

from carrier_rules import Catalog
from gateway.domain.model import Conversation, ConversationKind
from gateway.service.context import Context

__all__ = ["ask"]


def ask(
    ctx: Context,
    catalog: Catalog,
    msisdn: str,
    kind: ConversationKind,
    code: str,
    now: datetime,
    **data: object,
) -> None:
    """Open a question (one per sender and short code; a new one replaces the old)."""
    ctx.tx.conversations.put(
        Conversation(
            msisdn=msisdn,
            shortcode=catalog.shortcode,
            kind=kind,
            package=code,
            started_at=now,
            expires_at=now + timedelta(minutes=catalog.conversation_minutes),
            data=dict(data),
        )
    )
