"""A supplier history for the scorecard tests, made through the real service commands, each
at its own moment (a UnitOfWork clock per step), and the people who read the scorecards.

Acme (ACME), periods 2026-02 and 2026-03:
  PO-A issued 2 Feb 08:00, acknowledged 2 Feb 14:00 (6 h):
    line 1: 100 needed 10 Mar; first promise 8 Mar; moved to 12 Mar (20 Feb), then to 14 Mar
            (25 Feb); all 100 received 13 Mar: late against the need date and against the
            first promise, though before the current promise.
    line 2: 50 needed 20 Mar, promised as needed; 50 received 18 Mar with 5 turned away, the
            5 replaced and received 19 Mar: on time.
  PO-B issued 10 Feb 09:00, acknowledged 11 Feb 15:00 (30 h):
    line 1: 200 needed 25 Mar, promised 25 Mar. Our buyer asks for 180 (12 Feb 10:00), Acme
            approves at 13:00 (3 h; the promise is resized: one move). Acme asks to deliver 28
            Mar (13 Feb 09:00); the buyer rejects at 10:30 (1.5 h). 180 received 24 Mar.
  PO-C issued 15 Feb 08:00, 10 needed 30 Mar, never answered nor delivered.
Bolt (BOLT): PO-D issued 5 Feb 08:00, acknowledged 09:00 (1 h); 10 needed 5 Mar, received 4 Mar.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from auth_support import DEFAULT_PASSWORD

from portal.auth.passwords import hash_password
from portal.db import tables as t
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.changes import ChangeKind, LineChange, TolerancePolicy
from portal.domain.orders import POLine
from portal.domain.receipts import Receipt, ReceiptLine
from portal.domain.schedule import Schedule
from portal.domain.shipments import Shipment, ShipmentLine
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge
from portal.services.change_requests import (
    DecideChangeRequest,
    OpenChangeRequest,
    Verdict,
    decide_change_request,
    open_change_request,
)
from portal.services.fulfilment import PostShipment, RecordReceipt, post_shipment, record_receipt
from portal.services.promises import UpdatePromise, update_promise
from portal.services.purchase_orders import IssuePurchaseOrder, issue_purchase_order
from portal.services.unit_of_work import Rules, UnitOfWork

BUYER = Actor(ActorKind.USER, "u-buyer", "HOME", Side.INTERNAL, "Wang Fang", Via.WEB, "buyer")
WAREHOUSE = Actor(ActorKind.USER, "u-wh", "HOME", Side.INTERNAL, "Wen", Via.WEB, "warehouse")
ACME = Actor(ActorKind.USER, "u-acme", "ACME", Side.SUPPLIER, "Li Lei", Via.WEB)
BOLT = Actor(ActorKind.USER, "u-bolt", "BOLT", Side.SUPPLIER, "Zhou Min", Via.WEB)

ORGANISATIONS = [
    ("HOME", "Our Company", "internal"),
    ("ACME", "Acme Fasteners", "supplier"),
    ("BOLT", "Bolt & Nut Works", "supplier"),
    ("CUST", "Contoso Retail", "customer"),
]
BUYER_USER = "wang.fang@home.example"
ACME_USER = "li.lei@acme.example"
BOLT_USER = "zhou.min@bolt.example"
CUST_USER = "carl@contoso.example"
PEOPLE = [
    (BUYER_USER, "HOME", "buyer", "Wang Fang"),
    (ACME_USER, "ACME", "supplier", "Li Lei"),
    (BOLT_USER, "BOLT", "supplier", "Zhou Min"),
    (CUST_USER, "CUST", "customer", "Carl"),
]
LENIENT = Rules(tolerance=TolerancePolicy(max_date_move_days=30))


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def uow(db: Database, when: datetime, rules: Rules | None = None) -> UnitOfWork:
    return UnitOfWork(db, rules or Rules(), clock=lambda: when)


async def add_organisations(*, people: bool = True) -> None:
    await t.Organisation.insert(
        *[t.Organisation(code=code, name=name, kind=kind) for code, name, kind in ORGANISATIONS]
    ).run()
    if people:
        hashed = hash_password(DEFAULT_PASSWORD)
        await t.AppUser.insert(
            *[
                t.AppUser(
                    email=email,
                    display_name=name,
                    org=org,
                    role=role,
                    locale="en",
                    time_zone="UTC",
                    password_hash=hashed,
                )
                for email, org, role, name in PEOPLE
            ]
        ).run()


async def version(number: str) -> int:
    row = (
        await t.PurchaseOrder.select(t.PurchaseOrder.version)
        .where(t.PurchaseOrder.number == number)
        .first()
        .run()
    )
    assert row is not None
    return int(row["version"])


def line(line_no: int, quantity: int, need: date) -> POLine:
    return POLine(line_no, f"ITEM-{line_no}", "", Decimal(quantity), "pcs", Decimal(1), need)


async def issue(db: Database, when: datetime, number: str, supplier: str, *lines: POLine) -> None:
    await issue_purchase_order(
        uow(db, when), BUYER, IssuePurchaseOrder(supplier, "CNY", list(lines), number=number)
    )


async def accept(
    db: Database, when: datetime, actor: Actor, number: str, promises: dict[int, Schedule]
) -> None:
    await acknowledge(
        uow(db, when),
        actor,
        Acknowledge(number, await version(number), Decision.ACCEPT, promises=promises),
    )


async def move(db: Database, when: datetime, number: str, line_no: int, to: date, qty: int) -> None:
    await update_promise(
        uow(db, when, LENIENT),
        ACME,
        UpdatePromise(
            number, await version(number), line_no, Schedule.single(Decimal(qty), to), "capacity"
        ),
    )


async def ship(
    db: Database, when: datetime, actor: Actor, number: str, line_no: int, qty: int
) -> str:
    shipped = await post_shipment(
        uow(db, when),
        actor,
        PostShipment(
            number,
            await version(number),
            Shipment(
                "", when.date(), "SF", "T1", when.date(), (ShipmentLine(line_no, Decimal(qty)),)
            ),
        ),
    )
    return shipped.shipment.number


async def receive(
    db: Database, on: date, number: str, line_no: int, qty: int, rejected: int = 0
) -> None:
    await record_receipt(
        uow(db, datetime(on.year, on.month, on.day, 16, tzinfo=UTC)),
        WAREHOUSE,
        RecordReceipt(
            number,
            await version(number),
            Receipt("", on, None, (ReceiptLine(line_no, Decimal(qty), Decimal(rejected)),)),
        ),
    )


async def tell_the_story(db: Database, *, people: bool = True) -> None:
    await add_organisations(people=people)
    # PO-A
    await issue(
        db,
        at(2, 2, 8),
        "PO-A",
        "ACME",
        line(1, 100, date(2026, 3, 10)),
        line(2, 50, date(2026, 3, 20)),
    )
    await accept(
        db, at(2, 2, 14), ACME, "PO-A", {1: Schedule.single(Decimal(100), date(2026, 3, 8))}
    )
    await move(db, at(2, 20), "PO-A", 1, date(2026, 3, 12), 100)
    await move(db, at(2, 25), "PO-A", 1, date(2026, 3, 14), 100)
    await ship(db, at(3, 11), ACME, "PO-A", 1, 100)
    await receive(db, date(2026, 3, 13), "PO-A", 1, 100)
    await ship(db, at(3, 15), ACME, "PO-A", 2, 50)
    await receive(db, date(2026, 3, 18), "PO-A", 2, 50, rejected=5)
    await ship(db, at(3, 18, 17), ACME, "PO-A", 2, 5)
    await receive(db, date(2026, 3, 19), "PO-A", 2, 5)
    # PO-B
    await issue(db, at(2, 10, 9), "PO-B", "ACME", line(1, 200, date(2026, 3, 25)))
    await accept(db, at(2, 11, 15), ACME, "PO-B", {})
    opened = await open_change_request(
        uow(db, at(2, 12, 10)),
        BUYER,
        OpenChangeRequest(
            "PO-B",
            await version("PO-B"),
            (LineChange(1, ChangeKind.QUANTITY, quantity=Decimal(180)),),
            "buyer_request",
        ),
    )
    await decide_change_request(
        uow(db, at(2, 12, 13)),
        ACME,
        DecideChangeRequest(opened.number, opened.version, Verdict.APPROVE),
    )
    asked = await open_change_request(
        uow(db, at(2, 13, 9)),
        ACME,
        OpenChangeRequest(
            "PO-B",
            await version("PO-B"),
            (
                LineChange(
                    1, ChangeKind.DATE, schedule=Schedule.single(Decimal(180), date(2026, 3, 28))
                ),
            ),
            "capacity",
        ),
    )
    await decide_change_request(
        uow(db, at(2, 13, 10, 30)),
        BUYER,
        DecideChangeRequest(asked.number, asked.version, Verdict.REJECT, comment="We need it"),
    )
    await ship(db, at(3, 22), ACME, "PO-B", 1, 180)
    await receive(db, date(2026, 3, 24), "PO-B", 1, 180)
    # PO-C
    await issue(db, at(2, 15, 8), "PO-C", "ACME", line(1, 10, date(2026, 3, 30)))
    # PO-D (Bolt)
    await issue(db, at(2, 5, 8), "PO-D", "BOLT", line(1, 10, date(2026, 3, 5)))
    await accept(db, at(2, 5, 9), BOLT, "PO-D", {})
    await ship(db, at(3, 2), BOLT, "PO-D", 1, 10)
    await receive(db, date(2026, 3, 4), "PO-D", 1, 10)
