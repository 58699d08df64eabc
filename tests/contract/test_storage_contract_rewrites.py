"""The storage contract of rows written again: what is stored is the last row ``put``.

A row read in a transaction is written back as an update of only the columns that
changed (none: not at all), so each write here is checked against what a plain upsert
would leave: changes in several columns, in several flushes of one transaction, back
to the value read, after reads that went or did not go through the buffer, and after
an unbuffered write of another repository.
"""

from __future__ import annotations

from dataclasses import replace

from gateway.domain.model import Subscriber, Subscription
from gateway.service.ports import Store, Transaction
from tests.contract.records import T0, A, B, C, hours, subscriber, subscription


async def _seed(store: Store) -> None:
    def work(tx: Transaction) -> None:
        tx.subscribers.put(subscriber(A, balance=5_000, email="a@example.test"))
        tx.subscribers.put(subscriber(B))
        tx.subscriptions.put(subscription("a1", started=hours(1), next_action_at=hours(30)))
        tx.subscriptions.put(subscription("b1", B, started=hours(0)))

    await store.transaction(work)


async def _stored(store: Store) -> tuple[list[Subscriber | None], list[Subscription]]:
    def read(tx: Transaction) -> tuple[list[Subscriber | None], list[Subscription]]:
        accounts = [tx.subscribers.get(m) for m in (A, B, C)]
        return accounts, [*tx.subscriptions.all_of(A), *tx.subscriptions.all_of(B)]

    return await store.transaction(read)


async def test_a_row_changed_in_several_flushes_holds_its_last_image(store: Store) -> None:
    await _seed(store)

    def work(tx: Transaction) -> None:
        tx.prefetch((A, B), ())
        first = tx.subscriptions.open_of(A)[0]
        tx.subscriptions.put(replace(first, status="pending_cancel", auto_renew=False))
        tx.subscriptions.open_of(A)  # a read that sends the write first
        again = tx.subscriptions.open_of(A)[0]
        tx.subscriptions.put(replace(again, usage_bytes=77, next_action_at=hours(40)))
        tx.subscriptions.all_of(A)
        # back to the value read at first, in one column, and a change in another
        tx.subscriptions.put(
            replace(again, status="active", usage_bytes=77, next_action_at=hours(41))
        )
        a = tx.subscribers.get(A)
        assert a is not None
        tx.subscribers.put(replace(a, balance=4_000))
        tx.subscribers.by_email("a@example.test")
        tx.subscribers.put(replace(a, balance=5_000, language="en"))

    await store.transaction(work)

    accounts, subscriptions = await _stored(store)
    assert accounts == [
        replace(subscriber(A, balance=5_000, email="a@example.test"), language="en"),
        subscriber(B),
        None,
    ]
    a1 = replace(
        subscription("a1", started=hours(1), next_action_at=hours(41)),
        auto_renew=False,
        usage_bytes=77,
    )
    assert subscriptions == [a1, subscription("b1", B, started=hours(0))]


async def test_a_row_written_unchanged_stays_as_it_is(store: Store) -> None:
    await _seed(store)
    before = await _stored(store)

    def work(tx: Transaction) -> None:
        for s in tx.subscriptions.open_of(A) + tx.subscriptions.open_of(B):
            tx.subscriptions.put(s)
        for m in (A, B):
            account = tx.subscribers.get(m)
            assert account is not None
            tx.subscribers.put(account)

    await store.transaction(work)

    assert await _stored(store) == before


async def test_rows_new_and_old_in_one_transaction_are_all_stored(store: Store) -> None:
    await _seed(store)

    def work(tx: Transaction) -> None:
        tx.prefetch((A, B, C), ())
        tx.subscribers.put(subscriber(C, balance=1))
        b1 = tx.subscriptions.open_of(B)[0]
        tx.subscriptions.put(replace(b1, status="cancelled", cancelled_at=hours(3)))
        tx.subscriptions.put(subscription("c1", C, started=hours(3)))
        tx.subscriptions.put(subscription("a2", started=hours(3)))
        a1 = tx.subscriptions.open_of(A)[0]  # a change in the last columns only
        tx.subscriptions.put(replace(a1, used_since_paid=5, price_notice="n1"))
        # an unbuffered write of another repository between two writes of a row
        tx.smsc.enqueue(
            id="d1", account="app", kind="mo", source=A, destination="9029", text="x", at=T0
        )
        tx.subscriptions.put(replace(b1, status="cancelled", cancelled_at=hours(4)))

    await store.transaction(work)

    accounts, subscriptions = await _stored(store)
    assert accounts[2] == subscriber(C, balance=1)
    assert [s.id for s in subscriptions] == ["a1", "a2", "b1"]
    assert (subscriptions[0].used_since_paid, subscriptions[0].price_notice) == (5, "n1")
    assert subscriptions[2] == replace(
        subscription("b1", B, started=hours(0)), status="cancelled", cancelled_at=hours(4)
    )
    assert await store.transaction(lambda tx: tx.subscriptions.open_of(C)) == [
        subscription("c1", C, started=hours(3))
    ]
