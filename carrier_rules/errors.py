"""Errors raised by the carrier rules: one root, subclasses that carry their reason."""

from __future__ import annotations

__all__ = ["CarrierRulesError", "CatalogError"]


class CarrierRulesError(Exception):
    """Root of every error raised by :mod:`carrier_rules`."""


class CatalogError(CarrierRulesError):
    """A catalog file is invalid: names the file, the field and the reason."""

    def __init__(self, *, source: str, field: str, reason: str) -> None:
        self.source = source
        self.field = field
        self.reason = reason
        super().__init__(f"{source}: {field}: {reason}")
