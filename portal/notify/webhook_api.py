"""The webhooks API (/api/v1/webhooks, scope `notify`): an organisation's systems subscribe
their own URLs, rotate the signing secret, read the delivery log and resend a delivery.

The conventions (versions, problems, idempotency) are `portal.web.api`'s. Another
organisation's endpoint answers 404 on every route, as one that does not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, cast

import msgspec
from litestar import Response, Router, delete, get, patch, post, put
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body

from portal.auth import scopes as s
from portal.auth.guards import requires
from portal.domain.actors import Actor
from portal.domain.errors import Conflict
from portal.services import webhooks as service
from portal.settings import Settings
from portal.web import api
from portal.web.api import ApiProblem

PREFIX = "/api/v1"
PATH = "/webhooks"
ONE = PATH + "/{webhook_id:int}"
TAGS = ["Webhooks"]
SECURITY = [{"oauth2": [s.NOTIFY]}]
READ_PROBLEMS = api.problem_responses(400, 401, 403, 404, 422)
WRITE_PROBLEMS = api.problem_responses(400, 401, 403, 404, 409, 422, 428)


# --- Bodies ------------------------------------------------------------------------------------


class NewWebhook(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    url: str
    """Where to POST: https:// (or http://) with a public host."""
    kinds: list[str] = []
    """Event kinds to receive (e.g. po.issued, so.shipped); empty: every kind you may read."""
    description: str = ""
    org: str | None = None
    """Only for our administrators: the organisation the endpoint is for."""


class WebhookChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """PATCH: only the fields given change; PUT: `url` is required and the others reset to
    their defaults when left out."""

    url: str | None = None
    kinds: list[str] | None = None
    description: str | None = None
    version: int | None = None


class Webhook(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    org: str
    url: str
    description: str
    kinds: list[str]
    active: bool
    failures: int
    disabled_at: datetime | None
    disabled_reason: str
    version: int
    created_at: datetime | None
    previous_secret_expires_at: datetime | None


class WebhookWithSecret(msgspec.Struct, frozen=True, kw_only=True):
    webhook: Webhook
    secret: str
    """`whsec_...`: shown only in this answer. Verify each delivery's `webhook-signature` with
    it (any Standard Webhooks library does)."""


class WebhookList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Webhook]


class Attempt(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    ok: bool
    status_code: int | None
    detail: str
    duration_ms: int


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    message_id: str
    """The `webhook-id` header it is sent with (the same on every retry and resend)."""
    kind: str
    number: str
    status: str
    """pending | sent | failed"""
    attempts: list[Attempt]
    next_at: datetime | None
    last_error: str
    created_at: datetime | None
    sent_at: datetime | None


class DeliveryList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Delivery]
    """Newest first (the latest 100)."""


def _webhook(info: service.WebhookInfo) -> Webhook:
    return msgspec.convert(msgspec.to_builtins(info), Webhook)


def _delivery(info: service.DeliveryInfo) -> Delivery:
    return msgspec.convert(msgspec.to_builtins(info), Delivery)


def _location(webhook_id: int) -> str:
    return f"{PREFIX}{PATH}/{webhook_id}"


def ok(container: type, description: str, status: int = 200) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(
            data_container=container, description=description, generate_examples=False
        )
    }


NEW_WEBHOOK = Body(
    description="The URL to call and the event kinds to send there.",
    examples=[
        Example(
            summary="Shipments and promises",
            value={
                "url": "https://erp.example.com/hooks/portal",
                "kinds": ["po.issued", "line.promise_changed"],
                "description": "ERP inbound",
            },
        ),
        Example(summary="Every kind", value={"url": "https://erp.example.com/hooks/portal"}),
    ],
)
CHANGE = Body(
    description="What to change, with the version you read (or If-Match).",
    examples=[
        Example(summary="Change the kinds", value={"kinds": ["so.shipped"], "version": 2}),
    ],
)


def _now(write: api.Write, webhook_id: int) -> api.Current:
    async def current(conflict: Conflict) -> ApiProblem:
        found = await service.endpoint(write.actor, webhook_id)
        return api.stale(write.i18n, conflict, _webhook(found), version=found.version)

    return current


# --- Routes ------------------------------------------------------------------------------------


@get(
    PATH,
    operation_id="listWebhooks",
    summary="List webhooks",
    tags=TAGS,
    security=SECURITY,
    opt=requires(s.NOTIFY),
    responses={**ok(WebhookList, "Your organisation's endpoints."), **READ_PROBLEMS},
)
async def list_webhooks(actor: NamedDependency[Actor]) -> Response[bytes]:
    """Your organisation's webhook endpoints (our staff: every organisation's)."""
    found = await service.endpoints(actor)
    return api.json_response(WebhookList(items=[_webhook(info) for info in found]))


