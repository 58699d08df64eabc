"""Support-desk intake against a real SQLite file: who asks, which ticket a mail belongs to.

Seed 003: a subscriber who cannot log in mails the support address with the account's
details (case 2); a logged-in one fills in the portal's form (case 1, Sản phẩm = Other,
Danh mục = Hỗ trợ kỹ thuật). Here: requesters the desk does not know and the phone
numbers they write, resent mails, threading (In-Reply-To, a ``[#N]`` tag) and who may
answer a thread, general tickets, the operator, and the portal.

Each scenario runs the shipped Zalo catalog and support policy on a fresh SQLite file,
with fixed codes and instants in local time (UTC+7); texts are support.toml's ``vi``
templates (the default language) filled in by hand.
"""

from __future__ import annotations

import pytest

from gateway.errors import InvalidMessage, TicketError, UnknownTicket
from tests.integration.desk_support import (
    A_MAIL,
    A_MASKED,
    ASKED,
    CATEGORY,
    CLOSURE_TITLE,
    CODE,
    P_MAIL,
    STRANGER,
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
    inbound,
    need_account_subject,
    opened_subject,
    start_verifying,
    verification_sms,
    verifying_subject,
    wrong_code_subject,
)
from tests.service.support import local

# --- a requester the desk does not know (seed 003 case 2: cannot log in) ---------------------


async def test_a_stranger_who_names_the_phone_number_gets_it_verified_by_sms(
    h: DeskHarness,
) -> None:
    """The requester's address is no account's, but the body gives the account's number: the
    code goes to that number (only its holder can answer), the mails to the requester."""
    await h.provision(A, at=T0, email=A_MAIL)
    request = closure_request(
        STRANGER,
        message_id="s-1@example.org",
        body="Tôi không đăng nhập được portal.\nSố điện thoại của tài khoản: 0912345678",
    )

    result = await h.receive(request, at=ASKED)

    ticket = await h.ticket(1)
    assert (ticket.status, ticket.requester, ticket.msisdn) == ("verifying", STRANGER, A)
    assert [(m.shortcode, m.msisdn, m.text) for m in result.outgoing] == [
        ("888", A, verification_sms(1, CODE))
    ]
    mails = await h.mails(1)
    assert {m.to for m in mails} == {(STRANGER,)}
    assert [m.subject for m in mails] == [
        opened_subject(1, CLOSURE_TITLE),
        verifying_subject(1, CLOSURE_TITLE),
    ]

    done = await h.receive(
        answer(mails[1], STRANGER, CODE, message_id="s-2@example.org"),
        at=local(2026, 3, 12, 9, 4),
    )

    assert done.verify == "closed"
    assert (await h.subscriber(A)).status == "closed"
    assert (await h.mails(1))[-1].to == (STRANGER,)


@pytest.mark.parametrize(
    ("written", "msisdn"),
    [
        pytest.param("0912345678", A, id="local"),
        pytest.param("+84912345678", A, id="international"),
        pytest.param("0912 345 678", A, id="spaces"),
        pytest.param("0912.345.678", A, id="dots"),
        pytest.param("0912-345-678", A, id="dashes"),
        pytest.param("+84 912-345-678", A, id="international-grouped"),
        pytest.param("84 912 345 678", A, id="84-grouped"),
        pytest.param("0912 345 67", None, id="nine-digits"),
        pytest.param("0912 345 6789", None, id="eleven-digits"),
    ],
)
async def test_a_phone_number_is_recognised_grouped_or_not(
    h: DeskHarness, written: str, msisdn: str | None
) -> None:
    """The ten digits of 0912345678 (or 84/+84 and the nine after 0) may be grouped by
    spaces, dots or dashes; a digit too few or too many is no number, and the requester is
    asked for one instead of a code being sent."""
    await h.provision(A, at=T0, email=A_MAIL)
    request = closure_request(
        STRANGER, message_id="s-1@example.org", body=f"Số thuê bao: {written}. Cảm ơn."
    )

    result = await h.receive(request, at=ASKED)

    ticket = await h.ticket(1)
    assert ticket.msisdn == msisdn
    if msisdn is None:
        assert (ticket.status, result.outgoing) == ("open", [])
        assert (await h.subjects(1))[-1] == need_account_subject(1, CLOSURE_TITLE)
    else:
        assert ticket.status == "verifying"
        assert [(m.msisdn, m.text) for m in result.outgoing] == [(A, verification_sms(1, CODE))]


