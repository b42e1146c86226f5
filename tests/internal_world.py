"""A world for the receipt, settings and reason code tests: our company with a warehouse clerk, a
buyer and an admin, a supplier, purchase orders made through the real service commands (one
acknowledged and shipped as ASN-1), machine clients for the warehouse system, an admin tool and
the supplier's ERP, and the real application in process.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache

from auth_support import DEFAULT_PASSWORD, TEST_SECRET_KEY, add_client, sign_in
from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.app import create_app
from portal.auth import scopes as s
from portal.auth.passwords import hash_password
from portal.db import tables as t
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.orders import POLine
from portal.domain.shipments import Shipment, ShipmentLine
from portal.services import fulfilment
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge
from portal.services.purchase_orders import IssuePurchaseOrder, issue_purchase_order
from portal.services.unit_of_work import UnitOfWork
from portal.settings import Settings

BASE_URL = "https://testserver.local"
TODAY = datetime.now(UTC).date()
BUYER = Actor(ActorKind.USER, "u-buyer", "HOME", Side.INTERNAL, "Wang Fang", Via.WEB, "buyer")
SUPPLIER = Actor(ActorKind.USER, "u-sup", "ACME", Side.SUPPLIER, "Li Lei", Via.WEB, "supplier")
WAREHOUSE_USER = "wu.gang@home.example"
ADMIN_USER = "ada@home.example"
BUYER_USER = "wang.fang@home.example"
SUPPLIER_USER = "li.lei@acme.example"
PEOPLE = [
    (WAREHOUSE_USER, "HOME", "warehouse", "Wu Gang"),
    (ADMIN_USER, "HOME", "admin", "Ada Admin"),
    (BUYER_USER, "HOME", "buyer", "Wang Fang"),
    (SUPPLIER_USER, "ACME", "supplier", "Li Lei"),
]
WMS = "home-wms"
WMS_SECRET = "secret-of-home-wms-0123456789"
CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


@cache
def password_hash() -> str:
    return hash_password(DEFAULT_PASSWORD)


async def add_people() -> None:
    await t.Organisation.insert(
        t.Organisation(code="HOME", name="Our Company", kind="internal"),
        t.Organisation(code="ACME", name="Acme Fasteners", kind="supplier"),
    ).run()
    await t.AppUser.insert(
        *[
            t.AppUser(
                email=email,
                display_name=name,
                org=org,
                role=role,
                locale="en",
                time_zone="UTC",
                password_hash=password_hash(),
            )
            for email, org, role, name in PEOPLE
        ]
    ).run()
    await add_client(
        WMS,
        org="HOME",
        role="warehouse",
        scope=s.render(s.ROLE_SCOPES["warehouse"]),
        secret=WMS_SECRET,
    )


async def shipped_order(db: Database, number: str, quantity: int = 100, ship: int = 60) -> int:
    """Issue a two-line order, have it acknowledged and shipped (`ship` of line 1 as
    ASN-<number>); returns its version."""
    lines = [
        POLine(
            1,
            "BOLT-M8",
            "Hex bolt M8",
            Decimal(quantity),
            "pcs",
            Decimal("0.35"),
            TODAY + timedelta(days=30),
        ),
        POLine(
            2,
            "NUT-M8",
            "Hex nut M8",
            Decimal(quantity),
            "pcs",
            Decimal("0.10"),
            TODAY + timedelta(days=30),
        ),
    ]
    po = await issue_purchase_order(
        UnitOfWork(db), BUYER, IssuePurchaseOrder("ACME", "CNY", lines, number=number)
    )
    acked = await acknowledge(
        UnitOfWork(db), SUPPLIER, Acknowledge(number, po.version, Decision.ACCEPT)
    )
    shipment = Shipment(
        f"ASN-{number}", TODAY, "SF Express", "SF1", None, (ShipmentLine(1, Decimal(ship)),)
    )
    shipped = await fulfilment.post_shipment(
        UnitOfWork(db), SUPPLIER, fulfilment.PostShipment(number, acked.po.version, shipment)
    )
    return shipped.po.version


def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        base_url=BASE_URL,
        secret_key=TEST_SECRET_KEY,
        time_zone="UTC",
        default_locale="en",
        dispatcher=False,
    )


@asynccontextmanager
async def portal(
    database_url: str, as_user: str | None = None
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = create_app(settings(database_url))
    async with AsyncTestClient(app, base_url=BASE_URL) as client:
        if as_user is not None:
            reached = await sign_in(client, as_user, DEFAULT_PASSWORD)
            assert reached.status_code == 200, reached.text
        yield client


async def bearer(client: AsyncTestClient[Litestar]) -> dict[str, str]:
    answer = await client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(WMS, WMS_SECRET)
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form"
    return found.group(1)


ADMIN_CLIENT = "home-admin-tool"
ADMIN_SECRET = "secret-of-home-admin-tool-0123"
ADMIN = Actor(ActorKind.USER, "2", "HOME", Side.INTERNAL, "Ada Admin", Via.WEB, "admin")


async def add_admin_client() -> None:
    await add_client(ADMIN_CLIENT, org="HOME", role="admin", scope="admin", secret=ADMIN_SECRET)


async def admin_bearer(client: AsyncTestClient[Litestar]) -> dict[str, str]:
    answer = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(ADMIN_CLIENT, ADMIN_SECRET),
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def acknowledged_order(db: Database, number: str) -> int:
    """A one-line order for 100 bolts, accepted as asked; returns its version."""
    line = POLine(
        1,
        "BOLT-M8",
        "Hex bolt M8",
        Decimal(100),
        "pcs",
        Decimal("0.35"),
        TODAY + timedelta(days=30),
    )
    po = await issue_purchase_order(
        UnitOfWork(db), BUYER, IssuePurchaseOrder("ACME", "CNY", [line], number=number)
    )
    acked = await acknowledge(
        UnitOfWork(db), SUPPLIER, Acknowledge(number, po.version, Decision.ACCEPT)
    )
    return acked.po.version


SUPPLIER_CLIENT = "acme-erp"
SUPPLIER_SECRET = "secret-of-acme-erp-0123456789"


async def add_supplier_client() -> None:
    await add_client(
        SUPPLIER_CLIENT,
        org="ACME",
        role="supplier",
        scope=s.render(s.ROLE_SCOPES["supplier"]),
        secret=SUPPLIER_SECRET,
    )


async def supplier_bearer(client: AsyncTestClient[Litestar]) -> dict[str, str]:
    answer = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(SUPPLIER_CLIENT, SUPPLIER_SECRET),
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}
