"""A small world for the alert tests: our company with a buyer, a sales clerk and an admin (real
user rows, so alerts are routed to their ids), a supplier and a customer, and orders built
through the real service commands, each command on its own clock so things happen in time.

Imported by the tests of this folder as `alert_support` (pytest puts the folder on the path).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from auth_support import DEFAULT_PASSWORD

from portal.auth.passwords import hash_password
from portal.db import tables as t
from portal.db.codec import load
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.changes import ChangeKind, LineChange, TolerancePolicy
from portal.domain.orders import POLine, SalesLine
from portal.domain.receipts import Receipt, ReceiptLine
from portal.domain.schedule import Schedule
from portal.domain.shipments import Shipment, ShipmentLine
from portal.services import alerts, change_requests, fulfilment, promises, sales_orders
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge
from portal.services.purchase_orders import IssuePurchaseOrder, issue_purchase_order
from portal.services.unit_of_work import Rules, UnitOfWork

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""When the story starts: orders are issued then."""
NEED = date(2026, 3, 20)

ORGANISATIONS = [
    ("HOME", "Our Company", "internal"),
    ("ACME", "Acme Fasteners", "supplier"),
    ("BOLT", "Bolt & Nut Works", "supplier"),
    ("SHOP", "Corner Shop", "customer"),
]
USERS = [
    # email, name, org, role
    ("bea@home.test", "Bea Buyer", "HOME", "buyer"),
    ("sam@home.test", "Sam Sales", "HOME", "sales"),
    ("ada@home.test", "Ada Admin", "HOME", "admin"),
    ("bob@home.test", "Bob Buyer", "HOME", "buyer"),
    ("li@acme.test", "Li Lei", "ACME", "supplier"),
    ("cy@shop.test", "Cy Shop", "SHOP", "customer"),
]

RULES = Rules(tolerance=TolerancePolicy(max_date_move_days=60))
"""A supplier may move a promise without review: the stories move promises freely."""


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def day(value: date, hour: int = 0) -> datetime:
    return datetime(value.year, value.month, value.day, hour, tzinfo=UTC)


class People:
    def __init__(self, ids: dict[str, int]) -> None:
        self.ids = ids
        self.buyer = self._actor("bea@home.test", "Bea Buyer", "HOME", Side.INTERNAL, "buyer")
        self.other_buyer = self._actor("bob@home.test", "Bob Buyer", "HOME", Side.INTERNAL, "buyer")
        self.sales = self._actor("sam@home.test", "Sam Sales", "HOME", Side.INTERNAL, "sales")
        self.admin = self._actor("ada@home.test", "Ada Admin", "HOME", Side.INTERNAL, "admin")
        self.supplier = self._actor("li@acme.test", "Li Lei", "ACME", Side.SUPPLIER, "supplier")
        self.warehouse = self.buyer

    def _actor(self, email: str, name: str, org: str, side: Side, role: str) -> Actor:
        return Actor(ActorKind.USER, str(self.ids[email]), org, side, name, Via.WEB, role)


_HASH: list[str] = []


async def seed(*, passwords: bool = False) -> People:
    """The organisations and people; with `passwords` each can sign in with DEFAULT_PASSWORD
    (one Argon2 hash, made once per process)."""
    if passwords and not _HASH:
        _HASH.append(hash_password(DEFAULT_PASSWORD))
    await t.Organisation.insert(
        *[t.Organisation(code=code, name=name, kind=kind) for code, name, kind in ORGANISATIONS]
    ).run()
    ids: dict[str, int] = {}
    for email, name, org, role in USERS:
        rows = (
            await t.AppUser.insert(
                t.AppUser(
                    email=email,
                    display_name=name,
                    org=org,
                    role=role,
                    locale="en",
                    password_hash=_HASH[0] if passwords else None,
                )
            )
            .returning(t.AppUser.id)
            .run()
        )
        ids[email] = int(rows[0]["id"])
    return People(ids)


def line(line_no: int = 1, *, quantity: str = "100", need: date = NEED) -> POLine:
    return POLine(
        line_no=line_no,
        item=f"ITEM-{line_no}",
        description="",
        quantity=Decimal(quantity),
        unit="pcs",
        unit_price=Decimal("1.50"),
        need_date=need,
    )


