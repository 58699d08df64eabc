"""Closing an account through the support desk, against a real SQLite file: the SMS code.

Seed 003: an account is cancelled through a support ticket, by the portal or by mail to
the support address. The request is verified, then processed, and the ticket is
``Closed``; every status update goes out by email. The verification is a one-time code
sent by SMS to the account's MSISDN (support.toml: 6 digits, valid 10 minutes, 3
attempts, at most 3 codes per ticket). Closing the account cancels its packs under the
normal cancellation rules (seed 004, docs/rules.md P4) and keeps its data.

Each scenario runs the shipped Zalo catalog and support policy on a fresh SQLite file, with
fixed codes; every amount and instant is worked out by hand in local time (UTC+7). An
account without a language gets the policy's default, ``vi`` (no diacritics).
"""

from __future__ import annotations

from datetime import datetime

import pytest

from carrier_rules import Language
from tests.integration.desk_support import (
    A_MAIL,
    A_MASKED,
    ASKED,
    CATEGORY,
    CLOSURE_TITLE,
    CODE,
    P_MAIL,
    P_MASKED,
    SUPPORT,
    T0,
    A,
    DeskHarness,
    P,
    account_closed_sms,
    account_closed_subject,
    answer,
    by_subject,
    closed_body,
    closed_subject,
    closure_request,
    expired_body,
    expired_subject,
    opened_subject,
    start_verifying,
    verification_sms,
    verifying_subject,
    wrong_code_body,
    wrong_code_subject,
)
from tests.service.support import local

# --- the whole story by email ------------------------------------------------------------


