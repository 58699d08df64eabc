"""Cancelling a streaming plan (seed 002): the billing cycle runs out, retention offers
come first, and the account drops to free streaming.

The guide, in short: *"Anda masih boleh menggunakan perkhidmatan tersebut sehingga akhir
kitaran pengebilan anda"* (usable to the end of the billing cycle); *"Netflix menawarkan
pelan alternatif atau penahanan sementara pada langganan anda untuk cuba mengekalkan
langganan anda"* (an alternative plan or a temporary hold is offered first); *"Selepas
itu, akaun anda bertukar secara automatik kepada penstriman percuma"* (then the account
becomes free streaming).

What is pure and tested here: the cancel decision, the offers and their order, the
price of the plan a switch leads to, and the renewal date a one-cycle pause leads to.
Left to the engine (tests/service): asking the question, applying an accepted offer,
moving the subscription to PFREE when the cycle ends.

The shipped catalog (8300): PFREE free; PBASIC 110,000/month; PSTD 220,000/month with
a one-cycle pause or a switch to PBASIC offered. Every instant is local Asia/Ho_Chi_Minh.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from carrier_rules import (
    CancelDecision,
    Catalog,
    Holding,
    SubscriberKind,
    ValidityRule,
    cancel_decision,
    list_price,
    period_charge,
    period_from,
    retention_offers,
)
from tests.unit.policy_support import HCM, load_catalog, local, package, paid_holding


@pytest.fixture(scope="module")
def streaming() -> Catalog:
    return load_catalog("streaming")


def _second_cycle(price: int, *, used: bool) -> Holding:
    """Bought 10/03/2026 10:00, renewed 10/04 10:00: the cycle 10/04 → 10/05/2026 10:00."""
    return paid_holding(
        first_paid_at=local(2026, 3, 10),
        last_paid_at=local(2026, 4, 10),
        last_paid_amount=price,
        periods_paid=2,
        period_start=local(2026, 4, 10),
        period_end=local(2026, 5, 10),
        used_since_last_payment=used,
    )


def _cancel(streaming: Catalog, code: str, kind: SubscriberKind, *, used: bool) -> CancelDecision:
    plan = package(streaming, code)
    holding = _second_cycle(plan.price, used=used)
    return cancel_decision(plan, holding, kind, local(2026, 4, 25, 20), HCM, price=plan.price)


# --- cancelling runs the cycle out, then free streaming ----------------------------------


@pytest.mark.parametrize("kind", ["prepaid", "postpaid"])
@pytest.mark.parametrize("used", [True, False], ids=["used", "unused"])
@pytest.mark.parametrize("code", ["PSTD", "PBASIC"])
def test_cancel_runs_to_the_end_of_the_billing_cycle(
    streaming: Catalog, code: str, used: bool, kind: SubscriberKind
) -> None:
    """Cancelled 25/04 20:00 (or the offers declined): ``pending_cancel`` to the end of the
    cycle, 10/05 10:00; the guide names no refund and no fee, used or not."""
    decision = _cancel(streaming, code, kind, used=used)
    assert decision.allowed
    assert decision.status == "pending_cancel"
    assert decision.ends_at == local(2026, 5, 10)
    assert decision.refund is None
    assert decision.fee is None
    assert decision.rule == "cancel_end_of_period"


@pytest.mark.parametrize("code", ["PSTD", "PBASIC"])
def test_after_the_cycle_the_account_becomes_free_streaming(streaming: Catalog, code: str) -> None:
    """ "akaun anda bertukar secara automatik kepada penstriman percuma": a paid plan falls
    back to PFREE, which costs nothing."""
    assert package(streaming, code).fallback == "PFREE"
    assert package(streaming, "PFREE").price == 0


# --- retention offers --------------------------------------------------------------------


def test_pstd_offers_a_one_cycle_pause_then_pbasic(streaming: Catalog) -> None:
    """HUY PSTD offers, numbered in this order: 1. pause one cycle, 2. switch to PBASIC
    at 110,000 a month."""
    offers = retention_offers(streaming, package(streaming, "PSTD"))
    assert [(o.kind, o.cycles) for o in offers] == [("pause", 1), ("switch", None)]
    assert offers[0].plan is None
    switch_to = offers[1].plan
    assert switch_to is not None
    assert (switch_to.code, switch_to.price) == ("PBASIC", 110_000)


@pytest.mark.parametrize("code", ["PBASIC", "PFREE"])
def test_plans_without_offer_retention_offer_nothing(streaming: Catalog, code: str) -> None:
    """PBASIC and PFREE do not ask to offer anything: HUY goes straight to cancelling."""
    assert not package(streaming, code).cancellation.offer_retention
    assert retention_offers(streaming, package(streaming, code)) == []


def test_retention_terms_without_the_flag_offer_nothing(streaming: Catalog) -> None:
    """The offers are made only when the cancellation terms say so: PSTD's pause and
    switch stay unused with ``offer_retention`` off."""
    pstd = package(streaming, "PSTD")
    quiet = pstd.model_copy(
        update={"cancellation": pstd.cancellation.model_copy(update={"offer_retention": False})}
    )
    assert quiet.retention is not None
    assert retention_offers(streaming, quiet) == []


# --- what an accepted offer leads to -----------------------------------------------------


@pytest.mark.parametrize("kind", ["prepaid", "postpaid"])
def test_switch_accepted_next_period_costs_the_pbasic_price(
    streaming: Catalog, kind: SubscriberKind
) -> None:
    """Switching at the end of the PSTD cycle (10/05 10:00): the PBASIC period from then
    costs 110,000 (not PSTD's 220,000), with no proration, and runs to 10/06 10:00."""
    pbasic = package(streaming, "PBASIC")
    start = local(2026, 5, 10)
    assert list_price(pbasic, signed_up_at=start, at=start, tz=HCM, renewal=False).amount == 110_000
    assert period_charge(pbasic, kind, start, HCM).amount == 110_000
    assert period_from(pbasic.validity.for_kind(kind), start, HCM).renews_at == local(2026, 6, 10)


@pytest.mark.parametrize(
    ("cycle_end", "next_renewal"),
    [
        # the cycle 10/04 → 10/05 10:00; paused one cycle from 10/05: next renewal 10/06,
        # one month later than the 10/05 it would have been
        pytest.param(local(2026, 5, 10), local(2026, 6, 10), id="10-05"),
        # a cycle ending 31/01/2026 10:00, paused one month: 28/02 10:00 (February 2026
        # has 28 days)
        pytest.param(local(2026, 1, 31), local(2026, 2, 28), id="31-01"),
    ],
)
def test_pause_of_one_cycle_moves_the_next_renewal_by_a_month(
    streaming: Catalog, cycle_end: datetime, next_renewal: datetime
) -> None:
    """ "penahanan sementara": a pause of one (monthly) cycle starting when the paid cycle
    ends puts the next renewal one calendar month later."""
    pstd = package(streaming, "PSTD")
    offers = retention_offers(streaming, pstd)
    assert offers[0].kind == "pause"
    assert pstd.validity.prepaid.months == 1
    assert pstd.validity.postpaid.months == 1
    cycles = offers[0].cycles
    assert cycles == 1
    pause = ValidityRule(months=cycles * 1)  # 1 cycle × 1 month
    assert period_from(pause, cycle_end, HCM).renews_at == next_renewal
