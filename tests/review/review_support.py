"""A world for the change-request review tests: our buyer, Acme (supplier) and Contoso
(customer); purchase orders accepted by Acme with customer lines linked to them; change
requests Acme opens through the real service; the real application over the same database,
called in the test's own event loop (httpx's ASGI transport), by a signed-in browser-like
client or by an OAuth client with its bearer token.

Imported by the tests of this folder as `review_support` (pytest puts the folder on the path).
Dates are counted from today: the portal refuses promises for days already gone.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from auth_support import (
    DEFAULT_PASSWORD,
    TEST_SECRET_KEY,
    add_client,
    secure_cookie_client,
    sign_in,
)
from litestar import Litestar

from portal.app import create_app
from portal.auth import scopes as s
from portal.auth.passwords import hash_password
from portal.db import tables as t
from portal.db import timeline
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.changes import ChangeKind, LineChange
from portal.domain.events import Event, po_stream, so_stream
from portal.domain.orders import POLine, SalesLine
from portal.domain.schedule import Schedule
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge
from portal.services.change_requests import OpenChangeRequest, open_change_request
from portal.services.purchase_orders import IssuePurchaseOrder, issue_purchase_order
from portal.services.sales_orders import (
    CreateSalesOrder,
    LinkSalesLine,
    create_sales_order,
    link_sales_line,
)
from portal.services.unit_of_work import UnitOfWork
from portal.settings import Settings

BASE_URL = "https://testserver.local"
TODAY = datetime.now(UTC).date()
NEED = TODAY + timedelta(days=30)
HANDLING = 2
"""Our handling days (the rules' default): a customer line is expected two days after its
purchase order line's promise."""

BUYER = Actor(ActorKind.USER, "u-buyer", "HOME", Side.INTERNAL, "Wang Fang", Via.WEB, "buyer")
ACME = Actor(ActorKind.USER, "u-li", "ACME", Side.SUPPLIER, "Li Lei", Via.WEB, "supplier")
READER = Actor(ActorKind.SYSTEM, None, None, Side.INTERNAL, "test", Via.SYSTEM)
"""Reads everything, for the tests' own checks."""

BUYER_USER = "wang.fang@home.example"
ACME_USER = "li.lei@acme.example"
PEOPLE = [
    (BUYER_USER, "HOME", "buyer", "Wang Fang"),
    (ACME_USER, "ACME", "supplier", "Li Lei"),
]
CLIENTS = {
    "home-buyer": ("HOME", "buyer", s.render(s.ROLE_SCOPES["buyer"])),
    "acme-erp": ("ACME", "supplier", s.render(s.ROLE_SCOPES["supplier"])),
}
EN = {"Accept-Language": "en"}
HX = {**EN, "HX-Request": "true"}


def secret_of(client_id: str) -> str:
    return f"secret-of-{client_id}-0123456789"


def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        base_url=BASE_URL,
        secret_key=TEST_SECRET_KEY,
        default_locale="en",
        time_zone="UTC",
        # Timelines are asserted entry by entry; the dispatcher's own entries are not ours.
        dispatcher=False,
    )


_HASH: list[str] = []


async def seed() -> None:
    await t.Organisation.insert(
        t.Organisation(code="HOME", name="Our Company", kind="internal"),
        t.Organisation(code="ACME", name="Acme Fasteners", kind="supplier"),
        t.Organisation(code="CUST", name="Contoso Retail", kind="customer"),
    ).run()
    if not _HASH:
        _HASH.append(hash_password(DEFAULT_PASSWORD))
    await t.AppUser.insert(
        *[
            t.AppUser(
                email=email,
                display_name=name,
                org=org,
                role=role,
                locale="en",
                time_zone="UTC",
                password_hash=_HASH[0],
            )
            for email, org, role, name in PEOPLE
        ]
    ).run()
    for client_id, (org, role, scope) in CLIENTS.items():
        await add_client(client_id, org=org, role=role, scope=scope, secret=secret_of(client_id))


