"""Live events between two relays on one PostgreSQL database (LISTEN/NOTIFY), in process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gateway.adapters.postgres_events import PostgresEventRelay, encode_events
from gateway.domain.events import LiveEvent
from gateway.service.events import EventBus
from tests.postgres_support import fresh_database

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2026, 3, 10, 10, 0, tzinfo=HCM)


@pytest.fixture
def database_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


def _mo(n: int, text: str) -> LiveEvent:
    return LiveEvent(
        "mo",
        T0 + timedelta(seconds=n),
        {"id": f"m{n}", "msisdn": "84912345678", "text": text, "received": T0, "segments": 1},
    )


async def _wait(condition: str, check: Callable[[], bool]) -> None:
    for _ in range(200):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {condition}")


async def test_events_published_on_one_bus_reach_the_listeners_of_the_other(
    database_url: str,
) -> None:
    """300 MOs of 1,000 characters each (more than 8,000 bytes together, so several
    notes) published on bus A arrive on B's listener all, in order, equal to what A
    published (instants included); A's own listener gets them once, not again from the
    channel; B counts none of them."""
    bus_a, bus_b = EventBus(started_at=T0), EventBus(started_at=T0)
    events = [_mo(n, f"{n:04d}" + "x" * 996) for n in range(300)]
    assert len(list(encode_events("a", events))) > 30
    async with (
        PostgresEventRelay(url=database_url, bus=bus_a, retry=0.1) as relay_a,
        PostgresEventRelay(url=database_url, bus=bus_b, retry=0.1),
    ):
        await _wait("both connected", lambda: relay_a.connected)
        with bus_a.subscribe() as mine, bus_b.subscribe() as theirs:
            await _wait(
                "A hears of B's listener", lambda: bus_a.listening and relay_a.others_listen
            )
            bus_a.publish(events)
            got = [await asyncio.wait_for(theirs.queue.get(), 10) for _ in events]
            await asyncio.sleep(0.2)  # anything A would wrongly take back from the channel
            assert mine.queue.qsize() == len(events)
    assert got == events
    assert bus_b.counts["mo"] == 0
    assert bus_a.counts["mo"] == 300


async def test_without_a_listener_elsewhere_a_gateway_builds_no_events_for_others(
    database_url: str,
) -> None:
    """``listening`` is false on A until B has a listener, true while it has, and false
    again once B's listener left."""
    bus_a, bus_b = EventBus(started_at=T0), EventBus(started_at=T0)
    async with (
        PostgresEventRelay(url=database_url, bus=bus_a, retry=0.1) as relay_a,
        PostgresEventRelay(url=database_url, bus=bus_b, retry=0.1) as relay_b,
    ):
        await _wait("both connected", lambda: relay_a.connected and relay_b.connected)
        await asyncio.sleep(0.2)
        assert not bus_a.listening
        with bus_b.subscribe():
            await _wait("A hears of B's listener", lambda: bus_a.listening)
        await _wait("A hears B's listener left", lambda: not bus_a.listening)


async def test_a_gateway_restarted_under_its_instance_id_replaces_what_it_announced(
    database_url: str,
) -> None:
    """B (instance id "b") dies with a console listener and without saying so: A still
    builds events for it. B started again under the same id, with nobody listening yet,
    says hello with none: A stops building them."""
    bus_a, bus_b = EventBus(started_at=T0), EventBus(started_at=T0)
    async with PostgresEventRelay(url=database_url, bus=bus_a, origin="a", retry=0.1):
        listener = bus_b.subscribe()
        async with PostgresEventRelay(url=database_url, bus=bus_b, origin="b", retry=0.1) as b:
            await _wait("B connected", lambda: b.connected)
            listener.__enter__()
            await _wait("A hears of B's listener", lambda: bus_a.listening)
        # B's relay is gone (as with kill -9): nothing told A its listener left
        await asyncio.sleep(0.3)
        assert bus_a.listening
        listener.__exit__(None, None, None)
        restarted = EventBus(started_at=T0)
        async with PostgresEventRelay(url=database_url, bus=restarted, origin="b", retry=0.1):
            await _wait("A hears B restarted with nobody listening", lambda: not bus_a.listening)
