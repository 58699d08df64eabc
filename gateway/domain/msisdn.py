"""MSISDNs: Vietnamese mobile numbers in any accepted form, canonical as 84xxxxxxxxx."""

from __future__ import annotations

import re

from gateway.errors import InvalidMsisdn

__all__ = ["canonical_msisdn"]

_MSISDN = re.compile(r"^(?:\+84|84|0)([1-9][0-9]{8})$")


def canonical_msisdn(value: str) -> str:
    """``0912345678``, ``84912345678`` or ``+84912345678`` -> ``84912345678``."""
    match = _MSISDN.match(value.strip().replace(" ", ""))
    if match is None:
        raise InvalidMsisdn(value)
    return "84" + match.group(1)
