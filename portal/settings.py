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
    secret_key: str = ""
    """Signs CSRF tokens and links. Empty: one is made and kept in var/secret.key (the embedded
    default); set it in production, where every web process must share it."""
    access_token_minutes: int = 10
    """Lifetime of an access token (a JWT: it cannot be recalled, only refused when its grant
    was revoked), so it is kept short."""
    refresh_token_days: int = 30
    session_hours: int = 12
    """A browser sign-in lasts this long at most, however active."""
    invitation_days: int = 7
    reset_minutes: int = 60
    """How long a password-reset link works."""
    rate_limit_storage: str = "memory://"
    """Where rate-limit counters live (a `limits` storage URI): memory:// for one process,
    redis://HOST:PORT when several web processes must share them."""
    mail_dir: str = "var/mail"
    """With no SMTP server configured, mail is written here as .eml files."""
    smtp_url: str = ""
    """smtp://user:password@host:port (or smtps://); empty: write mail to mail_dir."""
    mail_from: str = "Portal <portal@localhost>"
    dispatcher: bool = True
    """Deliver notifications from inside the web process (the embedded default). In production
    set it to false and run `portal worker` (as many as you like) instead."""
    notify_poll_seconds: Decimal = Decimal(1)
    """How often the dispatcher looks for work it was not woken up for."""
    alert_scan_seconds: int = 60
    """How often the alert scanner looks for tripped rules (early warnings)."""
    retry_scale: Decimal = Decimal(1)
    """Multiplies the waits between delivery retries (10 s, 30 s, 2 min ... 1 h); tests shrink
    them."""
    channels_url: str = ""
    """Where live updates travel between processes: empty means PostgreSQL LISTEN/NOTIFY when
    the database is PostgreSQL and in-process memory with SQLite; redis://HOST:PORT for Redis."""
    webhook_allow_private: bool = False
    """Allow webhook URLs that resolve to loopback, private or link-local addresses (refused by
    default: a subscriber must not make the portal call into its own network)."""
    tracking_link_days: int = 30
    """How long the tracking link in a customer's e-mail opens the order's status page."""
    action_link_days: int = 7
    """How long the accept/view links in a supplier's new-order e-mail work (each once)."""
    digest_hour: int = 8
    """The hour of the day (in each recipient's time zone) the daily digest e-mail goes out."""

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
        for name in (
            "access_token_minutes",
            "refresh_token_days",
            "session_hours",
            "invitation_days",
            "reset_minutes",
        ):
            if getattr(self, name) < 1:
                raise SettingsError(f"PORTAL_{name.upper()} must be at least 1.")
        if self.secret_key and len(self.secret_key) < 32:
            raise SettingsError("PORTAL_SECRET_KEY must be at least 32 characters.")
        if urlsplit(self.smtp_url).scheme not in ("", "smtp", "smtps"):
            raise SettingsError(
                "PORTAL_SMTP_URL: use smtp://USER:PASSWORD@HOST:PORT or smtps://..., or leave "
                "it empty to write mail to PORTAL_MAIL_DIR."
            )
        if urlsplit(self.channels_url).scheme not in ("", "redis", "rediss", "postgresql"):
            raise SettingsError(
                "PORTAL_CHANNELS_URL: use redis://HOST:PORT, or leave it empty (PostgreSQL "
                "LISTEN/NOTIFY with a PostgreSQL database, in-process otherwise)."
            )
        for name in ("tracking_link_days", "action_link_days", "alert_scan_seconds"):
            if getattr(self, name) < 1:
                raise SettingsError(f"PORTAL_{name.upper()} must be at least 1.")
        if not 0 <= self.digest_hour <= 23:
            raise SettingsError("PORTAL_DIGEST_HOUR is an hour of the day, 0 to 23.")
        if self.notify_poll_seconds <= 0 or self.retry_scale < 0:
            raise SettingsError(
                "PORTAL_NOTIFY_POLL_SECONDS must be more than 0 and PORTAL_RETRY_SCALE cannot "
                "be negative."
            )
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
    def issuer(self) -> str:
        """The authorization server's issuer identifier: the base URL without a trailing /."""
        return self.base_url.rstrip("/")

    @property
    def over_tls(self) -> bool:
        return urlsplit(self.base_url).scheme == "https"

    def secret(self) -> str:
        """The secret key, made once and kept beside the database when none is configured."""
        if self.secret_key:
            return self.secret_key
        path = self.sqlite_path.parent / "secret.key" if self.sqlite_path else None
        if path is None:
            raise SettingsError(
                "PORTAL_SECRET_KEY must be set when the database is PostgreSQL: every web "
                "process has to share it."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            import secrets

            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip()

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
    if type_ is bool:
        flag = value.strip().lower()
        if flag not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            raise SettingsError(f"{key}={value!r} must be true or false.")
        return flag in ("1", "true", "yes", "on")
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
