"""The grants the server allows, and the models Authlib asks them for.

Authlib's grants are synchronous and run in a worker thread (see server.py); they reach the
database through `server.call(...)`, which runs an async function on the event loop and waits.

- Authorization code, with PKCE required for every client and S256 only; a code is single
  use, and using it again revokes the token family it started.
- Refresh token, rotating: each use gives a new refresh token; using one twice revokes the
  whole family.
- Client credentials, for machine clients acting for their organisation.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from authlib.oauth2.rfc6749 import (
    ClientMixin,
    InvalidRequestError,
)
from authlib.oauth2.rfc6749 import grants as authlib_grants
from authlib.oauth2.rfc7636.challenge import (
    CodeChallenge,
    compare_s256_code_challenge,
)

from portal.auth import scopes as s
from portal.auth import tokens
from portal.db import auth_store
from portal.domain.credentials import digest

if TYPE_CHECKING:
    from portal.auth.server import PortalServer

CODE_LIFETIME = timedelta(minutes=2)
FIRST_PARTY_ID = "portal-web"
"""The portal's own web front: built in, public (no secret), PKCE, no consent page."""
CALLBACK_PATH = "/auth/callback"


@dataclass
class Client(ClientMixin):  # type: ignore[misc]
    """An OAuth client: a row of `oauth_client`, or the built-in web front."""

    client_id: str
    name: str
    org: str | None
    role: str | None
    secret_hash: str | None
    grant_types: frozenset[str]
    scope: frozenset[str]
    redirect_uris: tuple[str, ...]
    auth_method: str
    first_party: bool

    @classmethod
    def of_row(cls, row: dict[str, Any]) -> Client:
        role = row["role"]
        grant_types = frozenset(row["grant_types"].split())
        # The most it may ever get: its own scopes, cut to what its role may hold; OpenID
        # Connect's scopes only where a user signs in.
        allowed = s.parse(row["scope"]) & s.ROLE_SCOPES.get(role, frozenset())
        if "authorization_code" in grant_types:
            allowed |= s.parse(row["scope"]) & frozenset(s.OIDC_SCOPES)
        return cls(
            client_id=row["client_id"],
            name=row["name"],
            org=row["org"],
            role=role,
            secret_hash=row["secret_hash"],
            grant_types=grant_types,
            scope=allowed,
            redirect_uris=tuple(uri for uri in row["redirect_uris"].splitlines() if uri),
            auth_method=row["token_endpoint_auth_method"] if row["secret_hash"] else "none",
            first_party=bool(row["first_party"]),
        )

    @classmethod
    def web_front(cls, issuer: str) -> Client:
        return cls(
            client_id=FIRST_PARTY_ID,
            name="Portal",
            org=None,
            role=None,
            secret_hash=None,
            grant_types=frozenset({"authorization_code", "refresh_token"}),
            scope=frozenset(s.SCOPES) | frozenset(s.OIDC_SCOPES),
            redirect_uris=(issuer + CALLBACK_PATH,),
            auth_method="none",
            first_party=True,
        )

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        """None: every authorization request must name its redirect URI, which is then
        matched exactly."""
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The scope asked for, if the client may have all of it (none asked: all it may
        have). None (not "") makes Authlib answer invalid_scope."""
        asked = s.parse(scope)
        if not asked:
            return s.render(self.scope - frozenset(s.OIDC_SCOPES))
        return s.render(asked) if asked <= self.scope else None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        if self.secret_hash is None:
            return False
        return secrets.compare_digest(digest(client_secret), self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


@dataclass
class User:
    row: dict[str, Any]

    def get_user_id(self) -> int:
        user_id: int = self.row["id"]
        return user_id


@dataclass
class Code:
    row: dict[str, Any]

    def get_redirect_uri(self) -> str:
        uri: str = self.row["redirect_uri"]
        return uri

    def get_scope(self) -> str:
        scope: str = self.row["scope"]
        return scope

    @property
    def code_challenge(self) -> str:
        challenge: str = self.row["code_challenge"]
        return challenge

    @property
    def code_challenge_method(self) -> str:
        method: str = self.row["code_challenge_method"]
        return method


@dataclass
class Credential:
    """A stored token (access or refresh) with its family, as introspection, revocation and
    the refresh grant see it."""

    row: dict[str, Any]
    kind: str  # access_token | refresh_token
    user: dict[str, Any] | None = None

    @property
    def client_id(self) -> str:
        client_id: str = self.row["client_id"]
        return client_id

    def get_scope(self) -> str:
        scope: str = self.row["scope"]
        if self.user is not None:
            # The role may have changed since: never more than it allows now.
            return s.render(s.allowed(self.user["role"], s.parse(scope)))
        return scope

    def check_client(self, client: Client) -> bool:
        return self.client_id == client.client_id

    def expires_at(self) -> datetime:
        at: datetime = self.row[
            "access_expires_at" if self.kind == "access_token" else "refresh_expires_at"
        ]
        return at

    def is_expired(self) -> bool:
        return self.expires_at() <= datetime.now(UTC)

    def is_revoked(self) -> bool:
        if self.row["family_revoked_at"] is not None or self.row["revoked_at"] is not None:
            return True
        if self.kind == "refresh_token" and self.row["rotated_at"] is not None:
            return True
        return self.user is not None and not self.user["active"]


class S256Challenge(CodeChallenge):  # type: ignore[misc]
    """PKCE for every client, public or confidential, and S256 only: Authlib's own default
    admits `plain` and lets confidential clients go without."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]
    CODE_CHALLENGE_METHODS: ClassVar[dict[str, Any]] = {"S256": compare_s256_code_challenge}

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError(
                "PKCE is required: send code_challenge with code_challenge_method=S256."
            )
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is accepted.")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'.")
        super().validate_code_verifier(grant, result)


