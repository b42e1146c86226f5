"""Actionable e-mail for suppliers: the new-order mail carries an "accept" and a "view" link.

Both links hold one token: a JWT (HS256, a key derived from the portal's secret, signed with
joserfc — the JOSE library Authlib now delegates to, which the portal's other tokens use)
naming the purchase order, the supplier's user, the order's version when the mail was written,
a unique id (`jti`) and the scopes the link grants (`po:read`, `po:acknowledge`), expiring
after `settings.action_link_days`. The token is the credential, so the routes are public, but
it reaches exactly one order as exactly one user, and only while that user is active and may
still read and acknowledge it:

- GET  /email-actions/{token}       a confirmation page (the order's lines and need dates) with
                                    an "Accept" button. Nothing happens on GET: mail scanners
                                    and link previews open links by themselves.
- POST /email-actions/{token}       accepts the order as that user, via "e-mail link", at the
                                    version the mail showed (changed since → explained, nothing
                                    done). The link's `jti` is recorded in `used_link` in the same
                                    transaction as the acknowledgement (`UnitOfWork.also`), so it
                                    works once; two clicks at once give one acknowledgement.
- GET  /email-actions/{token}/view  the order, read-only, without signing in, while the token
                                    has not expired (also after it was used to accept: reading
                                    is what the supplier does next).

A refused link (forged or altered, expired, used, its user disabled, the order changed or no
longer open for an answer) gets a page that says why, in the user's language, and changes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from portal.auth import scopes as s
from portal.auth.guards import public
from portal.auth.principal import Principal, user_principal
from portal.db import tables as t
from portal.db import timeline
from portal.db.po_detail import PODetail, purchase_order_detail
from portal.domain.actors import Side, Via
from portal.domain.errors import Conflict, DomainError, NotFound
from portal.domain.events import po_stream
from portal.domain.states import PO_TRANSITIONS, POMove, POStatus
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge
from portal.services.unit_of_work import UnitOfWork, utc_now
from portal.settings import Settings
from portal.web.i18n import LANG_COOKIE, LANG_PARAM, I18n, choose_locale, match_locale
from portal.web.rendering import View
from portal.web.timeline import entries

AUDIENCE = "portal-email-action"
ALGORITHM = "HS256"
PREFIX = "/email-actions"
PURPOSE = "po-email-action"
"""`used_link.purpose` of a used accept link."""
GRANTED = (s.PO_READ, s.PO_ACKNOWLEDGE)
CLIENT_ID = "email-action"
"""The principal's client id: the link, not a session or an OAuth client."""


@dataclass(frozen=True, slots=True)
class ActionLinks:
    accept: str
    view: str


@dataclass(frozen=True, slots=True)
class ActionToken:
    po: str
    user: int
    version: int
    jti: str
    scope: tuple[str, ...]


class Refusal(StrEnum):
    """Why a link does nothing; templates/notify/email_action_refused.html has the words."""

    FORGED = "forged"
    EXPIRED = "expired"
    USED = "used"
    DISABLED = "disabled"
    NOT_FOUND = "not_found"
    CHANGED = "changed"
    CLOSED = "closed"
    """The order is no longer waiting for an answer (accepted, rejected, cancelled...)."""


STATUS = {
    Refusal.FORGED: HTTPStatus.BAD_REQUEST,
    Refusal.EXPIRED: HTTPStatus.GONE,
    Refusal.USED: HTTPStatus.GONE,
    Refusal.DISABLED: HTTPStatus.FORBIDDEN,
    Refusal.NOT_FOUND: HTTPStatus.NOT_FOUND,
    Refusal.CHANGED: HTTPStatus.CONFLICT,
    Refusal.CLOSED: HTTPStatus.CONFLICT,
}


