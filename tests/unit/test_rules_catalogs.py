"""The shipped meetings, creative and streaming catalogs, and catalog validation errors.

The shipped values are the terms of seeds 000 (a meetings service), 001 (a creative
suite) and 002 (a streaming service) as the catalogs write them; each broken variant
is a shipped file with one hand-made edit, and the error must name the file
(``source``), the field and the reason.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import date
from importlib.resources import files
from typing import Literal

import pytest

from carrier_rules import (
    EMAIL_KEYS,
    Cancellation,
    Catalog,
    CatalogError,
    Commitment,
    Package,
    PriceVersion,
    RefundRule,
    RenewalPolicy,
    Retention,
    TerminationFee,
    Trial,
    ValidityRule,
    parse_catalog,
)
from carrier_rules.catalog import DEFAULT_EMAILS, DEFAULT_TEMPLATES, TEMPLATE_KEYS

CatalogName = Literal["meetings", "creative", "streaming"]
NAMES: tuple[CatalogName, ...] = ("meetings", "creative", "streaming")


def _source(name: CatalogName) -> str:
    return f"carrier_rules/catalogs/{name}.toml"


def _text(name: CatalogName) -> str:
    return (files("carrier_rules") / "catalogs" / f"{name}.toml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def catalogs() -> dict[CatalogName, Catalog]:
    return {name: parse_catalog(_text(name), source=_source(name)) for name in NAMES}


def _package(catalog: Catalog, code: str) -> Package:
    found = catalog.package(code)
    assert found is not None, f"{catalog.name}: no package {code!r}"
    return found


def _edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"expected exactly one {old!r} in the catalog"
    return text.replace(old, new)


def _edit_package(text: str, code: str, old: str, new: str) -> str:
    """Replace ``old`` inside the ``[[packages]]`` entry of ``code`` only."""
    start = text.index(f'\ncode = "{code}"\n')
    end = text.index("\n[", start)
    return text[:start] + _edit(text[start:end], old, new) + text[end:]


def _drop_table(text: str, header: str) -> str:
    """Remove the table ``header`` and its keys, up to the next comment or table."""
    start = text.index(f"\n{header}\n")
    end = min(text.index(mark, start + 1) for mark in ("\n[", "\n#"))
    return text[:start] + text[end:]


def _error(name: CatalogName, text: str) -> CatalogError:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text, source=_source(name))
    return caught.value


# --- the shipped catalogs ---------------------------------------------------------------


@dataclass(frozen=True)
class Shipped:
    """What a shipped catalog is, apart from its plans."""

    name: CatalogName
    operator: str
    shortcode: str
    status: dict[str, str]
    codes: list[str]
    double_opt_in: bool = False
    conversation_minutes: int = 10


SHIPPED = [
    Shipped("meetings", "MeetPro", "8100", {"KTTK HOP": "meet"}, ["BASIC", "PRO", "BIZ", "REC"]),
    Shipped(
        "creative",
        "CreativeSuite",
        "8200",
        {"KTTK CS": "creative"},
        ["CFREE", "CAPM", "CPUF", "CMON"],
    ),
    Shipped(
        "streaming",
        "StreamBox",
        "8300",
        {"KTTK PHIM": "stream"},
        ["PFREE", "PBASIC", "PSTD"],
        double_opt_in=True,
        conversation_minutes=10,
    ),
]


@pytest.mark.parametrize("shipped", SHIPPED, ids=lambda s: s.name)
def test_shipped_catalog_identity(catalogs: dict[CatalogName, Catalog], shipped: Shipped) -> None:
    """Each catalog is its operator's short code in Asia/Ho_Chi_Minh time, Vietnamese by
    default with English too, with the same keywords and a three-day renewal retry."""
    catalog = catalogs[shipped.name]
    assert catalog.name == shipped.name
    assert catalog.operator == shipped.operator
    assert catalog.shortcode == shipped.shortcode
    assert catalog.timezone == "Asia/Ho_Chi_Minh"
    assert catalog.default_language == "vi"
    assert sorted(catalog.templates) == ["en", "vi"]
    assert sorted(catalog.emails) == ["en", "vi"]
    assert catalog.keywords.subscribe == ["DK", "DANGKY", "SUB"]
    assert catalog.keywords.cancel == ["HUY", "CANCEL"]
    assert catalog.keywords.status == shipped.status
    assert catalog.renewal == RenewalPolicy(retry_every_hours=24, give_up_after_days=3)
    assert catalog.double_opt_in is shipped.double_opt_in
    assert catalog.conversation_minutes == shipped.conversation_minutes
    assert [p.code for p in catalog.packages] == shipped.codes


@dataclass(frozen=True)
class Plan:
    """A plan's expected terms; what is not given is the model's default."""

    catalog: CatalogName
    code: str
    price: int
    group: str
    months: int
    app: str
    kind: Literal["base", "addon"] = "base"
    requires: str | None = None
    trial: Trial | None = None
    commitment: Commitment | None = None
    price_versions: list[PriceVersion] = field(default_factory=list)
    cancellation: Cancellation = field(default_factory=Cancellation)
    reactivation: bool = False
    retention: Retention | None = None
    fallback: str | None = None


_WITHIN_14_DAYS = RefundRule(name="within_14_days_full", within_days=14, refund="full")

PLANS = [
    # seed 000: "Nếu bạn có tài khoản cơ bản (miễn phí), bạn có thể chấm dứt tài khoản"
    Plan("meetings", "BASIC", 0, "meet", 1, app="meet"),
    # "vẫn sử dụng gói trả phí ... trong thời gian còn lại"; refund if unused since the
    # last payment, confirmed first ("Hủy và Hoàn tiền"); "kích hoạt lại gói"
    Plan(
        "meetings",
        "PRO",
        330_000,
        "meet",
        1,
        app="meet",
        cancellation=Cancellation(
            effective="end_of_period",
            confirm_refund=True,
            refunds=[
                RefundRule(
                    name="unused_since_last_payment_full",
                    unused_since_last_payment=True,
                    refund="full",
                )
            ],
        ),
        reactivation=True,
        fallback="BASIC",
    ),
    # "Liên hệ với bộ phận kinh doanh thay vì Hủy gói đăng ký"
    Plan(
        "meetings",
        "BIZ",
        550_000,
        "meet",
        1,
        app="meet",
        cancellation=Cancellation(self_service=False, effective="end_of_period"),
        fallback="BASIC",
    ),
    # "Cách hủy gói Tiện ích bổ sung (trả phí)": an add-on on a meetings plan
    Plan(
        "meetings",
        "REC",
        110_000,
        "meet_rec",
        1,
        app="meet",
        kind="addon",
        requires="meet",
        cancellation=Cancellation(effective="end_of_period"),
        reactivation=True,
    ),
    # seed 001: the free membership with 2 GB of storage
    Plan("creative", "CFREE", 0, "creative", 1, app="creative"),
    # annual, paid monthly: trial, 12-period commitment, later price, 14-day refund,
    # 50 % of the remaining obligation after 14 days, service to the month's end
    Plan(
        "creative",
        "CAPM",
        500_000,
        "creative",
        1,
        app="creative",
        trial=Trial(days=7),
        commitment=Commitment(periods=12, billing="per_period"),
        price_versions=[
            PriceVersion(
                amount=550_000,
                from_date=date(2026, 7, 1),
                announced=date(2026, 5, 1),
                notice_days=30,
            )
        ],
        cancellation=Cancellation(
            effective="end_of_period",
            refunds=[_WITHIN_14_DAYS],
            fee=TerminationFee(
                name="early_termination_50pct_of_remaining", percent=50, after_days=14
            ),
        ),
        fallback="CFREE",
    ),
    # annual, prepaid: "tiếp tục cho đến hết thời hạn hợp đồng"
    Plan(
        "creative",
        "CPUF",
        5_000_000,
        "creative",
        12,
        app="creative",
        cancellation=Cancellation(effective="end_of_term", refunds=[_WITHIN_14_DAYS]),
        fallback="CFREE",
    ),
    # monthly, no annual commitment
    Plan(
        "creative",
        "CMON",
        700_000,
        "creative",
        1,
        app="creative",
        cancellation=Cancellation(effective="end_of_period", refunds=[_WITHIN_14_DAYS]),
        fallback="CFREE",
    ),
    # seed 002: "penstriman percuma, menawarkan pemilihan kandungan terhad"
    Plan("streaming", "PFREE", 0, "stream", 1, app="stream"),
    # "sehingga akhir kitaran pengebilan anda"
    Plan(
        "streaming",
        "PBASIC",
        110_000,
        "stream",
        1,
        app="stream",
        cancellation=Cancellation(effective="end_of_period"),
        reactivation=True,
        fallback="PFREE",
    ),
    # "menawarkan pelan alternatif atau penahanan sementara"
    Plan(
        "streaming",
        "PSTD",
        220_000,
        "stream",
        1,
        app="stream",
        cancellation=Cancellation(effective="end_of_period", offer_retention=True),
        retention=Retention(pause_cycles=1, switch_to="PBASIC"),
        reactivation=True,
        fallback="PFREE",
    ),
]


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: f"{p.catalog}-{p.code}")
def test_shipped_plan_terms(catalogs: dict[CatalogName, Catalog], plan: Plan) -> None:
    """Each plan holds exactly the seed's terms: price, calendar-month validity (the same
    for prepaid and postpaid), add-on link, trial, commitment, price versions,
    cancellation with its refunds and fee, reactivation, retention and fallback."""
    package = _package(catalogs[plan.catalog], plan.code)
    assert package.price == plan.price
    assert package.group == plan.group
    assert package.app == plan.app
    assert package.validity.prepaid == ValidityRule(months=plan.months)
    assert package.validity.postpaid == ValidityRule(months=plan.months)
    assert (package.kind, package.requires) == (plan.kind, plan.requires)
    assert package.trial == plan.trial
    assert package.commitment == plan.commitment
    assert package.price_versions == plan.price_versions
    assert package.proration == []
    assert package.cancellation == plan.cancellation
    assert package.reactivation is plan.reactivation
    assert package.retention == plan.retention
    assert package.fallback == plan.fallback


def test_plans_table_covers_every_shipped_plan(catalogs: dict[CatalogName, Catalog]) -> None:
    """No shipped plan escapes the table above."""
    shipped = {(name, p.code) for name, c in catalogs.items() for p in c.packages}
    assert shipped == {(p.catalog, p.code) for p in PLANS}


def test_free_creative_membership_states_its_storage(
    catalogs: dict[CatalogName, Catalog],
) -> None:
    """Seed 001: the free membership is "giới hạn lưu trữ 2 GB", in every language."""
    benefit = _package(catalogs["creative"], "CFREE").benefit
    assert sorted(benefit) == ["en", "vi", "vi-diacritics"]
    assert all("2 GB" in text for text in benefit.values())


# What the gateway fills in each template: the fields gateway/service/engine.py passes
# to ``Replies.render`` for the key, and ``shortcode``, which ``render`` always adds.
# Emails get the SMS text and the fields ``CatalogMailer.send`` and ``Replies.email`` add.
_PLACEHOLDERS: dict[str, set[str]] = {
    "help": {"commands"},
    "help_line": {"package", "price", "period"},
    "registered": {"package", "benefit", "charge", "expires"},
    "renewed": {"package", "benefit", "charge", "expires"},
    "charge_prepaid": {"amount"},
    "charge_postpaid": {"amount", "month"},
    "already_registered": {"package", "expires"},
    "other_pack_active": {"current", "requested"},
    "insufficient_balance": {"package", "balance", "price"},
    "renewal_failed": {"package", "balance", "price"},
    "renewal_gave_up": {"package", "balance", "price"},
    "cancelled": {"package", "at"},
    "cancel_adjusted": {"package", "month", "amount"},
    "not_registered": {"package"},
    "status": {"package", "expires", "auto_renew", "used"},
    "status_none": {"commands"},
    "auto_renew_on": set(),
    "auto_renew_off": set(),
    "not_a_subscriber": {"msisdn"},
    "account_closed": {"msisdn"},
    "system_error": set(),
    "trial_started": {"package", "benefit", "expires", "price", "period"},
    "pending_cancel": {"package", "expires"},
    "cancel_refunded": {"package", "amount"},
    "cancel_fee": {"amount"},
    "contact_sales": {"package"},
    "reactivated": {"package", "expires"},
    "cannot_reactivate": {"package"},
    "retention_offer": {"package", "options"},
    "offer_pause": {"n", "cycles"},
    "offer_switch": {"n", "plan", "price"},
    "offer_cancel": {"n"},
    "paused": {"package", "until"},
    "switched": {"plan", "price", "at"},
    "confirm_subscribe": {"package", "price", "period", "minutes"},
    "confirm_refund": {"package", "amount", "expires", "minutes"},
    "price_notice": {"package", "price", "current", "period", "at"},
    "conversation_expired": set(),
    "no_conversation": {"commands"},
    "declined": set(),
    "list": {"items"},
    "list_item": {"package", "state", "expires"},
    "list_item_free": {"package", "state"},
    "list_none": {"commands"},
    "state_trial": set(),
    "state_active": set(),
    "state_renewal_failed": set(),
    "state_pending_cancel": set(),
    "state_paused": set(),
    "ended": {"package"},
    "ended_fallback": {"package", "fallback"},
    "addon_needs_base": {"package", "group"},
}
_EMAIL_FIELDS = {"msisdn", "text", "shortcode", "operator"}
_EMAIL_PLACEHOLDERS: dict[str, set[str]] = {
    key: _EMAIL_FIELDS | ({"command"} if key == "reply" else {"package"})
    for key in EMAIL_KEYS | DEFAULT_EMAILS["en"].keys()
}


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@pytest.mark.parametrize("name", NAMES)
def test_templates_use_only_the_placeholders_the_gateway_fills(
    catalogs: dict[CatalogName, Catalog], name: CatalogName
) -> None:
    """Every reply and email fills without a KeyError: it names only placeholders the
    gateway passes for that key."""
    known = TEMPLATE_KEYS | DEFAULT_TEMPLATES["en"].keys()
    assert set(_PLACEHOLDERS) == known, "the placeholder list is out of date"
    catalog = catalogs[name]
    for lang, templates in catalog.templates.items():
        for key, text in templates.items():
            allowed = _PLACEHOLDERS.get(key)
            assert allowed is not None, f"no placeholder list for template {key!r}"
            extra = _fields(text) - allowed - {"shortcode"}
            assert not extra, f"{name} {lang} {key}: unknown placeholder(s) {sorted(extra)}"
            text.format(**dict.fromkeys(allowed | {"shortcode"}, "x"))
    for lang, emails in catalog.emails.items():
        for key, email in emails.items():
            allowed = _EMAIL_PLACEHOLDERS[key]
            for part in (email.subject, email.body):
                extra = _fields(part) - allowed
                assert not extra, f"{name} {lang} email {key}: unknown {sorted(extra)}"
                part.format(**dict.fromkeys(allowed, "x"))


@pytest.mark.parametrize("name", NAMES)
def test_vietnamese_without_diacritics_is_plain_ascii(
    catalogs: dict[CatalogName, Catalog], name: CatalogName
) -> None:
    """``vi`` is the no-diacritics language (GSM-7, one SMS holds 160 characters): its
    templates, emails, periods and benefits are ASCII; ``vi-diacritics`` is not."""
    catalog = catalogs[name]
    texts = [*catalog.templates["vi"].values()]
    texts += [part for e in catalog.emails["vi"].values() for part in (e.subject, e.body)]
    texts += [p.period["vi"] for p in catalog.packages]
    texts += [p.benefit["vi"] for p in catalog.packages]
    assert [t for t in texts if not t.isascii()] == []
    assert not all(p.benefit["vi-diacritics"].isascii() for p in catalog.packages)


# --- validation errors ------------------------------------------------------------------


def test_fallback_to_an_unknown_plan_is_rejected() -> None:
    """A fallback must name a plan of the catalog.

    The check runs over all packages, so the field is ``packages`` and the reason
    names the package's own field.
    """
    text = _edit_package(_text("meetings"), "PRO", 'fallback = "BASIC"', 'fallback = "GOLD"')
    err = _error("meetings", text)
    assert err.source == _source("meetings")
    assert err.field == "packages"
    assert "packages.1.fallback" in err.reason
    assert "'GOLD'" in err.reason
    assert str(err).startswith(f"{_source('meetings')}: packages: ")


def test_retention_switch_to_an_unknown_plan_is_rejected() -> None:
    """A retention offer may only switch to a plan of the catalog (reported at ``packages``)."""
    text = _edit(_text("streaming"), 'switch_to = "PBASIC"', 'switch_to = "PPREMIUM"')
    err = _error("streaming", text)
    assert err.source == _source("streaming")
    assert err.field == "packages"
    assert "packages.2.retention.switch_to" in err.reason
    assert "'PPREMIUM'" in err.reason


def test_addon_without_requires_is_rejected() -> None:
    """An add-on must name the group of the base plan it is sold on."""
    text = _edit_package(_text("meetings"), "REC", 'requires = "meet"\n', "")
    err = _error("meetings", text)
    assert err.source == _source("meetings")
    assert err.field == "packages.3"
    assert "an add-on names the group it requires" in err.reason


def test_base_plan_with_requires_is_rejected() -> None:
    """A base plan does not require another one."""
    text = _edit_package(
        _text("meetings"), "BIZ", 'app = "meet"\n', 'app = "meet"\nrequires = "meet"\n'
    )
    err = _error("meetings", text)
    assert err.source == _source("meetings")
    assert err.field == "packages.2"
    assert "a base plan does not" in err.reason


def test_requires_an_unknown_group_is_rejected() -> None:
    """An add-on's ``requires`` must be a group of the catalog (reported at ``packages``)."""
    text = _edit_package(_text("meetings"), "REC", 'requires = "meet"', 'requires = "webinar"')
    err = _error("meetings", text)
    assert err.source == _source("meetings")
    assert err.field == "packages"
    assert "packages.3.requires" in err.reason
    assert "'webinar'" in err.reason