@post(
    PATH,
    operation_id="createWebhook",
    summary="Subscribe a URL",
    tags=TAGS,
    security=SECURITY,
    opt=requires(s.NOTIFY),
    status_code=201,
    responses={
        **ok(WebhookWithSecret, "Created; `secret` is shown this once.", 201),
        **WRITE_PROBLEMS,
    },
)
async def create_webhook(
    write: NamedDependency[api.Write],
    settings: NamedDependency[Settings],
    data: Annotated[NewWebhook, NEW_WEBHOOK],
    idempotency_key: api.IdempotencyKey = None,
) -> Response[bytes]:
    """Deliveries follow the Standard Webhooks specification: headers `webhook-id`,
    `webhook-timestamp` and `webhook-signature` (HMAC-SHA256 with the secret). The URL's host
    must resolve to public addresses."""

    async def run() -> Response[bytes]:
        command = service.CreateWebhook(
            url=data.url,
            kinds=tuple(data.kinds),
            description=data.description,
            org=data.org or "",
        )
        issued = await service.create_webhook(write.uow, settings, write.actor, command)
        body = WebhookWithSecret(webhook=_webhook(issued.endpoint), secret=issued.secret)
        return api.json_response(
            body,
            status=201,
            version=issued.endpoint.version,
            location=_location(issued.endpoint.id),
            headers={"Cache-Control": "no-store"},
        )

    async def never(conflict: Conflict) -> ApiProblem:
        return api.stale(write.i18n, conflict, None)

    return await write.answer(run, key=idempotency_key, on_conflict=never, based_on=None)


@get(
    ONE,
    operation_id="getWebhook",
    summary="Read a webhook",
    tags=TAGS,
    security=SECURITY,
    opt=requires(s.NOTIFY),
    responses={**ok(Webhook, "The endpoint; ETag is its version."), **READ_PROBLEMS},
)
async def get_webhook(
    actor: NamedDependency[Actor], webhook_id: int, if_none_match: api.IfNoneMatch = None
) -> Response[bytes]:
    found = await service.endpoint(actor, webhook_id)
    return api.read_response(_webhook(found), found.version, if_none_match)


async def _update(
    write: api.Write,
    settings: Settings,
    webhook_id: int,
    data: WebhookChange,
    if_match: str | None,
    *,
    replace: bool,
) -> Response[bytes]:
    version = write.version(data.version, if_match)
    if replace and data.url is None:
        checks = write.checks()
        checks.required("url", False)
        checks.done()

    async def run() -> Response[bytes]:
        command = service.UpdateWebhook(
            endpoint_id=webhook_id,
            version=version,
            url=data.url,
            kinds=tuple(data.kinds) if data.kinds is not None else (() if replace else None),
            description=data.description
            if data.description is not None
            else ("" if replace else None),
        )
        found = await service.update_webhook(write.uow, settings, write.actor, command)
        return api.json_response(_webhook(found), version=found.version)

    return await write.answer(run, on_conflict=_now(write, webhook_id), based_on=version)


@patch(
    ONE,
    operation_id="updateWebhook",
    summary="Change a webhook",
    tags=TAGS,
    security=SECURITY,
    opt=requires(s.NOTIFY),
    responses={**ok(Webhook, "Changed."), **WRITE_PROBLEMS},
)
async def patch_webhook(
    write: NamedDependency[api.Write],
    settings: NamedDependency[Settings],
    webhook_id: int,
    data: Annotated[WebhookChange, CHANGE],
    if_match: api.IfMatch = None,
) -> Response[bytes]:
    """Change the URL, the kinds or the description; send the version you read."""
    return await _update(write, settings, webhook_id, data, if_match, replace=False)


@put(
    ONE,
    operation_id="replaceWebhook",
    summary="Replace a webhook's settings",
    tags=TAGS,
    security=SECURITY,
    opt=requires(s.NOTIFY),
    responses={**ok(Webhook, "Replaced."), **WRITE_PROBLEMS},
)
async def put_webhook(
    write: NamedDependency[api.Write],
    settings: NamedDependency[Settings],
    webhook_id: int,
    data: Annotated[WebhookChange, CHANGE],
    if_match: api.IfMatch = None,
) -> Response[bytes]:
    """Like PATCH, but `url` is required and `kinds` and `description` not given are
    cleared (every kind, no description)."""
    return await _update(write, settings, webhook_id, data, if_match, replace=True)


@delete(
    ONE,
    operation_id="deleteWebhook",
    summary="Delete a webhook",
    tags=TAGS,
    security=SECURITY,
    opt=requires(s.NOTIFY),
    status_code=204,
    responses=WRITE_PROBLEMS,
)
async def delete_webhook(
    write: NamedDependency[api.Write], webhook_id: int, if_match: api.IfMatch = None
) -> Response[None]:
    """Deliveries still waiting for it are given up. Send If-Match with the version you
    read."""
    version = write.version(None, if_match)

    async def run() -> Response[bytes]:
        command = service.DeleteWebhook(endpoint_id=webhook_id, version=version)
        await service.delete_webhook(write.uow, write.actor, command)
        return Response(b"", status_code=204, headers={"Vary": api.VARY})

    # Declared bodiless for the 204; a refusal still answers with its problem document.
    answered = await write.answer(run, on_conflict=_now(write, webhook_id), based_on=version)
    return cast(Response[None], answered)


