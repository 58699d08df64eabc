"""Creative-suite terms (seed 001): the 14-day refund, the early-termination fee, trials,
prices fixed at sign-up, and the end of a commitment.

The terms page, in short: *"bạn sẽ được hoàn lại tiền toàn bộ nếu hủy trong vòng 14
ngày kể từ lần mua đầu tiên"* (full refund within 14 days of the first purchase). After
14 days there is no refund, and: annual paid monthly, *"phí hủy ... là 50% số dư còn lại
của nghĩa vụ hợp đồng ... Dịch vụ của bạn sẽ tiếp tục cho đến khi kết thúc kỳ thanh toán
của tháng đó"*; annual prepaid, *"dịch vụ ... sẽ tiếp tục cho đến hết thời hạn hợp
đồng"*; monthly, *"dịch vụ sẽ tiếp tục cho đến cuối thời hạn thanh toán của tháng đó"*.
A trial converts *"theo mức phí được nêu vào ngày bạn đăng ký dùng thử"* (at the price
shown on the sign-up day); *"giá sẽ cố định trong suốt thời hạn gói đăng ký. Giá có thể
thay đổi, nhưng chỉ khi gia hạn và chúng tôi sẽ luôn thông báo cho bạn trước"*.

The shipped catalog (8200): CFREE free; CAPM 500,000/month on a 12-month commitment
with a 7-day trial and a 550,000 price from 01/07/2026 (announced 01/05/2026, 30 days'
notice); CPUF 5,000,000 for 12 months upfront; CMON 700,000/month. Every instant is
local Asia/Ho_Chi_Minh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from carrier_rules import (
    Catalog,
    Charge,
    Holding,
    PriceVersion,
    announcements,
    cancel_decision,
    first_renewal_at_version,
    list_price,
    period_from,
    term_end,
    trial_end,
)
from tests.unit.policy_support import (
    HCM,
    load_catalog,
    local,
    package,
    paid_holding,
    trial_holding,
)


@pytest.fixture(scope="module")
def creative() -> Catalog:
    return load_catalog("creative")


# --- the plans as data -------------------------------------------------------------------


@pytest.mark.parametrize("code", ["CAPM", "CPUF", "CMON"])
def test_every_paid_plan_drops_to_the_free_membership(creative: Catalog, code: str) -> None:
    """ "tài khoản của bạn sẽ được chuyển sang thành viên Creative Cloud miễn phí": every
    paid plan falls back to CFREE, which costs nothing."""
    assert package(creative, code).fallback == "CFREE"
    assert package(creative, "CFREE").price == 0


@pytest.mark.parametrize("code", ["CAPM", "CPUF", "CMON"])
def test_every_paid_plan_refunds_in_full_within_14_days(creative: Catalog, code: str) -> None:
    """The one refund rule of every paid plan: full, within 14 days of the first purchase."""
    refunds = package(creative, code).cancellation.refunds
    assert [(r.name, r.within_days, r.refund) for r in refunds] == [
        ("within_14_days_full", 14, "full")
    ]


# --- 14 days after the first purchase ----------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Case:
    """One cancellation: the plan, what the subscriber holds, when, and the hand result."""

    code: str
    holding: Holding
    at: datetime
    status: str
    ends_at: datetime
    refund: int | None
    fee: int | None
    rule: str


# CAPM: signed up 24/01/2026 10:00, trial 7 days → first payment 31/01 10:00 (24 + 7 =
# 31), 500,000; its first billing month runs to 28/02 10:00 (31/01 + 1 month, clamped to
# the last day of February; 2026 is not a leap year).
_CAPM_FIRST_MONTH = paid_holding(
    signed_up_at=local(2026, 1, 24),
    first_paid_at=local(2026, 1, 31),
    last_paid_at=local(2026, 1, 31),
    last_paid_amount=500_000,
    periods_paid=1,
    period_start=local(2026, 1, 31),
    period_end=local(2026, 2, 28),
    used_since_last_payment=True,
)
# CPUF: paid 10/03/2026 10:00, 5,000,000 for the year: 10/03/2026 → 10/03/2027 10:00.
_CPUF_YEAR = paid_holding(
    first_paid_at=local(2026, 3, 10),
    last_paid_at=local(2026, 3, 10),
    last_paid_amount=5_000_000,
    periods_paid=1,
    period_start=local(2026, 3, 10),
    period_end=local(2027, 3, 10),
    used_since_last_payment=True,
)
# CMON: paid 10/03/2026 10:00, 700,000 for the month: 10/03 → 10/04/2026 10:00.
_CMON_MONTH = paid_holding(
    first_paid_at=local(2026, 3, 10),
    last_paid_at=local(2026, 3, 10),
    last_paid_amount=700_000,
    periods_paid=1,
    period_start=local(2026, 3, 10),
    period_end=local(2026, 4, 10),
    used_since_last_payment=True,
)

WINDOW_CASES = [
    # CAPM, 13 days after the first payment: 31/01 + 13 days = 13/02 10:00 (20 days after
    # sign-up: the window counts from the purchase, not the trial). Refund of the last
    # payment, 500,000; ends now; no fee.
    pytest.param(
        Case(
            code="CAPM",
            holding=_CAPM_FIRST_MONTH,
            at=local(2026, 2, 13),
            status="cancelled",
            ends_at=local(2026, 2, 13),
            refund=-500_000,
            fee=None,
            rule="within_14_days_full",
        ),
        id="CAPM-day-13",
    ),
    # CAPM, 15 days after: 31/01 + 15 = 15/02 10:00. No refund; 1 payment made, so
    # 12 − 1 = 11 months left × 500,000 = 5,500,000; 50 % = 2,750,000. Service to the end of
    # that month's billing period, 28/02 10:00.
    pytest.param(
        Case(
            code="CAPM",
            holding=_CAPM_FIRST_MONTH,
            at=local(2026, 2, 15),
            status="pending_cancel",
            ends_at=local(2026, 2, 28),
            refund=None,
            fee=2_750_000,
            rule="cancel_end_of_period",
        ),
        id="CAPM-day-15",
    ),
    # CPUF, 13 days after: 10/03 + 13 = 23/03 10:00. Refund 5,000,000; ends now.
    pytest.param(
        Case(
            code="CPUF",
            holding=_CPUF_YEAR,
            at=local(2026, 3, 23),
            status="cancelled",
            ends_at=local(2026, 3, 23),
            refund=-5_000_000,
            fee=None,
            rule="within_14_days_full",
        ),
        id="CPUF-day-13",
    ),
    # CPUF, 15 days after: 25/03 10:00. No refund, no fee; runs to the end of the
    # contract: 10/03/2026 + 12 months = 10/03/2027 10:00.
    pytest.param(
        Case(
            code="CPUF",
            holding=_CPUF_YEAR,
            at=local(2026, 3, 25),
            status="pending_cancel",
            ends_at=local(2027, 3, 10),
            refund=None,
            fee=None,
            rule="cancel_end_of_term",
        ),
        id="CPUF-day-15",
    ),
    # CMON, 13 days after: 23/03 10:00. Refund 700,000; ends now.
    pytest.param(
        Case(
            code="CMON",
            holding=_CMON_MONTH,
            at=local(2026, 3, 23),
            status="cancelled",
            ends_at=local(2026, 3, 23),
            refund=-700_000,
            fee=None,
            rule="within_14_days_full",
        ),
        id="CMON-day-13",
    ),
    # CMON, 15 days after: 25/03 10:00. No refund, no fee; to the end of the month's
    # billing period, 10/04 10:00.
    pytest.param(
        Case(
            code="CMON",
            holding=_CMON_MONTH,
            at=local(2026, 3, 25),
            status="pending_cancel",
            ends_at=local(2026, 4, 10),
            refund=None,
            fee=None,
            rule="cancel_end_of_period",
        ),
        id="CMON-day-15",
    ),
    # CPUF renewed 10/03/2027 10:00 for its second year (to 10/03/2028), cancelled 5 days
    # later: the window is "kể từ lần mua đầu tiên", the first purchase (10/03/2026), so
    # no refund; it runs to the end of the paid year, 10/03/2028 10:00.
    pytest.param(
        Case(
            code="CPUF",
            holding=paid_holding(
                first_paid_at=local(2026, 3, 10),
                last_paid_at=local(2027, 3, 10),
                last_paid_amount=5_000_000,
                periods_paid=2,
                period_start=local(2027, 3, 10),
                period_end=local(2028, 3, 10),
                used_since_last_payment=True,
            ),
            at=local(2027, 3, 15),
            status="pending_cancel",
            ends_at=local(2028, 3, 10),
            refund=None,
            fee=None,
            rule="cancel_end_of_term",
        ),
        id="CPUF-second-year-day-5",
    ),
    # CMON, the last second of the 14th day (10/03 10:00 + 14 × 24 h − 1 s = 24/03
    # 09:59:59) is inside the window under any reading of "trong vòng 14 ngày": refund.
    pytest.param(
        Case(
            code="CMON",
            holding=_CMON_MONTH,
            at=local(2026, 3, 24, 9, 59, 59),
            status="cancelled",
            ends_at=local(2026, 3, 24, 9, 59, 59),
            refund=-700_000,
            fee=None,
            rule="within_14_days_full",
        ),
        id="CMON-day-14-last-second",
    ),
]


def _check(creative: Catalog, case: Case) -> None:
    plan = package(creative, case.code)
    decision = cancel_decision(plan, case.holding, "prepaid", case.at, HCM, price=plan.price)
    assert decision.allowed
    assert (decision.status, decision.ends_at, decision.rule) == (
        case.status,
        case.ends_at,
        case.rule,
    )
    refund = None if case.refund is None else Charge(case.refund, "within_14_days_full")
    assert decision.refund == refund
    fee = None if case.fee is None else Charge(case.fee, "early_termination_50pct_of_remaining")
    assert decision.fee == fee


@pytest.mark.parametrize("case", WINDOW_CASES)
def test_refund_within_14_days_and_what_happens_after(creative: Catalog, case: Case) -> None:
    """Within 14 days of the first purchase: the last payment back in full, ends now.
    After: no refund; CAPM owes 50 % of the rest and runs to its month's end, CPUF runs
    to the end of its 12 months, CMON to the end of its month."""
    _check(creative, case)


# --- the early-termination fee over the commitment ---------------------------------------

# CAPM signed up 03/03/2026 10:00, trial to 10/03 10:00 (3 + 7 = 10); paid monthly on the
# 10th from 10/03/2026: payments 1..5 on 10/03, 10/04, 10/05, 10/06, 10/07.
_CAPM_MONTH_5 = paid_holding(
    signed_up_at=local(2026, 3, 3),
    first_paid_at=local(2026, 3, 10),
    last_paid_at=local(2026, 7, 10),
    last_paid_amount=500_000,
    periods_paid=5,
    period_start=local(2026, 7, 10),
    period_end=local(2026, 8, 10),
    used_since_last_payment=True,
)
# ... and payment 12 on 10/02/2027 (03..12 is 10 months, 01 and 02/2027 two more).
_CAPM_MONTH_12 = paid_holding(
    signed_up_at=local(2026, 3, 3),
    first_paid_at=local(2026, 3, 10),
    last_paid_at=local(2027, 2, 10),
    last_paid_amount=500_000,
    periods_paid=12,
    period_start=local(2027, 2, 10),
    period_end=local(2027, 3, 10),
    used_since_last_payment=True,
)

FEE_CASES = [
    # month 5 of 12, cancelled 20/07/2026: 12 − 5 = 7 months left × 500,000 = 3,500,000;
    # 50 % = 1,750,000. Service to the end of month 5's period, 10/08/2026 10:00.
    # (The price is the one fixed at sign-up on 03/03, 500,000, although 550,000 applies
    # to sign-ups from 01/07: "giá sẽ cố định trong suốt thời hạn".)
    pytest.param(
        Case(
            code="CAPM",
            holding=_CAPM_MONTH_5,
            at=local(2026, 7, 20),
            status="pending_cancel",
            ends_at=local(2026, 8, 10),
            refund=None,
            fee=1_750_000,
            rule="cancel_end_of_period",
        ),
        id="CAPM-month-5",
    ),
    # month 12 of 12, cancelled 20/02/2027: 12 − 12 = 0 left → no fee; runs to the end of
    # month 12, 10/03/2027 10:00.
    pytest.param(
        Case(
            code="CAPM",
            holding=_CAPM_MONTH_12,
            at=local(2027, 2, 20),
            status="pending_cancel",
            ends_at=local(2027, 3, 10),
            refund=None,
            fee=None,
            rule="cancel_end_of_period",
        ),
        id="CAPM-month-12",
    ),
]


@pytest.mark.parametrize("case", FEE_CASES)
def test_early_termination_fee_is_half_of_the_months_left(creative: Catalog, case: Case) -> None:
    """CAPM cancelled after the window owes 50 % of the months not yet paid × 500,000
    and keeps the service to the end of the month already paid; nothing left, no fee."""
    plan = package(creative, case.code)
    price = list_price(
        plan, signed_up_at=case.holding.signed_up_at, at=case.at, tz=HCM, renewal=False
    )
    assert price.amount == 500_000  # fixed at the 03/03/2026 sign-up
    _check(creative, case)


# --- the trial ---------------------------------------------------------------------------


def test_trial_ends_seven_days_after_sign_up(creative: Catalog) -> None:
    """CAPM signed up 28/06/2026 10:00 with a 7-day trial converts 05/07 10:00 (28 + 7 =
    35; June has 30 days → 5 July); the plans without a trial have no trial end."""
    assert trial_end(package(creative, "CAPM"), local(2026, 6, 28)) == local(2026, 7, 5)
    assert trial_end(package(creative, "CPUF"), local(2026, 6, 28)) is None
    assert trial_end(package(creative, "CMON"), local(2026, 6, 28)) is None


def test_cancelling_during_the_trial_charges_nothing_and_ends_now(creative: Catalog) -> None:
    """ "trừ khi bạn hủy trước khi thời gian dùng thử kết thúc": CAPM signed up 28/06 10:00,
    cancelled 01/07 12:00 (before the 05/07 conversion): ends then, no refund, no fee."""
    holding = trial_holding(signed_up_at=local(2026, 6, 28), trial_ends_at=local(2026, 7, 5))
    at = local(2026, 7, 1, 12)
    decision = cancel_decision(
        package(creative, "CAPM"), holding, "prepaid", at, HCM, price=500_000
    )
    assert decision.allowed
    assert (decision.status, decision.ends_at) == ("cancelled", at)
    assert decision.refund is None
    assert decision.fee is None
    assert decision.rule == "trial_cancelled_before_conversion"


# --- prices: fixed at sign-up, changed only at a renewal with notice ---------------------


@pytest.mark.parametrize(
    ("signed_up_at", "at", "amount", "rule"),
    [
        # signed up 28/06 (before 01/07): the trial converts 05/07 at 500,000, the price
        # shown that day, although 550,000 applies to sign-ups from 01/07
        pytest.param(
            local(2026, 6, 28), local(2026, 7, 5), 500_000, "list_price", id="trial-28-06"
        ),
        # the last second of 30/06 is still before the new price
        pytest.param(
            local(2026, 6, 30, 23, 59, 59),
            local(2026, 7, 7, 23, 59, 59),
            500_000,
            "list_price",
            id="signed-30-06-23:59:59",
        ),
        # 2026-06-30T17:00Z is 00:00 on 01/07 local: 550,000
        pytest.param(
            datetime(2026, 6, 30, 17, 0, tzinfo=UTC),
            local(2026, 7, 8, 0),
            550_000,
            "price_from_2026-07-01",
            id="signed-01-07-local-from-utc",
        ),
        # signed up 02/07: 550,000 from its first payment (trial end 09/07)
        pytest.param(
            local(2026, 7, 2), local(2026, 7, 9), 550_000, "price_from_2026-07-01", id="trial-02-07"
        ),
    ],
)
def test_first_payment_is_at_the_price_shown_at_sign_up(
    creative: Catalog, signed_up_at: datetime, at: datetime, amount: int, rule: str
) -> None:
    """A sign-up (and its trial's conversion) pays the version in force on the local
    sign-up date: 500,000 before 01/07/2026, 550,000 from then."""
    charge = list_price(
        package(creative, "CAPM"), signed_up_at=signed_up_at, at=at, tz=HCM, renewal=False
    )
    assert (charge.amount, charge.rule) == (amount, rule)


@pytest.mark.parametrize(
    ("at", "amount"),
    [
        # a renewal starting a new term on 30/06: 550,000 is not in force yet → 500,000
        pytest.param(local(2026, 6, 30), 500_000, id="30-06"),
        # on 01/07: in force, and 01/05 + 30 days = 31/05 ≤ 01/07 → 550,000
        pytest.param(local(2026, 7, 1, 0), 550_000, id="01-07"),
        # the term from 31/01/2026 ends 31/01/2027: that renewal pays 550,000
        pytest.param(local(2027, 1, 31), 550_000, id="31-01-2027"),
    ],
)
def test_capm_renewal_into_a_new_term_takes_the_new_price(
    creative: Catalog, at: datetime, amount: int
) -> None:
    """A CAPM subscriber who signed up on 24/01/2026 (at 500,000) pays 550,000 at a renewal
    that starts a new term on or after 01/07/2026."""
    charge = list_price(
        package(creative, "CAPM"), signed_up_at=local(2026, 1, 24), at=at, tz=HCM, renewal=True
    )
    assert charge.amount == amount


@pytest.mark.parametrize(
    ("signed_up_at", "at", "renewal", "amount"),
    [
        # the version: 770,000 from 15/05/2026, announced 01/05, 30 days' notice →
        # a running subscription pays it from the first renewal on or after
        # max(15/05, 01/05 + 30 days = 31/05) = 31/05.
        # renewal 14/05: before from_date → 700,000
        pytest.param(local(2026, 1, 14), local(2026, 5, 14), True, 700_000, id="renewal-14-05"),
        # renewal 20/05: from_date passed, but only 19 days of notice → 700,000
        pytest.param(local(2026, 1, 20), local(2026, 5, 20), True, 700_000, id="renewal-20-05"),
        # renewal at the last second of 30/05: 29 days of notice → 700,000
        pytest.param(
            local(2026, 1, 30), local(2026, 5, 30, 23, 59, 59), True, 700_000, id="renewal-30-05"
        ),
        # renewal at 00:00 on 31/05: exactly 30 days after 01/05 → 770,000
        pytest.param(local(2026, 1, 31), local(2026, 5, 31, 0), True, 770_000, id="renewal-31-05"),
        # a new sign-up on 20/05 pays the price in force that day, notice or not → 770,000
        pytest.param(local(2026, 5, 20), local(2026, 5, 20), False, 770_000, id="sign-up-20-05"),
    ],
)
def test_monthly_renewal_price_waits_for_the_notice(
    creative: Catalog, signed_up_at: datetime, at: datetime, renewal: bool, amount: int
) -> None:
    """ "Giá có thể thay đổi, nhưng chỉ khi gia hạn và chúng tôi sẽ luôn thông báo cho bạn
    trước": for CMON (no commitment) a new price reaches a renewal on or after its date
    only once ``notice_days`` have passed since the announcement."""
    cmon = package(creative, "CMON").model_copy(
        update={
            "price_versions": [
                PriceVersion(
                    amount=770_000,
                    from_date=date(2026, 5, 15),
                    announced=date(2026, 5, 1),
                    notice_days=30,
                )
            ]
        }
    )
    charge = list_price(cmon, signed_up_at=signed_up_at, at=at, tz=HCM, renewal=renewal)
    assert charge.amount == amount


# --- the end of the commitment -----------------------------------------------------------


@pytest.mark.parametrize(
    ("first_paid_at", "expected"),
    [
        # 31/01/2026 + 12 months = 31/01/2027 (January has 31 days: no clamping)
        pytest.param(local(2026, 1, 31), local(2027, 1, 31), id="31-01-2026"),
        # 10/03/2026 + 12 months = 10/03/2027
        pytest.param(local(2026, 3, 10), local(2027, 3, 10), id="10-03-2026"),
        # 29/02/2028 (leap day) + 12 months: 2029 has no 29/02 → 28/02/2029
        pytest.param(local(2028, 2, 29), local(2029, 2, 28), id="29-02-2028"),
    ],
)
def test_capm_term_ends_twelve_months_after_the_first_payment(
    creative: Catalog, first_paid_at: datetime, expected: datetime
) -> None:
    """The CAPM commitment is 12 monthly periods from the first payment, on the same
    day and time, clamped to the last day of a shorter month."""
    assert term_end(package(creative, "CAPM"), "prepaid", first_paid_at, HCM) == expected


def test_capm_first_month_is_clamped_to_the_end_of_february(creative: Catalog) -> None:
    """A CAPM month paid 31/01/2026 10:00 ends 28/02/2026 10:00 (February 2026 has 28 days)."""
    rule = package(creative, "CAPM").validity.prepaid
    assert period_from(rule, local(2026, 1, 31), HCM).renews_at == local(2026, 2, 28)


def test_monthly_plan_without_commitment_has_no_term(creative: Catalog) -> None:
    """CMON has no commitment: there is no term beyond the month."""
    assert term_end(package(creative, "CMON"), "prepaid", local(2026, 3, 10), HCM) is None


def test_prepaid_annual_term_is_its_one_year_period(creative: Catalog) -> None:
    """CPUF's one payment covers 12 months: paid 10/03/2026 10:00, the period (and so the
    contract) runs to 10/03/2027 10:00; ``term_end`` adds no separate term."""
    cpuf = package(creative, "CPUF")
    assert term_end(cpuf, "prepaid", local(2026, 3, 10), HCM) is None
    assert period_from(cpuf.validity.prepaid, local(2026, 3, 10), HCM).renews_at == local(
        2027, 3, 10
    )


def test_capm_twelve_monthly_periods_fill_the_annual_term(creative: Catalog) -> None:
    """An annual plan paid monthly ("Gói hàng năm thanh toán hàng tháng") gives twelve
    months of service for its twelve payments: from a first payment on 31/01/2026 10:00
    the months are billed on 31/01, 28/02, 31/03, 30/04, 31/05, 30/06, 31/07, 31/08,
    30/09, 31/10, 30/11 and 31/12/2026, and the twelfth ends 31/01/2027 10:00, the end of
    the term. Each period here starts where the previous one renews, keeping the billing
    day of the first payment (the 31st), as the engine does."""
    capm = package(creative, "CAPM")
    rule = capm.validity.prepaid
    start = local(2026, 1, 31)
    for _ in range(12):
        start = period_from(rule, start, HCM, 31).renews_at
    assert start == local(2027, 1, 31)
    assert term_end(capm, "prepaid", local(2026, 1, 31), HCM) == start


# --- the notice of a new price -------------------------------------------------------


def _capm_version(creative: Catalog) -> PriceVersion:
    (version,) = package(creative, "CAPM").price_versions
    return version


def test_the_550000_price_is_announced_at_midnight_of_01_05(creative: Catalog) -> None:
    """ "chúng tôi sẽ luôn thông báo cho bạn trước": the version is announced at local
    00:00 01/05/2026 and named ``CAPM@2026-07-01``."""
    (announcement,) = announcements(creative.packages, HCM)
    assert (announcement.key, announcement.at) == ("CAPM@2026-07-01", local(2026, 5, 1, 0))


@pytest.mark.parametrize(
    ("in_trial", "periods_paid", "next_renewal", "first_paid_day", "expected"),
    [
        pytest.param(
            # signed 28/04, converts 05/05/2026 (payment 1) at the sign-up price; payments
            # 1-12 run to 05/04/2027; the renewal of 05/05/2027 starts term 2
            True,
            0,
            local(2026, 5, 5, 10, 0),
            None,
            local(2027, 5, 5, 10, 0),
            id="in-trial",
        ),
        pytest.param(
            # 11 payments made (09/03/2026 to 09/01/2027): 09/02/2027 is payment 12, still
            # fixed; 09/03/2027 starts term 2
            False,
            11,
            local(2027, 2, 9, 10, 0),
            9,
            local(2027, 3, 9, 10, 0),
            id="last-month-of-term-1",
        ),
        pytest.param(
            # 12 payments made: the very next renewal starts term 2
            False,
            12,
            local(2027, 3, 9, 10, 0),
            9,
            local(2027, 3, 9, 10, 0),
            id="term-2-next",
        ),
    ],
)
def test_the_first_renewal_at_the_new_price_is_the_start_of_a_new_term(
    creative: Catalog,
    in_trial: bool,
    periods_paid: int,
    next_renewal: datetime,
    first_paid_day: int | None,
    expected: datetime,
) -> None:
    """ "Giá sẽ cố định trong suốt thời hạn gói đăng ký": inside CAPM's 12-month term
    the price holds; the first renewal of a new term pays 550,000."""
    found = first_renewal_at_version(
        package(creative, "CAPM"),
        _capm_version(creative),
        "prepaid",
        HCM,
        held=500_000,
        in_trial=in_trial,
        periods_paid=periods_paid,
        signed_up_at=local(2026, 3, 2, 10, 0),
        next_renewal=next_renewal,
        billing_day=first_paid_day,
    )
    assert found == expected


def test_a_sign_up_at_the_new_price_is_owed_no_notice(creative: Catalog) -> None:
    """Signed on 01/07/2026 00:00: it pays 550,000 from the start; nothing to announce."""
    found = first_renewal_at_version(
        package(creative, "CAPM"),
        _capm_version(creative),
        "prepaid",
        HCM,
        held=550_000,
        in_trial=True,
        periods_paid=0,
        signed_up_at=local(2026, 7, 1, 0),
        next_renewal=local(2026, 7, 8, 0),
        billing_day=None,
    )
    assert found is None


def test_cancelling_without_the_refund_runs_to_the_month_end(creative: Catalog) -> None:
    """CMON bought 10:00 02/03 (700,000), cancelled 10:00 05/03: the 14-day refund applies,
    but a subscriber who waives it keeps the month to 10:00 02/04, nothing given back."""
    bought = local(2026, 3, 2, 10, 0)
    holding = paid_holding(
        first_paid_at=bought,
        last_paid_at=bought,
        last_paid_amount=700_000,
        periods_paid=1,
        period_start=bought,
        period_end=local(2026, 4, 2, 10, 0),
        used_since_last_payment=False,
    )
    cmon = package(creative, "CMON")
    at = local(2026, 3, 5, 10, 0)

    refunded = cancel_decision(cmon, holding, "prepaid", at, HCM, price=700_000)
    waived = cancel_decision(cmon, holding, "prepaid", at, HCM, price=700_000, waive_refund=True)

    assert (refunded.status, refunded.refund) == (
        "cancelled",
        Charge(-700_000, "within_14_days_full"),
    )
    assert (waived.status, waived.ends_at, waived.refund, waived.fee) == (
        "pending_cancel",
        local(2026, 4, 2, 10, 0),
        None,
        None,
    )
