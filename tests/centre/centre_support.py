"""A world for the notification centre's tests: two customer organisations (one with two users,
so that "another user of the same organisation" exists), a supplier and our sales staff; the
app running in-process with its lifespan entered in the test's own task (see
tests/live/test_live_updates.py), read as a browser reads it.

Notifications are written as the dispatcher writes them (`data = {"number", "event"}`), or made
by the real dispatcher from real order events (`ship`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from asgi_stream import StreamingASGITransport
from auth_support import (
    DEFAULT_PASSWORD,
    TEST_SECRET_KEY,
    add_client,
    add_org,
    add_user,
    csrf_token_of,
    pkce_pair,
    sign_in,
)
from litestar import Litestar
from litestar.channels import ChannelsPlugin
from litestar.di import Provide

from portal.app import create_app
from portal.db import tables as t
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.orders import POLine, SalesLine
from portal.notify.dispatcher import Dispatcher
from portal.notify.live import publisher
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
from portal.services.unit_of_work import UnitOfWork
from portal.settings import Settings

BASE_URL = "https://portal.test"
API = "/api/v1"
CALLBACK = "https://app.cus.example/callback"
APP_CLIENT = "cus-app"
APP_SECRET = "cus-app-secret-0123456789"
ERP_CLIENT = "cus-erp"
ERP_SECRET = "cus-erp-secret-0123456789"
SALES = Actor(ActorKind.USER, "u-sales", "HOME", Side.INTERNAL, "Zhao Min", Via.WEB, "sales")
NEED = datetime.now(UTC).date() + timedelta(days=30)
WAIT = 10.0
PEOPLE = {
    # e-mail: (organisation, role, locale, time zone)
    "ann@cus.test": ("CUS", "customer", "en", "Asia/Shanghai"),
    "bob@cus.test": ("CUS", "customer", "en", "UTC"),
    "eve@cus2.test": ("CUS2", "customer", "en", "UTC"),
    "li@acme.test": ("ACME", "supplier", "zh_CN", "Asia/Shanghai"),
    "sales@home.test": ("HOME", "sales", "en", "Europe/Berlin"),
}


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


@dataclass
class World:
    app: Litestar
    db: Database
    settings: Settings
    users: dict[str, int]
    addresses: int = 0
    browsers: list[httpx.AsyncClient] = field(default_factory=list)

    def browser(self) -> httpx.AsyncClient:
        self.addresses += 1
        transport = StreamingASGITransport(self.app, client=(f"10.7.0.{self.addresses}", 50000))
        client = httpx.AsyncClient(transport=transport, base_url=BASE_URL)
        self.browsers.append(client)
        return client

    async def signed_in(self, email: str) -> httpx.AsyncClient:
        browser = self.browser()
        page = await sign_in(browser, email, DEFAULT_PASSWORD)
        assert page.status_code == 200, page.text
        return browser

    @property
    def channels(self) -> ChannelsPlugin:
        # The plugin is set up through `on_app_init`; its `channels` dependency hands it out.
        provide = self.app.dependencies["channels"]
        assert isinstance(provide, Provide)
        plugin = provide.dependency()
        assert isinstance(plugin, ChannelsPlugin)
        return plugin

    async def notify(
        self,
        email: str,
        kind: str,
        topic: str,
        number: str,
        event: dict[str, Any],
        *,
        at: datetime,
        seq: int = 1,
    ) -> int:
        """One in-app notification, stored as the dispatcher stores it."""
        stream = ("so/" if number.startswith("SO") else "po/") + number
        rows = await t.Notification.insert(
            t.Notification(
                user_id=self.users[email],
                topic=topic,
                stream=stream,
                seq=seq,
                kind=kind,
                data={"number": number, "event": event},
                created_at=at,
            )
        ).run()
        return int(rows[0]["id"])

    async def ship(self, so_number: str, carrier: str, tracking_no: str, on: date) -> int:
        """Sales ships the order through the service; the real dispatcher fans it out and tells
        the open pages. Returns the dispatcher's work done."""
        so = await t.SalesOrder.select().where(t.SalesOrder.number == so_number).first().run()
        assert so is not None
        await advance_sales_order(
            UnitOfWork(self.db),
            SALES,
            AdvanceSalesOrder(
                so_number,
                so["version"],
                Progress.SHIP,
                on,
                carrier=carrier,
                tracking_no=tracking_no,
            ),
        )
        dispatcher = Dispatcher(self.settings, self.db, publisher(self.channels))
        return await dispatcher.run_once()

    async def user_token(self, browser: httpx.AsyncClient, scope: str = "openid notify") -> str:
        """A bearer token acting for the signed-in user of `browser` (authorization code)."""
        verifier, challenge = pkce_pair()
        query = {
            "response_type": "code",
            "client_id": APP_CLIENT,
            "redirect_uri": CALLBACK,
            "scope": scope,
            "state": "s1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        url = "/oauth/authorize?" + "&".join(
            f"{k}={v.replace(' ', '%20')}" for k, v in query.items()
        )
        consent = await browser.get(url)
        assert consent.status_code == 200, consent.text
        allowed = await browser.post(
            url, data={"decision": "allow", "_csrf_token": csrf_token_of(consent.text)}
        )
        assert allowed.status_code == 302, allowed.text
        code = parse_qs(urlsplit(allowed.headers["location"]).query)["code"][0]
        answer = await browser.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": CALLBACK,
                "code_verifier": verifier,
            },
            auth=(APP_CLIENT, APP_SECRET),
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    async def client_token(self) -> str:
        answer = await self.browser().post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": "order:read notify"},
            auth=(ERP_CLIENT, ERP_SECRET),
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])


