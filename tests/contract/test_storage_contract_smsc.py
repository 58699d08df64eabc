"""The storage contract for the SMSC's records (``tx.smsc``): an accepted message's record
commits or rolls back with the rest of its transaction, comes due in order, is final
once; the application queue keeps a delivery once and in order until acknowledged."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from gateway.domain.smsc import SmscMessage
from gateway.service.ports import Store, Transaction
from tests.contract.records import T0, A, B, hours


def _message(id: str, *, msisdn: str = A, due: datetime = T0, minutes: int = 0) -> SmscMessage:
    submitted = T0 + timedelta(minutes=minutes)
    return SmscMessage(
        id=id,
        account="app9029",
        shortcode="9029",
        msisdn=msisdn,
        registered=1,
        excerpt="Hello",
        drawn="DELIVRD",
        submitted_at=submitted,
        due_at=due,
        expires_at=hours(48),
    )


async def test_a_record_rolls_back_with_its_transaction(store: Store) -> None:
    """Work that fails after writing the record leaves nothing: not the record, not due."""

    class Refused(Exception):
        pass

    def work(tx: Transaction) -> None:
        tx.smsc.add_message(_message("m1"))
        raise Refused

    with pytest.raises(Refused):
        await store.transaction(work)
    assert await store.query(lambda q: q.smsc.message("m1")) is None
    assert await store.query(lambda q: q.smsc.next_due()) is None


async def test_messages_come_due_in_order_and_are_final_once(store: Store) -> None:
    """Due by due_at then submitted_at; one due later is not due yet; a final message is
    not due, and finishing it again changes nothing."""

    def add(tx: Transaction) -> None:
        tx.smsc.add_message(_message("late", due=hours(2)))
        tx.smsc.add_message(_message("b", due=hours(1), minutes=5))
        tx.smsc.add_message(_message("a", due=hours(1), minutes=1))

    await store.transaction(add)
    assert await store.query(lambda q: q.smsc.next_due()) == hours(1)
    due = await store.transaction(lambda tx: tx.smsc.due(hours(1), 10))
    assert [m.id for m in due] == ["a", "b"]
    assert await store.transaction(lambda tx: [m.id for m in tx.smsc.due(hours(3), 1)]) == ["a"]

    first = await store.transaction(
        lambda tx: tx.smsc.finish("a", state="UNDELIV", error=27, at=hours(1))
    )
    again = await store.transaction(
        lambda tx: tx.smsc.finish("a", state="DELIVRD", error=0, at=hours(2))
    )
    assert (first, again) == (True, False)
    final = await store.query(lambda q: q.smsc.message("a"))
    assert final is not None
    assert (final.state, final.error, final.done_at, final.due_at) == (
        "UNDELIV",
        27,
        hours(1),
        None,
    )
    assert final.submitted_at == T0 + timedelta(minutes=1)
    assert await store.transaction(lambda tx: [m.id for m in tx.smsc.due(hours(3), 10)]) == [
        "b",
        "late",
    ]


async def test_a_held_message_waits_for_its_validity_or_its_release(store: Store) -> None:
    """Held: due when its validity ends (48 h); released at 5 h: due at 5 h. Another
    handset's held message stays held."""

    def add(tx: Transaction) -> None:
        tx.smsc.add_message(_message("to-a"))
        tx.smsc.add_message(_message("to-b", msisdn=B))
        tx.smsc.hold("to-a")
        tx.smsc.hold("to-b")

    await store.transaction(add)
    assert await store.transaction(lambda tx: tx.smsc.due(hours(47), 10)) == []
    await store.transaction(lambda tx: tx.smsc.release(A, hours(5)))
    due = await store.transaction(lambda tx: tx.smsc.due(hours(5), 10))
    assert [(m.id, m.due_at) for m in due] == [("to-a", hours(5))]
    assert await store.query(lambda q: q.smsc.next_due()) == hours(5)


async def test_cancel_finds_pending_messages_by_id_or_by_destination(store: Store) -> None:
    def add(tx: Transaction) -> None:
        tx.smsc.add_message(_message("m1"))
        tx.smsc.add_message(_message("m2", minutes=1))
        tx.smsc.add_message(_message("m3", msisdn=B))
        tx.smsc.finish("m2", state="DELIVRD", error=0, at=T0)

    await store.transaction(add)

    async def ids(
        message_id: str, shortcode: str, msisdn: str, account: str = "app9029"
    ) -> list[str]:
        found = await store.transaction(
            lambda tx: tx.smsc.matching(
                account, message_id=message_id, shortcode=shortcode, msisdn=msisdn
            )
        )
        return [m.id for m in found]

    assert await ids("", "9029", A) == ["m1"]  # m2 is final
    assert await ids("m3", "9029", "") == ["m3"]
    assert await ids("m3", "9029", A) == []  # not to that subscriber
    assert await ids("m1", "9030", "") == []  # not from that short code
    assert await ids("m1", "9029", "", account="other") == []


async def test_the_queue_keeps_a_delivery_once_in_order_until_acknowledged(store: Store) -> None:
    """The same id twice is kept once (a redelivered MO); acknowledged ones leave the
    queue; an attempt is counted; each account has its own queue."""

    def add(tx: Transaction) -> None:
        for id in ("mo-1", "mo-2", "mo-1"):
            tx.smsc.enqueue(
                id=id, account="app9029", kind="mo", source=A, destination="9029", text=id, at=T0
            )
        tx.smsc.enqueue(
            id="dlr-x",
            account="app9029",
            kind="receipt",
            source=A,
            destination="9029",
            text="id:x stat:DELIVRD",
            at=hours(1),
            receipted_id="x",
            message_state=2,
        )
        tx.smsc.enqueue(
            id="mo-9", account="other", kind="mo", source=B, destination="9030", text="", at=T0
        )

    await store.transaction(add)
    queued = await store.transaction(lambda tx: tx.smsc.queued("app9029", 10))
    assert [(d.id, d.kind, d.attempts) for d in queued] == [
        ("mo-1", "mo", 0),
        ("mo-2", "mo", 0),
        ("dlr-x", "receipt", 0),
    ]
    receipt = queued[2]
    assert (receipt.receipted_id, receipt.message_state, receipt.created_at) == ("x", 2, hours(1))
    first, second = queued[0].seq, queued[1].seq

    def acknowledge(tx: Transaction) -> None:
        tx.smsc.delivered(first, hours(2))
        tx.smsc.attempted(second)

    await store.transaction(acknowledge)
    left = await store.query(lambda q: q.smsc.queued("app9029", 1))
    assert [(d.id, d.attempts) for d in left] == [("mo-2", 1)]
    assert [d.id for d in await store.query(lambda q: q.smsc.queued("other", 10))] == ["mo-9"]
