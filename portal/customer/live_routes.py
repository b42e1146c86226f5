"""Live updates for the customer workspace: one sales order's open page, and "My orders".

The messages say only which order moved; the page fetches its fragment again through its own
access-checked route (see portal/notify/live.py), so nothing reaches a customer that its page
would not show. A customer follows its own organisation's list channel; our staff the list of
all sales orders.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import ServerSentEvent

from portal.auth.guards import requires
from portal.auth.scopes import ORDER_READ
from portal.db import tables as t
from portal.db.repositories import scope_sales_orders
from portal.domain.actors import Actor, Side
from portal.domain.errors import NotFound
from portal.domain.events import so_stream
from portal.notify import live


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
    return await live.order_events(request, channels, actor, so_stream(number))


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
    return await live.list_events(
        request, channels, actor, channel, t.SalesOrder.updated_at, scope_sales_orders
    )


ROUTES = [order_live, orders_live]
