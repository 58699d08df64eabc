"""Settings from the environment (``SCGW_*``), each also a ``scgw serve`` flag."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, Field, FilePath, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

import carrier_rules
from gateway.adapters.mqtt_connection import MqttEndpoint, parse_mqtt_url
from gateway.adapters.postgres_url import is_postgres_url
from gateway.adapters.smpp.outcomes import parse_outcomes
from gateway.adapters.smtp_relay import parse_relay_url

__all__ = [
    "DEFAULT_CATALOG",
    "DEFAULT_CATALOGS",
    "DEFAULT_SUPPORT_POLICY",
    "MIN_TOKEN_LENGTH",
    "Settings",
]

_CATALOGS = Path(carrier_rules.__file__).resolve().parent / "catalogs"
DEFAULT_CATALOG = _CATALOGS / "zalo.toml"
#: the Zalo packs (888) and the services of seeds 000 (8100), 001 (8200), 002 (8300)
DEFAULT_CATALOGS = [DEFAULT_CATALOG] + [
    _CATALOGS / f"{name}.toml" for name in ("meetings", "creative", "streaming")
]
DEFAULT_SUPPORT_POLICY = _CATALOGS / "support.toml"
#: the shortest ``SCGW_API_TOKEN`` accepted (a token guards the API off loopback)
MIN_TOKEN_LENGTH = 16
#: an instance id or a share group: a word that fits in an MQTT client id and topic level
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,48}$")
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SCGW_", extra="forbid")

    #: ``mqtt://[user:pass@]host:port`` or ``mqtts://...`` (TLS); unset: a broker on
    #: 127.0.0.1:1883, else an embedded one
    mqtt_url: str | None = None
    #: CA certificates (PEM) that sign an ``mqtts://`` broker's certificate; unset: the system's
    mqtt_ca_file: FilePath | None = None
    mqtt_protocol: Literal["auto", "3.1.1", "5"] = "auto"
    mqtt_client_id: str = "scgw-gateway"
    #: this instance among several on one PostgreSQL database (``scgw serve
    #: --instance-id A``); unset: generated (the host name, then ``-2``, ``-3``...)
    instance_id: str | None = None
    #: the MQTT v5 shared subscription group MOs are spread over (``$share/<group>/...``);
    #: unset: ``scgw`` on PostgreSQL, none on SQLite; empty: none
    mqtt_share_group: str | None = None
    http_host: str = "127.0.0.1"
    #: required when ``http_host`` is not a loopback address: the console and the API ask for it
    api_token: SecretStr | None = None
    http_port: int = Field(default=8888, ge=0, le=65535)
    database_url: str = "sqlite:///./scgw.db"
    #: ``FULL`` (default) survives power loss; ``NORMAL`` survives a crash of the process
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    clock: Literal["real", "virtual"] = "real"
    clock_start: AwareDatetime | None = None
    auto_provision: bool = True
    default_balance: int = Field(default=50_000, ge=0)
    smtp_host: str = "127.0.0.1"
    #: 0 picks a free port (logged at start-up)
    smtp_port: int = Field(default=2525, ge=0, le=65535)
    #: mail to ``<shortcode>@<domain>`` is a command, to ``support@<domain>`` a ticket
    mail_domain: str = "sms.local"
    #: the largest mail accepted, in bytes (larger: 552)
    smtp_max_size: int = Field(default=1_048_576, ge=1024)
    smtp_max_recipients: int = Field(default=10, ge=1, le=1000)
    #: seconds a client may stay silent before the server hangs up
    smtp_timeout: float = Field(default=60.0, gt=0)
    #: ``required``: AUTH PLAIN/LOGIN before MAIL, against ``smtp_users`` (no TLS!)
    smtp_auth: Literal["none", "required"] = "none"
    #: JSON object of user -> password, e.g. ``{"harness": "s3cret"}``
    smtp_users: dict[str, SecretStr] = Field(default_factory=dict)
    #: ``smtp://[user:pass@]host[:port]`` or ``smtps://...``; unset: keep mail in the sink
    smtp_relay_url: str | None = None
    smpp_host: str = "127.0.0.1"
    #: 0 picks a free port (logged at start-up)
    smpp_port: int = Field(default=2775, ge=0, le=65535)
    #: the SMPP accounts (TOML); unset: the built-in demo accounts
    smpp_accounts: FilePath | None = None
    #: seconds from submit_sm until a message's outcome is decided (virtual or real time)
    smpp_delivery_delay: float = Field(default=0.0, ge=0, le=10 * 365 * 86_400)
    #: seconds a message without validity_period is kept for a handset that is off
    smpp_validity: float = Field(default=48 * 3600.0, gt=0, le=10 * 365 * 86_400)
    #: the outcomes of messages to handsets that are on, in whole percentages
    smpp_outcomes: str = "DELIVRD=100"
    #: seeds the draw of those outcomes: the same traffic gets the same outcomes
    smpp_seed: int = 0

    #: SMPP over TLS: the listener's certificate (PEM, chain included) and its key
    smpp_tls_cert: FilePath | None = None
    smpp_tls_key: FilePath | None = None
    #: delivery retries back off from this many seconds, doubling, up to the maximum
    mail_retry_base: float = Field(default=2.0, gt=0)
    mail_retry_max: float = Field(default=300.0, gt=0)
    #: data outside any pack, per started MB, for apps no catalog prices itself
    data_rate_per_mb: int = Field(default=1000, ge=0)
    #: flood control: MOs per second one MSISDN may send (0: off), and the burst above it
    mo_rate_limit: float = Field(default=10.0, ge=0, le=1_000_000)
    mo_burst: int = Field(default=20, ge=1, le=1_000_000)
    #: the support desk's policy (verification, closure phrases, texts)
    support_policy: Path = DEFAULT_SUPPORT_POLICY
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"
    #: catalog files (TOML); by default the four shipped ones (888, 8100, 8200, 8300)
    catalogs: list[Path] = Field(default_factory=lambda: list(DEFAULT_CATALOGS))
    #: the time zone of times in API responses and MT payloads
    display_timezone: str = "Asia/Ho_Chi_Minh"

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parse_mqtt_url(value)  # raises ValueError with the reason
        return value

    @field_validator("instance_id")
    @classmethod
    def _instance_id(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not _NAME.match(value):
            raise ValueError(
                f"expected 1 to 48 letters, digits, '-' or '_' (e.g. A or gw-2), got {value!r}"
            )
        return value

    @field_validator("mqtt_share_group")
    @classmethod
    def _share_group(cls, value: str | None) -> str | None:
        if value is not None and value != "" and not _NAME.match(value):
            raise ValueError(
                f"expected 1 to 48 letters, digits, '-' or '_' (e.g. scgw), got {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _ca_file_needs_tls(self) -> Settings:
        endpoint = self.mqtt_endpoint()
        if self.mqtt_ca_file is not None and (endpoint is None or not endpoint.tls):
            raise ValueError("SCGW_MQTT_CA_FILE is for a TLS broker: SCGW_MQTT_URL=mqtts://...")
        return self

    @field_validator("smpp_outcomes")
    @classmethod
    def _outcomes(cls, value: str) -> str:
        parse_outcomes(value)  # ValueError: the reason
        return value

    @model_validator(mode="after")
    def _smpp_tls_pair(self) -> Settings:
        if (self.smpp_tls_cert is None) != (self.smpp_tls_key is None):
            raise ValueError("SCGW_SMPP_TLS_CERT and SCGW_SMPP_TLS_KEY go together: set both")
        return self

    @field_validator("mail_domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        domain = value.strip().lower()
        if not _DOMAIN.match(domain):
            raise ValueError(f"expected a mail domain like sms.local, got {value!r}")
        return domain

    @field_validator("smtp_relay_url")
    @classmethod
    def _relay_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parse_relay_url(value)  # raises ValueError with the reason
        return value

    @field_validator("api_token")
    @classmethod
    def _token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        token = value.get_secret_value()
        if not token.strip():
            raise ValueError("blank: give a token of 16 characters or more, or leave it unset")
        if any(c.isspace() for c in token):
            raise ValueError("contains spaces: a token is one word of 16 characters or more")
        if len(token) < MIN_TOKEN_LENGTH:
            raise ValueError(
                f"too short ({len(token)} characters, at least {MIN_TOKEN_LENGTH}): make one with"
                " python3 -c 'import secrets; print(secrets.token_urlsafe(24))'"
            )
        return value

    @field_validator("display_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("not a time zone name, e.g. Asia/Ho_Chi_Minh or UTC") from exc
        return value

    @model_validator(mode="after")
    def _token_off_loopback(self) -> Settings:
        if not self.loopback_only and self.api_token is None:
            raise ValueError(
                f"SCGW_HTTP_HOST={self.http_host} is reachable from other machines:"
                " set SCGW_API_TOKEN; the console and the API will ask for it"
            )
        return self

    @property
    def loopback_only(self) -> bool:
        """Whether the HTTP port is reachable from this machine only."""
        if self.http_host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.http_host).is_loopback
        except ValueError:
            return False

    @model_validator(mode="after")
    def _listeners_apart(self) -> Settings:
        """HTTP, SMTP and SMPP need ports of their own (0, a free port, excepted): two
        listeners on one port would answer each other's clients."""
        listeners = [
            ("SCGW_HTTP_PORT", self.http_host, self.http_port),
            ("SCGW_SMTP_PORT", self.smtp_host, self.smtp_port),
            ("SCGW_SMPP_PORT", self.smpp_host, self.smpp_port),
        ]
        wildcard = {"", "0.0.0.0", "::"}  # noqa: S104 - compared, not bound
        for i, (name, host, port) in enumerate(listeners):
            for other, other_host, other_port in listeners[i + 1 :]:
                same_host = host == other_host or host in wildcard or other_host in wildcard
                if port and port == other_port and same_host:
                    raise ValueError(
                        f"{name} and {other} are both {port}: give each listener its own port"
                    )
        return self

    @model_validator(mode="after")
    def _auth_has_users(self) -> Settings:
        if self.smtp_auth == "required" and not self.smtp_users:
            raise ValueError(
                'SCGW_SMTP_AUTH=required needs SCGW_SMTP_USERS, e.g. {"harness": "s3cret"}'
            )
        return self

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    def mqtt_endpoint(self) -> MqttEndpoint | None:
        if self.mqtt_url is None:
            return None
        endpoint = parse_mqtt_url(self.mqtt_url)
        return replace(endpoint, ca_file=self.mqtt_ca_file)

    @property
    def on_postgres(self) -> bool:
        return is_postgres_url(self.database_url)

    def share_group(self) -> str | None:
        """The shared subscription group MOs come through, if any (see ``mqtt_share_group``)."""
        if self.mqtt_share_group is None:
            return "scgw" if self.on_postgres else None
        return self.mqtt_share_group or None

    def virtual_start(self, wall_now: datetime) -> datetime:
        return self.clock_start or wall_now
