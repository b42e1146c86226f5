"""Sign-in through an organisation's own OpenID Connect provider (its `identity_provider` row).

The portal is the provider's client, through Authlib's `AsyncOAuth2Client`: the code flow with
PKCE (S256), `state` and `nonce`, kept in a `login_flow` row (provider = the organisation's
code) and bound to the browser by a cookie holding `state`. The ID token is checked here:
signature by the provider's published keys, issuer, audience, expiry, nonce.

A user is found by (issuer, subject) in `external_identity`, never by e-mail: an address is
whatever the provider says it is. An identity is linked to a user only through a valid
invitation (the "use your company sign-in" button on the invitation's page), whose token then
rides in the same cookie until the callback.

Providers must be reached over https; plain http is accepted only on a loopback address
(a provider running on the same machine, as in the tests) — Authlib's own rule, asked per URL
rather than switched off process-wide with AUTHLIB_INSECURE_TRANSPORT.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus
from typing import Annotated, Any, cast
from urllib.parse import quote, urlencode

import httpx
from authlib.common.security import is_secure_transport
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import (
    AsyncOAuth2Client,
)
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, KeySetSerialization
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromQuery, Parameter
from litestar.response import Redirect

from portal.auth import audit, sessions
from portal.auth.guards import client_address, public
from portal.auth.invitations import (
    INVITATION_PATH,
    INVITE,
    LinkProblem,
    open_link,
    problem_page,
    use_link,
)
from portal.db import tables as t
from portal.db.database import Database
from portal.domain.credentials import digest, new_secret
from portal.services.unit_of_work import UnitOfWork, utc_now
from portal.settings import Settings
from portal.web.rendering import View

logger = logging.getLogger(__name__)

START_PATH = "/sign-in/external"
CALLBACK_PATH = "/auth/external/callback"
FLOW_COOKIE = "__Host-portal_external"
FLOW_MINUTES = 10
"""How long the browser may stay at the provider before the flow is forgotten."""
HTTP_TIMEOUT = 10
LEEWAY_SECONDS = 60
"""Clock skew tolerated between the provider and us when checking exp and iat."""
ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
"""Asymmetric algorithms only: never `none`, and never HS* (keyed by the client secret)."""


class ProviderProblem(Exception):
    """The provider cannot be used, or what it sent back does not hold up. The message goes
    to the log and the access audit, never to the browser."""


@dataclass(frozen=True, slots=True)
class Provider:
    org: str
    name: str
    issuer: str
    client_id: str
    client_secret: str
    scope: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Provider:
        return cls(
            org=row["org"],
            name=row["name"],
            issuer=row["issuer"],
            client_id=row["client_id"],
            client_secret=row["client_secret"],
            scope=row["scope"] or "openid",
        )


async def provider_of(org: str) -> Provider | None:
    row = (
        await t.IdentityProvider.select()
        .where((t.IdentityProvider.org == org) & (t.IdentityProvider.active == True))  # noqa: E712
        .first()
        .run()
    )
    return Provider.from_row(row) if row else None


def _client(settings: Settings, provider: Provider) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=provider.client_id,
        client_secret=provider.client_secret or None,
        scope=provider.scope,
        redirect_uri=settings.base_url.rstrip("/") + CALLBACK_PATH,
        code_challenge_method="S256",
        timeout=HTTP_TIMEOUT,
        follow_redirects=False,
    )


def _secure(url: str) -> str:
    if not isinstance(url, str) or not is_secure_transport(url):
        raise ProviderProblem(f"{url!r} is neither https nor a loopback http address")
    return url


async def _metadata(client: AsyncOAuth2Client, provider: Provider) -> dict[str, Any]:
    """The provider's discovery document, checked to be the provider's own."""
    issuer = _secure(provider.issuer)
    # `withhold_token`: these requests carry no access token (there is none yet).
    response = await client.request(
        "GET", issuer.rstrip("/") + "/.well-known/openid-configuration", withhold_token=True
    )
    response.raise_for_status()
    metadata = response.json()
    if not isinstance(metadata, dict) or metadata.get("issuer") != issuer:
        raise ProviderProblem(f"the discovery document is not issued by {issuer}")
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        _secure(metadata.get(key, ""))
    return metadata


# --- Starting ---------------------------------------------------------------------------------


def _forget(response: Response[Any]) -> Response[Any]:
    """The flow is over, whatever its outcome: the browser drops its cookie. (A `__Host-`
    cookie is only replaced by another Secure one, so no bare `delete_cookie`.)"""
    response.set_cookie(_flow_cookie("", 0))
    return response


def _flow_cookie(value: str, max_age: int) -> Cookie:
    return Cookie(
        key=FLOW_COOKIE,
        value=value,
        max_age=max_age,
        path="/",
        secure=True,
        httponly=True,
        # Lax: the provider sends the browser back with a top-level GET, which carries it.
        samesite="lax",
    )


async def _start(
    request: Request[Any, Any, Any],
    settings: Settings,
    db: Database,
    view: View,
    provider: Provider,
    next_url: str,
    invitation: str = "",
) -> Response[Any]:
    state = new_secret()
    nonce = new_secret()
    verifier = secrets.token_urlsafe(64)
    try:
        async with _client(settings, provider) as client:
            metadata = await _metadata(client, provider)
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce
            )
    except (OAuthError, ProviderProblem, httpx.HTTPError, ValueError) as error:
        return await _failed(
            request, view, provider.org, "unreachable", error, status=HTTPStatus.BAD_GATEWAY
        )
    async with UnitOfWork(db) as uow:
        await t.LoginFlow.insert(
            t.LoginFlow(
                state_hash=digest(state),
                provider=provider.org,
                code_verifier=verifier,
                nonce=nonce,
                next_url=sessions.safe_next(next_url),
                created_at=uow.now,
                expires_at=uow.now + timedelta(minutes=FLOW_MINUTES),
            )
        ).run()
        await uow.commit()
    response: Response[Any] = Redirect(url, status_code=303)
    cookie = f"{state}.{invitation}" if invitation else state
    response.set_cookie(_flow_cookie(cookie, FLOW_MINUTES * 60))
    return response


@get(
    f"{START_PATH}/{{org_code:str}}", name="sign-in-external", include_in_schema=False, opt=public()
)
async def start_sign_in(
    request: Request[Any, Any, Any],
    org_code: str,
    settings: NamedDependency[Settings],
    db: NamedDependency[Database],
    view: NamedDependency[View],
    next: FromQuery[str] = "/",
) -> Response[Any]:
    provider = await provider_of(org_code.strip().upper())
    if provider is None:
        return view.page(
            "auth/external_problem.html",
            {"problem": "no_provider"},
            status_code=HTTPStatus.NOT_FOUND,
        )
    return await _start(request, settings, db, view, provider, next)


@get(START_PATH, name="sign-in-external-form", include_in_schema=False, opt=public())
async def start_sign_in_by_code(org: FromQuery[str] = "", next: FromQuery[str] = "/") -> Redirect:
    """The sign-in page's "company sign-in" form asks for the organisation's code (listing the
    organisations that have a provider would tell anyone who our customers are)."""
    code = quote(org.strip().upper(), safe="") or "-"
    return Redirect(f"{START_PATH}/{code}?{urlencode({'next': next})}", status_code=303)


@post(f"{INVITATION_PATH}/{{token:str}}/external", include_in_schema=False, opt=public())
async def start_linking(
    request: Request[Any, Any, Any],
    token: str,
    settings: NamedDependency[Settings],
    db: NamedDependency[Database],
    view: NamedDependency[View],
) -> Response[Any]:
    """From an invitation's page: sign in at the organisation's provider, and the identity
    it vouches for becomes the invited user's."""
    opened = await open_link(token, INVITE, utc_now())
    if isinstance(opened, LinkProblem):
        return problem_page(view, "auth/invitation.html", opened)
    provider = await provider_of(opened.user["org"])
    if provider is None:
        return view.page(
            "auth/external_problem.html",
            {"problem": "no_provider"},
            status_code=HTTPStatus.NOT_FOUND,
        )
    return await _start(request, settings, db, view, provider, "/", invitation=token)