async def test_a_stranger_without_a_phone_number_is_asked_for_it_then_verified(
    h: DeskHarness,
) -> None:
    """No account by address, none named: the ticket stays ``open`` with a "need account"
    mail and no SMS. The reply that gives the number (+84 form) starts the verification."""
    await h.provision(A, at=T0, email=A_MAIL)
    request = inbound(
        STRANGER,
        "Xóa tài khoản",
        "Làm ơn xóa tài khoản của tôi.",
        message_id="s-1@example.org",
    )

    first = await h.receive(request, at=ASKED)

    ticket = await h.ticket(1)
    assert (ticket.kind, ticket.status, ticket.msisdn) == ("account_closure", "open", None)
    assert first.outgoing == []
    assert await h.unpublished() == []
    mails = await h.mails(1)
    assert [m.subject for m in mails] == [
        opened_subject(1, "Xóa tài khoản"),
        need_account_subject(1, "Xóa tài khoản"),
    ]
    assert mails[1].body == (
        "De xac minh yeu cau #1, vui long tra loi email nay kem so dien thoai"
        " cua tai khoan can huy.\nTrang thai: Open."
    )
    assert {(m.to, m.msisdn) for m in mails} == {((STRANGER,), None)}

    second = await h.receive(
        answer(mails[1], STRANGER, "Số của tôi là +84912345678", message_id="s-2@example.org"),
        at=local(2026, 3, 12, 9, 20),
    )

    ticket = await h.ticket(1)
    assert (ticket.status, ticket.msisdn) == ("verifying", A)
    assert [(m.msisdn, m.text) for m in second.outgoing] == [(A, verification_sms(1, CODE))]
    assert await h.subjects(1) == [
        opened_subject(1, "Xóa tài khoản"),
        need_account_subject(1, "Xóa tài khoản"),
        verifying_subject(1, "Xóa tài khoản"),
    ]


async def test_a_number_that_is_no_open_account_is_asked_for_again(h: DeskHarness) -> None:
    """A number nobody holds, then a closed account's: neither is accepted."""
    await h.provision(P, at=T0, email=P_MAIL, kind="postpaid", balance=0)
    await h.receive(closure_request(P_MAIL, message_id="p-1@example.com"), at=ASKED)
    verifying = by_subject(await h.mails(1), verifying_subject(1, CLOSURE_TITLE))
    await h.receive(answer(verifying, P_MAIL, CODE, message_id="p-2@example.com"), at=ASKED)
    assert (await h.subscriber(P)).status == "closed"
    await h.receive(
        inbound(STRANGER, CLOSURE_TITLE, "Số 0999999999", message_id="s-1@example.org"),
        at=ASKED,
    )
    need = by_subject(await h.mails(2), need_account_subject(2, CLOSURE_TITLE))

    result = await h.receive(
        answer(need, STRANGER, "Số của tôi: 0918000001", message_id="s-2@example.org"), at=ASKED
    )

    assert result.outgoing == []
    assert ((await h.ticket(2)).status, (await h.ticket(2)).msisdn) == ("open", None)
    assert await h.subjects(2) == [
        opened_subject(2, CLOSURE_TITLE),
        need_account_subject(2, CLOSURE_TITLE),
        need_account_subject(2, CLOSURE_TITLE),
    ]


# --- intake: duplicates, threads, who may answer ----------------------------------------------