class LinkRefused(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


# --- tokens ------------------------------------------------------------------------------------


def _key(settings: Settings) -> OctKey:
    # A key derived for these links only: no other token of the portal verifies with it.
    return OctKey.import_key(f"email-action:{settings.secret()}".encode())


def action_token(
    settings: Settings, po_number: str, user_id: int, version: int, jti: str, now: datetime
) -> str:
    expires = now + timedelta(days=settings.action_link_days)
    claims = {
        "aud": AUDIENCE,
        "iss": settings.issuer,
        "po": po_number,
        "user": user_id,
        "version": version,
        "jti": jti,
        "scope": list(GRANTED),
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
    }
    return jwt.encode(
        {"alg": ALGORITHM, "typ": "JWT"}, claims, _key(settings), algorithms=[ALGORITHM]
    )


def action_links(
    settings: Settings, po_number: str, user_id: int, version: int, jti: str, now: datetime
) -> ActionLinks:
    """The accept and view links of one new-order e-mail to one supplier user (contract 5).
    `jti` must be unique per mail: it is what makes the accept link single-use."""
    token = quote(action_token(settings, po_number, user_id, version, jti, now), safe="")
    accept = f"{settings.issuer}{PREFIX}/{token}"
    return ActionLinks(accept=accept, view=f"{accept}/view")


def read_token(settings: Settings, token: str, now: datetime) -> ActionToken:
    """The token's claims; LinkRefused(FORGED) unless this portal signed it for an e-mail
    action, LinkRefused(EXPIRED) once it has expired."""
    try:
        claims = jwt.decode(token, _key(settings), algorithms=[ALGORITHM]).claims
    except (JoseError, ValueError):
        raise LinkRefused(Refusal.FORGED) from None
    po, user, version, jti = (claims.get(name) for name in ("po", "user", "version", "jti"))
    scope, exp = claims.get("scope"), claims.get("exp")
    if (
        claims.get("aud") != AUDIENCE
        or claims.get("iss") != settings.issuer
        or not isinstance(po, str)
        or not isinstance(user, int)
        or not isinstance(version, int)
        or not isinstance(jti, str)
        or not 0 < len(jti) <= 64
        or not isinstance(scope, list)
        or not isinstance(exp, int)
    ):
        raise LinkRefused(Refusal.FORGED)
    if exp <= now.timestamp():
        raise LinkRefused(Refusal.EXPIRED)
    return ActionToken(po, user, version, jti, tuple(str(item) for item in scope))


# --- who the link acts as ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Holder:
    """The link's user, as a principal limited to what the link grants."""

    token: ActionToken
    principal: Principal
    user: dict[str, Any]


async def holder(settings: Settings, raw: str, *, needs: str) -> Holder:
    token = read_token(settings, raw, utc_now())
    user = await t.AppUser.select().where(t.AppUser.id == token.user).first().run()
    if user is None or not user["active"]:
        raise LinkRefused(Refusal.DISABLED)
    principal = user_principal(
        user,
        scopes=frozenset(token.scope) & frozenset(GRANTED),
        client_id=CLIENT_ID,
        via=Via.EMAIL,
    )
    # The role may have changed since the mail: the link grants no more than the role allows.
    if principal.actor.side != Side.SUPPLIER or not principal.holds(needs):
        raise LinkRefused(Refusal.DISABLED)
    return Holder(token, principal, user)


async def _used(jti: str) -> bool:
    return bool(await t.UsedLink.exists().where(t.UsedLink.jti == jti).run())


def _claim(jti: str) -> Any:
    """Record the link as used, inside the acknowledgement's transaction."""

    async def claim(uow: UnitOfWork) -> None:
        if await _used(jti):
            raise LinkRefused(Refusal.USED)
        await t.UsedLink.insert(t.UsedLink(jti=jti, purpose=PURPOSE, used_at=uow.now)).run()

    return claim


def _answerable(po: PODetail, token: ActionToken) -> None:
    if po.version != token.version:
        raise LinkRefused(Refusal.CHANGED)
    if (POStatus(po.stored_status), POMove.ACCEPT) not in PO_TRANSITIONS:
        raise LinkRefused(Refusal.CLOSED)


# --- pages -------------------------------------------------------------------------------------


def _view_for(
    request: Request[Any, Any, Any], view: View, settings: Settings, found: Holder | None
) -> View:
    """The page in the link's user's language and time zone (a language picked on the page
    wins), since the link is opened without signing in."""
    if found is None:
        return view
    asked = request.query_params.get(LANG_PARAM)
    code = choose_locale(
        query=asked,
        cookie=request.cookies.get(LANG_COOKIE),
        header=None,
        default=settings.default_locale,
        preferred=None if asked else found.user["locale"],
    )
    i18n = I18n(
        code,
        found.user["time_zone"] or settings.time_zone,
        remember=bool(asked and match_locale([asked])),
    )
    return View(request, view.env, i18n)


def _refused(view: View, reason: Refusal, token: str | None = None) -> Response[str]:
    return view.page(
        "notify/email_action_refused.html",
        {"reason": reason.value, "view_path": f"{PREFIX}/{token}/view" if token else None},
        status_code=STATUS[reason],
    )


async def _order_page(
    view: View, found: Holder, raw: str, template: str, **context: Any
) -> Response[str]:
    po = await purchase_order_detail(found.principal.actor, found.token.po)
    events = [
        event
        for event in await timeline.read(found.principal.actor, po_stream(po.number))
        if Side.SUPPLIER in event.audience
    ]
    return view.page(
        template,
        {
            "po": po,
            "timeline": entries(events, view.i18n),
            "action_path": f"{PREFIX}/{quote(raw, safe='')}",
            "view_path": f"{PREFIX}/{quote(raw, safe='')}/view",
            "portal_path": f"/supplier/purchase-orders/{quote(po.number, safe='')}",
            "confirm": False,
            "accepted": False,
            **context,
        },
    )


@get(f"{PREFIX}/{{token:str}}", name="email-action", include_in_schema=False, opt=public())
async def confirm(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    settings: NamedDependency[Settings],
    token: FromPath[str],
) -> Response[str]:
    """The confirmation page: what accepting means, and the button that does it."""
    found: Holder | None = None
    try:
        found = await holder(settings, token, needs=s.PO_ACKNOWLEDGE)
        page = _view_for(request, view, settings, found)
        if await _used(found.token.jti):
            raise LinkRefused(Refusal.USED)
        po = await purchase_order_detail(found.principal.actor, found.token.po)
        _answerable(po, found.token)
    except NotFound:
        return _refused(_view_for(request, view, settings, found), Refusal.NOT_FOUND)
    except LinkRefused as refused:
        return _refused(
            _view_for(request, view, settings, found), refused.reason, _safe(token, found)
        )
    return await _order_page(page, found, token, "notify/email_action.html", confirm=True)


@post(f"{PREFIX}/{{token:str}}", name="email-action-accept", include_in_schema=False, opt=public())
async def accept(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    settings: NamedDependency[Settings],
    uow: NamedDependency[UnitOfWork],
    token: FromPath[str],
) -> Response[str]:
    """Accept the order as the link's user; once only."""
    found: Holder | None = None
    try:
        found = await holder(settings, token, needs=s.PO_ACKNOWLEDGE)
        if await _used(found.token.jti):
            raise LinkRefused(Refusal.USED)
        uow.also(_claim(found.token.jti))
        command = Acknowledge(found.token.po, found.token.version, Decision.ACCEPT)
        try:
            await acknowledge(uow, found.principal.actor, command)
        except Conflict:
            # Two clicks at once: the other one accepted the order (and used the link) first.
            raise LinkRefused(
                Refusal.USED if await _used(found.token.jti) else Refusal.CHANGED
            ) from None
        except NotFound:
            raise
        except DomainError:
            raise LinkRefused(Refusal.CLOSED) from None
        except LinkRefused:
            raise
        except Exception:
            # The unique `jti` refused a second insert the checks above did not stop: the
            # link was used meanwhile. Anything else is a real error.
            if await _used(found.token.jti):
                raise LinkRefused(Refusal.USED) from None
            raise
    except NotFound:
        return _refused(_view_for(request, view, settings, found), Refusal.NOT_FOUND)
    except LinkRefused as refused:
        return _refused(
            _view_for(request, view, settings, found), refused.reason, _safe(token, found)
        )
    page = _view_for(request, view, settings, found)
    return await _order_page(page, found, token, "notify/email_action.html", accepted=True)


@get(
    f"{PREFIX}/{{token:str}}/view",
    name="email-action-view",
    include_in_schema=False,
    opt=public(),
)
async def view_order(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    settings: NamedDependency[Settings],
    token: FromPath[str],
) -> Response[str]:
    """The order, read-only, for as long as the link lives."""
    found: Holder | None = None
    try:
        found = await holder(settings, token, needs=s.PO_READ)
        page = _view_for(request, view, settings, found)
        return await _order_page(page, found, token, "notify/email_action.html")
    except NotFound:
        return _refused(_view_for(request, view, settings, found), Refusal.NOT_FOUND)
    except LinkRefused as refused:
        return _refused(_view_for(request, view, settings, found), refused.reason)


def _safe(token: str, found: Holder | None) -> str | None:
    """The token again for the "view the order" link of a refusal page: only when it is
    genuine (a used or changed link still shows the order; a forged one shows nothing)."""
    return quote(token, safe="") if found is not None else None


ROUTES = [confirm, accept, view_order]