# --- Coming back ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Identity:
    issuer: str
    subject: str


async def _identity(
    settings: Settings, provider: Provider, flow: dict[str, Any], code: str
) -> Identity:
    """Exchange the code (with the PKCE verifier) and check the ID token."""
    async with _client(settings, provider) as client:
        metadata = await _metadata(client, provider)
        token = await client.fetch_token(
            metadata["token_endpoint"],
            grant_type="authorization_code",
            code=code,
            code_verifier=flow["code_verifier"],
        )
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise ProviderProblem("the token response has no ID token")
        keys = await client.request("GET", metadata["jwks_uri"], withhold_token=True)
        keys.raise_for_status()
    offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    return verified_identity(id_token, keys.json(), offered, provider, flow["nonce"])


def verified_identity(
    id_token: str, jwks: Any, offered: list[str], provider: Provider, nonce: str
) -> Identity:
    """Who the ID token says signed in, once its signature (by one of the provider's published
    keys), issuer, audience, lifetime and nonce hold; raises JoseError or ProviderProblem."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise ProviderProblem("the provider's key set is not a JWK set")
    algorithms = [alg for alg in offered if alg in ALLOWED_ALGORITHMS]
    if not algorithms:
        raise ProviderProblem(f"the provider signs with none of {ALLOWED_ALGORITHMS}")
    keys = KeySet.import_key_set(cast(KeySetSerialization, jwks))
    decoded = jwt.decode(id_token, keys, algorithms=algorithms)
    claims = decoded.claims
    jwt.JWTClaimsRegistry(
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": provider.issuer},
        aud={"essential": True, "value": provider.client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    ).validate(claims)
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != provider.client_id:
        raise ProviderProblem("the ID token is for several audiences, and not authorised to us")
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise ProviderProblem("the ID token's subject is not a usable identifier")
    return Identity(provider.issuer, subject)


async def _claim_flow(db: Database, state: str) -> dict[str, Any] | None:
    """The external flow started with this state, marked used so it serves only once."""
    async with UnitOfWork(db) as uow:
        flow = (
            await t.LoginFlow.select()
            .where((t.LoginFlow.state_hash == digest(state)) & (t.LoginFlow.provider != ""))
            .first()
            .run()
        )
        if flow is None or flow["used_at"] is not None or flow["expires_at"] <= uow.now:
            return None
        taken = (
            await t.LoginFlow.update({t.LoginFlow.used_at: uow.now})
            .where((t.LoginFlow.id == flow["id"]) & t.LoginFlow.used_at.is_null())
            .returning(t.LoginFlow.id)
            .run()
        )
        await uow.commit()
    return flow if taken else None


async def _failed(
    request: Request[Any, Any, Any],
    view: View,
    org: str,
    problem: str,
    error: Exception | None = None,
    status: int = HTTPStatus.BAD_REQUEST,
    user_id: int | None = None,
) -> Response[str]:
    if error is not None:
        logger.warning("external sign-in for %s failed (%s): %s", org or "?", problem, error)
    await audit.record(
        "sign_in_failed",
        "denied" if status in (HTTPStatus.FORBIDDEN, HTTPStatus.CONFLICT) else "failed",
        user_id=user_id,
        org=org,
        ip=client_address(request),
        path=CALLBACK_PATH,
        detail={"method": "oidc", "reason": problem},
    )
    return _forget(
        view.page("auth/external_problem.html", {"problem": problem}, status_code=status)
    )


@get(CALLBACK_PATH, name="external-callback", include_in_schema=False, opt=public())
async def callback(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    db: NamedDependency[Database],
    view: NamedDependency[View],
    # `state` is a name Litestar keeps for the application state.
    returned_state: Annotated[str, Parameter(query="state")] = "",
    code: FromQuery[str] = "",
    error: FromQuery[str] = "",
) -> Response[Any]:
    bound_state, _, invitation = request.cookies.get(FLOW_COOKIE, "").partition(".")
    # The state must be the one this browser started with: a callback carried into another
    # browser (login CSRF) or a tampered state stops here.
    bound = bool(
        returned_state and bound_state and hmac.compare_digest(returned_state, bound_state)
    )
    if error:
        # Nothing is signed in on an error, so it is explained even without a state (some
        # providers leave it out); the flow it ends, if known, is spent.
        spent = await _claim_flow(db, returned_state) if bound else None
        problem = "cancelled" if error == "access_denied" else "refused"
        org = spent["provider"] if spent else ""
        return await _failed(request, view, org, problem, ProviderProblem(error))
    if not bound:
        return await _failed(request, view, "", "state")
    flow = await _claim_flow(db, returned_state)
    if flow is None:
        return await _failed(request, view, "", "expired")
    provider = await provider_of(flow["provider"])
    if provider is None:
        return await _failed(request, view, flow["provider"], "no_provider")
    try:
        identity = await _identity(settings, provider, flow, code)
    except (OAuthError, JoseError, ProviderProblem, httpx.HTTPError, ValueError) as failure:
        return await _failed(request, view, provider.org, "invalid", failure)
    if invitation:
        return await _link(request, settings, db, view, provider, identity, invitation)
    return await _sign_in(request, settings, view, provider, identity, flow["next_url"])


async def _sign_in(
    request: Request[Any, Any, Any],
    settings: Settings,
    view: View,
    provider: Provider,
    identity: Identity,
    next_url: str,
) -> Response[Any]:
    known = (
        await t.ExternalIdentity.select(t.ExternalIdentity.user_id)
        .where(
            (t.ExternalIdentity.issuer == identity.issuer)
            & (t.ExternalIdentity.subject == identity.subject)
        )
        .first()
        .run()
    )
    if known is None:
        return await _failed(
            request, view, provider.org, "unknown_identity", status=HTTPStatus.FORBIDDEN
        )
    user = await t.AppUser.select().where(t.AppUser.id == known["user_id"]).first().run()
    # The provider vouches only for its own organisation's people.
    if user is None or not user["active"] or user["org"] != provider.org:
        return await _failed(
            request,
            view,
            provider.org,
            "not_allowed",
            status=HTTPStatus.FORBIDDEN,
            user_id=known["user_id"],
        )
    # The session records the organisation whose provider vouched (an issuer URL may be
    # longer than the column; the audit entry and the identity row keep the issuer).
    return _forget(
        await sessions.signed_in(request, settings, user, f"oidc:{provider.org}", next_url)
    )


async def _link(
    request: Request[Any, Any, Any],
    settings: Settings,
    db: Database,
    view: View,
    provider: Provider,
    identity: Identity,
    invitation: str,
) -> Response[Any]:
    """Use the invitation and record the identity as the invited user's, in one transaction."""
    problem: LinkProblem | str | None = None
    async with UnitOfWork(db) as uow:
        opened = await use_link(invitation, INVITE, uow.now)
        if isinstance(opened, LinkProblem):
            problem = opened
        elif opened.user["org"] != provider.org:
            problem = "not_allowed"
        else:
            owner = (
                await t.ExternalIdentity.select(t.ExternalIdentity.user_id)
                .where(
                    (t.ExternalIdentity.issuer == identity.issuer)
                    & (t.ExternalIdentity.subject == identity.subject)
                )
                .first()
                .run()
            )
            if owner is not None and owner["user_id"] != opened.user["id"]:
                problem = "identity_taken"
            else:
                if owner is None:
                    await t.ExternalIdentity.insert(
                        t.ExternalIdentity(
                            issuer=identity.issuer,
                            subject=identity.subject,
                            user_id=opened.user["id"],
                            created_at=uow.now,
                        )
                    ).run()
                await uow.commit()
    # Answered after the block: a problem rolled the transaction back (the invitation stays
    # usable), and the audit entry must not be rolled back with it.
    if isinstance(problem, LinkProblem):
        return _forget(problem_page(view, "auth/invitation.html", problem))
    assert not isinstance(opened, LinkProblem)
    user = opened.user
    if problem is not None:
        status = HTTPStatus.CONFLICT if problem == "identity_taken" else HTTPStatus.FORBIDDEN
        return await _failed(
            request, view, provider.org, problem, status=status, user_id=user["id"]
        )
    await audit.record(
        "identity_linked",
        "ok",
        user_id=user["id"],
        email=user["email"],
        org=user["org"],
        ip=client_address(request),
        path=CALLBACK_PATH,
        detail={"issuer": identity.issuer, "subject": identity.subject},
    )
    return _forget(await sessions.signed_in(request, settings, user, f"oidc:{provider.org}", "/"))


ROUTES = [start_sign_in_by_code, start_sign_in, start_linking, callback]