async def test_a_subscriber_closes_the_account_by_mail_and_a_code_sent_by_sms(
    h: DeskHarness,
) -> None:
    """Seed 003 case 2 from the subscriber's own address: open -> verifying -> closed.

    ZL7 on 10/03 10:00 with 20,000đ (15,000đ left, ends 17/03 10:00). "Hủy tài khoản" on
    12/03 09:00 opens ticket #1, mails "opened" and "verifying", and texts the code to the
    account's MSISDN from 888. The reply with the code at 09:05 closes the account: ZL7 is
    cancelled at 09:05 (prepaid: no refund, 15,000đ stays), an SMS and an "account
    closed" mail say so (the mail with ZL7's cancellation text), and the data (charges,
    ledger, address) is kept.
    """
    await h.provision(A, at=T0, email=A_MAIL)
    await h.send(A, "DK ZL7", at=T0)

    opened = await h.receive(closure_request(A_MAIL, message_id="req-1@example.com"), at=ASKED)

    assert (opened.created, opened.duplicate, opened.verify) == (True, False, None)
    ticket = await h.ticket(1)
    assert (ticket.kind, ticket.source, ticket.status, ticket.requester, ticket.msisdn) == (
        "account_closure",
        "email",
        "verifying",
        A_MAIL,
        A,
    )
    assert (ticket.product, ticket.category, ticket.title) == ("Other", CATEGORY, CLOSURE_TITLE)
    assert ticket.otp_expires_at == local(2026, 3, 12, 9, 10), "09:00 + 10 minutes"
    assert ticket.otp_hash is not None
    assert CODE not in ticket.otp_hash, "only a hash of the code is stored"
    assert ticket.codes_sent == 1
    assert h.codes.digits_asked == [6]
    (code_sms,) = opened.outgoing
    assert (code_sms.shortcode, code_sms.msisdn, code_sms.text, code_sms.in_reply_to) == (
        "888",
        A,
        verification_sms(1, CODE),
        None,
    )
    assert code_sms in await h.unpublished(), "the SMS is committed with the ticket"
    mails = await h.mails(1)
    assert [m.subject for m in mails] == [
        opened_subject(1, CLOSURE_TITLE),
        verifying_subject(1, CLOSURE_TITLE),
    ]
    assert {(m.sender, m.sender_name, m.to, m.kind, m.ticket_id, m.msisdn) for m in mails} == {
        (SUPPORT, "Customer support", (A_MAIL,), "ticket", 1, A)
    }
    assert [m.in_reply_to for m in mails] == ["req-1@example.com", "req-1@example.com"]
    assert mails[1].body == (
        f"Chung toi da gui ma xac nhan qua SMS toi so {A_MASKED}."
        " Vui long tra loi email nay bang ma do trong 10 phut.\nTrang thai: Verifying."
    )
    assert CODE not in mails[0].body + mails[1].body, "the code goes only by SMS"

    done_at = local(2026, 3, 12, 9, 5)
    reply = answer(mails[1], A_MAIL, f"Mã của tôi là {CODE}", message_id="req-2@example.com")
    assert reply.replies_to == (f"{mails[1].id}@sms.local",)
    closed = await h.receive(reply, at=done_at)

    assert (closed.created, closed.verify) == (False, "closed")
    ticket = await h.ticket(1)
    assert (ticket.status, ticket.closed_at, ticket.otp_hash, ticket.otp_expires_at) == (
        "closed",
        done_at,
        None,
        None,
    )
    assert ticket.resolution == "account closed; packs cancelled: ZL7"
    assert [(m.shortcode, m.msisdn, m.text) for m in closed.outgoing] == [
        ("888", A, account_closed_sms(1, A_MASKED, "ZL7"))
    ]
    mails = await h.mails(1)
    assert [m.subject for m in mails] == [
        opened_subject(1, CLOSURE_TITLE),
        verifying_subject(1, CLOSURE_TITLE),
        account_closed_subject(1, CLOSURE_TITLE),
    ]
    assert (mails[2].to, mails[2].in_reply_to, mails[2].references, mails[2].at) == (
        (A_MAIL,),
        "req-2@example.com",
        ("req-2@example.com",),
        done_at,
    )
    # zalo.toml [templates.vi].cancelled, at = 09:05 12/03/2026; prepaid: no correction line
    assert mails[2].body == (
        f"Yeu cau #1 da duoc xu ly xong va tai khoan {A_MASKED} da duoc xoa khoi he thong.\n"
        "Cac goi da huy: ZL7.\n"
        "Quy khach da huy thanh cong goi ZL7. Goi ngung hieu luc tu 09:05 12/03/2026"
        " va khong tu dong gia han.\n"
        "Vui long luu email nay de doi chieu khi can. Trang thai: Closed."
    )
    assert await h.events(1) == [
        ("open", f"opened by email from {A_MAIL}"),
        ("verifying", f"code sent by SMS to {A_MASKED}"),
        ("verifying", f"reply from {A_MAIL}"),
        ("closed", f"verified; account {A} closed"),
    ]

    subscriber = await h.subscriber(A)
    assert (subscriber.status, subscriber.closed_at, subscriber.email, subscriber.balance) == (
        "closed",
        done_at,
        A_MAIL,
        15_000,
    )
    (sub,) = await h.subscriptions(A)
    assert (sub.status, sub.cancelled_at, sub.expires_at, sub.auto_renew, sub.next_action_at) == (
        "cancelled",
        done_at,
        done_at,
        False,
        None,
    )
    assert [(c.amount, c.reason, c.at) for c in await h.charges(A)] == [(5000, "registration", T0)]
    assert await h.by_email(A_MAIL) is None, "the address no longer opens an account"
    after = await h.send(A, "DK ZL7", at=local(2026, 3, 13, 9, 0))
    assert [r.text for r in after.replies] == [
        f"Tai khoan {A} da dong, khong su dung duoc dich vu 888. Lien he support de duoc ho tro."
    ]
    assert len(await h.charges(A)) == 1


