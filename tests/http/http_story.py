"""The orders the page tests look at, made through the real service commands, the people who
look at them, and a client for the real application over the same database, signed in as one
of those people through the real sign-in form.

Imported by the tests of this folder as `http_story` (pytest puts the folder on the path).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache

from auth_support import DEFAULT_PASSWORD, TEST_SECRET_KEY, sign_in
from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.app import create_app
from portal.auth.passwords import hash_password
from portal.db import tables as t
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.changes import TolerancePolicy
from portal.domain.orders import POLine, SalesLine
from portal.domain.schedule import Schedule
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge
from portal.services.promises import UpdatePromise, update_promise
from portal.services.purchase_orders import IssuePurchaseOrder, issue_purchase_order
from portal.services.sales_orders import (
    CreateSalesOrder,
    LinkSalesLine,
    create_sales_order,
    link_sales_line,
)
from portal.services.unit_of_work import Rules, UnitOfWork
from portal.settings import Settings

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
"""Every change in the story happens at this moment: 17:30 in Shanghai, 09:30 in UTC."""

BUYER = Actor(ActorKind.USER, "u-buyer", "HOME", Side.INTERNAL, "Wang Fang", Via.WEB, "buyer")
SUPPLIER = Actor(ActorKind.USER, "u-sup", "ACME", Side.SUPPLIER, "Li Lei", Via.WEB)

ORGANISATIONS = [
    ("HOME", "Our Company", "internal"),
    ("ACME", "Acme Fasteners", "supplier"),
    ("BOLT", "Bolt & Nut Works", "supplier"),
    ("CUST", "Contoso Retail", "customer"),
]

SALES = "chen.jing@home.example"
"""The internal viewer of most page tests: sales staff read both purchase and sales orders."""
BUYER_USER = "wang.fang@home.example"
ADMIN_USER = "ada@home.example"
ACME_USER = "li.lei@acme.example"
BOLT_USER = "zhou.min@bolt.example"
CUST_USER = "carl@contoso.example"
PEOPLE = [
    # e-mail, organisation, role, name
    (SALES, "HOME", "sales", "Chen Jing"),
    (BUYER_USER, "HOME", "buyer", "Wang Fang"),
    (ADMIN_USER, "HOME", "admin", "Ada Admin"),
    (ACME_USER, "ACME", "supplier", "Li Lei"),
    (BOLT_USER, "BOLT", "supplier", "Zhou Min"),
    (CUST_USER, "CUST", "customer", "Carl"),
]
"""They state no language or time zone of their own (empty), so pages follow the browser's
Accept-Language and the portal's settings, unless a test gives them one."""
BASE_URL = "https://testserver.local"
"""In-process requests go to https, so the `__Host-` (Secure) cookies flow as in a browser."""


def uow(db: Database) -> UnitOfWork:
    return UnitOfWork(db, clock=lambda: AT)


@cache
def password_hash() -> str:
    """One Argon2 hash of the shared test password per process: hashing is slow on purpose."""
    return hash_password(DEFAULT_PASSWORD)


async def add_organisations() -> None:
    """The organisations and their people."""
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


async def prefer(email: str, *, locale: str = "", time_zone: str = "") -> None:
    """Give a person their own language and time zone."""
    await (
        t.AppUser.update({t.AppUser.locale: locale, t.AppUser.time_zone: time_zone})
        .where(t.AppUser.email == email)
        .run()
    )


async def issue(db: Database, number: str, supplier: str, need: date, quantity: int = 100) -> int:
    """Issue a one-line purchase order for bolts; returns its version."""
    line = POLine(1, "BOLT-M8", "Hex bolt M8", Decimal(quantity), "pcs", Decimal("0.35"), need)
    po = await issue_purchase_order(
        uow(db), BUYER, IssuePurchaseOrder(supplier, "CNY", [line], number=number)
    )
    return po.version


async def tell_the_story(db: Database) -> None:
    """PO-1: acknowledged by Acme, then promised nine days after it is needed (late).
    PO-2: issued to Bolt & Nut, not answered yet.
    SO-1: Contoso's order, its line following PO-1 line 1, so it is late as well."""
    await add_organisations()
    version = await issue(db, "PO-1", "ACME", date(2027, 1, 11))
    acknowledged = await acknowledge(
        uow(db), SUPPLIER, Acknowledge("PO-1", version, Decision.ACCEPT)
    )
    await issue(db, "PO-2", "BOLT", date(2027, 2, 1))
    so = await create_sales_order(
        uow(db),
        BUYER,
        CreateSalesOrder(
            "CUST",
            "CNY",
            [
                SalesLine(
                    1,
                    "BOLT-M8",
                    "Hex bolt M8",
                    Decimal(100),
                    "pcs",
                    Decimal("0.80"),
                    date(2027, 1, 15),
                    date(2027, 1, 15),
                )
            ],
            contact_email="buyer@contoso.example",
            number="SO-1",
        ),
    )
    await link_sales_line(uow(db), BUYER, LinkSalesLine("SO-1", so.version, 1, "PO-1", 1))
    # Within the supplier's tolerance (ten days), so the late promise applies at once.
    await update_promise(
        UnitOfWork(db, Rules(tolerance=TolerancePolicy(max_date_move_days=10)), clock=lambda: AT),
        SUPPLIER,
        UpdatePromise(
            "PO-1",
            acknowledged.po.version,
            1,
            Schedule.single(Decimal(100), date(2027, 1, 20)),
            "capacity",
            "Line 3 is down for maintenance",
        ),
    )


def settings(
    database_url: str, *, time_zone: str = "Asia/Shanghai", default_locale: str = "zh_CN"
) -> Settings:
    return Settings(
        database_url=database_url,
        base_url=BASE_URL,
        secret_key=TEST_SECRET_KEY,
        time_zone=time_zone,
        default_locale=default_locale,
        # Timelines are asserted entry by entry here; the dispatcher's own entries
        # (notification.sent) and its deliveries are proven in tests/notify.
        dispatcher=False,
    )


@asynccontextmanager
async def portal(
    database_url: str,
    *,
    as_user: str | None = SALES,
    time_zone: str = "Asia/Shanghai",
    default_locale: str = "zh_CN",
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The application, started (so it opens its own database) only after the data is in:
    tables are bound to the engine of the newest `Database`. The client is signed in as
    `as_user` (one of `PEOPLE`) through the sign-in form, or anonymous with None."""
    app = create_app(settings(database_url, time_zone=time_zone, default_locale=default_locale))
    async with AsyncTestClient(app, base_url=BASE_URL) as client:
        if as_user is not None:
            await sign_in_as(client, as_user)
        yield client


async def sign_in_as(client: AsyncTestClient[Litestar], email: str) -> None:
    reached = await sign_in(client, email, DEFAULT_PASSWORD)
    assert reached.status_code == 200, reached.text
    assert reached.url.path == "/", f"{email} did not get signed in: {reached.url}"


def row_of(html: str, text: str) -> str:
    """The table row (`<tr ...>...</tr>`) that contains `text`."""
    for row in re.findall(r"<tr\b.*?</tr>", html, flags=re.S):
        if text in row:
            return str(row)
    raise AssertionError(f"no table row contains {text!r}")


def numbers_in_order(html: str, prefix: str) -> list[str]:
    """The order numbers linked from a page, in the order they appear."""
    return re.findall(rf">({prefix}-[\w-]+)</a>", html)
