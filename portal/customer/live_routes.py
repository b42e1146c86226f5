"""Live updates for the customer workspace: one sales order's open page, and "My orders".

The messages say only which order moved; the page fetches its fragment again through its own
access-checked route (see portal/notify/live.py), so nothing reaches a customer that its page
would not show. A customer follows its own organisation's list channel; our staff the list of
all sales orders.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, get
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import ServerSentEvent

from portal.auth.guards import requires
from portal.auth.scopes import ORDER_READ
from portal.db import tables as t
from portal.db import timeline
from portal.db.repositories import scope_sales_orders
from portal.domain.actors import Actor, Side
from portal.domain.errors import NotFound
from portal.domain.events import so_stream
from portal.notify import live

SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


@get(
    "/live/orders/{number:str}",
    name="live-customer-order",
    include_in_schema=False,
    opt=requires(ORDER_READ),
)
async def order_live(
    request: Request[Any, Any, Any],
    actor: NamedDependency[Actor],
    channels: ChannelsPlugin,
    number: FromPath[str],
) -> ServerSentEvent:
    """One sales order's changes, for its open page; another organisation's order is 404,
    exactly as its page is."""
    stream = so_stream(number)
    await timeline.read(actor, stream, limit=1)  # NotFound for another tenant's order
    last = live.last_event_id(request)

    async def catch_up() -> str | None:
        if last is None or not last.isdigit():
            return None
        newer = await timeline.read(actor, stream, after_seq=int(last))
        return str(newer[-1].seq) if newer else None

    return ServerSentEvent(
        live.events(channels, [live.stream_channel(stream)], actor, catch_up, "seq"),
        headers=SSE_HEADERS,
    )


@get("/live/orders", name="live-customer-orders", include_in_schema=False, opt=requires(ORDER_READ))
async def orders_live(
    request: Request[Any, Any, Any], actor: NamedDependency[Actor], channels: ChannelsPlugin
) -> ServerSentEvent:
    """Changes to the sales orders the caller may list."""
    if actor.side == Side.INTERNAL:
        channel = live.so_list_channel(live.ALL_CUSTOMERS)
    elif actor.side == Side.CUSTOMER and actor.org:
        channel = live.so_list_channel(actor.org)
    else:
        raise NotFound("There are no sales orders for you to follow.")
    last = live.last_event_id(request)

    async def catch_up() -> str | None:
        if last is None:
            return None
        try:
            since = datetime.fromisoformat(last)
        except ValueError:
            return None
        query = scope_sales_orders(
            actor,
            t.SalesOrder.select(t.SalesOrder.updated_at)
            .where(t.SalesOrder.updated_at > since)
            .order_by(t.SalesOrder.updated_at, ascending=False),
        )
        row = await query.first().run() if query is not None else None
        return row["updated_at"].isoformat() if row else None

    return ServerSentEvent(
        live.events(channels, [channel], actor, catch_up, "at"), headers=SSE_HEADERS
    )


ROUTES = [order_live, orders_live]
