"""SMPP accounts: who may bind, with which password, as handsets or as an application."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gateway.adapters.smpp.outcomes import parse_outcomes
from gateway.errors import SettingError

__all__ = ["DEMO_ACCOUNTS", "Account", "BindType", "load_accounts", "parse_accounts"]

BindType = Literal["transmitter", "receiver", "transceiver"]
Role = Literal["handsets", "application"]

#: the accounts ``scgw serve`` starts with when ``SCGW_SMPP_ACCOUNTS`` is unset
DEMO_ACCOUNTS = """\
[[accounts]]
system_id = "handsets"
password = "handsets"
role = "handsets"

[[accounts]]
system_id = "app9029"
password = "s3cret"
role = "application"
short_codes = ["9029"]
"""


class Account(BaseModel):
    """One ``[[accounts]]`` entry of the accounts file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: SMPP limits system_id to 15 characters and the password to 8
    system_id: str = Field(min_length=1, max_length=15)
    password: str = Field(max_length=8)
    role: Role
    #: application only: the short codes whose MOs it receives and may send from
    short_codes: tuple[str, ...] = ()
    bind_types: tuple[BindType, ...] = ("transmitter", "receiver", "transceiver")
    #: sessions of this account bound at once; one more is refused with ESME_RALYBND
    max_binds: int = Field(default=4, ge=1, le=1000)
    #: submit_sm per second above which ESME_RTHROTTLED answers (0: no limit)
    throughput: float = Field(default=0, ge=0)
    #: the share of submit_sm answered ESME_RSUBMITFAIL (fault injection, 0 to 1)
    submit_error_rate: float = Field(default=0, ge=0, le=1)
    #: seconds every response to this account waits (fault injection: a slow SMSC)
    response_delay: float = Field(default=0, ge=0, le=60)
    #: đồng charged to the receiving subscriber per MT this account sends (0: free)
    mt_price: int = Field(default=0, ge=0, le=1_000_000)
    #: each session's n-th submit_sm drops the connection, unanswered (0: never)
    drop_after: int = Field(default=0, ge=0)
    #: the share of submit_sm that drop the connection, unanswered (seeded by system_id)
    drop_rate: float = Field(default=0, ge=0, le=1)
    #: long texts to this account: UDH concatenation or one PDU with message_payload
    long_messages: Literal["udh", "payload"] = "udh"
    #: application only: its own outcome percentages (else SCGW_SMPP_OUTCOMES)
    outcomes: str | None = None

    @field_validator("outcomes")
    @classmethod
    def _outcomes(cls, value: str | None) -> str | None:
        if value is not None:
            parse_outcomes(value)  # ValueError: the reason
        return value

    @field_validator("short_codes")
    @classmethod
    def _codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            if not code.isdigit() or not 3 <= len(code) <= 8:
                raise ValueError(f"{code!r} is not a short code (3 to 8 digits)")
        return value

    @model_validator(mode="after")
    def _role_codes(self) -> Account:
        if self.role == "application" and not self.short_codes:
            raise ValueError('an application account needs short_codes, e.g. ["9029"]')
        if self.role == "handsets" and self.short_codes:
            raise ValueError("short_codes are for application accounts")
        if self.role == "handsets" and self.outcomes is not None:
            raise ValueError("outcomes are for application accounts")
        if self.role == "handsets" and self.mt_price:
            raise ValueError("mt_price is for application accounts (their MTs)")
        return self


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    accounts: list[Account] = Field(min_length=1)


def parse_accounts(text: str, *, source: str) -> Mapping[str, Account]:
    """Accounts keyed by system_id; a bad file is a ``SettingError`` naming the field."""
    try:
        raw = tomllib.loads(text)
        parsed = _File.model_validate(raw)
    except tomllib.TOMLDecodeError as exc:
        raise SettingError("smpp_accounts", f"{source}: not TOML: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise SettingError("smpp_accounts", f"{source}: {where}: {first['msg']}") from exc
    accounts: dict[str, Account] = {}
    owners: dict[str, str] = {}
    for account in parsed.accounts:
        if account.system_id in accounts:
            raise SettingError(
                "smpp_accounts", f"{source}: system_id {account.system_id!r} appears twice"
            )
        for code in account.short_codes:
            if code in owners:
                raise SettingError(
                    "smpp_accounts",
                    f"{source}: short code {code} belongs to {owners[code]} already",
                )
            owners[code] = account.system_id
        accounts[account.system_id] = account
    return accounts


def load_accounts(path: Path | None) -> Mapping[str, Account]:
    """The accounts file, or the demo accounts when there is none."""
    if path is None:
        return parse_accounts(DEMO_ACCOUNTS, source="the demo accounts")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingError("smpp_accounts", f"cannot read {path}: {exc.strerror or exc}") from exc
    return parse_accounts(text, source=str(path))
