"""A world for the tests of our staff's order pages and API: our company, two suppliers and a
customer, their people (signed in through the real sign-in form) and OAuth clients (tokens from
the real token endpoint), over the real application in the test's own event loop.

Imported by the tests of this folder as `internal_orders_support` (pytest puts the folder on
the path).
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import httpx
from auth_support import DEFAULT_PASSWORD, TEST_SECRET_KEY, add_client, csrf_token_of, sign_in

from portal.auth import scopes as s
from portal.auth.passwords import hash_password
from portal.db import tables as t
from portal.db import timeline
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.events import Event, po_stream, so_stream
from portal.domain.orders import POLine, SalesLine
from portal.services.purchase_orders import IssuePurchaseOrder, issue_purchase_order
from portal.services.sales_orders import CreateSalesOrder, create_sales_order
from portal.services.unit_of_work import UnitOfWork
from portal.settings import Settings

BASE_URL = "https://testserver.local"
API = "/api/v1"
TODAY = datetime.now(UTC).date()
NEED = TODAY + timedelta(days=30)
EN = {"Accept-Language": "en"}

ORGANISATIONS = [
    ("HOME", "Our Company", "internal"),
    ("ACME", "Acme Fasteners", "supplier"),
    ("BOLT", "Bolt & Nut Works", "supplier"),
    ("CUST", "Contoso Retail", "customer"),
]
BUYER_USER = "wang.fang@home.example"
SALES_USER = "chen.jing@home.example"
ACME_USER = "li.lei@acme.example"
CUST_USER = "carl@contoso.example"
PEOPLE = [
    (BUYER_USER, "HOME", "buyer", "Wang Fang"),
    (SALES_USER, "HOME", "sales", "Chen Jing"),
    (ACME_USER, "ACME", "supplier", "Li Lei"),
    (CUST_USER, "CUST", "customer", "Carl"),
]
CLIENTS: dict[str, tuple[str, str]] = {
    # client id: organisation, role (granted every scope of the role)
    "home-buyer": ("HOME", "buyer"),
    "home-sales": ("HOME", "sales"),
    "acme-erp": ("ACME", "supplier"),
    "cust-erp": ("CUST", "customer"),
}
BUYER = Actor(ActorKind.USER, "u-buyer", "HOME", Side.INTERNAL, "Wang Fang", Via.WEB, "buyer")
INTERNAL = Actor(ActorKind.SYSTEM, None, None, Side.INTERNAL, "test", Via.SYSTEM)
"""Reads everything, for the tests' own checks."""
COUNTED = [t.PurchaseOrder, t.POLine, t.SalesOrder, t.SOLine, t.Event, t.Stream]


def secret_of(client_id: str) -> str:
    return f"secret-of-{client_id}-0123456789"


def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        base_url=BASE_URL,
        secret_key=TEST_SECRET_KEY,
        default_locale="en",
        time_zone="Asia/Shanghai",
        dispatcher=False,
    )


@cache
def password_hash() -> str:
    """One Argon2 hash of the shared test password per process: hashing is slow on purpose."""
    return hash_password(DEFAULT_PASSWORD)


async def seed() -> None:
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
    for client_id, (org, role) in CLIENTS.items():
        scope = s.render(s.ROLE_SCOPES[role])
        await add_client(client_id, org=org, role=role, scope=scope, secret=secret_of(client_id))


@dataclass
class World:
    transport: httpx.ASGITransport
    db: Database

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db)

    @asynccontextmanager
    async def browser(self, email: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
        """A browser, signed in as `email` through the sign-in form (anonymous with None)."""
        async with httpx.AsyncClient(
            transport=self.transport, base_url=BASE_URL, headers=EN
        ) as http:
            if email is not None:
                reached = await sign_in(http, email, DEFAULT_PASSWORD)
                assert reached.status_code == 200, reached.text
                assert reached.url.path == "/", f"{email} was not signed in: {reached.url}"
            yield http

    @asynccontextmanager
    async def api(self, client_id: str) -> AsyncIterator[httpx.AsyncClient]:
        """An OAuth client calling /api/v1 with its bearer token (client credentials)."""
        async with httpx.AsyncClient(transport=self.transport, base_url=BASE_URL) as http:
            answer = await http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client_id, secret_of(client_id)),
            )
            assert answer.status_code == 200, answer.text
            http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
            http.headers["Accept-Language"] = "en"
            yield http

    async def issue(
        self, number: str, supplier: str = "ACME", item: str = "BOLT-M8", *, draft: bool = False
    ) -> int:
        line = POLine(1, item, "Hex bolt", Decimal(100), "pcs", Decimal("0.35"), NEED)
        po = await issue_purchase_order(
            self.uow(),
            BUYER,
            IssuePurchaseOrder(supplier, "CNY", [line], number=number, draft=draft),
        )
        return po.version

    async def sales_order(self, number: str, item: str = "BOLT-M8") -> int:
        line = SalesLine(1, item, "Hex bolt", Decimal(40), "pcs", Decimal("0.80"), NEED, NEED)
        so = await create_sales_order(
            self.uow(),
            BUYER,
            CreateSalesOrder("CUST", "CNY", [line], contact_email="a@b.example", number=number),
        )
        return so.version

    async def po_events(self, number: str) -> list[Event]:
        return await timeline.read(INTERNAL, po_stream(number))

    async def so_events(self, number: str) -> list[Event]:
        return await timeline.read(INTERNAL, so_stream(number))

    async def counts(self) -> dict[str, int]:
        return {table._meta.tablename: await table.count().run() for table in COUNTED}


async def post_form(
    http: httpx.AsyncClient, form_path: str, action: str, data: dict[str, Any]
) -> httpx.Response:
    """Open the form's page, then post `data` with its CSRF token, as a browser does."""
    page = await http.get(form_path)
    assert page.status_code == 200, page.text
    return await http.post(action, data={"_csrf_token": csrf_token_of(page.text), **data})


def field_error(html: str, field_id: str) -> str:
    """The message shown at a form field (its `<id>-error` element), or ''."""
    found = re.search(rf'id="{re.escape(field_id)}-error">([^<]*)<', html)
    return html_lib.unescape(found.group(1)) if found else ""


def day(value: date) -> str:
    return value.isoformat()


NEW_PO_FORM = "/purchase-orders/new"
NEW_SO_FORM = "/sales-orders/new"


def csrf_of(html: str) -> str:
    return csrf_token_of(html)