async def test_the_same_message_id_twice_is_one_ticket(h: DeskHarness) -> None:
    """A mail resent with the same Message-ID changes nothing: no ticket, SMS, mail or event."""
    await h.provision(A, at=T0, email=A_MAIL)
    request = closure_request(A_MAIL, message_id="req-1@example.com")
    first = await h.receive(request, at=ASKED)

    again = await h.receive(request, at=local(2026, 3, 12, 9, 1))

    assert (again.duplicate, again.created, again.ticket.id, again.outgoing) == (
        True,
        False,
        first.ticket.id,
        [],
    )
    assert [t.id for t in await h.tickets()] == [1]
    assert len(await h.mails(1)) == 2
    assert len(await h.events(1)) == 2
    assert len(await h.unpublished()) == 1, "one code SMS"


async def test_a_ticket_tag_from_another_sender_opens_a_new_ticket(h: DeskHarness) -> None:
    """``[#1]`` in the subject threads a mail only when it comes from ticket 1's requester:
    someone else's mail opens ticket #2 and leaves #1 (and A's code) alone."""
    await start_verifying(h)
    tagged_subject = f"Re: {verifying_subject(1, CLOSURE_TITLE)}"

    other = await h.receive(
        inbound("other@example.org", tagged_subject, CODE, message_id="o-1@example.org"),
        at=local(2026, 3, 12, 9, 1),
    )

    assert (other.created, other.ticket.id, other.verify) == (True, 2, None)
    two = await h.ticket(2)
    assert (two.requester, two.msisdn, two.status, two.title) == (
        "other@example.org",
        None,
        "open",
        tagged_subject,
    )
    one = await h.ticket(1)
    assert (one.status, one.otp_attempts) == ("verifying", 0)
    assert len(await h.events(1)) == 2
    assert (await h.subscriber(A)).status == "active"

    own = await h.receive(
        inbound(A_MAIL, tagged_subject, CODE, message_id="a-2@example.com"),
        at=local(2026, 3, 12, 9, 2),
    )

    assert (own.created, own.ticket.id, own.verify) == (False, 1, "closed")


async def test_a_reply_in_the_thread_from_another_sender_is_ignored(h: DeskHarness) -> None:
    """Only the requester answers a ticket. A stranger who knows a Message-ID of the thread
    (In-Reply-To the "verifying" mail) and sends the right code at 09:01 is recorded as an
    event and nothing else: no code checked, no attempt used, no mail, no SMS, no new
    ticket. The requester's own reply with that code at 09:02 closes the account."""
    verifying = await start_verifying(h)
    before = await h.ticket(1)
    sms_before = await h.unpublished()

    stranger = await h.receive(
        answer(verifying, STRANGER, CODE, message_id="x-1@example.org"),
        at=local(2026, 3, 12, 9, 1),
    )

    assert (stranger.created, stranger.duplicate, stranger.ticket.id) == (False, False, 1)
    assert (stranger.verify, stranger.outgoing) == (None, [])
    assert await h.ticket(1) == before, "status, code, attempts, codes sent: all unchanged"
    assert before.status == "verifying"
    assert [t.id for t in await h.tickets()] == [1]
    assert await h.subjects(1) == [
        opened_subject(1, CLOSURE_TITLE),
        verifying_subject(1, CLOSURE_TITLE),
    ]
    assert await h.unpublished() == sms_before, "no SMS"
    assert await h.events(1) == [
        ("open", f"opened by email from {A_MAIL}"),
        ("verifying", f"code sent by SMS to {A_MASKED}"),
        ("verifying", f"reply from {STRANGER} ignored: not the requester"),
    ]
    assert (await h.subscriber(A)).status == "active"

    own = await h.receive(
        answer(verifying, A_MAIL, CODE, message_id="a-2@example.com"),
        at=local(2026, 3, 12, 9, 2),
    )

    assert own.verify == "closed"
    assert [m.text for m in own.outgoing] == [account_closed_sms(1, A_MASKED, "ZL7")]
    assert (await h.ticket(1)).status == "closed"
    assert (await h.subscriber(A)).status == "closed"
    assert {m.to for m in await h.mails(1)} == {(A_MAIL,)}, "nothing ever mailed to the stranger"


# --- general tickets and the operator -------------------------------------------------------


