"""Every read and write of the OAuth server and the browser sessions: clients, codes, token
families, tokens, signing keys, web sessions and sign-in flows.

Secrets never reach the database in clear: codes, refresh tokens, session ids and flow states
are looked up by their SHA-256 digest. Single use is enforced by the database itself: a code,
refresh token or flow is claimed by an UPDATE that only matches while it is unused, so two
concurrent uses cannot both win. Expiry is checked in Python on the row read back (timestamps
compare reliably there on both engines).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from portal.db import tables as t
from portal.db.database import Database

Row = dict[str, Any]

KEY_LOCK = 804_271_553
"""PostgreSQL advisory lock taken while the signing keys change, so two processes starting
at once do not both make a first key."""


def _jwk(row: Row) -> Row:
    value = row["public_jwk"]
    return {**row, "public_jwk": json.loads(value) if isinstance(value, str) else value}


# Signing keys


async def newest_signing_key() -> Row | None:
    row: Row | None = (
        await t.SigningKey.select()
        .where(t.SigningKey.retired_at.is_null())
        .order_by(t.SigningKey.id, ascending=False)
        .first()
    )
    return row


async def _lock_keys(db: Database) -> None:
    if not db.is_sqlite:  # SQLite's write transaction is already exclusive
        await t.SigningKey.raw(f"SELECT pg_advisory_xact_lock({KEY_LOCK})")


async def create_first_signing_key(db: Database, kid: str, pem: str, jwk: Row) -> Row:
    """The signing key, made from these values only if there still is none."""
    async with db.write_transaction():
        await _lock_keys(db)
        row = await newest_signing_key()
        if row is None:
            await t.SigningKey.insert(
                t.SigningKey(kid=kid, private_pem=pem, public_jwk=json.dumps(jwk))
            ).run()
            row = await newest_signing_key()
    assert row is not None
    return row


async def rotate_signing_key(db: Database, kid: str, pem: str, jwk: Row, now: datetime) -> None:
    async with db.write_transaction():
        await _lock_keys(db)
        await (
            t.SigningKey.update({t.SigningKey.retired_at: now})
            .where(t.SigningKey.retired_at.is_null())
            .run()
        )
        await t.SigningKey.insert(
            t.SigningKey(kid=kid, private_pem=pem, public_jwk=json.dumps(jwk))
        ).run()


async def published_keys(retired_after: datetime) -> list[Row]:
    """The current key and those retired after `retired_after`, newest first."""
    rows = await t.SigningKey.select(
        t.SigningKey.kid, t.SigningKey.public_jwk, t.SigningKey.retired_at
    ).order_by(t.SigningKey.id, ascending=False)
    return [
        _jwk(row) for row in rows if row["retired_at"] is None or row["retired_at"] > retired_after
    ]


async def published_key(kid: str, retired_after: datetime) -> Row | None:
    row = (
        await t.SigningKey.select(
            t.SigningKey.kid, t.SigningKey.public_jwk, t.SigningKey.retired_at
        )
        .where(t.SigningKey.kid == kid)
        .first()
    )
    if row is None or (row["retired_at"] is not None and row["retired_at"] <= retired_after):
        return None
    return _jwk(row)


# Clients and users


async def client_row(client_id: str) -> Row | None:
    row: Row | None = (
        await t.OAuthClient.select().where(t.OAuthClient.client_id == client_id).first()
    )
    return row


async def user_row(user_id: int) -> Row | None:
    row: Row | None = await t.AppUser.select().where(t.AppUser.id == user_id).first()
    return row


async def user_by_email(email: str) -> Row | None:
    rows = await t.AppUser.raw(
        "SELECT * FROM app_user WHERE lower(email) = lower({})", email.strip()
    )
    return rows[0] if rows else None


# Authorization codes


async def save_code(**values: Any) -> None:
    await t.OAuthCode.insert(t.OAuthCode(**values)).run()


async def claim_code(code_hash: str, client_id: str, now: datetime) -> tuple[Row | None, bool]:
    """(the code, whether it had been used before). The first use marks it used; any later
    one finds it used (and its caller revokes what it issued)."""
    claimed = (
        await t.OAuthCode.update({t.OAuthCode.used_at: now})
        .where(
            (t.OAuthCode.code_hash == code_hash)
            & (t.OAuthCode.client_id == client_id)
            & t.OAuthCode.used_at.is_null()
        )
        .returning(*t.OAuthCode.all_columns())
    )
    if claimed:
        return claimed[0], False
    row: Row | None = (
        await t.OAuthCode.select()
        .where((t.OAuthCode.code_hash == code_hash) & (t.OAuthCode.client_id == client_id))
        .first()
    )
    return row, row is not None


async def set_code_family(code_id: int, family: str) -> None:
    await t.OAuthCode.update({t.OAuthCode.family: family}).where(t.OAuthCode.id == code_id).run()


# Token families and tokens


async def create_grant(
    family: str, client_id: str, user_id: int | None, org: str, scope: str
) -> None:
    await t.OAuthGrant.insert(
        t.OAuthGrant(family=family, client_id=client_id, user_id=user_id, org=org, scope=scope)
    ).run()


async def grant_row(family: str) -> Row | None:
    row: Row | None = await t.OAuthGrant.select().where(t.OAuthGrant.family == family).first()
    return row


async def save_token(**values: Any) -> None:
    await t.OAuthToken.insert(t.OAuthToken(**values)).run()


TOKEN_WITH_GRANT = (
    "SELECT tok.id, tok.family, tok.access_jti, tok.issued_at, tok.access_expires_at, "
    "tok.refresh_expires_at, tok.rotated_at, tok.revoked_at, "
    "g.client_id, g.user_id, g.org, g.scope, g.revoked_at AS family_revoked_at "
    "FROM oauth_token tok JOIN oauth_grant g ON g.family = tok.family "
)


async def token_by_jti(jti: str) -> Row | None:
    rows = await t.OAuthToken.raw(TOKEN_WITH_GRANT + "WHERE tok.access_jti = {}", jti)
    return rows[0] if rows else None


async def token_by_refresh(refresh_hash: str) -> Row | None:
    rows = await t.OAuthToken.raw(TOKEN_WITH_GRANT + "WHERE tok.refresh_hash = {}", refresh_hash)
    return rows[0] if rows else None


async def claim_refresh(token_id: int, now: datetime) -> bool:
    """Marks a refresh token used; False when it already was (a replay)."""
    claimed = (
        await t.OAuthToken.update({t.OAuthToken.rotated_at: now})
        .where((t.OAuthToken.id == token_id) & t.OAuthToken.rotated_at.is_null())
        .returning(t.OAuthToken.id)
    )
    return bool(claimed)


async def revoke_family(family: str, reason: str, now: datetime) -> bool:
    """True when the family was live until now."""
    revoked = (
        await t.OAuthGrant.update(
            {t.OAuthGrant.revoked_at: now, t.OAuthGrant.revoke_reason: reason}
        )
        .where((t.OAuthGrant.family == family) & t.OAuthGrant.revoked_at.is_null())
        .returning(t.OAuthGrant.id)
    )
    return bool(revoked)


async def revoke_token(token_id: int, now: datetime) -> None:
    await (
        t.OAuthToken.update({t.OAuthToken.revoked_at: now})
        .where((t.OAuthToken.id == token_id) & t.OAuthToken.revoked_at.is_null())
        .run()
    )


# Browser sessions and sign-in flows


async def create_session(**values: Any) -> None:
    await t.WebSession.insert(t.WebSession(**values)).run()


async def session_row(sid_hash: str) -> Row | None:
    row: Row | None = (
        await t.WebSession.select()
        .where((t.WebSession.sid_hash == sid_hash) & t.WebSession.ended_at.is_null())
        .first()
    )
    return row


async def store_session_tokens(
    sid_hash: str, family: str, access_token: str, refresh_token: str | None, now: datetime
) -> None:
    await (
        t.WebSession.update(
            {
                t.WebSession.family: family,
                t.WebSession.access_token: access_token,
                t.WebSession.refresh_token: refresh_token,
                t.WebSession.last_seen_at: now,
            }
        )
        .where(t.WebSession.sid_hash == sid_hash)
        .run()
    )


async def end_session(sid_hash: str, now: datetime) -> Row | None:
    """Ends one session; returns it as it was (None if it had ended already)."""
    ended = (
        await t.WebSession.update(
            {
                t.WebSession.ended_at: now,
                t.WebSession.access_token: None,
                t.WebSession.refresh_token: None,
            }
        )
        .where((t.WebSession.sid_hash == sid_hash) & t.WebSession.ended_at.is_null())
        .returning(t.WebSession.user_id, t.WebSession.family)
    )
    return ended[0] if ended else None


async def end_sessions_of(user_id: int, now: datetime) -> int:
    """Ends every open session of the user and revokes every live token family of theirs."""
    ended = (
        await t.WebSession.update(
            {
                t.WebSession.ended_at: now,
                t.WebSession.access_token: None,
                t.WebSession.refresh_token: None,
            }
        )
        .where((t.WebSession.user_id == user_id) & t.WebSession.ended_at.is_null())
        .returning(t.WebSession.id)
    )
    await (
        t.OAuthGrant.update(
            {t.OAuthGrant.revoked_at: now, t.OAuthGrant.revoke_reason: "user_sessions_ended"}
        )
        .where((t.OAuthGrant.user_id == user_id) & t.OAuthGrant.revoked_at.is_null())
        .run()
    )
    return len(ended)


async def create_flow(**values: Any) -> None:
    await t.LoginFlow.insert(t.LoginFlow(**values)).run()


async def claim_flow(state_hash: str, provider: str, now: datetime) -> Row | None:
    """The sign-in flow with this state, marked used (None: unknown or used already)."""
    claimed = (
        await t.LoginFlow.update({t.LoginFlow.used_at: now})
        .where(
            (t.LoginFlow.state_hash == state_hash)
            & (t.LoginFlow.provider == provider)
            & t.LoginFlow.used_at.is_null()
        )
        .returning(*t.LoginFlow.all_columns())
    )
    return claimed[0] if claimed else None
