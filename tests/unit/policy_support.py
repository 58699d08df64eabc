"""Shared pieces of the policy tests (seeds 000, 001, 002, 004): catalogs, local times, holdings.

Every instant a test names is a local wall-clock reading in Asia/Ho_Chi_Minh; every
holding is spelled out field by field from the test's own hand-written dates, so no
expected value is ever computed by the code under test.
"""

from __future__ import annotations

from datetime import datetime
from importlib.resources import files
from zoneinfo import ZoneInfo

from carrier_rules import Catalog, Holding, Package, parse_catalog

__all__ = ["HCM", "load_catalog", "local", "package", "paid_holding", "trial_holding"]

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def load_catalog(name: str) -> Catalog:
    """The shipped catalog ``carrier_rules/catalogs/<name>.toml``, parsed and validated."""
    source = f"carrier_rules/catalogs/{name}.toml"
    text = (files("carrier_rules") / "catalogs" / f"{name}.toml").read_text(encoding="utf-8")
    return parse_catalog(text, source=source)


def package(catalog: Catalog, code: str) -> Package:
    """The package ``code`` of ``catalog``; a missing one fails the test that asked."""
    found = catalog.package(code)
    assert found is not None, f"{catalog.name}: no package {code!r}"
    return found


def local(
    year: int, month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0
) -> datetime:
    """A local Asia/Ho_Chi_Minh instant (10:00 unless told)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=HCM)


def paid_holding(
    *,
    first_paid_at: datetime,
    last_paid_at: datetime,
    last_paid_amount: int,
    periods_paid: int,
    period_start: datetime,
    period_end: datetime,
    used_since_last_payment: bool,
    signed_up_at: datetime | None = None,
) -> Holding:
    """A paid subscription (no trial running); signed up at its first payment unless told."""
    return Holding(
        signed_up_at=first_paid_at if signed_up_at is None else signed_up_at,
        first_paid_at=first_paid_at,
        last_paid_at=last_paid_at,
        last_paid_amount=last_paid_amount,
        periods_paid=periods_paid,
        period_start=period_start,
        period_end=period_end,
        in_trial=False,
        used_since_last_payment=used_since_last_payment,
    )


def trial_holding(*, signed_up_at: datetime, trial_ends_at: datetime) -> Holding:
    """A subscription still in its free trial: nothing paid yet."""
    return Holding(
        signed_up_at=signed_up_at,
        first_paid_at=None,
        last_paid_at=None,
        last_paid_amount=0,
        periods_paid=0,
        period_start=signed_up_at,
        period_end=trial_ends_at,
        in_trial=True,
        used_since_last_payment=False,
    )
