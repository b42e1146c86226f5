"""Invitations: an admin creates a user without a password, `invite` mails them a single-use
link, and the link's page lets them choose a password (or link their company sign-in, when
their organisation has an identity provider; see `portal.auth.external`).

The one-time links (invitations and password resets alike) live here too: a random token in
the link, only its SHA-256 in `one_time_link`, single use, expiring.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from http import HTTPStatus
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body

from portal.auth import audit, sessions
from portal.auth.guards import client_address, public
from portal.auth.passwords import check_password_rules, hash_password_async
from portal.db import tables as t
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind
from portal.domain.credentials import digest, new_secret
from portal.domain.errors import DomainError
from portal.notify import mail
from portal.services.accounts import require_admin
from portal.services.unit_of_work import UnitOfWork, utc_now
from portal.settings import Settings
from portal.web.i18n import I18n
from portal.web.rendering import View

INVITE = "invite"
RESET = "reset"
INVITATION_PATH = "/invitations"


class LinkProblem(StrEnum):
    """Why a link cannot be used; the pages explain each in the reader's language."""

    UNKNOWN = "unknown"  # never issued (forged, mistyped) or issued for something else
    USED = "used"
    EXPIRED = "expired"
    INACTIVE = "inactive"  # the account was disabled since


PROBLEM_STATUS = {
    LinkProblem.UNKNOWN: HTTPStatus.NOT_FOUND,
    LinkProblem.USED: HTTPStatus.GONE,
    LinkProblem.EXPIRED: HTTPStatus.GONE,
    LinkProblem.INACTIVE: HTTPStatus.GONE,
}


@dataclass(frozen=True, slots=True)
class OpenLink:
    """A link that can be used now, and the user it is for."""

    link: dict[str, Any]
    user: dict[str, Any]


async def issue_link(
    purpose: str, user_id: int, created_by: str, now: datetime, lifetime: timedelta
) -> tuple[str, datetime]:
    """A new link (inside the caller's transaction): (its token, when it expires)."""
    token = new_secret()
    expires_at = now + lifetime
    await t.OneTimeLink.insert(
        t.OneTimeLink(
            token_hash=digest(token),
            purpose=purpose,
            user_id=user_id,
            created_by=created_by[:200],
            created_at=now,
            expires_at=expires_at,
        )
    ).run()
    return token, expires_at


async def open_link(token: str, purpose: str, now: datetime) -> OpenLink | LinkProblem:
    """The link and its user if the link can be used now, else why not. Changes nothing."""
    link = (
        await t.OneTimeLink.select()
        .where((t.OneTimeLink.token_hash == digest(token)) & (t.OneTimeLink.purpose == purpose))
        .first()
        .run()
    )
    if link is None:
        return LinkProblem.UNKNOWN
    if link["used_at"] is not None:
        return LinkProblem.USED
    if link["expires_at"] <= now:
        return LinkProblem.EXPIRED
    user = await t.AppUser.select().where(t.AppUser.id == link["user_id"]).first().run()
    if user is None:
        return LinkProblem.UNKNOWN
    if not user["active"]:
        return LinkProblem.INACTIVE
    return OpenLink(link=link, user=user)


async def use_link(token: str, purpose: str, now: datetime) -> OpenLink | LinkProblem:
    """`open_link`, then mark it used (inside the caller's transaction). Of two requests
    racing with one link, only one gets it: the update only takes a link not yet used."""
    opened = await open_link(token, purpose, now)
    if isinstance(opened, LinkProblem):
        return opened
    taken = (
        await t.OneTimeLink.update({t.OneTimeLink.used_at: now})
        .where((t.OneTimeLink.id == opened.link["id"]) & t.OneTimeLink.used_at.is_null())
        .returning(t.OneTimeLink.id)
        .run()
    )
    return opened if taken else LinkProblem.USED


async def redeem_with_password(
    db: Database,
    token: str,
    purpose: str,
    password: str,
    *,
    end_sessions: bool,
) -> dict[str, Any] | LinkProblem:
    """Use the link and set its user's password, in one transaction; with `end_sessions`
    every session and token family the user had ends in it too. Returns the user's row."""
    password_hash = await hash_password_async(password)  # slow: before the write lock
    async with UnitOfWork(db) as uow:
        opened = await use_link(token, purpose, uow.now)
        if isinstance(opened, LinkProblem):
            return opened
        user_id = opened.user["id"]
        await (
            t.AppUser.update({t.AppUser.password_hash: password_hash})
            .where(t.AppUser.id == user_id)
            .run()
        )
        if end_sessions:
            await sessions.end_sessions_of(user_id)
        await uow.commit()
    return {**opened.user, "password_hash": password_hash}


# --- Inviting ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Invitation:
    user_id: int
    email: str
    link: str
    """Shown to the admin too, so an invitation whose mail failed can be passed on by hand."""
    expires_at: datetime
    mailed: bool
    """False when the mail could not be sent (the error is logged): invite again to re-send."""


def invitation_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url.rstrip('/')}{INVITATION_PATH}/{token}"


