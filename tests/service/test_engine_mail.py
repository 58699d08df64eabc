"""Confirmation emails from the engine: one mail per event, to subscribers with an address.

Besides the SMS, a subscriber with an email gets a confirmation for a registration,
a renewal, a renewal that could not be paid (once: the silent retries do not mail
again), giving up on it, and a cancellation. The registration, renewal and
cancellation confirmations ask the subscriber to keep them (seed 002: the
cancellation is "confirmed by email", to keep "for your records": *Simpan e-mel ini
untuk rekod masa hadapan*). A command that came by email is also answered by email,
in its thread. A closed account (seed 003) keeps its data but is read-only.

Amounts and dates come from seed 004 (ZL7: 5.000 đ/lần, 07 ngày; ZL30: 15.000 đ/lần)
and docs/rules.md, worked out by hand in local time (UTC+7). Mail bodies are the
``[emails.*]`` templates of zalo.toml filled in by hand.
"""

from __future__ import annotations

import pytest

from carrier_rules import Language
from gateway.domain.mail import OutgoingMail
from gateway.domain.model import EmailOrigin, InboundSms, Outgoing
from gateway.errors import AccountClosed, EmailInUse
from gateway.service.engine import SmsResult
from gateway.service.ports import Transaction
from tests.service.support import EngineHarness, local, sms

A = "84912345678"
B = "84912000002"
A_MAIL = "an@example.com"
T0 = local(2026, 3, 10, 10, 0)

REGISTERED_ZL7 = (
    "Dang ky thanh cong goi ZL7 (Mien phi data Zalo), cuoc 5.000d tru vao TK chinh."
    " Het han 10:00 17/03/2026, tu dong gia han. Huy: soan HUY ZL7 gui 888."
)


async def _provision(
    harness: EngineHarness,
    msisdn: str,
    *,
    email: str | None,
    balance: int,
    language: Language | None = None,
) -> None:
    await harness.store.transaction(
        lambda tx: harness.engine.provision(
            tx, msisdn, kind="prepaid", balance=balance, language=language, now=T0, email=email
        )
    )


def _mails(harness: EngineHarness) -> list[OutgoingMail]:
    """Every recorded mail, oldest first."""
    return [stored.mail for stored in reversed(harness.store.view().mailbox.newest(1000))]


def _vi_body(msisdn: str, text: str, *, keep: bool) -> str:
    """``[emails.vi.*]``: the greeting, the SMS text, the "keep this email" line, the sign-off."""
    keep_line = "Vui long luu email nay de doi chieu khi can.\n" if keep else ""
    return f"Kinh gui Quy khach {msisdn},\n\n{text}\n\n{keep_line}Vinaphone - dau so 888"


async def test_registration_mails_a_confirmation_that_contains_the_sms(
    harness: EngineHarness,
) -> None:
    """DK ZL7 at 10:00 10/03 with 10,000đ: 5,000đ charged, expires 10 + 7 = 17/03 10:00."""
    await _provision(harness, A, email=A_MAIL, balance=10_000)

    reply = await harness.reply(A, "DK ZL7", at=T0)

    assert reply == REGISTERED_ZL7
    (mail,) = _mails(harness)
    assert mail == OutgoingMail(
        id=mail.id,
        sender="888@sms.local",
        sender_name="Vinaphone 888",
        to=(A_MAIL,),
        subject="Xac nhan dang ky goi ZL7",
        body=_vi_body(A, REGISTERED_ZL7, keep=True),
        at=T0,
        kind="registered",
        msisdn=A,
    )
    assert harness.store.view().mailbox.get(mail.id) is not None
    assert harness.store.view().mail.due(T0, 10)[0].status == "queued"


