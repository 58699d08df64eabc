"""Subscribers to load in bulk, from CSV or NDJSON: every row checked, every bad one
reported with its line number."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from carrier_rules import Package
from gateway.domain.mail import normalize_address
from gateway.domain.model import MAX_AMOUNT
from gateway.domain.msisdn import canonical_msisdn
from gateway.errors import GatewayError

__all__ = ["COLUMNS", "BadRow", "Loaded", "SubscriberRow", "check_plans", "read_rows"]

COLUMNS = ("msisdn", "kind", "balance", "language", "email", "subscriptions")
_KINDS = frozenset({"prepaid", "postpaid"})
_LANGUAGES = frozenset({"vi", "vi-diacritics", "en"})


@dataclass(frozen=True, slots=True)
class SubscriberRow:
    line: int
    msisdn: str
    kind: str
    balance: int
    language: str | None
    email: str | None
    #: plan codes serving from the load's instant (``gateway.service.preload``)
    subscriptions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class Loaded:
    """The good rows and the bad ones of a file (or of a request's ``rows``)."""

    rows: list[SubscriberRow] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def check_plans(value: Any, packages: Mapping[str, Package]) -> tuple[str, ...]:
    """The ``subscriptions`` of a row: ``"ZL7;ZL1"`` (CSV) or ``["ZL7", "ZL1"]`` (NDJSON),
    each a plan of the catalogs, one per group, an add-on with a plan of its base group."""
    if value is None or isinstance(value, str):
        codes = [c.strip().upper() for c in _text(value).split(";") if c.strip()]
    elif isinstance(value, list) and all(isinstance(c, str) for c in value):
        codes = [c.strip().upper() for c in value if c.strip()]
    else:
        raise ValueError('subscriptions: plan codes, "ZL7;ZL1" or ["ZL7", "ZL1"]')
    groups: dict[str, str] = {}
    for code in codes:
        package = packages.get(code)
        if package is None:
            known = ", ".join(sorted(packages)) or "none: no catalog"
            raise ValueError(f"subscriptions: no plan {code!r} (the plans: {known})")
        if (other := groups.setdefault(package.group, code)) != code or codes.count(code) > 1:
            raise ValueError(
                f"subscriptions: {other} and {code} are both of group {package.group!r}"
            )
    for code in codes:
        base = packages[code].requires
        if base is not None and base not in groups:
            raise ValueError(
                f"subscriptions: {code} is an add-on: give a plan of group {base!r} with it"
            )
    return tuple(codes)


def check_row(
    line: int,
    raw: dict[str, Any],
    default_balance: int,
    packages: Mapping[str, Package] | None = None,
) -> SubscriberRow:
    """One row, or ``ValueError`` with what is wrong (the first problem); ``packages``:
    the plans a ``subscriptions`` column may name (none without it)."""
    unknown = sorted(k for k in raw if k not in COLUMNS)
    if unknown:
        raise ValueError(f"unknown column(s) {unknown}; the columns are {', '.join(COLUMNS)}")
    try:
        msisdn = canonical_msisdn(_text(raw.get("msisdn")))
    except GatewayError as exc:
        raise ValueError(f"msisdn: {exc}") from exc
    kind = _text(raw.get("kind")).lower() or "prepaid"
    if kind not in _KINDS:
        raise ValueError(f"kind: {kind!r} is not prepaid or postpaid")
    balance_text = raw.get("balance")
    if balance_text is None or _text(balance_text) == "":
        balance = default_balance
    elif isinstance(balance_text, int) and not isinstance(balance_text, bool):
        balance = balance_text
    else:
        try:
            balance = int(_text(balance_text))
        except ValueError:
            raise ValueError(f"balance: {balance_text!r} is not a whole number of đồng") from None
    if balance < 0:
        raise ValueError(f"balance: {balance} is below zero")
    if balance > MAX_AMOUNT:
        raise ValueError(f"balance: {balance} is more than {MAX_AMOUNT:,} đồng")
    language = _text(raw.get("language")) or None
    if language is not None and language not in _LANGUAGES:
        raise ValueError(f"language: {language!r} is not vi, vi-diacritics or en")
    email = _text(raw.get("email")) or None
    if email is not None:
        try:
            email = normalize_address(email)
        except GatewayError as exc:
            raise ValueError(f"email: {exc}") from exc
    plans = check_plans(raw.get("subscriptions"), packages or {})
    return SubscriberRow(line, msisdn, kind, balance, language, email, plans)


def _csv(handle: TextIO) -> Iterator[tuple[int, dict[str, Any] | str]]:
    reader = csv.DictReader(handle)
    header = reader.fieldnames or []
    unknown = [c for c in header if c not in COLUMNS]
    if "msisdn" not in header or unknown:
        yield (
            1,
            f"header: expected the columns {', '.join(COLUMNS)} (msisdn required), got {header}",
        )
        return
    for raw in reader:
        if None in raw:
            yield (
                reader.line_num,
                f"{len(header) + len(raw[None])} fields, the header has {len(header)}",
            )
            continue
        yield reader.line_num, dict(raw)


def _ndjson(handle: TextIO) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for number, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except ValueError as exc:
            yield number, f"not JSON: {exc}"
            continue
        yield number, value if isinstance(value, dict) else "not a JSON object"


def check_rows(
    numbered: Iterator[tuple[int, dict[str, Any] | str]],
    *,
    default_balance: int,
    packages: Mapping[str, Package] | None = None,
) -> Loaded:
    loaded = Loaded()
    numbers: dict[str, int] = {}
    emails: dict[str, int] = {}
    for line, raw in numbered:
        if isinstance(raw, str):
            loaded.bad.append(BadRow(line, raw))
            continue
        try:
            row = check_row(line, raw, default_balance, packages)
        except ValueError as exc:
            loaded.bad.append(BadRow(line, str(exc)))
            continue
        if (first := numbers.setdefault(row.msisdn, line)) != line:
            loaded.bad.append(BadRow(line, f"msisdn {row.msisdn} is already on line {first}"))
            continue
        if row.email is not None and (seen := emails.setdefault(row.email, line)) != line:
            loaded.bad.append(BadRow(line, f"email {row.email} is already on line {seen}"))
            continue
        loaded.rows.append(row)
    return loaded


def read_rows(
    path: Path, *, default_balance: int, packages: Mapping[str, Package] | None = None
) -> Loaded:
    """Rows of a ``.csv`` file, or of NDJSON (``.ndjson``, ``.jsonl``, ``.json``)."""
    with path.open(encoding="utf-8", newline="") as handle:
        numbered = _csv(handle) if path.suffix.lower() == ".csv" else _ndjson(handle)
        return check_rows(numbered, default_balance=default_balance, packages=packages)