async def invite(db: Database, settings: Settings, actor: Actor, user_id: int) -> Invitation:
    """Invite a user who has no password yet: a new link (earlier unused invitations of the
    user stop working), mailed to them in their language after the commit."""
    await require_admin(actor)
    async with UnitOfWork(db) as uow:
        user = await t.AppUser.select().where(t.AppUser.id == user_id).first().run()
        if user is None:
            raise DomainError("User {user_id} was not found.", user_id=user_id)
        if not user["active"]:
            raise DomainError("{email} is disabled; enable the account first.", email=user["email"])
        if user["password_hash"]:
            raise DomainError(
                "{email} has a password already; they can reset it from the sign-in page.",
                email=user["email"],
            )
        await (
            t.OneTimeLink.update({t.OneTimeLink.expires_at: uow.now})
            .where(
                (t.OneTimeLink.user_id == user_id)
                & (t.OneTimeLink.purpose == INVITE)
                & t.OneTimeLink.used_at.is_null()
            )
            .run()
        )
        token, expires_at = await issue_link(
            INVITE, user_id, actor.name, uow.now, timedelta(days=settings.invitation_days)
        )
        org = (
            await t.Organisation.select(t.Organisation.name)
            .where(t.Organisation.code == user["org"])
            .first()
            .run()
        )
        await uow.commit()
    link = invitation_url(settings, token)
    message = mail.compose(
        settings,
        to=user["email"],
        template="invitation",
        locale=user["locale"],
        time_zone=user["time_zone"],
        context={
            "name": user["display_name"],
            # The command line is nobody the invited person knows.
            "inviter": "" if actor.kind == ActorKind.SYSTEM else actor.name,
            "org_name": org["name"] if org else user["org"],
            "link": link,
            "expires_at": expires_at,
        },
    )
    mailed = await mail.deliver(settings, message)
    await audit.record(
        "invitation_sent",
        "ok" if mailed else "failed",
        user_id=user_id,
        email=user["email"],
        org=user["org"],
        detail={"by": actor.name, "mailed": mailed},
    )
    return Invitation(
        user_id=user_id, email=user["email"], link=link, expires_at=expires_at, mailed=mailed
    )


# --- The invitation's page ---------------------------------------------------------------------


MISMATCH = "mismatch"
"""The two passwords typed differ (the page says so in the reader's language)."""


class NewPassword(msgspec.Struct):
    password: str = ""
    password_confirm: str = ""


NewPasswordForm = Annotated[NewPassword, Body(media_type=RequestEncodingType.URL_ENCODED)]


def password_error(form: NewPassword, email: str, i18n: I18n) -> str | None:
    """What is wrong with the chosen password, or None: `MISMATCH`, or the message of the
    password rules in the reader's language."""
    if form.password != form.password_confirm:
        return MISMATCH
    try:
        check_password_rules(form.password, email)
    except DomainError as error:
        return i18n.explain(error)
    return None


async def _provider_of(org: str) -> dict[str, Any] | None:
    row = (
        await t.IdentityProvider.select(t.IdentityProvider.name)
        .where(
            (t.IdentityProvider.org == org) & (t.IdentityProvider.active == True)  # noqa: E712
        )
        .first()
        .run()
    )
    return row


async def _form(
    view: View, token: str, user: dict[str, Any], error: str | None = None
) -> Response[str]:
    return view.page(
        "auth/invitation.html",
        {
            "token": token,
            "user": user,
            "provider": await _provider_of(user["org"]),
            "problem": None,
            "error": error,
        },
        status_code=HTTPStatus.UNPROCESSABLE_ENTITY if error else HTTPStatus.OK,
    )


def problem_page(view: View, template: str, problem: LinkProblem) -> Response[str]:
    return view.page(template, {"problem": problem.value}, status_code=PROBLEM_STATUS[problem])


@get(f"{INVITATION_PATH}/{{token:str}}", name="invitation", include_in_schema=False, opt=public())
async def invitation_page(token: str, view: NamedDependency[View]) -> Response[str]:
    opened = await open_link(token, INVITE, utc_now())
    if isinstance(opened, LinkProblem):
        return problem_page(view, "auth/invitation.html", opened)
    return await _form(view, token, opened.user)


async def set_password_from_link(
    request: Request[Any, Any, Any],
    settings: Settings,
    db: Database,
    view: View,
    token: str,
    purpose: str,
    data: NewPasswordForm,
    *,
    template: str,
    form: Callable[[dict[str, Any], str], Awaitable[Response[str]]],
    recorded_as: tuple[str, str],
    detail: dict[str, str],
) -> Response[Any]:
    """The answer to an invitation or reset form: the link and the new password checked, the
    password set and the link spent in one transaction (a reset also ends every session), the
    change audited (`recorded_as`: the audit kind and path), and the user signed in. `form`
    shows the form again with an error."""
    opened = await open_link(token, purpose, utc_now())
    if isinstance(opened, LinkProblem):
        return problem_page(view, template, opened)
    error = password_error(data, opened.user["email"], view.i18n)
    if error:
        return await form(opened.user, error)
    user = await redeem_with_password(
        db, token, purpose, data.password, end_sessions=purpose == RESET
    )
    if isinstance(user, LinkProblem):
        return problem_page(view, template, user)
    kind, path = recorded_as
    await audit.record(
        kind,
        "ok",
        user_id=user["id"],
        email=user["email"],
        org=user["org"],
        ip=client_address(request),
        path=path,
        detail=detail,
    )
    return await sessions.signed_in(request, settings, user, "password", "/")


@post(f"{INVITATION_PATH}/{{token:str}}", include_in_schema=False, opt=public())
async def accept_invitation(
    request: Request[Any, Any, Any],
    token: str,
    data: NewPasswordForm,
    view: NamedDependency[View],
    settings: NamedDependency[Settings],
    db: NamedDependency[Database],
) -> Response[Any]:
    async def form(user: dict[str, Any], error: str) -> Response[str]:
        return await _form(view, token, user, error)

    return await set_password_from_link(
        request,
        settings,
        db,
        view,
        token,
        INVITE,
        data,
        template="auth/invitation.html",
        form=form,
        recorded_as=("invitation_accepted", INVITATION_PATH),
        detail={"with": "password"},
    )


ROUTES = [invitation_page, accept_invitation]