async def test_a_general_ticket_is_answered_and_closed_by_an_operator(h: DeskHarness) -> None:
    """Not a closure request: ``open`` with one mail; replies are recorded but start nothing;
    the operator closes it ("answered") with a mail; closing it again is refused."""
    await h.provision(A, at=T0, email=A_MAIL)
    await h.send(A, "DK ZL7", at=T0)
    question = inbound(
        A_MAIL,
        "Hỏi về gói ZL7",
        "Gói ZL7 có dùng được khi đi nước ngoài không?",
        message_id="g-1@example.com",
    )

    opened = await h.receive(question, at=ASKED)
    opened_mail = (await h.mails(1))[0]
    follow = await h.receive(
        answer(opened_mail, A_MAIL, "Bổ sung: tôi đi Nhật 123456", message_id="g-2@example.com"),
        at=local(2026, 3, 12, 9, 30),
    )

    assert (opened.ticket.kind, opened.ticket.status, opened.outgoing) == ("general", "open", [])
    assert (follow.verify, follow.outgoing) == (None, [])
    assert await h.subjects(1) == [opened_subject(1, "Hỏi về gói ZL7")]
    assert opened_mail.body == (
        'Chung toi da tiep nhan yeu cau #1 ("Hỏi về gói ZL7"). Trang thai: Open.\n'
        "Tinh hinh xu ly se duoc cap nhat qua email nay."
    )

    closed_at = local(2026, 3, 12, 10, 0)
    closed = await h.close(1, "answered", at=closed_at)

    assert closed.outgoing == []
    ticket = await h.ticket(1)
    assert (ticket.status, ticket.resolution, ticket.closed_at) == ("closed", "answered", closed_at)
    mails = await h.mails(1)
    assert [m.subject for m in mails] == [
        opened_subject(1, "Hỏi về gói ZL7"),
        closed_subject(1, "Hỏi về gói ZL7"),
    ]
    assert mails[1].subject == "[#1] Yeu cau da xu ly xong: Hỏi về gói ZL7"
    assert mails[1].body == closed_body(1, "answered")
    assert mails[1].body == "Yeu cau #1 da duoc xu ly xong. answered\nTrang thai: Closed."
    assert (mails[1].to, mails[1].in_reply_to) == ((A_MAIL,), None)
    assert await h.events(1) == [
        ("open", f"opened by email from {A_MAIL}"),
        ("open", f"reply from {A_MAIL}"),
        ("closed", "closed by an operator: answered"),
    ]

    with pytest.raises(TicketError) as again:
        await h.close(1, "again", at=local(2026, 3, 12, 11, 0))

    assert (again.value.ticket_id, again.value.reason) == (1, "already closed")
    assert len(await h.mails(1)) == 2
    assert (await h.subscriber(A)).status == "active"
    assert [s.status for s in await h.subscriptions(A)] == ["active"]


async def test_the_operator_enters_the_code_the_requester_read_out(h: DeskHarness) -> None:
    """``verify``: a wrong code counts as an attempt, the right one closes the account; a
    general ticket has nothing to verify and an unknown ticket is reported as such."""
    await start_verifying(h)

    wrong = await h.verify(1, "111111", at=local(2026, 3, 12, 9, 1))
    right = await h.verify(1, f" {CODE} ", at=local(2026, 3, 12, 9, 2))

    assert (wrong.verify, right.verify) == ("wrong_code", "closed")
    assert (await h.ticket(1)).status == "closed"
    assert (await h.subscriber(A)).status == "closed"
    assert [m.text for m in right.outgoing] == [
        f"Tai khoan {A_MASKED} da duoc dong theo yeu cau #1. Cac goi da huy: ZL7."
    ]
    mails = await h.mails(1)
    assert [(m.subject, m.in_reply_to) for m in mails[2:]] == [
        (wrong_code_subject(1), None),
        (account_closed_subject(1, CLOSURE_TITLE), None),
    ]
    assert [note for _, note in await h.events(1)][2:] == [
        "code entered by an operator",
        "wrong code (1 so far)",
        "code entered by an operator",
        f"verified; account {A} closed",
    ]

    await h.receive(inbound(A_MAIL, "Câu hỏi", "Xin chào", message_id="g-1@example.com"), at=ASKED)
    with pytest.raises(TicketError) as general:
        await h.verify(2, CODE, at=ASKED)
    with pytest.raises(TicketError) as closed:
        await h.verify(1, CODE, at=ASKED)
    with pytest.raises(UnknownTicket) as unknown:
        await h.verify(99, CODE, at=ASKED)

    assert general.value.ticket_id == 2
    assert closed.value.ticket_id == 1
    assert unknown.value.ticket_id == 99


