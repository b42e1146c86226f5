"""Every route declares what it needs, and one global guard enforces it.

A handler says `opt=requires(PO_READ)` (any of the scopes given) or `opt=public()`; a handler
that says neither is refused, so a new route cannot be forgotten open. Pages are signed in by
the session cookie, `/api` only by a bearer token (so a browser's ambient cookie can never drive
the API). Anonymous pages are redirected to the sign-in page, anonymous API calls get 401.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from portal.auth import audit
from portal.auth.principal import Principal

SCOPE_KEY = "scope"
PUBLIC_KEY = "public"
SHARED_KEY = "shared"
API_PREFIX = "/api/"
SIGN_IN_PATH = "/sign-in"


def requires(*any_of: str) -> dict[str, Any]:
    """Route options for a handler that needs one of these scopes."""
    assert any_of, "a route that needs no scope is public()"
    return {SCOPE_KEY: any_of}


def public(*, shared: bool = False) -> dict[str, Any]:
    """Route options for a handler anyone may call (sign-in, health...). `shared`: it answers
    the same to everyone (static files), so the caller is not even looked up — that would cost
    a page's every asset the session's queries."""
    return {PUBLIC_KEY: True, SHARED_KEY: shared}


class SignInRequired(NotAuthorizedException):
    """A page asked for by someone not signed in: sent to the sign-in page, then back."""

    def __init__(self, next_url: str) -> None:
        super().__init__(detail="Please sign in.")
        self.next_url = next_url

    @property
    def location(self) -> str:
        return f"{SIGN_IN_PATH}?next={quote(self.next_url, safe='/')}"


def is_api(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    return connection.url.path.startswith(API_PREFIX)


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    client = connection.client
    return client.host if client else ""


async def resolve(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The caller, from the bearer token (API) or the session cookie (pages)."""
    from portal.auth import sessions, tokens

    settings = connection.app.state.settings
    if is_api(connection):
        header = connection.headers.get("authorization", "")
        kind, _, token = header.partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            return None
        try:
            return await tokens.bearer_principal(settings, token.strip())
        except tokens.InvalidToken as error:
            await audit.record(
                "token_rejected",
                "denied",
                ip=client_address(connection),
                path=connection.url.path,
                detail={"reason": error.description},
            )
            raise NotAuthorizedException(
                detail=error.description,
                headers={
                    "WWW-Authenticate": f'Bearer error="invalid_token", '
                    f'error_description="{error.description}"'
                },
            ) from None
    return await sessions.session_principal(connection, settings)


def current(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The principal the guard resolved for this request (None: anonymous)."""
    principal = connection.scope.get("auth")
    return principal if isinstance(principal, Principal) else None


async def authorise(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    opt = handler.opt
    needs: tuple[str, ...] | None = opt.get(SCOPE_KEY)
    if not opt.get(PUBLIC_KEY) and not needs:
        # A route without a declaration is a programming error; refuse rather than leak.
        raise PermissionDeniedException(detail="This route declares no scope.")
    if opt.get(SHARED_KEY):
        return
    principal = await resolve(connection)
    connection.scope["auth"] = principal
    if not needs:
        return
    if principal is None:
        await audit.record(
            "request_denied",
            "denied",
            ip=client_address(connection),
            path=connection.url.path,
            detail={"reason": "not signed in"},
        )
        if is_api(connection):
            raise NotAuthorizedException(
                detail="A bearer token is required.", headers={"WWW-Authenticate": "Bearer"}
            )
        target = connection.url.path + (f"?{connection.url.query}" if connection.url.query else "")
        raise SignInRequired(target)
    if not principal.holds(*needs):
        await audit.record(
            "request_denied",
            "denied",
            user_id=principal.user_id,
            email=principal.email,
            client_id=principal.client_id,
            org=principal.actor.org or "",
            ip=client_address(connection),
            path=connection.url.path,
            detail={"needs": " ".join(needs)},
        )
        headers = (
            {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{" ".join(needs)}"'}
            if is_api(connection)
            else None
        )
        raise PermissionDeniedException(
            detail=f"This needs the scope {' or '.join(needs)}.", headers=headers
        )
