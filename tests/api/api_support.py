"""A world for the API tests: our company, two suppliers, their ERPs as OAuth clients (client
credentials), purchase orders issued through the real service commands, and callers that get
their bearer tokens from the real token endpoint.

Imported by the tests of this folder as `api_support` (pytest puts the folder on the path).
Orders are dated from today, since the portal refuses promises for days already gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from auth_support import TEST_SECRET_KEY, add_client

from portal.auth import scopes as s
from portal.db import tables as t
from portal.db import timeline
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.events import Event, po_stream
from portal.domain.orders import POLine
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge
from portal.services.purchase_orders import IssuePurchaseOrder, issue_purchase_order
from portal.services.unit_of_work import UnitOfWork
from portal.settings import Settings

BASE_URL = "https://testserver.local"
API = "/api/v1"
TODAY = datetime.now(UTC).date()
NEED = TODAY + timedelta(days=30)
"""Every line is needed a month from today."""

ORGANISATIONS = [
    ("HOME", "Our Company", "internal"),
    ("ACME", "Acme Fasteners", "supplier"),
    ("BOLT", "Bolt & Nut Works", "supplier"),
]
SUPPLIER_SCOPES = s.render(s.ROLE_SCOPES["supplier"])
CLIENTS: dict[str, tuple[str, str, str]] = {
    # client id: organisation, role, scopes
    "acme-erp": ("ACME", "supplier", SUPPLIER_SCOPES),
    "acme-wms": ("ACME", "supplier", SUPPLIER_SCOPES),
    "acme-reader": ("ACME", "supplier", "po:read"),
    "bolt-erp": ("BOLT", "supplier", SUPPLIER_SCOPES),
    "home-buyer": ("HOME", "buyer", s.render(s.ROLE_SCOPES["buyer"])),
    "home-sales": ("HOME", "sales", s.render(s.ROLE_SCOPES["sales"])),
}
BUYER = Actor(ActorKind.USER, "u-buyer", "HOME", Side.INTERNAL, "Wang Fang", Via.WEB, "buyer")
ACME = Actor(ActorKind.USER, "u-li", "ACME", Side.SUPPLIER, "Li Lei", Via.WEB, "supplier")
INTERNAL = Actor(ActorKind.SYSTEM, None, None, Side.INTERNAL, "test", Via.SYSTEM)
"""Reads everything, for the tests' own checks."""


def secret_of(client_id: str) -> str:
    return f"secret-of-{client_id}-0123456789"


def settings(database_url: str, base_url: str = BASE_URL) -> Settings:
    return Settings(
        database_url=database_url,
        base_url=base_url,
        secret_key=TEST_SECRET_KEY,
        default_locale="en",
        time_zone="UTC",
        # Timelines are asserted entry by entry here; the dispatcher's own entries
        # (notification.sent) and its deliveries are proven in tests/notify.
        dispatcher=False,
    )


async def seed() -> None:
    """The organisations and their OAuth clients, in the database bound last."""
    await t.Organisation.insert(
        *[t.Organisation(code=code, name=name, kind=kind) for code, name, kind in ORGANISATIONS]
    ).run()
    for client_id, (org, role, scope) in CLIENTS.items():
        await add_client(client_id, org=org, role=role, scope=scope, secret=secret_of(client_id))


async def token(http: httpx.AsyncClient, client_id: str, scope: str | None = None) -> str:
    """A bearer token from the real token endpoint (client credentials)."""
    answer = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", **({"scope": scope} if scope else {})},
        auth=(client_id, secret_of(client_id)),
    )
    assert answer.status_code == 200, answer.text
    issued: str = answer.json()["access_token"]
    return issued


@dataclass
class Caller:
    """One OAuth client calling the API with its bearer token."""

    http: httpx.AsyncClient
    bearer: str
    language: str = "en"

    def headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.bearer}",
            "Accept-Language": self.language,
            **(extra or {}),
        }

    async def get(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.http.get(API + path, headers=self.headers(headers))

    async def post(
        self, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.http.post(API + path, json=body, headers=self.headers(headers))

    async def put(
        self, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.http.put(API + path, json=body, headers=self.headers(headers))

    async def send(
        self, method: str, path: str, content: bytes, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """Raw bytes, for bodies that are not what a JSON encoder would write."""
        return await self.http.request(
            method,
            API + path,
            content=content,
            headers=self.headers({"Content-Type": "application/json", **(headers or {})}),
        )


@dataclass
class World:
    http: httpx.AsyncClient
    db: Database

    async def caller(self, client_id: str, *, language: str = "en") -> Caller:
        return Caller(self.http, await token(self.http, client_id), language)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db)

    async def issue(
        self,
        number: str,
        supplier: str = "ACME",
        quantities: tuple[int, ...] = (100,),
        need: date = NEED,
    ) -> int:
        """A purchase order with one line per quantity (bolts, all needed on `need`)."""
        lines = [
            POLine(
                no, f"BOLT-M{no + 7}", f"Hex bolt {no}", Decimal(qty), "pcs", Decimal("0.35"), need
            )
            for no, qty in enumerate(quantities, start=1)
        ]
        po = await issue_purchase_order(
            self.uow(), BUYER, IssuePurchaseOrder(supplier, "CNY", lines, number=number)
        )
        return po.version

    async def accepted(self, number: str, supplier: str = "ACME", **issue: Any) -> int:
        """Issued and accepted as ordered by its supplier's user; returns its version."""
        version = await self.issue(number, supplier, **issue)
        actor = Actor(ActorKind.USER, "u-sup", supplier, Side.SUPPLIER, "Supplier user", Via.WEB)
        done = await acknowledge(self.uow(), actor, Acknowledge(number, version, Decision.ACCEPT))
        return done.po.version

    async def events(self, number: str) -> list[Event]:
        return await timeline.read(INTERNAL, po_stream(number))

    async def version(self, number: str) -> int:
        row = (
            await t.PurchaseOrder.select(t.PurchaseOrder.version)
            .where(t.PurchaseOrder.number == number)
            .first()
            .run()
        )
        assert row is not None
        return int(row["version"])

    async def lines(self, number: str) -> dict[int, dict[str, Any]]:
        rows = await t.POLine.select().where(t.POLine.po.number == number).run()
        return {row["line_no"]: row for row in rows}


def by_api(event: Event, client_id: str) -> bool:
    """The event was made by this OAuth client, through the API."""
    return (
        event.via == Via.API
        and event.actor.get("kind") == "client"
        and event.actor.get("id") == client_id
        and event.actor.get("name") == client_id
    )


def between(moment: datetime, before: datetime, after: datetime) -> bool:
    return before <= moment <= after


def later(days: int) -> str:
    return (NEED + timedelta(days=days)).isoformat()


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem details of an error response, checked to be one."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body
