"""The dashboard over the real application (SQLite, then PostgreSQL): each tile's count from a
dataset made through the real service commands, filters narrowing every tile and carried into
the tiles' links (and honoured by the lists they open), the page turned away from suppliers
and customers, the tiles alone for htmx, and the live refresh when an order changes."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
from asgi_stream import StreamingASGITransport
from auth_support import DEFAULT_PASSWORD, TEST_SECRET_KEY, add_client, sign_in

from portal.app import create_app
from portal.auth import scopes as s
from portal.auth.passwords import hash_password
from portal.db import tables as t
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.changes import ChangeKind, LineChange
from portal.domain.orders import POLine, SalesLine
from portal.domain.shipments import Shipment, ShipmentLine
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge
from portal.services.change_requests import OpenChangeRequest, open_change_request
from portal.services.fulfilment import PostShipment, post_shipment
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
NOW = datetime.now(UTC)
TODAY = NOW.date()
BUYER = Actor(ActorKind.USER, "u-buyer", "HOME", Side.INTERNAL, "Wang Fang", Via.WEB, "buyer")
SALES = Actor(ActorKind.USER, "u-sales", "HOME", Side.INTERNAL, "Chen Jing", Via.WEB, "sales")
PEOPLE = [
    ("wang.fang@home.example", "HOME", "admin", "Wang Fang"),  # reads POs and SOs
    ("li.lei@acme.example", "ACME", "supplier", "Li Lei"),
    ("carl@contoso.example", "CUST", "customer", "Carl"),
]
WAIT = 10.0


def supplier_actor(org: str) -> Actor:
    return Actor(ActorKind.USER, f"u-{org}", org, Side.SUPPLIER, f"{org} user", Via.WEB)


def uow(db: Database, when: datetime = NOW) -> UnitOfWork:
    return UnitOfWork(db, clock=lambda: when)


async def version(number: str) -> int:
    row = (
        await t.PurchaseOrder.select(t.PurchaseOrder.version)
        .where(t.PurchaseOrder.number == number)
        .first()
        .run()
    )
    assert row
    return int(row["version"])


async def po(
    db: Database, number: str, supplier: str, item: str, need_in: int, *, ack: bool
) -> None:
    await issue_purchase_order(
        uow(db, NOW - timedelta(days=3)),
        BUYER,
        IssuePurchaseOrder(
            supplier,
            "CNY",
            [POLine(1, item, "", Decimal(100), "pcs", Decimal(1), TODAY + timedelta(days=need_in))],
            number=number,
        ),
    )
    if ack:
        await acknowledge(
            uow(db, NOW - timedelta(days=3)),
            supplier_actor(supplier),
            Acknowledge(number, await version(number), Decision.ACCEPT),
        )


async def build(db: Database) -> None:
    """PO-1 (Acme, BOLT) issued only; PO-2 (Bolt, NUT) acknowledged, a change request open
    and not yet due; PO-3 (Acme, BOLT) acknowledged, a change request two days old and
    overdue, 40 shipped arriving today. SO-1 (Contoso) follows PO-3 and is expected after
    it is wanted (at risk); SO-2 is on time. Alerts: PO-1 not acknowledged (5 h past due),
    PO-3 promised after need (escalated, 4 days past due), one resolved."""
    await t.Organisation.insert(
        *[
            t.Organisation(code=code, name=name, kind=kind)
            for code, name, kind in (
                ("HOME", "Our Company", "internal"),
                ("ACME", "Acme Fasteners", "supplier"),
                ("BOLT", "Bolt & Nut Works", "supplier"),
                ("CUST", "Contoso Retail", "customer"),
            )
        ]
    ).run()
    hashed = hash_password(DEFAULT_PASSWORD)
    await t.AppUser.insert(
        *[
            t.AppUser(
                email=e,
                display_name=n,
                org=o,
                role=r,
                locale="en",
                time_zone="UTC",
                password_hash=hashed,
            )
            for e, o, r, n in PEOPLE
        ]
    ).run()
    await add_client(
        "acme-erp",
        org="ACME",
        role="supplier",
        scope=s.render(s.ROLE_SCOPES["supplier"]),
        secret="acme-erp-secret-0123456789",
    )
    await po(db, "PO-1", "ACME", "BOLT", 20, ack=False)
    await po(db, "PO-2", "BOLT", "NUT", 40, ack=True)
    await po(db, "PO-3", "ACME", "BOLT", 30, ack=True)
    quantity = (LineChange(1, ChangeKind.QUANTITY, quantity=Decimal(90)),)
    await open_change_request(
        uow(db), BUYER, OpenChangeRequest("PO-2", await version("PO-2"), quantity, "buyer_request")
    )
    await open_change_request(
        uow(db, NOW - timedelta(days=2)),
        BUYER,
        OpenChangeRequest("PO-3", await version("PO-3"), quantity, "buyer_request"),
    )
    await post_shipment(
        uow(db),
        supplier_actor("ACME"),
        PostShipment(
            "PO-3",
            await version("PO-3"),
            Shipment("", TODAY, "SF", "T-1", TODAY, (ShipmentLine(1, Decimal(40)),)),
        ),
    )
    for number, requested, expected in (("SO-1", 10, 10), ("SO-2", 60, 60)):
        await create_sales_order(
            uow(db),
            SALES,
            CreateSalesOrder(
                "CUST",
                "CNY",
                [
                    SalesLine(
                        1,
                        "BOLT",
                        "",
                        Decimal(10),
                        "pcs",
                        Decimal(2),
                        TODAY + timedelta(days=requested),
                        TODAY + timedelta(days=expected),
                    )
                ],
                contact_email="buyer@contoso.example",
                number=number,
            ),
        )
    so = (
        await t.SalesOrder.select(t.SalesOrder.version)
        .where(t.SalesOrder.number == "SO-1")
        .first()
        .run()
    )
    assert so
    await link_sales_line(uow(db), SALES, LinkSalesLine("SO-1", so["version"], 1, "PO-3", 1))
    for rule, number, org, level, past_due, resolved in (
        ("po_unacknowledged", "PO-1", "ACME", "raised", timedelta(hours=5), False),
        ("promise_after_need", "PO-3", "ACME", "escalated", timedelta(days=4), False),
        ("po_unacknowledged", "PO-2", "BOLT", "raised", timedelta(days=9), True),
    ):
        await t.Alert.insert(
            t.Alert(
                rule=rule,
                subject=f"po/{number}",
                stream=f"po/{number}",
                number=number,
                org=org,
                level=level,
                data="{}",
                due_at=NOW - past_due,
                raised_at=NOW - past_due,
                resolved_at=NOW if resolved else None,
            )
        ).run()


def tile(html: str, ident: str) -> str:
    found = re.search(rf'<article class="[^"]*" id="{ident}">(.*?)</article>', html, flags=re.S)
    assert found, ident
    return found.group(0)


def big(html: str, ident: str) -> int:
    found = re.search(r'class="big"[^>]*>\s*(\d+)\s*<', tile(html, ident))
    assert found, ident
    return int(found.group(1))


def href(html: str, ident: str) -> tuple[str, dict[str, list[str]]]:
    found = re.search(r'<a class="big" href="([^"]+)"', tile(html, ident))
    assert found, ident
    url = urlsplit(found.group(1).replace("&amp;", "&"))
    return url.path, parse_qs(url.query)


def alert_row(html: str, rule: str) -> tuple[int, int, bool]:
    found = re.search(rf'<tr data-rule="{rule}"( class="late")?>(.*?)</tr>', html, flags=re.S)
    assert found, rule
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', found.group(2)))
    return int(counts["open"]), int(counts["escalated"]), bool(found.group(1))


def numbers(html: str, prefix: str) -> list[str]:
    return sorted(set(re.findall(rf">({prefix}-\d+)</a>", html)))


async def test_dashboard_tiles_filters_and_live_refresh(db: Database, database_url: str) -> None:
    await build(db)
    app = create_app(
        Settings(
            database_url=database_url,
            base_url=BASE_URL,
            secret_key=TEST_SECRET_KEY,
            time_zone="UTC",
            default_locale="en",
            dispatcher=False,
        )
    )
    async with app.lifespan():
        transport = StreamingASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as browser:
            assert (
                await sign_in(browser, "wang.fang@home.example", DEFAULT_PASSWORD)
            ).status_code == 200
            page = await browser.get("/dashboard")
            assert page.status_code == 200, page.text
            html = page.text
            assert 'href="/dashboard"' in html  # the nav link
            assert re.search(r'data-status="issued">[^<]*<strong>1<', html)
            assert re.search(r'data-status="acknowledged">[^<]*<strong>1<', html)
            assert re.search(r'data-status="in_fulfilment">[^<]*<strong>1<', html)
            assert re.search(r'data-status="open">[^<]*<strong>2<', tile(html, "tile-so-status"))
            assert big(html, "tile-awaiting-ack") == 1
            assert href(html, "tile-awaiting-ack") == ("/purchase-orders", {"status": ["issued"]})
            assert big(html, "tile-cr-open") == 2
            assert big(html, "tile-cr-overdue") == 1
            assert href(html, "tile-cr-overdue") == ("/change-requests", {"due": ["overdue"]})
            assert 'class="tile stretch alarm" id="tile-cr-overdue"' in html
            assert big(html, "tile-receipts") == 1
            assert big(html, "tile-at-risk") == 1
            assert href(html, "tile-at-risk") == ("/sales-orders", {"late": ["1"]})
            assert alert_row(html, "po_unacknowledged") == (1, 0, False)
            assert alert_row(html, "promise_after_need") == (1, 1, True)
            assert alert_row(html, "shipment_overdue") == (0, 0, False)
            assert 'href="/alerts?rule=promise_after_need"' in html

            # The lists the tiles open count the same orders.
            path, query = href(html, "tile-receipts")
            arriving = await browser.get(path, params={k: v[0] for k, v in query.items()})
            assert numbers(arriving.text, "PO") == ["PO-3"]
            at_risk = await browser.get("/sales-orders", params={"late": "1"})
            assert numbers(at_risk.text, "SO") == ["SO-1"]

            # Filters narrow every tile and go along in every link.
            acme = (await browser.get("/dashboard", params={"supplier": "ACME"})).text
            assert big(acme, "tile-awaiting-ack") == 1
            assert (big(acme, "tile-cr-open"), big(acme, "tile-cr-overdue")) == (1, 1)
            assert href(acme, "tile-cr-overdue") == (
                "/change-requests",
                {"due": ["overdue"], "supplier": ["ACME"]},
            )
            assert href(acme, "tile-awaiting-ack")[1] == {
                "status": ["issued"],
                "supplier": ["ACME"],
            }
            assert alert_row(acme, "promise_after_need") == (1, 1, True)
            assert re.search(r'data-status="open">[^<]*<strong>1<', tile(acme, "tile-so-status"))
            assert big(acme, "tile-at-risk") == 1
            bolt = (await browser.get("/dashboard", params={"supplier": "BOLT"})).text
            assert (
                big(bolt, "tile-awaiting-ack"),
                big(bolt, "tile-cr-open"),
                big(bolt, "tile-cr-overdue"),
            ) == (0, 1, 0)
            assert (big(bolt, "tile-receipts"), big(bolt, "tile-at-risk")) == (0, 0)
            assert alert_row(bolt, "promise_after_need") == (0, 0, False)
            nut = (await browser.get("/dashboard", params={"item": "NUT"})).text
            assert re.search(r'data-status="acknowledged">[^<]*<strong>1<', nut)
            assert 'data-status="issued"' not in nut
            soon = (
                await browser.get(
                    "/dashboard", params={"date_to": (TODAY + timedelta(days=25)).isoformat()}
                )
            ).text
            assert big(soon, "tile-awaiting-ack") == 1 and big(soon, "tile-cr-open") == 0
            customer = (await browser.get("/dashboard", params={"customer": "CUST"})).text
            assert re.search(r'data-status="in_fulfilment">[^<]*<strong>1<', customer)
            assert big(customer, "tile-awaiting-ack") == 0
            assert (
                await browser.get("/dashboard", params={"date_from": "soon"})
            ).status_code == 400

            # The lists honour the same filters, and keep them in their links.
            listed = await browser.get(
                "/purchase-orders", params={"supplier": "ACME", "status": "issued"}
            )
            assert numbers(listed.text, "PO") == ["PO-1"]
            assert numbers(
                (await browser.get("/purchase-orders", params={"item": "NUT"})).text, "PO"
            ) == ["PO-2"]
            assert (
                "supplier=ACME"
                in (await browser.get("/purchase-orders", params={"supplier": "ACME"})).text
            )
            assert numbers(
                (await browser.get("/sales-orders", params={"supplier": "ACME"})).text, "SO"
            ) == ["SO-1"]
            assert numbers((await browser.get("/purchase-orders")).text, "PO") == [
                "PO-1",
                "PO-2",
                "PO-3",
            ]

            # htmx gets the tiles alone.
            fragment = await browser.get("/dashboard", headers={"HX-Request": "true"})
            assert "<html" not in fragment.text and 'id="tile-cr-overdue"' in fragment.text

            # The tiles hear any order change: Acme acknowledges PO-1 through its API.
            stream_response = await browser.send(
                browser.build_request("GET", "/live/dashboard"), stream=True
            )
            assert stream_response.status_code == 200
            lines = stream_response.aiter_lines()
            token = await browser.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=("acme-erp", "acme-erp-secret-0123456789"),
            )
            bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
            answered = await browser.post(
                "/api/v1/purchase-orders/PO-1/acknowledgement",
                json={"decision": "accept", "version": await version("PO-1")},
                headers=bearer,
            )
            assert answered.status_code == 200, answered.text

            async def changed() -> str:
                while True:
                    line = await anext(lines)
                    if line.startswith("event:"):
                        return line

            assert await asyncio.wait_for(changed(), WAIT) == "event: changed"
            await stream_response.aclose()
            refreshed = await browser.get("/dashboard", headers={"HX-Request": "true"})
            assert big(refreshed.text, "tile-awaiting-ack") == 0

        # Suppliers and customers are turned away.
        for email in ("li.lei@acme.example", "carl@contoso.example"):
            async with httpx.AsyncClient(
                transport=StreamingASGITransport(app), base_url=BASE_URL
            ) as other:
                assert (await sign_in(other, email, DEFAULT_PASSWORD)).status_code == 200
                assert (await other.get("/dashboard")).status_code in (403, 404)
                assert (await other.get("/live/dashboard")).status_code in (403, 404)
                home = await other.get("/")
                assert 'href="/dashboard"' not in home.text
                if email.endswith("acme.example"):
                    # The lists' further filters are our staff's: a supplier cannot probe
                    # which customer its orders serve (the filter is ignored).
                    mine = await other.get("/purchase-orders", params={"customer": "NOBODY"})
                    assert numbers(mine.text, "PO") == ["PO-1", "PO-3"]
