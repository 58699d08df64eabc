"""SMS encoding per GSM 03.38: which alphabet a text needs and how many segments it takes."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["Encoding", "SmsLayout", "layout"]

Encoding = Literal["GSM7", "UCS2"]

# GSM 03.38 default alphabet (one septet each) and extension table (escape + one septet).
_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_EXTENDED = frozenset("\f^{}\\[~]|€")

_GSM7_SINGLE, _GSM7_MULTI = 160, 153
_UCS2_SINGLE, _UCS2_MULTI = 70, 67


@dataclass(frozen=True, slots=True)
class SmsLayout:
    encoding: Encoding
    units: int  # septets for GSM7, UTF-16 code units for UCS2
    segments: int


def _segments(sizes: list[int], single: int, multi: int) -> int:
    """Segments for characters of the given unit sizes; a character is never split."""
    total = sum(sizes)
    if total <= single:
        return 1
    segments, used = 1, 0
    for size in sizes:
        if used + size > multi:
            segments += 1
            used = 0
        used += size
    return segments


_GSM7_TEXT = re.compile("[" + re.escape("".join(sorted(_BASIC | _EXTENDED))) + "]*")


@functools.lru_cache(maxsize=4096)
def layout(text: str) -> SmsLayout:
    """The encoding a text needs and its length in segments (160/153 or 70/67)."""
    if _GSM7_TEXT.fullmatch(text):
        escapes = sum(text.count(ch) for ch in _EXTENDED)
        units = len(text) + escapes
        if units <= _GSM7_SINGLE or not escapes:
            return SmsLayout("GSM7", units, _plain_segments(units, _GSM7_SINGLE, _GSM7_MULTI))
        sizes = [2 if ch in _EXTENDED else 1 for ch in text]
        return SmsLayout("GSM7", units, _segments(sizes, _GSM7_SINGLE, _GSM7_MULTI))
    units = len(text.encode("utf-16-le")) // 2
    if units == len(text):  # no surrogate pairs: nothing can be split
        return SmsLayout("UCS2", units, _plain_segments(units, _UCS2_SINGLE, _UCS2_MULTI))
    sizes = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return SmsLayout("UCS2", units, _segments(sizes, _UCS2_SINGLE, _UCS2_MULTI))


def _plain_segments(units: int, single: int, multi: int) -> int:
    return 1 if units <= single else -(-units // multi)
