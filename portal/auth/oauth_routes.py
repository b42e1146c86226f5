"""The authorization server's HTTP endpoints: authorize (with the consent page), token,
introspection, revocation, JWKS, userinfo, and the discovery documents (RFC 8414, OpenID
Connect Discovery).

The token, introspection and revocation endpoints take client credentials, not cookies, and
are outside CSRF protection (portal/core.py); their errors are RFC 6749 JSON. Errors of the
authorization endpoint go back to the client when its redirect URI is known and valid, and are
shown as a page otherwise.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import msgspec
from authlib.oauth2.rfc6749.util import (
    extract_basic_authorization,
)
from litestar import Request, Response, get, post, route
from litestar.di import NamedDependency
from litestar.response import Redirect

from portal.auth import keys, sessions, tokens
from portal.auth import scopes as s
from portal.auth.guards import SIGN_IN_PATH, public
from portal.auth.server import AuthorizeOutcome, in_thread, server_of, snapshot
from portal.domain.actors import Via
from portal.settings import Settings
from portal.web.ratelimit import enforce
from portal.web.rendering import View

AUTHORIZE_PATH = "/oauth/authorize"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@route(AUTHORIZE_PATH, http_method=["GET", "POST"], include_in_schema=False, opt=public())
async def authorize(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """GET: check the request, then send the user to sign in, show the consent page, or
    answer at once (the web front). POST: the consent page's answer (CSRF-checked)."""
    signed_in = await sessions.session_user(request)
    user, auth_time = signed_in if signed_in else (None, None)
    # The consent form posts back to this URL, query and all: the request is the query, the
    # body only carries the answer.
    snap = await snapshot(request, settings, auth_time=auth_time, with_form=False)
    allow: bool | None = None
    if request.method == "POST":
        form = await request.form()
        allow = form.get("decision") == "allow"
    outcome = await in_thread(server_of(request).authorize, snap, user, allow)
    if not isinstance(outcome, AuthorizeOutcome):
        return outcome
    if outcome.kind == "sign_in":
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(f"{SIGN_IN_PATH}?next={quote(here, safe='/')}", status_code=303)
    if outcome.kind == "consent":
        return view.page(
            "auth/consent.html",
            {
                "client_name": outcome.client_name,
                "scopes": outcome.scopes,
                "action": f"{request.url.path}?{request.url.query}",
            },
        )
    return view.page(
        "error.html",
        {"status": 400, "detail": outcome.description, "current_version": None},
        status_code=400,
    )


def _client_id_of(request: Request[Any, Any, Any], form: dict[str, str]) -> str:
    client_id, _ = extract_basic_authorization(request.headers)
    return str(client_id or form.get("client_id") or "")


@post("/oauth/token", include_in_schema=False, opt=public())
async def token(
    request: Request[Any, Any, Any], settings: NamedDependency[Settings]
) -> Response[Any]:
    snap = await snapshot(request, settings)
    await enforce(request, "token", _client_id_of(request, dict(snap.form)))
    response: Response[Any] = await in_thread(server_of(request).create_token_response, snap)
    return response


@post("/oauth/introspect", include_in_schema=False, opt=public())
async def introspect(
    request: Request[Any, Any, Any], settings: NamedDependency[Settings]
) -> Response[Any]:
    snap = await snapshot(request, settings)
    response: Response[Any] = await in_thread(
        server_of(request).create_endpoint_response, "introspection", snap
    )
    return response


@post("/oauth/revoke", include_in_schema=False, opt=public())
async def revoke(
    request: Request[Any, Any, Any], settings: NamedDependency[Settings]
) -> Response[Any]:
    snap = await snapshot(request, settings)
    response: Response[Any] = await in_thread(
        server_of(request).create_endpoint_response, "revocation", snap
    )
    return response


@get("/oauth/jwks", include_in_schema=False, opt=public())
async def jwks(settings: NamedDependency[Settings]) -> Response[Any]:
    body = await keys.jwks(tokens.key_grace(settings))
    return Response(
        msgspec.json.encode(body),
        media_type="application/jwk-set+json",
        headers={"Cache-Control": "max-age=60"},
    )


@get("/oauth/userinfo", include_in_schema=False, opt=public())
async def userinfo(
    request: Request[Any, Any, Any], settings: NamedDependency[Settings]
) -> Response[Any]:
    """OpenID Connect userinfo, for a bearer access token that was granted `openid`."""
    kind, _, value = request.headers.get("authorization", "").partition(" ")
    try:
        if kind.lower() != "bearer" or not value.strip():
            raise tokens.InvalidToken("A bearer token is required.")
        claims = await tokens.verify_access_token(settings, value.strip())
        principal = await tokens.principal_of_claims(claims, via=Via.API)
    except tokens.InvalidToken as error:
        return Response(
            msgspec.json.encode({"error": "invalid_token", "error_description": error.description}),
            status_code=401,
            media_type="application/json",
            headers={
                "WWW-Authenticate": f'Bearer error="invalid_token", '
                f'error_description="{error.description}"'
            },
        )
    if principal.user_id is None or s.OPENID not in s.parse(claims.get("scope")):
        return Response(
            msgspec.json.encode({"error": "insufficient_scope"}),
            status_code=403,
            media_type="application/json",
            headers={"WWW-Authenticate": 'Bearer error="insufficient_scope", scope="openid"'},
        )
    user = {
        "id": principal.user_id,
        "display_name": principal.actor.name,
        "email": principal.email,
        "locale": principal.locale,
        "time_zone": principal.time_zone,
    }
    return Response(
        msgspec.json.encode({"sub": claims["sub"], **tokens.user_claims(user, claims["scope"])}),
        media_type="application/json",
        headers=NO_STORE,
    )


def metadata(settings: Settings) -> dict[str, Any]:
    issuer = settings.issuer
    return {
        "issuer": issuer,
        "authorization_endpoint": issuer + AUTHORIZE_PATH,
        "token_endpoint": issuer + "/oauth/token",
        "jwks_uri": issuer + "/oauth/jwks",
        "introspection_endpoint": issuer + "/oauth/introspect",
        "revocation_endpoint": issuer + "/oauth/revoke",
        "userinfo_endpoint": issuer + "/oauth/userinfo",
        "scopes_supported": list(s.OIDC_SCOPES + s.SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
        ],
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [keys.ALGORITHM],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "name",
            "locale",
            "zoneinfo",
            "email",
            "email_verified",
        ],
    }


@get("/.well-known/oauth-authorization-server", include_in_schema=False, opt=public())
async def oauth_metadata(settings: NamedDependency[Settings]) -> dict[str, Any]:
    return metadata(settings)


@get("/.well-known/openid-configuration", include_in_schema=False, opt=public())
async def openid_configuration(settings: NamedDependency[Settings]) -> dict[str, Any]:
    return metadata(settings)


ROUTES = [
    authorize,
    token,
    introspect,
    revoke,
    jwks,
    userinfo,
    oauth_metadata,
    openid_configuration,
]