# --- the portal (seed 003 case 1) -------------------------------------------------------------


async def test_a_closure_request_from_the_portal_is_verified_by_sms(h: DeskHarness) -> None:
    """Sản phẩm = Other, Danh mục = Hỗ trợ kỹ thuật, content "cancel my account": the same
    verification as by mail, with the mails to the account's address."""
    await h.provision(A, at=T0, email=A_MAIL)

    result = await h.portal(
        A,
        product="Other",
        category=CATEGORY,
        title="Yêu cầu hỗ trợ",
        content="cancel my account",
        at=ASKED,
    )

    ticket = await h.ticket(1)
    assert (ticket.source, ticket.kind, ticket.status, ticket.requester, ticket.msisdn) == (
        "portal",
        "account_closure",
        "verifying",
        A_MAIL,
        A,
    )
    assert [(m.msisdn, m.text) for m in result.outgoing] == [(A, verification_sms(1, CODE))]
    mails = await h.mails(1)
    assert [(m.subject, m.in_reply_to, m.to) for m in mails] == [
        (opened_subject(1, "Yêu cầu hỗ trợ"), None, (A_MAIL,)),
        (verifying_subject(1, "Yêu cầu hỗ trợ"), None, (A_MAIL,)),
    ]
    assert (await h.events(1))[0] == ("open", "opened from the portal")

    done = await h.receive(
        answer(mails[1], A_MAIL, CODE, message_id="p-2@example.com"), at=local(2026, 3, 12, 9, 3)
    )
    assert done.verify == "closed"


async def test_a_portal_ticket_of_an_account_without_an_address_sends_no_mail(
    h: DeskHarness,
) -> None:
    """An account with no email address (language ``en``, no packs) closes through the portal
    and the operator's ``verify``: both SMS go out in English, no mail at all, and the
    ticket has no requester."""
    await h.provision(A, at=T0, email=None, language="en")

    result = await h.portal(
        A,
        product="SMS",
        category="Technical support",
        title="Close my account",
        content="Please.",
        at=ASKED,
    )
    done = await h.verify(1, CODE, at=local(2026, 3, 12, 9, 5))

    assert [m.text for m in result.outgoing] == [
        "Your code to confirm closing your account (ticket #1) is 123456, valid 10 minutes."
        " Reply to the ticket email with it. Never share this code."
    ]
    assert [m.text for m in done.outgoing] == [
        f"Account {A_MASKED} was closed as requested in ticket #1. Packs cancelled: -."
    ]
    assert (await h.ticket(1)).requester is None
    assert await h.mails(1) == []
    assert (await h.subscriber(A)).status == "closed"


@pytest.mark.parametrize(
    ("product", "category"),
    [
        pytest.param("Netflix", CATEGORY, id="unknown-product"),
        pytest.param("Other", "Hủy gói", id="unknown-category"),
    ],
)
async def test_the_portal_form_accepts_only_its_products_and_categories(
    h: DeskHarness, product: str, category: str
) -> None:
    """A product or category the policy does not list is refused with ``InvalidMessage``;
    nothing is stored, no SMS goes out, the account stays open."""
    await h.provision(A, at=T0, email=A_MAIL)

    with pytest.raises(InvalidMessage) as refused:
        await h.portal(
            A,
            product=product,
            category=category,
            title=CLOSURE_TITLE,
            content="cancel my account",
            at=ASKED,
        )

    assert "unknown" in refused.value.reason
    assert await h.tickets() == []
    assert await h.unpublished() == []
    assert (await h.subscriber(A)).status == "active"