async def test_renewal_failure_and_giving_up_are_each_mailed_once(
    harness: EngineHarness,
) -> None:
    """ZL7 at 10:00 10/03 with 10,000đ (5,000đ left), the rules.md R2 example.

    * 17/03 10:00 (10 + 7): renewed for 5,000đ, 0đ left, until 24/03 10:00: mailed.
    * 24/03 10:00: 0đ < 5,000đ, the renewal fails: one mail.
    * 25/03 .. 30/03 10:00: six silent retries (every 24 h): no mail.
    * 31/03 10:00 = 24/03 + 7 days: the last attempt fails, the pack expires: mailed.
    """
    await _provision(harness, A, email=A_MAIL, balance=10_000)
    await harness.send(A, "DK ZL7", at=T0)

    renewed = await harness.run_due(local(2026, 3, 17, 10, 0))
    failing = await harness.run_due(local(2026, 3, 30, 23, 59))
    gave_up = await harness.run_due(local(2026, 3, 31, 10, 0))

    renewed_text = (
        "Goi ZL7 da duoc gia han, cuoc 5.000d tru vao TK chinh. Het han 10:00 24/03/2026."
        " Huy: soan HUY ZL7 gui 888."
    )
    failed_text = (
        "Gia han goi ZL7 khong thanh cong do TK chinh (0d) khong du 5.000d."
        " Goi tam ngung va se duoc gia han khi Quy khach nap tien."
    )
    gave_up_text = (
        "Goi ZL7 da het han do khong du tien gia han. De dang ky lai soan DK ZL7 gui 888."
    )
    assert [m.text for m in renewed.outgoing] == [renewed_text]
    assert failing.processed == 7, "the failure on 24/03 and six retries, 25/03 to 30/03"
    assert [m.text for m in failing.outgoing] == [failed_text]
    assert [m.text for m in gave_up.outgoing] == [gave_up_text]
    assert [(m.kind, m.subject, m.body, m.at, m.to) for m in _mails(harness)] == [
        (
            "registered",
            "Xac nhan dang ky goi ZL7",
            _vi_body(A, REGISTERED_ZL7, keep=True),
            T0,
            (A_MAIL,),
        ),
        (
            "renewed",
            "Xac nhan gia han goi ZL7",
            _vi_body(A, renewed_text, keep=True),
            local(2026, 3, 17, 10, 0),
            (A_MAIL,),
        ),
        (
            "renewal_failed",
            "Gia han goi ZL7 khong thanh cong",
            _vi_body(A, failed_text, keep=False),
            local(2026, 3, 24, 10, 0),
            (A_MAIL,),
        ),
        (
            "renewal_gave_up",
            "Goi ZL7 da het han",
            _vi_body(A, gave_up_text, keep=False),
            local(2026, 3, 31, 10, 0),
            (A_MAIL,),
        ),
    ]
    assert harness.only_subscription(A).status == "expired"


@pytest.mark.parametrize(
    ("language", "subject", "sms_text", "keep"),
    [
        pytest.param(
            "vi",
            "Xac nhan huy goi ZL7",
            "Quy khach da huy thanh cong goi ZL7. Goi ngung hieu luc tu 12:00 10/03/2026"
            " va khong tu dong gia han.",
            "Vui long luu email nay de doi chieu khi can.",
            id="vi",
        ),
        pytest.param(
            "vi-diacritics",
            "Xác nhận hủy gói ZL7",
            "Quý khách đã hủy thành công gói ZL7. Gói ngưng hiệu lực từ 12:00 10/03/2026"
            " và không tự động gia hạn.",
            "Vui lòng lưu email này để đối chiếu khi cần.",
            id="vi-diacritics",
        ),
        pytest.param(
            "en",
            "ZL7 cancellation confirmed",
            "ZL7 is cancelled. It ended at 12:00 10/03/2026 and will not renew.",
            "Please keep this email for your records.",
            id="en",
        ),
    ],
)
async def test_cancellation_is_confirmed_by_an_email_to_keep(
    harness: EngineHarness, language: Language, subject: str, sms_text: str, keep: str
) -> None:
    """Seed 002: the cancellation is confirmed by email, and the user keeps that email."""
    await _provision(harness, A, email=A_MAIL, balance=10_000, language=language)
    await harness.send(A, "DK ZL7", at=T0)

    reply = await harness.reply(A, "HUY ZL7", at=local(2026, 3, 10, 12, 0))

    assert reply == sms_text
    registered, cancelled = _mails(harness)
    assert registered.kind == "registered"
    assert (cancelled.kind, cancelled.subject, cancelled.to, cancelled.at) == (
        "cancelled",
        subject,
        (A_MAIL,),
        local(2026, 3, 10, 12, 0),
    )
    assert sms_text in cancelled.body
    assert keep in cancelled.body


