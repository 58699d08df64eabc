"""The meetings service's terms through the engine, by SMS to 8100 (seed 000).

The help page, in short: cancelling a paid plan stops its renewal and *"Bạn sẽ vẫn sử
dụng gói trả phí của mình trong thời gian còn lại của thời hạn đăng ký"*; *"Để đủ điều
kiện được hoàn tiền, bạn không được sử dụng tài khoản kể từ lần cuối thanh toán"* (a
refund needs no use since the last payment), agreed to first (*"nhấn Hủy và Hoàn
tiền"*); *"bạn có thể kích hoạt lại gói của mình"*; a plan that shows *"Liên hệ với bộ
phận kinh doanh"* is cancelled through sales; an add-on *"sẽ tiếp tục hoạt động trong
thời gian còn lại của thời hạn đăng ký"*.

meetings.toml: BASIC free; PRO 330,000/month (refund to confirm, reactivable, falls
back to BASIC); BIZ 550,000/month (contact sales); REC add-on 110,000/month on a
meetings plan. Questions wait 10 minutes (the default). Every instant is local
Asia/Ho_Chi_Minh; every amount and date is worked out by hand.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.service.policy_harness import MEETINGS, PolicyHarness, make_policy_harness
from tests.service.stores import StoreUnderTest
from tests.service.support import local

M = "84913000002"
START = 1_000_000

#: PRO bought 10:00 02/03/2026 for 330,000; its month runs to 10:00 02/04/2026.
BOUGHT = local(2026, 3, 2, 10, 0)
MONTH_END = local(2026, 4, 2, 10, 0)

ASK_REFUND = (
    "Huy goi PRO: tra loi 1 de huy ngay va duoc hoan 330.000d; 2 de huy khong hoan tien,"
    " goi van dung den 10:00 02/04/2026; 3 de giu goi. Gui 8100 trong 10 phut."
)
REFUNDED = [
    "Quy khach da huy goi PRO va duoc hoan 330.000d do khong su dung tu lan thanh toan"
    " cuoi. Goi ket thuc ngay.",
    "Goi PRO da ket thuc, tai khoan hop chuyen ve goi BASIC.",
]
DECLINED = "Yeu cau da duoc huy, goi cua Quy khach khong thay doi."
EXPIRED = "Yeu cau truoc cua Quy khach da het han. Vui long soan lai lenh."
COMMANDS = (
    "DK BASIC (0d/thang); DK PRO (330.000d/thang); DK BIZ (550.000d/thang); DK REC (110.000d/thang)"
)


def _pending(code: str, until: str) -> str:
    """``pending_cancel`` of meetings.toml (vi), filled in by hand."""
    return (
        f"Goi {code} da dung tu dong gia han va van su dung duoc den {until}. Doi y: soan"
        f" KH {code} gui 8100 truoc thoi diem do."
    )


@pytest.fixture
def h(service_store: StoreUnderTest) -> PolicyHarness:
    return make_policy_harness(store=service_store)


async def _pro(h: PolicyHarness) -> None:
    """A prepaid subscriber with 1,000,000 buys PRO at BOUGHT: 670,000 left."""
    await h.provision(M, at=local(2026, 3, 1), kind="prepaid", balance=START)
    assert await h.texts(MEETINGS, M, "DK PRO", at=BOUGHT) == [
        "Dang ky thanh cong goi PRO (Hop truc tuyen goi Chuyen nghiep), cuoc 330.000d tru"
        " vao TK chinh. Hieu luc den 10:00 02/04/2026, tu dong gia han hang thang. Huy:"
        " soan HUY PRO gui 8100."
    ]
    assert h.balance(M) == 670_000


# --- the refund, to be confirmed ------------------------------------------------------


async def test_huy_of_an_unused_plan_asks_to_confirm_the_refund_first(h: PolicyHarness) -> None:
    """Nothing used since the payment: HUY PRO at 10:00 05/03 offers the 330,000 back and
    waits (until 10:10) for Y; until then nothing changes and nothing is refunded."""
    await _pro(h)

    replies = await h.texts(MEETINGS, M, "HUY PRO", at=local(2026, 3, 5, 10, 0))

    assert replies == [ASK_REFUND]
    question = h.conversation(M, MEETINGS)
    assert question is not None
    assert (question.kind, question.package, question.expires_at) == (
        "refund",
        "PRO",
        local(2026, 3, 5, 10, 10),
    )
    assert [c.reason for c in h.charges(M)] == ["registration"]
    assert h.states(M) == [("PRO", "active")]


async def test_y_refunds_ends_the_plan_now_and_drops_to_basic(h: PolicyHarness) -> None:
    """Y at 10:02: −330,000 (670,000 + 330,000 = 1,000,000 again), PRO ends at 10:02,
    BASIC starts then; nothing is charged at the old month end."""
    await _pro(h)
    await h.texts(MEETINGS, M, "HUY PRO", at=local(2026, 3, 5, 10, 0))
    confirmed = local(2026, 3, 5, 10, 2)

    replies = await h.texts(MEETINGS, M, "Y", at=confirmed)

    assert replies == REFUNDED
    refund = h.charges(M)[-1]
    assert (refund.reason, refund.amount, refund.rule) == (
        "refund",
        -330_000,
        "unused_since_last_payment_full",
    )
    assert refund.inputs["used_since_last_payment_bytes"] == 0
    assert refund.inputs["last_paid_amount"] == 330_000
    assert h.balance(M) == START
    assert h.states(M) == [("PRO", "cancelled"), ("BASIC", "active")]
    assert h.latest(M, "PRO").expires_at == confirmed
    assert h.latest(M, "BASIC").started_at == confirmed
    assert h.conversation(M, MEETINGS) is None
    assert await h.due_texts(MONTH_END + timedelta(days=1)) == []
    assert len(h.charges(M)) == 2


@pytest.mark.parametrize("answer", ["N", "2"])
async def test_n_cancels_without_the_refund_and_pro_runs_to_its_month_end(
    h: PolicyHarness, answer: str
) -> None:
    """Seed 000: cancelling stops the renewal and *"Bạn sẽ vẫn sử dụng gói trả phí của
    mình trong thời gian còn lại của thời hạn đăng ký"*; the refund is something one *may*
    ask for. N (or 2) at 10:01 05/03: nothing refunded (670,000 stays), PRO
    ``pending_cancel`` to 10:00 02/04, then BASIC; nothing charged at 02/04."""
    await _pro(h)
    await h.texts(MEETINGS, M, "HUY PRO", at=local(2026, 3, 5, 10, 0))

    replies = await h.texts(MEETINGS, M, answer, at=local(2026, 3, 5, 10, 1))

    assert replies == [_pending("PRO", "10:00 02/04/2026")]
    pro = h.latest(M, "PRO")
    assert (pro.status, pro.auto_renew, pro.next_action_at) == ("pending_cancel", False, MONTH_END)
    assert h.conversation(M, MEETINGS) is None
    assert [c.reason for c in h.charges(M)] == ["registration"]
    assert h.balance(M) == 670_000
    assert await h.due_texts(MONTH_END) == [
        "Goi PRO da ket thuc, tai khoan hop chuyen ve goi BASIC."
    ]
    assert h.states(M) == [("PRO", "cancelled"), ("BASIC", "active")]
    assert h.balance(M) == 670_000


async def test_3_keeps_the_plan_unchanged_and_it_renews(h: PolicyHarness) -> None:
    """3 backs out: PRO stays as it was, and renews at 10:00 02/04 for 330,000 (670,000 −
    330,000 = 340,000 left)."""
    await _pro(h)
    await h.texts(MEETINGS, M, "HUY PRO", at=local(2026, 3, 5, 10, 0))

    assert await h.texts(MEETINGS, M, "3", at=local(2026, 3, 5, 10, 1)) == [DECLINED]

    pro = h.latest(M, "PRO")
    assert (pro.status, pro.auto_renew, pro.next_action_at) == ("active", True, MONTH_END)
    assert h.conversation(M, MEETINGS) is None
    assert h.balance(M) == 670_000
    await h.due_texts(MONTH_END)
    assert [(c.reason, c.amount, c.at) for c in h.charges(M)] == [
        ("registration", 330_000, BOUGHT),
        ("renewal", 330_000, MONTH_END),
    ]
    assert h.balance(M) == 340_000


async def test_1_is_the_same_as_y(h: PolicyHarness) -> None:
    """1 at 10:02 refunds 330,000 and ends PRO now, like Y."""
    await _pro(h)
    await h.texts(MEETINGS, M, "HUY PRO", at=local(2026, 3, 5, 10, 0))

    assert await h.texts(MEETINGS, M, "1", at=local(2026, 3, 5, 10, 2)) == REFUNDED
    assert h.balance(M) == START


@pytest.mark.parametrize(
    ("answered", "replies", "refunded"),
    [
        pytest.param(local(2026, 3, 5, 10, 10), REFUNDED, True, id="at-10-minutes"),
        pytest.param(local(2026, 3, 5, 10, 10, 1), [EXPIRED], False, id="10-minutes-and-1s"),
        pytest.param(local(2026, 3, 5, 11, 0), [EXPIRED], False, id="an-hour-later"),
    ],
)
async def test_the_refund_question_waits_10_minutes(
    h: PolicyHarness, answered: datetime, replies: list[str], refunded: bool
) -> None:
    """Asked at 10:00, the question is open until 10:10 (10 minutes) included; a later Y
    is told it expired, and PRO is left as it was."""
    await _pro(h)
    await h.texts(MEETINGS, M, "HUY PRO", at=local(2026, 3, 5, 10, 0))

    assert await h.texts(MEETINGS, M, "Y", at=answered) == replies

    assert h.balance(M) == (START if refunded else 670_000)
    assert h.latest(M, "PRO").status == ("cancelled" if refunded else "active")


async def test_an_unexpected_answer_asks_the_refund_question_again(
    h: PolicyHarness,
) -> None:
    """'5' is none of the three answers: the reply asks it again and it stays open,
    so a Y a minute later (inside the 10 minutes) refunds 330,000 and ends PRO."""
    await _pro(h)
    await h.texts(MEETINGS, M, "HUY PRO", at=local(2026, 3, 5, 10, 0))
    assert await h.texts(MEETINGS, M, "5", at=local(2026, 3, 5, 10, 1)) == [ASK_REFUND]

    replies = await h.texts(MEETINGS, M, "Y", at=local(2026, 3, 5, 10, 2))

    assert replies == REFUNDED
    assert h.latest(M, "PRO").status == "cancelled"
    assert h.balance(M) == 670_000 + 330_000


# --- used since the last payment: no refund ------------------------------------------


async def test_a_plan_used_since_the_payment_runs_to_its_end_without_refund(
    h: PolicyHarness,
) -> None:
    """5 MB of meetings on 04/03 (zero-rated by PRO): HUY PRO on 05/03 asks nothing,
    refunds nothing, and PRO runs to 10:00 02/04, then BASIC."""
    await _pro(h)
    used = await h.use(M, "meet", 5_000_000, at=local(2026, 3, 4, 15, 0))
    assert (used.zero_rated, used.package, used.charged) == (True, "PRO", 0)

    replies = await h.texts(MEETINGS, M, "HUY PRO", at=local(2026, 3, 5, 10, 0))

    assert replies == [_pending("PRO", "10:00 02/04/2026")]
    assert h.conversation(M, MEETINGS) is None
    assert [c.reason for c in h.charges(M)] == ["registration"]
    assert h.balance(M) == 670_000
    pro = h.latest(M, "PRO")
    assert (pro.status, pro.auto_renew, pro.next_action_at) == ("pending_cancel", False, MONTH_END)
    assert await h.due_texts(MONTH_END) == [
        "Goi PRO da ket thuc, tai khoan hop chuyen ve goi BASIC."
    ]
    assert h.states(M) == [("PRO", "cancelled"), ("BASIC", "active")]
    assert len(h.charges(M)) == 1


async def test_usage_before_the_last_payment_does_not_block_the_refund(
    h: PolicyHarness,
) -> None:
    """Used in March, renewed 10:00 02/04 (330,000): nothing used since that payment, so
    HUY PRO on 05/04 offers that payment back (340,000 + 330,000 = 670,000)."""
    await _pro(h)
    await h.use(M, "meet", 5_000_000, at=local(2026, 3, 4, 15, 0))
    await h.due_texts(MONTH_END)

    assert await h.texts(MEETINGS, M, "HUY PRO", at=local(2026, 4, 5, 10, 0)) == [
        ASK_REFUND.replace("02/04/2026", "02/05/2026")  # the April period runs to 02/05
    ]
    assert await h.texts(MEETINGS, M, "Y", at=local(2026, 4, 5, 10, 1)) == REFUNDED
    assert h.balance(M) == 670_000


# --- reactivation ------------------------------------------------------------------------


async def _pro_cancelled_to_month_end(h: PolicyHarness) -> None:
    await _pro(h)
    await h.use(M, "meet", 1_000, at=local(2026, 3, 4, 15, 0))
    await h.texts(MEETINGS, M, "HUY PRO", at=local(2026, 3, 5, 10, 0))
    assert h.latest(M, "PRO").status == "pending_cancel"


@pytest.mark.parametrize(
    "at",
    [
        pytest.param(local(2026, 3, 20, 10, 0), id="mid-month"),
        pytest.param(MONTH_END - timedelta(seconds=1), id="last-second"),
    ],
)
async def test_kh_before_the_month_end_brings_pro_back_and_it_renews(
    h: PolicyHarness, at: datetime
) -> None:
    """KH PRO before 10:00 02/04: active again, renewing; at 10:00 02/04 it is charged
    330,000 (670,000 − 330,000 = 340,000) for a month to 10:00 02/05."""
    await _pro_cancelled_to_month_end(h)

    assert await h.texts(MEETINGS, M, "KH PRO", at=at) == [
        "Goi PRO da duoc kich hoat lai va se tu dong gia han tu 10:00 02/04/2026."
    ]
    pro = h.latest(M, "PRO")
    assert (pro.status, pro.auto_renew, pro.cancelled_at) == ("active", True, None)

    assert await h.due_texts(MONTH_END) == [
        "Goi PRO da duoc gia han, cuoc 330.000d tru vao TK chinh. Hieu luc den 10:00"
        " 02/05/2026. Huy: soan HUY PRO gui 8100."
    ]
    assert [(c.reason, c.amount, c.at) for c in h.charges(M)][-1] == (
        "renewal",
        330_000,
        MONTH_END,
    )
    assert h.balance(M) == 340_000
    assert h.states(M) == [("PRO", "active")]


@pytest.mark.parametrize(
    ("at", "run_first"),
    [
        pytest.param(MONTH_END, False, id="at-the-end-instant"),
        pytest.param(local(2026, 4, 3, 10, 0), True, id="after-it-ended"),
    ],
)
async def test_kh_once_the_month_ended_cannot_reactivate(
    h: PolicyHarness, at: datetime, run_first: bool
) -> None:
    """At or after 10:00 02/04 PRO is over: KH PRO is refused, the account stays on
    BASIC, nothing is charged."""
    await _pro_cancelled_to_month_end(h)
    if run_first:
        await h.due_texts(MONTH_END)

    assert await h.texts(MEETINGS, M, "KH PRO", at=at) == [
        "Goi PRO khong o trang thai cho ket thuc nen khong the kich hoat lai."
    ]
    await h.due_texts(at)
    assert h.states(M) == [("PRO", "cancelled"), ("BASIC", "active")]
    assert h.balance(M) == 670_000


async def test_kh_of_a_plan_not_cancelled_changes_nothing(h: PolicyHarness) -> None:
    await _pro(h)

    assert await h.texts(MEETINGS, M, "KH PRO", at=local(2026, 3, 5, 10, 0)) == [
        "Goi PRO khong o trang thai cho ket thuc nen khong the kich hoat lai."
    ]
    assert h.states(M) == [("PRO", "active")]


# --- contact sales -------------------------------------------------------------------


async def test_huy_biz_says_contact_sales_and_changes_nothing(h: PolicyHarness) -> None:
    """BIZ (550,000) cannot be cancelled by SMS: it stays active and renews."""
    await h.provision(M, at=local(2026, 3, 1), kind="prepaid", balance=START)
    await h.texts(MEETINGS, M, "DK BIZ", at=BOUGHT)

    replies = await h.texts(MEETINGS, M, "HUY BIZ", at=local(2026, 3, 5, 10, 0))

    assert replies == [
        "Goi BIZ khong the tu huy qua tin nhan. Vui long lien he bo phan kinh doanh hoac"
        " quan ly tai khoan cua Quy khach de huy goi."
    ]
    biz = h.latest(M, "BIZ")
    assert (biz.status, biz.auto_renew, biz.next_action_at) == ("active", True, MONTH_END)
    assert h.conversation(M, MEETINGS) is None
    assert [(c.reason, c.amount) for c in h.charges(M)] == [("registration", 550_000)]
    assert h.balance(M) == 450_000


# --- the recording add-on ------------------------------------------------------------

NEEDS_BASE = (
    "Goi REC la tien ich bo sung, chi dang ky duoc khi Quy khach dang dung mot goi hop (meet)."
)


@pytest.mark.parametrize(
    "before",
    [pytest.param([], id="no-plan"), pytest.param(["DK BASIC"], id="only-the-free-plan")],
)
async def test_dk_rec_without_a_paid_plan_is_refused(h: PolicyHarness, before: list[str]) -> None:
    await h.provision(M, at=local(2026, 3, 1), kind="prepaid", balance=START)
    for text in before:
        await h.texts(MEETINGS, M, text, at=BOUGHT)

    assert await h.texts(MEETINGS, M, "DK REC", at=local(2026, 3, 10, 10, 0)) == [NEEDS_BASE]
    assert all(c.package != "REC" for c in h.charges(M))
    assert h.balance(M) == START


async def test_rec_runs_to_its_own_month_end_while_pro_continues(h: PolicyHarness) -> None:
    """PRO from 02/03, REC from 10:00 10/03 (110,000; 670,000 − 110,000 = 560,000), to
    10:00 10/04. HUY REC on 15/03 stops its renewal only: PRO renews on 02/04 (330,000,
    230,000 left), REC ends on 10/04 with no charge, PRO goes on to 02/05."""
    await _pro(h)
    rec_at = local(2026, 3, 10, 10, 0)
    assert await h.texts(MEETINGS, M, "DK REC", at=rec_at) == [
        "Dang ky thanh cong goi REC (Ghi hinh cuoc hop len dam may), cuoc 110.000d tru vao"
        " TK chinh. Hieu luc den 10:00 10/04/2026, tu dong gia han hang thang. Huy: soan"
        " HUY REC gui 8100."
    ]
    assert h.balance(M) == 560_000

    replies = await h.texts(MEETINGS, M, "HUY REC", at=local(2026, 3, 15, 10, 0))

    assert replies == [_pending("REC", "10:00 10/04/2026")]
    assert h.states(M) == [("PRO", "active"), ("REC", "pending_cancel")]
    assert await h.due_texts(local(2026, 4, 10, 10, 0)) == [
        "Goi PRO da duoc gia han, cuoc 330.000d tru vao TK chinh. Hieu luc den 10:00"
        " 02/05/2026. Huy: soan HUY PRO gui 8100.",
        "Goi REC da ket thuc.",
    ]
    assert [(c.package, c.reason, c.amount) for c in h.charges(M)] == [
        ("PRO", "registration", 330_000),
        ("REC", "registration", 110_000),
        ("PRO", "renewal", 330_000),
    ]
    assert h.balance(M) == 230_000
    assert h.states(M) == [("PRO", "active"), ("REC", "cancelled")]
    assert h.latest(M, "REC").expires_at == local(2026, 4, 10, 10, 0)


async def test_rec_does_not_renew_once_its_base_plan_is_gone(h: PolicyHarness) -> None:
    """PRO 10:00 02/03, REC 11:00 02/03 (1,000,000 − 440,000 = 560,000). PRO refunded at
    10:01 05/03 (890,000). REC needs a paid meetings plan, so it is not renewed at 11:00
    02/04: the balance stays 890,000."""
    await _pro(h)
    await h.texts(MEETINGS, M, "DK REC", at=local(2026, 3, 2, 11, 0))
    await h.texts(MEETINGS, M, "HUY PRO", at=local(2026, 3, 5, 10, 0))
    await h.texts(MEETINGS, M, "Y", at=local(2026, 3, 5, 10, 1))
    assert h.balance(M) == 890_000

    await h.due_texts(local(2026, 4, 3))

    assert [c.reason for c in h.charges(M) if c.package == "REC"] == ["registration"]
    assert h.balance(M) == 890_000