class Story:
    """Commands on the test's database, each at the time it is given."""

    def __init__(self, db: Database, people: People) -> None:
        self.db = db
        self.people = people

    def uow(self, when: datetime) -> UnitOfWork:
        return UnitOfWork(self.db, RULES, lambda: when)

    async def version(self, number: str) -> int:
        table = t.SalesOrder if number.startswith("SO") else t.PurchaseOrder
        row = await table.select(table.version).where(table.number == number).first().run()
        assert row is not None
        return int(row["version"])

    async def issue(
        self,
        number: str,
        when: datetime,
        *,
        lines: list[POLine] | None = None,
        buyer: Actor | None = None,
    ) -> None:
        await issue_purchase_order(
            self.uow(when),
            buyer or self.people.buyer,
            IssuePurchaseOrder(
                supplier="ACME", currency="CNY", lines=lines or [line()], number=number
            ),
        )

    async def accept(self, number: str, when: datetime) -> None:
        await acknowledge(
            self.uow(when),
            self.people.supplier,
            Acknowledge(number, await self.version(number), Decision.ACCEPT),
        )

    async def promise(self, number: str, when: datetime, on: date, *, line_no: int = 1) -> None:
        await promises.update_promise(
            self.uow(when),
            self.people.supplier,
            promises.UpdatePromise(
                number,
                await self.version(number),
                line_no,
                Schedule.single(Decimal(100), on),
                "capacity",
            ),
        )

    async def ship(
        self,
        number: str,
        when: datetime,
        asn: str,
        *,
        arrival: date | None = None,
        qty: str = "100",
    ) -> None:
        await fulfilment.post_shipment(
            self.uow(when),
            self.people.supplier,
            fulfilment.PostShipment(
                number,
                await self.version(number),
                Shipment(
                    number=asn,
                    ship_date=when.date(),
                    carrier="SF Express",
                    tracking_no="SF1",
                    expected_arrival=arrival,
                    lines=(ShipmentLine(1, Decimal(qty)),),
                ),
            ),
        )

    async def receive(self, number: str, when: datetime, grn: str, asn: str) -> None:
        await fulfilment.record_receipt(
            self.uow(when),
            self.people.warehouse,
            fulfilment.RecordReceipt(
                number,
                await self.version(number),
                Receipt(
                    number=grn,
                    received_on=when.date(),
                    shipment_number=asn,
                    lines=(ReceiptLine(1, Decimal(100)),),
                ),
            ),
        )

    async def open_cr(self, number: str, when: datetime, on: date) -> str:
        cr = await change_requests.open_change_request(
            self.uow(when),
            self.people.buyer,
            change_requests.OpenChangeRequest(
                number,
                await self.version(number),
                (LineChange(1, ChangeKind.DATE, schedule=Schedule.single(Decimal(100), on)),),
                "other",
            ),
        )
        return cr.number

    async def decide_cr(self, cr: str, when: datetime, verdict: change_requests.Verdict) -> None:
        row = (
            await t.ChangeRequest.select(t.ChangeRequest.version)
            .where(t.ChangeRequest.number == cr)
            .first()
            .run()
        )
        assert row is not None
        await change_requests.decide_change_request(
            self.uow(when),
            self.people.supplier,
            change_requests.DecideChangeRequest(
                cr, int(row["version"]), verdict, comment="Cannot do that date"
            ),
        )

    async def sell(self, number: str, when: datetime, *, requested: date, expected: date) -> None:
        await sales_orders.create_sales_order(
            self.uow(when),
            self.people.sales,
            sales_orders.CreateSalesOrder(
                customer="SHOP",
                currency="CNY",
                lines=[
                    SalesLine(
                        line_no=1,
                        item="ITEM-1",
                        description="",
                        quantity=Decimal(40),
                        unit="pcs",
                        unit_price=Decimal(3),
                        requested_date=requested,
                        expected_date=expected,
                    )
                ],
                contact_email="cy@shop.test",
                number=number,
            ),
        )

    async def link(self, so: str, po: str, when: datetime, *, handling_days: int = 2) -> None:
        await sales_orders.link_sales_line(
            self.uow(when),
            self.people.sales,
            sales_orders.LinkSalesLine(so, await self.version(so), 1, po, 1, handling_days),
        )

    async def ship_so(self, so: str, when: datetime) -> None:
        await sales_orders.advance_sales_order(
            self.uow(when),
            self.people.sales,
            sales_orders.AdvanceSalesOrder(
                so,
                await self.version(so),
                sales_orders.Progress.SHIP,
                carrier="SF",
                tracking_no="1",
            ),
        )

    async def scan(
        self, when: datetime, thresholds: dict[str, tuple[int, int]] | None = None
    ) -> alerts.Round:
        return await alerts.scan(self.db, lambda: when, thresholds, rules=RULES)


async def alert_rows(rule: str | None = None) -> list[dict[str, Any]]:
    query = t.Alert.select().order_by(t.Alert.id)
    if rule is not None:
        query = query.where(t.Alert.rule == rule)
    rows = await query.run()
    for row in rows:
        row["data"] = load(row["data"])
    return list(rows)


async def alert_events(stream: str) -> list[dict[str, Any]]:
    rows = (
        await t.Event.select()
        .where(t.Event.stream == stream)
        .where(t.Event.kind.like("alert.%"))
        .order_by(t.Event.seq)
        .run()
    )
    for row in rows:
        row["actor"] = load(row["actor"])
        row["data"] = load(row["data"])
    return list(rows)


def brief(rows: list[dict[str, Any]]) -> list[tuple[str, str, str, str, str]]:
    """Alert events as (kind, subject, actor kind, via, audience)."""
    return [
        (row["kind"], row["data"]["subject"], row["actor"]["kind"], row["via"], row["audience"])
        for row in rows
    ]


Clock = Callable[[], datetime]
