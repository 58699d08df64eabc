"""Settings on the command line: a flag for every ``SCGW_*`` variable, and every problem
with one as a single line naming the setting as the user wrote it."""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from pydantic_settings import SettingsError

from gateway.settings import Settings

__all__ = [
    "HELP",
    "SettingsProblem",
    "Sources",
    "add_setting_flags",
    "flag_name",
    "load_settings",
    "shown_default",
]

#: what each setting means (``scgw serve --help`` and the table in docs/settings.md)
HELP: dict[str, str] = {
    "mqtt_url": "mqtt://[user:pass@]host:port; unset: the broker on 127.0.0.1:1883, else an embedded one",
    "mqtt_protocol": "5, 3.1.1, or auto (5, falling back to 3.1.1)",
    "mqtt_client_id": (
        "the gateway's persistent MQTT session (with several instances: <id>-<instance id>)"
    ),
    "instance_id": (
        "this gateway among several on one PostgreSQL database; unset: the host name"
        " (then -2, -3...)"
    ),
    "mqtt_share_group": (
        "MQTT v5 shared subscription group MOs are spread over ($share/<group>/sms/mo/#);"
        " unset: scgw on PostgreSQL, none on SQLite; empty: none"
    ),
    "http_host": "address of the HTTP API and the console",
    "api_token": "required when the HTTP host is not a loopback address (at least 16 characters)",
    "http_port": "HTTP port (0 picks a free one, logged)",
    "database_url": (
        "SQLite file (sqlite:////abs/path.db for an absolute path)"
        " or postgresql://user@host:port/db"
    ),
    "sqlite_synchronous": "FULL survives power loss; NORMAL only a crash of the process",
    "clock": "real follows the wall clock; virtual moves only through the API",
    "clock_start": "ISO 8601 start of a virtual clock (a restart resumes from the stored time)",
    "auto_provision": "an unknown MSISDN becomes a prepaid subscriber; false: a 'not a subscriber' reply",
    "default_balance": "balance of an auto-provisioned subscriber, in dong",
    "smtp_host": "address of the SMTP server",
    "smtp_port": "SMTP port (0 picks a free one, logged)",
    "mail_domain": "mail to <shortcode>@ is a command, to support@ a ticket",
    "smtp_max_size": "largest mail accepted, in bytes (larger: 552)",
    "smtp_max_recipients": "recipients per mail (more: 452)",
    "smtp_timeout": "seconds a silent SMTP client is given before the server hangs up",
    "smtp_auth": "required: AUTH PLAIN/LOGIN against the SMTP users (no TLS: keep it on loopback)",
    "smtp_users": 'JSON object of user to password, e.g. {"harness": "s3cret"}',
    "smtp_relay_url": "smtp://[user:pass@]host[:port] (?starttls=true) or smtps://...; unset: the built-in sink",
    "smpp_host": "address of the SMPP server (the SMSC that ESMEs bind to)",
    "smpp_port": "SMPP port (0 picks a free one, logged)",
    "smpp_accounts": "the SMPP accounts (TOML, see docs/smpp.md); unset: the built-in demo accounts",
    "smpp_delivery_delay": "seconds from submit_sm until a message's outcome is decided",
    "smpp_validity": "seconds a message without validity_period waits for a handset that is off",
    "smpp_outcomes": "outcomes for handsets that are on, e.g. DELIVRD=90,UNDELIV=5,EXPIRED=3,REJECTD=2",
    "smpp_seed": "seed of the outcome draw (the same traffic gets the same outcomes)",
    "smpp_tls_cert": "SMPP over TLS: the listener's certificate (PEM, chain included); unset: plain TCP",
    "smpp_tls_key": "SMPP over TLS: the certificate's private key (PEM)",
    "mail_retry_base": "relay retries back off from this many seconds, doubling",
    "mail_retry_max": "the longest wait between relay retries, in seconds",
    "data_rate_per_mb": "data outside any pack, per started MB, for apps no catalog prices",
    "mo_rate_limit": "flood control: MOs per second one MSISDN may send (0: off)",
    "mo_burst": "flood control: MOs one MSISDN may send at once above the rate",
    "support_policy": "the support desk's TOML (verification, closure phrases, texts)",
    "log_level": "DEBUG, INFO, WARNING or ERROR",
    "log_format": "json lines, console (readable), or auto (console when stderr is a terminal)",
    "catalogs": 'catalog TOML files; SCGW_CATALOGS is a JSON list, e.g. ["a.toml", "b.toml"]',
    "display_timezone": "time zone of times in API responses and MT payloads",
}

