"""A subscriber's handset as the simulated network sees it: what decides a message's
delivery receipt (docs/smpp.md, "Outcomes on demand")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

__all__ = ["HANDSET_STATES", "HandsetState", "HandsetView"]

#: ``on`` takes messages; ``off`` holds them until it is on again or their validity ends;
#: ``absent``, ``memory_full`` and ``barred`` fail them (UNDELIV, UNDELIV, REJECTD)
HandsetState = Literal["on", "off", "absent", "memory_full", "barred"]
HANDSET_STATES: tuple[HandsetState, ...] = get_args(HandsetState)


@dataclass(frozen=True, slots=True)
class HandsetView:
    """A handset's state; ``updated_at`` None: never set, so ``on``."""

    msisdn: str
    state: HandsetState
    updated_at: datetime | None
