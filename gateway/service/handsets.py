"""Handset states: set through the API, read by the SMSC when it decides a message's
outcome; each change is a live event (the console's stream, and the SMSC's cue to try
the messages it holds for that handset again)."""

from __future__ import annotations

from gateway.domain.events import LiveEvent
from gateway.domain.handsets import HandsetState, HandsetView
from gateway.service.events import EventBus
from gateway.service.ports import Clock, Store

__all__ = ["HandsetStates"]


class HandsetStates:
    """A handset never set is ``on``."""

    def __init__(self, *, store: Store, clock: Clock, events: EventBus) -> None:
        self._store = store
        self._clock = clock
        self._events = events

    async def get(self, msisdn: str) -> HandsetView:
        found = await self._store.query(lambda q: q.handsets.get(msisdn))
        return found if found is not None else HandsetView(msisdn, "on", None)

    async def set(self, msisdn: str, state: HandsetState) -> HandsetView:
        """Store the state (committed when this returns), then announce it."""
        at = self._clock.now()
        await self._store.transaction(lambda tx: tx.handsets.set(msisdn, state, at))
        self._events.publish([LiveEvent("handset", at, {"msisdn": msisdn, "state": state})])
        return HandsetView(msisdn, state, at)
