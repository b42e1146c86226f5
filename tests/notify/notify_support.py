"""A small world for the dispatcher's tests: our buyers and sales, a supplier's and a customer's
people (real app_user rows, so the actors' ids are theirs), orders made through the services,
and a real SMTP server (aiosmtpd in a child process, optionally slow) storing what it gets.

Imported by the tests of this folder as `notify_support` (pytest puts the folder on the path).
"""

from __future__ import annotations

import mailbox
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, cast

from auth_support import add_org, add_user

from portal.db import tables as t
from portal.db.codec import load
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.changes import TolerancePolicy
from portal.domain.orders import POLine, SalesLine
from portal.domain.schedule import Schedule
from portal.services import purchase_orders, sales_orders
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge
from portal.services.promises import UpdatePromise, update_promise
from portal.services.unit_of_work import Rules, UnitOfWork
from portal.settings import Settings

HERE = Path(__file__).parent
NEED = date.today() + timedelta(days=60)
"""Far enough ahead that every promise in these tests is for the future."""
LATER = NEED + timedelta(days=20)
CONTACT = "orders@contoso.example"


@dataclass(frozen=True, slots=True)
class People:
    bea: Actor  # our buyer, the orders' buyer
    bob: Actor  # another buyer
    sam: Actor  # our sales
    sue: Actor  # the supplier's user
    carl: Actor  # the customer's user (reads Chinese, in Shanghai)
    ids: dict[str, int]


def _actor(user_id: int, org: str, side: Side, name: str, role: str) -> Actor:
    return Actor(ActorKind.USER, str(user_id), org, side, name, Via.WEB, role)


async def people() -> People:
    await add_org("ACME", "internal", "Acme Trading")
    await add_org("SUP1", "supplier", "Northwind Fasteners")
    await add_org("CUS1", "customer", "Contoso Retail")
    ids = {
        "bea": await add_user(
            "bea@acme.example", org="ACME", role="buyer", display_name="Bea Buyer", password=None
        ),
        "bob": await add_user(
            "bob@acme.example", org="ACME", role="buyer", display_name="Bob Buyer", password=None
        ),
        "sam": await add_user(
            "sam@acme.example", org="ACME", role="sales", display_name="Sam Sales", password=None
        ),
        "sue": await add_user(
            "sue@northwind.example",
            org="SUP1",
            role="supplier",
            display_name="Sue Supplier",
            password=None,
        ),
        "carl": await add_user(
            "carl@contoso.example",
            org="CUS1",
            role="customer",
            display_name="Carl Contoso",
            password=None,
            locale="zh_CN",
            time_zone="Asia/Shanghai",
        ),
    }
    return People(
        bea=_actor(ids["bea"], "ACME", Side.INTERNAL, "Bea Buyer", "buyer"),
        bob=_actor(ids["bob"], "ACME", Side.INTERNAL, "Bob Buyer", "buyer"),
        sam=_actor(ids["sam"], "ACME", Side.INTERNAL, "Sam Sales", "sales"),
        sue=_actor(ids["sue"], "SUP1", Side.SUPPLIER, "Sue Supplier", "supplier"),
        carl=_actor(ids["carl"], "CUS1", Side.CUSTOMER, "Carl Contoso", "customer"),
        ids=ids,
    )


def po_line(line_no: int = 1, quantity: str = "100") -> POLine:
    return POLine(
        line_no=line_no,
        item="BOLT-M8",
        description="Bolt M8",
        quantity=Decimal(quantity),
        unit="pcs",
        unit_price=Decimal("0.25"),
        need_date=NEED,
    )


async def issue_po(db: Database, who: People, number: str = "PO-1") -> int:
    """Issued by Bea; the version after."""
    po = await purchase_orders.issue_purchase_order(
        UnitOfWork(db),
        who.bea,
        purchase_orders.IssuePurchaseOrder(
            supplier="SUP1", currency="usd", lines=[po_line()], number=number
        ),
    )
    return po.version


async def accepted_po(db: Database, who: People, number: str = "PO-1") -> int:
    version = await issue_po(db, who, number)
    result = await acknowledge(
        UnitOfWork(db),
        who.sue,
        Acknowledge(number, version, Decision.ACCEPT, promises={1: on(NEED)}),
    )
    return result.po.version


