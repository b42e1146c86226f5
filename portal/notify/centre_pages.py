"""The notification centre's pages: the bell in the header, the list, and the preferences.

The bell is a fragment (`/notifications/bell`) the header fetches when the page opens and
again whenever the user's own channel (`/live/notifications`) says something arrived; the
stream says only *that* something changed, the fragment is read through its ordinary route.
Opening a notification is a POST (it marks it read) answered by a redirect to the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, ServerSentEvent

from portal.auth.guards import requires
from portal.auth.principal import Principal
from portal.auth.scopes import NOTIFY
from portal.db.database import Database
from portal.domain.actors import Side
from portal.domain.errors import DomainError
from portal.domain.notifications import Preference, Topic
from portal.i18n.labels import N_
from portal.notify import centre, live
from portal.notify.wording import Described, describe
from portal.services import notification_preferences as prefs
from portal.services.unit_of_work import UnitOfWork
from portal.web.i18n import I18n
from portal.web.rendering import View

LIST = "/notifications"
BELL = "/notifications/bell"
READ_ALL = "/notifications/read-all"
PREFERENCES = "/notifications/preferences"
LIVE = "/live/notifications"
DIGEST = "digest"
IMMEDIATELY = "immediately"

PageNumber = Annotated[int, QueryParameter(ge=1)]

TOPIC_NAMES: dict[str, str] = {
    Topic.ORDER_CONFIRMED: N_("Order confirmed"),
    Topic.EXPECTED_DATE_MOVED: N_("Expected date moved"),
    Topic.SHIPPED: N_("Shipped"),
    Topic.DELIVERED: N_("Delivered"),
    Topic.COMMENT: N_("Comments"),
    Topic.NEW_PURCHASE_ORDER: N_("New purchase orders"),
    Topic.CHANGE_REQUEST: N_("Change requests"),
    Topic.ORDER_CANCELLED: N_("Order cancelled"),
    Topic.ACKNOWLEDGEMENT: N_("Acknowledgements"),
    Topic.PROMISE_MOVED: N_("Promise moved"),
    Topic.SHIPMENT: N_("Shipments"),
    Topic.WEBHOOK_DISABLED: N_("Webhook disabled"),
    Topic.ALERT: N_("Alerts"),
}
"""Each topic's name on the preferences page, translated where it is shown."""


def topic_name(i18n: I18n, topic: str) -> str:
    return i18n.gettext(TOPIC_NAMES[topic]) if topic in TOPIC_NAMES else topic


@dataclass(frozen=True, slots=True)
class Row:
    """One notification as the list shows it."""

    id: int
    words: Described
    created_at: datetime
    unread: bool


def _row(item: centre.Item, i18n: I18n, side: Side) -> Row:
    return Row(
        id=item.id,
        words=describe(
            item.topic, item.kind, item.number, item.data, i18n, side, stream=item.stream
        ),
        created_at=item.created_at,
        unread=item.unread,
    )


def _see_other(path: str) -> Response[Any]:
    return Redirect(path, status_code=303)


def _html(view: View, template: str, context: dict[str, Any]) -> Response[str]:
    """A bare fragment (no layout at all), whoever asks: the bell."""
    return Response(
        view.render(template, context, fragment=True),
        media_type=MediaType.HTML,
        headers={"Vary": "HX-Request, Accept-Language, Cookie", "Cache-Control": "no-store"},
    )


# --- the bell and its stream ---------------------------------------------------------------


@get(BELL, name="notification-bell", include_in_schema=False, opt=requires(NOTIFY))
async def bell(view: NamedDependency[View], principal: NamedDependency[Principal]) -> Response[str]:
    user_id = centre.reader_of(principal)
    return _html(view, "notify/_bell.html", {"unread": await centre.unread_count(user_id)})


@get(LIVE, name="live-notifications", include_in_schema=False, opt=requires(NOTIFY))
async def notifications_live(
    principal: NamedDependency[Principal],
    channels: ChannelsPlugin,
) -> ServerSentEvent:
    """`changed` whenever a notification for this user is published (on `notify:<id>`), and
    once as soon as the stream is open, so the bell is counted again after anything that
    arrived before the stream (or while it was reconnecting)."""
    user_id = centre.reader_of(principal)

    async def catch_up() -> str | None:
        newest = await centre.after(user_id, None, limit=1)
        return str(newest[0][0].id) if newest[0] else "0"

    return ServerSentEvent(
        live.events(channels, [live.notify_channel(user_id)], principal.actor, catch_up, "seq"),
        headers=live.SSE_HEADERS,
    )


