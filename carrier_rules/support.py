"""The support desk's policy as data (seed 003): verification, closure requests, texts."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from carrier_rules.catalog import EmailTemplate, Language, parse_toml_model, require_keys

__all__ = [
    "SUPPORT_EMAIL_KEYS",
    "SUPPORT_SMS_KEYS",
    "SupportPolicy",
    "Verification",
    "parse_support_policy",
]

#: SMS the desk sends to the account's phone
SUPPORT_SMS_KEYS: frozenset[str] = frozenset({"verification_code", "account_closed"})
#: emails the desk sends to the requester, one per ticket status change (and a wrong code)
SUPPORT_EMAIL_KEYS: frozenset[str] = frozenset(
    {
        "ticket_opened",
        "ticket_need_account",
        "ticket_verifying",
        "ticket_wrong_code",
        "ticket_code_expired",
        "ticket_closed",
        "account_closed",
    }
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Verification(_Frozen):
    """The one-time code that proves the requester holds the account's phone."""

    code_digits: Annotated[int, Field(ge=4, le=10)] = 6
    valid_minutes: Annotated[int, Field(gt=0)] = 10
    max_attempts: Annotated[int, Field(gt=0)] = 3
    #: codes one ticket may send (each new code follows a failed one): no SMS flood
    max_codes: Annotated[int, Field(gt=0)] = 3


class SupportPolicy(_Frozen):
    name: Annotated[str, Field(min_length=1)]
    #: the local part of the support address (``support`` -> ``support@<mail domain>``)
    mailbox: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")] = "support"
    #: the sender of the desk's SMS (a short code or an alphanumeric sender id)
    sms_sender: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{3,11}$")]
    default_language: Language = "vi-diacritics"
    verification: Verification = Verification()
    #: phrases (upper case, no diacritics) that make a ticket an account-closure request
    closure_phrases: list[Annotated[str, Field(pattern=r"^[A-Z0-9 ]{3,64}$")]] = Field(min_length=1)
    #: what the portal form offers (seed 003: Sản phẩm = Other, Danh mục = Hỗ trợ kỹ thuật)
    products: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    categories: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    sms: dict[Language, dict[str, str]]
    emails: dict[Language, dict[str, EmailTemplate]]

    @field_validator("sms")
    @classmethod
    def _complete_sms(cls, value: dict[Language, dict[str, str]]) -> dict[Language, dict[str, str]]:
        return require_keys(value, SUPPORT_SMS_KEYS, "sms template")

    @field_validator("emails")
    @classmethod
    def _complete_emails(
        cls, value: dict[Language, dict[str, EmailTemplate]]
    ) -> dict[Language, dict[str, EmailTemplate]]:
        return require_keys(value, SUPPORT_EMAIL_KEYS, "email")


def parse_support_policy(text: str, *, source: str) -> SupportPolicy:
    """Parse and validate a support policy's TOML; errors name the file, field and reason."""
    return parse_toml_model(SupportPolicy, text, source=source)
