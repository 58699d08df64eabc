"""Settings from the environment (``SCGW_*``), each also a ``scgw serve`` flag."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AwareDatetime, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

import carrier_rules

__all__ = ["DEFAULT_CATALOG", "Settings"]

DEFAULT_CATALOG = Path(carrier_rules.__file__).resolve().parent / "catalogs" / "zalo.toml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SCGW_", extra="forbid")

    #: ``mqtt://host:port``; unset: a broker on 127.0.0.1:1883, else an embedded one
    mqtt_url: str | None = None
    mqtt_protocol: Literal["auto", "3.1.1", "5"] = "auto"
    mqtt_client_id: str = "scgw-gateway"
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8888, ge=0, le=65535)
    database_url: str = "sqlite:///./scgw.db"
    #: ``FULL`` (default) survives power loss; ``NORMAL`` survives a crash of the process
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    clock: Literal["real", "virtual"] = "real"
    clock_start: AwareDatetime | None = None
    auto_provision: bool = True
    default_balance: int = Field(default=50_000, ge=0)
    smtp_port: int = Field(default=2525, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"
    #: catalog files (TOML); the Zalo packs of short code 888 by default
    catalogs: list[Path] = Field(default_factory=lambda: [DEFAULT_CATALOG])
    #: the time zone of times in API responses and MT payloads
    display_timezone: str = "Asia/Ho_Chi_Minh"

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
            raise ValueError(f"expected mqtt://host:port, got {value!r}")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    def mqtt_endpoint(self) -> tuple[str, int, str | None, str | None] | None:
        if self.mqtt_url is None:
            return None
        parts = urlsplit(self.mqtt_url)
        return parts.hostname or "127.0.0.1", parts.port or 1883, parts.username, parts.password

    def virtual_start(self, wall_now: datetime) -> datetime:
        return self.clock_start or wall_now
