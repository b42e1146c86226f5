"""The bell's stream: `/live/notifications` says `changed` when a notification for its user is
published on `notify:<user id>` (as the dispatcher does after its fan-out), never for another
user's; the bell fragment fetched then shows the new count. SQLite and PostgreSQL; the streams
are read in-process as a browser reads them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import msgspec
from centre_support import Stream, World, count_of, running, seed_orders

from portal.db.database import Database
from portal.notify.live import Moved, notify_channel


async def open_bell(world: World, browser: httpx.AsyncClient) -> Stream:
    response = await browser.send(browser.build_request("GET", "/live/notifications"), stream=True)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    stream = Stream(response, response.aiter_lines())
    # Once open, the stream says "changed" at once: the bell counts again whatever arrived
    # before it was connected.
    opened = await stream.next_event()
    assert opened["event"] == "changed"
    return stream


def marker(name: str) -> bytes:
    """A message that names itself, so a test can tell which one a stream passed on."""
    return msgspec.json.encode(
        Moved(
            stream=name,
            seq=1,
            audience="internal,supplier,customer",
            at=datetime.now(UTC).isoformat(),
        )
    )


async def test_the_bell_hears_its_own_users_channel_only(db: Database, database_url: str) -> None:
    async with running(database_url) as world:
        ann = await world.signed_in("ann@cus.test")
        stream = await open_bell(world, ann)
        users = world.users
        # Bob's notification first, then Ann's: the first thing Ann's stream passes on is hers.
        await world.channels.wait_published(
            marker("for-bob"), [notify_channel(users["bob@cus.test"])]
        )
        await world.channels.wait_published(
            marker("for-ann"), [notify_channel(users["ann@cus.test"])]
        )
        heard = await stream.next_event()
        assert heard["event"] == "changed"
        assert heard["data"] == "for-ann"
        await stream.response.aclose()


async def test_a_shipment_rings_the_customers_bell_through_the_dispatcher(
    db: Database, database_url: str
) -> None:
    async with running(database_url) as world:
        await seed_orders(world.db)
        ann = await world.signed_in("ann@cus.test")
        eve = await world.signed_in("eve@cus2.test")
        assert count_of((await ann.get("/notifications/bell")).text) == "0"
        ann_stream = await open_bell(world, ann)
        eve_stream = await open_bell(world, eve)

        assert await world.ship("SO-CUS-1", "SF Express", "SF777", date(2026, 12, 9)) > 0

        heard = await ann_stream.next_event()
        assert heard["event"] == "changed"
        assert heard["data"] == "notify"  # what the dispatcher publishes
        # The shipment, and the expected date the line got when it was linked to its purchase
        # order (both waited in the outbox for this round of the dispatcher).
        assert count_of((await ann.get("/notifications/bell")).text) == "2"

        # Eve (another customer) heard nothing of it: the next thing on her stream is hers.
        await world.channels.wait_published(
            marker("for-eve"), [notify_channel(world.users["eve@cus2.test"])]
        )
        assert (await eve_stream.next_event())["data"] == "for-eve"
        assert count_of((await eve.get("/notifications/bell")).text) == "0"
        for stream in (ann_stream, eve_stream):
            await stream.response.aclose()


async def test_the_stream_is_for_signed_in_users_only(db: Database, database_url: str) -> None:
    async with running(database_url) as world:
        anonymous = world.browser()
        refused = await anonymous.get("/live/notifications", follow_redirects=False)
        assert refused.status_code == 303
        assert refused.headers["location"].startswith("/sign-in?next=")
