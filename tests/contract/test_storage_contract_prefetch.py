"""The storage contract of ``Transaction.prefetch``: a hint that changes no read.

A batch of MOs prefetches its senders' accounts, open subscriptions and duplicate
checks in one round trip each; every read after it, also after writes in the same
transaction, must return what it returns without the prefetch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from gateway.service.ports import Store, Transaction
from tests.contract.records import (
    T0,
    A,
    B,
    C,
    hours,
    inbound,
    outgoing,
    subscriber,
    subscription,
)

#: the senders and (sender, MO id) pairs of a batch: A's m1 was seen before, the rest not
MSISDNS = (A, B, C)
MOS = ((A, "m1"), (A, "m2"), (B, "m1"), (C, "m9"))

Reads = tuple[object, ...]


def _reads(tx: Transaction) -> Reads:
    """Every read a batch's handlers make of its senders."""
    return (
        *(tx.subscribers.get(m) for m in MSISDNS),
        *(tuple(tx.subscriptions.open_of(m)) for m in MSISDNS),
        *(tx.outbox.replies_to(m, mid) for m, mid in MOS),
    )


def _writes(tx: Transaction) -> None:
    """What handlers write: a balance, a new account, a plan ended and one opened, an MO
    recorded and answered."""
    a = tx.subscribers.get(A)
    assert a is not None
    a.balance -= 700
    tx.subscribers.put(a)
    tx.subscribers.put(subscriber(C, balance=300))
    first = tx.subscriptions.open_of(A)[0]
    tx.subscriptions.put(replace(first, status="cancelled", cancelled_at=hours(5)))
    tx.subscriptions.put(subscription("c1", C, started=hours(5)))
    tx.subscriptions.put(subscription("b2", B, started=hours(1)))
    tx.outbox.record_inbound(inbound("m2"), hours(5))
    tx.outbox.add(outgoing("o2", reply_to="m2"))
    tx.outbox.record_inbound(inbound("m9", C), hours(5))


async def _seed(store: Store) -> None:
    def work(tx: Transaction) -> None:
        tx.subscribers.put(subscriber(A, balance=5_000))
        tx.subscribers.put(subscriber(B))
        tx.subscriptions.put(subscription("a2", started=hours(2)))
        tx.subscriptions.put(subscription("a1", started=hours(1)))
        tx.subscriptions.put(subscription("a0", started=hours(0), status="expired"))
        tx.subscriptions.put(subscription("b1", B, started=hours(0), status="cancelled"))
        tx.outbox.record_inbound(inbound("m1"), T0)
        tx.outbox.add(outgoing("o1", reply_to="m1"))

    await store.transaction(work)


def _ids(found: object) -> list[str]:
    assert isinstance(found, tuple)
    return [s.id for s in found]


def _nothing(tx: Transaction) -> None:
    pass


async def _both(
    store: Store, work: Callable[[Transaction], Reads], before: Callable[[Transaction], None]
) -> tuple[Reads, Reads]:
    """``work``'s reads without a prefetch and with one after ``before`` (each
    transaction rolled back after)."""

    class Undo(Exception):
        def __init__(self, reads: Reads) -> None:
            self.reads = reads

    def run(prefetch: bool) -> Callable[[Transaction], None]:
        def in_tx(tx: Transaction) -> None:
            before(tx)
            if prefetch:
                tx.prefetch(MSISDNS, MOS)
            raise Undo(work(tx))

        return in_tx

    found: list[Reads] = []
    for prefetch in (False, True):
        try:
            await store.transaction(run(prefetch))
        except Undo as undo:
            found.append(undo.reads)
    plain, prefetched = found
    return plain, prefetched


async def test_reads_after_a_prefetch_are_the_reads_without_it(store: Store) -> None:
    await _seed(store)

    plain, prefetched = await _both(store, _reads, _nothing)

    assert prefetched == plain
    # the reads are the seeded rows: the prefetch did not merely agree on empty answers
    a, b, c, open_a, open_b, open_c, m1, m2, b_m1, c_m9 = plain
    assert (a, b, c) == (subscriber(A, balance=5_000), subscriber(B), None)
    assert (_ids(open_a), open_b, open_c) == (["a1", "a2"], (), ())
    assert (m1, m2, b_m1, c_m9) == ([outgoing("o1", reply_to="m1")], None, None, None)


async def test_reads_after_a_prefetch_see_the_transactions_own_writes(store: Store) -> None:
    await _seed(store)

    def read_write_read(tx: Transaction) -> Reads:
        before = _reads(tx)  # every answer cached first, then written over
        _writes(tx)
        return (*before, *_reads(tx))

    plain, prefetched = await _both(store, read_write_read, _nothing)

    assert prefetched == plain
    after = plain[len(plain) // 2 :]
    a, _, c, open_a, open_b, open_c, _, m2, _, c_m9 = after
    assert (a, c) == (subscriber(A, balance=4_300), subscriber(C, balance=300))
    assert (_ids(open_a), _ids(open_b), _ids(open_c)) == (["a2"], ["b2"], ["c1"])
    assert (m2, c_m9) == ([outgoing("o2", reply_to="m2")], [])


async def test_a_prefetch_after_writes_sees_them(store: Store) -> None:
    """The due renewals of a batch run before its MOs, in the same transaction."""
    await _seed(store)

    plain, prefetched = await _both(store, _reads, _writes)

    assert prefetched == plain
    a, _, c, open_a, _, _, _, m2, _, _ = plain
    assert (a, c) == (subscriber(A, balance=4_300), subscriber(C, balance=300))
    assert (_ids(open_a), m2) == (["a2"], [outgoing("o2", reply_to="m2")])


async def test_a_prefetch_of_nobody_or_unknown_senders_is_harmless(store: Store) -> None:
    def work(tx: Transaction) -> Reads:
        tx.prefetch((), ())
        tx.prefetch((C,), ((C, "x"),))
        return (tx.subscribers.get(C), tx.subscriptions.open_of(C), tx.outbox.replies_to(C, "x"))

    assert await store.transaction(work) == (None, [], None)