# --- the list ------------------------------------------------------------------------------


@get(LIST, name="notifications", include_in_schema=False, opt=requires(NOTIFY))
async def notifications(
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    page: PageNumber = 1,
) -> Response[str]:
    user_id = centre.reader_of(principal)
    found = await centre.page(user_id, number=page)
    side = principal.actor.side
    return view.page(
        "notify/notifications.html",
        {
            "rows": [_row(item, view.i18n, side) for item in found.items],
            "found": found,
        },
    )


@post(
    LIST + "/{notification_id:int}/open",
    name="notification-open",
    include_in_schema=False,
    opt=requires(NOTIFY),
)
async def open_notification(
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
    notification_id: FromPath[int],
) -> Response[Any]:
    """Mark it read and go to what it is about."""
    user_id = centre.reader_of(principal)
    item = await centre.mark_read(db, user_id, notification_id, datetime.now(UTC))
    return _see_other(_row(item, view.i18n, principal.actor.side).words.path)


@post(
    LIST + "/{notification_id:int}/read",
    name="notification-read",
    include_in_schema=False,
    opt=requires(NOTIFY),
)
async def read_notification(
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
    notification_id: FromPath[int],
) -> Response[Any]:
    user_id = centre.reader_of(principal)
    await centre.mark_read(db, user_id, notification_id, datetime.now(UTC))
    return _see_other(LIST)


@post(READ_ALL, name="notifications-read-all", include_in_schema=False, opt=requires(NOTIFY))
async def read_all(
    principal: NamedDependency[Principal], db: NamedDependency[Database]
) -> Response[Any]:
    await centre.mark_all_read(db, centre.reader_of(principal), datetime.now(UTC))
    return _see_other(LIST)


# --- preferences ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Choice:
    topic: str
    name: str
    preference: Preference


async def _preferences_page(
    view: View,
    principal: Principal,
    *,
    shown: dict[str, Preference] | None = None,
    error: str | None = None,
    saved: bool = False,
) -> Response[str]:
    user_id = centre.reader_of(principal)
    stored = await centre.preferences(user_id, principal.actor.side)
    current = {**{str(topic): value for topic, value in stored.items()}, **(shown or {})}
    return view.page(
        "notify/preferences.html",
        {
            "choices": [
                Choice(
                    topic=str(topic), name=topic_name(view.i18n, topic), preference=current[topic]
                )
                for topic in stored
            ],
            "error": error,
            "saved": saved,
            "digest_value": DIGEST,
            "immediately_value": IMMEDIATELY,
        },
        status_code=HTTPStatus.UNPROCESSABLE_ENTITY if error else HTTPStatus.OK,
    )


@get(PREFERENCES, name="notification-preferences", include_in_schema=False, opt=requires(NOTIFY))
async def preferences(
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    request: Request[Any, Any, Any],
) -> Response[str]:
    return await _preferences_page(view, principal, saved=request.query_params.get("saved") == "1")


def parse_choices(form: Any, topics: list[str]) -> dict[str, Preference]:
    """The form's table: `topic` names each row sent; `<topic>.in_app` and `<topic>.email` are
    checkboxes (absent: off); `<topic>.when` is immediately or digest."""
    rows = [str(value) for value in form.getall("topic", [])] or topics
    return {
        topic: Preference(
            in_app=bool(form.get(f"{topic}.in_app")),
            email=bool(form.get(f"{topic}.email")),
            digest=form.get(f"{topic}.when") == DIGEST,
        )
        for topic in rows
    }


@post(PREFERENCES, include_in_schema=False, opt=requires(NOTIFY))
async def save_preferences(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    uow: NamedDependency[UnitOfWork],
) -> Response[Any]:
    form = await request.form()
    topics = [str(topic) for topic in centre.topics_of(principal.actor.side)]
    choices = parse_choices(form, topics)
    try:
        await prefs.set_preferences(uow, principal.actor, prefs.SetPreferences(choices))
    except DomainError as error:
        shown = {topic: value for topic, value in choices.items() if topic in topics}
        return await _preferences_page(view, principal, shown=shown, error=view.i18n.explain(error))
    return _see_other(PREFERENCES + "?saved=1")


ROUTES = [
    bell,
    notifications_live,
    notifications,
    open_notification,
    read_notification,
    read_all,
    preferences,
    save_preferences,
]
