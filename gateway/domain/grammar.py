"""The command grammar of a short code: fold the text, then match the catalog's keywords."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

from carrier_rules import Catalog

__all__ = ["Command", "fold", "parse_command"]

Action = Literal["subscribe", "cancel", "status", "help"]

_FOLD_TABLE = str.maketrans({"đ": "d", "Đ": "D"})


@dataclass(frozen=True, slots=True)
class Command:
    action: Action
    #: the pack code for subscribe/cancel, the group for status, None for help
    target: str | None = None


def fold(text: str) -> str:
    """Upper case, Vietnamese diacritics removed (``HỦY`` -> ``HUY``), spaces collapsed."""
    decomposed = unicodedata.normalize("NFD", text.translate(_FOLD_TABLE))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.upper().split())


def parse_command(text: str, catalog: Catalog) -> Command:
    """The command an SMS text asks for; anything not understood is ``help``."""
    folded = fold(text)
    if folded in catalog.keywords.status:
        return Command("status", catalog.keywords.status[folded])
    keyword, _, code = folded.rpartition(" ")
    if catalog.package(code) is None:
        return Command("help")
    if keyword in catalog.keywords.subscribe:
        return Command("subscribe", code)
    if keyword in catalog.keywords.cancel:
        return Command("cancel", code)
    return Command("help")
