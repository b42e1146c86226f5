"""Live updates: a change committed through the API reaches the open pages that may see it, as a
server-sent `changed` event naming the new timeline position; other tenants hear nothing, and a
page that connects late still learns what it missed. SQLite and PostgreSQL; the app runs
in-process and its streams are read as a browser reads them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from asgi_stream import StreamingASGITransport
from auth_support import DEFAULT_PASSWORD, TEST_SECRET_KEY, add_client, add_org, add_user, sign_in

from portal.app import create_app
from portal.auth import scopes as s
from portal.db import timeline
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.events import po_stream
from portal.domain.orders import POLine
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge
from portal.services.purchase_orders import IssuePurchaseOrder, issue_purchase_order
from portal.services.unit_of_work import UnitOfWork
from portal.settings import Settings

BASE_URL = "https://portal.test"
NEED = datetime.now(UTC).date() + timedelta(days=30)
BUYER = Actor(ActorKind.USER, "u-buyer", "HOME", Side.INTERNAL, "Wang Fang", Via.WEB, "buyer")
WAIT = 10.0
"""Seconds an expected event may take; a missing one fails the test after this long."""


@dataclass
class Stream:
    response: httpx.Response
    lines: AsyncIterator[str]

    async def next_event(self) -> dict[str, str]:
        """The next SSE event's fields (keep-alive comments skipped)."""
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


@dataclass
class World:
    app_http: httpx.AsyncClient
    db: Database
    app: object

    def browser(self, address: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=StreamingASGITransport(self.app, client=(address, 50000)),
            base_url=BASE_URL,
        )

    async def signed_in(self, email: str, address: str) -> httpx.AsyncClient:
        browser = self.browser(address)
        page = await sign_in(browser, email, DEFAULT_PASSWORD)
        assert page.status_code == 200, page.text
        return browser

    async def open(self, browser: httpx.AsyncClient, path: str, **headers: str) -> Stream:
        response = await browser.send(
            browser.build_request("GET", path, headers=headers), stream=True
        )
        return Stream(response, response.aiter_lines())

    async def move_promise(self, number: str, days: int, client_id: str = "acme-erp") -> None:
        answer = await self.app_http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, f"{client_id}-secret-0123456789"),
        )
        bearer = answer.json()["access_token"]
        current = await self.app_http.get(
            f"/api/v1/purchase-orders/{number}", headers={"Authorization": f"Bearer {bearer}"}
        )
        moved = await self.app_http.put(
            f"/api/v1/purchase-orders/{number}/lines/1/promise",
            json={
                "date": (NEED + timedelta(days=days)).isoformat(),
                "reason_code": "capacity",
                "version": current.json()["version"],
            },
            headers={"Authorization": f"Bearer {bearer}"},
        )
        assert moved.status_code in (200, 202), moved.text


async def accepted(db: Database, number: str, supplier: str) -> None:
    uow = UnitOfWork(db)
    po = await issue_purchase_order(
        uow,
        BUYER,
        IssuePurchaseOrder(
            supplier,
            "CNY",
            [POLine(1, "BOLT-M8", "Hex bolt", Decimal(100), "pcs", Decimal("0.35"), NEED)],
            number=number,
        ),
    )
    who = Actor(ActorKind.USER, "u-sup", supplier, Side.SUPPLIER, "Supplier user", Via.WEB)
    await acknowledge(UnitOfWork(db), who, Acknowledge(number, po.version, Decision.ACCEPT))


@asynccontextmanager
async def running(database_url: str) -> AsyncIterator[World]:
    """The app with its lifespan entered and left in the test's own task (anyio's task groups
    in the lifespan refuse to be left from another task, as a fixture's teardown would)."""
    for code, kind in (("HOME", "internal"), ("ACME", "supplier"), ("BOLT", "supplier")):
        await add_org(code, kind)
    await add_user("buyer@home.test", org="HOME", role="buyer")
    await add_user("li@acme.test", org="ACME", role="supplier")
    await add_user("zhou@bolt.test", org="BOLT", role="supplier")
    for client_id, org in (("acme-erp", "ACME"), ("bolt-erp", "BOLT")):
        await add_client(
            client_id,
            org=org,
            role="supplier",
            scope=s.render(s.ROLE_SCOPES["supplier"]),
            secret=f"{client_id}-secret-0123456789",
        )
    app = create_app(
        # No dispatcher: what is heard here is the orders' own changes, not the notices
        # the dispatcher would record after them (tests/notify covers those).
        Settings(
            database_url=database_url,
            base_url=BASE_URL,
            secret_key=TEST_SECRET_KEY,
            dispatcher=False,
        )
    )
    async with app.lifespan():
        bound: Database = app.state.db
        await accepted(bound, "PO-ACME-1", "ACME")
        await accepted(bound, "PO-BOLT-1", "BOLT")
        transport = StreamingASGITransport(app, client=("10.9.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            yield World(http, bound, app)


async def test_the_buyer_page_hears_the_supplier_move_a_promise(
    db: Database, database_url: str
) -> None:
    async with running(database_url) as world:
        buyer = await world.signed_in("buyer@home.test", "10.9.0.2")
        stream = await world.open(buyer, "/live/purchase-orders/PO-ACME-1")
        assert stream.response.status_code == 200
        assert stream.response.headers["content-type"].startswith("text/event-stream")

        await world.move_promise("PO-ACME-1", days=2)

        event = await stream.next_event()
        newest = (await timeline.read(BUYER, po_stream("PO-ACME-1")))[-1]
        assert event["event"] == "changed"
        assert event["id"] == str(newest.seq)
        assert newest.kind == "line.promise_changed"
        await stream.response.aclose()


async def test_a_supplier_hears_its_own_orders_only(db: Database, database_url: str) -> None:
    async with running(database_url) as world:
        acme = await world.signed_in("li@acme.test", "10.9.0.3")
        bolt = await world.signed_in("zhou@bolt.test", "10.9.0.4")

        refused = await world.open(bolt, "/live/purchase-orders/PO-ACME-1")
        assert refused.response.status_code == 404
        await refused.response.aclose()

        acme_list = await world.open(acme, "/live/purchase-orders")
        bolt_list = await world.open(bolt, "/live/purchase-orders")
        await world.move_promise("PO-ACME-1", days=1)
        heard = await acme_list.next_event()
        assert heard["event"] == "changed"
        assert heard["data"] == "po/PO-ACME-1"

        # Bolt's list hears its own order move next, and never Acme's before it.
        await world.move_promise("PO-BOLT-1", days=1, client_id="bolt-erp")
        first = await bolt_list.next_event()
        assert first["data"] == "po/PO-BOLT-1"
        for stream in (acme_list, bolt_list):
            await stream.response.aclose()


async def test_a_page_that_connects_late_catches_up(db: Database, database_url: str) -> None:
    async with running(database_url) as world:
        buyer = await world.signed_in("buyer@home.test", "10.9.0.5")
        shown = (await timeline.read(BUYER, po_stream("PO-ACME-1")))[-1].seq
        await world.move_promise("PO-ACME-1", days=2)  # while the page was still loading

        late = await world.open(buyer, f"/live/purchase-orders/PO-ACME-1?after={shown}")
        caught = await late.next_event()
        assert caught["event"] == "changed"
        assert int(caught["id"]) > shown
        await late.response.aclose()

        # Up to date already: nothing to catch up on.
        current = await world.open(buyer, f"/live/purchase-orders/PO-ACME-1?after={caught['id']}")
        assert await current.nothing_within(0.5)
        await current.response.aclose()
