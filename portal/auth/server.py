"""The OAuth 2.0 / OpenID Connect authorization server: Authlib's server core glued to
Litestar. This module is the one adapter between them.

Authlib is synchronous. Each endpoint first reads everything it needs from the Litestar request
(method, URL, headers, query and form) into a `Snapshot`, then runs Authlib in a worker thread
(`anyio.to_thread.run_sync`); Authlib's hooks reach the async database through `call()`, which
runs a coroutine back on the event loop (`anyio.from_thread.run`) and waits for it.
Litestar's case-insensitive `Headers` are handed to Authlib as they are: a dict of lower-cased
keys would make HTTP Basic client authentication fail.
"""

from __future__ import annotations

import functools
import secrets
from collections import defaultdict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, TypeVar

import anyio
import anyio.from_thread
import anyio.to_thread
import msgspec
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    InvalidScopeError,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
)
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Headers

from portal.auth import audit, tokens
from portal.auth import scopes as s
from portal.auth.grants import (
    AuthorizationCodeGrant,
    Client,
    ClientCredentialsGrant,
    Credential,
    RefreshTokenGrant,
    S256Challenge,
    User,
)
from portal.auth.guards import client_address
from portal.db import auth_store
from portal.db.database import Database
from portal.domain.credentials import digest, new_secret
from portal.settings import Settings

T = TypeVar("T")


@dataclass(frozen=True)
class Snapshot:
    """What Authlib may read of one HTTP request, taken before it runs in a thread."""

    method: str
    uri: str
    headers: Headers
    query: list[tuple[str, str]]
    form: list[tuple[str, str]] = field(default_factory=list)
    ip: str = ""
    auth_time: datetime | None = None
    """When the signed-in user proved who they are (for the authorization endpoint)."""


async def snapshot(
    request: Request[Any, Any, Any],
    settings: Settings,
    *,
    auth_time: datetime | None = None,
    with_form: bool = True,
) -> Snapshot:
    form = await request.form() if with_form and request.method == "POST" else None
    query = request.url.query
    return Snapshot(
        method=request.method,
        # Built on the configured base URL: behind a TLS proxy the socket's scheme is http.
        uri=settings.issuer + request.url.path + (f"?{query}" if query else ""),
        headers=request.headers,
        query=list(request.query_params.multi_items()),
        form=[(k, v) for k, v in form.multi_items() if isinstance(v, str)] if form else [],
        ip=client_address(request),
        auth_time=auth_time,
    )


class Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in items:
            self._datalist[key].append(value)
        self._data = {key: values[0] for key, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class PortalRequest(OAuth2Request):  # type: ignore[misc]
    def __init__(self, snap: Snapshot) -> None:
        super().__init__(snap.method, snap.uri, headers=snap.headers)
        self.payload = Payload(snap.query + snap.form)
        self._args = dict(snap.query)
        self._form = dict(snap.form)
        self.ip = snap.ip
        self.auth_time = snap.auth_time

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


def find_credential(server: PortalServer, token: str) -> Credential | None:
    """A token this server issued, access (a JWT) or refresh (opaque), with its family."""
    if token.count(".") == 2:
        try:
            claims = server.call(tokens.verify_access_token, server.settings, token)
        except tokens.InvalidToken:
            return None
        row = server.call(auth_store.token_by_jti, claims["jti"])
        kind = "access_token"
    else:
        row = server.call(auth_store.token_by_refresh, digest(token))
        kind = "refresh_token"
    if row is None:
        return None
    user = server.call(auth_store.user_row, row["user_id"]) if row["user_id"] else None
    return Credential(row, kind, user)


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    """RFC 7662. The caller authenticates as a confidential client and may look at tokens of
    its own or of its organisation; anything else is `{"active": false}`."""

    CLIENT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]
    server: PortalServer

    def query_token(self, token_string: str, token_type_hint: str | None) -> Credential | None:
        return find_credential(self.server, token_string)

    def check_permission(self, token: Credential, client: Client, request: Any) -> bool:
        return token.client_id == client.client_id or token.row["org"] == client.org

    def introspect_token(self, token: Credential) -> dict[str, Any]:
        row = token.row
        payload: dict[str, Any] = {
            "active": True,
            "token_type": token.kind,
            "client_id": row["client_id"],
            "scope": token.get_scope(),
            "sub": str(row["user_id"]) if row["user_id"] else row["client_id"],
            "iss": self.server.settings.issuer,
            "iat": int(row["issued_at"].timestamp()),
            "exp": int(token.expires_at().timestamp()),
        }
        if token.kind == "access_token":
            payload["jti"] = row["access_jti"]
            payload["aud"] = tokens.audience(self.server.settings)
        return payload


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    """RFC 7009. A refresh token revokes its whole family; an access token only itself."""

    CLIENT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post", "none"]
    server: PortalServer

    def query_token(self, token_string: str, token_type_hint: str | None) -> Credential | None:
        return find_credential(self.server, token_string)

    def revoke_token(self, token: Credential, request: Any) -> None:
        now = datetime.now(UTC)
        if token.kind == "refresh_token":
            self.server.call(auth_store.revoke_family, token.row["family"], "revoked", now)
        else:
            self.server.call(auth_store.revoke_token, token.row["id"], now)
        self.server.audit(
            "token_revoked",
            "ok",
            user_id=token.row["user_id"],
            client_id=token.client_id,
            org=token.row["org"],
            ip=getattr(request, "ip", ""),
            detail={"kind": token.kind, "family": token.row["family"]},
        )


class PortalServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, settings: Settings, db: Database) -> None:
        super().__init__(scopes_supported=list(s.OIDC_SCOPES + s.SCOPES))
        self.settings = settings
        self.db = db
        self.web_front = Client.web_front(settings.issuer)
        self.register_grant(AuthorizationCodeGrant, [S256Challenge(required=True)])
        self.register_grant(RefreshTokenGrant)
        self.register_grant(ClientCredentialsGrant)
        self.register_endpoint(Introspection)
        self.register_endpoint(Revocation)
        self.register_token_generator("default", self.generate_bearer_token)

    # Bridges from Authlib's worker thread back to the event loop.

    def call(self, function: Callable[..., Coroutine[Any, Any, T]], *args: Any, **kwargs: Any) -> T:
        return anyio.from_thread.run(functools.partial(function, *args, **kwargs))

    def audit(self, kind: str, outcome: str, **fields: Any) -> None:
        self.call(audit.record, kind, outcome, **fields)

    # What Authlib asks of a framework integration.

    def query_client(self, client_id: str) -> Client | None:
        if client_id == self.web_front.client_id:
            return self.web_front
        row = self.call(auth_store.client_row, client_id)
        return Client.of_row(row) if row is not None and row["active"] else None

    def create_oauth2_request(self, request: Snapshot | PortalRequest) -> PortalRequest:
        return request if isinstance(request, PortalRequest) else PortalRequest(request)

    def create_json_request(self, request: Snapshot) -> PortalRequest:
        return PortalRequest(request)

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> Response[bytes]:
        content = msgspec.json.encode(body) if isinstance(body, dict) else str(body).encode()
        media_type = "application/json" if isinstance(body, dict) else "text/plain"
        return Response(content, status_code=status, headers=dict(headers), media_type=media_type)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Authlib's signals are not used: the audit is written where things happen."""

    def generate_bearer_token(
        self,
        grant_type: str,
        client: Client,
        user: User | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        if grant_type == "client_credentials":
            scope = client.get_allowed_scope(scope)
            if scope is None:
                raise InvalidScopeError()
        access = self.call(
            tokens.issue_access_token,
            self.db,
            self.settings,
            client_id=client.client_id,
            subject=str(user.get_user_id()) if user else client.client_id,
            scope=scope or "",
        )
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": access.token,
            "expires_in": access.expires_at - access.issued_at,
            "scope": scope or "",
        }
        if include_refresh_token:
            token["refresh_token"] = new_secret()
        return token

    def save_token(self, token: dict[str, Any], request: PortalRequest) -> None:
        claims = tokens.unverified_claims(token["access_token"])
        client: Client = request.client
        user = request.user.row if request.user else None
        grant_type = request.payload.grant_type
        if grant_type == "refresh_token":
            family = request.refresh_token.row["family"]
            org = request.refresh_token.row["org"]
        else:
            family = secrets.token_urlsafe(24)
            org = user["org"] if user else client.org or ""
            self.call(
                auth_store.create_grant,
                family,
                client.client_id,
                user["id"] if user else None,
                org,
                claims["scope"],
            )
            if grant_type == "authorization_code":
                self.call(auth_store.set_code_family, request.authorization_code.row["id"], family)
        refresh = token.get("refresh_token")
        self.call(
            auth_store.save_token,
            family=family,
            access_jti=claims["jti"],
            refresh_hash=digest(refresh) if refresh else None,
            issued_at=datetime.fromtimestamp(claims["iat"], UTC),
            access_expires_at=datetime.fromtimestamp(claims["exp"], UTC),
            refresh_expires_at=(
                datetime.now(UTC) + timedelta(days=self.settings.refresh_token_days)
                if refresh
                else None
            ),
        )
        self.audit(
            "token_refreshed" if grant_type == "refresh_token" else "token_issued",
            "ok",
            user_id=user["id"] if user else None,
            email=user["email"] if user else "",
            client_id=client.client_id,
            org=org,
            ip=request.ip,
            detail={"grant_type": grant_type, "scope": claims["scope"], "family": family},
        )

    # The authorization endpoint, decided in one worker-thread call.

    def authorize(
        self, snap: Snapshot, user: dict[str, Any] | None, allow: bool | None
    ) -> Response[bytes] | AuthorizeOutcome:
        """`allow`: the user's answer on the consent page, None when not asked yet."""
        try:
            grant = self.get_consent_grant(snap, end_user=User(user) if user else None)
        except OAuth2Error as error:
            if error.redirect_uri:
                return self.handle_response(*error())
            return AuthorizeOutcome("error", description=error.description or error.error)
        client: Client = grant.client
        if user is None:
            return AuthorizeOutcome("sign_in")
        if client.first_party:
            allow = True
        elif client.org != user["org"]:
            # A client serves its own organisation: nobody else's users can authorise it.
            allow = False
        elif allow is None:
            asked = s.allowed(user["role"], s.parse(grant.request.scope))
            return AuthorizeOutcome("consent", client_name=client.name, scopes=sorted(asked))
        response: Response[bytes] = self.create_authorization_response(
            grant.request, User(user) if allow else None, grant
        )
        return response


@dataclass(frozen=True)
class AuthorizeOutcome:
    """What the authorization endpoint must show instead of redirecting back to the client:
    an `error` page, the `sign_in` page, or the `consent` page."""

    kind: str
    description: str = ""
    client_name: str = ""
    scopes: list[str] = field(default_factory=list)


def server_of(connection: ASGIConnection[Any, Any, Any, Any]) -> PortalServer:
    """The app's authorization server, made on first use."""
    state = connection.app.state
    if getattr(state, "oauth_server", None) is None:
        state.oauth_server = PortalServer(state.settings, state.db)
    server: PortalServer = state.oauth_server
    return server


async def in_thread(function: Callable[..., T], *args: Any) -> T:
    return await anyio.to_thread.run_sync(function, *args)
