"""Password reset: ask for a link by e-mail, choose a new password through it.

The request page answers the same whether or not an account has that address, and the mail
goes out after the response (a background task), so neither the answer nor its timing tells
which addresses have accounts. Requests are rate-limited per address and e-mail. Choosing the
new password ends every session and token family the user had, then signs them in afresh.
"""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from piccolo.query.functions.string import Lower

from portal.auth import audit
from portal.auth.guards import client_address, public
from portal.auth.invitations import (
    RESET,
    LinkProblem,
    NewPasswordForm,
    issue_link,
    open_link,
    problem_page,
    set_password_from_link,
)
from portal.db import tables as t
from portal.db.database import Database
from portal.notify import mail
from portal.services.unit_of_work import UnitOfWork, utc_now
from portal.settings import Settings
from portal.web.ratelimit import enforce
from portal.web.rendering import View

RESET_PATH = "/password-reset"


class ResetRequest(msgspec.Struct):
    email: str = ""


async def _mail_link(settings: Settings, user: dict[str, Any], token: str, expires: Any) -> None:
    message = mail.compose(
        settings,
        to=user["email"],
        template="reset",
        locale=user["locale"],
        time_zone=user["time_zone"],
        context={
            "name": user["display_name"],
            "link": f"{settings.base_url.rstrip('/')}{RESET_PATH}/{token}",
            "expires_at": expires,
        },
    )
    await mail.deliver(settings, message)


@get(RESET_PATH, name="password-reset", include_in_schema=False, opt=public())
async def request_page(view: NamedDependency[View]) -> Response[str]:
    return view.page("auth/reset_request.html", {"sent": False, "email": "", "missing": False})


@post(RESET_PATH, include_in_schema=False, opt=public())
async def request_link(
    request: Request[Any, Any, Any],
    data: Annotated[ResetRequest, Body(media_type=RequestEncodingType.URL_ENCODED)],
    view: NamedDependency[View],
    settings: NamedDependency[Settings],
    db: NamedDependency[Database],
) -> Response[str]:
    email = data.email.strip().lower()
    if not email:
        return view.page(
            "auth/reset_request.html",
            {"sent": False, "email": "", "missing": True},
            status_code=HTTPStatus.UNPROCESSABLE_ENTITY,
        )
    await enforce(request, "password_reset", email)
    user = await t.AppUser.select().where(Lower(t.AppUser.email) == email).first().run()
    response = view.page(
        "auth/reset_request.html", {"sent": True, "email": email, "missing": False}
    )
    if user is None or not user["active"]:
        await audit.record(
            "password_reset_requested",
            "failed",
            email=email,
            ip=client_address(request),
            path=RESET_PATH,
            detail={"reason": "no such account" if user is None else "account disabled"},
        )
        return response
    async with UnitOfWork(db) as uow:
        token, expires = await issue_link(
            RESET, user["id"], "self", uow.now, timedelta(minutes=settings.reset_minutes)
        )
        await uow.commit()
    await audit.record(
        "password_reset_requested",
        "ok",
        user_id=user["id"],
        email=user["email"],
        org=user["org"],
        ip=client_address(request),
        path=RESET_PATH,
    )
    response.background = BackgroundTask(_mail_link, settings, user, token, expires)
    return response


@get(
    f"{RESET_PATH}/{{token:str}}", name="password-reset-link", include_in_schema=False, opt=public()
)
async def reset_page(token: str, view: NamedDependency[View]) -> Response[str]:
    opened = await open_link(token, RESET, utc_now())
    if isinstance(opened, LinkProblem):
        return problem_page(view, "auth/reset.html", opened)
    return view.page("auth/reset.html", {"token": token, "problem": None, "error": None})


@post(f"{RESET_PATH}/{{token:str}}", include_in_schema=False, opt=public())
async def choose_password(
    request: Request[Any, Any, Any],
    token: str,
    data: NewPasswordForm,
    view: NamedDependency[View],
    settings: NamedDependency[Settings],
    db: NamedDependency[Database],
) -> Response[Any]:
    async def form(user: dict[str, Any], error: str) -> Response[str]:
        return view.page(
            "auth/reset.html",
            {"token": token, "problem": None, "error": error},
            status_code=HTTPStatus.UNPROCESSABLE_ENTITY,
        )

    return await set_password_from_link(
        request,
        settings,
        db,
        view,
        token,
        RESET,
        data,
        template="auth/reset.html",
        form=form,
        recorded_as=("password_reset", RESET_PATH),
        detail={"sessions": "ended"},
    )


ROUTES = [request_page, request_link, reset_page, choose_password]
