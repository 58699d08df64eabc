"""Reply texts: a catalog's templates filled in and formatted for the subscriber's language."""

from __future__ import annotations

import functools
from datetime import datetime, tzinfo
from typing import Any

from carrier_rules import Catalog, Language

__all__ = ["Replies"]

_CURRENCY: dict[Language, tuple[str, str]] = {
    # (thousands separator, format)
    "vi": (".", "{n}d"),
    "vi-diacritics": (".", "{n}đ"),
    "en": (",", "{n} VND"),
}


@functools.lru_cache(maxsize=4096)
def _local_when(at: datetime, zone: tzinfo) -> str:
    return at.astimezone(zone).strftime("%H:%M %d/%m/%Y")


@functools.lru_cache(maxsize=4096)
def _fill(template: str, fields: tuple[tuple[str, Any], ...]) -> str:
    """Templates are filled once per distinct set of values (bulk renewals repeat them)."""
    return template.format(**dict(fields))


class Replies:
    """Renders the templates of one catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def language(self, preferred: Language | None) -> Language:
        """The subscriber's language if the catalog has it, else the catalog's default."""
        if preferred is not None and preferred in self._catalog.templates:
            return preferred
        return self._catalog.default_language

    def money(self, lang: Language, amount: int) -> str:
        separator, pattern = _CURRENCY[lang]
        sign = "-" if amount < 0 else ""
        digits = f"{abs(amount):,}".replace(",", separator)
        return sign + pattern.format(n=digits)

    def when(self, at: datetime) -> str:
        """``HH:MM dd/mm/yyyy`` in the catalog's time zone."""
        return _local_when(at, self._catalog.zone)

    @staticmethod
    def month(key: str) -> str:
        """``2026-11`` -> ``11/2026``."""
        year, month = key.split("-")
        return f"{month}/{year}"

    @staticmethod
    def data(n_bytes: int) -> str:
        if n_bytes < 1_000_000:
            return f"{n_bytes // 1000} KB" if n_bytes else "0 MB"
        return f"{n_bytes / 1_000_000:.1f} MB"

    def render(self, lang: Language, key: str, **fields: Any) -> str:
        fields.setdefault("shortcode", self._catalog.shortcode)
        return _fill(self._catalog.templates[lang][key], tuple(fields.items()))

    def email(self, lang: Language, key: str, **fields: Any) -> tuple[str, str]:
        """The subject and body of one of the catalog's emails."""
        fields.setdefault("shortcode", self._catalog.shortcode)
        fields.setdefault("operator", self._catalog.operator)
        template = self._catalog.emails[lang][key]
        return template.subject.format(**fields), template.body.format(**fields)

    def commands(self, lang: Language) -> str:
        return "; ".join(
            self.render(
                lang,
                "help_line",
                package=p.code,
                price=self.money(lang, p.price),
                period=p.period[lang],
            )
            for p in self._catalog.packages
        )

    def help(self, lang: Language) -> str:
        return self.render(lang, "help", commands=self.commands(lang))
