"""A small world for the integration tests: organisations, actors, a fixed clock, and helpers
that read the stored rows back (events decoded, whole-database snapshots).

Imported by the tests of this folder as `integration_support` (pytest puts the folder on the path).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from portal.db import tables as t
from portal.db import timeline
from portal.db.codec import load
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.orders import POLine, PurchaseOrder, SalesLine, SalesOrder
from portal.domain.schedule import DeliveryRow, Schedule
from portal.services import purchase_orders, sales_orders
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge
from portal.services.unit_of_work import Rules, UnitOfWork

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
"""The PostgreSQL server the tests use (the same default as tests/conftest.py)."""

AT = datetime(2026, 3, 2, 9, 30, 15, 250000, tzinfo=UTC)
"""The fixed time every unit of work in these tests reads from its clock."""

ORGANISATIONS = [
    ("ACME", "Acme Trading", "internal"),
    ("SUP1", "Northwind Fasteners", "supplier"),
    ("SUP2", "Southwind Metals", "supplier"),
    ("CUS1", "Contoso Retail", "customer"),
    ("CUS2", "Fabrikam Stores", "customer"),
]

BUYER = Actor(ActorKind.USER, "u-buyer", "ACME", Side.INTERNAL, "Bea Buyer", Via.WEB, "buyer")
SALES = Actor(ActorKind.USER, "u-sales", "ACME", Side.INTERNAL, "Sam Sales", Via.WEB, "sales")
WAREHOUSE = Actor(
    ActorKind.USER, "u-wh", "ACME", Side.INTERNAL, "Wen Warehouse", Via.WEB, "warehouse"
)
SUPPLIER = Actor(ActorKind.USER, "u-sue", "SUP1", Side.SUPPLIER, "Sue Supplier", Via.WEB)
SUPPLIER_ERP = Actor(ActorKind.CLIENT, "c-nw-erp", "SUP1", Side.SUPPLIER, "Northwind ERP", Via.API)
OTHER_SUPPLIER = Actor(ActorKind.USER, "u-sam2", "SUP2", Side.SUPPLIER, "Sid Southwind", Via.WEB)
CUSTOMER = Actor(ActorKind.USER, "u-carl", "CUS1", Side.CUSTOMER, "Carl Contoso", Via.WEB)
OTHER_CUSTOMER = Actor(ActorKind.USER, "u-fay", "CUS2", Side.CUSTOMER, "Fay Fabrikam", Via.WEB)

SYSTEM_ACTOR = {
    "kind": "system",
    "id": None,
    "org": None,
    "side": "internal",
    "name": "system",
    "role": None,
}

NEED = date(2026, 4, 10)
GENESIS = "0" * 64


def run_cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    """The real `portal` command line, in a child process, on the test's database."""
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args],
        env={**os.environ, "PORTAL_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )


def brief(row: dict[str, Any]) -> tuple[Any, ...]:
    """An event row as (seq, kind, actor name, actor org, actor side, via, audience)."""
    actor = row["actor"]
    return (
        row["seq"],
        row["kind"],
        actor["name"],
        actor["org"],
        actor["side"],
        row["via"],
        row["audience"],
    )


def po_line(
    line_no: int = 1,
    *,
    item: str = "BOLT-M8",
    quantity: str = "100",
    price: str = "0.25",
    need: date = NEED,
) -> POLine:
    return POLine(
        line_no=line_no,
        item=item,
        description=f"{item} description",
        quantity=Decimal(quantity),
        unit="pcs",
        unit_price=Decimal(price),
        need_date=need,
    )


def so_line(
    line_no: int = 1,
    *,
    item: str = "BOLT-M8",
    quantity: str = "40",
    requested: date = date(2026, 4, 15),
    expected: date = date(2026, 4, 20),
) -> SalesLine:
    return SalesLine(
        line_no=line_no,
        item=item,
        description=f"{item} for you",
        quantity=Decimal(quantity),
        unit="pcs",
        unit_price=Decimal("0.90"),
        requested_date=requested,
        expected_date=expected,
    )


def on(day: date, quantity: str = "100") -> Schedule:
    return Schedule.single(Decimal(quantity), day)


def split(*rows: tuple[str, date]) -> Schedule:
    return Schedule(tuple(DeliveryRow(Decimal(quantity), day) for quantity, day in rows))


def fixed_clock() -> datetime:
    return AT


class World:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.rules = Rules()

    def uow(
        self, *, clock: Callable[[], datetime] = fixed_clock, rules: Rules | None = None
    ) -> UnitOfWork:
        return UnitOfWork(self.db, rules or self.rules, clock)

    # Reading rows back ----------------------------------------------------------------------

    async def events(self, stream: str) -> list[dict[str, Any]]:
        rows = await t.Event.select().where(t.Event.stream == stream).order_by(t.Event.seq).run()
        for row in rows:
            row["actor"] = load(row["actor"])
            row["data"] = load(row["data"])
        return rows

    async def new_events(self, stream: str, after_seq: int) -> list[dict[str, Any]]:
        return [row for row in await self.events(stream) if row["seq"] > after_seq]

    async def sealed(self) -> None:
        """Every stream's hash chain is intact."""
        assert await timeline.verify() == []

    async def head(self, stream: str) -> int:
        row = await t.Stream.select().where(t.Stream.name == stream).first().run()
        return row["last_seq"] if row else 0

    async def po_row(self, number: str) -> dict[str, Any]:
        row = await t.PurchaseOrder.select().where(t.PurchaseOrder.number == number).first().run()
        assert row is not None, number
        return row

    async def po_lines(self, number: str) -> dict[int, dict[str, Any]]:
        rows = (
            await t.POLine.select()
            .where(t.POLine.po.number == number)
            .order_by(t.POLine.line_no)
            .run()
        )
        for row in rows:
            row["promise"] = load(row["promise"])
            row["first_promise"] = load(row["first_promise"])
        return {row["line_no"]: row for row in rows}

    async def so_row(self, number: str) -> dict[str, Any]:
        row = await t.SalesOrder.select().where(t.SalesOrder.number == number).first().run()
        assert row is not None, number
        return row

    async def so_lines(self, number: str) -> dict[int, dict[str, Any]]:
        rows = (
            await t.SOLine.select()
            .where(t.SOLine.so.number == number)
            .order_by(t.SOLine.line_no)
            .run()
        )
        return {row["line_no"]: row for row in rows}

    async def cr_row(self, number: str) -> dict[str, Any]:
        row = await t.ChangeRequest.select().where(t.ChangeRequest.number == number).first().run()
        assert row is not None, number
        row["changes"] = load(row["changes"])
        return row

    async def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table, in id order: equal snapshots mean nothing was written."""
        return {
            table._meta.tablename: await table.select().order_by(table._meta.primary_key).run()
            for table in t.TABLES
        }

    async def count(self, table: type[t.Table]) -> int:
        return int(await table.count().run())

    # Building the state a test starts from ---------------------------------------------------

    async def issue_po(
        self,
        number: str = "PO-1",
        *,
        supplier: str = "SUP1",
        lines: list[POLine] | None = None,
        draft: bool = False,
    ) -> PurchaseOrder:
        return await purchase_orders.issue_purchase_order(
            self.uow(),
            BUYER,
            purchase_orders.IssuePurchaseOrder(
                supplier=supplier,
                currency="usd",
                lines=lines or [po_line(1), po_line(2, item="NUT-M8", quantity="50")],
                number=number,
                draft=draft,
            ),
        )

    async def acknowledged_po(
        self,
        number: str = "PO-1",
        *,
        supplier: str = "SUP1",
        lines: list[POLine] | None = None,
        promises: dict[int, Schedule] | None = None,
    ) -> PurchaseOrder:
        po = await self.issue_po(number, supplier=supplier, lines=lines)
        actor = SUPPLIER if supplier == "SUP1" else OTHER_SUPPLIER
        result = await acknowledge(
            self.uow(),
            actor,
            Acknowledge(number, po.version, Decision.ACCEPT, promises=promises or {}),
        )
        return result.po

    async def create_so(
        self,
        number: str = "SO-1",
        *,
        customer: str = "CUS1",
        lines: list[SalesLine] | None = None,
    ) -> SalesOrder:
        return await sales_orders.create_sales_order(
            self.uow(),
            SALES,
            sales_orders.CreateSalesOrder(
                customer=customer,
                currency="usd",
                lines=lines or [so_line(1)],
                contact_email="buyer@contoso.example",
                number=number,
            ),
        )

    async def link(
        self, so_number: str, line_no: int, po_number: str, po_line_no: int, **kwargs: Any
    ) -> SalesOrder:
        version = (await self.so_row(so_number))["version"]
        return await sales_orders.link_sales_line(
            self.uow(),
            SALES,
            sales_orders.LinkSalesLine(
                so_number, version, line_no, po_number, po_line_no, **kwargs
            ),
        )
