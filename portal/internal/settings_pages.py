"""The business settings for our administrators: alert thresholds per rule, the tolerance
rules, the change request decision time and the handling days (/admin/settings), and the same
over the API (GET/PUT /api/v1/settings, ETag/If-Match).

Saving runs `portal.services.settings.change_settings`: all or nothing, version-checked, one
`settings.changed` event on our organisation's timeline. The new values apply to the next
command in every process (each unit of work reads them when it begins).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get, post, put
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType, ScopeType
from litestar.handlers import HTTPRouteHandler
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath
from litestar.response import Redirect
from msgspec import Meta

from portal.auth import scopes as s
from portal.auth.guards import PUBLIC_KEY, requires
from portal.db import reason_store, rule_store
from portal.domain.actors import Actor
from portal.domain.errors import Conflict, DomainError, NotFound
from portal.domain.orders import REASON_CODES
from portal.i18n import translations
from portal.i18n.labels import ALERT_RULES, N_, REASONS
from portal.services import reason_codes as reason_service
from portal.services import settings as service
from portal.services.accounts import require_admin
from portal.services.unit_of_work import UnitOfWork
from portal.web import api
from portal.web.api import ApiProblem, FieldError
from portal.web.rendering import View

SETTINGS = "/admin/settings"
API_PATH = "/api/v1/settings"

RULE_EXPLAINED: dict[str, str] = {
    "po_unacknowledged": N_(
        "An issued purchase order the supplier has not acknowledged: counted from when it "
        "was issued."
    ),
    "promise_after_need": N_(
        "A line promised for after its need date: counted from the need date's end, as soon "
        "as the promise shows it will be late."
    ),
    "promise_passed_unshipped": N_(
        "A promised date has passed and part of the line is still not shipped: counted from "
        "the end of the promised day."
    ),
    "shipment_overdue": N_(
        "A shipment past its expected arrival with nothing received: counted from the "
        "expected arrival."
    ),
    "cr_overdue": N_(
        "A change request still undecided after its decision time: counted from when it was due."
    ),
    "so_late": N_(
        "A sales order line expected later than the customer asked: counted from the "
        "requested date's end."
    ),
}
"""Each alert rule in words, for the thresholds form."""


def _rules() -> list[dict[str, str]]:
    return [
        {
            "rule": rule,
            "name": ALERT_RULES.get(rule, rule),
            "explained": RULE_EXPLAINED.get(rule, ""),
            "hours": rule_store.alert_hours_key(rule),
            "escalate": rule_store.alert_escalate_key(rule),
        }
        for rule in rule_store.default_thresholds()
    ]


def _page(
    view: View,
    now: service.Current,
    *,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str = "",
    saved: bool = False,
    status_code: int = 200,
) -> Response[str]:
    return view.page(
        "internal/admin/settings.html",
        {
            "current": now,
            "typed": typed or {key: str(value) for key, value in now.values.items()},
            "errors": errors or {},
            "error": error,
            "saved": saved,
            "rules": _rules(),
            "keys": {
                "days": rule_store.TOLERANCE_DAYS,
                "qty": rule_store.TOLERANCE_QTY_PCT,
                "over": rule_store.OVER_DELIVERY_PCT,
                "sla": rule_store.CR_SLA_HOURS,
                "handling": rule_store.HANDLING_DAYS,
            },
        },
        status_code=status_code,
    )


@get(SETTINGS, name="admin-settings", include_in_schema=False, opt=requires(s.ADMIN))
async def settings_page(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    uow: NamedDependency[UnitOfWork],
) -> Response[str]:
    await require_admin(actor)
    now = await service.current(uow.base_rules)
    return _page(view, now, saved=request.query_params.get("saved") == "1")


@post(SETTINGS, include_in_schema=False, opt=requires(s.ADMIN))
async def save_settings(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    uow: NamedDependency[UnitOfWork],
) -> Response[Any]:
    await require_admin(actor)
    form = await request.form()
    typed = {key: str(form.get(key, "")).strip() for key in service.setting_keys()}
    version_text = str(form.get("version", "")).strip()
    values: dict[str, int] = {}
    errors: dict[str, str] = {}
    for key, text in typed.items():
        if text.isdigit() and len(text) <= 9:
            values[key] = int(text)
        else:
            errors[key] = view.i18n.explain(
                DomainError(
                    "{setting} must be a whole number of zero or more.",
                    setting=service.setting_name(key),
                )
            )
    base = uow.base_rules
    if errors or not version_text.isdigit():
        now = await service.current(base)
        message = (
            view.i18n.gettext("Nothing was saved: correct the values marked below.")
            if errors
            else view.i18n.gettext("The form is missing the settings' version; open it again.")
        )
        return _page(view, now, typed=typed, errors=errors, error=message, status_code=422)
    try:
        await service.change_settings(uow, actor, service.ChangeSettings(int(version_text), values))
    except Conflict:
        now = await service.current(base)
        message = view.i18n.gettext(
            "Someone changed the settings since you opened this page; these are the current "
            "values. Make your change again."
        )
        return _page(view, now, error=message, status_code=409)
    except service.InvalidSettings as invalid:
        now = await service.current(base)
        errors = {key: view.i18n.explain(problem) for key, problem in invalid.problems.items()}
        message = view.i18n.gettext("Nothing was saved: correct the values marked below.")
        return _page(view, now, typed=typed, errors=errors, error=message, status_code=422)
    return Redirect(f"{SETTINGS}?saved=1", status_code=303)


# --- API ---------------------------------------------------------------------------------------


class BusinessSettings(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    """The settings' version (also the ETag)."""
    values: dict[str, int]
    """Every setting as it applies now: "alert.<rule>.hours", "alert.<rule>.escalate_hours",
    "tolerance.max_date_move_days", "tolerance.max_qty_change_pct", "over_delivery_pct",
    "cr_sla_hours", "handling_days"."""
    defaults: dict[str, int]
    """What each setting is when no admin changed it."""


class SettingsChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    version: Annotated[int, Meta(ge=0)] | None = None
    """The settings' version the change is based on (or send If-Match)."""
    values: dict[str, int]
    """The settings to change; those not named keep their values."""


SETTINGS_CHANGE = Body(
    media_type=RequestEncodingType.JSON,
    description="The settings to change.",
    examples=[
        Example(
            summary="Allow 3-day moves, escalate unacknowledged orders after 48 hours",
            value={
                "version": 4,
                "values": {
                    "tolerance.max_date_move_days": 3,
                    "alert.po_unacknowledged.escalate_hours": 48,
                },
            },
        )
    ],
)


def _body(now: service.Current) -> BusinessSettings:
    return BusinessSettings(version=now.version, values=now.values, defaults=now.defaults)


@get(
    API_PATH,
    operation_id="getSettings",
    summary="Read the business settings",
    tags=["Settings"],
    security=[{"oauth2": [s.ADMIN]}],
    opt=requires(s.ADMIN),
    responses={
        200: ResponseSpec(
            data_container=BusinessSettings,
            description="The settings; ETag is their version.",
            generate_examples=False,
        ),
        **api.problem_responses(401, 403),
    },
)
async def get_settings(
    actor: NamedDependency[Actor],
    uow: NamedDependency[UnitOfWork],
    if_none_match: api.IfNoneMatch = None,
) -> Response[bytes]:
    """Alert thresholds, tolerance rules, change request decision time, handling days."""
    await require_admin(actor)
    now = await service.current(uow.base_rules)
    return api.read_response(_body(now), now.version, if_none_match)


