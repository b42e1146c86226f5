"""Administration of organisations and their users, and what admins read about them.

Only an administrator of an internal organisation (or the command line, acting as
`Actor.system("cli")`) may run these; anyone else is told that nothing was found, whatever the
page they came from let them try. Every change is an event on the organisation's stream
(`org/<CODE>`, internal audience), written in the same transaction as the change itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from piccolo.query.functions.aggregate import Count
from piccolo.query.functions.string import Lower

from portal.auth.scopes import ORG_ROLES
from portal.db import tables as t
from portal.db.codec import load
from portal.db.queries import Page
from portal.db.repositories import Organisations, for_update
from portal.domain import accounts as rules
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.errors import DomainError, NotFound, Phrase
from portal.domain.events import Event, EventKind, decode_audience, org_stream
from portal.services.unit_of_work import UnitOfWork

CLI_ACTOR_NAME = "cli"
"""The command line acts as `Actor.system("cli")`; no request can make that actor."""

# --- Who may administer ------------------------------------------------------------------------


async def require_admin(actor: Actor) -> None:
    """The actor is the command line, or an admin of an internal organisation (checked against
    the stored organisation, not only the actor's side)."""
    if actor.kind == ActorKind.SYSTEM and actor.name == CLI_ACTOR_NAME and actor.via == Via.SYSTEM:
        return
    if (
        actor.kind in (ActorKind.USER, ActorKind.CLIENT)
        and actor.role == "admin"
        and actor.side == Side.INTERNAL
        and actor.org
        and await Organisations().kind_of(actor.org) == "internal"
    ):
        return
    raise NotFound("Only an administrator of the portal's own organisation can do this.")


def note(uow: UnitOfWork, record: rules.OrgRecord) -> None:
    """Have the unit of work write the record's events at commit."""
    uow.note(record)


async def lock_organisation(code: str) -> dict[str, Any]:
    """The organisation's row, locked until the transaction ends: it orders the appends to the
    organisation's stream as an order's row lock orders its own."""
    row = (
        await for_update(t.Organisation.select().where(t.Organisation.code == code.strip().upper()))
        .first()
        .run()
    )
    if row is None:
        raise NotFound("Organisation {code!r} was not found.", code=code.strip())
    return row


# --- What admins read --------------------------------------------------------------------------


class OrganisationInfo(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    kind: str
    users: int = 0
    created_at: datetime | None = None

    @property
    def roles(self) -> tuple[str, ...]:
        return ORG_ROLES[self.kind]


class UserInfo(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    email: str
    name: str
    org: str
    role: str
    locale: str
    time_zone: str
    active: bool
    has_password: bool
    created_at: datetime | None = None


def _user(row: dict[str, Any]) -> UserInfo:
    return UserInfo(
        id=row["id"],
        email=row["email"],
        name=row["display_name"],
        org=row["org"],
        role=row["role"],
        locale=row["locale"],
        time_zone=row["time_zone"],
        active=row["active"],
        has_password=bool(row["password_hash"]),
        created_at=row["created_at"],
    )


def _organisation(row: dict[str, Any], users: int = 0) -> OrganisationInfo:
    return OrganisationInfo(
        code=row["code"],
        name=row["name"],
        kind=row["kind"],
        users=users,
        created_at=row["created_at"],
    )


async def organisations(actor: Actor) -> list[OrganisationInfo]:
    await require_admin(actor)
    rows = await t.Organisation.select().order_by(t.Organisation.code).run()
    counts = {
        row["org"]: row["count"]
        for row in await t.AppUser.select(t.AppUser.org, Count()).group_by(t.AppUser.org).run()
    }
    return [_organisation(row, counts.get(row["code"], 0)) for row in rows]


async def organisation(actor: Actor, code: str) -> OrganisationInfo:
    await require_admin(actor)
    row = await t.Organisation.select().where(t.Organisation.code == code).first().run()
    if row is None:
        raise NotFound("Organisation {code!r} was not found.", code=code)
    return _organisation(row)


async def users(actor: Actor, org: str | None = None) -> list[UserInfo]:
    await require_admin(actor)
    query = t.AppUser.select().order_by(t.AppUser.org).order_by(t.AppUser.email)
    if org:
        query = query.where(t.AppUser.org == org)
    return [_user(row) for row in await query.run()]


async def user(actor: Actor, user_id: int) -> UserInfo:
    await require_admin(actor)
    row = await t.AppUser.select().where(t.AppUser.id == user_id).first().run()
    if row is None:
        raise NotFound("User {user_id} was not found.", user_id=user_id)
    return _user(row)


async def user_by_email(actor: Actor, address: str) -> UserInfo:
    await require_admin(actor)
    row = (
        await t.AppUser.select()
        .where(Lower(t.AppUser.email) == address.strip().lower())
        .first()
        .run()
    )
    if row is None:
        raise NotFound("No user has the e-mail address {address!r}.", address=address.strip())
    return _user(row)


async def history(actor: Actor, code: str) -> list[Event]:
    """The organisation's administration events, newest first."""
    await require_admin(actor)
    rows = (
        await t.Event.select()
        .where(t.Event.stream == org_stream(code))
        .order_by(t.Event.seq, ascending=False)
        .run()
    )
    return [
        Event(
            stream=row["stream"],
            seq=row["seq"],
            at=row["at"],
            actor=load(row["actor"]),
            via=Via(row["via"]),
            kind=row["kind"],
            data=load(row["data"]),
            audience=decode_audience(row["audience"]),
            prev_hash=row["prev_hash"],
            hash=row["hash"],
        )
        for row in rows
    ]


class AccessEntry(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    kind: str
    outcome: str
    user_id: int | None
    email: str
    client_id: str
    org: str
    ip: str
    path: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AccessFilter:
    kind: str = ""
    outcome: str = ""
    org: str = ""


async def access_log(
    actor: Actor, where: AccessFilter, *, page: int = 1, per_page: int = 50
) -> Page[AccessEntry]:
    """The access audit (see `portal.auth.audit`), newest first."""
    await require_admin(actor)
    query = t.AccessLog.select()
    count = t.AccessLog.select(Count())
    for column, value in (
        (t.AccessLog.kind, where.kind),
        (t.AccessLog.outcome, where.outcome),
        (t.AccessLog.org, where.org),
    ):
        if value:
            query = query.where(column == value)
            count = count.where(column == value)
    total = (await count.run())[0]["count"]
    rows = (
        await query.order_by(t.AccessLog.at, ascending=False)
        .order_by(t.AccessLog._meta.primary_key, ascending=False)
        .limit(per_page)
        .offset((page - 1) * per_page)
        .run()
    )
    items = [
        AccessEntry(
            at=row["at"],
            kind=row["kind"],
            outcome=row["outcome"],
            user_id=row["user_id"],
            email=row["email"],
            client_id=row["client_id"],
            org=row["org"],
            ip=row["ip"],
            path=row["path"],
            detail=load(row["detail"]) or {},
        )
        for row in rows
    ]
    return Page(items=items, number=page, size=per_page, total=total)


async def access_kinds(actor: Actor) -> list[str]:
    """The kinds of access recorded so far, for the log's filter."""
    await require_admin(actor)
    rows = await t.AccessLog.select(t.AccessLog.kind).distinct().order_by(t.AccessLog.kind).run()
    return [row["kind"] for row in rows]


# --- Organisations -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateOrganisation:
    code: str
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class UpdateOrganisation:
    code: str
    name: str
    kind: str


async def create_organisation(
    uow: UnitOfWork, actor: Actor, cmd: CreateOrganisation
) -> OrganisationInfo:
    await require_admin(actor)
    code = rules.org_code(cmd.code)
    name = rules.required_text(cmd.name, Phrase("The organisation's name"))
    kind = rules.org_kind(cmd.kind)
    async with uow:
        if await t.Organisation.exists().where(t.Organisation.code == code).run():
            raise DomainError("An organisation with the code {code} already exists.", code=code)
        await t.Organisation.insert(
            t.Organisation(code=code, name=name, kind=kind, created_at=uow.now)
        ).run()
        record = rules.OrgRecord(version=0, code=code)
        record.changed(
            actor, EventKind.ORG_CREATED, {"code": code, "after": {"name": name, "kind": kind}}
        )
        note(uow, record)
        await uow.commit()
    return OrganisationInfo(code=code, name=name, kind=kind, created_at=uow.now)


async def _check_kind_change(code: str, kind: str) -> None:
    """A new kind must still fit the organisation's users, clients and orders."""
    roles = ORG_ROLES[kind]
    for table in (t.AppUser, t.OAuthClient):
        misfit = (
            await table.select(table.role)
            .where((table.org == code) & table.role.not_in(list(roles)))
            .first()
            .run()
        )
        if misfit:
            raise DomainError(
                "A {kind} organisation cannot have a {role!r} user or client; change "
                "their roles first.",
                kind=kind,
                role=misfit["role"],
            )
    if (
        kind not in ("supplier", "both")
        and await t.PurchaseOrder.exists().where(t.PurchaseOrder.supplier == code).run()
    ):
        raise DomainError("{code} supplies purchase orders, so it must stay a supplier.", code=code)
    if (
        kind not in ("customer", "both")
        and await t.SalesOrder.exists().where(t.SalesOrder.customer == code).run()
    ):
        raise DomainError("{code} has sales orders, so it must stay a customer.", code=code)


async def update_organisation(
    uow: UnitOfWork, actor: Actor, cmd: UpdateOrganisation
) -> OrganisationInfo:
    await require_admin(actor)
    name = rules.required_text(cmd.name, Phrase("The organisation's name"))
    kind = rules.org_kind(cmd.kind)
    async with uow:
        row = await lock_organisation(cmd.code)
        if kind != row["kind"]:
            await _check_kind_change(row["code"], kind)
        changed = rules.changes(
            {"name": row["name"], "kind": row["kind"]}, {"name": name, "kind": kind}
        )
        if changed["after"]:
            await (
                t.Organisation.update({t.Organisation.name: name, t.Organisation.kind: kind})
                .where(t.Organisation.code == row["code"])
                .run()
            )
            record = rules.OrgRecord(version=0, code=row["code"])
            record.changed(actor, EventKind.ORG_UPDATED, {"code": row["code"], **changed})
            note(uow, record)
        await uow.commit()
    return OrganisationInfo(code=row["code"], name=name, kind=kind, created_at=row["created_at"])


# --- Users -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateUser:
    org: str
    email: str
    name: str
    role: str
    locale: str = "en"
    time_zone: str = "UTC"


@dataclass(frozen=True, slots=True)
class UpdateUser:
    user_id: int
    name: str
    role: str
    locale: str
    time_zone: str


@dataclass(frozen=True, slots=True)
class DisableUser:
    user_id: int


@dataclass(frozen=True, slots=True)
class EnableUser:
    user_id: int


async def create_user(uow: UnitOfWork, actor: Actor, cmd: CreateUser) -> UserInfo:
    """A user without a password: they set one through an invitation (or sign in through
    their organisation's identity provider)."""
    await require_admin(actor)
    address = rules.email(cmd.email)
    name = rules.required_text(cmd.name, Phrase("The user's name"))
    language = rules.locale(cmd.locale)
    zone = rules.time_zone(cmd.time_zone)
    async with uow:
        org = await lock_organisation(cmd.org)
        role = rules.role_for_kind(cmd.role, org["kind"], ORG_ROLES[org["kind"]])
        if await t.AppUser.exists().where(Lower(t.AppUser.email) == address).run():
            raise DomainError(
                "A user with the e-mail address {address} already exists.", address=address
            )
        inserted = (
            await t.AppUser.insert(
                t.AppUser(
                    email=address,
                    display_name=name,
                    org=org["code"],
                    role=role,
                    locale=language,
                    time_zone=zone,
                    password_hash=None,
                    active=True,
                    created_at=uow.now,
                )
            )
            .returning(t.AppUser.id)
            .run()
        )
        user_id = inserted[0]["id"]
        record = rules.OrgRecord(version=0, code=org["code"])
        record.changed(
            actor,
            EventKind.USER_CREATED,
            {
                "user_id": user_id,
                "email": address,
                "after": {"name": name, "role": role, "locale": language, "time_zone": zone},
            },
        )
        note(uow, record)
        await uow.commit()
    return UserInfo(
        id=user_id,
        email=address,
        name=name,
        org=org["code"],
        role=role,
        locale=language,
        time_zone=zone,
        active=True,
        has_password=False,
        created_at=uow.now,
    )


async def _lock_user(user_id: int) -> dict[str, Any]:
    """The user's row, after their organisation's row is locked (always in that order)."""
    row = await t.AppUser.select(t.AppUser.org).where(t.AppUser.id == user_id).first().run()
    if row is None:
        raise NotFound("User {user_id} was not found.", user_id=user_id)
    await lock_organisation(row["org"])
    found = await for_update(t.AppUser.select().where(t.AppUser.id == user_id)).first().run()
    if found is None:
        raise NotFound("User {user_id} was not found.", user_id=user_id)
    return found


def _is_self(actor: Actor, user_id: int) -> bool:
    return actor.kind == ActorKind.USER and actor.id == str(user_id)


async def update_user(uow: UnitOfWork, actor: Actor, cmd: UpdateUser) -> UserInfo:
    await require_admin(actor)
    name = rules.required_text(cmd.name, Phrase("The user's name"))
    language = rules.locale(cmd.locale)
    zone = rules.time_zone(cmd.time_zone)
    async with uow:
        row = await _lock_user(cmd.user_id)
        kind = await Organisations().kind_of(row["org"]) or ""
        role = rules.role_for_kind(cmd.role, kind, ORG_ROLES.get(kind, ()))
        if role != row["role"] and _is_self(actor, cmd.user_id):
            # Nobody takes the admin role away from themselves by a slip of the mouse.
            raise DomainError("You cannot change your own role; ask another administrator.")
        before = {
            "name": row["display_name"],
            "role": row["role"],
            "locale": row["locale"],
            "time_zone": row["time_zone"],
        }
        after = {"name": name, "role": role, "locale": language, "time_zone": zone}
        changed = rules.changes(before, after)
        if changed["after"]:
            await (
                t.AppUser.update(
                    {
                        t.AppUser.display_name: name,
                        t.AppUser.role: role,
                        t.AppUser.locale: language,
                        t.AppUser.time_zone: zone,
                    }
                )
                .where(t.AppUser.id == cmd.user_id)
                .run()
            )
            record = rules.OrgRecord(version=0, code=row["org"])
            record.changed(
                actor,
                EventKind.USER_UPDATED,
                {"user_id": cmd.user_id, "email": row["email"], **changed},
            )
            note(uow, record)
        await uow.commit()
    return _user({**row, "display_name": name, **after})


async def end_access_of_user(user_id: int, now: datetime, reason: str) -> tuple[int, int]:
    """End every web session and revoke every token family of the user, inside the caller's
    transaction. (sessions ended, token families revoked)"""
    sessions = (
        await t.WebSession.update({t.WebSession.ended_at: now})
        .where((t.WebSession.user_id == user_id) & t.WebSession.ended_at.is_null())
        .returning(t.WebSession.id)
        .run()
    )
    families = await _revoke_families(t.OAuthGrant.user_id == user_id, now, reason)
    return len(sessions), families


async def _revoke_families(which: Any, now: datetime, reason: str) -> int:
    grants = (
        await t.OAuthGrant.update(
            {t.OAuthGrant.revoked_at: now, t.OAuthGrant.revoke_reason: reason}
        )
        .where(which & t.OAuthGrant.revoked_at.is_null())
        .returning(t.OAuthGrant.family)
        .run()
    )
    names = [grant["family"] for grant in grants]
    if names:
        await (
            t.OAuthToken.update({t.OAuthToken.revoked_at: now})
            .where(t.OAuthToken.family.is_in(names) & t.OAuthToken.revoked_at.is_null())
            .run()
        )
    return len(names)


async def revoke_client_families(client_id: str, now: datetime, reason: str) -> int:
    """Revoke every token family issued to the client, inside the caller's transaction."""
    return await _revoke_families(t.OAuthGrant.client_id == client_id, now, reason)


async def disable_user(uow: UnitOfWork, actor: Actor, cmd: DisableUser) -> UserInfo:
    """The user can no longer sign in, and is signed out everywhere at once: their sessions
    end and their tokens are revoked in the same transaction as the change."""
    await require_admin(actor)
    if _is_self(actor, cmd.user_id):
        raise DomainError("You cannot disable your own account; ask another administrator.")
    async with uow:
        row = await _lock_user(cmd.user_id)
        if not row["active"]:
            raise DomainError("{email} is already disabled.", email=row["email"])
        await t.AppUser.update({t.AppUser.active: False}).where(t.AppUser.id == cmd.user_id).run()
        sessions, families = await end_access_of_user(cmd.user_id, uow.now, "user_disabled")
        record = rules.OrgRecord(version=0, code=row["org"])
        record.changed(
            actor,
            EventKind.USER_DISABLED,
            {
                "user_id": cmd.user_id,
                "email": row["email"],
                "before": {"active": True},
                "after": {"active": False},
                "sessions_ended": sessions,
                "token_families_revoked": families,
            },
        )
        note(uow, record)
        await uow.commit()
    return _user({**row, "active": False})


async def enable_user(uow: UnitOfWork, actor: Actor, cmd: EnableUser) -> UserInfo:
    await require_admin(actor)
    async with uow:
        row = await _lock_user(cmd.user_id)
        if row["active"]:
            raise DomainError("{email} is already active.", email=row["email"])
        await t.AppUser.update({t.AppUser.active: True}).where(t.AppUser.id == cmd.user_id).run()
        record = rules.OrgRecord(version=0, code=row["org"])
        record.changed(
            actor,
            EventKind.USER_ENABLED,
            {
                "user_id": cmd.user_id,
                "email": row["email"],
                "before": {"active": False},
                "after": {"active": True},
            },
        )
        note(uow, record)
        await uow.commit()
    return _user({**row, "active": True})
