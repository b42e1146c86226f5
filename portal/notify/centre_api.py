"""The notification centre in the public API v1: a user's own notifications and preferences.

Notifications are personal: a token acting for a user (authorization code) reads and marks
that user's only; another user's notification is not found, within the same organisation
too. A client acting for its organisation (client credentials) has none and is told so (403).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import msgspec
from litestar import Response, Router, get, post, put
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, QueryParameter

from portal.auth import scopes as s
from portal.auth.guards import requires
from portal.auth.principal import Principal
from portal.db.database import Database
from portal.domain.actors import Side
from portal.domain.errors import DomainError
from portal.domain.notifications import Preference
from portal.notify import centre
from portal.notify.wording import describe
from portal.services import notification_preferences as prefs
from portal.services.unit_of_work import UnitOfWork
from portal.web import api
from portal.web.api import ApiProblem, FieldError
from portal.web.i18n import I18n

PREFIX = "/api/v1"
NOTIFICATIONS = "/notifications"
PREFERENCES = "/notification-preferences"
TAGS = ["Notifications"]
NO_USER = "urn:portal:problem:no-personal-notifications"


class Notification(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    topic: str
    kind: str
    """The event kind it tells of, e.g. `line.expected_date_changed`."""
    number: str
    """The order it is about."""
    title: str
    body: str
    path: str
    """The page for it in the portal, relative to the portal's address."""
    created_at: datetime
    read_at: datetime | None = None
    unread: bool


class NotificationPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Notification]
    unread_count: int
    next_cursor: str | None = None
    next: str | None = None


class ReadAll(msgspec.Struct, frozen=True, kw_only=True):
    marked: int
    """How many were unread."""
    unread_count: int


class TopicPreference(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    topic: str
    in_app: bool = True
    email: bool = True
    delivery: Literal["immediately", "digest"] = "immediately"
    """E-mail at once, or once a day in a digest."""


class Preferences(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    preferences: list[TopicPreference]


NOTIFICATION_EXAMPLE = {
    "id": 42,
    "topic": "expected_date_moved",
    "kind": "line.expected_date_changed",
    "number": "SO-2026-00012",
    "title": "Order SO-2026-00012: expected date moved",
    "body": "Order SO-2026-00012: expected date moved from Dec 3, 2026 to Dec 10, 2026 "
    "(line 2). Reason: The supplier changed its promise.",
    "path": "/orders/SO-2026-00012",
    "created_at": "2026-11-20T08:15:00Z",
    "read_at": None,
    "unread": True,
}
PREFERENCES_EXAMPLE = {
    "preferences": [
        {"topic": "expected_date_moved", "in_app": True, "email": True, "delivery": "immediately"},
        {"topic": "shipped", "in_app": True, "email": False, "delivery": "immediately"},
        {"topic": "comment", "in_app": True, "email": True, "delivery": "digest"},
    ]
}
PREFERENCES_BODY = Body(
    description="Your choices for some or all of your side's topics; topics not named keep "
    "what they have.",
    examples=[
        Example(
            summary="Shipments in the app only, comments as a daily digest",
            value=PREFERENCES_EXAMPLE,
        ),
    ],
)


def _ok(container: type, description: str, example: Any) -> dict[int, ResponseSpec]:
    return {
        200: ResponseSpec(
            data_container=container,
            description=description,
            generate_examples=False,
            examples=[Example(summary=description, value=example)],
        )
    }


READ_PROBLEMS = api.problem_responses(400, 401, 403, 422)
WRITE_PROBLEMS = api.problem_responses(400, 401, 403, 404, 422)


def security() -> list[dict[str, list[str]]]:
    return [{"oauth2": [s.NOTIFY]}]


def _reader(principal: Principal, i18n: I18n) -> int:
    if principal.user_id is None:
        raise ApiProblem(
            403,
            i18n.gettext(
                "Notifications belong to a user: use a token that acts for one (authorization "
                "code), not client credentials."
            ),
            type=NO_USER,
        )
    return principal.user_id


def _out(item: centre.Item, i18n: I18n, side: Side) -> Notification:
    words = describe(item.topic, item.kind, item.number, item.data, i18n, side, stream=item.stream)
    return Notification(
        id=item.id,
        topic=item.topic,
        kind=item.kind,
        number=item.number,
        title=words.title,
        body=words.body,
        path=words.path,
        created_at=item.created_at,
        read_at=item.read_at,
        unread=item.unread,
    )


def _cursor(text: str | None, i18n: I18n) -> int | None:
    if text is None:
        return None
    if not text.isdigit():
        raise api.invalid_request(
            i18n, [FieldError("cursor", i18n.gettext("Use the next_cursor of the previous page."))]
        )
    return int(text)


@get(
    NOTIFICATIONS,
    operation_id="listNotifications",
    summary="List your notifications",
    tags=TAGS,
    security=security(),
    opt=requires(s.NOTIFY),
    responses={
        **_ok(
            NotificationPage,
            "Newest first.",
            {
                "items": [NOTIFICATION_EXAMPLE],
                "unread_count": 3,
                "next_cursor": "42",
                "next": "/api/v1/notifications?cursor=42",
            },
        ),
        **READ_PROBLEMS,
    },
)
async def list_notifications(
    principal: NamedDependency[Principal],
    i18n: NamedDependency[I18n],
    unread_only: Annotated[bool, QueryParameter(description="Only the unread ones.")] = False,
    cursor: Annotated[
        str | None, QueryParameter(description="`next_cursor` of the previous page.")
    ] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=centre.MAX_PER_PAGE)] = centre.PER_PAGE,
) -> Response[bytes]:
    """Your notifications, newest first, in your language and time zone; paged by `cursor`
    (new ones arriving meanwhile never shift a page)."""
    user_id = _reader(principal, i18n)
    below = _cursor(cursor, i18n)
    items, following = await centre.after(user_id, below, limit=limit, unread_only=unread_only)
    next_cursor = str(following) if following is not None else None
    query = {"unread_only": "true" if unread_only else None, "limit": limit}
    kept = {key: value for key, value in query.items() if value is not None}
    next_url = (
        f"{PREFIX}{NOTIFICATIONS}?{urlencode({**kept, 'cursor': next_cursor})}"
        if next_cursor
        else None
    )
    body = NotificationPage(
        items=[_out(item, i18n, principal.actor.side) for item in items],
        unread_count=await centre.unread_count(user_id),
        next_cursor=next_cursor,
        next=next_url,
    )
    headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else {}
    return api.json_response(body, headers=headers)