@put(
    API_PATH,
    operation_id="changeSettings",
    summary="Change business settings",
    tags=["Settings"],
    security=[{"oauth2": [s.ADMIN]}],
    opt=requires(s.ADMIN),
    responses={
        200: ResponseSpec(
            data_container=BusinessSettings,
            description="Changed; ETag is the new version.",
            generate_examples=False,
        ),
        **api.problem_responses(400, 401, 403, 409, 422, 428),
    },
)
async def put_settings(
    write: NamedDependency[api.Write],
    data: Annotated[SettingsChange, SETTINGS_CHANGE],
    if_match: api.IfMatch = None,
) -> Response[bytes]:
    """Change some settings at once: all or nothing, version-checked (409 with the current
    settings when stale). They apply to the next command. Whole numbers of zero or more;
    percentages 0 to 100; an alert escalates no sooner than it is raised."""
    await require_admin(write.actor)
    version = write.version(data.version, if_match)
    base = write.uow.base_rules

    async def run() -> Response[bytes]:
        try:
            now = await service.change_settings(
                write.uow, write.actor, service.ChangeSettings(version, dict(data.values))
            )
        except service.InvalidSettings as invalid:
            errors = [
                FieldError(f"values.{key}", write.i18n.explain(problem))
                for key, problem in invalid.problems.items()
            ]
            raise api.invalid_request(write.i18n, errors) from invalid
        return api.json_response(_body(now), version=now.version)

    async def current(conflict: Conflict) -> ApiProblem:
        now = await service.current(base)
        return api.stale(write.i18n, conflict, _body(now), version=now.version)

    return await write.answer(run, on_conflict=current, based_on=version)


# --- Reason codes ------------------------------------------------------------------------------

REASON_CODES_PAGE = "/admin/reason-codes"
REASON_CODES_API = "/api/v1/reason-codes"


def default_reason_labels() -> dict[str, tuple[str, str]]:
    """Each built-in code's words as the catalogs have them: code -> (English, Chinese)."""
    english, chinese = translations("en"), translations("zh_CN")
    return {
        code: (english.gettext(REASONS[code]), chinese.gettext(REASONS[code]))
        for code in REASON_CODES
    }


async def reason_codes_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Every page and API call obeys the reason codes as admins left them (one small query):
    the lists, the forms' checks and the labels (`portal.domain.orders.reason_catalog`)."""
    if connection.scope["type"] != ScopeType.HTTP or handler.opt.get(PUBLIC_KEY):
        return  # sign-in, health, static files: no reason codes there
    await reason_store.activate()


async def _reason_codes_page(
    view: View,
    *,
    form: dict[str, str] | None = None,
    error: str = "",
    done: str = "",
    status_code: int = 200,
) -> Response[str]:
    return view.page(
        "internal/admin/reason_codes.html",
        {
            "codes": await reason_service.all_codes(default_reason_labels()),
            "form": form or {"code": "", "label_en": "", "label_zh": ""},
            "error": error,
            "done": done,
        },
        status_code=status_code,
    )


@get(REASON_CODES_PAGE, name="admin-reason-codes", include_in_schema=False, opt=requires(s.ADMIN))
async def reason_codes_page(
    request: Request[Any, Any, Any], view: NamedDependency[View], actor: NamedDependency[Actor]
) -> Response[str]:
    await require_admin(actor)
    return await _reason_codes_page(view, done=request.query_params.get("done", "")[:32])


@post(REASON_CODES_PAGE, include_in_schema=False, opt=requires(s.ADMIN))
async def add_reason_code(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    uow: NamedDependency[UnitOfWork],
) -> Response[Any]:
    await require_admin(actor)
    raw = await request.form()
    form = {name: str(raw.get(name, "")).strip() for name in ("code", "label_en", "label_zh")}
    try:
        added = await reason_service.add_reason_code(
            uow,
            actor,
            reason_service.AddReasonCode(form["code"], form["label_en"], form["label_zh"]),
        )
    except DomainError as error:
        return await _reason_codes_page(
            view, form=form, error=view.i18n.explain(error), status_code=422
        )
    return Redirect(f"{REASON_CODES_PAGE}?done={added.code}", status_code=303)


