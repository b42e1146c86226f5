"""OAuth clients and external identity providers of the organisations: registered, rotated,
disabled and configured by administrators (see `accounts.require_admin`).

A client's secret is shown once, when it is made; only its SHA-256 digest is stored, so a copy
of the database authenticates no one. Each change is an event on the organisation's stream.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import msgspec

from portal.auth import scopes as s
from portal.db import tables as t
from portal.db.repositories import for_update
from portal.domain import accounts as rules
from portal.domain.actors import Actor
from portal.domain.credentials import digest, new_secret
from portal.domain.errors import DomainError, NotFound, Phrase
from portal.domain.events import EventKind
from portal.services.accounts import lock_organisation, note, require_admin, revoke_client_families
from portal.services.unit_of_work import UnitOfWork


class ClientInfo(msgspec.Struct, frozen=True, kw_only=True):
    client_id: str
    name: str
    org: str
    role: str
    grant_types: list[str]
    scopes: list[str]
    redirect_uris: list[str]
    active: bool
    first_party: bool
    created_at: datetime | None = None


class IssuedSecret(msgspec.Struct, frozen=True, kw_only=True):
    """A client with its secret in clear: the one and only time anybody sees it."""

    client: ClientInfo
    secret: str

    def __repr__(self) -> str:
        return f"IssuedSecret(client={self.client!r}, secret='***')"


def _client(row: dict[str, Any]) -> ClientInfo:
    return ClientInfo(
        client_id=row["client_id"],
        name=row["name"],
        org=row["org"],
        role=row["role"],
        grant_types=row["grant_types"].split(),
        scopes=s.render(s.parse(row["scope"])).split(),
        redirect_uris=[uri for uri in row["redirect_uris"].split("\n") if uri],
        active=row["active"],
        first_party=row["first_party"],
        created_at=row["created_at"],
    )


async def clients(actor: Actor, org: str | None = None) -> list[ClientInfo]:
    await require_admin(actor)
    query = t.OAuthClient.select().order_by(t.OAuthClient.org).order_by(t.OAuthClient.name)
    if org:
        query = query.where(t.OAuthClient.org == org)
    return [_client(row) for row in await query.run()]


async def client(actor: Actor, client_id: str) -> ClientInfo:
    await require_admin(actor)
    row = await t.OAuthClient.select().where(t.OAuthClient.client_id == client_id).first().run()
    if row is None:
        raise NotFound("Client {client_id!r} was not found.", client_id=client_id)
    return _client(row)


# --- Registering, rotating, disabling ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegisterClient:
    org: str
    name: str
    scopes: tuple[str, ...]
    grant_types: tuple[str, ...] = (rules.CLIENT_CREDENTIALS,)
    role: str = ""
    """Empty: the one role the organisation's kind allows (a supplier's client is a supplier)."""
    redirect_uris: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RotateSecret:
    client_id: str


@dataclass(frozen=True, slots=True)
class DisableClient:
    client_id: str


def _role(asked: str, org: dict[str, Any]) -> str:
    roles = s.ORG_ROLES[org["kind"]]
    if not asked:
        if len(roles) != 1:
            raise DomainError(
                "Organisation {code} may have clients of the roles {roles}; say which "
                "one this client is.",
                code=org["code"],
                roles=", ".join(roles),
            )
        return roles[0]
    return rules.role_for_kind(asked, org["kind"], roles)


def _scopes(asked: tuple[str, ...], role: str, grant_types: tuple[str, ...]) -> frozenset[str]:
    """Within what the role may ever hold; OpenID Connect's own scopes only for clients that
    sign users in."""
    wanted = frozenset(name for part in asked for name in part.split())
    if not wanted:
        raise DomainError("A client needs at least one scope.")
    allowed = s.ROLE_SCOPES[role]
    if rules.AUTHORIZATION_CODE in grant_types:
        allowed = allowed | frozenset(s.OIDC_SCOPES)
    refused = sorted(wanted - allowed)
    if refused:
        raise DomainError(
            "Scope {scope!r} is not allowed for a {role} client; allowed: {allowed}.",
            scope=refused[0],
            role=role,
            allowed=s.render(allowed),
        )
    return wanted


def _redirect_uris(given: tuple[str, ...], grant_types: tuple[str, ...]) -> tuple[str, ...]:
    uris = tuple(dict.fromkeys(rules.redirect_uri(uri) for uri in given if uri.strip()))
    if rules.AUTHORIZATION_CODE in grant_types and not uris:
        raise DomainError("The authorization_code grant needs at least one redirect URI.")
    if uris and rules.AUTHORIZATION_CODE not in grant_types:
        raise DomainError("Redirect URIs are only used by the authorization_code grant.")
    return uris


async def register_client(uow: UnitOfWork, actor: Actor, cmd: RegisterClient) -> IssuedSecret:
    await require_admin(actor)
    name = rules.required_text(cmd.name, Phrase("The client's name"))
    grant_types = rules.grant_types(cmd.grant_types)
    redirect_uris = _redirect_uris(cmd.redirect_uris, grant_types)
    async with uow:
        org = await lock_organisation(cmd.org)
        role = _role(cmd.role.strip(), org)
        scope = s.render(_scopes(cmd.scopes, role, grant_types))
        client_id = f"{org['code'].lower()}-{secrets.token_hex(8)}"
        secret = new_secret()
        await t.OAuthClient.insert(
            t.OAuthClient(
                client_id=client_id,
                name=name,
                org=org["code"],
                role=role,
                secret_hash=digest(secret),
                grant_types=" ".join(grant_types),
                scope=scope,
                redirect_uris="\n".join(redirect_uris),
                token_endpoint_auth_method="client_secret_basic",
                first_party=False,
                active=True,
                created_at=uow.now,
            )
        ).run()
        record = rules.OrgRecord(version=0, code=org["code"])
        record.changed(
            actor,
            EventKind.CLIENT_REGISTERED,
            {
                "client_id": client_id,
                "after": {
                    "name": name,
                    "role": role,
                    "grant_types": " ".join(grant_types),
                    "scope": scope,
                    "redirect_uris": " ".join(redirect_uris),
                },
            },
        )
        note(uow, record)
        await uow.commit()
    row = await t.OAuthClient.select().where(t.OAuthClient.client_id == client_id).first().run()
    return IssuedSecret(client=_client(cast(dict[str, Any], row)), secret=secret)


async def _lock_client(client_id: str) -> dict[str, Any]:
    """The client's row, after its organisation's (always in that order). The portal's own
    web client is the portal's business, not an administrator's."""
    row = (
        await t.OAuthClient.select(t.OAuthClient.org)
        .where(t.OAuthClient.client_id == client_id)
        .first()
        .run()
    )
    if row is None:
        raise NotFound("Client {client_id!r} was not found.", client_id=client_id)
    await lock_organisation(row["org"])
    found = (
        await for_update(t.OAuthClient.select().where(t.OAuthClient.client_id == client_id))
        .first()
        .run()
    )
    if found is None:
        raise NotFound("Client {client_id!r} was not found.", client_id=client_id)
    if found["first_party"]:
        raise DomainError("The portal's own web client is managed by the portal itself.")
    return found


async def rotate_secret(uow: UnitOfWork, actor: Actor, cmd: RotateSecret) -> IssuedSecret:
    """A new secret replaces the old one at once; tokens already issued stay valid until they
    expire or are revoked."""
    await require_admin(actor)
    async with uow:
        row = await _lock_client(cmd.client_id)
        if not row["active"]:
            raise DomainError("Client {client_id} is disabled.", client_id=cmd.client_id)
        secret = new_secret()
        await (
            t.OAuthClient.update({t.OAuthClient.secret_hash: digest(secret)})
            .where(t.OAuthClient.client_id == cmd.client_id)
            .run()
        )
        record = rules.OrgRecord(version=0, code=row["org"])
        record.changed(
            actor,
            EventKind.CLIENT_SECRET_ROTATED,
            {"client_id": cmd.client_id, "name": row["name"]},
        )
        note(uow, record)
        await uow.commit()
    return IssuedSecret(client=_client(row), secret=secret)


async def disable_client(uow: UnitOfWork, actor: Actor, cmd: DisableClient) -> ClientInfo:
    """The client can no longer get tokens, and every token family it holds is revoked."""
    await require_admin(actor)
    async with uow:
        row = await _lock_client(cmd.client_id)
        if not row["active"]:
            raise DomainError("Client {client_id} is already disabled.", client_id=cmd.client_id)
        await (
            t.OAuthClient.update({t.OAuthClient.active: False})
            .where(t.OAuthClient.client_id == cmd.client_id)
            .run()
        )
        families = await revoke_client_families(cmd.client_id, uow.now, "client_disabled")
        record = rules.OrgRecord(version=0, code=row["org"])
        record.changed(
            actor,
            EventKind.CLIENT_DISABLED,
            {
                "client_id": cmd.client_id,
                "name": row["name"],
                "before": {"active": True},
                "after": {"active": False},
                "token_families_revoked": families,
            },
        )
        note(uow, record)
        await uow.commit()
    return _client({**row, "active": False})


# --- External identity providers ---------------------------------------------------------------


class IdentityProviderInfo(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation's provider as admins see it: the secret is never shown again."""

    org: str
    name: str
    issuer: str
    client_id: str
    scope: str
    has_secret: bool