@post(
    NOTIFICATIONS + "/{notification_id:int}/read",
    operation_id="markNotificationRead",
    summary="Mark one notification read",
    tags=TAGS,
    security=security(),
    opt=requires(s.NOTIFY),
    status_code=200,
    responses={
        **_ok(
            Notification,
            "It, read.",
            {**NOTIFICATION_EXAMPLE, "unread": False, "read_at": "2026-11-20T09:02:11Z"},
        ),
        **WRITE_PROBLEMS,
    },
)
async def mark_read(
    principal: NamedDependency[Principal],
    i18n: NamedDependency[I18n],
    db: NamedDependency[Database],
    notification_id: FromPath[int],
) -> Response[bytes]:
    """Marking one read again changes nothing (it keeps the time it was first read)."""
    user_id = _reader(principal, i18n)
    item = await centre.mark_read(db, user_id, notification_id, datetime.now(UTC))
    return api.json_response(_out(item, i18n, principal.actor.side))


@post(
    NOTIFICATIONS + "/read-all",
    operation_id="markAllNotificationsRead",
    summary="Mark all your notifications read",
    tags=TAGS,
    security=security(),
    opt=requires(s.NOTIFY),
    status_code=200,
    responses={
        **_ok(ReadAll, "How many were unread.", {"marked": 3, "unread_count": 0}),
        **WRITE_PROBLEMS,
    },
)
async def mark_all_read(
    principal: NamedDependency[Principal],
    i18n: NamedDependency[I18n],
    db: NamedDependency[Database],
) -> Response[bytes]:
    user_id = _reader(principal, i18n)
    marked = await centre.mark_all_read(db, user_id, datetime.now(UTC))
    return api.json_response(
        ReadAll(marked=marked, unread_count=await centre.unread_count(user_id))
    )


async def _preferences(user_id: int, side: Side) -> Preferences:
    found = await centre.preferences(user_id, side)
    return Preferences(
        preferences=[
            TopicPreference(
                topic=str(topic),
                in_app=value.in_app,
                email=value.email,
                delivery="digest" if value.digest else "immediately",
            )
            for topic, value in found.items()
        ]
    )


@get(
    PREFERENCES,
    operation_id="getNotificationPreferences",
    summary="Read your notification preferences",
    tags=TAGS,
    security=security(),
    opt=requires(s.NOTIFY),
    responses={
        **_ok(
            Preferences,
            "Every topic of your side; the defaults for one never chosen.",
            PREFERENCES_EXAMPLE,
        ),
        **READ_PROBLEMS,
    },
)
async def get_preferences(
    principal: NamedDependency[Principal], i18n: NamedDependency[I18n]
) -> Response[bytes]:
    user_id = _reader(principal, i18n)
    return api.json_response(await _preferences(user_id, principal.actor.side))


@put(
    PREFERENCES,
    operation_id="updateNotificationPreferences",
    summary="Change your notification preferences",
    tags=TAGS,
    security=security(),
    opt=requires(s.NOTIFY),
    responses={
        **_ok(Preferences, "Every topic of your side, as now stored.", PREFERENCES_EXAMPLE),
        **WRITE_PROBLEMS,
    },
)
async def put_preferences(
    principal: NamedDependency[Principal],
    i18n: NamedDependency[I18n],
    uow: NamedDependency[UnitOfWork],
    data: Annotated[Preferences, PREFERENCES_BODY],
) -> Response[bytes]:
    """Only your side's topics may be named (a supplier has no `shipped`); one unknown topic
    or a topic named twice refuses the whole request (422) and nothing is changed. The change
    is recorded on your organisation's timeline."""
    user_id = _reader(principal, i18n)
    side = principal.actor.side
    allowed = {str(topic) for topic in centre.topics_of(side)}
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, choice in enumerate(data.preferences):
        where = f"preferences[{index}].topic"
        if choice.topic not in allowed:
            errors.append(
                FieldError(
                    where,
                    i18n.gettext("Not a topic you can choose; choose from %(topics)s.")
                    % {"topics": ", ".join(sorted(allowed))},
                )
            )
        elif choice.topic in seen:
            errors.append(FieldError(where, i18n.gettext("This topic is named twice.")))
        seen.add(choice.topic)
    if errors:
        raise api.invalid_request(i18n, errors)
    choices = {
        choice.topic: Preference(
            in_app=choice.in_app, email=choice.email, digest=choice.delivery == "digest"
        )
        for choice in data.preferences
    }
    try:
        await prefs.set_preferences(uow, principal.actor, prefs.SetPreferences(choices))
    except DomainError as error:
        raise ApiProblem(422, i18n.explain(error), type=api.INVALID) from error
    return api.json_response(await _preferences(user_id, side))


ROUTER = Router(
    PREFIX,
    route_handlers=[list_notifications, mark_read, mark_all_read, get_preferences, put_preferences],
    exception_handlers=api.exception_handlers(),
)
ROUTES = [ROUTER]
