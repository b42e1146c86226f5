"""Live updates: after a command commits, every order it changed is announced on a channel;
open pages listen through server-sent events and fetch again the part that changed.

A message says only *which* order moved (its stream, the new seq, who may read the events), never
what changed: the page fetches the new fragment through its ordinary, access-checked route, so
nothing reaches a reader that the page itself would not show. Channels:

- `stream:<stream>`: one order (`stream:po/PO-2026-00001`), for its open detail page;
- `po-list:<supplier code>` and `po-list:*` (internal): the purchase order lists.

SSE event names: `changed` (something the reader may see moved; `id:` is the stream's seq on an
order page, the change's time on a list), and a comment line every `KEEPALIVE_SECONDS` so proxies
keep the connection and a closed tab is noticed. A reconnecting browser sends the last id it saw
(`Last-Event-ID`) and gets one `changed` at once if it missed anything. A page puts the id of
what it shows in the URL (`?after=`), so a change committed between rendering the page and
opening the stream is not lost either.

The channels backend is in-memory: one web process (the embedded default) sees all its changes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Iterable
from datetime import datetime
from typing import Any

import msgspec
from litestar import Request, get
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import ServerSentEvent, ServerSentEventMessage

from portal.auth.guards import requires
from portal.auth.scopes import PO_READ
from portal.db import tables as t
from portal.db import timeline
from portal.db.repositories import scope_purchase_orders
from portal.domain.actors import Actor, Side
from portal.domain.errors import NotFound
from portal.domain.events import decode_audience, encode_audience, po_stream
from portal.domain.orders import PurchaseOrder
from portal.services.unit_of_work import UnitOfWork

KEEPALIVE_SECONDS = 15.0
ALL_SUPPLIERS = "*"
_PING = b""


class Moved(msgspec.Struct, frozen=True):
    """What a channel carries: which stream moved, to which seq, who may read it."""

    stream: str
    seq: int
    audience: str
    at: str


def stream_channel(stream: str) -> str:
    return f"stream:{stream}"


def po_list_channel(supplier: str) -> str:
    return f"po-list:{supplier}"


def plugin() -> ChannelsPlugin:
    return ChannelsPlugin(
        backend=MemoryChannelsBackend(),
        arbitrary_channels_allowed=True,
        create_ws_route_handlers=False,
    )


def announcer(channels: ChannelsPlugin) -> Any:
    """The unit of work's `after_commit`: publish each changed stream once, at its last seq."""

    async def announce(uow: UnitOfWork) -> None:
        seq: dict[str, int] = {}
        at: dict[str, str] = {}
        sides: dict[str, set[Side]] = {}
        for event in uow.committed:
            seq[event.stream], at[event.stream] = event.seq, event.at.isoformat()
            sides.setdefault(event.stream, set()).update(event.audience)
        moved = {
            stream: msgspec.json.encode(
                Moved(
                    stream, seq[stream], encode_audience(tuple(sorted(sides[stream]))), at[stream]
                )
            )
            for stream in seq
        }
        for stream, message in moved.items():
            channels.publish(message, [stream_channel(stream)])
        for order in uow.changed:
            if isinstance(order, PurchaseOrder) and order.stream in moved:
                channels.publish(
                    moved[order.stream],
                    [po_list_channel(order.supplier), po_list_channel(ALL_SUPPLIERS)],
                )

    return announce


def _may_read(actor: Actor, moved: Moved) -> bool:
    return actor.side == Side.INTERNAL or actor.side in decode_audience(moved.audience)


async def _events(
    channels: ChannelsPlugin, names: Iterable[str], actor: Actor, catch_up: Any, key: str
) -> AsyncGenerator[ServerSentEventMessage, None]:
    """`changed` for every message the actor may read; `catch_up()` (run once subscribed, so
    nothing falls between) gives the id of anything missed since `Last-Event-ID`, or None."""
    async with channels.start_subscription(list(names)) as subscriber:

        async def keepalive() -> None:
            while True:
                await asyncio.sleep(KEEPALIVE_SECONDS)
                subscriber.put_nowait(_PING)

        ticker = asyncio.create_task(keepalive())
        try:
            missed = await catch_up()
            if missed is not None:
                yield ServerSentEventMessage(event="changed", id=missed, data="catch-up")
            async for raw in subscriber.iter_events():
                if raw == _PING:
                    yield ServerSentEventMessage(comment="keepalive")
                    continue
                moved = msgspec.json.decode(raw, type=Moved)
                if _may_read(actor, moved):
                    yield ServerSentEventMessage(
                        event="changed", id=str(getattr(moved, key)), data=moved.stream
                    )
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker


def _last_event_id(request: Request[Any, Any, Any]) -> str | None:
    """What the reader has seen: the stream's own `Last-Event-ID` on a reconnection, else what
    the page was rendered from."""
    return request.headers.get("last-event-id") or request.query_params.get("after") or None


@get(
    "/live/purchase-orders/{number:str}",
    name="live-purchase-order",
    include_in_schema=False,
    opt=requires(PO_READ),
)
async def purchase_order_live(
    request: Request[Any, Any, Any],
    actor: NamedDependency[Actor],
    channels: ChannelsPlugin,
    number: FromPath[str],
) -> ServerSentEvent:
    """One purchase order's changes, for its open page. Another organisation's order is 404,
    exactly as its page is."""
    stream = po_stream(number)
    await timeline.read(actor, stream, limit=1)  # NotFound for another tenant's order
    last = _last_event_id(request)

    async def catch_up() -> str | None:
        if last is None or not last.isdigit():
            return None
        newer = await timeline.read(actor, stream, after_seq=int(last))
        return str(newer[-1].seq) if newer else None

    return ServerSentEvent(
        _events(channels, [stream_channel(stream)], actor, catch_up, "seq"),
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@get(
    "/live/purchase-orders",
    name="live-purchase-orders",
    include_in_schema=False,
    opt=requires(PO_READ),
)
async def purchase_orders_live(
    request: Request[Any, Any, Any], actor: NamedDependency[Actor], channels: ChannelsPlugin
) -> ServerSentEvent:
    """Changes to the purchase orders the caller may list: a supplier's own, or all of them
    for our staff."""
    if actor.side == Side.INTERNAL:
        channel = po_list_channel(ALL_SUPPLIERS)
    elif actor.side == Side.SUPPLIER and actor.org:
        channel = po_list_channel(actor.org)
    else:
        raise NotFound("There are no purchase orders for you to follow.")
    last = _last_event_id(request)

    async def catch_up() -> str | None:
        if last is None:
            return None
        try:
            since = datetime.fromisoformat(last)
        except ValueError:
            return None
        query = scope_purchase_orders(
            actor,
            t.PurchaseOrder.select(t.PurchaseOrder.updated_at)
            .where(t.PurchaseOrder.updated_at > since)
            .order_by(t.PurchaseOrder.updated_at, ascending=False),
        )
        row = await query.first().run() if query is not None else None
        return row["updated_at"].isoformat() if row else None

    return ServerSentEvent(
        _events(channels, [channel], actor, catch_up, "at"),
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


ROUTES = [purchase_order_live, purchase_orders_live]
