"""One typed settings object, read once from the environment (`PORTAL_*`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec

from portal.db.database import without_password
from portal.domain.changes import TolerancePolicy
from portal.services.unit_of_work import Rules

PREFIX = "PORTAL_"
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


class SettingsError(ValueError):
    """A setting has a value the portal cannot use; the message names it and says why."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str = "sqlite:///var/portal.sqlite3"
    """`sqlite:///path` (embedded default) or `postgresql://user@host:port/db`."""
    base_url: str = "http://127.0.0.1:8000"
    """Where users reach the portal; links in mail and OAuth redirects are built from it."""
    host: str = "127.0.0.1"
    port: int = 8000
    default_locale: str = "zh_CN"
    time_zone: str = "Asia/Shanghai"
    auto_approve_days: int = 3
    """A supplier's date change of at most this many days applies without review (0: never)."""
    auto_approve_qty_pct: Decimal = Decimal(5)
    """A supplier's quantity change within this percentage applies without review (0: never)."""
    over_delivery_pct: Decimal = Decimal(5)
    """How far shipments and receipts may exceed the ordered quantity, in percent."""
    cr_sla_hours: int = 24
    """How long the other side has to decide a change request."""
    handling_days: int = 2
    """Days from the supplier's delivery to ours, added to a linked sales line's date."""
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        fields = {f.name: f for f in msgspec.structs.fields(cls)}
        unknown = sorted(
            key
            for key in environ
            if key.startswith(PREFIX) and key[len(PREFIX) :].lower() not in fields
        )
        if unknown:
            raise SettingsError(
                f"Unknown setting {unknown[0]}; known settings are "
                + ", ".join(PREFIX + name.upper() for name in fields)
                + "."
            )
        raw: dict[str, Any] = {}
        for name, field in fields.items():
            key = PREFIX + name.upper()
            if key in environ:
                raw[name] = _parse(key, environ[key], field.type)
        settings = cls(**raw)
        settings.check()
        return settings

    def check(self) -> None:
        if urlsplit(self.database_url).scheme not in ("sqlite", "postgresql", "postgres"):
            raise SettingsError(
                f"PORTAL_DATABASE_URL={without_password(self.database_url)!r}: use "
                "sqlite:///FILE or postgresql://USER@HOST:PORT/DATABASE."
            )
        if self.log_level.upper() not in LOG_LEVELS:
            raise SettingsError(
                f"PORTAL_LOG_LEVEL={self.log_level!r}: use one of {', '.join(LOG_LEVELS)}."
            )
        base = urlsplit(self.base_url)
        if base.scheme not in ("http", "https") or not base.netloc:
            raise SettingsError(
                f"PORTAL_BASE_URL={self.base_url!r}: use an absolute http(s) URL such as "
                "https://portal.example.com."
            )
        if not 0 < self.port < 65536:
            raise SettingsError(f"PORTAL_PORT={self.port}: a port is between 1 and 65535.")
        for name in ("auto_approve_days", "cr_sla_hours", "handling_days"):
            if getattr(self, name) < 0:
                raise SettingsError(f"PORTAL_{name.upper()} cannot be negative.")
        for name in ("auto_approve_qty_pct", "over_delivery_pct"):
            if not Decimal(0) <= getattr(self, name) <= Decimal(100):
                raise SettingsError(f"PORTAL_{name.upper()} is a percentage from 0 to 100.")
        if self.default_locale not in ("zh_CN", "en"):
            raise SettingsError("PORTAL_DEFAULT_LOCALE is zh_CN or en.")
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(self.time_zone)
        except (KeyError, ValueError) as error:
            raise SettingsError(
                f"PORTAL_TIME_ZONE={self.time_zone!r} is not a known time zone "
                "(e.g. Asia/Shanghai, Europe/Berlin, UTC)."
            ) from error

    @property
    def is_sqlite(self) -> bool:
        return urlsplit(self.database_url).scheme == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        return Path(self.database_url.removeprefix("sqlite:///")) if self.is_sqlite else None

    @property
    def rules(self) -> Rules:
        return Rules(
            tolerance=TolerancePolicy(self.auto_approve_days, self.auto_approve_qty_pct),
            over_delivery_pct=self.over_delivery_pct,
            cr_sla_hours=self.cr_sla_hours,
            handling_days=self.handling_days,
        )


def _parse(key: str, value: str, type_: Any) -> Any:
    if type_ is int:
        try:
            return int(value)
        except ValueError:
            raise SettingsError(f"{key}={value!r} must be a whole number.") from None
    if type_ is Decimal:
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise SettingsError(f"{key}={value!r} must be a number.") from None
        if not number.is_finite():
            raise SettingsError(f"{key}={value!r} must be a finite number.")
        return number
    return value
