"""Request bodies of the HTTP API and the bounds every value in them is held to.

Out-of-range input is a 422 with the reason, never a 500 further down: integers stay
well inside SQLite's int64, text is valid Unicode (a lone surrogate such as ``\\ud800``,
which JSON can carry but UTF-8 cannot, is refused), clock advances are finite and at
most ten years a call, and the clock never passes :data:`CLOCK_LIMIT`.
"""

from __future__ import annotations

import math
from datetime import UTC, timedelta
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from carrier_rules import Language, SubscriberKind
from gateway.adapters.clock import CLOCK_LIMIT
from gateway.domain.model import (
    MAX_AMOUNT,
    MAX_USAGE_BYTES,
    unicode_problem,
    without_surrogates,
)

__all__ = [
    "CLOCK_LIMIT",
    "INT64_MAX",
    "MAX_ADVANCE",
    "MAX_OFFSET",
    "MONTH_PATTERN",
    "AdvanceIn",
    "Body",
    "CloseIn",
    "DeleteIn",
    "SmsIn",
    "SubscriberIn",
    "TicketIn",
    "TopupIn",
    "UsageIn",
    "VerifyIn",
    "printable_json",
]

#: the largest integer SQLite stores: ids in paths go up to it (and are then just unknown)
INT64_MAX = 2**63 - 1
#: the largest ``start`` of a mailbox page
MAX_OFFSET = 1_000_000_000
#: the most one call may move the virtual clock: ten years (of 366 days, to be generous)
MAX_ADVANCE = timedelta(days=3660)
#: ``YYYY-MM`` from 2000-01 to 2100-12
MONTH_PATTERN = r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$"


def _check_unicode(value: Any, where: str) -> None:
    """Raise ValueError naming the first string (key or value) that is not valid Unicode."""
    if isinstance(value, str):
        problem = unicode_problem(value)
        if problem is not None:
            raise ValueError(f"{where or 'the body'}: {problem}")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_unicode(key, where)
            _check_unicode(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_unicode(item, f"{where}[{index}]")


def printable_json(value: Any) -> Any:
    """``value`` (JSON-shaped) with every lone surrogate in its strings made U+FFFD and
    every non-finite number a string (``"Infinity"``, ``"-Infinity"``, ``"NaN"``).

    A 422 echoes the input it refused; the refused input may be exactly what JSON
    output cannot hold (a lone surrogate, Infinity), and the error must still render.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, dict):
        return {printable_json(k): printable_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [printable_json(item) for item in value]
    return value


class Body(BaseModel):
    """A JSON request body: unknown fields refused, every string valid Unicode."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _valid_unicode(cls, data: Any) -> Any:
        _check_unicode(data, "")
        return data


Amount = Annotated[int, Field(gt=0, le=MAX_AMOUNT)]
_Text = Annotated[str, Field(min_length=1, max_length=10_000)]
_Short = Annotated[str, Field(min_length=1, max_length=200)]


class SubscriberIn(Body):
    kind: SubscriberKind | None = None
    balance: Annotated[int, Field(ge=0, le=MAX_AMOUNT)] | None = None
    language: Language | None = None
    #: confirmation emails go here; ``null`` removes it, leaving it out keeps it
    email: Annotated[str, Field(max_length=254)] | None = None


class UsageIn(Body):
    msisdn: str
    app: Annotated[str, Field(min_length=1, max_length=64)]
    bytes: Annotated[int, Field(gt=0, le=MAX_USAGE_BYTES)]
    #: the reporter's id: a resend with the same id is counted once
    id: Annotated[str, Field(min_length=1, max_length=128)] | None = None


class TopupIn(Body):
    amount: Amount


class SmsIn(Body):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    sender: str = Field(alias="from")
    to: str = "888"
    text: Annotated[str, Field(max_length=1600)]
    id: Annotated[str, Field(min_length=1, max_length=128)] | None = None


class AdvanceIn(Body):
    """Exactly one of ``seconds`` (finite, at most ten years) and ``to`` (at most
    :data:`CLOCK_LIMIT`); how far ``to`` is from now is checked by the handler."""

    seconds: (
        Annotated[
            float,
            Field(ge=0, le=MAX_ADVANCE.total_seconds(), allow_inf_nan=False),
        ]
        | None
    ) = None
    to: AwareDatetime | None = None

    @model_validator(mode="after")
    def _one_of(self) -> AdvanceIn:
        if (self.seconds is None) == (self.to is None):
            raise ValueError('give exactly one of "seconds" or "to"')
        if self.to is not None:
            try:
                utc = self.to.astimezone(UTC)
            except OverflowError as exc:  # 9999-12-31 at -23:59 is past year 9999 in UTC
                raise ValueError('"to" is out of range') from exc
            if utc > CLOCK_LIMIT:
                raise ValueError(f'"to" is after {CLOCK_LIMIT.isoformat()}, the end of the clock')
        return self


class TicketIn(Body):
    """The portal's ticket form (seed 003): the logged-in subscriber, product, category,
    title and content."""

    msisdn: str
    product: _Short = "Other"
    category: _Short
    title: _Short
    content: _Text


class VerifyIn(Body):
    code: Annotated[str, Field(min_length=1, max_length=20)]


class CloseIn(Body):
    resolution: Annotated[str, Field(max_length=1000)] | None = None


class DeleteIn(BaseModel):
    """Which mail to delete, as Mailpit takes it: ``{"IDs": [...]}``, unknown keys ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    ids: list[str] | None = Field(default=None, alias="IDs")