async def _change_code(
    request: Request[Any, Any, Any],
    view: View,
    actor: Actor,
    uow: UnitOfWork,
    code: str,
    active: bool | None,
) -> Response[Any]:
    await require_admin(actor)
    raw = await request.form()
    version = str(raw.get("version", "")).strip()
    label_en = None if active is not None else str(raw.get("label_en", ""))
    label_zh = None if active is not None else str(raw.get("label_zh", ""))
    try:
        if not version.isdigit():
            raise DomainError("The form is missing the reason code's version; open it again.")
        await reason_service.change_reason_code(
            uow,
            actor,
            reason_service.ChangeReasonCode(code, int(version), label_en, label_zh, active),
            default_reason_labels(),
        )
    except Conflict as error:
        return await _reason_codes_page(view, error=view.i18n.explain(error), status_code=409)
    except NotFound:
        raise
    except DomainError as error:
        return await _reason_codes_page(view, error=view.i18n.explain(error), status_code=422)
    return Redirect(f"{REASON_CODES_PAGE}?done={code}", status_code=303)


@post(REASON_CODES_PAGE + "/{code:str}", include_in_schema=False, opt=requires(s.ADMIN))
async def relabel_reason_code(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    uow: NamedDependency[UnitOfWork],
    code: FromPath[str],
) -> Response[Any]:
    return await _change_code(request, view, actor, uow, code, None)


@post(REASON_CODES_PAGE + "/{code:str}/deactivate", include_in_schema=False, opt=requires(s.ADMIN))
async def deactivate_reason_code(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    uow: NamedDependency[UnitOfWork],
    code: FromPath[str],
) -> Response[Any]:
    return await _change_code(request, view, actor, uow, code, False)


@post(REASON_CODES_PAGE + "/{code:str}/reactivate", include_in_schema=False, opt=requires(s.ADMIN))
async def reactivate_reason_code(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    uow: NamedDependency[UnitOfWork],
    code: FromPath[str],
) -> Response[Any]:
    return await _change_code(request, view, actor, uow, code, True)


class ReasonCodeItem(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    label_en: str
    label_zh: str
    built_in: bool


class ReasonCodeList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[ReasonCodeItem]
    """The codes that may be chosen now, in the order the pages offer them."""


@get(
    REASON_CODES_API,
    operation_id="listReasonCodes",
    summary="List the reason codes in use",
    tags=["Reason codes"],
    security=[{"oauth2": []}],
    opt=requires(*s.SCOPES),
    responses={
        200: ResponseSpec(
            data_container=ReasonCodeList,
            description="The codes in use, with their labels in English and Chinese.",
            generate_examples=False,
        ),
        **api.problem_responses(401, 403),
    },
)
async def list_reason_codes() -> Response[bytes]:
    """Why a promise moved or a change is asked for: the codes `reason_code` fields take now
    (admins add and retire codes), each labelled in both languages."""
    codes = await reason_service.all_codes(default_reason_labels())
    items = [
        ReasonCodeItem(
            code=found.code,
            label_en=found.label_en,
            label_zh=found.label_zh,
            built_in=found.built_in,
        )
        for found in codes
        if found.active
    ]
    return api.json_response(ReasonCodeList(items=items))


API_ROUTER = Router(
    "/",
    route_handlers=[get_settings, put_settings, list_reason_codes],
    dependencies={"write": Provide(api.provide_write, sync_to_thread=False)},
    exception_handlers=api.exception_handlers(),
)

ROUTES: list[HTTPRouteHandler | Router] = [
    settings_page,
    save_settings,
    reason_codes_page,
    add_reason_code,
    relabel_reason_code,
    deactivate_reason_code,
    reactivate_reason_code,
    API_ROUTER,
]