#: defaults too long or too variable to print as they are
_SHOWN_DEFAULTS = {
    "catalogs": "the four shipped catalogs",
    "support_policy": "the shipped policy",
    "clock_start": "now",
    "mqtt_url": "unset",
    "smtp_users": "{}",
    "smpp_accounts": "the demo accounts",
    "instance_id": "the host name",
    "mqtt_share_group": "scgw on PostgreSQL",
}
#: a setting with its own flag name (repeatable)
_APPENDED = {"catalogs": "--catalog"}
#: what a JSON-valued setting looks like
_JSON_EXAMPLES = {"catalogs": '["a.toml", "b.toml"]', "smtp_users": '{"harness": "s3cret"}'}
_LONGEST_VALUE = 200
_SETTING = re.compile(r"SCGW_([A-Z0-9_]+)(=(\S+))?")


def flag_name(name: str) -> str:
    """``http_port`` -> ``--http-port`` (``catalogs`` -> ``--catalog``, repeatable)."""
    return _APPENDED.get(name, "--" + name.replace("_", "-"))


def _annotation(info: FieldInfo) -> Any:
    """The field's type without ``| None``."""
    kind = info.annotation
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return kind


def _is_json(info: FieldInfo) -> bool:
    kind = _annotation(info)
    return typing.get_origin(kind) in (dict, list) or kind in (dict, list)


def _is_secret(info: FieldInfo) -> bool:
    return "SecretStr" in str(info.annotation)


def shown_default(name: str) -> str:
    """A setting's default as ``--help`` and the docs show it."""
    if name in _SHOWN_DEFAULTS:
        return _SHOWN_DEFAULTS[name]
    info = Settings.model_fields[name]
    default = info.get_default(call_default_factory=True)
    if default is None:
        return "unset"
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, float) and default.is_integer():
        return str(int(default))
    return str(default)


