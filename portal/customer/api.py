"""The public API v1 for customers' systems: their sales orders (/api/v1/orders), one order with
its ETag, and the customer's part of its timeline. Another customer's order does not exist for
the caller (404). The conventions (problems, cursors, ETags) are `portal.web.api`'s.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from litestar import Response, Router, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, QueryParameter

from portal.auth import scopes as s
from portal.auth.guards import requires
from portal.customer import schemas
from portal.customer.timeline import readable
from portal.db import customer_queries, timeline
from portal.db.customer_queries import FeedPosition
from portal.domain.actors import Actor
from portal.domain.events import so_stream
from portal.domain.states import SOStatus
from portal.web import api
from portal.web.api import Checks
from portal.web.i18n import I18n

PREFIX = "/api/v1"
ORDERS = "/orders"
ORDER = ORDERS + "/{number:str}"
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
TIMELINE_LIMIT = 500
TAGS = ["Sales orders (customers)"]
SECURITY: list[dict[str, list[str]]] = [{"oauth2": [s.ORDER_READ]}]
READ_PROBLEMS = api.problem_responses(400, 401, 403, 404, 422)


def ok(container: type, description: str) -> dict[int, ResponseSpec]:
    return {
        200: ResponseSpec(
            data_container=container, description=description, generate_examples=False
        )
    }


@get(
    ORDERS,
    operation_id="listSalesOrders",
    summary="List your sales orders",
    tags=TAGS,
    security=SECURITY,
    opt=requires(s.ORDER_READ),
    responses={**ok(schemas.OrderPage, "One page, least recently changed first."), **READ_PROBLEMS},
)
async def list_orders(
    actor: NamedDependency[Actor],
    i18n: NamedDependency[I18n],
    status: Annotated[
        str | None,
        QueryParameter(description="Only these statuses, comma-separated (e.g. open,shipped)."),
    ] = None,
    updated_since: Annotated[
        str | None,
        QueryParameter(
            description="Only orders changed at or after this time (RFC 3339, with offset)."
        ),
    ] = None,
    cursor: Annotated[
        str | None, QueryParameter(description="`next_cursor` of the previous page.")
    ] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Response[bytes]:
    """Your organisation's sales orders with their lines' expected dates (kept current as
    supply moves), how far each moved since the order was placed, and shipments; least
    recently changed first, paged by an opaque cursor. Poll with `updated_since`."""
    checks = Checks(i18n)
    statuses = [part.strip() for part in (status or "").split(",") if part.strip()]
    allowed = tuple(state.value for state in SOStatus)
    for name in statuses:
        checks.choice("status", name, allowed)
    since = checks.moment("updated_since", updated_since)
    checks.done()
    after = FeedPosition(*api.decode_cursor(cursor, i18n)) if cursor else None
    feed = await customer_queries.order_feed(
        actor,
        statuses=[SOStatus(name) for name in statuses],
        updated_since=since,
        after=after,
        limit=limit,
    )
    next_cursor = api.encode_cursor(feed.next.updated_at, feed.next.row_id) if feed.next else None
    next_url = None
    headers: dict[str, str] = {}
    if next_cursor is not None:
        query = {"status": status, "updated_since": updated_since, "limit": limit}
        kept = {key: value for key, value in query.items() if value not in (None, "")}
        next_url = f"{PREFIX}{ORDERS}?{urlencode({**kept, 'cursor': next_cursor})}"
        headers["Link"] = f'<{next_url}>; rel="next"'
    return api.json_response(schemas.page(feed, next_cursor, next_url), headers=headers)


@get(
    ORDER,
    operation_id="getSalesOrder",
    summary="Read one of your sales orders",
    tags=TAGS,
    security=SECURITY,
    opt=requires(s.ORDER_READ),
    responses={
        **ok(schemas.Order, "The order; ETag is its version."),
        304: ResponseSpec(None, description="Your copy (If-None-Match) is current."),
        **READ_PROBLEMS,
    },
)
async def get_order(
    actor: NamedDependency[Actor], number: FromPath[str], if_none_match: api.IfNoneMatch = None
) -> Response[bytes]:
    """One sales order with its lines, expected dates and shipment. Send the ETag as
    If-None-Match to get 304 while nothing changed."""
    order = schemas.order(await customer_queries.order(actor, number))
    return api.read_response(order, order.version, if_none_match)


@get(
    ORDER + "/timeline",
    operation_id="getSalesOrderTimeline",
    summary="Read what happened to one of your sales orders",
    tags=TAGS,
    security=SECURITY,
    opt=requires(s.ORDER_READ),
    responses={**ok(schemas.Timeline, "Its events, oldest first."), **READ_PROBLEMS},
)
async def get_order_timeline(
    actor: NamedDependency[Actor],
    number: FromPath[str],
    after: Annotated[int, QueryParameter(ge=0, description="Only events after this `seq`.")] = 0,
    limit: Annotated[int, QueryParameter(ge=1, le=TIMELINE_LIMIT)] = TIMELINE_LIMIT,
) -> Response[bytes]:
    """The order's events a customer may read: placed, confirmed, expected date changed (with
    a cause code: linked, acknowledged, promise_changed, change_approved), shipped, delivered,
    and comments shared with you."""
    events = await timeline.read(actor, so_stream(number), after_seq=after, limit=limit)
    return api.json_response(
        schemas.Timeline(
            order_number=number,
            events=[schemas.timeline_event(event) for event in readable(events)],
        )
    )


ROUTER = Router(
    PREFIX,
    route_handlers=[list_orders, get_order, get_order_timeline],
    exception_handlers=api.exception_handlers(),
)
ROUTES = [ROUTER]
"""The customer API's routes, under /api/v1."""
