"""The fakes behave like the real adapters where the service can tell.

A fake that commits half a failed transaction, or hands out its stored objects,
would let service tests pass for code that loses money on the real store.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.domain.model import (
    ChargeRecord,
    InboundSms,
    LedgerEntry,
    Outgoing,
    Subscriber,
    Subscription,
)
from gateway.errors import StorageError
from gateway.service.ports import Transaction
from tests.service.fakes import FakeIntegrityError, FakePublisher, FakeStore, FakeStoreFault
from tests.service.support import local

A = "84912345678"
B = "84912000002"
T0 = local(2026, 3, 10, 10, 0)


def _subscriber(msisdn: str = A, balance: int = 10_000) -> Subscriber:
    return Subscriber(msisdn=msisdn, kind="prepaid", balance=balance, language=None, created_at=T0)


def _subscription(sid: str, msisdn: str = A, *, next_action_hours: int | None = 24) -> Subscription:
    return Subscription(
        id=sid,
        msisdn=msisdn,
        package="ZL1",
        group="zalo",
        status="active",
        started_at=T0,
        period_start=T0,
        expires_at=T0 + timedelta(hours=24),
        auto_renew=True,
        next_action_at=None
        if next_action_hours is None
        else T0 + timedelta(hours=next_action_hours),
    )


def _outgoing(oid: str, msisdn: str = A, in_reply_to: str | None = None) -> Outgoing:
    return Outgoing(oid, "888", msisdn, "hello", in_reply_to, "GSM7", 1, T0)


async def _seeded() -> FakeStore:
    store = FakeStore()

    def seed(tx: Transaction) -> None:
        tx.subscribers.put(_subscriber())
        tx.billing.add_ledger_entry(LedgerEntry(A, 10_000, 10_000, "provision", T0))
        tx.subscriptions.put(_subscription("s1"))
        tx.meta.set("virtual_now", T0.isoformat())

    await store.transaction(seed)
    return store


async def test_work_that_raises_leaves_every_table_as_it_was() -> None:
    """Balance, subscription, charge, ledger, outbox, inbound and meta writes all roll back."""
    store = await _seeded()
    before = store.snapshot()

    def half_done(tx: Transaction) -> None:
        subscriber = tx.subscribers.get(A)
        assert subscriber is not None
        subscriber.balance -= 1000
        tx.subscribers.put(subscriber)
        (sub,) = tx.subscriptions.open_of(A)
        sub.status = "cancelled"
        tx.subscriptions.put(sub)
        tx.billing.add_charge(
            ChargeRecord("c1", A, "s1", "ZL1", "renewal", "r", 1000, "balance", None, T0, None)
        )
        tx.billing.add_ledger_entry(LedgerEntry(A, -1000, 9000, "charge", T0, "c1"))
        tx.outbox.record_inbound(InboundSms("m1", A, "888", "DK ZL1"), T0)
        tx.outbox.add(_outgoing("o1", in_reply_to="m1"))
        tx.meta.set("virtual_now", "later")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await store.transaction(half_done)

    assert store.snapshot() == before
    assert store.view().subscribers.get(A) == _subscriber()
    assert store.view().billing.charges(A) == []
    assert store.view().outbox.replies_to(A, "m1") is None
    assert store.outbox() == []
    assert (store.commits, store.rollbacks) == (1, 1)


async def test_committed_work_is_visible_to_the_next_transaction() -> None:
    store = await _seeded()

    def charge(tx: Transaction) -> None:
        subscriber = tx.subscribers.get(A)
        assert subscriber is not None
        subscriber.balance = 9000
        tx.subscribers.put(subscriber)

    await store.transaction(charge)

    assert store.view().subscribers.get(A) == _subscriber(balance=9000)
    assert store.commits == 2


async def test_reads_hand_out_copies_not_the_stored_entities() -> None:
    """Changing what a read returned changes nothing until it is put back."""
    store = await _seeded()

    def mutate_without_put(tx: Transaction) -> None:
        subscriber = tx.subscribers.get(A)
        assert subscriber is not None
        subscriber.balance = 0
        (sub,) = tx.subscriptions.open_of(A)
        sub.status = "expired"

    await store.transaction(mutate_without_put)

    assert store.view().subscribers.get(A) == _subscriber(balance=10_000)
    assert [s.status for s in store.view().subscriptions.all_of(A)] == ["active"]


async def test_put_stores_a_copy_of_the_argument() -> None:
    store = await _seeded()
    subscriber = _subscriber(balance=500)
    await store.transaction(lambda tx: tx.subscribers.put(subscriber))

    subscriber.balance = 123

    assert store.view().subscribers.get(A) == _subscriber(balance=500)


async def test_a_negative_balance_is_rejected_like_the_schema_check() -> None:
    store = await _seeded()
    before = store.snapshot()

    with pytest.raises(FakeIntegrityError, match="balance"):
        await store.transaction(lambda tx: tx.subscribers.put(_subscriber(balance=-1)))

    assert store.snapshot() == before


async def test_an_inbound_id_is_unique_per_sender() -> None:
    store = await _seeded()
    await store.transaction(lambda tx: tx.subscribers.put(_subscriber(B)))
    await store.transaction(
        lambda tx: tx.outbox.record_inbound(InboundSms("m1", A, "888", "x"), T0)
    )
    await store.transaction(
        lambda tx: tx.outbox.record_inbound(InboundSms("m1", B, "888", "x"), T0)
    )

    with pytest.raises(FakeIntegrityError):
        await store.transaction(
            lambda tx: tx.outbox.record_inbound(InboundSms("m1", A, "888", "y"), T0)
        )


async def test_replies_to_is_none_for_an_unseen_message_and_lists_the_replies_of_a_seen_one() -> (
    None
):
    store = await _seeded()

    def receive(tx: Transaction) -> None:
        tx.outbox.record_inbound(InboundSms("m1", A, "888", "DK ZL1"), T0)
        tx.outbox.add(_outgoing("o1", in_reply_to="m1"))
        tx.outbox.add(_outgoing("o2", in_reply_to="m1"))
        tx.outbox.add(_outgoing("o3", in_reply_to="m2"))

    await store.transaction(receive)
    view = store.view()

    assert view.outbox.replies_to(A, "m2") is None
    assert [m.id for m in view.outbox.replies_to(A, "m1") or []] == ["o1", "o2"]
    assert view.outbox.replies_to(B, "m1") is None


async def test_due_subscriptions_come_in_time_order_up_to_the_limit() -> None:
    store = await _seeded()

    def more(tx: Transaction) -> None:
        tx.subscriptions.put(_subscription("s0", next_action_hours=48))
        tx.subscriptions.put(_subscription("s2", next_action_hours=12))
        tx.subscriptions.put(_subscription("s3", next_action_hours=None))

    await store.transaction(more)
    view = store.view()

    assert [s.id for s in view.subscriptions.due(T0 + timedelta(hours=48), 10)] == [
        "s2",
        "s1",
        "s0",
    ]
    assert [s.id for s in view.subscriptions.due(T0 + timedelta(hours=48), 2)] == ["s2", "s1"]
    assert [s.id for s in view.subscriptions.due(T0 + timedelta(hours=24), 10)] == ["s2", "s1"]
    assert view.subscriptions.next_due() == T0 + timedelta(hours=12)


async def test_a_charge_for_an_unknown_subscription_fails_at_commit() -> None:
    """Like the deferred foreign key: the subscription may be written after the charge."""
    store = await _seeded()
    charge = ChargeRecord(
        "c1", A, "s9", "ZL1", "registration", "r", 1000, "balance", None, T0, None
    )

    with pytest.raises(FakeIntegrityError, match="s9"):
        await store.transaction(lambda tx: tx.billing.add_charge(charge))

    def charge_then_subscription(tx: Transaction) -> None:
        tx.billing.add_charge(charge)
        tx.subscriptions.put(_subscription("s9"))

    await store.transaction(charge_then_subscription)
    assert [c.id for c in store.view().billing.charges(A)] == ["c1"]


async def test_unpublished_messages_are_those_not_yet_marked() -> None:
    store = await _seeded()

    def queue(tx: Transaction) -> None:
        for oid in ("o1", "o2", "o3"):
            tx.outbox.add(_outgoing(oid))

    await store.transaction(queue)
    await store.transaction(lambda tx: tx.outbox.mark_published(["o2"]))

    assert [m.id for m in store.view().outbox.unpublished(10)] == ["o1", "o3"]
    assert store.view().reports.stats() == {
        "subscribers": 1,
        "open_subscriptions": 1,
        "unpublished": 2,
    }


async def test_an_injected_inbound_fault_fails_only_that_message() -> None:
    store = FakeStore(fail_inbound_ids={"bad"})
    await store.transaction(
        lambda tx: tx.outbox.record_inbound(InboundSms("ok", A, "888", "x"), T0)
    )

    with pytest.raises(FakeStoreFault):
        await store.transaction(
            lambda tx: tx.outbox.record_inbound(InboundSms("bad", A, "888", "x"), T0)
        )


async def test_a_closed_store_refuses_work() -> None:
    store = await _seeded()
    await store.close()

    with pytest.raises(StorageError, match="not open"):
        await store.query(lambda q: q.subscribers.get(A))


async def test_the_publisher_fails_as_told_then_records_everything() -> None:
    publisher = FakePublisher(failures=1)

    with pytest.raises(ConnectionError):
        await publisher.publish([_outgoing("o1")])
    await publisher.publish([_outgoing("o1"), _outgoing("o2", B)])
    await publisher.publish_error({"error": "invalid_message"})

    assert [m.id for m in publisher.messages] == ["o1", "o2"]
    assert publisher.texts_to(B) == ["hello"]
    assert publisher.errors == [{"error": "invalid_message"}]
    assert publisher.attempts == 2