async def seed_orders(db: Database) -> None:
    """PO-ACME-1 for Acme, and SO-CUS-1 for CUS following it."""
    uow = UnitOfWork(db)
    line = POLine(1, "BOLT-M8", "Hex bolt", Decimal(100), "pcs", Decimal("0.35"), NEED)
    await issue_purchase_order(
        uow, SALES, IssuePurchaseOrder("ACME", "CNY", [line], number="PO-ACME-1")
    )
    sold = SalesLine(1, "BOLT-M8", "Hex bolt", Decimal(100), "pcs", Decimal("0.80"), NEED, NEED)
    so = await create_sales_order(
        uow,
        SALES,
        CreateSalesOrder("CUS", "CNY", [sold], contact_email="ann@cus.test", number="SO-CUS-1"),
    )
    await link_sales_line(uow, SALES, LinkSalesLine("SO-CUS-1", so.version, 1, "PO-ACME-1", 1))


@asynccontextmanager
async def running(database_url: str) -> AsyncIterator[World]:
    for code, kind in (
        ("HOME", "internal"),
        ("CUS", "customer"),
        ("CUS2", "customer"),
        ("ACME", "supplier"),
    ):
        await add_org(code, kind)
    users = {
        email: await add_user(
            email, org=org, role=role, locale=locale, time_zone=zone, display_name=email
        )
        for email, (org, role, locale, zone) in PEOPLE.items()
    }
    await add_client(
        APP_CLIENT,
        org="CUS",
        role="customer",
        scope="openid notify order:read",
        grant_types="authorization_code refresh_token",
        secret=APP_SECRET,
        redirect_uris=[CALLBACK],
    )
    await add_client(
        ERP_CLIENT, org="CUS", role="customer", scope="order:read notify", secret=ERP_SECRET
    )
    # The test runs the dispatcher itself, when it wants to: nothing races its checks.
    settings = Settings(
        database_url=database_url,
        base_url=BASE_URL,
        secret_key=TEST_SECRET_KEY,
        dispatcher=False,
        default_locale="en",
        time_zone="UTC",
    )
    app = create_app(settings)
    async with app.lifespan():
        world = World(app, app.state.db, settings, users)
        try:
            yield world
        finally:
            for browser in world.browsers:
                await browser.aclose()


def count_of(html: str) -> str:
    """The number the bell shows."""
    start = html.index('id="notification-count"')
    return html[html.index(">", start) + 1 : html.index("</span>", start)]