async def test_a_postpaid_cancellation_mail_names_the_corrected_charge(
    harness: EngineHarness,
) -> None:
    """Postpaid ZL30 on 10/03 (before the 16th: 15,000đ), HUY on 12/03 (before the 16th:
    the month costs 50%, 15,000 × 50% = 7,500đ): the mail carries the whole SMS."""
    await harness.store.transaction(
        lambda tx: harness.engine.provision(
            tx, A, kind="postpaid", balance=0, language=None, now=T0, email=A_MAIL
        )
    )
    await harness.send(A, "DK ZL30", at=T0)

    reply = await harness.reply(A, "HUY ZL30", at=local(2026, 3, 12, 9, 0))

    expected = (
        "Quy khach da huy thanh cong goi ZL30. Goi ngung hieu luc tu 09:00 12/03/2026"
        " va khong tu dong gia han. Cuoc goi ZL30 thang 03/2026 tinh 7.500d."
    )
    assert reply == expected
    assert [(m.kind, m.body) for m in _mails(harness)][-1] == (
        "cancelled",
        _vi_body(A, expected, keep=True),
    )


async def test_a_subscriber_without_an_email_gets_no_mail_at_all(harness: EngineHarness) -> None:
    """Same story as above without an address: SMS only (register, renew, fail, give up,
    register again, cancel)."""
    await _provision(harness, A, email=None, balance=10_000)
    await harness.send(A, "DK ZL7", at=T0)
    await harness.run_due(local(2026, 3, 31, 10, 0))
    await harness.topup(A, 5000, at=local(2026, 4, 1, 9, 0))
    await harness.send(A, "DK ZL7", at=local(2026, 4, 1, 9, 0))

    await harness.send(A, "HUY ZL7", at=local(2026, 4, 1, 10, 0))

    kinds = [s.status for s in harness.subscriptions(A)]
    assert kinds == ["expired", "cancelled"], "the story did happen"
    assert len(harness.store.view().outbox.unpublished(100)) == 6, (
        "registered, renewed, failed, gave up, DK, HUY"
    )
    assert _mails(harness) == []


def _by_email(text: str, message_id: str | None, *, id: str = "mail-1") -> InboundSms:
    return InboundSms(
        id=id,
        msisdn=A,
        shortcode="888",
        text=text,
        client_id=message_id is not None,
        email=EmailOrigin(address=A_MAIL, subject=text, message_id=message_id),
    )


async def _handle(harness: EngineHarness, message: InboundSms) -> SmsResult:
    return await harness.store.transaction(lambda tx: harness.engine.handle_sms(tx, message, T0))


