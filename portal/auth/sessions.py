"""Browser sessions. The web front is a first-party client of the portal's own authorization
server: once a user has proven who they are, `signed_in` opens a new session and runs the
authorization code + PKCE flow as `portal-web`; /auth/callback exchanges the code in-process
and keeps the tokens server-side in the session row. The browser only ever holds the session
id, in a `__Host-` cookie (Secure, HttpOnly, SameSite=Lax, Path=/).

Each page request verifies the session's access token, and refreshes it (rotating the refresh
token) once it has expired; a session ends after `session_hours`, at sign-out, or when its user
is disabled.
"""

from __future__ import annotations

import asyncio
import secrets
import weakref
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import msgspec
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, Headers
from litestar.response import Redirect

from portal.auth import audit, tokens
from portal.auth import scopes as s
from portal.auth.grants import CALLBACK_PATH, FIRST_PARTY_ID
from portal.auth.guards import client_address
from portal.auth.principal import Principal
from portal.auth.server import Snapshot, in_thread, server_of
from portal.db import auth_store
from portal.db import tables as t
from portal.domain.actors import Via
from portal.domain.credentials import digest, new_secret
from portal.settings import Settings

SESSION_COOKIE = "__Host-portal_session"
FLOW_COOKIE = "__Host-portal_flow"
"""Holds the state of the sign-in flow in progress, binding it to the browser that began it."""
FLOW_LIFETIME = timedelta(minutes=10)
REFRESH_WAIT_STEPS = 30

_refreshing: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
"""One refresh at a time per session in this process: two pages loading at once must not both
spend the same refresh token (the second would look like a replay and end the session)."""


class FlowFailed(Exception):
    """The sign-in flow cannot be completed; the message is for the person signing in."""


