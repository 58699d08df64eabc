"""Cancelling meetings plans and add-ons (seed 000) with the pure policy functions.

The help page, in short: cancelling a paid plan stops its automatic renewal and *"Bạn
sẽ vẫn sử dụng gói trả phí của mình trong thời gian còn lại của thời hạn đăng ký"*
(the paid plan stays usable for the rest of the term); *"Để đủ điều kiện được hoàn
tiền, bạn không được sử dụng tài khoản kể từ lần cuối thanh toán"* (a refund needs no
use since the last payment); *"bạn có thể kích hoạt lại gói của mình"* (the plan can be
reactivated); a plan that shows *"Liên hệ với bộ phận kinh doanh"* is cancelled through
sales; an add-on *"sẽ tiếp tục hoạt động trong thời gian còn lại của thời hạn đăng ký"*.

The shipped catalog (8100): BASIC free; PRO 330,000/month; BIZ 550,000/month (contact
sales); REC recording add-on 110,000/month. Every instant is local Asia/Ho_Chi_Minh.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from carrier_rules import Catalog, Holding, SubscriberKind, can_reactivate, cancel_decision
from tests.unit.policy_support import HCM, load_catalog, local, package, paid_holding


@pytest.fixture(scope="module")
def meetings() -> Catalog:
    return load_catalog("meetings")


def _pro_second_month(*, used: bool) -> Holding:
    """PRO bought 10/03/2026 10:00 and renewed 10/04 10:00 for 330,000; the paid month
    10/04 10:00 → 10/05 10:00 (one calendar month, same day and time)."""
    return paid_holding(
        first_paid_at=local(2026, 3, 10),
        last_paid_at=local(2026, 4, 10),
        last_paid_amount=330_000,
        periods_paid=2,
        period_start=local(2026, 4, 10),
        period_end=local(2026, 5, 10),
        used_since_last_payment=used,
    )


# --- the plans as data -------------------------------------------------------------------


def test_pro_terms_follow_the_help_page(meetings: Catalog) -> None:
    """PRO: cancelled to the end of its month, refunded only if unused since the last
    payment (after a confirmation: "nhấn Hủy và Hoàn tiền"), reactivable, drops to BASIC."""
    pro = package(meetings, "PRO")
    assert pro.price == 330_000
    assert pro.validity.prepaid.months == 1
    assert pro.validity.postpaid.months == 1
    terms = pro.cancellation
    assert terms.self_service
    assert terms.effective == "end_of_period"
    assert [
        (r.name, r.unused_since_last_payment, r.within_days, r.refund) for r in terms.refunds
    ] == [("unused_since_last_payment_full", True, None, "full")]
    assert terms.fee is None
    assert terms.confirm_refund
    assert pro.reactivation
    assert pro.fallback == "BASIC"
    assert package(meetings, "BASIC").price == 0


def test_rec_is_an_addon_on_a_meetings_plan(meetings: Catalog) -> None:
    """REC (110,000/month) is an add-on that needs a plan of group ``meet``."""
    rec = package(meetings, "REC")
    assert (rec.kind, rec.requires, rec.price) == ("addon", "meet", 110_000)
    assert package(meetings, "PRO").group == "meet"
    assert rec.cancellation.effective == "end_of_period"
    assert rec.reactivation


# --- PRO: refund or run out --------------------------------------------------------------


@pytest.mark.parametrize("kind", ["prepaid", "postpaid"])
def test_pro_unused_since_last_payment_is_refunded_in_full_and_ends_now(
    meetings: Catalog, kind: SubscriberKind
) -> None:
    """Cancelled 20/04 15:00 with no use since the 10/04 renewal: the whole last payment
    comes back (−330,000), and the plan ends at once (``cancelled``)."""
    at = local(2026, 4, 20, 15)
    decision = cancel_decision(
        package(meetings, "PRO"), _pro_second_month(used=False), kind, at, HCM, price=330_000
    )
    assert decision.allowed
    assert decision.status == "cancelled"
    assert decision.ends_at == at
    assert decision.refund is not None
    # last payment 330,000, refunded in full
    assert (decision.refund.amount, decision.refund.rule) == (
        -330_000,
        "unused_since_last_payment_full",
    )
    assert decision.fee is None
    assert decision.rule == "unused_since_last_payment_full"


def test_pro_unused_in_its_first_month_is_refunded(meetings: Catalog) -> None:
    """Bought 10/03 10:00 for 330,000, cancelled unused the next day: −330,000, ends now."""
    holding = paid_holding(
        first_paid_at=local(2026, 3, 10),
        last_paid_at=local(2026, 3, 10),
        last_paid_amount=330_000,
        periods_paid=1,
        period_start=local(2026, 3, 10),
        period_end=local(2026, 4, 10),
        used_since_last_payment=False,
    )
    at = local(2026, 3, 11, 9)
    decision = cancel_decision(package(meetings, "PRO"), holding, "prepaid", at, HCM, price=330_000)
    assert (decision.status, decision.ends_at) == ("cancelled", at)
    assert decision.refund is not None
    assert decision.refund.amount == -330_000


@pytest.mark.parametrize("kind", ["prepaid", "postpaid"])
def test_pro_used_runs_to_the_end_of_its_month_without_refund(
    meetings: Catalog, kind: SubscriberKind
) -> None:
    """Cancelled 20/04 15:00 after use: no refund; it stops renewing and stays usable to
    the end of the paid month, 10/05 10:00 (``pending_cancel``)."""
    decision = cancel_decision(
        package(meetings, "PRO"),
        _pro_second_month(used=True),
        kind,
        local(2026, 4, 20, 15),
        HCM,
        price=330_000,
    )
    assert decision.allowed
    assert decision.status == "pending_cancel"
    assert decision.ends_at == local(2026, 5, 10)
    assert decision.refund is None
    assert decision.fee is None
    assert decision.rule == "cancel_end_of_period"


# --- reactivation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "ends_at", "at", "allowed"),
    [
        # pending_cancel to 10/05 10:00; asked 20/04: still in the term
        pytest.param(
            "pending_cancel", local(2026, 5, 10), local(2026, 4, 20), True, id="weeks-before"
        ),
        # one second before the term ends
        pytest.param(
            "pending_cancel",
            local(2026, 5, 10),
            local(2026, 5, 10, 9, 59, 59),
            True,
            id="last-second",
        ),
        # 10/05 10:00 the term is over ("thời gian còn lại" is nothing)
        pytest.param(
            "pending_cancel", local(2026, 5, 10), local(2026, 5, 10), False, id="at-the-end"
        ),
        pytest.param(
            "pending_cancel", local(2026, 5, 10), local(2026, 5, 11), False, id="day-after"
        ),
        # refunded and ended at 20/04 15:00: nothing is left to bring back
        pytest.param(
            "cancelled", local(2026, 4, 20, 15), local(2026, 4, 20, 15, 5), False, id="refunded"
        ),
    ],
)
def test_pro_can_be_reactivated_only_before_its_term_ends(
    meetings: Catalog, status: str, ends_at: datetime, at: datetime, allowed: bool
) -> None:
    """ "Nếu không muốn hủy gói nữa, bạn có thể kích hoạt lại gói": a PRO cancelled to the
    end of its term can be brought back before then, and not after."""
    pro = package(meetings, "PRO")
    assert can_reactivate(pro, status=status, ends_at=ends_at, at=at) is allowed


def test_a_plan_without_reactivation_cannot_be_reactivated(meetings: Catalog) -> None:
    """A plan whose terms say ``reactivation = false`` (BIZ, and PRO with the flag off)
    is not brought back, even well before its term ends."""
    pro_without = package(meetings, "PRO").model_copy(update={"reactivation": False})
    for plan in (package(meetings, "BIZ"), pro_without):
        assert not plan.reactivation
        assert not can_reactivate(
            plan, status="pending_cancel", ends_at=local(2026, 5, 10), at=local(2026, 4, 20)
        )


# --- BIZ: contact sales ------------------------------------------------------------------


@pytest.mark.parametrize("used", [True, False], ids=["used", "unused"])
def test_biz_cannot_be_cancelled_by_the_subscriber(meetings: Catalog, used: bool) -> None:
    """ "Liên hệ với bộ phận kinh doanh thay vì Hủy gói đăng ký": HUY BIZ is refused
    (``allowed=False``, rule ``contact_sales``); nothing is refunded or charged."""
    holding = paid_holding(
        first_paid_at=local(2026, 4, 10),
        last_paid_at=local(2026, 4, 10),
        last_paid_amount=550_000,
        periods_paid=1,
        period_start=local(2026, 4, 10),
        period_end=local(2026, 5, 10),
        used_since_last_payment=used,
    )
    decision = cancel_decision(
        package(meetings, "BIZ"), holding, "postpaid", local(2026, 4, 20), HCM, price=550_000
    )
    assert not decision.allowed
    assert decision.rule == "contact_sales"
    assert decision.refund is None
    assert decision.fee is None


# --- REC: the add-on on its own ----------------------------------------------------------


def test_addon_cancelled_alone_runs_to_its_own_period_end(meetings: Catalog) -> None:
    """REC bought 25/04 10:00 for 110,000 (its month ends 25/05 10:00) on top of a PRO
    whose month ends 10/05; cancelled 01/05 it runs to its own end, 25/05 10:00, not
    PRO's, with nothing refunded."""
    rec_holding = paid_holding(
        first_paid_at=local(2026, 4, 25),
        last_paid_at=local(2026, 4, 25),
        last_paid_amount=110_000,
        periods_paid=1,
        period_start=local(2026, 4, 25),
        period_end=local(2026, 5, 25),
        used_since_last_payment=True,
    )
    rec = package(meetings, "REC")
    decision = cancel_decision(rec, rec_holding, "prepaid", local(2026, 5, 1), HCM, price=110_000)
    assert decision.allowed
    assert decision.status == "pending_cancel"
    assert decision.ends_at == local(2026, 5, 25)
    assert decision.refund is None
    assert decision.fee is None
    # and it can be brought back before 25/05 10:00
    assert can_reactivate(
        rec, status="pending_cancel", ends_at=local(2026, 5, 25), at=local(2026, 5, 20)
    )


# --- BASIC: the free plan ----------------------------------------------------------------


def test_basic_free_plan_ends_at_once_with_nothing_to_refund(meetings: Catalog) -> None:
    """ "Nếu bạn có tài khoản cơ bản (miễn phí), bạn có thể chấm dứt tài khoản": the free
    plan has nothing paid to run out or refund, so it ends now."""
    holding = paid_holding(
        first_paid_at=local(2026, 4, 10),
        last_paid_at=local(2026, 4, 10),
        last_paid_amount=0,
        periods_paid=1,
        period_start=local(2026, 4, 10),
        period_end=local(2026, 5, 10),
        used_since_last_payment=False,
    )
    at = local(2026, 4, 20)
    decision = cancel_decision(package(meetings, "BASIC"), holding, "prepaid", at, HCM, price=0)
    assert (decision.allowed, decision.status, decision.ends_at) == (True, "cancelled", at)
    assert decision.refund is None
    assert decision.fee is None
