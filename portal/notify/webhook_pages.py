"""The webhook pages (/notifications/webhooks, scope `notify`): subscribe URLs, rotate the
secret, enable and disable, and read the delivery log with a "resend" button.

A supplier's or customer's people manage their own organisation's endpoints; our staff read
every organisation's, and our administrators change them (see `services.webhooks`). Forms post
without JavaScript and answer with a 303; a refused form is shown again with its message and
what was typed. A secret appears once, on the page that answers its creation or rotation.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

import msgspec
from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from portal.auth import scopes as s
from portal.auth.guards import requires
from portal.db.repositories import Organisations
from portal.domain.actors import Actor
from portal.domain.errors import DomainError, NotFound
from portal.domain.events import Event
from portal.notify.webhooks import KINDS_BY_ORG_KIND
from portal.services import webhooks as service
from portal.services.unit_of_work import UnitOfWork
from portal.settings import Settings
from portal.web.i18n import I18n
from portal.web.rendering import View
from portal.web.timeline import Entry, Fact

WEBHOOKS = "/notifications/webhooks"
ONE = WEBHOOKS + "/{webhook_id:int}"
NO_STORE = {"Cache-Control": "no-store"}
FIELD_LABELS = {
    "url": "URL",
    "description": "Description",
    "kinds": "Event kinds",
    "active": "Active",
}


class WebhookForm(msgspec.Struct):
    url: str = ""
    description: str = ""
    kinds: str | list[str] = ""
    org: str = ""
    version: int | None = None


class VersionForm(msgspec.Struct):
    """The version the person saw: an action on a webhook changed since is refused."""

    version: int


def _many(value: str | list[str]) -> tuple[str, ...]:
    """Checkboxes: sent once, many times, or not at all."""
    return tuple(value) if isinstance(value, list) else ((value,) if value else ())


def _refused(i18n: I18n, error: DomainError) -> str:
    """A refusal shown next to its form; an unknown record stays the 404 it is."""
    if isinstance(error, NotFound):
        raise error
    return i18n.explain(error)


def _see_other(path: str) -> Response[Any]:
    return Redirect(path, status_code=303)


async def _org_kind(org: str) -> str:
    return await Organisations().kind_of(org) or ""


def _history_entry(event: Event, i18n: I18n) -> Entry:
    _ = i18n.gettext
    data = event.data
    facts: list[Fact] = []
    for key in ("url",):
        if data.get(key):
            facts.append(Fact(_(FIELD_LABELS[key]), str(data[key])))
    before, after = data.get("before") or {}, data.get("after") or {}
    for key in dict.fromkeys([*after, *before]):
        label = _(FIELD_LABELS.get(key, key))

        def shown(value: Any) -> str:
            if isinstance(value, bool):
                return _("yes") if value else _("no")
            return str(value) if value not in (None, "") else "—"

        was = shown(before[key]) if key in before else None
        facts.append(Fact(label, shown(after.get(key)), was))
    if data.get("reason"):
        facts.append(Fact(_("Reason"), str(data["reason"])))
    if data.get("previous_secret_until"):
        facts.append(
            Fact(_("Previous secret signs until"), i18n.datetime(data["previous_secret_until"]))
        )
    resent = data.get("resent")
    if resent:
        facts.append(Fact(_("Delivery resent"), f"#{resent.get('delivery')} {resent.get('kind')}"))
    name = str(event.actor.get("name") or "")
    if event.actor.get("kind") == "system":
        name = _("Portal (automatic)")
    return Entry(
        seq=event.seq,
        at=event.at,
        actor=name,
        via=i18n.via(event.via.value),
        kind=event.kind,
        title=i18n.event_kind(event.kind),
        facts=facts,
    )


# --- The list, and subscribing -----------------------------------------------------------------


async def _list_page(
    view: View, actor: Actor, form: WebhookForm, error: str | None = None
) -> Response[str]:
    own = actor.org or ""
    kinds = KINDS_BY_ORG_KIND.get(await _org_kind(own), ())
    return view.page(
        "notify/webhooks.html",
        {
            "webhooks": await service.endpoints(actor),
            "may_create": service.may_manage(actor, own),
            "internal": actor.side.value == "internal",
            "kinds": kinds,
            "chosen": _many(form.kinds),
            "form": form,
            "error": error,
        },
        status_code=HTTPStatus.UNPROCESSABLE_ENTITY if error else HTTPStatus.OK,
    )


@get(WEBHOOKS, name="webhooks", include_in_schema=False, opt=requires(s.NOTIFY))
async def webhooks_list(
    view: NamedDependency[View], actor: NamedDependency[Actor]
) -> Response[str]:
    return await _list_page(view, actor, WebhookForm())


def _secret_page(view: View, issued: service.IssuedWebhookSecret, rotated: bool) -> Response[str]:
    page = view.page(
        "notify/webhooks_secret.html",
        {"webhook": issued.endpoint, "secret": issued.secret, "rotated": rotated},
    )
    page.headers.update(NO_STORE)
    return page


@post(WEBHOOKS, include_in_schema=False, opt=requires(s.NOTIFY))
async def create_webhook(
    data: Annotated[WebhookForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    uow: NamedDependency[UnitOfWork],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    command = service.CreateWebhook(
        url=data.url, kinds=_many(data.kinds), description=data.description, org=data.org
    )
    try:
        issued = await service.create_webhook(uow, settings, actor, command)
    except DomainError as error:
        return await _list_page(view, actor, data, _refused(view.i18n, error))
    return _secret_page(view, issued, rotated=False)


# --- One endpoint ------------------------------------------------------------------------------


async def _page(
    view: View,
    actor: Actor,
    webhook_id: int,
    form: WebhookForm | None = None,
    error: str | None = None,
) -> Response[str]:
    found = await service.endpoint(actor, webhook_id)
    kinds = KINDS_BY_ORG_KIND.get(await _org_kind(found.org), ())
    form = form or WebhookForm(
        url=found.url,
        description=found.description,
        kinds=list(found.kinds),
        version=found.version,
    )
    return view.page(
        "notify/webhooks_one.html",
        {
            "webhook": found,
            "may_manage": service.may_manage(actor, found.org),
            "kinds": kinds,
            "chosen": _many(form.kinds),
            "form": form,
            "error": error,
            "history": [
                _history_entry(event, view.i18n)
                for event in await service.history(actor, webhook_id)
            ],
        },
        status_code=HTTPStatus.UNPROCESSABLE_ENTITY if error else HTTPStatus.OK,
    )


@get(ONE, name="webhook", include_in_schema=False, opt=requires(s.NOTIFY))
async def webhook(
    webhook_id: int, view: NamedDependency[View], actor: NamedDependency[Actor]
) -> Response[str]:
    return await _page(view, actor, webhook_id)


@post(ONE, include_in_schema=False, opt=requires(s.NOTIFY))
async def update_webhook(
    webhook_id: int,
    data: Annotated[WebhookForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    uow: NamedDependency[UnitOfWork],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    command = service.UpdateWebhook(
        endpoint_id=webhook_id,
        version=data.version,
        url=data.url,
        kinds=_many(data.kinds),
        description=data.description,
    )
    try:
        await service.update_webhook(uow, settings, actor, command)
    except DomainError as error:
        return await _page(view, actor, webhook_id, data, _refused(view.i18n, error))
    return _see_other(f"{WEBHOOKS}/{webhook_id}")


@post(ONE + "/rotate", include_in_schema=False, opt=requires(s.NOTIFY))
async def rotate_secret(
    webhook_id: int,
    data: Annotated[VersionForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    uow: NamedDependency[UnitOfWork],
) -> Response[Any]:
    try:
        issued = await service.rotate_secret(
            uow, actor, service.RotateWebhookSecret(webhook_id, data.version)
        )
    except DomainError as error:
        return await _page(view, actor, webhook_id, error=_refused(view.i18n, error))
    return _secret_page(view, issued, rotated=True)


@post(ONE + "/enable", include_in_schema=False, opt=requires(s.NOTIFY))
async def enable_webhook(
    webhook_id: int,
    data: Annotated[VersionForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    uow: NamedDependency[UnitOfWork],
) -> Response[Any]:
    try:
        await service.enable_webhook(uow, actor, service.EnableWebhook(webhook_id, data.version))
    except DomainError as error:
        return await _page(view, actor, webhook_id, error=_refused(view.i18n, error))
    return _see_other(f"{WEBHOOKS}/{webhook_id}")


@post(ONE + "/disable", include_in_schema=False, opt=requires(s.NOTIFY))
async def disable_webhook(
    webhook_id: int,
    data: Annotated[VersionForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    uow: NamedDependency[UnitOfWork],
) -> Response[Any]:
    try:
        await service.disable_webhook(uow, actor, service.DisableWebhook(webhook_id, data.version))
    except DomainError as error:
        return await _page(view, actor, webhook_id, error=_refused(view.i18n, error))
    return _see_other(f"{WEBHOOKS}/{webhook_id}")


@post(ONE + "/delete", include_in_schema=False, opt=requires(s.NOTIFY))
async def delete_webhook(
    webhook_id: int,
    data: Annotated[VersionForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    uow: NamedDependency[UnitOfWork],
) -> Response[Any]:
    try:
        await service.delete_webhook(uow, actor, service.DeleteWebhook(webhook_id, data.version))
    except DomainError as error:
        return await _page(view, actor, webhook_id, error=_refused(view.i18n, error))
    return _see_other(WEBHOOKS)


# --- The delivery log --------------------------------------------------------------------------


async def _log_page(
    view: View, actor: Actor, webhook_id: int, error: str | None = None
) -> Response[str]:
    found = await service.endpoint(actor, webhook_id)
    return view.page(
        "notify/webhooks_deliveries.html",
        {
            "webhook": found,
            "may_manage": service.may_manage(actor, found.org),
            "deliveries": await service.deliveries(actor, webhook_id),
            "error": error,
        },
        status_code=HTTPStatus.UNPROCESSABLE_ENTITY if error else HTTPStatus.OK,
    )


@get(
    ONE + "/deliveries", name="webhook-deliveries", include_in_schema=False, opt=requires(s.NOTIFY)
)
async def deliveries(
    webhook_id: int, view: NamedDependency[View], actor: NamedDependency[Actor]
) -> Response[str]:
    return await _log_page(view, actor, webhook_id)


@post(ONE + "/deliveries/{delivery_id:int}/resend", include_in_schema=False, opt=requires(s.NOTIFY))
async def resend(
    webhook_id: int,
    delivery_id: int,
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    uow: NamedDependency[UnitOfWork],
) -> Response[Any]:
    try:
        await service.resend(uow, actor, service.ResendDelivery(webhook_id, delivery_id))
    except DomainError as error:
        return await _log_page(view, actor, webhook_id, _refused(view.i18n, error))
    return _see_other(f"{WEBHOOKS}/{webhook_id}/deliveries")


ROUTES = [
    webhooks_list,
    create_webhook,
    webhook,
    update_webhook,
    rotate_secret,
    enable_webhook,
    disable_webhook,
    delete_webhook,
    deliveries,
    resend,
]
"""The webhook pages, under /notifications/webhooks."""
