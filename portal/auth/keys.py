"""The keys that sign access and ID tokens (ES256), kept in the `signing_key` table.

The newest unretired key signs. Rotating adds a new key and retires the old one; a retired key
stays published at /oauth/jwks (and is still accepted) until every token it signed has expired,
so rotation never cuts anybody off. The first key is made on first use, under a lock, so two
processes starting together do not both make one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc.jwk import ECKey

from portal.db import auth_store
from portal.db.database import Database

ALGORITHM = "ES256"
"""The one algorithm tokens are signed with; a token naming any other is refused."""
CURVE = "P-256"


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    key: ECKey


def _new_key() -> tuple[str, str, dict[str, Any]]:
    kid = secrets.token_urlsafe(12)
    key = ECKey.generate_key(CURVE, parameters={"kid": kid, "use": "sig", "alg": ALGORITHM})
    pem = key.as_pem(private=True).decode()
    return kid, pem, dict(key.as_dict(private=False))


def published_since(now: datetime, grace: timedelta) -> datetime:
    """Retired keys retired after this moment are still published and accepted."""
    return now - grace


async def current_key(db: Database) -> SigningKey:
    """The key that signs now; made if there is none yet."""
    row = await auth_store.newest_signing_key()
    if row is None:
        kid, pem, jwk = _new_key()
        row = await auth_store.create_first_signing_key(db, kid, pem, jwk)
    return SigningKey(row["kid"], ECKey.import_key(row["private_pem"]))


async def rotate_signing_key(db: Database) -> str:
    """Adds a new signing key and retires the ones before it; returns the new key's kid.
    Tokens signed by the retired keys stay valid until they expire."""
    kid, pem, jwk = _new_key()
    await auth_store.rotate_signing_key(db, kid, pem, jwk, datetime.now(UTC))
    return kid


_public_keys: dict[str, ECKey] = {}
"""Public keys by kid, once found published: a key never changes once made."""


async def verification_key(kid: str, grace: timedelta) -> ECKey | None:
    """The public key with this kid, if it is current or retired within `grace`.

    A key met before is not read again: it only ever goes from current to retired, and a
    token it signed expires (its `exp`, checked by the caller) before the key's `grace`
    ends, so the table has nothing to add — and every page and API call checks a token."""
    key = _public_keys.get(kid)
    if key is not None:
        return key
    row = await auth_store.published_key(kid, published_since(datetime.now(UTC), grace))
    if row is None:
        return None
    key = _public_keys[kid] = ECKey.import_key(row["public_jwk"])
    return key


async def jwks(grace: timedelta) -> dict[str, list[dict[str, Any]]]:
    """The JSON Web Key Set: the signing key and the retired keys still in `grace`."""
    rows = await auth_store.published_keys(published_since(datetime.now(UTC), grace))
    return {"keys": [dict(row["public_jwk"]) for row in rows]}
