"""Commands to 888 through the engine: DK, HUY, KTTK_ZL, help, and the reply languages.

Keywords are case-insensitive, extra spaces are ignored and Vietnamese diacritics
are folded (``HỦY zl7`` is ``HUY ZL7``). Anything not understood gets the help reply
with the commands and prices: never silence. Expected replies are the catalog's
templates filled in by hand.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from carrier_rules import Catalog, Language
from gateway.domain.encoding import layout
from tests.service.support import (
    HELP_EN,
    HELP_VI,
    HELP_VI_DIACRITICS,
    EngineHarness,
    local,
    make_engine,
)

A = "84912345678"
T0 = local(2026, 3, 10, 10, 0)
LATER = local(2026, 3, 10, 12, 0)


async def _prepaid(harness: EngineHarness, balance: int = 20_000) -> None:
    await harness.provision(A, at=T0, kind="prepaid", balance=balance)


# --- the grammar, as a subscriber experiences it ----------------------------------------


@pytest.mark.parametrize(
    "text",
    ["DK ZL7", "dk zl7", "  Dk   Zl7  ", "\tDK\nZL7 ", "ĐK ZL7", "đk zl7", "DANGKY ZL7"],
)
async def test_subscribe_is_case_space_and_diacritic_insensitive(
    harness: EngineHarness, text: str
) -> None:
    await _prepaid(harness)

    reply = await harness.reply(A, text, at=T0)

    assert reply.startswith("Dang ky thanh cong goi ZL7 ")
    assert [c.amount for c in harness.store.view().billing.charges(A)] == [5000]
    assert harness.subscriber(A).balance == 15_000


@pytest.mark.parametrize("text", ["HUY ZL7", "HỦY zl7", "huỷ ZL7", "  Hủy   Zl7 ", "hủy zl7"])
async def test_cancel_is_case_space_and_diacritic_insensitive(
    harness: EngineHarness, text: str
) -> None:
    await _prepaid(harness)
    await harness.send(A, "DK ZL7", at=T0)

    reply = await harness.reply(A, text, at=LATER)

    assert reply == (
        "Quy khach da huy thanh cong goi ZL7. Goi ngung hieu luc tu 12:00 10/03/2026"
        " va khong tu dong gia han."
    )
    assert harness.only_subscription(A).status == "cancelled"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("👍", id="emoji"),
        pytest.param("DK 👍", id="emoji-pack"),
        pytest.param("DK", id="keyword-alone"),
        pytest.param("HUY", id="cancel-alone"),
        pytest.param("DK ZL99", id="unknown-pack"),
        pytest.param("DK ZL1 ZL7", id="two-packs"),
        pytest.param("DKZL1", id="no-space"),
        pytest.param("ZL1", id="pack-alone"),
        pytest.param("HELLO", id="unknown-keyword"),
        pytest.param("KTTK", id="half-status"),
    ],
)
async def test_anything_not_understood_gets_the_help_reply(
    harness: EngineHarness, text: str
) -> None:
    """Unknown packs, unknown keywords, empty text and emoji: the commands with prices."""
    await _prepaid(harness)

    result = await harness.send(A, text, at=T0)

    assert [r.text for r in result.replies] == [HELP_VI]
    assert result.replies[0].encoding == "GSM7"
    assert harness.subscriptions(A) == []
    assert harness.store.view().billing.charges(A) == []
    assert harness.subscriber(A).balance == 20_000


@pytest.mark.parametrize("text", ["KTTK_ZL", "kttk_zl", "KTTK ZL", "  kttk   zl "])
async def test_status_without_a_pack_lists_the_commands(harness: EngineHarness, text: str) -> None:
    await _prepaid(harness)

    reply = await harness.reply(A, text, at=T0)

    assert reply == (
        "Quy khach chua dang ky goi Zalo. DK ZL1 (1.000d/ngay); DK ZL7 (5.000d/7 ngay);"
        " DK ZL30 (15.000d/thang). Soan tin gui 888."
    )


async def test_status_names_the_pack_its_expiry_and_renewal(harness: EngineHarness) -> None:
    await _prepaid(harness)
    await harness.send(A, "DK ZL7", at=T0)

    reply = await harness.reply(A, "KTTK_ZL", at=LATER)

    assert reply == (
        "Goi ZL7: het han 10:00 17/03/2026, tu dong gia han. Data Zalo da dung trong chu ky: 0 MB."
    )


# --- DK and HUY against what the subscriber already has ---------------------------------


async def test_dk_of_the_active_pack_says_already_registered_and_charges_nothing(
    harness: EngineHarness,
) -> None:
    await _prepaid(harness)
    await harness.send(A, "DK ZL7", at=T0)

    reply = await harness.reply(A, "DK ZL7", at=LATER)

    assert reply == (
        "Quy khach dang su dung goi ZL7, het han 10:00 17/03/2026. Khong can dang ky lai,"
        " Quy khach khong bi tru cuoc."
    )
    assert harness.subscriber(A).balance == 15_000
    assert [c.amount for c in harness.store.view().billing.charges(A)] == [5000]
    assert len(harness.subscriptions(A)) == 1


async def test_dk_of_another_zalo_pack_is_refused_with_how_to_cancel_first(
    harness: EngineHarness,
) -> None:
    await _prepaid(harness)
    await harness.send(A, "DK ZL1", at=T0)

    reply = await harness.reply(A, "DK ZL30", at=LATER)

    assert reply == (
        "Quy khach dang su dung goi ZL1. De dang ky goi ZL30, soan HUY ZL1 gui 888,"
        " sau do soan DK ZL30 gui 888."
    )
    assert harness.subscriber(A).balance == 19_000
    assert [s.package for s in harness.subscriptions(A)] == ["ZL1"]


async def test_huy_ends_the_pack_at_once_and_it_never_renews(harness: EngineHarness) -> None:
    await _prepaid(harness)
    await harness.send(A, "DK ZL7", at=T0)

    await harness.send(A, "HUY ZL7", at=LATER)
    due = await harness.run_due(local(2026, 4, 30))

    sub = harness.only_subscription(A)
    assert (sub.status, sub.auto_renew, sub.next_action_at) == ("cancelled", False, None)
    assert sub.cancelled_at == LATER
    assert sub.expires_at == LATER
    assert due.processed == 0
    assert harness.subscriber(A).balance == 15_000
    assert [c.reason for c in harness.store.view().billing.charges(A)] == ["registration"]


async def test_after_huy_the_pack_can_be_registered_again_and_is_charged_again(
    harness: EngineHarness,
) -> None:
    await _prepaid(harness)
    await harness.send(A, "DK ZL1", at=T0)
    await harness.send(A, "HUY ZL1", at=LATER)

    reply = await harness.reply(A, "DK ZL7", at=LATER + timedelta(minutes=1))

    assert reply.startswith("Dang ky thanh cong goi ZL7 ")
    assert harness.subscriber(A).balance == 14_000
    assert [(s.package, s.status) for s in harness.subscriptions(A)] == [
        ("ZL1", "cancelled"),
        ("ZL7", "active"),
    ]


@pytest.mark.parametrize("registered", [None, "ZL1"])
async def test_huy_of_a_pack_not_held_says_so_and_changes_nothing(
    harness: EngineHarness, registered: str | None
) -> None:
    await _prepaid(harness)
    if registered is not None:
        await harness.send(A, f"DK {registered}", at=T0)
    before = harness.store.view().subscriptions.all_of(A)

    reply = await harness.reply(A, "HUY ZL7", at=LATER)

    assert reply == "Quy khach chua dang ky goi ZL7. De dang ky soan DK ZL7 gui 888."
    assert harness.subscriptions(A) == before


# --- who may use 888 -------------------------------------------------------------------


async def test_without_auto_provision_an_unknown_number_is_told_and_nothing_is_stored(
    catalog: Catalog,
) -> None:
    harness = EngineHarness(make_engine(catalog, auto_provision=False, default_balance=4000))

    result = await harness.send(A, "DK ZL1", at=T0)

    assert [r.text for r in result.replies] == [
        "So thue bao 84912345678 khong phai thue bao Vinaphone, khong su dung duoc dich vu 888."
    ]
    view = harness.store.view()
    assert view.subscribers.get(A) is None
    assert view.subscriptions.all_of(A) == []
    assert view.billing.charges(A) == []
    assert view.billing.ledger(A) == []
    assert view.reports.stats()["subscribers"] == 0


async def test_without_auto_provision_a_provisioned_subscriber_is_served(
    catalog: Catalog,
) -> None:
    harness = EngineHarness(make_engine(catalog, auto_provision=False, default_balance=4000))
    await harness.provision(A, at=T0, kind="prepaid", balance=1000)

    reply = await harness.reply(A, "DK ZL1", at=T0)

    assert reply.startswith("Dang ky thanh cong goi ZL1 ")
    assert harness.subscriber(A).balance == 0


# --- languages -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "help_text", "encoding"),
    [
        ("vi", HELP_VI, "GSM7"),
        ("vi-diacritics", HELP_VI_DIACRITICS, "UCS2"),
        ("en", HELP_EN, "GSM7"),
    ],
)
async def test_help_in_each_language(
    harness: EngineHarness, language: Language, help_text: str, encoding: str
) -> None:
    await harness.provision(A, at=T0, kind="prepaid", balance=0, language=language)

    (reply,) = (await harness.send(A, "?", at=T0)).replies

    assert (reply.text, reply.encoding) == (help_text, encoding)


async def test_vi_diacritics_subscriber_gets_ucs2_confirmations(harness: EngineHarness) -> None:
    await harness.provision(A, at=T0, kind="prepaid", balance=10_000, language="vi-diacritics")

    (registered,) = (await harness.send(A, "ĐK ZL1", at=T0)).replies
    (cancelled,) = (await harness.send(A, "Hủy ZL1", at=LATER)).replies

    assert registered.text == (
        "Đăng ký thành công gói ZL1 (Miễn phí data Zalo), cước 1.000đ trừ vào TK chính."
        " Hết hạn 10:00 11/03/2026, tự động gia hạn. Hủy: soạn HUY ZL1 gửi 888."
    )
    assert cancelled.text == (
        "Quý khách đã hủy thành công gói ZL1. Gói ngưng hiệu lực từ 12:00 10/03/2026"
        " và không tự động gia hạn."
    )
    assert (registered.encoding, cancelled.encoding) == ("UCS2", "UCS2")


async def test_english_subscriber_gets_english_replies(harness: EngineHarness) -> None:
    await harness.provision(A, at=T0, kind="prepaid", balance=10_000, language="en")

    refused = await harness.reply(A, "DK ZL30", at=T0)
    registered = await harness.reply(A, "DK ZL7", at=T0)
    cancelled = await harness.reply(A, "HUY ZL7", at=LATER)

    assert refused == (
        "Could not register ZL30: your main balance (10,000 VND) is less than 15,000 VND."
        " Please top up and try again."
    )
    assert registered == (
        "ZL7 registered (Free Zalo data), 5,000 VND deducted from your main balance."
        " Expires 10:00 17/03/2026, renews automatically. To cancel text HUY ZL7 to 888."
    )
    assert cancelled == "ZL7 is cancelled. It ended at 12:00 10/03/2026 and will not renew."


async def test_every_default_language_reply_is_gsm7(harness: EngineHarness) -> None:
    """Plain "vi" has no diacritics, so every reply fits the GSM 03.38 alphabet."""
    await _prepaid(harness, balance=1000)
    texts = ["DK ZL30", "DK ZL1", "DK ZL1", "DK ZL7", "KTTK_ZL", "HUY ZL7", "HUY ZL1", "xin chào"]

    replies = [r for t in texts for r in (await harness.send(A, t, at=T0)).replies]

    assert len(replies) == len(texts)
    assert {r.encoding for r in replies} == {"GSM7"}
    assert all(layout(r.text).encoding == "GSM7" for r in replies)


# --- exactly once per (sender, client id) ----------------------------------------------


async def test_the_same_client_id_from_the_same_sender_is_processed_once(
    harness: EngineHarness,
) -> None:
    await _prepaid(harness)
    first = await harness.send(A, "DK ZL1", at=T0, id="abc")

    again = await harness.send(A, "DK ZL1", at=LATER, id="abc")

    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.replies == first.replies
    assert harness.subscriber(A).balance == 19_000
    assert len(harness.store.view().billing.charges(A)) == 1


async def test_the_same_client_id_from_another_sender_is_a_new_message(
    harness: EngineHarness,
) -> None:
    b = "84912000002"
    await _prepaid(harness)
    await harness.provision(b, at=T0, kind="prepaid", balance=20_000)
    await harness.send(A, "DK ZL1", at=T0, id="abc")

    other = await harness.send(b, "DK ZL1", at=T0, id="abc")

    assert not other.duplicate
    assert harness.subscriber(b).balance == 19_000
