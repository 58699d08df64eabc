"""Catalogs as data: the TOML format of an operator's packs, validated with pydantic."""

from __future__ import annotations

import tomllib
from functools import cached_property
from typing import Annotated, Literal, Self, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from carrier_rules.errors import CatalogError
from carrier_rules.terms import (
    Cancellation,
    Commitment,
    PriceVersion,
    ProrationCase,
    Retention,
    Trial,
)
from carrier_rules.texts import (
    DEFAULT_EMAILS,
    DEFAULT_TEMPLATES,
    EMAIL_KEYS,
    LANGUAGES,
    TEMPLATE_KEYS,
    Language,
    require_keys,
)

__all__ = [
    "DEFAULT_EMAILS",
    "DEFAULT_TEMPLATES",
    "EMAIL_KEYS",
    "LANGUAGES",
    "TEMPLATE_KEYS",
    "Catalog",
    "EmailTemplate",
    "Keywords",
    "Language",
    "Package",
    "PostpaidProration",
    "RenewalPolicy",
    "SubscriberKind",
    "ValidityRule",
    "parse_catalog",
    "require_keys",
]

SubscriberKind = Literal["prepaid", "postpaid"]
Code = Annotated[str, Field(pattern=r"^[A-Z0-9_]{1,16}$")]
Keyword = Annotated[str, Field(pattern=r"^[A-Z0-9_ ]{1,32}$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ValidityRule(_Frozen):
    """How long a pack lasts from the instant X it is registered or renewed.

    ``hours`` is a rolling period (X + hours); ``cap = "month_end"`` stops it at
    23:59:59 on the last day of X's calendar month when it would pass it. No
    ``hours`` with a cap means "until the end of the calendar month".
    """

    hours: Annotated[int, Field(gt=0)] | None = None
    #: calendar months from X (same local day and time; the month's last day if shorter)
    months: Annotated[int, Field(gt=0, le=120)] | None = None
    cap: Literal["none", "month_end"] = "none"

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        if self.hours is None and self.months is None and self.cap == "none":
            raise ValueError("a validity needs hours, a cap, or both")
        if self.hours is not None and self.months is not None:
            raise ValueError("a validity is in hours or in months, not both")
        return self


class Validity(_Frozen):
    """The validity rule for each kind of subscriber."""

    prepaid: ValidityRule
    postpaid: ValidityRule

    def for_kind(self, kind: SubscriberKind) -> ValidityRule:
        return self.prepaid if kind == "prepaid" else self.postpaid


class PostpaidProration(_Frozen):
    """The mid-month rule for postpaid invoices (seed 004: the 16th and 50%)."""

    from_day: Annotated[int, Field(ge=2, le=28)]
    registration_percent: Annotated[int, Field(ge=0, le=100)]
    cancel_before_day_percent: Annotated[int, Field(ge=0, le=100)]


class Package(_Frozen):
    code: Code
    price: Annotated[int, Field(ge=0)]
    group: Annotated[str, Field(min_length=1)]
    app: Annotated[str, Field(min_length=1)]
    period: dict[Language, str]
    benefit: dict[Language, str]
    validity: Validity
    #: shorthand for the seed 004 rule, expanded into ``proration`` cases
    postpaid_proration: PostpaidProration | None = None
    #: ``addon``: sold on top of a base plan of group ``requires`` (seed 000)
    kind: Literal["base", "addon"] = "base"
    requires: str | None = None
    trial: Trial | None = None
    commitment: Commitment | None = None
    price_versions: list[PriceVersion] = Field(default_factory=list)
    #: ordered cases, the first that matches wins
    proration: list[ProrationCase] = Field(default_factory=list)
    cancellation: Cancellation = Cancellation()
    #: ``KH`` brings back a subscription cancelled to the end of its term, before then
    reactivation: bool = False
    retention: Retention | None = None
    #: the free plan the subscriber drops to when this one ends (seeds 001, 002)
    fallback: Code | None = None

    @model_validator(mode="after")
    def _expand_postpaid_proration(self) -> Self:
        p = self.postpaid_proration
        if p is None:
            return self
        cases = [
            ProrationCase(
                name=f"postpaid_from_day_{p.from_day}_{p.registration_percent}pct",
                on="registration",
                kind="postpaid",
                from_day=p.from_day,
                percent=p.registration_percent,
            ),
            ProrationCase(
                name=f"postpaid_cancel_before_day_{p.from_day}_{p.cancel_before_day_percent}pct",
                on="cancellation",
                kind="postpaid",
                before_day=p.from_day,
                percent=p.cancel_before_day_percent,
            ),
        ]
        object.__setattr__(self, "proration", [*self.proration, *cases])
        return self

    @model_validator(mode="after")
    def _addon_needs_base(self) -> Self:
        if self.kind == "addon" and self.requires is None:
            raise ValueError(
                "an add-on names the group it requires (requires = ...): none is given"
            )
        if self.kind == "base" and self.requires is not None:
            raise ValueError(
                f"a base plan does not require anything (requires = {self.requires!r});"
                ' an add-on says kind = "addon"'
            )
        return self

    @field_validator("period", "benefit")
    @classmethod
    def _every_language(cls, value: dict[Language, str]) -> dict[Language, str]:
        missing = [lang for lang in LANGUAGES if lang not in value]
        if missing:
            raise ValueError(f"missing language(s): {', '.join(missing)}")
        return value


class EmailTemplate(_Frozen):
    """An email: placeholders as in the SMS templates, plus ``{text}`` (the SMS sent)."""

    subject: Annotated[str, Field(min_length=1)]
    body: Annotated[str, Field(min_length=1)]


class Keywords(_Frozen):
    """SMS keywords (already folded: upper case, no diacritics)."""

    subscribe: list[Keyword] = Field(min_length=1)
    cancel: list[Keyword] = Field(min_length=1)
    #: keyword -> the pack group it reports on
    status: dict[Keyword, str] = Field(min_length=1)
    #: ``KH <CODE>``: bring back a plan cancelled to the end of its term
    reactivate: list[Keyword] = Field(default_factory=lambda: ["KH", "REACTIVATE"])
    #: ``KT <CODE>``: the state of one service
    check: list[Keyword] = Field(default_factory=lambda: ["KT", "CHECK"])
    #: ``TC``: everything the subscriber has
    list_all: list[Keyword] = Field(default_factory=lambda: ["TC", "LIST"])
    #: answers to a question (double opt-in, a refund to confirm)
    confirm: list[Keyword] = Field(default_factory=lambda: ["Y", "CO", "YES", "OK"])
    decline: list[Keyword] = Field(default_factory=lambda: ["N", "KHONG", "NO"])


class RenewalPolicy(_Frozen):
    """What happens when a prepaid renewal cannot be paid for."""

    retry_every_hours: Annotated[int, Field(gt=0)]
    give_up_after_days: Annotated[int, Field(ge=0)]


class Catalog(_Frozen):
    model_config = ConfigDict(frozen=True, extra="forbid", ignored_types=(cached_property,))

    name: Annotated[str, Field(min_length=1)]
    operator: str
    shortcode: Annotated[str, Field(pattern=r"^[0-9]{3,8}$")]
    timezone: str
    default_language: Language = "vi"
    packages: list[Package] = Field(min_length=1)
    keywords: Keywords
    renewal: RenewalPolicy
    #: a paid registration waits for a ``Y`` (Vietnamese operators' double opt-in)
    double_opt_in: bool = False
    #: how long a question (opt-in, retention offer, refund) waits for its answer
    conversation_minutes: Annotated[int, Field(gt=0, le=1440)] = 10
    #: data in this catalog's apps outside any pack, per started MB (prepaid balance or
    #: postpaid invoice); unset: the gateway's default rate
    out_of_bundle_per_mb: Annotated[int, Field(ge=0)] | None = None
    templates: dict[Language, dict[str, str]]
    emails: dict[Language, dict[str, EmailTemplate]]

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("templates")
    @classmethod
    def _complete_templates(
        cls, value: dict[Language, dict[str, str]], info: ValidationInfo
    ) -> dict[Language, dict[str, str]]:
        return require_keys(
            value,
            TEMPLATE_KEYS,
            "template",
            info.data.get("default_language"),
            DEFAULT_TEMPLATES,
        )

    @field_validator("emails")
    @classmethod
    def _complete_emails(
        cls, value: dict[Language, dict[str, EmailTemplate]], info: ValidationInfo
    ) -> dict[Language, dict[str, EmailTemplate]]:
        templates = info.data.get("templates")
        if templates is not None and set(value) != set(templates):
            raise ValueError(
                "emails and templates must be given in the same languages:"
                f" {sorted(value)} vs {sorted(templates)}"
            )
        defaults = {
            lang: {k: EmailTemplate(subject=sub, body=body) for k, (sub, body) in per.items()}
            for lang, per in DEFAULT_EMAILS.items()
        }
        return require_keys(value, EMAIL_KEYS, "email", info.data.get("default_language"), defaults)

    @field_validator("packages")
    @classmethod
    def _references_exist(cls, value: list[Package]) -> list[Package]:
        """A fallback, a plan to switch to, a base an add-on requires: each must exist."""
        codes = {p.code for p in value}
        groups = {p.group for p in value}
        for index, package in enumerate(value):
            where = f"packages.{index}"
            if package.fallback is not None and package.fallback not in codes:
                raise ValueError(f"{where}.fallback: no package {package.fallback!r}")
            switch = None if package.retention is None else package.retention.switch_to
            if switch is not None and switch not in codes:
                raise ValueError(f"{where}.retention.switch_to: no package {switch!r}")
            if package.requires is not None and package.requires not in groups:
                raise ValueError(f"{where}.requires: no group {package.requires!r}")
        return value

    @field_validator("packages")
    @classmethod
    def _unique_codes(cls, value: list[Package]) -> list[Package]:
        codes = [p.code for p in value]
        duplicated = sorted({c for c in codes if codes.count(c) > 1})
        if duplicated:
            raise ValueError(f"duplicate package code(s): {', '.join(duplicated)}")
        return value

    @field_validator("keywords")
    @classmethod
    def _known_groups(cls, value: Keywords, info: ValidationInfo) -> Keywords:
        if "packages" not in info.data:  # the packages are invalid: that error says it
            return value
        groups = {p.group for p in info.data["packages"]}
        for keyword, group in value.status.items():
            if group not in groups:
                raise ValueError(f"status keyword {keyword!r} names unknown group {group!r}")
        return value

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def by_code(self) -> dict[str, Package]:
        return {p.code: p for p in self.packages}

    def package(self, code: str) -> Package | None:
        return self.by_code.get(code)


M = TypeVar("M", bound=BaseModel)


def parse_toml_model(model: type[M], text: str, *, source: str) -> M:
    """Parse TOML text into ``model``; errors name ``source``, the field and the reason."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(source=source, field="(toml)", reason=str(exc)) from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(root)"
        reason = first["msg"]
        if len(exc.errors()) > 1:
            reason += f" (and {len(exc.errors()) - 1} more error(s))"
        raise CatalogError(source=source, field=field, reason=reason) from exc


def parse_catalog(text: str, *, source: str) -> Catalog:
    """Parse and validate a catalog's TOML text; ``source`` names it in errors."""
    return parse_toml_model(Catalog, text, source=source)