async def linked_so(db: Database, who: People, po: str = "PO-1", number: str = "SO-1") -> None:
    await sales_orders.create_sales_order(
        UnitOfWork(db),
        who.sam,
        sales_orders.CreateSalesOrder(
            customer="CUS1",
            currency="usd",
            lines=[
                SalesLine(
                    line_no=1,
                    item="BOLT-M8",
                    description="Bolt M8 for you",
                    quantity=Decimal(40),
                    unit="pcs",
                    unit_price=Decimal("0.90"),
                    requested_date=NEED + timedelta(days=5),
                    expected_date=NEED + timedelta(days=10),
                )
            ],
            contact_email=CONTACT,
            number=number,
        ),
    )
    row = await t.SalesOrder.select().where(t.SalesOrder.number == number).first().run()
    assert row is not None
    await sales_orders.link_sales_line(
        UnitOfWork(db),
        who.sam,
        sales_orders.LinkSalesLine(number, row["version"], 1, po, 1),
    )


async def move_promise(db: Database, who: People, day: date, number: str = "PO-1") -> None:
    row = await t.PurchaseOrder.select().where(t.PurchaseOrder.number == number).first().run()
    assert row is not None
    await update_promise(
        UnitOfWork(db, Rules(tolerance=TolerancePolicy(30, Decimal(5)))),
        who.sue,
        UpdatePromise(number, row["version"], 1, on(day), "material_shortage", "Line 3 down"),
    )


def on(day: date, quantity: str = "100") -> Schedule:
    return Schedule.single(Decimal(quantity), day)


async def notifications(user_id: int) -> list[dict[str, Any]]:
    rows = (
        await t.Notification.select()
        .where(t.Notification.user_id == user_id)
        .order_by(t.Notification.id)
        .run()
    )
    for row in rows:
        row["data"] = load(row["data"])
    return rows


async def deliveries(**where: Any) -> list[dict[str, Any]]:
    query = t.Delivery.select().order_by(t.Delivery.id)
    for name, value in where.items():
        query = query.where(getattr(t.Delivery, name) == value)
    rows = await query.run()
    for row in rows:
        row["payload"] = load(row["payload"])
    return rows


async def events(stream: str, kind: str | None = None) -> list[dict[str, Any]]:
    rows = await t.Event.select().where(t.Event.stream == stream).order_by(t.Event.seq).run()
    for row in rows:
        row["data"] = load(row["data"])
        row["actor"] = load(row["actor"])
    return [row for row in rows if kind is None or row["kind"] == kind]


def settings(database_url: str, tmp_path: Path, **values: Any) -> Settings:
    defaults: dict[str, Any] = {
        "database_url": database_url,
        "base_url": "https://portal.example.com",
        "secret_key": "s" * 40,
        "mail_dir": str(tmp_path / "mail"),
        "retry_scale": Decimal(0),
    }
    return Settings(**(defaults | values))


# SMTP -----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def smtp_server(maildir: Path, port: int | None = None, delay: float = 0) -> Iterator[int]:
    """An SMTP server on 127.0.0.1 (a child process) storing each mail in a Maildir; `delay`
    seconds before each mail is accepted (a slow server, so a worker can be killed mid-batch)."""
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, str(HERE / "smtp_sink.py"), str(port), str(maildir), str(delay)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                assert process.stderr is not None
                raise AssertionError(f"SMTP server exited: {process.stderr.read().decode()}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise AssertionError("the SMTP server did not listen within 20 s")
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def received(maildir: Path) -> list[EmailMessage]:
    if not maildir.exists():
        return []
    box = mailbox.Maildir(maildir, create=False)
    parser = BytesParser(_class=EmailMessage, policy=policy.default)
    return [cast(EmailMessage, parser.parsebytes(box.get_bytes(key))) for key in box.iterkeys()]


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None, "the mail has a text and an HTML part"
    return str(text.get_content()), str(html.get_content())


def later(hours: float = 0, minutes: float = 0) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours, minutes=minutes)
