"""Sign-in by password, the web front's callback, and sign-out.

A wrong e-mail and a wrong password get the same answer (and take as long), so the form does
not tell which accounts exist. Attempts are rate-limited per e-mail and address.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import Parameter
from litestar.response import Redirect

from portal.auth import audit, sessions
from portal.auth.grants import CALLBACK_PATH
from portal.auth.guards import SIGN_IN_PATH, client_address, public
from portal.auth.passwords import verify_password_async
from portal.auth.sessions import FlowFailed
from portal.db import auth_store
from portal.settings import Settings
from portal.web.ratelimit import enforce
from portal.web.rendering import View

WRONG_CREDENTIALS = "The e-mail address or the password is wrong."
FLOW_FAILED = "The sign-in could not be completed. Please sign in again."


@get(SIGN_IN_PATH, include_in_schema=False, opt=public())
async def sign_in_form(view: NamedDependency[View], next: str = "/") -> Response[str]:
    return view.page(
        "auth/sign_in.html", {"next": sessions.safe_next(next), "email": "", "error": None}
    )


@post(SIGN_IN_PATH, include_in_schema=False, opt=public())
async def sign_in(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    form = await request.form()
    email = str(form.get("email", "")).strip()
    password = str(form.get("password", ""))
    next_url = sessions.safe_next(str(form.get("next", "/")))
    await enforce(request, "sign_in", email.lower())
    user = await auth_store.user_by_email(email) if email else None
    good = await verify_password_async(user["password_hash"] if user else None, password)
    if user is None or not good or not user["active"]:
        reason = "unknown_email" if user is None else "wrong_password" if not good else "inactive"
        await audit.record(
            "sign_in_failed",
            "failed",
            user_id=user["id"] if user else None,
            email=email,
            org=user["org"] if user else "",
            ip=client_address(request),
            path=request.url.path,
            detail={"reason": reason},
        )
        return view.page(
            "auth/sign_in.html",
            {"next": next_url, "email": email, "error": WRONG_CREDENTIALS},
            status_code=400,
        )
    return await sessions.signed_in(request, settings, user, "password", next_url)


@get(CALLBACK_PATH, include_in_schema=False, opt=public())
async def callback(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    settings: NamedDependency[Settings],
    code: str = "",
    flow_state: Annotated[str, Parameter(query="state")] = "",
    error: str = "",
) -> Response[Any]:
    """Where our own authorization server sends the browser back with the code."""
    try:
        if error or not code:
            raise FlowFailed("The sign-in was not completed. Please sign in again.")
        return await sessions.complete_flow(request, settings, code, flow_state)
    except FlowFailed as failure:
        await audit.record(
            "sign_in_failed",
            "failed",
            ip=client_address(request),
            path=request.url.path,
            detail={"reason": str(failure)},
        )
        return view.page(
            "auth/sign_in.html",
            {"next": "/", "email": "", "error": FLOW_FAILED},
            status_code=400,
        )


@post("/sign-out", include_in_schema=False, opt=public())
async def sign_out(request: Request[Any, Any, Any]) -> Response[Any]:
    ended = await sessions.sign_out(request)
    if ended is not None:
        await audit.record(
            "signed_out",
            "ok",
            user_id=ended["user_id"],
            ip=client_address(request),
            path=request.url.path,
        )
    response = Redirect(SIGN_IN_PATH, status_code=303)
    sessions.clear_session_cookie(response)
    return response


ROUTES = [sign_in_form, sign_in, callback, sign_out]