async def test_closing_a_postpaid_account_before_the_16th_applies_the_cancellation_rule(
    h: DeskHarness,
) -> None:
    """Postpaid ZL30 registered on 10/03 10:00, the account closed on 12/03 at 14:03.

    Seed 004: registered before the 16th, 100% of 15,000đ goes on the March invoice.
    Cancelled before the 16th ("hủy gói trước ngày 16"), the month costs 50%:
    15,000 × 50% = 7,500đ, so the closure adds a 7,500 − 15,000 = −7,500đ correction and
    March totals 15,000 − 7,500 = 7,500đ. That is what ``HUY ZL30`` at the same instant
    gives (a second subscriber, Q, does exactly that, for comparison), and the "account
    closed" mail carries the same text as Q's HUY reply, correction line included:
    "Cuoc goi ZL30 thang 03/2026 tinh 7.500d."
    """
    q = "84918000002"
    await h.provision(P, at=T0, email=P_MAIL, kind="postpaid", balance=0)
    await h.provision(q, at=T0, email=None, kind="postpaid", balance=0)
    await h.send(P, "DK ZL30", at=T0)
    await h.send(q, "DK ZL30", at=T0)
    asked, done_at = local(2026, 3, 12, 14, 0), local(2026, 3, 12, 14, 3)

    await h.receive(closure_request(P_MAIL, message_id="p-1@example.com"), at=asked)
    verifying = by_subject(await h.mails(1), verifying_subject(1, CLOSURE_TITLE))
    result = await h.receive(
        answer(verifying, P_MAIL, CODE, message_id="p-2@example.com"), at=done_at
    )
    huy = await h.send(q, "HUY ZL30", at=done_at)

    assert result.verify == "closed"
    ticket = await h.ticket(1)
    assert (ticket.status, ticket.resolution) == ("closed", "account closed; packs cancelled: ZL30")
    march = await h.invoice(P, "2026-03")
    assert [(x.amount, x.description, x.at) for x in march] == [
        (15_000, "ZL30 registration", T0),
        (-7500, "ZL30 cancellation", done_at),
    ]
    assert sum(x.amount for x in march) == 7500
    _, correction = await h.charges(P)
    assert (correction.reason, correction.rule, correction.amount, correction.message_id) == (
        "cancellation",
        "postpaid_cancel_before_day_16_50pct",
        -7500,
        None,
    )
    assert [(x.amount, x.description) for x in march] == [
        (x.amount, x.description) for x in await h.invoice(q, "2026-03")
    ], "the same as HUY ZL30"
    (sub,) = await h.subscriptions(P)
    assert (sub.status, sub.next_action_at) == ("cancelled", None)
    assert await h.invoice(P, "2026-04") == []
    assert (await h.subscriber(P)).status == "closed"
    assert [m.text for m in result.outgoing] == [account_closed_sms(1, P_MASKED, "ZL30")]
    cancellation = (
        "Quy khach da huy thanh cong goi ZL30. Goi ngung hieu luc tu 14:03 12/03/2026"
        " va khong tu dong gia han. Cuoc goi ZL30 thang 03/2026 tinh 7.500d."
    )
    assert [r.text for r in huy.replies] == [cancellation]
    closed_mail = (await h.mails(1))[-1]
    assert closed_mail.subject == account_closed_subject(1, CLOSURE_TITLE)
    assert closed_mail.body == (
        f"Yeu cau #1 da duoc xu ly xong va tai khoan {P_MASKED} da duoc xoa khoi he thong.\n"
        f"Cac goi da huy: ZL30.\n{cancellation}\n"
        "Vui long luu email nay de doi chieu khi can. Trang thai: Closed."
    )