@dataclass(frozen=True, slots=True)
class SetIdentityProvider:
    org: str
    issuer: str
    client_id: str
    client_secret: str = ""
    """Empty keeps the secret already stored (an admin changing the name need not know it)."""
    name: str = ""
    """What the sign-in button says; empty: the organisation's name."""
    scope: str = "openid email profile"


@dataclass(frozen=True, slots=True)
class ClearIdentityProvider:
    org: str


def _provider(row: dict[str, Any]) -> IdentityProviderInfo:
    return IdentityProviderInfo(
        org=row["org"],
        name=row["name"],
        issuer=row["issuer"],
        client_id=row["client_id"],
        scope=row["scope"],
        has_secret=bool(row["client_secret"]),
    )


async def identity_provider(actor: Actor, org: str) -> IdentityProviderInfo | None:
    await require_admin(actor)
    row = await t.IdentityProvider.select().where(t.IdentityProvider.org == org).first().run()
    return _provider(row) if row else None


async def set_identity_provider(
    uow: UnitOfWork, actor: Actor, cmd: SetIdentityProvider
) -> IdentityProviderInfo:
    await require_admin(actor)
    issuer = rules.issuer(cmd.issuer)
    client_id = rules.required_text(cmd.client_id, Phrase("The provider's client id"))
    scope = " ".join(dict.fromkeys(cmd.scope.split()))
    if s.OPENID not in scope.split():
        raise DomainError("The provider's scopes must include openid.")
    async with uow:
        org = await lock_organisation(cmd.org)
        name = rules.required_text(cmd.name or org["name"], Phrase("The sign-in button's name"))
        old = await t.IdentityProvider.select().where(t.IdentityProvider.org == org["code"]).run()
        secret = cmd.client_secret.strip() or (old[0]["client_secret"] if old else "")
        if not secret:
            raise DomainError("The provider's client secret is required.")
        values = {"name": name, "issuer": issuer, "client_id": client_id, "scope": scope}
        if old:
            await (
                t.IdentityProvider.update(
                    {
                        t.IdentityProvider.name: name,
                        t.IdentityProvider.issuer: issuer,
                        t.IdentityProvider.client_id: client_id,
                        t.IdentityProvider.scope: scope,
                        t.IdentityProvider.client_secret: secret,
                        t.IdentityProvider.active: True,
                    }
                )
                .where(t.IdentityProvider.org == org["code"])
                .run()
            )
        else:
            await t.IdentityProvider.insert(
                t.IdentityProvider(
                    org=org["code"],
                    name=name,
                    issuer=issuer,
                    client_id=client_id,
                    scope=scope,
                    client_secret=secret,
                    active=True,
                    created_at=uow.now,
                )
            ).run()
        before = {key: old[0][key] for key in values} if old else {}
        changed = rules.changes(before, values)
        secret_changed = not old or secret != old[0]["client_secret"]
        if changed["after"] or secret_changed:
            record = rules.OrgRecord(version=0, code=org["code"])
            record.changed(
                actor,
                EventKind.IDENTITY_PROVIDER_SET,
                {**changed, "secret_changed": secret_changed},
            )
            note(uow, record)
        await uow.commit()
    return IdentityProviderInfo(org=org["code"], has_secret=True, **values)


async def clear_identity_provider(
    uow: UnitOfWork, actor: Actor, cmd: ClearIdentityProvider
) -> None:
    """Users of the organisation sign in with a password again (they need one: an invitation
    or a password reset gives it)."""
    await require_admin(actor)
    async with uow:
        org = await lock_organisation(cmd.org)
        old = await t.IdentityProvider.select().where(t.IdentityProvider.org == org["code"]).run()
        if not old:
            raise DomainError("Organisation {code} has no identity provider.", code=org["code"])
        await t.IdentityProvider.delete().where(t.IdentityProvider.org == org["code"]).run()
        record = rules.OrgRecord(version=0, code=org["code"])
        record.changed(
            actor,
            EventKind.IDENTITY_PROVIDER_CLEARED,
            {"before": {"name": old[0]["name"], "issuer": old[0]["issuer"]}, "after": {}},
        )
        note(uow, record)
        await uow.commit()