@dataclass
class World:
    http: httpx.AsyncClient
    db: Database
    transport: httpx.ASGITransport

    def uow(self, clock: Callable[[], datetime] | None = None) -> UnitOfWork:
        return UnitOfWork(self.db, clock=clock) if clock else UnitOfWork(self.db)

    async def accepted_po(self, number: str, quantities: tuple[int, ...] = (100,)) -> int:
        """Issued to Acme, every line needed on NEED, accepted as ordered (so promised on
        NEED); returns its version."""
        lines = [
            POLine(no, f"ITEM-{no}", f"Item {no}", Decimal(q), "pcs", Decimal("0.35"), NEED)
            for no, q in enumerate(quantities, start=1)
        ]
        po = await issue_purchase_order(
            self.uow(), BUYER, IssuePurchaseOrder("ACME", "CNY", lines, number=number)
        )
        done = await acknowledge(self.uow(), ACME, Acknowledge(number, po.version, Decision.ACCEPT))
        return done.po.version

    async def customer_line(
        self, so_number: str, po_number: str, po_line_no: int, requested: date, qty: int = 100
    ) -> None:
        """Contoso orders `qty` of the PO line's item, wanted on `requested`, linked to it."""
        line = SalesLine(
            1,
            f"ITEM-{po_line_no}",
            f"Item {po_line_no}",
            Decimal(qty),
            "pcs",
            Decimal("0.80"),
            requested,
            requested,
        )
        so = await create_sales_order(
            self.uow(),
            BUYER,
            CreateSalesOrder(
                "CUST", "CNY", [line], contact_email="buyer@contoso.example", number=so_number
            ),
        )
        await link_sales_line(
            self.uow(), BUYER, LinkSalesLine(so_number, so.version, 1, po_number, po_line_no)
        )

    async def version(self, number: str) -> int:
        row = (
            await t.PurchaseOrder.select(t.PurchaseOrder.version)
            .where(t.PurchaseOrder.number == number)
            .first()
            .run()
        )
        assert row is not None
        return int(row["version"])

    async def supplier_asks(
        self,
        po_number: str,
        *changes: LineChange,
        hours_ago: int = 0,
        actor: Actor = ACME,
    ) -> str:
        """Acme (or `actor`) opens a change request; `hours_ago` dates it back, so its SLA due
        time (opened + 24 h) may already have passed."""
        opened = datetime.now(UTC) - timedelta(hours=hours_ago)
        cr = await open_change_request(
            self.uow(clock=lambda: opened),
            actor,
            OpenChangeRequest(
                po_number, await self.version(po_number), changes, "capacity", "Line down"
            ),
        )
        return cr.number

    async def po_events(self, number: str) -> list[Event]:
        return await timeline.read(READER, po_stream(number))

    async def so_events(self, number: str) -> list[Event]:
        return await timeline.read(READER, so_stream(number))

    async def cr(self, number: str) -> dict[str, Any]:
        row = await t.ChangeRequest.select().where(t.ChangeRequest.number == number).first().run()
        assert row is not None
        return row

    async def cr_count(self, po_number: str) -> int:
        return int(
            await t.ChangeRequest.count().where(t.ChangeRequest.po._.number == po_number).run()
        )

    async def browser(self, email: str) -> httpx.AsyncClient:
        client = secure_cookie_client(BASE_URL, transport=self.transport)
        reached = await sign_in(client, email, DEFAULT_PASSWORD)
        assert reached.status_code == 200, reached.text
        return client

    async def bearer(self, client_id: str) -> dict[str, str]:
        answer = await self.http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, secret_of(client_id)),
        )
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}", **EN}


def later(days: int) -> LineChange:
    """Line 1 promised `days` after the need date (what is left: 100)."""
    return LineChange(
        1, ChangeKind.DATE, schedule=Schedule.single(Decimal(100), NEED + timedelta(days))
    )


def kinds(events: list[Event]) -> list[str]:
    return [event.kind for event in events]


def csrf(client: httpx.AsyncClient) -> dict[str, str]:
    return {"_csrf_token": client.cookies["__Host-csrftoken"]}


def version_in(html: str, action: str) -> str:
    """The version a form posting to `action` carries."""
    form = re.search(rf'<form[^>]*action="{re.escape(action)}".*?</form>', html, flags=re.S)
    assert form, f"no form posts to {action}"
    found = re.search(r'name="version" value="(\d+)"', form[0])
    assert found
    return found[1]


@asynccontextmanager
async def running(app: Litestar) -> AsyncIterator[None]:
    """The app's lifespan, entered and left by one task of its own."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def serve() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(serve())
    waiting = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiting.cancel()
        task.result()
    try:
        yield
    finally:
        stop.set()
        await task


@asynccontextmanager
async def world_over(db: Database, database_url: str) -> AsyncIterator[World]:
    await seed()
    app = create_app(settings(database_url))
    async with running(app):
        transport = httpx.ASGITransport(app=app, client=("10.1.0.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            yield World(http, app.state.db, transport)
