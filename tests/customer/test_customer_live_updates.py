"""Live updates of the customer workspace, read as a browser reads them (server-sent events), on
SQLite and PostgreSQL: when Acme's system moves a promise through the API, Contoso's open order
page and order list hear `changed`, and the page fetched again shows the new date; another
customer hears nothing, and a page that connects late catches up from the id it last saw."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

import httpx
from auth_support import DEFAULT_PASSWORD, sign_in
from customer_support import (
    CARL,
    FIONA,
    SUPPLIER_SCOPE,
    bearer,
    portal,
    row_of,
    supplier_api_moves_promise,
    tell_the_story,
)

from portal.db.database import Database

WAIT = 10.0
"""Seconds an expected event may take; a missing one fails the test after this long."""
EN = {"Accept-Language": "en"}


@dataclass
class Stream:
    response: httpx.Response
    lines: AsyncIterator[str]

    async def next_event(self) -> dict[str, str]:
        fields: dict[str, str] = {}
        while True:
            line = await asyncio.wait_for(anext(self.lines), WAIT)
            if line.startswith(":"):
                continue
            if not line:
                if fields:
                    return fields
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")

    async def nothing_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self.next_event(), seconds)
        except TimeoutError:
            return True
        return False


async def open_stream(browser: httpx.AsyncClient, path: str, **headers: str) -> Stream:
    response = await browser.send(browser.build_request("GET", path, headers=headers), stream=True)
    assert response.status_code == 200, path
    assert response.headers["content-type"].startswith("text/event-stream")
    return Stream(response, response.aiter_lines())


async def test_a_moved_promise_reaches_the_customers_open_pages(
    db: Database, database_url: str
) -> None:
    await tell_the_story(db)
    async with portal(database_url, auto_approve_days=30) as carl:
        acme = await bearer(carl, "acme-erp", "ACME", role="supplier", scope=SUPPLIER_SCOPE)
        async with carl.another("10.0.0.9") as fiona:
            reached = await sign_in(fiona, FIONA, DEFAULT_PASSWORD)
            assert reached.status_code == 200
            order = await open_stream(carl, "/live/orders/SO-1")
            listing = await open_stream(carl, "/live/orders")
            stranger = await open_stream(fiona, "/live/orders")

            await supplier_api_moves_promise(carl, acme, date(2027, 1, 20), acknowledge_first=True)

            changed = await order.next_event()
            assert changed["event"] == "changed" and changed["data"] == "so/SO-1"
            assert int(changed["id"]) >= 3
            listed = await listing.next_event()
            assert listed["event"] == "changed" and listed["data"] == "so/SO-1"
            assert await stranger.nothing_within(1.0)
            for stream in (order, listing, stranger):
                await stream.response.aclose()

        # What the page fetches on `changed`: the new date, and why.
        page = (await carl.get("/orders/SO-1", headers={**EN, "HX-Request": "true"})).text
        assert "<ins>Jan 22, 2027</ins>" in row_of(page, "BOLT-M8")
        assert "Our supply schedule changed" in page

        # A page that reconnects from an older id is told at once that it missed something.
        late = await open_stream(carl, "/live/orders/SO-1", **{"Last-Event-ID": "2"})
        caught = await late.next_event()
        assert caught["data"] == "catch-up" and int(caught["id"]) > 2
        await late.response.aclose()


async def test_another_customers_order_stream_is_not_found(db: Database, database_url: str) -> None:
    await tell_the_story(db)
    async with portal(database_url, as_user=FIONA) as fiona:
        answer = await fiona.get("/live/orders/SO-1")
    assert answer.status_code == 404
    async with portal(database_url, as_user=CARL) as carl:
        assert (await carl.get("/live/orders/SO-9")).status_code == 404
