"""The live event bus: committed events to whoever listens (the console's stream), and counters."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from gateway.domain.events import LiveEvent

__all__ = ["EventBus", "Subscription"]


@dataclass(eq=False)
class Subscription:
    """One listener: its filter, its bounded queue, and what it missed by being slow."""

    msisdn: str | None
    shortcode: str | None
    kinds: frozenset[str] | None
    queue: asyncio.Queue[LiveEvent] = field(default_factory=lambda: asyncio.Queue(maxsize=1000))
    dropped: int = 0

    def wants(self, event: LiveEvent) -> bool:
        if self.kinds is not None and event.kind not in self.kinds:
            return False
        if self.msisdn is not None and event.msisdn != self.msisdn:
            return False
        return self.shortcode is None or event.shortcode == self.shortcode


class EventBus:
    """Fan-out of committed events. Publishing never waits: a listener whose queue is full
    misses events (counted in ``dropped``) rather than slowing the gateway down."""

    def __init__(self, *, started_at: datetime) -> None:
        self._listeners: set[Subscription] = set()
        self.counts: Counter[str] = Counter()
        self.started_at = started_at

    @property
    def listening(self) -> bool:
        """Whether anyone listens (events are only built then; counts always are)."""
        return bool(self._listeners)

    def publish(self, events: Iterable[LiveEvent], counts: Counter[str] | None = None) -> None:
        if counts:
            self.counts.update(counts)
        for event in events:
            if counts is None:
                self.counts[event.kind] += 1
            for listener in self._listeners:
                if not listener.wants(event):
                    continue
                try:
                    listener.queue.put_nowait(event)
                except asyncio.QueueFull:
                    listener.dropped += 1

    @contextlib.contextmanager
    def subscribe(
        self,
        *,
        msisdn: str | None = None,
        shortcode: str | None = None,
        kinds: frozenset[str] | None = None,
    ) -> Iterator[Subscription]:
        listener = Subscription(msisdn, shortcode, kinds)
        self._listeners.add(listener)
        try:
            yield listener
        finally:
            self._listeners.discard(listener)
