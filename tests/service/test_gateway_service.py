"""The async ``GatewayService`` on fakes: MOs, batches, top-ups, queries, the outbox.

The service runs in an ``async with`` block with a ``VirtualClock``, an in-memory
``FakeStore`` and a ``FakePublisher``. Its default balance is what the test passes
(4,000đ here unless said otherwise). Every amount and instant is worked out by hand
from seed 004 and zalo.toml, in Asia/Ho_Chi_Minh time (UTC+7).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from carrier_rules import Catalog
from gateway.domain.model import LedgerEntry, Outgoing
from gateway.errors import UnknownSubscriber
from gateway.service.ports import Transaction
from tests.service.fakes import FakePublisher, FakeStore
from tests.service.support import HELP_VI, local, make_service, sms

A = "84912345678"
B = "84912000002"
C = "84912000003"
T0 = local(2026, 3, 10, 10, 0)


async def test_a_reply_is_returned_after_commit_and_then_published(catalog: Catalog) -> None:
    store, publisher = FakeStore(), FakePublisher()
    async with make_service(
        catalog, start=T0, store=store, publisher=publisher, default_balance=4000
    ) as svc:
        result = await svc.handle_sms(sms(A, "DK ZL1", id="m1"))
        await svc.drained()

        view = await svc.reads.subscriber(A)

    assert [r.text for r in result.replies] == [
        "Dang ky thanh cong goi ZL1 (Mien phi data Zalo), cuoc 1.000d tru vao TK chinh."
        " Het han 10:00 11/03/2026, tu dong gia han. Huy: soan HUY ZL1 gui 888."
    ]
    assert publisher.messages == result.replies
    assert store.view().outbox.unpublished(10) == []
    assert view.subscriber.balance == 3000
    assert [(s.package, s.status, s.expires_at) for s in view.subscriptions] == [
        ("ZL1", "active", local(2026, 3, 11, 10, 0))
    ]


async def test_a_repeated_client_id_is_processed_once_and_not_published_again(
    catalog: Catalog,
) -> None:
    publisher = FakePublisher()
    async with make_service(catalog, start=T0, publisher=publisher, default_balance=4000) as svc:
        first = await svc.handle_sms(sms(A, "DK ZL1", id="m1"))
        second = await svc.handle_sms(sms(A, "DK ZL1", id="m1"))
        await svc.drained()

        charges = await svc.reads.charges(A)
        balance = (await svc.reads.subscriber(A)).subscriber.balance

    assert (first.duplicate, second.duplicate) == (False, True)
    assert second.replies == first.replies
    assert [c.amount for c in charges] == [1000]
    assert balance == 3000
    assert publisher.messages == first.replies


async def test_a_repeated_client_id_inside_one_batch_is_processed_once(catalog: Catalog) -> None:
    publisher = FakePublisher()
    async with make_service(catalog, start=T0, publisher=publisher, default_balance=4000) as svc:
        futures = [svc.submit(sms(A, "DK ZL1", id="m1")) for _ in range(3)]
        first, *others = await asyncio.gather(*futures)
        await svc.drained()
        balance = (await svc.reads.subscriber(A)).subscriber.balance

    assert not first.duplicate
    assert [(o.duplicate, o.replies) for o in others] == [(True, first.replies)] * 2
    assert balance == 3000
    assert len(publisher.messages) == 1


async def test_messages_of_one_batch_see_each_others_effects(catalog: Catalog) -> None:
    """DK ZL1 then DK ZL1 and DK ZL7 queued together: registered, already, other pack."""
    publisher = FakePublisher()
    async with make_service(catalog, start=T0, publisher=publisher, default_balance=4000) as svc:
        futures = [svc.submit(sms(A, t)) for t in ("DK ZL1", "dk zl1", "DK ZL7")]
        results = await asyncio.gather(*futures)
        await svc.drained()
        balance = (await svc.reads.subscriber(A)).subscriber.balance

    texts = [r.replies[0].text for r in results]
    assert texts[0].startswith("Dang ky thanh cong goi ZL1 ")
    assert texts[1] == (
        "Quy khach dang su dung goi ZL1, het han 10:00 11/03/2026. Khong can dang ky lai,"
        " Quy khach khong bi tru cuoc."
    )
    assert texts[2] == (
        "Quy khach dang su dung goi ZL1. De dang ky goi ZL7, soan HUY ZL1 gui 888,"
        " sau do soan DK ZL7 gui 888."
    )
    assert balance == 3000
    assert publisher.texts_to(A) == texts


async def test_messages_queued_together_are_committed_in_one_transaction(
    catalog: Catalog,
) -> None:
    """Group commit: three MOs, one transaction for them and one to mark their replies sent."""
    store = FakeStore()
    async with make_service(catalog, start=T0, store=store, default_balance=4000) as svc:
        before = store.commits
        futures = [svc.submit(sms(m, "DK ZL1")) for m in (A, B, C)]
        await asyncio.gather(*futures)
        await svc.drained()

        assert store.commits - before == 2
        assert [(await svc.reads.subscriber(m)).subscriber.balance for m in (A, B, C)] == [3000] * 3


async def test_nonsense_gets_the_help_reply_never_silence(catalog: Catalog) -> None:
    publisher = FakePublisher()
    async with make_service(catalog, start=T0, publisher=publisher, default_balance=4000) as svc:
        for text in ("", "😀😀", "DK ZL2", "XIN CHAO"):
            result = await svc.handle_sms(sms(A, text))
            assert [r.text for r in result.replies] == [HELP_VI]
        await svc.drained()

    assert publisher.texts_to(A) == [HELP_VI] * 4


async def test_without_auto_provision_an_unknown_number_is_told_and_not_stored(
    catalog: Catalog,
) -> None:
    store, publisher = FakeStore(), FakePublisher()
    async with make_service(
        catalog, start=T0, store=store, publisher=publisher, auto_provision=False
    ) as svc:
        result = await svc.handle_sms(sms(A, "DK ZL1"))
        await svc.drained()

        with pytest.raises(UnknownSubscriber):
            await svc.reads.subscriber(A)
        with pytest.raises(UnknownSubscriber):
            await svc.reads.charges(A)
        stats = await svc.reads.stats()

    assert [r.text for r in result.replies] == [
        "So thue bao 84912345678 khong phai thue bao Vinaphone, khong su dung duoc dich vu 888."
    ]
    assert publisher.texts_to(A) == [r.text for r in result.replies]
    assert stats == {"subscribers": 0, "open_subscriptions": 0, "unpublished": 0}
    assert store.view().billing.ledger(A) == []


async def test_reply_language_follows_the_subscriber(catalog: Catalog) -> None:
    async with make_service(catalog, start=T0) as svc:
        await svc.provision(A, kind="prepaid", balance=5000, language="vi-diacritics")
        await svc.provision(B, kind="prepaid", balance=5000, language="en")
        await svc.provision(C, kind="prepaid", balance=5000, language=None)

        (diacritics,) = (await svc.handle_sms(sms(A, "DK ZL7"))).replies
        (english,) = (await svc.handle_sms(sms(B, "DK ZL7"))).replies
        (plain,) = (await svc.handle_sms(sms(C, "DK ZL7"))).replies

    assert (diacritics.encoding, english.encoding, plain.encoding) == ("UCS2", "GSM7", "GSM7")
    assert diacritics.text == (
        "Đăng ký thành công gói ZL7 (Miễn phí data Zalo), cước 5.000đ trừ vào TK chính."
        " Hết hạn 10:00 17/03/2026, tự động gia hạn. Hủy: soạn HUY ZL7 gửi 888."
    )
    assert english.text == (
        "ZL7 registered (Free Zalo data), 5,000 VND deducted from your main balance."
        " Expires 10:00 17/03/2026, renews automatically. To cancel text HUY ZL7 to 888."
    )
    assert plain.text == (
        "Dang ky thanh cong goi ZL7 (Mien phi data Zalo), cuoc 5.000d tru vao TK chinh."
        " Het han 10:00 17/03/2026, tu dong gia han. Huy: soan HUY ZL7 gui 888."
    )


async def test_provision_creates_then_updates_a_subscriber(catalog: Catalog) -> None:
    async with make_service(catalog, start=T0, default_balance=4000) as svc:
        created_view, created = await svc.provision(A, kind=None, balance=None, language=None)
        updated_view, created_again = await svc.provision(
            A, kind="postpaid", balance=None, language="en"
        )
        ledger = await svc.reads.ledger(A)

    assert (created, created_again) == (True, False)
    assert (created_view.subscriber.kind, created_view.subscriber.balance) == ("prepaid", 4000)
    assert (updated_view.subscriber.kind, updated_view.subscriber.language) == ("postpaid", "en")
    assert ledger == [LedgerEntry(A, 4000, 4000, "provision", T0)]


# --- top-ups and queries ---------------------------------------------------------------


async def test_a_top_up_for_an_unknown_number_fails_and_stores_nothing(catalog: Catalog) -> None:
    store = FakeStore()
    async with make_service(catalog, start=T0, store=store) as svc:
        with pytest.raises(UnknownSubscriber):
            await svc.topup(A, 5000)

    assert store.view().subscribers.get(A) is None
    assert store.view().billing.ledger(A) == []


async def test_a_top_up_adds_to_the_balance_with_a_ledger_entry(catalog: Catalog) -> None:
    async with make_service(catalog, start=T0, default_balance=4000) as svc:
        await svc.handle_sms(sms(A, "DK ZL7"))  # 4,000đ < 5,000đ: refused
        await svc.topup(A, 1000)
        result = await svc.handle_sms(sms(A, "DK ZL7"))
        ledger = await svc.reads.ledger(A)

    assert result.replies[0].text.startswith("Dang ky thanh cong goi ZL7 ")
    assert [(e.delta, e.balance_after, e.reason) for e in ledger] == [
        (4000, 4000, "provision"),
        (1000, 5000, "topup"),
        (-5000, 0, "charge"),
    ]


async def test_postpaid_invoice_through_the_service(catalog: Catalog) -> None:
    """ZL30 on 20/03 (7,500đ on March), advanced to 01/04 00:00 (15,000đ on April)."""
    async with make_service(catalog, start=local(2026, 3, 20, 10, 0)) as svc:
        await svc.provision(A, kind="postpaid", balance=0, language=None)
        await svc.handle_sms(sms(A, "DK ZL30"))
        await svc.advance(to=local(2026, 4, 1))

        march = await svc.reads.invoice(A, "2026-03")
        april = await svc.reads.invoice(A, "2026-04")
        balance = (await svc.reads.subscriber(A)).subscriber.balance

    assert [(x.amount, x.description, x.at) for x in march] == [
        (7500, "ZL30 registration", local(2026, 3, 20, 10, 0))
    ]
    assert [(x.amount, x.description, x.at) for x in april] == [
        (15_000, "ZL30 renewal", local(2026, 4, 1))
    ]
    assert balance == 0


# --- the outbox ------------------------------------------------------------------------


async def test_unpublished_replies_left_by_a_previous_run_are_published_at_start_up(
    catalog: Catalog,
) -> None:
    store, publisher = FakeStore(), FakePublisher()
    left_over = Outgoing("o1", "888", A, "left over", "m0", "GSM7", 1, T0)

    def leave(tx: Transaction) -> None:
        tx.outbox.add(left_over)

    await store.transaction(leave)

    async with make_service(catalog, start=T0, store=store, publisher=publisher) as svc:
        await svc.drained()

    assert publisher.messages == [left_over]
    assert store.view().outbox.unpublished(10) == []


async def test_publishing_is_retried_until_the_broker_accepts(catalog: Catalog) -> None:
    store, publisher = FakeStore(), FakePublisher(failures=1)
    async with make_service(
        catalog, start=T0, store=store, publisher=publisher, default_balance=4000
    ) as svc:
        result = await svc.handle_sms(sms(A, "DK ZL1"))
        await svc.drained()

    assert publisher.attempts == 2
    assert publisher.messages == result.replies
    assert store.view().outbox.unpublished(10) == []


async def test_error_events_go_to_the_publisher_and_its_failures_are_swallowed(
    catalog: Catalog,
) -> None:
    publisher = FakePublisher()
    async with make_service(catalog, start=T0, publisher=publisher) as svc:
        await svc.publish_error({"error": "invalid_msisdn", "value": "123"})

    class BrokenPublisher(FakePublisher):
        async def publish_error(self, event: dict[str, Any]) -> None:
            raise ConnectionError("broker down")

    async with make_service(catalog, start=T0, publisher=BrokenPublisher()) as svc:
        await svc.publish_error({"error": "invalid_msisdn", "value": "456"})

    assert publisher.errors == [{"error": "invalid_msisdn", "value": "123"}]


async def test_drained_returns_at_once_when_nothing_is_in_flight(catalog: Catalog) -> None:
    async with make_service(catalog, start=T0) as svc:
        async with asyncio.timeout(1):
            await svc.drained()
