"""A message whose transaction fails: the rest of its batch survives, and it gets a reply.

``GatewayService`` commits a batch of MOs in one transaction. When that fails it
retries them one by one; a message that still fails is answered with the catalog's
``system_error`` reply ("nothing was charged") in its own transaction, and changes
nothing else. The failure is injected by the ``FakeStore`` for one message id.
"""

from __future__ import annotations

import asyncio

from carrier_rules import Catalog
from tests.service.fakes import FakePublisher, FakeStore
from tests.service.support import local, make_service, sms

A = "84912345678"
B = "84912000002"
C = "84912000003"
T0 = local(2026, 3, 10, 10, 0)

SYSTEM_ERROR_VI = "He thong dang ban, Quy khach vui long thu lai sau. Quy khach khong bi tru cuoc."


async def test_one_failing_message_does_not_lose_the_rest_of_its_batch(catalog: Catalog) -> None:
    store = FakeStore(fail_inbound_ids={"m2"})
    publisher = FakePublisher()
    async with make_service(catalog, start=T0, store=store, publisher=publisher) as svc:
        for msisdn in (A, B, C):
            await svc.provision(msisdn, kind="prepaid", balance=10_000, language=None)
        rollbacks_before = store.rollbacks

        futures = [
            svc.submit(sms(A, "DK ZL1", id="m1")),
            svc.submit(sms(B, "DK ZL1", id="m2")),
            svc.submit(sms(C, "DK ZL7", id="m3")),
        ]
        first, failed, third = await asyncio.gather(*futures)
        await svc.drained()

        balances = [(await svc.reads.subscriber(m)).subscriber.balance for m in (A, B, C)]
        b_view = await svc.reads.subscriber(B)
        b_charges = await svc.reads.charges(B)

    assert first.replies[0].text.startswith("Dang ky thanh cong goi ZL1 ")
    assert third.replies[0].text.startswith("Dang ky thanh cong goi ZL7 ")
    assert [(r.text, r.msisdn, r.in_reply_to) for r in failed.replies] == [
        (SYSTEM_ERROR_VI, B, "m2")
    ]
    assert not failed.duplicate
    assert balances == [9000, 10_000, 5000]
    assert b_view.subscriptions == []
    assert b_charges == []
    assert store.rollbacks - rollbacks_before == 2  # the batch, then m2 on its own
    assert sorted(m.in_reply_to or "" for m in publisher.messages) == ["m1", "m2", "m3"]


async def test_a_lone_failing_message_is_answered_in_the_subscribers_language(
    catalog: Catalog,
) -> None:
    store = FakeStore(fail_inbound_ids={"m1"})
    publisher = FakePublisher()
    async with make_service(catalog, start=T0, store=store, publisher=publisher) as svc:
        await svc.provision(A, kind="prepaid", balance=10_000, language="vi-diacritics")

        result = await svc.handle_sms(sms(A, "DK ZL1", id="m1"))
        await svc.drained()
        view = await svc.reads.subscriber(A)

    (reply,) = result.replies
    assert reply.text == (
        "Hệ thống đang bận, Quý khách vui lòng thử lại sau. Quý khách không bị trừ cước."
    )
    assert reply.encoding == "UCS2"
    assert view.subscriber.balance == 10_000
    assert view.subscriptions == []
    assert publisher.messages == [reply]


async def test_an_unknown_sender_whose_message_fails_is_not_provisioned(catalog: Catalog) -> None:
    store = FakeStore(fail_inbound_ids={"m1"})
    async with make_service(catalog, start=T0, store=store, default_balance=4000) as svc:
        result = await svc.handle_sms(sms(A, "DK ZL1", id="m1"))

    assert [r.text for r in result.replies] == [SYSTEM_ERROR_VI]
    assert store.view().subscribers.get(A) is None
    assert store.view().billing.ledger(A) == []


async def test_after_a_system_error_the_same_message_can_be_sent_again(catalog: Catalog) -> None:
    """The failed attempt recorded nothing, so the client's retry is processed normally."""
    store = FakeStore(fail_inbound_ids={"m1"})
    async with make_service(catalog, start=T0, store=store, default_balance=4000) as svc:
        failed = await svc.handle_sms(sms(A, "DK ZL1", id="m1"))
        store.fail_inbound_ids.clear()

        retried = await svc.handle_sms(sms(A, "DK ZL1", id="m1"))
        balance = (await svc.reads.subscriber(A)).subscriber.balance

    assert [r.text for r in failed.replies] == [SYSTEM_ERROR_VI]
    assert not retried.duplicate
    assert retried.replies[0].text.startswith("Dang ky thanh cong goi ZL1 ")
    assert balance == 3000


async def test_a_duplicate_after_a_recovered_failure_returns_the_replies_of_the_processing(
    catalog: Catalog,
) -> None:
    """m1 fails (system error), is sent again and processed (registered), then arrives a
    third time: the duplicate must return what the processing replied - the registration
    - not the apology as well, which says nothing was charged when 1,000đ was."""
    store = FakeStore(fail_inbound_ids={"m1"})
    async with make_service(catalog, start=T0, store=store, default_balance=4000) as svc:
        await svc.handle_sms(sms(A, "DK ZL1", id="m1"))
        store.fail_inbound_ids.clear()
        processed = await svc.handle_sms(sms(A, "DK ZL1", id="m1"))

        duplicate = await svc.handle_sms(sms(A, "DK ZL1", id="m1"))

    assert duplicate.duplicate
    assert [r.text for r in duplicate.replies] == [r.text for r in processed.replies]
