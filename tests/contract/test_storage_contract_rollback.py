"""The storage contract: a transaction is atomic, whatever repositories it wrote through."""

from __future__ import annotations

import pytest

from gateway.domain.events import LiveEvent
from gateway.domain.model import Conversation, TicketEvent, UsageRecord
from gateway.service.ports import Queries, Store, Transaction
from tests.contract.engines import Engine
from tests.contract.records import (
    T0,
    A,
    B,
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


async def _seed(store: Store) -> None:
    await store.transaction(lambda tx: tx.subscribers.put(subscriber(A)))


def _everything(q: Queries) -> list[object]:
    """What every read model says about A and the store as a whole."""
    return [
        q.subscribers.get(A),
        q.subscriptions.all_of(A),
        q.subscriptions.next_due(),
        q.billing.charges(A),
        q.billing.ledger(A),
        q.billing.invoice_lines(A, "2026-03"),
        q.usage.all_of(A),
        q.outbox.unpublished(100),
        q.outbox.pending(),
        q.meta.get("k"),
        q.mail.due(hours(1000), 100),
        q.mailbox.page(start=0, limit=100),
        q.tickets.all(),
        q.tickets.events(1),
        q.console.messages(A, None, 100),
        q.console.activity(A),
        q.reports.stats(),
    ]


def _write_everywhere(tx: Transaction) -> None:
    """A write through every repository (the subscriber A exists, with 10,000)."""
    tx.subscribers.put(subscriber(A, balance=5000))
    tx.subscribers.put(subscriber(B))
    tx.subscriptions.put(subscription("s1", next_action_at=hours(24)))
    tx.billing.add_charge(charge("c1", month="2026-03"))
    tx.billing.add_ledger_entry(ledger(A, -5000, 5000, "c1"))
    tx.outbox.record_inbound(inbound("m1"), T0)
    tx.outbox.add(outgoing("o1", reply_to="m1"))
    tx.meta.set("k", "v")
    tx.activity.add(LiveEvent("cancel", T0, {"msisdn": A, "package": "ZL7"}))
    tx.conversations.put(Conversation(A, "888", "opt_in", "ZL7", T0, hours(1)))
    tx.usage.add(UsageRecord(A, "zalo", 100, T0, "s1", None, "e1"))
    tx.tickets.put(ticket(1, msisdn=A))
    tx.tickets.add_event(TicketEvent(1, T0, "open", "x"))
    tx.tickets.record_support_mail(
        message_id="in@example.test", ticket_id=1, sender="s@example.test", subject="s", at=T0
    )
    tx.mail.add(mail("x1", ticket_id=1))


async def test_an_exception_in_a_transaction_leaves_nothing_written(store: Store) -> None:
    await _seed(store)
    before = await store.query(_everything)

    def fail(tx: Transaction) -> None:
        _write_everywhere(tx)
        raise RuntimeError("the work failed")

    with pytest.raises(RuntimeError, match="the work failed"):
        await store.transaction(fail)

    assert await store.query(_everything) == before
    assert await store.query(lambda q: q.subscribers.get(B)) is None
    assert await store.transaction(lambda tx: tx.outbox.replies_to(A, "m1")) is None
    assert await store.transaction(lambda tx: tx.conversations.get(A, "888")) is None
    assert await store.transaction(lambda tx: tx.usage.seen(A, "e1")) is False
    assert (
        await store.transaction(lambda tx: tx.tickets.support_mail_seen("in@example.test")) is None
    )
    assert await store.query(lambda q: q.tickets.get(1)) is None


async def test_a_refused_write_rolls_back_the_whole_transaction(
    store: Store, engine: Engine
) -> None:
    await _seed(store)
    await store.transaction(lambda tx: tx.outbox.record_inbound(inbound("dup"), T0))
    before = await store.query(_everything)

    def refused(tx: Transaction) -> None:
        _write_everywhere(tx)
        tx.outbox.record_inbound(inbound("dup"), hours(1))

    with pytest.raises(engine.integrity_error):
        await store.transaction(refused)

    assert await store.query(_everything) == before
    assert await store.query(lambda q: q.subscribers.get(B)) is None
    # the store still works after it
    await store.transaction(_write_everywhere)
    assert await store.query(lambda q: q.subscribers.get(A)) == subscriber(A, balance=5000)
