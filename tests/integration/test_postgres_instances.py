"""Several gateways on one PostgreSQL database: instance ids, claimed due work, subscribers
taking turns, and the outbox of an instance that died (docs/scale-out.md)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from gateway.adapters.postgres_instances import InstanceHeld, InstanceLease, generated_ids
from gateway.adapters.postgres_store import PostgresStore
from gateway.adapters.sqlite_codec import micros
from gateway.domain.model import Outgoing, Subscriber
from gateway.errors import StorageUnavailable
from gateway.service.ports import Transaction
from tests.postgres_support import fresh_database

AT = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
WAIT = 20.0  # seconds any thread waits for the other at most


@pytest.fixture
def database_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


@pytest.fixture
async def two(database_url: str) -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    """Two stores on the database, as two gateways (instances A and B) have."""
    async with (
        PostgresStore(database_url, instance="A") as a,
        PostgresStore(database_url, instance="B") as b,
    ):
        yield a, b


def _subscriber(msisdn: str, balance: int) -> Subscriber:
    return Subscriber(msisdn=msisdn, kind="prepaid", balance=balance, language=None, created_at=AT)


def test_an_instance_id_is_held_while_its_gateway_runs(database_url: str) -> None:
    """A second gateway with a running one's id is refused; without an id it gets the host
    name, then <host>-2; an id is free again once its gateway has gone."""
    first = InstanceLease(database_url, wanted="A").acquire()
    with pytest.raises(InstanceHeld, match="instance 'A' is already running on postgresql://"):
        InstanceLease(database_url, wanted="A").acquire()
    host, host_2 = generated_ids()[:2]
    one = InstanceLease(database_url, wanted=None).acquire()
    two = InstanceLease(database_url, wanted=None).acquire()
    assert (one.instance, two.instance) == (host, host_2)
    first.release()
    again = InstanceLease(database_url, wanted="A").acquire()
    assert again.instance == "A"
    for lease in (again, one, two):
        lease.release()


def test_generated_ids_are_words_of_the_host_name() -> None:
    assert generated_ids("lab box.example")[:3] == [
        "lab-box-example",
        "lab-box-example-2",
        "lab-box-example-3",
    ]
    assert generated_ids("!!!")[0] == "scgw"


async def test_two_gateways_split_due_work_and_neither_takes_the_others_rows(
    two: tuple[PostgresStore, PostgresStore], database_url: str
) -> None:
    """While A's transaction holds the first 3 due subscriptions, B's takes the next 3
    instead of waiting or taking the same ones."""
    a, b = two
    with psycopg.connect(database_url) as conn:
        for n in range(6):
            conn.execute(
                "INSERT INTO subscribers (msisdn, kind, balance, created_at)"
                " VALUES (%s, 'prepaid', 0, %s)",
                (f"8490000000{n}", micros(AT)),
            )
            conn.execute(
                "INSERT INTO subscriptions (id, msisdn, package, grp, status, started_at,"
                " period_start, expires_at, auto_renew, next_action_at)"
                " VALUES (%s, %s, 'ZL1', 'zalo', 'active', %s, %s, %s, 1, %s)",
                (f"s{n}", f"8490000000{n}", *[micros(AT + timedelta(minutes=n))] * 4),
            )
    until = AT + timedelta(days=1)
    a_claimed, b_done = threading.Event(), threading.Event()

    def a_work(tx: Transaction) -> list[str]:
        ids = [s.id for s in tx.subscriptions.due(until, 3)]
        a_claimed.set()
        b_done.wait(WAIT)  # hold the rows while B looks
        return ids

    def b_work(tx: Transaction) -> list[str]:
        return [s.id for s in tx.subscriptions.due(until, 3)]

    a_task = asyncio.ensure_future(a.transaction(a_work))
    await asyncio.to_thread(a_claimed.wait, WAIT)
    try:
        b_ids = await b.transaction(b_work)
    finally:
        b_done.set()
    assert await a_task == ["s0", "s1", "s2"]
    assert b_ids == ["s3", "s4", "s5"]


@pytest.mark.parametrize("locked", [True, False], ids=["serialised", "raced"])
async def test_updates_of_one_subscriber_from_two_gateways_all_count(
    two: tuple[PostgresStore, PostgresStore], locked: bool
) -> None:
    """Forty debits of 1 đồng, twenty through each gateway at the same time, on one
    subscriber: the balance falls by exactly 40. Named in ``serialise``, they take
    turns; not named, the loser of each race fails with nothing written and is run
    again (by the store, then as the service's ``Durable`` does), never lost."""
    a, b = two
    msisdn = "84911111111"
    await a.transaction(lambda tx: tx.subscribers.put(_subscriber(msisdn, 1_000)))

    def debit(tx: Transaction) -> None:
        subscriber = tx.subscribers.get(msisdn)
        assert subscriber is not None
        tx.subscribers.put(replace(subscriber, balance=subscriber.balance - 1))

    async def twenty(store: PostgresStore) -> None:
        for _ in range(20):
            while True:
                try:
                    await store.transaction(debit, serialise=[msisdn] if locked else ())
                    break
                except StorageUnavailable:
                    await asyncio.sleep(0.01)

    await asyncio.gather(twenty(a), twenty(b))
    stored = await a.query(lambda q: q.subscribers.get(msisdn))
    assert stored is not None
    assert stored.balance == 1_000 - 40


async def test_the_unpublished_replies_of_a_gateway_that_died_are_adopted(
    database_url: str,
) -> None:
    """A's replies are A's while A runs (B adopts none); once A's lease is gone, B takes
    them over and reads them as its own backlog, and A (restarted) no longer has them."""
    lease = InstanceLease(database_url, wanted="A").acquire()
    replies = [
        Outgoing(f"mt-{n}", "888", "84911111111", f"reply {n}", None, "GSM7", 1, AT)
        for n in range(3)
    ]

    def queue(tx: Transaction) -> None:
        for m in replies:
            tx.outbox.add(m)

    async with (
        PostgresStore(database_url, instance="A") as a,
        PostgresStore(database_url, instance="B") as b,
    ):
        await a.transaction(queue)
        assert await b.adopt_outbox(100) == 0
        assert await b.query(lambda q: q.outbox.unpublished(10)) == []
        lease.release()  # A died
        assert await b.adopt_outbox(100) == 3
        assert await b.query(lambda q: q.outbox.unpublished(10)) == replies
        assert await a.query(lambda q: q.outbox.unpublished(10)) == []
        assert await b.adopt_outbox(100) == 0
