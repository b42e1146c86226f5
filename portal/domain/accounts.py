"""The rules of administration: what a valid organisation, user, OAuth client and external
identity provider look like, and the record of every change made to them.

An organisation's administration is one stream (`org/<CODE>`), read by internal staff only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from portal.domain.actors import Actor
from portal.domain.errors import DomainError, Phrase
from portal.domain.events import EventKind, org_stream
from portal.domain.orders import Aggregate

ORG_KINDS: tuple[str, ...] = ("internal", "supplier", "customer", "both")
LOCALES: tuple[str, ...] = ("zh_CN", "en")
CLIENT_CREDENTIALS = "client_credentials"
AUTHORIZATION_CODE = "authorization_code"
REFRESH_TOKEN = "refresh_token"
GRANT_TYPES: tuple[str, ...] = (CLIENT_CREDENTIALS, AUTHORIZATION_CODE, REFRESH_TOKEN)

_CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,31}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


@dataclass(slots=True)
class OrgRecord(Aggregate):
    """Collects the events of one organisation's administration for the unit of work."""

    code: str

    @property
    def stream(self) -> str:
        return org_stream(self.code)

    def changed(self, actor: Actor, kind: EventKind, data: dict[str, Any]) -> None:
        self.record(actor, kind, data, external=False)


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Only what differs, as {"before": {...}, "after": {...}}: what an event says changed."""
    keys = [key for key in after if before.get(key) != after[key]]
    return {
        "before": {key: before.get(key) for key in keys},
        "after": {key: after[key] for key in keys},
    }


def org_code(text: str) -> str:
    code = text.strip().upper()
    if not _CODE.fullmatch(code):
        raise DomainError(
            "An organisation code is 1 to 32 letters, digits, '-' or '_', starting "
            "with a letter or digit (got {text!r}).",
            text=text,
        )
    return code


def required_text(text: str, what: Phrase, longest: int = 200) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise DomainError("{what} is required.", what=what)
    if len(cleaned) > longest:
        raise DomainError("{what} is longer than {longest} characters.", what=what, longest=longest)
    return cleaned


def org_kind(text: str) -> str:
    if text not in ORG_KINDS:
        raise DomainError(
            "Unknown kind {text!r}; use one of: {choices}.", text=text, choices=", ".join(ORG_KINDS)
        )
    return text


def email(text: str) -> str:
    """E-mail addresses are compared without regard to case, so they are kept in lower case."""
    address = text.strip().lower()
    if len(address) > 254 or not _EMAIL.fullmatch(address):
        raise DomainError("{text!r} is not an e-mail address.", text=text)
    return address


def locale(text: str) -> str:
    if text not in LOCALES:
        raise DomainError(
            "Unknown language {text!r}; use one of: {choices}.",
            text=text,
            choices=", ".join(LOCALES),
        )
    return text


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def time_zone(text: str) -> str:
    zone = text.strip()
    if zone not in _zones():
        raise DomainError(
            "Unknown time zone {text!r}; use a name such as Asia/Shanghai or UTC.", text=text
        )
    return zone


def role_for_kind(role: str, kind: str, roles: tuple[str, ...]) -> str:
    """`roles` are the roles an organisation of `kind` may give (from the scope rules)."""
    if role not in roles:
        raise DomainError(
            "Role {role!r} is not allowed in a {kind} organisation; use one of: {choices}.",
            role=role,
            kind=kind,
            choices=", ".join(roles),
        )
    return role


def grant_types(asked: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(name.strip() for name in asked if name.strip()))
    unknown = [name for name in chosen if name not in GRANT_TYPES]
    if unknown:
        raise DomainError(
            "Unknown grant type {grant_type!r}; use one or more of: {choices}.",
            grant_type=unknown[0],
            choices=", ".join(GRANT_TYPES),
        )
    if not chosen:
        raise DomainError("A client needs at least one grant type.")
    if REFRESH_TOKEN in chosen and AUTHORIZATION_CODE not in chosen:
        raise DomainError("Refresh tokens are only issued with the authorization_code grant.")
    return tuple(name for name in GRANT_TYPES if name in chosen)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _check_web_address(text: str, what: Phrase) -> None:
    """An https address, or an http one on this machine (for development)."""
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        parts.port  # noqa: B018 (a port that is not a number raises here)
    except ValueError:
        raise DomainError("{what} {text!r} is not a valid address.", what=what, text=text) from None
    if parts.scheme not in ("https", "http") or not host:
        raise DomainError("{what} {text!r} must be an https:// address.", what=what, text=text)
    if parts.scheme == "http" and not is_loopback(host):
        raise DomainError(
            "{what} {text!r} must use https:// (http:// only on 127.0.0.1 or localhost).",
            what=what,
            text=text,
        )
    if parts.fragment or "#" in text:
        raise DomainError(
            "{what} {text!r} must not contain a fragment (#...).", what=what, text=text
        )
    if parts.username or parts.password:
        raise DomainError(
            "{what} {text!r} must not contain a user name or password.", what=what, text=text
        )


def redirect_uri(text: str) -> str:
    uri = text.strip()
    _check_web_address(uri, Phrase("Redirect URI"))
    return uri


def issuer(text: str) -> str:
    url = text.strip()
    _check_web_address(url, Phrase("Issuer"))
    if urlsplit(url).query:
        raise DomainError("Issuer {text!r} must not contain a query (?...).", text=text)
    return url
