"""The shipped Zalo catalog and catalog validation errors.

The shipped values are checked against the operator's notice (seed 004); each broken
variant is the shipped file with one hand-made edit, and the error must name the
file (``source``), the field and the reason.
"""

from __future__ import annotations

from importlib.resources import files
from zoneinfo import ZoneInfo

import pytest

from carrier_rules import (
    Catalog,
    CatalogError,
    PostpaidProration,
    SubscriberKind,
    ValidityRule,
)
from carrier_rules.catalog import parse_catalog

SOURCE = "carrier_rules/catalogs/zalo.toml"


@pytest.fixture(scope="module")
def zalo_text() -> str:
    return (files("carrier_rules") / "catalogs" / "zalo.toml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def catalog(zalo_text: str) -> Catalog:
    return parse_catalog(zalo_text, source=SOURCE)


def _edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"expected exactly one {old!r} in the catalog"
    return text.replace(old, new)


def _error(text: str) -> CatalogError:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text, source=SOURCE)
    return caught.value


# --- the shipped catalog ----------------------------------------------------------------


def test_shipped_catalog_identity(catalog: Catalog) -> None:
    """The Zalo catalog is Vinaphone's short code 888 in Asia/Ho_Chi_Minh time."""
    assert catalog.operator == "Vinaphone"
    assert catalog.shortcode == "888"
    assert catalog.timezone == "Asia/Ho_Chi_Minh"
    assert catalog.zone == ZoneInfo("Asia/Ho_Chi_Minh")
    assert [p.code for p in catalog.packages] == ["ZL1", "ZL7", "ZL30"]


@pytest.mark.parametrize(
    ("code", "price"),
    [("ZL1", 1000), ("ZL7", 5000), ("ZL30", 15000)],
)
def test_shipped_prices(catalog: Catalog, code: str, price: int) -> None:
    """The notice's prices: ZL1 1,000 VND, ZL7 5,000 VND, ZL30 15,000 VND."""
    package = catalog.package(code)
    assert package is not None
    assert package.price == price


@pytest.mark.parametrize(
    ("code", "kind", "rule"),
    [
        ("ZL1", "prepaid", ValidityRule(hours=24)),
        ("ZL1", "postpaid", ValidityRule(hours=24, cap="month_end")),
        ("ZL7", "prepaid", ValidityRule(hours=168)),
        ("ZL7", "postpaid", ValidityRule(hours=168, cap="month_end")),
        ("ZL30", "prepaid", ValidityRule(hours=720)),
        ("ZL30", "postpaid", ValidityRule(cap="month_end")),
    ],
)
def test_shipped_validity_rules(
    catalog: Catalog, code: str, kind: SubscriberKind, rule: ValidityRule
) -> None:
    """Validity: 1 day, 7 days, 30 days prepaid; postpaid capped at the month's end."""
    package = catalog.package(code)
    assert package is not None
    assert package.validity.for_kind(kind) == rule


def test_only_monthly_pack_has_postpaid_proration(catalog: Catalog) -> None:
    """Only ZL30 has the postpaid rule: from the 16th 50%, cancelled before the 16th 50%."""
    by_code = {p.code: p.postpaid_proration for p in catalog.packages}
    assert by_code == {
        "ZL1": None,
        "ZL7": None,
        "ZL30": PostpaidProration(
            from_day=16, registration_percent=50, cancel_before_day_percent=50
        ),
    }


# --- validation errors ------------------------------------------------------------------


def test_negative_price_is_rejected(zalo_text: str) -> None:
    """A negative price is invalid; the error names the file and the package's price field."""
    err = _error(_edit(zalo_text, "price = 5000", "price = -5000"))
    assert err.source == SOURCE
    assert err.field == "packages.1.price"
    assert "0" in err.reason
    assert str(err).startswith(f"{SOURCE}: packages.1.price: ")


def test_missing_template_is_rejected(zalo_text: str) -> None:
    """A reply template missing in one language is invalid; the error names it."""
    line = 'status_none = "You have no Zalo pack. {commands}. Text to {shortcode}."\n'
    err = _error(_edit(zalo_text, line, ""))
    assert err.source == SOURCE
    assert err.field.startswith("templates")
    assert "status_none" in err.reason
    assert "en" in err.reason
    assert str(err).startswith(f"{SOURCE}: templates")


def test_duplicate_code_is_rejected(zalo_text: str) -> None:
    """Two packages with the same code are invalid; the error names the packages field."""
    err = _error(_edit(zalo_text, 'code = "ZL7"', 'code = "ZL1"'))
    assert err.source == SOURCE
    assert "ZL1" in err.reason
    assert "duplicate" in err.reason
    assert err.field.startswith("packages")
    assert str(err).startswith(f"{SOURCE}: packages")


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "Asia/Ha_Noi_Nowhere", ""])
def test_unknown_time_zone_is_rejected(zalo_text: str, zone: str) -> None:
    """A time zone that does not exist is invalid; the error names the timezone field."""
    err = _error(_edit(zalo_text, 'timezone = "Asia/Ho_Chi_Minh"', f'timezone = "{zone}"'))
    assert err.source == SOURCE
    assert err.field == "timezone"
    assert f"{zone!r}" in err.reason
    assert str(err).startswith(f"{SOURCE}: timezone: ")


def test_broken_toml_is_rejected(zalo_text: str) -> None:
    """Text that is not TOML is invalid; the error names the file and the line."""
    err = _error(_edit(zalo_text, "[renewal]\n", "[renewal\n"))
    assert err.source == SOURCE
    assert err.field == "(toml)"
    assert "line 19" in err.reason
    assert str(err).startswith(f"{SOURCE}: (toml): ")


def test_unknown_template_is_rejected(zalo_text: str) -> None:
    """A template key the gateway does not know is invalid; the error names it."""
    line = 'auto_renew_on = "renews automatically"\n'
    err = _error(_edit(zalo_text, line, line + 'greeting = "Hello"\n'))
    assert err.field.startswith("templates")
    assert "greeting" in err.reason


def test_validity_without_hours_or_cap_is_rejected(zalo_text: str) -> None:
    """A validity with neither hours nor a month-end cap is unbounded and invalid."""
    err = _error(
        _edit(zalo_text, 'validity.postpaid = { cap = "month_end" }', "validity.postpaid = {}")
    )
    assert err.field == "packages.2.validity.postpaid"


def test_negative_retry_days_is_rejected(zalo_text: str) -> None:
    """A negative give-up delay for renewal retries is invalid; the error names the field."""
    err = _error(_edit(zalo_text, "give_up_after_days = 7", "give_up_after_days = -1"))
    assert err.field == "renewal.give_up_after_days"
