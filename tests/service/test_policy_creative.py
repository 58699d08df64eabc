"""The creative suite's terms through the engine, by SMS to 8200 (seed 001).

The terms page, in short: a trial converts *"theo mức phí được nêu vào ngày bạn đăng ký
dùng thử"* (at the price shown on the sign-up day) unless cancelled before it ends;
*"bạn sẽ được hoàn lại tiền toàn bộ nếu hủy trong vòng 14 ngày kể từ lần mua đầu
tiên"* (a full refund within 14 days of the first purchase); after 14 days, annual paid
monthly: *"phí hủy ... là 50% số dư còn lại của nghĩa vụ hợp đồng ... Dịch vụ của bạn sẽ
tiếp tục cho đến khi kết thúc kỳ thanh toán của tháng đó"*; annual prepaid: no refund,
*"dịch vụ ... sẽ tiếp tục cho đến hết thời hạn hợp đồng"*; monthly: no refund, *"cho đến
cuối thời hạn thanh toán của tháng đó"*; then *"tài khoản của bạn sẽ được chuyển sang
thành viên Creative Cloud miễn phí"*. *"giá sẽ cố định trong suốt thời hạn gói đăng ký"*.

creative.toml: CFREE free; CAPM 500,000/month, 12-month commitment, 7-day trial,
550,000 for sign-ups from 01/07/2026 (announced 01/05, 30 days' notice); CPUF 5,000,000
for 12 months upfront; CMON 700,000/month. Every instant is local Asia/Ho_Chi_Minh and
every amount and date below is worked out by hand from those figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from carrier_rules import SubscriberKind
from tests.service.policy_harness import CREATIVE, PolicyHarness, make_policy_harness
from tests.service.stores import StoreUnderTest
from tests.service.support import local

C = "84913000001"

#: CAPM signed up 02/03/2026 10:00; the trial ends 7 days later, 09/03 10:00, when the
#: first payment P is taken; its month runs to 09/04 10:00 (same day and time).
SIGN_UP = local(2026, 3, 2, 10, 0)
P = local(2026, 3, 9, 10, 0)
P_MONTH_END = local(2026, 4, 9, 10, 0)

CFREE_AFTER_CAPM = "Goi CAPM da ket thuc, tai khoan chuyen sang goi CFREE (luu tru 2 GB)."
CAPM_BENEFIT = "Bo ung dung sang tao, goi nam tra hang thang, cam ket 12 thang"


@pytest.fixture
def h(service_store: StoreUnderTest) -> PolicyHarness:
    return make_policy_harness(store=service_store)


async def _customer(h: PolicyHarness, balance: int, kind: SubscriberKind = "prepaid") -> None:
    await h.provision(C, at=local(2026, 3, 1), kind=kind, balance=balance)


def _trial_text(ends: str, price: str) -> str:
    """``trial_started`` of creative.toml (vi) for CAPM, filled in by hand."""
    return (
        f"Dang ky dung thu goi CAPM ({CAPM_BENEFIT}): mien phi den {ends}, sau do"
        f" {price}/thang theo gia hom nay, tu dong gia han. Huy truoc {ends} de khong bi"
        " tinh phi: soan HUY CAPM gui 8200."
    )


def _pending_text(code: str, until: str) -> str:
    """``pending_cancel`` of creative.toml (vi), filled in by hand."""
    return (
        f"Goi {code} da dung tu dong gia han va van su dung duoc den {until},"
        " sau do tai khoan chuyen ve thanh vien mien phi."
    )


def _notice(first_renewal: str) -> str:
    """The default ``price_notice`` (vi) of the 550,000 CAPM price, as appended to a
    sign-up confirmation (" " first), filled in by hand."""
    return (
        f" Thong bao: tu ky gia han {first_renewal}, cuoc goi CAPM la 550.000d/thang (hien"
        " nay 500.000d). Gia chi thay doi khi gia han. Neu khong muon tiep tuc, soan HUY"
        f" CAPM gui 8200 truoc {first_renewal}."
    )


# --- the trial ------------------------------------------------------------------------


async def test_dk_capm_starts_a_7_day_trial_that_charges_nothing(h: PolicyHarness) -> None:
    """DK CAPM at 10:00 02/03: a trial to 10:00 09/03 (2 + 7), 500,000 afterwards; no
    charge, the balance untouched, the plan in ``trial`` until its end."""
    await _customer(h, 1_000_000)

    replies = await h.texts(CREATIVE, C, "DK CAPM", at=SIGN_UP)

    assert replies == [_trial_text("10:00 09/03/2026", "500.000d")]
    assert h.charges(C) == []
    assert h.balance(C) == 1_000_000
    capm = h.latest(C, "CAPM")
    assert (capm.status, capm.next_action_at) == ("trial", P)


async def test_the_trial_converts_at_its_end_for_the_price_shown(h: PolicyHarness) -> None:
    """At 10:00 09/03 the trial ends: 500,000 is taken (1,000,000 − 500,000 = 500,000
    left) and the first month runs to 10:00 09/04."""
    await _customer(h, 1_000_000)
    await h.texts(CREATIVE, C, "DK CAPM", at=SIGN_UP)

    assert await h.due_texts(P - timedelta(seconds=1)) == []
    texts = await h.due_texts(P)

    assert texts == [
        "Goi CAPM da duoc gia han, cuoc 500.000d tru vao TK chinh. Hieu luc den"
        " 10:00 09/04/2026. Huy: soan HUY CAPM gui 8200."
    ]
    assert [(c.amount, c.at) for c in h.charges(C)] == [(500_000, P)]
    assert h.balance(C) == 500_000
    capm = h.latest(C, "CAPM")
    assert (capm.status, capm.first_paid_at, capm.expires_at) == ("active", P, P_MONTH_END)


@pytest.mark.parametrize(
    ("signed_up", "trial_ends", "price", "payments", "notice"),
    [
        pytest.param(
            # 28/06 + 7 days = 05/07; the 550,000 price is for sign-ups from 01/07, and
            # the conversion on 05/07 keeps the price shown on 28/06. The second month
            # (05/08) is inside the 12-month term: the price is fixed, still 500,000.
            local(2026, 6, 28, 10, 0),
            "10:00 05/07/2026",
            "500.000d",
            [(500_000, local(2026, 7, 5, 10, 0)), (500_000, local(2026, 8, 5, 10, 0))],
            # signed after the 550,000 was announced (01/05): told at once that it
            # reaches this plan at the renewal that starts its second term, 12 monthly
            # payments after 05/07/2026: 10:00 05/07/2027
            _notice("10:00 05/07/2027"),
            id="signed-28-06-converts-05-07-at-500000",
        ),
        pytest.param(
            # the last second of 30/06 is still before 01/07: 500,000; 30/06 23:59:59
            # + 7 days = 07/07 23:59:59, then 07/08 23:59:59.
            local(2026, 6, 30, 23, 59, 59),
            "23:59 07/07/2026",
            "500.000d",
            [
                (500_000, local(2026, 7, 7, 23, 59, 59)),
                (500_000, local(2026, 8, 7, 23, 59, 59)),
            ],
            _notice("23:59 07/07/2027"),
            id="signed-last-second-of-30-06-at-500000",
        ),
        pytest.param(
            # signed on 01/07 00:00: the new price is shown and kept: 550,000 on 08/07
            # and 08/08.
            local(2026, 7, 1, 0, 0),
            "00:00 08/07/2026",
            "550.000d",
            [(550_000, local(2026, 7, 8, 0, 0)), (550_000, local(2026, 8, 8, 0, 0))],
            "",  # it pays the new price already: nothing to announce
            id="signed-01-07-at-550000",
        ),
    ],
)
async def test_a_trial_converts_at_the_price_shown_on_the_sign_up_day(
    h: PolicyHarness,
    signed_up: datetime,
    trial_ends: str,
    price: str,
    payments: list[tuple[int, datetime]],
    notice: str,
) -> None:
    """ "theo mức phí được nêu vào ngày bạn đăng ký dùng thử": the price a trial converts
    at is the one shown on the sign-up day, and it holds for the term."""
    start = sum(amount for amount, _ in payments)  # exactly enough for both months
    await _customer(h, start)

    assert await h.texts(CREATIVE, C, "DK CAPM", at=signed_up) == [
        _trial_text(trial_ends, price) + notice
    ]
    await h.due_texts(payments[-1][1])

    assert [(c.amount, c.at, c.reason) for c in h.charges(C)] == [
        (amount, at, "renewal") for amount, at in payments
    ]
    assert [c.inputs["list_price"] for c in h.charges(C)] == [a for a, _ in payments]
    assert h.balance(C) == 0


async def test_huy_during_the_trial_ends_it_now_charges_nothing_and_drops_to_cfree(
    h: PolicyHarness,
) -> None:
    """HUY CAPM on day 3 of the trial (10:00 05/03): it ends at once, nothing is ever
    charged (not at 09/03 either), the account is on the free membership."""
    await _customer(h, 1_000_000)
    await h.texts(CREATIVE, C, "DK CAPM", at=SIGN_UP)
    cancel_at = local(2026, 3, 5, 10, 0)

    replies = await h.texts(CREATIVE, C, "HUY CAPM", at=cancel_at)

    assert replies == [
        "Quy khach da huy goi CAPM. Goi ngung hieu luc tu 10:00 05/03/2026 va khong tu"
        " dong gia han.",
        CFREE_AFTER_CAPM,
    ]
    assert await h.due_texts(local(2026, 4, 30)) == []
    assert h.charges(C) == []
    assert h.balance(C) == 1_000_000
    assert h.states(C) == [("CAPM", "cancelled"), ("CFREE", "active")]
    assert h.latest(C, "CFREE").started_at == cancel_at


# --- cancelling after the first payment ----------------------------------------------


@dataclass(frozen=True)
class Cancel:
    """A cancellation after the first payment P = 10:00 09/03/2026, by hand."""

    code: str
    price: int
    at: datetime
    replies: list[str]
    #: (reason, amount, rule) of the charge the cancellation books, if any
    booked: tuple[str, int, str] | None
    status: str
    #: when the service stops: now for a refund, else the end of the month or term
    ends_at: datetime


_START = 6_000_000  # enough for CPUF (5,000,000) and for CAPM plus its fee (3,250,000)

CANCELS = [
    pytest.param(
        Cancel(
            "CAPM",
            500_000,
            local(2026, 3, 22, 10, 0),  # P + 13 days: within 14 days of the first purchase
            [
                "Quy khach da huy goi CAPM trong vong 14 ngay ke tu lan mua dau tien va duoc"
                " hoan 500.000d. Goi ket thuc ngay.",
                CFREE_AFTER_CAPM,
            ],
            ("refund", -500_000, "within_14_days_full"),
            "cancelled",
            local(2026, 3, 22, 10, 0),
        ),
        id="CAPM-day-13-full-refund",
    ),
    pytest.param(
        Cancel(
            "CAPM",
            500_000,
            local(2026, 3, 23, 9, 59, 59),  # the last second before P + 14 days
            [
                "Quy khach da huy goi CAPM trong vong 14 ngay ke tu lan mua dau tien va duoc"
                " hoan 500.000d. Goi ket thuc ngay.",
                CFREE_AFTER_CAPM,
            ],
            ("refund", -500_000, "within_14_days_full"),
            "cancelled",
            local(2026, 3, 23, 9, 59, 59),
        ),
        id="CAPM-last-second-of-14-days-full-refund",
    ),
    pytest.param(
        Cancel(
            "CAPM",
            500_000,
            local(2026, 3, 23, 10, 0),  # exactly P + 14 days: no longer "within"
            # fee: (12 periods − 1 paid) × 500,000 × 50 % = 11 × 250,000 = 2,750,000
            [
                _pending_text("CAPM", "10:00 09/04/2026")
                + " Phi cham dut hop dong truoc han: 2.750.000d."
            ],
            ("fee", 2_750_000, "early_termination_50pct_of_remaining"),
            "pending_cancel",
            P_MONTH_END,
        ),
        id="CAPM-exactly-14-days-fee",
    ),
    pytest.param(
        Cancel(
            "CAPM",
            500_000,
            local(2026, 3, 24, 10, 0),  # P + 15 days
            # 11 × 500,000 × 50 % = 2,750,000; service to the end of the month, 09/04
            [
                _pending_text("CAPM", "10:00 09/04/2026")
                + " Phi cham dut hop dong truoc han: 2.750.000d."
            ],
            ("fee", 2_750_000, "early_termination_50pct_of_remaining"),
            "pending_cancel",
            P_MONTH_END,
        ),
        id="CAPM-day-15-fee-to-month-end",
    ),
    pytest.param(
        Cancel(
            "CMON",
            700_000,
            local(2026, 3, 22, 10, 0),
            [
                "Quy khach da huy goi CMON trong vong 14 ngay ke tu lan mua dau tien va duoc"
                " hoan 700.000d. Goi ket thuc ngay.",
                "Goi CMON da ket thuc, tai khoan chuyen sang goi CFREE (luu tru 2 GB).",
            ],
            ("refund", -700_000, "within_14_days_full"),
            "cancelled",
            local(2026, 3, 22, 10, 0),
        ),
        id="CMON-day-13-full-refund",
    ),
    pytest.param(
        Cancel(
            "CMON",
            700_000,
            local(2026, 3, 24, 10, 0),
            # no refund, no commitment so no fee; runs to the end of its month, 09/04
            [_pending_text("CMON", "10:00 09/04/2026")],
            None,
            "pending_cancel",
            P_MONTH_END,
        ),
        id="CMON-day-15-runs-to-month-end",
    ),
    pytest.param(
        Cancel(
            "CPUF",
            5_000_000,
            local(2026, 3, 22, 10, 0),
            [
                "Quy khach da huy goi CPUF trong vong 14 ngay ke tu lan mua dau tien va duoc"
                " hoan 5.000.000d. Goi ket thuc ngay.",
                "Goi CPUF da ket thuc, tai khoan chuyen sang goi CFREE (luu tru 2 GB).",
            ],
            ("refund", -5_000_000, "within_14_days_full"),
            "cancelled",
            local(2026, 3, 22, 10, 0),
        ),
        id="CPUF-day-13-full-refund",
    ),
    pytest.param(
        Cancel(
            "CPUF",
            5_000_000,
            local(2026, 3, 24, 10, 0),
            # no refund; runs to the end of the 12 months paid: 09/03/2026 + 12 = 09/03/2027
            [_pending_text("CPUF", "10:00 09/03/2027")],
            None,
            "pending_cancel",
            local(2027, 3, 9, 10, 0),
        ),
        id="CPUF-day-15-runs-to-end-of-term",
    ),
]


async def _first_payment_at_p(h: PolicyHarness, code: str) -> None:
    """CAPM: signed up 7 days before P, converted at P; CMON and CPUF: bought at P."""
    if code == "CAPM":
        await h.texts(CREATIVE, C, "DK CAPM", at=SIGN_UP)
        await h.due_texts(P)
    else:
        await h.texts(CREATIVE, C, f"DK {code}", at=P)


@pytest.mark.parametrize("case", CANCELS)
async def test_cancel_after_the_first_payment(h: PolicyHarness, case: Cancel) -> None:
    """Within 14 days of the first payment: a full refund, the plan ends now and the
    account drops to CFREE. After: CAPM owes the fee and runs to the end of the month;
    CMON runs to the end of the month; CPUF to the end of its 12 months."""
    await _customer(h, _START)
    await _first_payment_at_p(h, case.code)
    assert [(c.amount, c.at) for c in h.charges(C)] == [(case.price, P)]

    replies = await h.texts(CREATIVE, C, f"HUY {case.code}", at=case.at)

    assert replies == case.replies
    later = [(c.reason, c.amount, c.rule) for c in h.charges(C)[1:]]
    assert later == ([] if case.booked is None else [case.booked])
    booked = 0 if case.booked is None else case.booked[1]
    assert h.balance(C) == _START - case.price - booked
    plan = h.latest(C, case.code)
    assert plan.status == case.status
    assert plan.auto_renew is False
    if case.status == "cancelled":
        assert plan.expires_at == case.at
        assert h.states(C) == [(case.code, "cancelled"), ("CFREE", "active")]
        assert h.latest(C, "CFREE").started_at == case.at
    else:
        assert plan.next_action_at == case.ends_at
        assert h.states(C) == [(case.code, "pending_cancel")]


#: the cancellations that run to the end of the month or term
ENDING = [p for p in CANCELS if isinstance(c := p.values[0], Cancel) and c.ends_at > c.at]


@pytest.mark.parametrize("case", ENDING)
async def test_a_plan_cancelled_to_its_end_stops_then_and_cfree_starts(
    h: PolicyHarness, case: Cancel
) -> None:
    """At the end of the month (or term) the plan ends, nothing more is charged, and
    CFREE is active from that very instant."""
    await _customer(h, _START)
    await _first_payment_at_p(h, case.code)
    await h.texts(CREATIVE, C, f"HUY {case.code}", at=case.at)
    charged = len(h.charges(C))

    assert await h.due_texts(case.ends_at - timedelta(seconds=1)) == []
    texts = await h.due_texts(case.ends_at)

    assert texts == [
        f"Goi {case.code} da ket thuc, tai khoan chuyen sang goi CFREE (luu tru 2 GB)."
    ]
    assert len(h.charges(C)) == charged
    plan = h.latest(C, case.code)
    assert (plan.status, plan.expires_at, plan.next_action_at) == (
        "cancelled",
        case.ends_at,
        None,
    )
    cfree = h.latest(C, "CFREE")
    assert (cfree.status, cfree.started_at) == ("active", case.ends_at)
    assert await h.due_texts(case.ends_at + timedelta(days=400)) == []


async def test_the_refund_gives_the_balance_back_and_explains_itself(h: PolicyHarness) -> None:
    """The day-13 refund of CAPM: a ledger entry +500,000 (0 → 500,000 after the
    conversion took it all) and the facts it was decided on."""
    await _customer(h, 500_000)
    await _first_payment_at_p(h, "CAPM")
    assert h.balance(C) == 0

    await h.texts(CREATIVE, C, "HUY CAPM", at=local(2026, 3, 22, 10, 0))

    entry = h.ledger(C)[-1]
    assert (entry.reason, entry.delta, entry.balance_after) == ("refund", 500_000, 500_000)
    refund = h.charges(C)[-1]
    assert refund.inputs["decision"] == "within_14_days_full"
    assert refund.inputs["first_paid_at"] == P.isoformat()
    assert refund.inputs["last_paid_amount"] == 500_000
    assert refund.inputs["local_time"] == "2026-03-22T10:00:00+07:00"


async def test_the_fee_of_a_postpaid_subscriber_goes_on_the_invoice(h: PolicyHarness) -> None:
    """Postpaid CAPM: the conversion (500,000) and the day-15 fee (11 × 500,000 × 50 %
    = 2,750,000) are both on the March 2026 invoice; the balance is never touched."""
    await _customer(h, 0, kind="postpaid")
    await _first_payment_at_p(h, "CAPM")

    replies = await h.texts(CREATIVE, C, "HUY CAPM", at=local(2026, 3, 24, 10, 0))

    assert replies == [
        _pending_text("CAPM", "10:00 09/04/2026") + " Phi cham dut hop dong truoc han: 2.750.000d."
    ]
    assert [(x.description, x.amount) for x in h.invoice(C, "2026-03")] == [
        ("CAPM renewal", 500_000),
        ("CAPM fee", 2_750_000),
    ]
    fee = h.charges(C)[-1]
    assert (fee.reason, fee.billing, fee.invoice_month) == ("fee", "invoice", "2026-03")
    assert fee.inputs["periods_paid"] == 1
    assert fee.inputs["list_price"] == 500_000
    assert h.balance(C) == 0


async def test_the_fee_in_month_5_of_12_is_half_of_the_7_months_left(h: PolicyHarness) -> None:
    """Five payments, 09/03, 09/04, 09/05, 09/06 and 09/07, each 500,000 (the 550,000 of
    01/07 does not reach a running term). Cancelled 10:00 20/07: fee (12 − 5) × 500,000
    × 50 % = 1,750,000; service to the end of that month, 10:00 09/08, then CFREE.
    Balance 5 × 500,000 + 1,750,000 = 4,250,000 leaves exactly 0."""
    await _customer(h, 4_250_000)
    await _first_payment_at_p(h, "CAPM")
    await h.due_texts(local(2026, 7, 20, 10, 0))
    assert [(c.amount, c.at) for c in h.charges(C)] == [
        (500_000, local(2026, month, 9, 10, 0)) for month in (3, 4, 5, 6, 7)
    ]

    replies = await h.texts(CREATIVE, C, "HUY CAPM", at=local(2026, 7, 20, 10, 0))

    assert replies == [
        _pending_text("CAPM", "10:00 09/08/2026") + " Phi cham dut hop dong truoc han: 1.750.000d."
    ]
    fee = h.charges(C)[-1]
    assert (fee.reason, fee.amount, fee.inputs["periods_paid"]) == ("fee", 1_750_000, 5)
    assert h.balance(C) == 0
    assert await h.due_texts(local(2026, 8, 9, 10, 0)) == [CFREE_AFTER_CAPM]
    assert h.states(C) == [("CAPM", "cancelled"), ("CFREE", "active")]


async def test_the_new_price_reaches_capm_only_when_a_new_term_starts(h: PolicyHarness) -> None:
    """Twelve payments of 500,000 from 09/03/2026 to 09/02/2027 (the term), then the
    13th on 09/03/2027 starts a new term at the price in force, 550,000 (from 01/07/2026,
    announced 01/05/2026 + 30 days = 31/05/2026, before it). 12 × 500,000 + 550,000 =
    6,550,000 leaves exactly 0."""
    await _customer(h, 6_550_000)
    await _first_payment_at_p(h, "CAPM")

    await h.due_texts(local(2027, 3, 9, 10, 0))

    dates = [local(2026, m, 9, 10, 0) for m in range(3, 13)] + [
        local(2027, m, 9, 10, 0) for m in (1, 2, 3)
    ]
    assert [(c.amount, c.at) for c in h.charges(C)] == [(500_000, d) for d in dates[:12]] + [
        (550_000, dates[12])
    ]
    assert h.balance(C) == 0


async def test_a_second_sign_up_to_a_plan_gets_no_second_trial(h: PolicyHarness) -> None:
    """One trial per plan: DK CAPM at 10:00 02/03 starts the 7-day trial, HUY CAPM during
    it charges nothing; DK CAPM again on 04/03 is paid at once (1,000,000 − 500,000 =
    500,000) and its first month runs to 10:00 04/04."""
    await _customer(h, 1_000_000)
    await h.texts(CREATIVE, C, "DK CAPM", at=SIGN_UP)
    await h.texts(CREATIVE, C, "HUY CAPM", at=local(2026, 3, 3, 10, 0))
    assert h.charges(C) == []

    again = local(2026, 3, 4, 10, 0)
    await h.texts(CREATIVE, C, "DK CAPM", at=again)

    assert [(c.reason, c.amount, c.at) for c in h.charges(C)] == [("registration", 500_000, again)]
    assert h.balance(C) == 500_000
    capm = h.latest(C, "CAPM")
    assert (capm.status, capm.expires_at) == ("active", local(2026, 4, 4, 10, 0))