def test_proration_case_with_an_empty_day_range_is_rejected() -> None:
    """A proration case from the 20th to before the 20th matches no day."""
    case = '[{ name = "late_half", on = "registration", from_day = 20, before_day = 20, percent = 50 }]'
    text = _edit_package(
        _text("meetings"),
        "PRO",
        "reactivation = true\n",
        f"reactivation = true\nproration = {case}\n",
    )
    err = _error("meetings", text)
    assert err.source == _source("meetings")
    assert err.field == "packages.1.proration.0"
    assert "from_day 20 >= before_day 20" in err.reason


def test_price_announced_after_it_applies_is_rejected() -> None:
    """A price version cannot be announced after its ``from_date`` (no notice at all)."""
    text = _edit(_text("creative"), "announced = 2026-05-01", "announced = 2026-07-02")
    err = _error("creative", text)
    assert err.source == _source("creative")
    assert err.field == "packages.1.price_versions.0"
    assert "announced 2026-07-02 after it applies (2026-07-01)" in err.reason


def test_validity_in_both_hours_and_months_is_rejected() -> None:
    """A validity is a rolling number of hours or of calendar months, not both."""
    text = _edit_package(
        _text("meetings"),
        "BASIC",
        "validity.prepaid = { months = 1 }",
        "validity.prepaid = { hours = 720, months = 1 }",
    )
    err = _error("meetings", text)
    assert err.source == _source("meetings")
    assert err.field == "packages.0.validity.prepaid"
    assert "not both" in err.reason


def test_emails_in_a_language_without_templates_are_rejected() -> None:
    """Emails and templates come in the same languages: English emails without English
    templates is invalid (reported at ``emails``)."""
    text = _drop_table(_text("streaming"), "[templates.en]")
    err = _error("streaming", text)
    assert err.source == _source("streaming")
    assert err.field == "emails"
    assert "same languages" in err.reason
    assert "['en', 'vi'] vs ['vi']" in err.reason


def test_templates_without_the_default_language_are_rejected() -> None:
    """The default language must be complete: templates only in other languages fail."""
    text = _edit(_text("creative"), "[templates.vi]", '[templates."vi-diacritics"]')
    err = _error("creative", text)
    assert err.source == _source("creative")
    assert err.field == "templates"
    assert "missing language 'vi'" in err.reason


def test_negative_refund_window_is_rejected() -> None:
    """A refund window counts days after the first purchase: it is positive."""
    text = _edit_package(_text("creative"), "CMON", "within_days = 14", "within_days = -14")
    err = _error("creative", text)
    assert err.source == _source("creative")
    assert err.field == "packages.3.cancellation.refunds.0.within_days"
    assert "greater than 0" in err.reason
