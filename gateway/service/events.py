"""The live event bus: committed events to whoever listens (the console's stream), and counters.

Several gateways on one database attach an ``EventRelay`` (on PostgreSQL,
``adapters.postgres_events``): the events each commits are also sent to the others,
whose buses ``deliver`` them to their own listeners.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from gateway.domain.events import LiveEvent

__all__ = ["EventBus", "EventRelay", "Subscription"]


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


class EventRelay(Protocol):
    """The events of this gateway to the other gateways on its database (never waits)."""

    @property
    def others_listen(self) -> bool:
        """Whether a listener is known on another gateway."""
        ...

    def send(self, events: Sequence[LiveEvent]) -> None: ...

    def listeners_changed(self, count: int) -> None:
        """This gateway's listeners are now ``count``."""
        ...


class EventBus:
    """Fan-out of committed events. Publishing never waits: a listener whose queue is full
    misses events (counted in ``dropped``) rather than slowing the gateway down."""

    def __init__(self, *, started_at: datetime) -> None:
        self._listeners: set[Subscription] = set()
        self.counts: Counter[str] = Counter()
        self.started_at = started_at
        self.relay: EventRelay | None = None

    @property
    def listening(self) -> bool:
        """Whether anyone listens, here or on another gateway (events are only built
        then; counts always are)."""
        return bool(self._listeners) or (self.relay is not None and self.relay.others_listen)

    def publish(self, events: Iterable[LiveEvent], counts: Counter[str] | None = None) -> None:
        """This gateway's committed events: counted, to its listeners and to the relay."""
        if counts:
            self.counts.update(counts)
        batch = list(events)
        if counts is None:
            self.counts.update(event.kind for event in batch)
        self.deliver(batch)
        if self.relay is not None and batch and self.relay.others_listen:
            self.relay.send(batch)

    def deliver(self, events: Iterable[LiveEvent]) -> None:
        """To this gateway's listeners only (the events another gateway committed)."""
        for event in events:
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
        if self.relay is not None:
            self.relay.listeners_changed(len(self._listeners))
        try:
            yield listener
        finally:
            self._listeners.discard(listener)
            if self.relay is not None:
                self.relay.listeners_changed(len(self._listeners))
