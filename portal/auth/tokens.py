"""Access tokens (JWT, RFC 9068) and ID tokens (OpenID Connect): made here, and checked here
for every API call.

Claims of an access token: `iss` (the issuer), `aud` (the issuer + "/api": the portal's API is
the one resource server, and naming it apart from the issuer keeps an ID token, whose audience
is a client, from ever passing as an access token), `sub` (the user's id, or the client's id
for client credentials), `client_id`, `scope`, `jti`, `iat`, `exp`. A JWT cannot be recalled,
so it lives `access_token_minutes` and every check also asks the database whether its token
family or its `jti` was revoked and whether its user or client is still active.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError

from portal.auth import keys
from portal.auth import scopes as s
from portal.auth.principal import Principal, client_principal, user_principal
from portal.db import auth_store
from portal.db.database import Database
from portal.domain.actors import Via
from portal.settings import Settings

ACCESS_TOKEN_TYPE = "at+jwt"
ID_TOKEN_LIFETIME = timedelta(minutes=10)
KEY_GRACE_MARGIN = timedelta(minutes=5)
"""Retired keys are kept published a little longer than the longest token they signed."""


class InvalidToken(Exception):
    """A bearer token that is not (or no longer) good; `description` says why, for the
    WWW-Authenticate header and the audit."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class ExpiredToken(InvalidToken):
    """Good but for its age: a session holding it may refresh it."""


def audience(settings: Settings) -> str:
    return settings.issuer + "/api"


def key_grace(settings: Settings) -> timedelta:
    longest = max(timedelta(minutes=settings.access_token_minutes), ID_TOKEN_LIFETIME)
    return longest + KEY_GRACE_MARGIN


@dataclass(frozen=True, slots=True)
class IssuedAccess:
    token: str
    jti: str
    issued_at: int
    expires_at: int


async def issue_access_token(
    db: Database, settings: Settings, *, client_id: str, subject: str, scope: str
) -> IssuedAccess:
    key = await keys.current_key(db)
    now = int(time.time())
    jti = secrets.token_urlsafe(16)
    expires = now + settings.access_token_minutes * 60
    claims = {
        "iss": settings.issuer,
        "aud": audience(settings),
        "sub": subject,
        "client_id": client_id,
        "scope": scope,
        "jti": jti,
        "iat": now,
        "exp": expires,
    }
    header = {"alg": keys.ALGORITHM, "typ": ACCESS_TOKEN_TYPE, "kid": key.kid}
    return IssuedAccess(jwt.encode(header, claims, key.key), jti, now, expires)


async def issue_id_token(
    db: Database,
    settings: Settings,
    *,
    client_id: str,
    user: dict[str, Any],
    scope: str,
    nonce: str | None,
    auth_time: int,
) -> str:
    """An OpenID Connect ID token for the user, for `client_id`."""
    key = await keys.current_key(db)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": settings.issuer,
        "aud": client_id,
        "sub": str(user["id"]),
        "iat": now,
        "exp": now + int(ID_TOKEN_LIFETIME.total_seconds()),
        "auth_time": auth_time,
        **user_claims(user, scope),
    }
    if nonce:
        claims["nonce"] = nonce
    return jwt.encode({"alg": keys.ALGORITHM, "typ": "JWT", "kid": key.kid}, claims, key.key)


def user_claims(user: dict[str, Any], scope: str) -> dict[str, Any]:
    """The standard claims the `profile` and `email` scopes reveal."""
    asked = s.parse(scope)
    claims: dict[str, Any] = {}
    if "profile" in asked:
        claims.update(name=user["display_name"], locale=user["locale"], zoneinfo=user["time_zone"])
    if "email" in asked:
        claims.update(email=user["email"], email_verified=True)
    return claims


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims of a token this process just made (never of one received)."""
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


def _header(token: str) -> dict[str, Any]:
    try:
        part = token.split(".")[0]
        header = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, IndexError):
        raise InvalidToken("The token is not a JWT.") from None
    if not isinstance(header, dict):
        raise InvalidToken("The token is not a JWT.")
    return header


async def verify_access_token(settings: Settings, token: str) -> dict[str, Any]:
    """The claims of a good access token (signature, header and claims; not the database)."""
    if token.count(".") != 2:
        raise InvalidToken("The token is not a JWT.")
    header = _header(token)
    if header.get("alg") != keys.ALGORITHM:
        raise InvalidToken(f"The token must be signed with {keys.ALGORITHM}.")
    if str(header.get("typ", "")).lower() not in (ACCESS_TOKEN_TYPE, "application/at+jwt"):
        raise InvalidToken("The token is not an access token (typ at+jwt).")
    kid = header.get("kid")
    key = await keys.verification_key(kid, key_grace(settings)) if isinstance(kid, str) else None
    if key is None:
        raise InvalidToken("The token was signed by an unknown key.")
    try:
        claims = dict(jwt.decode(token, key, algorithms=[keys.ALGORITHM]).claims)
    except (JoseError, ValueError):
        raise InvalidToken("The token's signature is not valid.") from None
    if claims.get("iss") != settings.issuer:
        raise InvalidToken("The token was issued by someone else.")
    aud = claims.get("aud")
    if aud != audience(settings) and not (isinstance(aud, list) and audience(settings) in aud):
        raise InvalidToken("The token is not meant for this API.")
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp <= time.time():
        raise ExpiredToken("The token has expired.")
    for name in ("jti", "sub", "client_id"):
        if not isinstance(claims.get(name), str):
            raise InvalidToken(f"The token has no {name}.")
    return claims


async def principal_of_claims(
    claims: dict[str, Any], *, via: Via, session: str | None = None
) -> Principal:
    """Who the verified claims stand for, if their token family and their user or client
    are still good."""
    row = await auth_store.token_by_jti(claims["jti"])
    if row is None or row["client_id"] != claims["client_id"]:
        raise InvalidToken("The token is unknown.")
    if row["revoked_at"] is not None or row["family_revoked_at"] is not None:
        raise InvalidToken("The token was revoked.")
    scopes = s.parse(claims.get("scope"))
    if row["user_id"] is not None:
        user = await auth_store.user_row(row["user_id"])
        if user is None or not user["active"] or claims["sub"] != str(user["id"]):
            raise InvalidToken("The token's user is no longer active.")
        return user_principal(
            user, scopes=scopes, client_id=claims["client_id"], via=via, session=session
        )
    client = await auth_store.client_row(claims["client_id"])
    if client is None or not client["active"]:
        raise InvalidToken("The token's client is no longer active.")
    return client_principal(client, scopes=scopes)


async def bearer_principal(settings: Settings, token: str) -> Principal:
    """The caller of an API request, from its bearer token; InvalidToken says why not."""
    claims = await verify_access_token(settings, token)
    return await principal_of_claims(claims, via=Via.API)
