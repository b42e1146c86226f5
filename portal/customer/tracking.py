"""Signed, expiring links to a sales order's limited status page (`/track/{token}`).

A link proves that whoever holds it was given it: by the guest lookup (the order's number and
its contact), or in an e-mail to the customer. The token is a JWT (HS256, the portal's secret)
naming the order and when the link stops working; nothing is stored, so a link cannot be
revoked before it expires, and it shows only what the status page shows. It is signed with
joserfc, the JOSE library Authlib itself now delegates to (the rest of the portal's tokens use
it too), so no further dependency is needed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import quote

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from portal.settings import Settings

AUDIENCE = "portal-tracking"
ALGORITHM = "HS256"
TRACK_PATH = "/track"


class BadLink(Exception):
    """The link was not made by this portal, was changed, or has expired."""

    def __init__(self, expired: bool) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def _key(settings: Settings) -> OctKey:
    # A derived key: the tracking links never share a signature with anything else.
    return OctKey.import_key(f"tracking-link:{settings.secret()}".encode())


def tracking_token(settings: Settings, so_number: str, now: datetime) -> str:
    expires = now + timedelta(days=settings.tracking_link_days)
    claims = {
        "aud": AUDIENCE,
        "so": so_number,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
    }
    return jwt.encode(
        {"alg": ALGORITHM, "typ": "JWT"}, claims, _key(settings), algorithms=[ALGORITHM]
    )


def tracking_path(settings: Settings, so_number: str, now: datetime) -> str:
    return f"{TRACK_PATH}/{quote(tracking_token(settings, so_number, now), safe='')}"


def tracking_url(settings: Settings, so_number: str, now: datetime) -> str:
    """The absolute URL of the order's status page, signed, valid for
    `settings.tracking_link_days` from `now` (contract 5: e-mails to customers carry it)."""
    return settings.base_url.rstrip("/") + tracking_path(settings, so_number, now)


def order_of(settings: Settings, token: str, now: datetime) -> str:
    """The sales order number a link names; BadLink if it is forged, changed or expired."""
    try:
        decoded = jwt.decode(token, _key(settings), algorithms=[ALGORITHM])
    except (JoseError, ValueError):
        raise BadLink(expired=False) from None
    claims = decoded.claims
    number, exp = claims.get("so"), claims.get("exp")
    if claims.get("aud") != AUDIENCE or not isinstance(number, str) or not isinstance(exp, int):
        raise BadLink(expired=False)
    if exp <= now.timestamp():
        raise BadLink(expired=True)
    return number
