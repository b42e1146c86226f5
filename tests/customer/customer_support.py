"""The customer workspace's story, made through the real service commands, and clients for the
real application over the same database: signed in as a person through the real sign-in form,
anonymous, or holding a bearer token from the real token endpoint.

Contoso (CUST) has SO-1, its line following Acme's PO-1, and SO-2, unlinked; Fabrikam (OTHER),
another customer, has SO-9; Janus (BOTH), supplier and customer at once, has SO-B.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache

import httpx
from asgi_stream import StreamingASGITransport
from auth_support import DEFAULT_PASSWORD, TEST_SECRET_KEY, add_client, sign_in
from litestar import Litestar

from portal.app import create_app
from portal.auth.passwords import hash_password
from portal.db import tables as t
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.changes import TolerancePolicy
from portal.domain.orders import POLine, SalesLine
from portal.domain.schedule import Schedule
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge
from portal.services.comments import AddComment, OrderKind, add_comment
from portal.services.promises import UpdatePromise, update_promise
from portal.services.purchase_orders import IssuePurchaseOrder, issue_purchase_order
from portal.services.sales_orders import (
    AdvanceSalesOrder,
    CreateSalesOrder,
    LinkSalesLine,
    Progress,
    advance_sales_order,
    create_sales_order,
    link_sales_line,
)
from portal.services.unit_of_work import Rules, UnitOfWork
from portal.settings import Settings

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
BASE_URL = "https://testserver.local"
BUYER = Actor(ActorKind.USER, "u-buyer", "HOME", Side.INTERNAL, "Wang Fang", Via.WEB, "buyer")
SALES_ACTOR = Actor(ActorKind.USER, "u-sales", "HOME", Side.INTERNAL, "Chen Jing", Via.WEB, "sales")
SUPPLIER = Actor(ActorKind.USER, "u-sup", "ACME", Side.SUPPLIER, "Li Lei", Via.WEB, "supplier")
WITHIN_TOLERANCE = Rules(tolerance=TolerancePolicy(max_date_move_days=30))

ORGANISATIONS = [
    ("HOME", "Our Company", "internal"),
    ("ACME", "Acme Fasteners", "supplier"),
    ("CUST", "Contoso Retail", "customer"),
    ("OTHER", "Fabrikam Stores", "customer"),
    ("BOTH", "Janus Trading", "both"),
]
SALES = "chen.jing@home.example"
CARL = "carl@contoso.example"
FIONA = "fiona@fabrikam.example"
JANUS = "jan@janus.example"
PEOPLE = [
    (SALES, "HOME", "sales", "Chen Jing"),
    ("li.lei@acme.example", "ACME", "supplier", "Li Lei"),
    (CARL, "CUST", "customer", "Carl"),
    (FIONA, "OTHER", "customer", "Fiona"),
    (JANUS, "BOTH", "customer", "Jan"),
]
CONTACT_EMAIL = "Buyer@Contoso.example"
CONTACT_PHONE = "+86 21 5555-0101"
SECRETS = ("ACME", "Acme Fasteners", "Li Lei", "PO-1", "Line 3 is down", "Wang Fang")
"""What a customer must never read: the supplier, its person, our PO, what it said to us."""
REQUESTED = date(2027, 1, 15)
NEED = date(2027, 1, 11)


def uow(db: Database, rules: Rules | None = None) -> UnitOfWork:
    return UnitOfWork(db, rules, clock=lambda: AT) if rules else UnitOfWork(db, clock=lambda: AT)


@cache
def password_hash() -> str:
    return hash_password(DEFAULT_PASSWORD)


def settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "base_url": BASE_URL,
        "secret_key": TEST_SECRET_KEY,
        "time_zone": "UTC",
        "default_locale": "en",
        # The story's commands run beside the app on their own engine; an in-process
        # dispatcher writing meanwhile would make SQLite answer "database is locked". The
        # notifications are the dispatcher's tests' subject, not these.
        "dispatcher": False,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


def sales_line(line_no: int, item: str, quantity: int, requested: date = REQUESTED) -> SalesLine:
    return SalesLine(
        line_no,
        item,
        f"{item} part",
        Decimal(quantity),
        "pcs",
        Decimal("0.80"),
        requested,
        requested,
    )


async def version_of(number: str) -> int:
    for table in (t.SalesOrder, t.PurchaseOrder):
        row = await table.select(table.version).where(table.number == number).first().run()
        if row:
            return int(row["version"])
    raise AssertionError(f"no order {number}")


async def tell_the_story(db: Database) -> None:
    """Orders placed and linked; nothing acknowledged, promised or shipped yet."""
    await t.Organisation.insert(
        *[t.Organisation(code=code, name=name, kind=kind) for code, name, kind in ORGANISATIONS]
    ).run()
    await t.AppUser.insert(
        *[
            t.AppUser(
                email=email,
                display_name=name,
                org=org,
                role=role,
                locale="",
                time_zone="",
                password_hash=password_hash(),
            )
            for email, org, role, name in PEOPLE
        ]
    ).run()
    line = POLine(1, "BOLT-M8", "Hex bolt M8", Decimal(100), "pcs", Decimal("0.35"), NEED)
    await issue_purchase_order(
        uow(db), BUYER, IssuePurchaseOrder("ACME", "CNY", [line], number="PO-1")
    )
    orders = [
        ("SO-1", "CUST", [sales_line(1, "BOLT-M8", 100)]),
        ("SO-2", "CUST", [sales_line(1, "NUT-M6", 50, date(2027, 2, 1))]),
        ("SO-9", "OTHER", [sales_line(1, "WASHER-8", 10)]),
        ("SO-B", "BOTH", [sales_line(1, "RIVET-4", 20)]),
    ]
    for number, customer, lines in orders:
        await create_sales_order(
            uow(db),
            SALES_ACTOR,
            CreateSalesOrder(
                customer,
                "CNY",
                lines,
                contact_email=CONTACT_EMAIL if number == "SO-1" else f"{number}@example.com",
                contact_phone=CONTACT_PHONE if number == "SO-1" else "",
                number=number,
            ),
        )
    await link_sales_line(
        uow(db), SALES_ACTOR, LinkSalesLine("SO-1", await version_of("SO-1"), 1, "PO-1", 1)
    )


async def supplier_acknowledges(db: Database) -> None:
    await acknowledge(
        uow(db), SUPPLIER, Acknowledge("PO-1", await version_of("PO-1"), Decision.ACCEPT)
    )


async def supplier_moves_promise(db: Database, to: date) -> None:
    """Within the tolerance, so it applies at once (and moves SO-1 line 1)."""
    await update_promise(
        uow(db, WITHIN_TOLERANCE),
        SUPPLIER,
        UpdatePromise(
            "PO-1",
            await version_of("PO-1"),
            1,
            Schedule.single(Decimal(100), to),
            "capacity",
            "Line 3 is down for maintenance",
        ),
    )


async def ship(db: Database, number: str, carrier: str, tracking_no: str) -> None:
    await advance_sales_order(
        uow(db),
        SALES_ACTOR,
        AdvanceSalesOrder(
            number,
            await version_of(number),
            Progress.SHIP,
            on=date(2027, 1, 20),
            carrier=carrier,
            tracking_no=tracking_no,
        ),
    )


async def deliver(db: Database, number: str) -> None:
    await advance_sales_order(
        uow(db),
        SALES_ACTOR,
        AdvanceSalesOrder(number, await version_of(number), Progress.DELIVER, on=date(2027, 1, 22)),
    )


async def comment(db: Database, number: str, text: str, *, internal_only: bool = False) -> None:
    await add_comment(
        uow(db), SALES_ACTOR, AddComment(OrderKind.SALES, number, text, internal_only)
    )


class PortalClient(httpx.AsyncClient):
    """A browser (or a system) calling the running app in the test's own event loop, so that
    the app and the test's commands share one database engine."""

    def __init__(self, app: Litestar, address: str = "127.0.0.1") -> None:
        self.app = app
        super().__init__(
            transport=StreamingASGITransport(app, client=(address, 50000)),
            base_url=BASE_URL,
            timeout=30,
        )

    @property
    def db(self) -> Database:
        """The app's database: the tables are bound to its engine while it runs."""
        database: Database = self.app.state.db
        return database

    def another(self, address: str) -> PortalClient:
        """Another browser, from another address, on the same app."""
        return PortalClient(self.app, address)


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
async def portal(
    database_url: str, *, as_user: str | None = CARL, **overrides: object
) -> AsyncIterator[PortalClient]:
    """The application, running, and a client signed in as `as_user` (anonymous with None)."""
    app = create_app(settings(database_url, **overrides))
    async with running(app), PortalClient(app) as client:
        if as_user is not None:
            reached = await sign_in(client, as_user, DEFAULT_PASSWORD)
            assert reached.status_code == 200, reached.text
        yield client