@pytest.mark.parametrize(
    ("language", "code_sms", "subject", "closed_sms"),
    [
        pytest.param(
            "vi-diacritics",
            "Mã xác nhận yêu cầu đóng tài khoản (phiếu #1) là 123456, hiệu lực 10 phút."
            " Trả lời email phiếu hỗ trợ bằng mã này. Không chia sẻ mã cho người khác.",
            f"[#1] Xác minh tài khoản: {CLOSURE_TITLE}",
            f"Tài khoản {A_MASKED} đã được đóng theo yêu cầu #1. Các gói đã hủy: ZL7.",
            id="vi-diacritics",
        ),
        pytest.param(
            "en",
            "Your code to confirm closing your account (ticket #1) is 123456, valid 10 minutes."
            " Reply to the ticket email with it. Never share this code.",
            f"[#1] Verify your account: {CLOSURE_TITLE}",
            f"Account {A_MASKED} was closed as requested in ticket #1. Packs cancelled: ZL7.",
            id="en",
        ),
    ],
)
async def test_an_account_with_a_language_gets_the_desk_texts_in_it(
    h: DeskHarness, language: Language | None, code_sms: str, subject: str, closed_sms: str
) -> None:
    """The code SMS, the mails and the closing SMS follow the account's language (every other
    test here shows an account without one, which gets ``vi``, the policy's default)."""
    await h.provision(A, at=T0, email=A_MAIL, language=language)
    await h.send(A, "DK ZL7", at=T0)

    opened = await h.receive(closure_request(A_MAIL, message_id="req-1@example.com"), at=ASKED)
    verifying = (await h.mails(1))[-1]
    closed = await h.receive(
        answer(verifying, A_MAIL, CODE, message_id="req-2@example.com"),
        at=local(2026, 3, 12, 9, 5),
    )

    assert [m.text for m in opened.outgoing] == [code_sms]
    assert verifying.subject == subject
    assert [m.text for m in closed.outgoing] == [closed_sms]


# --- verification: wrong codes, expiry, too many codes -------------------------------------


async def test_two_wrong_codes_then_the_right_one_closes_the_account(h: DeskHarness) -> None:
    """Three attempts are allowed: each wrong one is mailed with the attempts left (3 − 1 = 2,
    then 3 − 2 = 1); the third, right, closes the account."""
    verifying = await start_verifying(h)

    first = await h.receive(
        answer(verifying, A_MAIL, "000000", message_id="r1@example.com"), at=ASKED
    )
    second = await h.receive(
        answer(verifying, A_MAIL, "Xin lỗi, mã là 999999", message_id="r2@example.com"),
        at=local(2026, 3, 12, 9, 1),
    )

    assert (first.verify, second.verify) == ("wrong_code", "wrong_code")
    ticket = await h.ticket(1)
    assert (ticket.status, ticket.otp_attempts) == ("verifying", 2)
    wrong = [m for m in await h.mails(1) if m.subject == wrong_code_subject(1)]
    assert [m.body for m in wrong] == [wrong_code_body(1, 2), wrong_code_body(1, 1)]
    assert [m.in_reply_to for m in wrong] == ["r1@example.com", "r2@example.com"]
    assert first.outgoing == second.outgoing == []

    third = await h.receive(
        answer(verifying, A_MAIL, CODE, message_id="r3@example.com"), at=local(2026, 3, 12, 9, 2)
    )

    assert third.verify == "closed"
    assert (await h.ticket(1)).status == "closed"
    assert (await h.subscriber(A)).status == "closed"
    assert (await h.subjects(1))[-1] == account_closed_subject(1, CLOSURE_TITLE)


