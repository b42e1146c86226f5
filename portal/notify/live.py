"""Live updates: after a command commits, every order it changed is announced on a channel;
open pages listen through server-sent events and fetch again the part that changed.

A message says only *which* order moved (its stream, the new seq, who may read the events), never
what changed: the page fetches the new fragment through its ordinary, access-checked route, so
nothing reaches a reader that the page itself would not show (and a message stays far below
PostgreSQL's 8000-byte NOTIFY limit). Channels:

- `stream:<stream>`: one order (`stream:po/PO-2026-00001`), for its open detail page;
- `po-list:<supplier code>` and `po-list:*` (internal): the purchase order lists;
- `so-list:<customer code>` and `so-list:*` (internal): the sales order lists;
- `notify:<user id>`: one user's notifications (the dispatcher publishes there).

SSE event names: `changed` (something the reader may see moved; `id:` is the stream's seq on an
order page, the change's time on a list), and a comment line every `KEEPALIVE_SECONDS` so proxies
keep the connection and a closed tab is noticed. A reconnecting browser sends the last id it saw
(`Last-Event-ID`) and gets one `changed` at once if it missed anything. A page puts the id of
what it shows in the URL (`?after=`), so a change committed between rendering the page and
opening the stream is not lost either. No backend keeps history: catching up always reads the
database.

Backends (`plugin(settings)`): in-process memory for SQLite (the embedded default runs one web
process); PostgreSQL LISTEN/NOTIFY when the database is PostgreSQL, so every web process and
`portal worker` reach each other's listeners through the database they share; Redis pub/sub
when `channels_url` is redis://. Between processes channel names travel hashed (`SafeNames`):
a PostgreSQL channel is an identifier of at most 63 bytes, and one Redis may serve several
portals (or test databases), so the name also carries the database it belongs to.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

import msgspec
from litestar import Request, get
from litestar.channels import ChannelsBackend, ChannelsPlugin
from litestar.channels.backends.asyncpg import AsyncPgChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import ServerSentEvent, ServerSentEventMessage
from piccolo.columns import Timestamptz

from portal.auth.guards import requires
from portal.auth.scopes import PO_READ
from portal.db import tables as t
from portal.db import timeline
from portal.db.database import without_password
from portal.db.repositories import scope_purchase_orders
from portal.domain.actors import Actor, Side
from portal.domain.errors import NotFound
from portal.domain.events import decode_audience, encode_audience, po_stream
from portal.domain.orders import PurchaseOrder, SalesOrder
from portal.services.unit_of_work import UnitOfWork
from portal.settings import Settings

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0
ALL_SUPPLIERS = "*"
ALL_CUSTOMERS = "*"
_PING = b""

Publish = Callable[[bytes, list[str]], Awaitable[None]]
"""Send one message to channels, as the dispatcher and `portal worker` do."""

CatchUp = Callable[[], Awaitable[str | None]]
"""The id of the newest thing the reader missed since its last event id, or None."""


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


def so_list_channel(customer: str) -> str:
    return f"so-list:{customer}"


def notify_channel(user_id: int | str) -> str:
    return f"notify:{user_id}"


# --- backends ----------------------------------------------------------------------------------


class SafeNames(ChannelsBackend):
    """Wraps a backend shared between processes: every channel name becomes
    `portal_<hash of namespace and name>`, the same in every process of one portal. PostgreSQL
    truncates a LISTEN identifier at 63 bytes but refuses a longer pg_notify channel, so long
    order numbers would otherwise never meet; the namespace (the database) keeps two portals
    on one Redis apart. A failed publish is logged, never raised: Litestar's publishing task
    would die with it and no later message would go out."""

    def __init__(self, inner: ChannelsBackend, namespace: str) -> None:
        self._inner = inner
        self._namespace = namespace
        self._names: dict[str, str] = {}
        self._count: dict[str, int] = {}

    def safe(self, channel: str) -> str:
        digest = hashlib.sha256(f"{self._namespace}\x00{channel}".encode()).hexdigest()[:32]
        self._names[f"portal_{digest}"] = channel
        return f"portal_{digest}"

    async def on_startup(self) -> None:
        await self._inner.on_startup()

    async def on_shutdown(self) -> None:
        await self._inner.on_shutdown()

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        try:
            await self._inner.publish(data, [self.safe(channel) for channel in channels])
        except Exception:
            log.exception("live update not published to %s", list(channels))

    async def subscribe(self, channels: Iterable[str]) -> None:
        # Counted: the plugin may ask to subscribe a channel again while its unsubscribe of the
        # same channel is still on its way (it yields between the two). The asyncpg backend
        # would then skip the LISTEN (still listening) and run the UNLISTEN after it, and the
        # new page would never hear a thing. Only the last unsubscribe reaches the backend.
        first = []
        for channel in channels:
            safe = self.safe(channel)
            self._count[safe] = self._count.get(safe, 0) + 1
            if self._count[safe] == 1:
                first.append(safe)
        if first:
            await self._inner.subscribe(first)

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        last = []
        for channel in channels:
            safe = self.safe(channel)
            left = self._count.get(safe, 0) - 1
            if left > 0:
                self._count[safe] = left
            else:
                self._count.pop(safe, None)
                last.append(safe)
        if last:
            await self._inner.unsubscribe(last)

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        async for safe, data in self._inner.stream_events():
            channel = self._names.get(safe)
            if channel is not None:
                yield channel, data

    async def get_history(self, channel: str, limit: int | None = None) -> list[bytes]:
        return []


def backend(settings: Settings) -> ChannelsBackend:
    """The backend the settings ask for (see the module's docstring)."""
    url = settings.channels_url
    if url.startswith(("redis://", "rediss://")):
        from litestar.channels.backends.redis import RedisChannelsPubSubBackend
        from redis.asyncio import Redis

        return SafeNames(
            RedisChannelsPubSubBackend(redis=Redis.from_url(url)),
            without_password(settings.database_url),
        )
    if url or not settings.is_sqlite:
        dsn = url or settings.database_url
        return SafeNames(AsyncPgChannelsBackend(dsn=_asyncpg_dsn(dsn)), "")
    return MemoryChannelsBackend()


def _asyncpg_dsn(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


def plugin(settings: Settings) -> ChannelsPlugin:
    return ChannelsPlugin(
        backend=backend(settings),
        arbitrary_channels_allowed=True,
        create_ws_route_handlers=False,
    )


def publisher(channels: ChannelsPlugin) -> Publish:
    """The web process's `Publish` (for the dispatcher running inside it)."""

    async def publish(data: bytes, names: list[str]) -> None:
        await channels.wait_published(data, names)

    return publish


@contextlib.asynccontextmanager
async def standalone_publisher(settings: Settings) -> AsyncIterator[Publish]:
    """A `Publish` for a process without the app (`portal worker`), on the web processes'
    backend. With SQLite (memory) there is nobody to reach: the publish does nothing, and
    the pages catch up from the database when they next connect."""
    chosen = backend(settings)
    if isinstance(chosen, MemoryChannelsBackend):

        async def nowhere(data: bytes, names: list[str]) -> None:
            return None

        yield nowhere
        return
    await chosen.on_startup()
    try:

        async def publish(data: bytes, names: list[str]) -> None:
            await chosen.publish(data, names)

        yield publish
    finally:
        await chosen.on_shutdown()


# --- announcing --------------------------------------------------------------------------------


def announcer(channels: ChannelsPlugin) -> Any:
    """The unit of work's `after_commit`: publish each changed stream once, at its last seq,
    on the order's own channel and on the lists it appears in."""

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
            if order.stream not in moved:
                continue
            if isinstance(order, PurchaseOrder):
                lists = [po_list_channel(order.supplier), po_list_channel(ALL_SUPPLIERS)]
            elif isinstance(order, SalesOrder):
                lists = [so_list_channel(order.customer), so_list_channel(ALL_CUSTOMERS)]
            else:
                continue
            channels.publish(moved[order.stream], lists)

    return announce


def _may_read(actor: Actor, moved: Moved) -> bool:
    return actor.side == Side.INTERNAL or actor.side in decode_audience(moved.audience)


async def events(
    channels: ChannelsPlugin, names: Iterable[str], actor: Actor, catch_up: CatchUp, key: str
) -> AsyncGenerator[ServerSentEventMessage, None]:
    """`changed` for every message the actor may read; `catch_up()` (run once subscribed, so
    nothing falls between) gives the id of anything missed since `Last-Event-ID`, or None.
    `key` is the `Moved` field sent as the event id: "seq" on an order's page, "at" on a list.

    A message that is not a `Moved` (a nudge on a user's own `notify:` channel, whatever its
    body) is passed on as `changed` without an id: only per-user channels may carry those."""
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
                    # A comment only: an empty `data:` line would reach the page as a message.
                    yield ServerSentEventMessage(comment="keepalive", data=None)
                    continue
                try:
                    moved = msgspec.json.decode(raw, type=Moved)
                except msgspec.DecodeError:
                    yield ServerSentEventMessage(event="changed", data="notify")
                    continue
                if _may_read(actor, moved):
                    yield ServerSentEventMessage(
                        event="changed", id=str(getattr(moved, key)), data=moved.stream
                    )
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker


def last_event_id(request: Request[Any, Any, Any]) -> str | None:
    """What the reader has seen: the stream's own `Last-Event-ID` on a reconnection, else what
    the page was rendered from."""
    return request.headers.get("last-event-id") or request.query_params.get("after") or None


SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


async def order_events(
    request: Request[Any, Any, Any], channels: ChannelsPlugin, actor: Actor, stream: str
) -> ServerSentEvent:
    """One order's changes, for its open page (`changed` with the stream's seq, catching up
    from the last seq seen). Another organisation's order is 404, exactly as its page is."""
    await timeline.read(actor, stream, limit=1)  # NotFound for another tenant's order
    last = last_event_id(request)

    async def catch_up() -> str | None:
        if last is None or not last.isdigit():
            return None
        newer = await timeline.read(actor, stream, after_seq=int(last))
        return str(newer[-1].seq) if newer else None

    return ServerSentEvent(
        events(channels, [stream_channel(stream)], actor, catch_up, "seq"), headers=SSE_HEADERS
    )


async def list_events(
    request: Request[Any, Any, Any],
    channels: ChannelsPlugin,
    actor: Actor,
    channel: str,
    updated_at: Timestamptz,
    scoped: Callable[[Actor, Any], Any | None],
) -> ServerSentEvent:
    """A list's changes (`changed` with the change's time): catching up is "has any order the
    actor may list (`scoped`, the repository's confinement) changed since the time seen?"."""
    last = last_event_id(request)

    async def catch_up() -> str | None:
        if last is None:
            return None
        try:
            since = datetime.fromisoformat(last)
        except ValueError:
            return None
        table = updated_at._meta.table
        query = scoped(
            actor,
            table.select(updated_at)
            .where(updated_at > since)
            .order_by(updated_at, ascending=False),
        )
        row = await query.first().run() if query is not None else None
        return row["updated_at"].isoformat() if row else None

    return ServerSentEvent(events(channels, [channel], actor, catch_up, "at"), headers=SSE_HEADERS)


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
    """One purchase order's changes, for its open page."""
    return await order_events(request, channels, actor, po_stream(number))


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
    return await list_events(
        request, channels, actor, channel, t.PurchaseOrder.updated_at, scope_purchase_orders
    )


ROUTES = [purchase_order_live, purchase_orders_live]
