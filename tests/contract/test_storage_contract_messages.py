"""The storage contract: the outbox and MO ids, the activity log, the console and reports."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gateway.domain.events import LiveEvent
from gateway.domain.model import MessageRecord, Outgoing
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
    outgoing,
    subscriber,
    subscription,
)

# -- MO ids and replies ------------------------------------------------------------------


async def test_an_mo_id_is_recorded_once_per_sender(store: Store, engine: Engine) -> None:
    await store.transaction(lambda tx: tx.outbox.record_inbound(inbound("m1"), T0))
    await store.transaction(lambda tx: tx.outbox.record_inbound(inbound("m1", B), T0))
    with pytest.raises(engine.integrity_error):
        await store.transaction(
            lambda tx: tx.outbox.record_inbound(inbound("m1", text="again"), hours(1))
        )
    messages = await store.query(lambda q: q.console.messages(A, None, 10))
    assert [(m.id, m.text) for m in messages] == [("m1", "DK ZL7")]


async def test_replies_to_an_mo_are_none_until_it_is_recorded_then_its_answers(
    store: Store,
) -> None:
    assert await store.transaction(lambda tx: tx.outbox.replies_to(A, "m1")) is None

    def receive(tx: Transaction) -> list[Outgoing] | None:
        tx.outbox.record_inbound(inbound("m1"), T0)
        return tx.outbox.replies_to(A, "m1")

    assert await store.transaction(receive) == [], "recorded, nothing answered yet"

    def answer(tx: Transaction) -> None:
        tx.outbox.add(outgoing("o1", reply_to="m1"))
        tx.outbox.add(outgoing("sorry", reply_to="m1"), answer=False)
        tx.outbox.add(outgoing("o2", reply_to="m1"))
        tx.outbox.add(outgoing("o3", reply_to="m2"))
        tx.outbox.add(outgoing("b1", B, reply_to="m1"))

    await store.transaction(answer)
    replies = await store.transaction(lambda tx: tx.outbox.replies_to(A, "m1"))
    assert replies == [outgoing("o1", reply_to="m1"), outgoing("o2", reply_to="m1")]
    assert await store.transaction(lambda tx: tx.outbox.replies_to(B, "m1")) is None


async def test_the_outbox_hands_out_unpublished_replies_in_order_until_marked(
    store: Store,
) -> None:
    def queue(tx: Transaction) -> None:
        for oid in ("o1", "o2", "o3", "o4"):
            tx.outbox.add(outgoing(oid))

    await store.transaction(queue)
    assert [m.id for m in await store.query(lambda q: q.outbox.unpublished(3))] == [
        "o1",
        "o2",
        "o3",
    ]
    assert await store.query(lambda q: q.outbox.pending()) == 4

    await store.transaction(lambda tx: tx.outbox.mark_published(["o2", "o4", "unknown"]))
    unpublished = await store.query(lambda q: q.outbox.unpublished(10))
    assert unpublished == [outgoing("o1"), outgoing("o3")]
    assert await store.query(lambda q: q.outbox.pending()) == 2
    await store.transaction(lambda tx: tx.outbox.mark_published(["o1", "o3"]))
    assert await store.query(lambda q: (q.outbox.unpublished(10), q.outbox.pending())) == ([], 0)


async def test_an_outgoing_id_is_queued_once(store: Store, engine: Engine) -> None:
    await store.transaction(lambda tx: tx.outbox.add(outgoing("o1")))
    with pytest.raises(engine.integrity_error):
        await store.transaction(lambda tx: tx.outbox.add(outgoing("o1", B)))
    assert await store.query(lambda q: q.outbox.pending()) == 1


# -- the console -------------------------------------------------------------------------


async def test_the_console_shows_the_newest_messages_oldest_first(store: Store) -> None:
    def talk(tx: Transaction) -> None:
        tx.outbox.record_inbound(inbound("m1"), hours(1))
        tx.outbox.add(outgoing("o1", reply_to="m1", at=hours(1)))
        tx.outbox.record_inbound(inbound("m2", shortcode="999"), hours(2))
        tx.outbox.add(outgoing("o2", reply_to="m2", at=hours(2), shortcode="999"))
        tx.outbox.add(outgoing("o3", at=hours(3)))
        tx.outbox.record_inbound(inbound("mb", B), hours(1))

    await store.transaction(talk)

    every = await store.query(lambda q: q.console.messages(A, None, 10))
    # at 01:00 the MO comes before the MT sent at the same instant (queued after it)
    assert [(m.direction, m.id) for m in every] == [
        ("mo", "m1"),
        ("mt", "o1"),
        ("mo", "m2"),
        ("mt", "o2"),
        ("mt", "o3"),
    ]
    assert every[3] == MessageRecord("mt", "o2", "999", "text of o2", hours(2), "GSM7", 1, "m2")
    newest = await store.query(lambda q: q.console.messages(A, None, 2))
    assert [m.id for m in newest] == ["o2", "o3"]
    on_999 = await store.query(lambda q: q.console.messages(A, "999", 10))
    assert [m.id for m in on_999] == ["m2", "o2"]


async def test_the_console_finds_accounts_by_number_or_address(store: Store) -> None:
    def accounts(tx: Transaction) -> None:
        tx.subscribers.put(subscriber(C, email="carol@example.test"))
        tx.subscribers.put(subscriber(A, email="alice@example.test"))
        tx.subscribers.put(subscriber(B))

    await store.transaction(accounts)

    found = await store.query(lambda q: q.console.search("849120000", 10))
    assert [s.msisdn for s in found] == [A, B, C]
    assert [s.msisdn for s in await store.query(lambda q: q.console.search("849120000", 2))] == [
        A,
        B,
    ]
    assert await store.query(lambda q: q.console.search("carol", 10)) == [
        subscriber(C, email="carol@example.test")
    ]
    assert await store.query(lambda q: q.console.search("nobody", 10)) == []


async def test_the_activity_log_in_time_order_per_subscriber_and_between(store: Store) -> None:
    cancel = LiveEvent("cancel", hours(3), {"msisdn": A, "package": "ZL7"})
    failed = LiveEvent("renewal_failed", hours(1), {"msisdn": A, "package": "ZL7", "amount": 5000})
    expiry = LiveEvent("expiry", hours(2), {"msisdn": A, "package": "ZL7", "status": "expired"})
    other = LiveEvent("renewal_failed", hours(2), {"msisdn": B, "package": "ZL30"})

    def log(tx: Transaction) -> None:
        for event in (cancel, failed, expiry, other):
            tx.activity.add(event)

    await store.transaction(log)

    assert await store.query(lambda q: q.console.activity(A)) == [failed, expiry, cancel]
    between = await store.query(
        lambda q: q.reports.activity_between("renewal_failed", T0, hours(2))
    )
    assert between == [failed], "the end is excluded"
    wider = await store.query(
        lambda q: q.reports.activity_between("renewal_failed", hours(1), hours(3))
    )
    assert wider == [failed, other]


# -- reports -----------------------------------------------------------------------------


async def test_charges_between_two_instants_in_time_order(store: Store) -> None:
    def money(tx: Transaction) -> None:
        tx.subscribers.put(subscriber(A))
        tx.subscribers.put(subscriber(B))
        tx.subscriptions.put(subscription("s1"))
        tx.subscriptions.put(subscription("s2", B))
        tx.billing.add_charge(charge("c3", at=hours(3)))
        tx.billing.add_charge(charge("c1", B, sid="s2", at=hours(1)))
        tx.billing.add_charge(charge("c2", at=hours(2)))

    await store.transaction(money)
    found = await store.query(lambda q: q.reports.charges_between(hours(1), hours(3)))
    assert [c.id for c in found] == ["c1", "c2"]
    assert found[0] == charge("c1", B, sid="s2", at=hours(1))


async def test_plans_serving_at_each_instant(store: Store) -> None:
    def plans(tx: Transaction) -> None:
        tx.subscribers.put(subscriber(A))
        # serving from hour 0 on
        tx.subscriptions.put(subscription("open", started=hours(0)))
        # from hour 2; ended, but paid up to hour 10
        tx.subscriptions.put(
            subscription("paid", started=hours(2), status="cancelled", expires_at=hours(10))
        )
        # free: never counted
        tx.subscriptions.put(subscription("free", started=hours(0), price=0))
        # ended at hour 4 and no longer serving
        tx.subscriptions.put(
            subscription("gone", started=hours(1), status="expired", expires_at=hours(4))
        )

    await store.transaction(plans)
    # hour 1: open, gone | hour 3: open, paid, gone | hour 5: open, paid | hour 12: open
    counts = await store.query(
        lambda q: q.reports.active_at([hours(1), hours(3), hours(5), hours(12)])
    )
    assert counts == [2, 3, 2, 1]


async def test_stats_count_subscribers_scheduled_plans_and_unpublished_replies(
    store: Store,
) -> None:
    def state(tx: Transaction) -> None:
        tx.subscribers.put(subscriber(A))
        tx.subscribers.put(subscriber(B))
        tx.subscriptions.put(subscription("s1", next_action_at=hours(1)))
        tx.subscriptions.put(replace(subscription("s2", B), next_action_at=None))
        tx.outbox.add(outgoing("o1"))
        tx.outbox.add(outgoing("o2"))

    await store.transaction(state)
    await store.transaction(lambda tx: tx.outbox.mark_published(["o1"]))
    assert await store.query(lambda q: q.reports.stats()) == {
        "subscribers": 2,
        "open_subscriptions": 1,
        "unpublished": 1,
    }