def safe_next(next_url: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site."""
    if not next_url or not next_url.startswith("/") or next_url.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(next_url)
    if parts.scheme or parts.netloc or any(ord(char) < 32 for char in next_url):
        return "/"
    return next_url


def _cookie(key: str, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=key,
        value=value,
        path="/",
        max_age=max_age,
        secure=True,
        httponly=True,
        samesite="lax",
    )


def _sid_hash(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    sid = connection.cookies.get(SESSION_COOKIE)
    return digest(sid) if sid else None


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, create_s256_code_challenge(verifier)


async def signed_in(
    request: Request[Any, Any, Any],
    settings: Settings,
    user_row: dict[str, Any],
    method: str,
    next_url: str,
) -> Response[Any]:
    """The user proved who they are (by `method`: "password" or "oidc:<issuer>"): end the
    session this browser had, open a new one, and start the code + PKCE flow as the web
    front. Records the `sign_in` audit entry."""
    now = datetime.now(UTC)
    old = _sid_hash(request)
    if old:
        await _end(old, now, reason="signed_in_again")
    sid = new_secret()
    sid_hash = digest(sid)
    await auth_store.create_session(
        sid_hash=sid_hash,
        user_id=user_row["id"],
        method=method[:32],
        ip=client_address(request)[:64],
        user_agent=request.headers.get("user-agent", "")[:300],
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.session_hours),
    )
    state, nonce = new_secret(), new_secret()
    verifier, challenge = _pkce()
    await auth_store.create_flow(
        state_hash=digest(state),
        provider="",
        code_verifier=verifier,
        nonce=nonce,
        next_url=safe_next(next_url),
        sid_hash=sid_hash,
        created_at=now,
        expires_at=now + FLOW_LIFETIME,
    )
    await audit.record(
        "sign_in",
        "ok",
        user_id=user_row["id"],
        email=user_row["email"],
        client_id=FIRST_PARTY_ID,
        org=user_row["org"],
        ip=client_address(request),
        # The route, not the URL: invitation and reset URLs carry their one-time token.
        path=min(request.route_handler.paths),
        detail={"method": method},
    )
    asked = s.ROLE_SCOPES.get(user_row["role"], frozenset()) | {s.OPENID}
    query = urlencode(
        {
            "response_type": "code",
            "client_id": FIRST_PARTY_ID,
            "redirect_uri": settings.issuer + CALLBACK_PATH,
            "scope": s.render(asked),
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    response = Redirect(f"/oauth/authorize?{query}", status_code=303)
    response.set_cookie(_cookie(SESSION_COOKIE, sid, settings.session_hours * 3600))
    response.set_cookie(_cookie(FLOW_COOKIE, state, int(FLOW_LIFETIME.total_seconds())))
    return response


async def session_user(
    connection: ASGIConnection[Any, Any, Any, Any],
) -> tuple[dict[str, Any], datetime] | None:
    """The signed-in user of this browser and when they signed in, whether or not the session
    holds its tokens yet (the authorization endpoint needs it during the flow)."""
    sid_hash = _sid_hash(connection)
    session = await auth_store.session_row(sid_hash) if sid_hash else None
    if session is None or session["expires_at"] <= datetime.now(UTC):
        return None
    user = await auth_store.user_row(session["user_id"])
    if user is None or not user["active"]:
        return None
    created: datetime = session["created_at"]
    return user, created


async def _exchange(
    connection: ASGIConnection[Any, Any, Any, Any], settings: Settings, form: dict[str, str]
) -> dict[str, Any]:
    """A token request made by the web front to the server in-process (no HTTP round trip)."""
    snap = Snapshot(
        method="POST",
        uri=settings.issuer + "/oauth/token",
        headers=Headers({}),
        query=[],
        form=list({"client_id": FIRST_PARTY_ID, **form}.items()),
        ip=client_address(connection),
    )
    server = server_of(connection)
    response = await in_thread(server.create_token_response, snap)
    body: dict[str, Any] = msgspec.json.decode(response.content)
    if response.status_code != 200:
        raise FlowFailed(body.get("error_description") or body.get("error") or "token error")
    return body


async def _keep(sid_hash: str, body: dict[str, Any]) -> str:
    """Stores a token response in the session; returns its access token."""
    claims = tokens.unverified_claims(body["access_token"])
    row = await auth_store.token_by_jti(claims["jti"])
    assert row is not None
    await auth_store.store_session_tokens(
        sid_hash, row["family"], body["access_token"], body.get("refresh_token"), datetime.now(UTC)
    )
    access: str = body["access_token"]
    return access


async def complete_flow(
    request: Request[Any, Any, Any], settings: Settings, code: str, state: str
) -> Response[Any]:
    """/auth/callback: the code comes back to the web front; exchange it and go on to `next`."""
    cookie_state = request.cookies.get(FLOW_COOKIE, "")
    if not state or not secrets.compare_digest(cookie_state, state):
        raise FlowFailed("This sign-in was started in another browser or has expired.")
    now = datetime.now(UTC)
    flow = await auth_store.claim_flow(digest(state), "", now)
    sid_hash = _sid_hash(request)
    if flow is None or flow["expires_at"] <= now or not sid_hash or flow["sid_hash"] != sid_hash:
        raise FlowFailed("This sign-in was started in another browser or has expired.")
    body = await _exchange(
        request,
        settings,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": settings.issuer + CALLBACK_PATH,
            "code_verifier": flow["code_verifier"],
        },
    )
    id_token = body.get("id_token")
    if not id_token or tokens.unverified_claims(id_token).get("nonce") != flow["nonce"]:
        raise FlowFailed("The sign-in answer does not belong to this sign-in.")
    await _keep(sid_hash, body)
    response = Redirect(safe_next(flow["next_url"]), status_code=303)
    response.set_cookie(_cookie(FLOW_COOKIE, "", 0))
    return response


async def _end(sid_hash: str, now: datetime, *, reason: str) -> dict[str, Any] | None:
    ended = await auth_store.end_session(sid_hash, now)
    if ended is not None and ended["family"]:
        await auth_store.revoke_family(ended["family"], reason, now)
    return ended


async def session_principal(
    connection: ASGIConnection[Any, Any, Any, Any], settings: Settings
) -> Principal | None:
    """The signed-in user of a page request, or None (the session has ended)."""
    sid_hash = _sid_hash(connection)
    if sid_hash is None:
        return None
    session = await auth_store.session_row(sid_hash)
    if session is None or session["access_token"] is None:
        return None
    now = datetime.now(UTC)
    if session["expires_at"] <= now:
        await _end(sid_hash, now, reason="session_expired")
        return None
    claims: dict[str, Any] | None
    try:
        claims = await tokens.verify_access_token(settings, session["access_token"])
    except tokens.ExpiredToken:
        claims = await _refreshed(connection, settings, sid_hash)
    except tokens.InvalidToken:
        claims = None
    if claims is None:
        await _end(sid_hash, now, reason="session_invalid")
        return None
    try:
        return await tokens.principal_of_claims(claims, via=Via.WEB, session=sid_hash)
    except tokens.InvalidToken:
        await _end(sid_hash, now, reason="session_invalid")
        return None


async def _refreshed(
    connection: ASGIConnection[Any, Any, Any, Any], settings: Settings, sid_hash: str
) -> dict[str, Any] | None:
    """The claims of a fresh access token for the session (its refresh token rotated)."""
    lock = _refreshing.setdefault(sid_hash, asyncio.Lock())
    async with lock:
        # Another request may have refreshed it while this one waited.
        session = await auth_store.session_row(sid_hash)
        if session is None or session["access_token"] is None:
            return None
        try:
            return await tokens.verify_access_token(settings, session["access_token"])
        except tokens.ExpiredToken:
            pass
        except tokens.InvalidToken:
            return None
        if not session["refresh_token"]:
            return await _refreshed_elsewhere(settings, sid_hash)
        # Claim the refresh token in the database, so that of several web processes only one
        # spends it (a second spend would look like a replay and revoke the session).
        claimed = (
            await t.WebSession.update({t.WebSession.refresh_token: None})
            .where(
                (t.WebSession.sid_hash == sid_hash)
                & (t.WebSession.refresh_token == session["refresh_token"])
            )
            .returning(t.WebSession.id)
            .run()
        )
        if not claimed:
            return await _refreshed_elsewhere(settings, sid_hash)
        try:
            body = await _exchange(
                connection,
                settings,
                {"grant_type": "refresh_token", "refresh_token": session["refresh_token"]},
            )
        except FlowFailed:
            return None
        access = await _keep(sid_hash, body)
        return await tokens.verify_access_token(settings, access)


async def _refreshed_elsewhere(settings: Settings, sid_hash: str) -> dict[str, Any] | None:
    """Another process is refreshing this session: the claims of the token it stores, once it
    has (or None when it does not within a few seconds)."""
    for _ in range(REFRESH_WAIT_STEPS):
        await asyncio.sleep(0.1)
        session = await auth_store.session_row(sid_hash)
        if session is None or not session["access_token"]:
            return None
        try:
            return await tokens.verify_access_token(settings, session["access_token"])
        except tokens.InvalidToken:
            continue
    return None


async def sign_out(request: Request[Any, Any, Any]) -> dict[str, Any] | None:
    """Ends this browser's session and revokes its tokens; returns the ended session."""
    sid_hash = _sid_hash(request)
    return await _end(sid_hash, datetime.now(UTC), reason="signed_out") if sid_hash else None


def clear_session_cookie(response: Response[Any]) -> None:
    # A `__Host-` cookie is only replaced by one with the same attributes (Secure, Path=/).
    response.set_cookie(_cookie(SESSION_COOKIE, "", 0))


async def end_sessions_of(user_id: int) -> int:
    """Ends every session of the user and revokes every token family of theirs (web and API);
    returns how many sessions were open. Safe inside an open transaction."""
    return await auth_store.end_sessions_of(user_id, datetime.now(UTC))
