"""A plan's terms as data: trial, commitment, price versions, proration, cancellation, refunds.

The models here are the optional parts of a catalog package (``carrier_rules.catalog``);
their defaults are the Zalo packs' terms (no trial, no commitment, one price, cancelled
at once, no refund), so a catalog only writes what differs. Seeds 000 (a meetings
service), 001 (a creative suite) and 002 (a streaming service) are written with them.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Cancellation",
    "Commitment",
    "PriceVersion",
    "ProrationCase",
    "RefundRule",
    "Retention",
    "TerminationFee",
    "Trial",
]

Percent = Annotated[int, Field(ge=0, le=100)]
RuleName = Annotated[str, Field(pattern=r"^[a-z0-9_]{1,64}$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Trial(_Frozen):
    """A free trial before the first payment (seed 001: it converts to paid at the price
    shown at sign-up unless cancelled before it ends)."""

    days: Annotated[int, Field(gt=0, le=366)]


class Commitment(_Frozen):
    """A fixed term of ``periods`` billing periods (seed 001: "annual, paid monthly" is 12
    monthly periods; "annual, prepaid" is one payment for the whole term)."""

    periods: Annotated[int, Field(ge=2, le=120)]
    billing: Literal["per_period", "upfront"] = "per_period"


class PriceVersion(_Frozen):
    """A later price (seed 001: prices are fixed for the term and change only at renewal,
    with notice in advance).

    A sign-up on or after ``from_date`` pays it. An existing subscription pays it from
    its first renewal on or after ``from_date`` that is at least ``notice_days`` after
    ``announced``; a trial converts at the price shown at sign-up, whatever happened since.
    """

    amount: Annotated[int, Field(ge=0)]
    from_date: date
    announced: date
    notice_days: Annotated[int, Field(ge=0, le=365)] = 30

    @model_validator(mode="after")
    def _announced_first(self) -> Self:
        if self.announced > self.from_date:
            raise ValueError(
                f"announced {self.announced.isoformat()} after it applies"
                f" ({self.from_date.isoformat()}): a price is announced first"
            )
        return self


class ProrationCase(_Frozen):
    """One case of a proration rule; cases are tried in order and the first match wins.

    ``on = "registration"``: a period registered on a day of the month in range costs
    ``percent`` of the price. ``on = "cancellation"``: a cancellation on a day in range
    brings that month's charge for the subscription down to ``percent`` of the price
    (seed 004: postpaid monthly pack, from the 16th 50%; cancelled before the 16th 50%).
    """

    name: RuleName
    on: Literal["registration", "cancellation"]
    kind: Literal["prepaid", "postpaid", "any"] = "any"
    from_day: Annotated[int, Field(ge=1, le=31)] = 1
    before_day: Annotated[int, Field(ge=2, le=32)] = 32
    percent: Percent

    @model_validator(mode="after")
    def _range(self) -> Self:
        if self.from_day >= self.before_day:
            raise ValueError(
                f"empty day range: from_day {self.from_day} >= before_day {self.before_day}"
            )
        return self


class RefundRule(_Frozen):
    """When a cancellation gives money back; rules are tried in order, first match wins,
    and no match means no refund.

    ``within_days`` counts from the first purchase (seed 001: 14 days, full refund);
    ``unused_since_last_payment`` asks that nothing was used since the last payment
    (seed 000: "cancel and refund"). ``refund`` is of the last payment: ``full``,
    ``prorated`` (the unused share of its period) or ``none``.
    """

    name: RuleName
    within_days: Annotated[int, Field(gt=0)] | None = None
    unused_since_last_payment: bool = False
    refund: Literal["full", "prorated", "none"]


class TerminationFee(_Frozen):
    """A fee for leaving a commitment early (seed 001: 50 % of the remaining obligation,
    after the 14-day window): ``percent`` of the periods not yet charged × the price."""

    name: RuleName
    percent: Percent
    after_days: Annotated[int, Field(ge=0)] = 0


class Cancellation(_Frozen):
    """What cancelling does.

    ``effective``: ``immediate`` ends the plan now (the Zalo packs); ``end_of_period``
    stops renewal and lets the paid period run out (seeds 000, 002, 001 monthly and
    annual-paid-monthly: "until the end of that month's billing period");
    ``end_of_term`` runs to the end of the commitment (001 annual prepaid). A refund
    always ends the plan at once. ``self_service = false``: "contact sales" (seed 000).
    """

    self_service: bool = True
    effective: Literal["immediate", "end_of_period", "end_of_term"] = "immediate"
    refunds: list[RefundRule] = Field(default_factory=list)
    fee: TerminationFee | None = None
    #: a refund-eligible cancellation asks the subscriber to confirm first
    confirm_refund: bool = False
    #: ``HUY`` answers with the retention offers before cancelling (seed 002)
    offer_retention: bool = False


class Retention(_Frozen):
    """What is offered before a cancellation (seed 002: a cheaper plan, or a pause)."""

    pause_cycles: Annotated[int, Field(ge=1, le=12)] | None = None
    switch_to: Annotated[str, Field(pattern=r"^[A-Z0-9_]{1,16}$")] | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.pause_cycles is None and self.switch_to is None:
            raise ValueError("a retention offer needs pause_cycles, switch_to, or both")
        return self
