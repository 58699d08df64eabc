"""What a transport hands inbound traffic to: the small interface adapters see of the service.

A transport parses what arrives (an MO, a usage event), submits it here, and
acknowledges it to its sender only once the returned future resolved (the MO and its
replies committed). It reports what it refused (bad input, a retained message) here too,
for the console and ``sms/errors``. It never reaches into the engine.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Protocol

from gateway.domain.model import InboundSms, UsageEvent

__all__ = ["Inbound"]


class Inbound(Protocol):
    @property
    def shortcodes(self) -> frozenset[str]:
        """The short codes served (a topic naming another one is refused)."""
        ...

    def now(self) -> datetime:
        """The gateway's clock (virtual or real), to stamp a refusal."""
        ...

    def submit(self, sms: InboundSms) -> asyncio.Future[Any]:
        """Queue an MO; resolves once it and its replies are committed (``RateLimited``
        at once past the sender's flood limit)."""
        ...

    async def record_usage(self, event: UsageEvent) -> Any: ...

    async def publish_error(self, event: dict[str, Any]) -> None:
        """Report a refused message (live stream and ``sms/errors``)."""
        ...