class AuthorizationCodeGrant(authlib_grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ]
    server: PortalServer

    def save_authorization_code(self, code: str, request: Any) -> None:
        user = request.user.row
        data = request.payload.data
        now = datetime.now(UTC)
        # Scopes granted = what the user's role allows ∩ what was asked (and the client may
        # have, which Authlib checked already).
        scope = s.render(s.allowed(user["role"], s.parse(request.scope)))
        self.server.call(
            auth_store.save_code,
            code_hash=digest(code),
            client_id=request.client.client_id,
            user_id=user["id"],
            redirect_uri=request.payload.redirect_uri,
            scope=scope,
            nonce=data.get("nonce") or None,
            code_challenge=data["code_challenge"],
            code_challenge_method=data["code_challenge_method"],
            auth_time=request.auth_time or now,
            expires_at=now + CODE_LIFETIME,
        )

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        now = datetime.now(UTC)
        row, reused = self.server.call(auth_store.claim_code, digest(code), client.client_id, now)
        if row is None:
            return None
        if reused:
            # RFC 6749 4.1.2: a code used twice was stolen or replayed; what it gave is
            # revoked.
            if row["family"]:
                self.server.call(auth_store.revoke_family, row["family"], "code_reused", now)
            self.server.audit(
                "code_reused",
                "denied",
                user_id=row["user_id"],
                client_id=client.client_id,
                detail={"family": row["family"] or ""},
            )
            return None
        if row["expires_at"] <= now:
            return None
        return Code(row)

    def delete_authorization_code(self, authorization_code: Code) -> None:
        """Nothing to do: the code was marked used when it was claimed."""

    def authenticate_user(self, authorization_code: Code) -> User | None:
        row = self.server.call(auth_store.user_row, authorization_code.row["user_id"])
        return User(row) if row is not None and row["active"] else None

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        status, token, headers = super().create_token_response()
        code = self.request.authorization_code.row
        if s.OPENID in s.parse(code["scope"]):
            token["id_token"] = self.server.call(
                tokens.issue_id_token,
                self.server.db,
                self.server.settings,
                client_id=self.request.client.client_id,
                user=self.request.user.row,
                scope=code["scope"],
                nonce=code["nonce"],
                auth_time=int(code["auth_time"].timestamp()),
            )
        return status, token, headers


class RefreshTokenGrant(authlib_grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ]
    INCLUDE_NEW_REFRESH_TOKEN = True
    server: PortalServer

    def authenticate_refresh_token(self, refresh_token: str) -> Credential | None:
        now = datetime.now(UTC)
        row = self.server.call(auth_store.token_by_refresh, digest(refresh_token))
        if row is None or row["client_id"] != self.request.client.client_id:
            return None
        if row["family_revoked_at"] is not None or row["revoked_at"] is not None:
            return None
        if row["rotated_at"] is not None or not self.server.call(
            auth_store.claim_refresh, row["id"], now
        ):
            # A rotated refresh token came back: one of its holders is not its owner.
            self.server.call(auth_store.revoke_family, row["family"], "refresh_reused", now)
            self.server.audit(
                "refresh_reused",
                "denied",
                user_id=row["user_id"],
                client_id=row["client_id"],
                org=row["org"],
                detail={"family": row["family"]},
            )
            return None
        if row["refresh_expires_at"] is None or row["refresh_expires_at"] <= now:
            return None
        user = self.server.call(auth_store.user_row, row["user_id"]) if row["user_id"] else None
        if user is None or not user["active"]:
            return None
        return Credential(row, "refresh_token", user)

    def authenticate_user(self, refresh_token: Credential) -> User | None:
        return User(refresh_token.user) if refresh_token.user else None

    def revoke_old_credential(self, refresh_token: Credential) -> None:
        """Nothing to do: the old refresh token was marked rotated when it was claimed."""


class ClientCredentialsGrant(authlib_grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]
