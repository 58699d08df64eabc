"""The storage contract: accounts, subscriptions, due work, money, usage, meta and rollback.

Every test runs against every engine in ``engines.ENGINES`` (the in-memory fake and
SQLite on a file): the same writes, the same expected reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from gateway.domain.model import Conversation, InvoiceLine, Subscription, UsageRecord
from gateway.service.ports import Store, Transaction
from tests.contract.engines import Engine
from tests.contract.records import (
    T0,
    A,
    B,
    C,
    charge,
    hours,
    inbound,
    ledger,
    mail,
    outgoing,
    subscriber,
    subscription,
    ticket,
)


async def _in_one(store: Store, *steps: Callable[[Transaction], None]) -> None:
    """Run ``steps`` in order, in one transaction."""

    def work(tx: Transaction) -> None:
        for step in steps:
            step(tx)

    await store.transaction(work)


async def _seed(store: Store, *msisdns: str) -> None:
    def work(tx: Transaction) -> None:
        for msisdn in msisdns:
            tx.subscribers.put(subscriber(msisdn))

    await store.transaction(work)


# -- subscribers -------------------------------------------------------------------------


async def test_a_subscriber_round_trips_and_keeps_its_creation_time(store: Store) -> None:
    await store.transaction(lambda tx: tx.subscribers.put(subscriber(A, email="a@example.test")))
    assert await store.query(lambda q: q.subscribers.get(A)) == subscriber(
        A, email="a@example.test"
    )

    changed = subscriber(A, balance=2500, email="a@example.test", at=hours(5))
    await store.transaction(lambda tx: tx.subscribers.put(changed))

    found = await store.query(lambda q: q.subscribers.get(A))
    assert found == subscriber(A, balance=2500, email="a@example.test", at=T0)


async def test_an_unknown_subscriber_is_none(store: Store) -> None:
    await _seed(store, A)
    assert await store.query(lambda q: q.subscribers.get(B)) is None
    assert await store.query(lambda q: q.subscribers.by_email("nobody@example.test")) is None


async def test_a_subscriber_is_found_by_address_while_the_account_is_open(store: Store) -> None:
    await store.transaction(lambda tx: tx.subscribers.put(subscriber(A, email="a@example.test")))
    found = await store.query(lambda q: q.subscribers.by_email("a@example.test"))
    assert found is not None
    assert found.msisdn == A

    closed = replace(subscriber(A, email="a@example.test"), status="closed", closed_at=hours(1))
    await store.transaction(lambda tx: tx.subscribers.put(closed))
    assert await store.query(lambda q: q.subscribers.by_email("a@example.test")) is None


async def test_a_negative_balance_is_refused(store: Store, engine: Engine) -> None:
    with pytest.raises(engine.integrity_error):
        await store.transaction(lambda tx: tx.subscribers.put(subscriber(A, balance=-1)))
    assert await store.query(lambda q: q.subscribers.get(A)) is None


# -- subscriptions -----------------------------------------------------------------------


async def test_subscriptions_come_oldest_first_and_open_ones_apart(store: Store) -> None:
    await _seed(store, A, B)

    def work(tx: Transaction) -> None:
        tx.subscriptions.put(subscription("s3", started=hours(3)))
        tx.subscriptions.put(subscription("s1", started=hours(1), status="cancelled"))
        tx.subscriptions.put(subscription("s2", started=hours(2), status="pending_cancel"))
        tx.subscriptions.put(subscription("s0", started=hours(0), status="expired"))
        tx.subscriptions.put(subscription("b1", B, started=hours(0)))

    await store.transaction(work)

    every = await store.query(lambda q: q.subscriptions.all_of(A))
    assert [s.id for s in every] == ["s0", "s1", "s2", "s3"]
    assert every[2] == subscription("s2", started=hours(2), status="pending_cancel")
    opened = await store.transaction(lambda tx: tx.subscriptions.open_of(A))
    assert [s.id for s in opened] == ["s2", "s3"]
    assert await store.query(lambda q: q.subscriptions.all_of(C)) == []


async def test_a_subscription_put_again_is_updated_not_added(store: Store) -> None:
    await _seed(store, A)
    first = subscription("s1", next_action_at=hours(24))
    await store.transaction(lambda tx: tx.subscriptions.put(first))
    ended = replace(first, status="cancelled", next_action_at=None, cancelled_at=hours(2))
    await store.transaction(lambda tx: tx.subscriptions.put(ended))

    assert await store.query(lambda q: q.subscriptions.all_of(A)) == [ended]
    assert await store.transaction(lambda tx: tx.subscriptions.open_of(A)) == []


async def test_open_subscriptions_of_a_package_by_start_then_id(store: Store) -> None:
    await _seed(store, A, B, C)

    def work(tx: Transaction) -> None:
        tx.subscriptions.put(subscription("k2", C, started=hours(1)))
        tx.subscriptions.put(subscription("k9", A, started=hours(0), status="renewal_failed"))
        tx.subscriptions.put(subscription("k1", B, started=hours(1), status="paused"))
        tx.subscriptions.put(subscription("k5", B, started=hours(0), status="cancelled"))
        tx.subscriptions.put(subscription("k0", C, started=hours(0), package="ZL30"))

    await store.transaction(work)

    found = await store.transaction(lambda tx: tx.subscriptions.open_of_package("ZL7"))
    assert [s.id for s in found] == ["k9", "k1", "k2"]


async def test_a_subscription_needs_its_subscriber(store: Store, engine: Engine) -> None:
    with pytest.raises(engine.integrity_error):
        await store.transaction(lambda tx: tx.subscriptions.put(subscription("s1", B)))
    assert await store.query(lambda q: q.subscriptions.all_of(B)) == []


async def test_due_work_comes_by_time_then_id_up_to_the_limit(store: Store) -> None:
    await _seed(store, A, B)

    def work(tx: Transaction) -> None:
        tx.subscriptions.put(subscription("d4", A, next_action_at=hours(30)))
        tx.subscriptions.put(subscription("d3", B, next_action_at=hours(12)))
        tx.subscriptions.put(subscription("d1", A, next_action_at=hours(12)))
        tx.subscriptions.put(subscription("d2", B, next_action_at=hours(6)))
        tx.subscriptions.put(subscription("d0", A, status="expired", next_action_at=None))

    await store.transaction(work)

    async def due(until_hours: float, limit: int) -> list[Subscription]:
        return await store.transaction(lambda tx: tx.subscriptions.due(hours(until_hours), limit))

    assert [s.id for s in await due(48, 10)] == ["d2", "d1", "d3", "d4"]
    assert [s.id for s in await due(48, 2)] == ["d2", "d1"]
    assert [s.id for s in await due(12, 10)] == ["d2", "d1", "d3"], "until is inclusive"
    assert [s.id for s in await due(5, 10)] == []
    assert await store.query(lambda q: q.subscriptions.next_due()) == hours(6)


async def test_nothing_is_due_without_scheduled_work(store: Store) -> None:
    assert await store.query(lambda q: q.subscriptions.next_due()) is None
    await _seed(store, A)
    await store.transaction(lambda tx: tx.subscriptions.put(subscription("s1")))
    assert await store.query(lambda q: q.subscriptions.next_due()) is None
    assert await store.transaction(lambda tx: tx.subscriptions.due(hours(1000), 10)) == []


async def test_due_work_brings_its_subscriber(store: Store) -> None:
    await _seed(store, A)
    await store.transaction(
        lambda tx: tx.subscriptions.put(subscription("s1", next_action_at=hours(1)))
    )

    def work(tx: Transaction) -> object:
        (sub,) = tx.subscriptions.due(hours(1), 1)
        return tx.subscribers.get(sub.msisdn)

    assert await store.transaction(work) == subscriber(A)


# -- reads inside a transaction ----------------------------------------------------------


async def test_a_transaction_reads_its_own_writes(store: Store) -> None:
    def work(tx: Transaction) -> list[object]:
        tx.subscribers.put(subscriber(A, email="a@example.test"))
        tx.subscriptions.put(subscription("s1", next_action_at=hours(1)))
        tx.outbox.record_inbound(inbound("m1"), T0)
        tx.outbox.add(outgoing("o1", reply_to="m1"))
        tx.meta.set("k", "v")
        tx.conversations.put(Conversation(A, "888", "opt_in", "ZL7", T0, hours(1)))
        tx.usage.add(UsageRecord(A, "zalo", 100, T0, "s1", None, "e1"))
        tx.tickets.put(ticket(1, msisdn=A))
        tx.mail.add(mail("x1", ticket_id=1))
        return [
            tx.subscribers.get(A),
            tx.subscribers.by_email("a@example.test"),
            [s.id for s in tx.subscriptions.open_of(A)],
            [s.id for s in tx.subscriptions.due(hours(1), 5)],
            [m.id for m in tx.outbox.replies_to(A, "m1") or []],
            tx.meta.get("k"),
            tx.conversations.get(A, "888") is not None,
            tx.usage.seen(A, "e1"),
            tx.tickets.get(1) == ticket(1, msisdn=A),
            tx.tickets.of_mail(["x1@gateway.test"]),
            tx.tickets.next_id(),
        ]

    seen = await store.transaction(work)
    a = subscriber(A, email="a@example.test")
    assert seen == [a, a, ["s1"], ["s1"], ["o1"], "v", True, True, True, 1, 2]


# -- money -------------------------------------------------------------------------------


async def test_charges_ledger_and_invoices_round_trip(store: Store) -> None:
    await _seed(store, A, B)

    def work(tx: Transaction) -> None:
        tx.subscriptions.put(subscription("s1"))
        tx.subscriptions.put(subscription("s2", B))
        tx.billing.add_charge(charge("c2", at=hours(2), month="2026-03"))
        tx.billing.add_charge(charge("c1", at=hours(1), month="2026-03", amount=-2000))
        tx.billing.add_charge(charge("c3", at=hours(24 * 30), month="2026-04"))
        tx.billing.add_charge(charge("cb", B, sid="s2"))
        tx.billing.add_ledger_entry(ledger(A, 10_000, 10_000))
        tx.billing.add_ledger_entry(ledger(A, -5000, 5000, "c2"))

    await store.transaction(work)

    charges = await store.query(lambda q: q.billing.charges(A))
    assert [c.id for c in charges] == ["c1", "c2", "c3"]
    assert charges[1] == charge("c2", at=hours(2), month="2026-03")
    assert charges[1].inputs == {"price": 5000, "days": 7}
    # the invoice charges are the invoice lines: "<plan> <reason>", by instant
    march = await store.query(lambda q: q.billing.invoice_lines(A, "2026-03"))
    assert march == [
        InvoiceLine("c1", A, "2026-03", "ZL7", "ZL7 registration", -2000, hours(1)),
        InvoiceLine("c2", A, "2026-03", "ZL7", "ZL7 registration", 5000, hours(2)),
    ]
    # 2026-03: 5000 - 2000 = 3000 over two lines; 2026-04: one line of 5000
    months = await store.query(lambda q: q.billing.invoice_months(A))
    assert months == [("2026-04", 5000, 1), ("2026-03", 3000, 2)]
    assert await store.query(lambda q: q.billing.ledger(A)) == [
        ledger(A, 10_000, 10_000),
        ledger(A, -5000, 5000, "c2"),
    ]
    assert [c.id for c in await store.query(lambda q: q.billing.charges(B))] == ["cb"]
    assert await store.query(lambda q: q.billing.ledger(B)) == []


async def test_a_charge_and_its_ledger_entry_are_recorded_once(
    store: Store, engine: Engine
) -> None:
    await _seed(store, A)

    def first(tx: Transaction) -> None:
        tx.subscriptions.put(subscription("s1"))
        tx.billing.add_charge(charge("c1"))
        tx.billing.add_ledger_entry(ledger(A, -5000, 5000, "c1"))

    await store.transaction(first)
    with pytest.raises(engine.integrity_error):
        await store.transaction(lambda tx: tx.billing.add_charge(charge("c1", amount=1)))
    with pytest.raises(engine.integrity_error):
        await store.transaction(lambda tx: tx.billing.add_ledger_entry(ledger(A, -1, 4999, "c1")))
    assert [c.amount for c in await store.query(lambda q: q.billing.charges(A))] == [5000]
    assert len(await store.query(lambda q: q.billing.ledger(A))) == 1


async def test_a_charge_names_a_subscription_that_exists_by_commit(
    store: Store, engine: Engine
) -> None:
    await _seed(store, A)

    def charge_first(tx: Transaction) -> None:
        tx.billing.add_charge(charge("c1", sid="s9"))
        tx.subscriptions.put(subscription("s9"))

    await store.transaction(charge_first)
    with pytest.raises(engine.integrity_error):
        await store.transaction(lambda tx: tx.billing.add_charge(charge("c2", sid="nope")))
    assert [c.id for c in await store.query(lambda q: q.billing.charges(A))] == ["c1"]


# -- usage, conversations, meta ----------------------------------------------------------


async def test_usage_round_trips_in_time_order_and_an_event_counts_once(
    store: Store, engine: Engine
) -> None:
    await _seed(store, A, B)
    late = UsageRecord(A, "zalo", 300, hours(2), None, None, "e2")
    early = UsageRecord(A, "zalo", 100, hours(1), None, None, "e1")
    await _in_one(store, lambda tx: tx.usage.add(late), lambda tx: tx.usage.add(early))

    assert await store.query(lambda q: q.usage.all_of(A)) == [early, late]
    assert await store.transaction(lambda tx: (tx.usage.seen(A, "e1"), tx.usage.seen(B, "e1"))) == (
        True,
        False,
    )
    with pytest.raises(engine.integrity_error):
        await store.transaction(lambda tx: tx.usage.add(replace(early, bytes=5)))
    await store.transaction(lambda tx: tx.usage.add(replace(early, msisdn=B)))
    assert len(await store.query(lambda q: q.usage.all_of(A))) == 2


async def test_a_conversation_is_replaced_and_deleted(store: Store) -> None:
    asked = Conversation(A, "888", "opt_in", "ZL7", T0, hours(1), {"price": 5000})
    again = Conversation(A, "888", "retention", "ZL30", hours(1), hours(2), {"offers": ["ZL7"]})
    other = Conversation(A, "999", "refund", "ZL7", T0, hours(1))
    await _in_one(
        store, lambda tx: tx.conversations.put(asked), lambda tx: tx.conversations.put(other)
    )
    await store.transaction(lambda tx: tx.conversations.put(again))

    def read(tx: Transaction) -> tuple[object, ...]:
        return tx.conversations.get(A, "888"), tx.conversations.get(A, "999")

    assert await store.transaction(read) == (again, other)
    await store.transaction(lambda tx: tx.conversations.delete(A, "888"))
    assert await store.transaction(read) == (None, other)
    await store.transaction(lambda tx: tx.conversations.delete(A, "888"))  # gone: no error


async def test_meta_round_trips_and_the_last_value_wins(store: Store) -> None:
    assert await store.query(lambda q: q.meta.get("virtual_now")) is None
    await _in_one(
        store, lambda tx: tx.meta.set("virtual_now", "1"), lambda tx: tx.meta.set("k", "x")
    )
    await _in_one(
        store, lambda tx: tx.meta.set("virtual_now", "2"), lambda tx: tx.meta.set("k", "y")
    )
    assert await store.query(lambda q: (q.meta.get("virtual_now"), q.meta.get("k"))) == ("2", "y")