async def bearer(
    client: httpx.AsyncClient,
    client_id: str,
    org: str,
    *,
    role: str = "customer",
    scope: str = "order:read",
) -> dict[str, str]:
    """The Authorization header of a system's token (client credentials), a customer's by
    default."""
    secret = f"secret-of-{client_id}-0123456789"
    await add_client(client_id, org=org, role=role, scope=scope, secret=secret)
    answer = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(client_id, secret),
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


SUPPLIER_SCOPE = "po:read po:acknowledge po:promise"


async def supplier_api_moves_promise(
    client: httpx.AsyncClient, auth: dict[str, str], to: date, *, acknowledge_first: bool
) -> None:
    """Acme's system answers PO-1 through the real API (so the app announces what changed)."""
    order = (await client.get("/api/v1/purchase-orders/PO-1", headers=auth)).json()
    version = order["version"]
    if acknowledge_first:
        answer = await client.post(
            "/api/v1/purchase-orders/PO-1/acknowledgement",
            json={"decision": "accept", "version": version},
            headers=auth,
        )
        assert answer.status_code == 200, answer.text
        version = answer.json()["purchase_order"]["version"]
    moved = await client.put(
        "/api/v1/purchase-orders/PO-1/lines/1/promise",
        json={"date": to.isoformat(), "reason_code": "capacity", "version": version},
        headers=auth,
    )
    assert moved.status_code == 200, moved.text


def row_of(html: str, text: str) -> str:
    for row in re.findall(r"<tr\b.*?</tr>", html, flags=re.S):
        if text in row:
            return str(row)
    raise AssertionError(f"no table row contains {text!r}")


def timeline_titles(html: str) -> list[str]:
    return re.findall(r'<strong class="event-title">([^<]+)</strong>', html)


def text_of(html: str) -> str:
    """The page's visible text, roughly: tags removed, whitespace squeezed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()
