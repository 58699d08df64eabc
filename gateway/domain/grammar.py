"""The command grammar of a short code: fold the text, then match the catalog's keywords."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

from carrier_rules import Catalog

__all__ = ["Command", "fold", "parse_command"]

Action = Literal["subscribe", "cancel", "status", "reactivate", "check", "list", "answer", "help"]

_FOLD_TABLE = str.maketrans({"đ": "d", "Đ": "D"})


@dataclass(frozen=True, slots=True)
class Command:
    action: Action
    #: the pack code for subscribe/cancel/reactivate/check, the group for status, the
    #: answer for ``answer`` (``Y``, ``N`` or a digit), None for list and help
    target: str | None = None


def fold(text: str) -> str:
    """Upper case, Vietnamese diacritics removed (``HỦY`` -> ``HUY``), spaces collapsed."""
    if text.isascii():  # nothing to remove (most commands): the same, with less work
        return " ".join(text.upper().split())
    decomposed = unicodedata.normalize("NFD", text.translate(_FOLD_TABLE))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.upper().split())


def parse_command(text: str, catalog: Catalog) -> Command:
    """The command an SMS text asks for; anything not understood is ``help``."""
    folded = fold(text)
    keywords = catalog.keywords
    if folded in keywords.status:
        return Command("status", keywords.status[folded])
    if folded in keywords.list_all:
        return Command("list")
    if folded in keywords.confirm:
        return Command("answer", "Y")
    if folded in keywords.decline:
        return Command("answer", "N")
    if folded.isdigit() and len(folded) == 1:
        return Command("answer", folded)
    keyword, _, code = folded.rpartition(" ")
    if catalog.package(code) is None:
        return Command("help")
    if keyword in keywords.subscribe:
        return Command("subscribe", code)
    if keyword in keywords.cancel:
        return Command("cancel", code)
    if keyword in keywords.reactivate:
        return Command("reactivate", code)
    if keyword in keywords.check:
        return Command("check", code)
    return Command("help")