def _metavar(info: FieldInfo) -> str | None:
    kind = _annotation(info)
    if typing.get_origin(kind) is typing.Literal:
        return "{" + ",".join(str(a) for a in typing.get_args(kind)) + "}"
    if kind is bool:
        return "true|false"
    if kind in (int, float):
        return "N"
    return None


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per setting, taken as text: the values are checked as the variables are."""
    for name, info in Settings.model_fields.items():
        env = f"SCGW_{name.upper()}"
        meaning = HELP.get(name, env)
        text = f"{meaning} ({env}; default: {shown_default(name)})".replace("%", "%%")
        if name in _APPENDED:
            parser.add_argument(
                _APPENDED[name],
                dest=name,
                action="append",
                metavar="FILE",
                help=f"{meaning} (repeatable; default: {shown_default(name)})".replace("%", "%%"),
            )
            continue
        parser.add_argument(flag_name(name), dest=name, metavar=_metavar(info), help=text)


class SettingsProblem(Exception):
    """Settings the gateway cannot start with: one line each."""

    def __init__(self, lines: Sequence[str]) -> None:
        # a reason may quote the value: a URL's password is never echoed either way
        self.lines = [_URL_PASSWORD.sub(r"\1<hidden>@", line) for line in lines]
        super().__init__("\n".join(self.lines))


#: the password of a URL's user info (``scheme://user:password@host``)
_URL_PASSWORD = re.compile(
    r"\b([a-z][a-z0-9+.-]*://[^/@:\s'\"\[\]]*:)[^/@\s'\"\[\]]*@", re.IGNORECASE
)


def _shown(value: str, *, secret: bool) -> str:
    if secret and value.strip():
        return "<hidden>"
    value = _URL_PASSWORD.sub(r"\1<hidden>@", value)  # a URL's password is never echoed
    if len(value) > _LONGEST_VALUE:
        return shlex.quote(value[: _LONGEST_VALUE - 1]) + "…"
    return shlex.quote(value)


@dataclass(frozen=True)
class Sources:
    """Where each setting came from: a flag, an ``SCGW_*`` variable, or the default."""

    flags: Mapping[str, str | list[str]] = field(default_factory=dict)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    def env(self, name: str) -> tuple[str, str] | None:
        """The variable (as spelled) and its value; names are not case-sensitive."""
        wanted = f"SCGW_{name.upper()}"
        for key, value in self.environ.items():
            if key.upper() == wanted:
                return key, value
        return None

    def given(self, name: str, current: object = None) -> str:
        """``--http-port abc``, ``SCGW_HTTP_PORT=abc`` or ``SCGW_HTTP_PORT=8888 (the default)``."""
        info = Settings.model_fields.get(name)
        secret = info is not None and _is_secret(info)
        flag = self.flags.get(name)
        if flag is not None:
            values = flag if isinstance(flag, list) else [flag]
            return " ".join(f"{flag_name(name)} {_shown(v, secret=secret)}" for v in values)
        found = self.env(name)
        if found is not None:
            return f"{found[0]}={_shown(found[1], secret=secret)}"
        if isinstance(current, SecretStr):
            current = current.get_secret_value()
        shown = "" if current is None else _shown(str(current), secret=secret)
        return f"SCGW_{name.upper()}={shown} (the default)"

    def rename(self, message: str) -> str:
        """``SCGW_X=v`` in a message becomes ``--x v`` where the user gave a flag; a
        setting the user did not give is named both ways (``SCGW_X (--x)``)."""

        def one(match: re.Match[str]) -> str:
            name, value = match.group(1).lower(), match.group(3)
            if name not in Settings.model_fields:
                return match.group(0)
            if name in self.flags:
                return flag_name(name) + ("" if value is None else f" {value}")
            if value is None and self.env(name) is None:
                return f"{match.group(0)} ({flag_name(name)})"
            return match.group(0)

        return _SETTING.sub(one, message)


def _reason(name: str, error: ErrorDetails) -> str:
    """Why a value was refused, in words (never the pydantic message with its link)."""
    kind, ctx = error["type"], error.get("ctx") or {}
    port = name.endswith("_port") and len(error["loc"]) == 1
    if port and kind in ("int_parsing", "int_from_float", "less_than_equal", "greater_than_equal"):
        return "not a port number (0 to 65535; 0 picks a free one)"
    simple = {
        "int_parsing": "not a whole number",
        "int_from_float": "not a whole number",
        "float_parsing": "not a number",
        "finite_number": "not a finite number",
        "bool_parsing": "expected true or false",
        "timezone_aware": "needs a UTC offset, e.g. 2026-03-10T10:00:00+07:00",
        "string_type": "expected text",
        "path_type": "expected a file path",
    }
    if kind in simple:
        return simple[kind]
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        bound = ctx.get(key)
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)
        return f"must be {words} {bound}"
    if kind == "literal_error":
        return "expected " + str(ctx.get("expected", "")).replace("'", "")
    if kind.startswith(("datetime_", "date_")):
        return "not an ISO 8601 date and time, e.g. 2026-03-10T10:00:00+07:00"
    if kind in ("dict_type", "list_type"):
        what = "object" if kind == "dict_type" else "list"
        example = _JSON_EXAMPLES.get(name)
        return f"expected a JSON {what}" + (f", e.g. {example}" if example else "")
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    message = error["msg"]
    return message[:1].lower() + message[1:]


def _lines(error: ValidationError, sources: Sources) -> list[str]:
    lines = []
    for detail in error.errors(include_url=False):
        loc = detail["loc"]
        if not loc:  # a rule across settings: its message names them
            lines.append(sources.rename(_reason("", detail)))
            continue
        name = str(loc[0])
        reason = _reason(name, detail)
        if len(loc) > 1:
            reason = f"{'.'.join(str(part) for part in loc[1:])}: {reason}"
        lines.append(f"{sources.given(name)}: {reason}")
    return lines


def _json_problem(name: str, sources: Sources, exc: BaseException | None) -> str:
    info = Settings.model_fields[name]
    kind = typing.get_origin(_annotation(info))
    what = "object" if kind is dict else "list"
    example = _JSON_EXAMPLES.get(name)
    detail = f" ({exc.msg} at character {exc.pos})" if isinstance(exc, json.JSONDecodeError) else ""
    hint = f"expected a JSON {what}" + (f", e.g. {example}" if example else "")
    return f"{sources.given(name)}: not valid JSON{detail}; {hint}"


def load_settings(sources: Sources) -> Settings:
    """Settings from the flags, then the environment, then the defaults.

    Raises :class:`SettingsProblem` with one line per setting the user must fix.
    """
    values: dict[str, Any] = {}
    for name, raw in sources.flags.items():
        info = Settings.model_fields[name]
        if isinstance(raw, str) and _is_json(info):
            try:
                values[name] = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise SettingsProblem([_json_problem(name, sources, exc)]) from exc
        else:
            values[name] = raw
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise SettingsProblem(_lines(exc, sources)) from exc
    except SettingsError as exc:  # a JSON-valued variable that is not JSON
        named = re.search(r'field "(\w+)"', str(exc))
        if named is None or named.group(1) not in Settings.model_fields:
            raise SettingsProblem([f"invalid setting: {exc}"]) from exc
        raise SettingsProblem([_json_problem(named.group(1), sources, exc.__cause__)]) from exc
