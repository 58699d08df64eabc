"""One ``MessagePublisher`` made of several: every MT goes to each transport."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from gateway.domain.model import Outgoing
from gateway.service.ports import MessagePublisher

__all__ = ["CompositePublisher"]


class CompositePublisher:
    """Publishes to every publisher; returns once all have accepted the MTs.

    The first is the durable one (MQTT, which the outbox waits for); error events go to
    it alone. The others must not fail (the outbox would publish again to all)."""

    def __init__(self, primary: MessagePublisher, *others: MessagePublisher) -> None:
        self._primary = primary
        self._others = list(others)

    def add(self, other: MessagePublisher) -> None:
        """Publish to ``other`` too (a transport built after the service)."""
        self._others.append(other)

    async def publish(self, messages: Sequence[Outgoing]) -> None:
        await self._primary.publish(messages)
        await asyncio.gather(*(other.publish(messages) for other in self._others))

    async def publish_error(self, event: dict[str, Any]) -> None:
        await self._primary.publish_error(event)
