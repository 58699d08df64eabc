"""Outcomes on demand: what becomes of a message the SMSC accepted, as plain rules.

A message is due at ``submitted + delay``; then its handset's state decides (``off``
holds it, ``absent``/``memory_full``/``barred`` fail it) and, for a handset that is on,
the outcome drawn from the seeded percentages at submit_sm. Nothing here reads a clock
or does I/O: the instants come in as arguments.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from gateway.domain.handsets import HandsetState

__all__ = [
    "DEFAULT_VALIDITY",
    "FINAL_ERRORS",
    "Final",
    "OutcomeDraw",
    "Stat",
    "parse_outcomes",
    "parse_validity",
    "settle",
]

Stat = Literal["DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "REJECTD"]
DRAWN: tuple[Stat, ...] = ("DELIVRD", "UNDELIV", "EXPIRED", "REJECTD")

#: a submit_sm without validity_period is kept this long (SCGW_SMPP_VALIDITY)
DEFAULT_VALIDITY = timedelta(hours=48)

#: the receipt's err for each cause (docs/smpp.md): the generic ones for a drawn outcome
#: and a validity that ran out, GSM MAP error numbers for a handset's state
FINAL_ERRORS: dict[str, int] = {
    "DELIVRD": 0,
    "EXPIRED": 1,
    "UNDELIV": 2,
    "REJECTD": 3,
    "DELETED": 4,
    "absent": 27,  # MAP absentSubscriber
    "memory_full": 32,  # MAP sm-DeliveryFailure: memoryCapacityExceeded
    "barred": 13,  # MAP callBarred
}


@dataclass(frozen=True, slots=True)
class Final:
    """A message's final state and its receipt's err."""

    stat: Stat
    error: int


def settle(
    *, handset: HandsetState, drawn: str, at: datetime, expires_at: datetime
) -> Final | None:
    """The final state of a message due at ``at``, or None: held until ``expires_at``
    (or until its handset changes)."""
    if at >= expires_at:
        return Final("EXPIRED", FINAL_ERRORS["EXPIRED"])
    if handset == "off":
        return None
    if handset in ("absent", "memory_full"):
        return Final("UNDELIV", FINAL_ERRORS[handset])
    if handset == "barred":
        return Final("REJECTD", FINAL_ERRORS[handset])
    if drawn == "EXPIRED":
        return None  # the network never reaches it: it waits out its validity
    stat: Stat = "UNDELIV" if drawn == "UNDELIV" else "REJECTD" if drawn == "REJECTD" else "DELIVRD"
    return Final(stat, FINAL_ERRORS[stat])


def parse_outcomes(text: str) -> tuple[tuple[Stat, int], ...]:
    """``"DELIVRD=90,UNDELIV=5,EXPIRED=3,REJECTD=2"``: whole percentages adding up to 100
    (a state left out is 0). Raises ``ValueError`` with the reason."""
    shares: dict[Stat, int] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        stat = name.strip().upper()
        if not sep or stat not in DRAWN:
            raise ValueError(f"{item.strip()!r}: expected STATE=PERCENT, STATE one of {DRAWN}")
        if stat in shares:
            raise ValueError(f"{stat} given twice")
        if not value.strip().isdigit() or int(value) > 100:
            raise ValueError(f"{item.strip()!r}: the percentage is a whole number 0-100")
        shares[stat] = int(value)
    if sum(shares.values()) != 100:
        raise ValueError(f"the percentages add up to {sum(shares.values())}, not 100")
    return tuple((s, shares[s]) for s in DRAWN if shares.get(s))


class OutcomeDraw:
    """The seeded draw: the n-th message of a run gets the n-th number of a generator
    seeded with ``seed``, so a run with the same traffic has the same outcomes."""

    def __init__(self, shares: tuple[tuple[Stat, int], ...], seed: int) -> None:
        self._shares = shares
        self._random = random.Random(seed)

    def draw(self) -> Stat:
        if len(self._shares) == 1:
            return self._shares[0][0]
        point = self._random.randrange(100)
        for stat, share in self._shares:
            if point < share:
                return stat
            point -= share
        return self._shares[-1][0]


_ABSOLUTE = re.compile(r"^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d)(\d{2})([+-])$")
_RELATIVE = re.compile(r"^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\d{3}R$")


def parse_validity(value: str, submitted: datetime) -> datetime | None:
    """A submit_sm's ``validity_period`` (SMPP 3.4, 7.1) as the instant it ends; None
    when empty (the default applies). Raises ``ValueError`` for anything else.

    Relative ``YYMMDDhhmmss000R`` counts a year as 365 days and a month as 30; absolute
    ``YYMMDDhhmmsstnnp`` is in the 2000s, ``nn`` quarter hours ahead (+) or behind (-)
    UTC."""
    if not value:
        return None
    relative = _RELATIVE.match(value)
    if relative is not None:
        y, mo, d, h, mi, s = (int(g) for g in relative.groups())
        span = timedelta(days=365 * y + 30 * mo + d, hours=h, minutes=mi, seconds=s)
        if not span:
            raise ValueError("a relative validity period of zero")
        return submitted + span
    absolute = _ABSOLUTE.match(value)
    if absolute is None:
        raise ValueError(f"validity_period {value!r} is neither YYMMDDhhmmsstnnp nor ...R")
    y, mo, d, h, mi, s, tenths, quarters = (int(g) for g in absolute.groups()[:8])
    offset = timedelta(minutes=15 * quarters) * (1 if absolute.group(9) == "+" else -1)
    try:
        local = datetime(2000 + y, mo, d, h, mi, s, tenths * 100_000, tzinfo=UTC)
    except ValueError as exc:
        raise ValueError(f"validity_period {value!r}: {exc}") from exc
    return local - offset