async def test_three_wrong_codes_reopen_the_ticket_and_a_later_reply_gets_a_fresh_code(
    h: DeskHarness,
) -> None:
    """The third wrong code ends the verification: the ticket is ``open`` again with a "code
    expired" mail, the old code is void, and the next reply sends a new one (the second of
    three, valid 10 minutes from that reply, 3 attempts again)."""
    h.codes.queued.extend([CODE, "654321"])
    verifying = await start_verifying(h)
    for n, wrong in enumerate(["000001", "000002", "000003"], start=1):
        await h.receive(
            answer(verifying, A_MAIL, wrong, message_id=f"w{n}@example.com"),
            at=local(2026, 3, 12, 9, n),
        )

    ticket = await h.ticket(1)
    assert (ticket.status, ticket.otp_hash, ticket.otp_expires_at) == ("open", None, None)
    assert await h.subjects(1) == [
        opened_subject(1, CLOSURE_TITLE),
        verifying_subject(1, CLOSURE_TITLE),
        wrong_code_subject(1),
        wrong_code_subject(1),
        expired_subject(1),
    ]
    assert (await h.events(1))[-1] == ("open", "too many wrong codes")
    assert (await h.subscriber(A)).status == "active"

    expired = by_subject(await h.mails(1), expired_subject(1))
    again_at = local(2026, 3, 12, 9, 30)
    again = await h.receive(
        answer(expired, A_MAIL, "Gửi lại mã giúp tôi.", message_id="w4@example.com"), at=again_at
    )

    assert [(m.msisdn, m.text) for m in again.outgoing] == [(A, verification_sms(1, "654321"))]
    ticket = await h.ticket(1)
    assert (ticket.status, ticket.otp_attempts, ticket.otp_expires_at, ticket.codes_sent) == (
        "verifying",
        0,
        local(2026, 3, 12, 9, 40),
        2,
    )
    fresh = (await h.mails(1))[-1]
    assert fresh.subject == verifying_subject(1, CLOSURE_TITLE)
    assert fresh.in_reply_to == "w4@example.com"

    old = await h.receive(
        answer(fresh, A_MAIL, CODE, message_id="w5@example.com"), at=local(2026, 3, 12, 9, 31)
    )
    new = await h.receive(
        answer(fresh, A_MAIL, "654321", message_id="w6@example.com"),
        at=local(2026, 3, 12, 9, 32),
    )

    assert (old.verify, new.verify) == ("wrong_code", "closed")
    assert (await h.subscriber(A)).status == "closed"


async def test_a_fourth_code_is_never_sent_the_ticket_closes_unverified(h: DeskHarness) -> None:
    """At most 3 codes per ticket (``max_codes``): three failed rounds, then a reply that
    would need a fourth code closes the ticket instead, with a "resolved" mail and no SMS.

    Round 1: 111111 sent 09:00 (valid to 09:10), three wrong codes 09:01-09:03 -> open.
    Round 2: 222222 sent 09:20 (valid to 09:30), the right code at 09:31 is too late -> open.
    Round 3: 333333 sent 09:40 (valid to 09:50), three wrong codes 09:41-09:43 -> open.
    10:00: the reply asking again closes #1 ("3 codes sent without a match"); account A and
    its ZL7 are untouched. Writing again (10:05) opens #2 with a code of its own.
    """
    h.codes.queued.extend(["111111", "222222", "333333"])
    verifying = await start_verifying(h)

    async def three_wrong_codes(minute: int, round_: int) -> None:
        for n in (1, 2, 3):
            result = await h.receive(
                answer(verifying, A_MAIL, f"00000{n}", message_id=f"r{round_}-{n}@example.com"),
                at=local(2026, 3, 12, 9, minute + n),
            )
            assert result.verify == ("expired" if n == 3 else "wrong_code")

    async def ask_again(at: datetime, message_id: str) -> list[str]:
        last = (await h.mails(1))[-1]
        result = await h.receive(answer(last, A_MAIL, "Gửi lại mã.", message_id=message_id), at=at)
        return [m.text for m in result.outgoing]

    await three_wrong_codes(0, 1)
    assert await ask_again(local(2026, 3, 12, 9, 20), "again-2@example.com") == [
        verification_sms(1, "222222")
    ]
    late = await h.receive(
        answer(verifying, A_MAIL, "222222", message_id="late@example.com"),
        at=local(2026, 3, 12, 9, 31),
    )
    assert late.verify == "expired"
    assert (await h.events(1))[-1] == ("open", "code expired")
    assert await ask_again(local(2026, 3, 12, 9, 40), "again-3@example.com") == [
        verification_sms(1, "333333")
    ]
    await three_wrong_codes(40, 3)
    ticket = await h.ticket(1)
    assert (ticket.status, ticket.codes_sent) == ("open", 3)

    last_at = local(2026, 3, 12, 10, 0)
    assert await ask_again(last_at, "again-4@example.com") == [], "no fourth code"

    ticket = await h.ticket(1)
    resolution = "not verified: 3 codes sent without a match; write again to open a new request"
    assert (ticket.status, ticket.resolution, ticket.closed_at, ticket.codes_sent) == (
        "closed",
        resolution,
        last_at,
        3,
    )
    assert (ticket.otp_hash, ticket.otp_expires_at, h.codes.digits_asked) == (None, None, [6, 6, 6])
    codes_texted = [m.text for m in await h.unpublished() if m.text.startswith("Ma xac nhan")]
    assert codes_texted == [verification_sms(1, c) for c in ("111111", "222222", "333333")]
    closing = (await h.mails(1))[-1]
    assert (closing.subject, closing.in_reply_to) == (
        closed_subject(1, CLOSURE_TITLE),
        "again-4@example.com",
    )
    assert closing.body == closed_body(1, resolution)
    assert (await h.events(1))[-2:] == [
        ("open", f"reply from {A_MAIL}"),
        ("closed", "verification abandoned: too many codes"),
    ]
    assert (await h.subscriber(A)).status == "active"
    assert [s.status for s in await h.subscriptions(A)] == ["active"]

    anew = await h.receive(
        answer(closing, A_MAIL, "Tôi vẫn muốn hủy.", message_id="anew@example.com"),
        at=local(2026, 3, 12, 10, 5),
    )

    assert (anew.created, anew.ticket.id, anew.ticket.status, anew.ticket.codes_sent) == (
        True,
        2,
        "verifying",
        1,
    )
    assert [m.text for m in anew.outgoing] == [verification_sms(2, CODE)]