async def test_a_command_by_email_is_answered_by_email_in_its_thread(
    harness: EngineHarness,
) -> None:
    """DK ZL7 by email: the confirmation mail, then the reply mail In-Reply-To the command."""
    await _provision(harness, A, email=A_MAIL, balance=10_000)

    result = await _handle(harness, _by_email("DK ZL7", "cmd-1@example.com"))

    assert [r.text for r in result.replies] == [REGISTERED_ZL7]
    confirmation, reply = _mails(harness)
    assert confirmation.kind == "registered"
    assert reply == OutgoingMail(
        id=reply.id,
        sender="888@sms.local",
        sender_name="Vinaphone 888",
        to=(A_MAIL,),
        subject="Re: DK ZL7",
        body=(
            f"Kinh gui Quy khach {A},\n\n"
            f'Yeu cau "DK ZL7" gui 888 da duoc xu ly:\n\n{REGISTERED_ZL7}\n\n'
            "Vinaphone - dau so 888"
        ),
        at=T0,
        kind="reply",
        msisdn=A,
        in_reply_to="cmd-1@example.com",
        references=("cmd-1@example.com",),
    )
    assert confirmation.in_reply_to is None


async def test_a_resent_command_mail_changes_nothing(harness: EngineHarness) -> None:
    """The same command mail twice (same id): the second is a duplicate, no charge, no mail."""
    await _provision(harness, A, email=A_MAIL, balance=10_000)
    first = await _handle(harness, _by_email("DK ZL7", "cmd-1@example.com"))
    before = harness.store.snapshot()

    again = await _handle(harness, _by_email("DK ZL7", "cmd-1@example.com"))

    assert again.duplicate
    assert [r.id for r in again.replies] == [r.id for r in first.replies]
    assert harness.store.snapshot() == before
    assert len(_mails(harness)) == 2
    assert harness.subscriber(A).balance == 5000


async def test_a_status_request_by_email_gets_only_the_reply_mail(harness: EngineHarness) -> None:
    """KTTK_ZL changes nothing, so there is no confirmation: only the reply to the mail."""
    await _provision(harness, A, email=A_MAIL, balance=10_000)

    await _handle(harness, _by_email("KTTK_ZL", None, id="mail-2"))

    (reply,) = _mails(harness)
    assert (reply.kind, reply.subject, reply.in_reply_to, reply.references) == (
        "reply",
        "Re: KTTK_ZL",
        None,
        (),
    )
    assert "Quy khach chua dang ky goi Zalo." in reply.body


async def test_a_closed_account_answers_every_command_with_account_closed(
    harness: EngineHarness,
) -> None:
    """Closed on 12/03 with ZL7 registered on 10/03 (5,000đ): the pack is cancelled, the data
    is kept, and a later DK charges nothing: 10,000 − 5,000 = 5,000đ stays 5,000đ."""
    await _provision(harness, A, email=A_MAIL, balance=10_000)
    await harness.send(A, "DK ZL7", at=T0)
    closed_at = local(2026, 3, 12, 9, 0)

    def close(tx: Transaction) -> list[tuple[str, str]]:
        subscriber = tx.subscribers.get(A)
        assert subscriber is not None
        return harness.engine.close_account(tx, subscriber, closed_at)

    # the cancellation text HUY would give at 09:00 on 12/03 (prepaid: no correction)
    assert await harness.store.transaction(close) == [
        (
            "ZL7",
            "Quy khach da huy thanh cong goi ZL7. Goi ngung hieu luc tu 09:00 12/03/2026"
            " va khong tu dong gia han.",
        )
    ]

    result = await harness.send(A, "DK ZL7", at=local(2026, 3, 13, 9, 0), id="after")

    assert [(r.text, r.in_reply_to) for r in result.replies] == [
        (
            "Tai khoan 84912345678 da dong, khong su dung duoc dich vu 888."
            " Lien he support de duoc ho tro.",
            "after",
        )
    ]
    subscriber = harness.subscriber(A)
    assert (subscriber.status, subscriber.closed_at, subscriber.balance) == (
        "closed",
        closed_at,
        5000,
    )
    assert [(c.amount, c.reason) for c in harness.store.view().billing.charges(A)] == [
        (5000, "registration")
    ]
    sub = harness.only_subscription(A)
    assert (sub.status, sub.cancelled_at, sub.expires_at, sub.next_action_at) == (
        "cancelled",
        closed_at,
        closed_at,
        None,
    )
    assert [m.kind for m in _mails(harness)] == ["registered"], "the desk mails the closure"
    assert (await harness.run_due(local(2026, 12, 31))).processed == 0