@post(
    ONE + "/rotate-secret",
    operation_id="rotateWebhookSecret",
    summary="Rotate a webhook's secret",
    tags=TAGS,
    security=SECURITY,
    opt=requires(s.NOTIFY),
    status_code=200,
    responses={
        **ok(WebhookWithSecret, "The new secret, shown this once."),
        **WRITE_PROBLEMS,
    },
)
async def rotate_secret(
    write: NamedDependency[api.Write], webhook_id: int, if_match: api.IfMatch = None
) -> Response[bytes]:
    """The new secret signs from now on; the previous one also signs for 24 hours (the
    signature header then carries two `v1,` entries), so you can switch without losing a
    delivery. Send If-Match with the version you read."""
    version = write.version(None, if_match)

    async def run() -> Response[bytes]:
        command = service.RotateWebhookSecret(endpoint_id=webhook_id, version=version)
        issued = await service.rotate_secret(write.uow, write.actor, command)
        body = WebhookWithSecret(webhook=_webhook(issued.endpoint), secret=issued.secret)
        return api.json_response(
            body, version=issued.endpoint.version, headers={"Cache-Control": "no-store"}
        )

    return await write.answer(run, on_conflict=_now(write, webhook_id), based_on=version)


async def _active(
    write: api.Write, webhook_id: int, if_match: str | None, *, enable: bool
) -> Response[bytes]:
    version = write.version(None, if_match)

    async def run() -> Response[bytes]:
        if enable:
            found = await service.enable_webhook(
                write.uow, write.actor, service.EnableWebhook(webhook_id, version)
            )
        else:
            found = await service.disable_webhook(
                write.uow, write.actor, service.DisableWebhook(webhook_id, version)
            )
        return api.json_response(_webhook(found), version=found.version)

    return await write.answer(run, on_conflict=_now(write, webhook_id), based_on=version)


@post(
    ONE + "/enable",
    operation_id="enableWebhook",
    summary="Enable a webhook",
    tags=TAGS,
    security=SECURITY,
    opt=requires(s.NOTIFY),
    status_code=200,
    responses={**ok(Webhook, "Enabled; failures count from zero."), **WRITE_PROBLEMS},
)
async def enable_webhook(
    write: NamedDependency[api.Write], webhook_id: int, if_match: api.IfMatch = None
) -> Response[bytes]:
    """Deliveries start again; resend the ones that failed meanwhile from the log."""
    return await _active(write, webhook_id, if_match, enable=True)


@post(
    ONE + "/disable",
    operation_id="disableWebhook",
    summary="Disable a webhook",
    tags=TAGS,
    security=SECURITY,
    opt=requires(s.NOTIFY),
    status_code=200,
    responses={**ok(Webhook, "Disabled."), **WRITE_PROBLEMS},
)
async def disable_webhook(
    write: NamedDependency[api.Write], webhook_id: int, if_match: api.IfMatch = None
) -> Response[bytes]:
    return await _active(write, webhook_id, if_match, enable=False)


@get(
    ONE + "/deliveries",
    operation_id="listWebhookDeliveries",
    summary="Read a webhook's delivery log",
    tags=TAGS,
    security=SECURITY,
    opt=requires(s.NOTIFY),
    responses={**ok(DeliveryList, "The latest deliveries, newest first."), **READ_PROBLEMS},
)
async def list_deliveries(actor: NamedDependency[Actor], webhook_id: int) -> Response[bytes]:
    """Each delivery with every attempt: when, the status code, what the receiver said."""
    found = await service.deliveries(actor, webhook_id)
    return api.json_response(DeliveryList(items=[_delivery(info) for info in found]))


@post(
    ONE + "/deliveries/{delivery_id:int}/resend",
    operation_id="resendWebhookDelivery",
    summary="Resend a delivery",
    tags=TAGS,
    security=SECURITY,
    opt=requires(s.NOTIFY),
    status_code=202,
    responses={**ok(Delivery, "Due again now; a new attempt is logged.", 202), **WRITE_PROBLEMS},
)
async def resend_delivery(
    write: NamedDependency[api.Write], webhook_id: int, delivery_id: int
) -> Response[bytes]:
    """The same message (same `webhook-id`) is sent again by the dispatcher."""

    async def run() -> Response[bytes]:
        command = service.ResendDelivery(endpoint_id=webhook_id, delivery_id=delivery_id)
        found = await service.resend(write.uow, write.actor, command)
        return api.json_response(_delivery(found), status=202)

    return await write.answer(run, on_conflict=_now(write, webhook_id), based_on=None)


ROUTER = Router(
    PREFIX,
    route_handlers=[
        list_webhooks,
        create_webhook,
        get_webhook,
        patch_webhook,
        put_webhook,
        delete_webhook,
        rotate_secret,
        enable_webhook,
        disable_webhook,
        list_deliveries,
        resend_delivery,
    ],
    dependencies={"write": Provide(api.provide_write, sync_to_thread=False)},
    exception_handlers=api.exception_handlers(),
)
ROUTES = [ROUTER]
"""The webhooks API, under /api/v1."""
