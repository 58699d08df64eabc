"""``GatewayService.send_mt`` with a price (an SMPP account's ``mt_price``) on fakes: the
MT and its charge are committed together, or neither is.

Amounts worked out by hand: a prepaid subscriber with 1,000đ pays one 1,000đ MT and is
then at 0; postpaid MTs are lines of the invoice of the local month (the first minutes
of 1 April, Asia/Ho_Chi_Minh, are April although it is still March in UTC)."""

from __future__ import annotations

import pytest

from carrier_rules import Catalog
from gateway.domain.model import Outgoing
from gateway.domain.smsc import SmscMessage
from gateway.errors import InsufficientBalance, UnknownSubscriber
from gateway.service.ports import Transaction
from tests.service.fakes import FakePublisher, FakeStore
from tests.service.support import local, make_service

PREPAID, POSTPAID, NOBODY = "84912345678", "84987654321", "84900000001"


async def test_a_prepaid_balance_pays_down_to_zero_then_nothing_is_sent(
    catalog: Catalog,
) -> None:
    """1,000đ pays a 1,000đ MT exactly (balance 0, ledger -1,000); the next one raises
    InsufficientBalance: no MT queued or published, no charge, the balance still 0."""
    publisher = FakePublisher()
    async with make_service(catalog, start=local(2026, 3, 10, 10), publisher=publisher) as svc:
        await svc.provision(PREPAID, kind="prepaid", balance=1000, language=None)
        paid = await svc.send_mt("9029", PREPAID, "tip 1", price=1000)
        with pytest.raises(InsufficientBalance) as refused:
            await svc.send_mt("9029", PREPAID, "tip 2", price=1000)
        await svc.drained()
        view = await svc.reads.subscriber(PREPAID)
        charges = await svc.reads.charges(PREPAID)
        ledger = await svc.reads.ledger(PREPAID)

    assert (refused.value.amount, refused.value.balance) == (1000, 0)
    assert [m.text for m in publisher.messages] == ["tip 1"]
    assert view.subscriber.balance == 0
    assert [(c.reason, c.rule, c.amount, c.billing, c.message_id) for c in charges] == [
        ("mt", "mt_price", 1000, "balance", paid.id)
    ]
    assert charges[0].inputs["segments"] == 1
    assert [(e.delta, e.balance_after, e.reason) for e in ledger] == [
        (1000, 1000, "provision"),
        (-1000, 0, "charge"),
    ]


async def test_postpaid_mts_are_invoice_lines_of_the_local_month(catalog: Catalog) -> None:
    """An MT at 23:30 on 31 March and one at 00:30 on 1 April (local; 17:30 UTC on
    31 March): one 500đ line on the March invoice, one on April's; the balance untouched."""
    async with make_service(catalog, start=local(2026, 3, 31, 23, 30)) as svc:
        await svc.provision(POSTPAID, kind="postpaid", balance=7, language=None)
        march = await svc.send_mt("9029", POSTPAID, "a", price=500)
        await svc.advance(to=local(2026, 4, 1, 0, 30))
        april = await svc.send_mt("9029", POSTPAID, "b", price=500)
        lines = {
            month: [
                (i.charge_id, i.description, i.amount)
                for i in await svc.reads.invoice(POSTPAID, month)
            ]
            for month in ("2026-03", "2026-04")
        }
        charges = {c.id: c.message_id for c in await svc.reads.charges(POSTPAID)}
        balance = (await svc.reads.subscriber(POSTPAID)).subscriber.balance

    assert [(d, a) for _, d, a in lines["2026-03"]] == [("9029 mt", 500)]
    assert [(d, a) for _, d, a in lines["2026-04"]] == [("9029 mt", 500)]
    assert charges[lines["2026-03"][0][0]] == march.id
    assert charges[lines["2026-04"][0][0]] == april.id
    assert balance == 7


async def test_an_mt_to_no_subscriber_is_refused_when_priced_and_sent_when_free(
    catalog: Catalog,
) -> None:
    """Nobody to charge: a priced MT raises UnknownSubscriber and queues nothing; the same
    MT at price 0 is sent as before MT billing existed (no subscriber needed)."""
    publisher = FakePublisher()
    async with make_service(catalog, start=local(2026, 3, 10, 10), publisher=publisher) as svc:
        with pytest.raises(UnknownSubscriber):
            await svc.send_mt("9029", NOBODY, "priced", price=100)
        await svc.send_mt("9029", NOBODY, "free")
        await svc.drained()
        with pytest.raises(UnknownSubscriber):  # still nobody: the free MT created no one
            await svc.reads.charges(NOBODY)
    assert [m.text for m in publisher.messages] == ["free"]


async def test_the_senders_record_commits_with_the_mt_and_its_charge(catalog: Catalog) -> None:
    """``track`` writes the SMSC's record in the MT's transaction: a paid MT has its
    record (id and instant of the MT); one refused for want of balance has none, and
    leaves no MT and no charge either."""
    store = FakeStore()

    def track(tx: Transaction, mt: Outgoing) -> None:
        tx.smsc.add_message(
            SmscMessage(
                id=mt.id,
                account="app9029",
                shortcode=mt.shortcode,
                msisdn=mt.msisdn,
                registered=1,
                excerpt=mt.text,
                drawn="DELIVRD",
                submitted_at=mt.at,
                due_at=mt.at,
                expires_at=mt.at,
            )
        )

    async with make_service(catalog, start=local(2026, 3, 10, 10), store=store) as svc:
        await svc.provision(PREPAID, kind="prepaid", balance=1000, language=None)
        paid = await svc.send_mt("9029", PREPAID, "tip 1", price=1000, track=track)
        with pytest.raises(InsufficientBalance):
            await svc.send_mt("9029", PREPAID, "tip 2", price=1000, track=track)

    records = list(store.view().smsc.due(local(2026, 3, 11), 10))
    assert [(r.id, r.msisdn, r.excerpt, r.submitted_at) for r in records] == [
        (paid.id, PREPAID, "tip 1", local(2026, 3, 10, 10))
    ]