async def test_a_closed_account_cannot_be_provisioned_topped_up_or_closed_again(
    harness: EngineHarness,
) -> None:
    await _provision(harness, A, email=A_MAIL, balance=10_000)

    def close(tx: Transaction) -> list[tuple[str, str]]:
        subscriber = tx.subscribers.get(A)
        assert subscriber is not None
        return harness.engine.close_account(tx, subscriber, T0)

    assert await harness.store.transaction(close) == []
    before = harness.store.snapshot()

    with pytest.raises(AccountClosed) as provisioned:
        await _provision(harness, A, email=A_MAIL, balance=50_000)
    with pytest.raises(AccountClosed) as topped_up:
        await harness.topup(A, 5000, at=T0)
    with pytest.raises(AccountClosed):
        await harness.store.transaction(close)

    assert provisioned.value.msisdn == A
    assert topped_up.value.msisdn == A
    assert harness.store.snapshot() == before
    assert harness.subscriber(A).balance == 10_000


async def test_an_address_belongs_to_one_open_account(harness: EngineHarness) -> None:
    """A second subscriber cannot take A's address; A may keep it; once A's account is
    closed (its data, address included, is kept) the address is free again."""
    await _provision(harness, A, email=A_MAIL, balance=0)

    with pytest.raises(EmailInUse) as taken:
        await _provision(harness, B, email=A_MAIL, balance=0)

    assert (taken.value.address, taken.value.msisdn) == (A_MAIL, A)
    assert harness.store.view().subscribers.get(B) is None
    await _provision(harness, A, email=A_MAIL, balance=0)

    def close(tx: Transaction) -> list[tuple[str, str]]:
        subscriber = tx.subscribers.get(A)
        assert subscriber is not None
        return harness.engine.close_account(tx, subscriber, T0)

    await harness.store.transaction(close)
    await _provision(harness, B, email=A_MAIL, balance=0)

    assert harness.subscriber(A).email == A_MAIL
    found = harness.store.view().subscribers.by_email(A_MAIL)
    assert found is not None
    assert found.msisdn == B


def _texts(out: list[Outgoing]) -> list[str]:
    return [m.text for m in out]


async def test_a_top_up_renewal_is_mailed_like_a_scheduled_one(harness: EngineHarness) -> None:
    """ZL7 at 10:00 10/03 with 5,000đ (0đ left); 17/03 10:00 the renewal fails (mailed);
    5,000đ topped up at 15:00 on 18/03 renews at once until 15:00 25/03 (18 + 7)."""
    await _provision(harness, A, email=A_MAIL, balance=5000)
    await harness.send(A, "DK ZL7", at=T0)
    await harness.run_due(local(2026, 3, 18, 12, 0))

    out = await harness.topup(A, 5000, at=local(2026, 3, 18, 15, 0))

    renewed = (
        "Goi ZL7 da duoc gia han, cuoc 5.000d tru vao TK chinh. Het han 15:00 25/03/2026."
        " Huy: soan HUY ZL7 gui 888."
    )
    assert _texts(out) == [renewed]
    assert [(m.kind, m.at) for m in _mails(harness)] == [
        ("registered", T0),
        ("renewal_failed", local(2026, 3, 17, 10, 0)),
        ("renewed", local(2026, 3, 18, 15, 0)),
    ]
    assert _mails(harness)[-1].body == _vi_body(A, renewed, keep=True)


async def test_an_auto_provisioned_number_has_no_address(harness: EngineHarness) -> None:
    """A number that texts 888 unknown is provisioned without an email: no mail."""
    await harness.store.transaction(lambda tx: harness.engine.handle_sms(tx, sms(B, "KTTK_ZL"), T0))

    assert harness.subscriber(B).email is None
    assert _mails(harness) == []