async def test_a_reply_without_a_code_is_told_so_without_using_an_attempt(h: DeskHarness) -> None:
    """A reply with no 6-digit number is answered with the "wrong code" mail showing all 3
    attempts still left; the attempt count stays 0."""
    verifying = await start_verifying(h)

    result = await h.receive(
        answer(verifying, A_MAIL, "Tôi chưa nhận được tin nhắn.", message_id="n1@example.com"),
        at=local(2026, 3, 12, 9, 1),
    )

    assert result.verify is None
    ticket = await h.ticket(1)
    assert (ticket.status, ticket.otp_attempts) == ("verifying", 0)
    assert (await h.mails(1))[-1].body == wrong_code_body(1, 3)


@pytest.mark.parametrize(
    ("replied_at", "outcome", "ticket_status", "account_status"),
    [
        pytest.param(local(2026, 3, 12, 9, 9, 59), "closed", "closed", "closed", id="9m59s"),
        pytest.param(local(2026, 3, 12, 9, 11), "expired", "open", "active", id="11m"),
    ],
)
async def test_the_code_is_valid_ten_minutes(
    h: DeskHarness,
    replied_at: datetime,
    outcome: str,
    ticket_status: str,
    account_status: str,
) -> None:
    """Sent at 09:00, valid 10 minutes (until 09:10): the right code at 09:09:59 closes the
    account; at 09:11 it has expired, the ticket goes back to ``open`` and is mailed so."""
    verifying = await start_verifying(h)

    result = await h.receive(
        answer(verifying, A_MAIL, CODE, message_id="late@example.com"), at=replied_at
    )

    assert result.verify == outcome
    ticket = await h.ticket(1)
    assert ticket.status == ticket_status
    assert (await h.subscriber(A)).status == account_status
    last = (await h.mails(1))[-1]
    if outcome == "expired":
        assert last.subject == expired_subject(1)
        assert last.body == expired_body(1)
        assert ticket.otp_attempts == 0, "an expired code is not a wrong attempt"
        assert (await h.events(1))[-1] == ("open", "code expired")
        (sub,) = await h.subscriptions(A)
        assert sub.status == "active"
        assert result.outgoing == []
    else:
        assert last.subject == account_closed_subject(1, CLOSURE_TITLE)
