"""The storage contract: the traffic a console recording is built from (``RecordingReads``)."""

from __future__ import annotations

from dataclasses import replace

from gateway.domain.model import ChargeRecord
from gateway.domain.traffic import Position
from gateway.service.ports import Store, Transaction
from tests.contract.records import T0, A, B, charge, hours, inbound, ledger, outgoing, subscriber


async def test_an_empty_history_stands_at_zero(store: Store) -> None:
    assert await store.query(lambda q: q.recording.position()) == Position(0, 0)


async def test_traffic_since_a_mark_is_what_was_stored_after_it_in_order(store: Store) -> None:
    """Before the mark: an MO at T0 with its reply, A's provisioning. After it: an MO of B
    at T0 (the same instant) and one of A an hour later, their replies, a renewal notice,
    a charge caused by B's MO and a top-up. ``since`` returns the MOs from T0 on (the
    caller tells the earlier one apart by its reply), and only the MTs and ledger entries
    after the mark, each in the order stored, a charge's entry naming its MO."""

    def before(tx: Transaction) -> None:
        tx.subscribers.put(subscriber(A))
        tx.subscribers.put(subscriber(B))
        tx.outbox.record_inbound(inbound("m0"), T0)
        tx.outbox.add(outgoing("r0", reply_to="m0"))
        tx.billing.add_ledger_entry(ledger(A, 10_000, 10_000))

    await store.transaction(before)
    mark = await store.query(lambda q: q.recording.position())
    paid: ChargeRecord = replace(charge("c1", B, sid=None), message_id="m1")

    def after(tx: Transaction) -> None:
        tx.outbox.record_inbound(inbound("m1", B, text="DK ZL1"), T0)
        tx.outbox.add(outgoing("r1", B, reply_to="m1"))
        tx.billing.add_charge(paid)
        tx.billing.add_ledger_entry(ledger(B, -5000, 45_000, "c1"))
        tx.outbox.add(outgoing("n1", at=hours(1)))
        tx.billing.add_ledger_entry(replace(ledger(A, 2000, 12_000), reason="topup"))
        tx.outbox.record_inbound(inbound("m2", text="KTTK"), hours(1))
        tx.outbox.add(outgoing("r2", reply_to="m2", at=hours(1)))

    await store.transaction(after)
    assert await store.query(lambda q: q.recording.position()) == Position(
        mark.outbox_seq + 3, mark.ledger_id + 2
    )
    traffic = await store.query(lambda q: q.recording.since(mark, T0))
    assert [(r.msisdn, r.message.id, r.message.text, r.message.at) for r in traffic.received] == [
        (A, "m0", "DK ZL7", T0),
        (B, "m1", "DK ZL1", T0),
        (A, "m2", "KTTK", hours(1)),
    ]
    assert [(s.msisdn, s.message.id, s.message.in_reply_to) for s in traffic.sent] == [
        (B, "r1", "m1"),
        (A, "n1", None),
        (A, "r2", "m2"),
    ]
    seqs = [s.seq for s in traffic.sent]
    assert seqs == sorted(seqs)
    assert seqs[0] > mark.outbox_seq
    assert [
        (m.entry.msisdn, m.entry.reason, m.entry.delta, m.message_id) for m in traffic.moves
    ] == [
        (B, "charge", -5000, "m1"),
        (A, "topup", 2000, None),
    ]
    assert traffic.moves[0].id > mark.ledger_id
    later = await store.query(lambda q: q.recording.since(mark, hours(1)))
    assert [r.message.id for r in later.received] == ["m2"]
