"""`portal demo` loads a believable company: its suppliers, customers and people, and six weeks
of orders in every status, all made by the real service commands (so every timeline is sealed
and verifiable), once: a second load adds nothing and says so."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from argon2 import PasswordHasher
from integration_support import World, run_cli

from portal.db import tables as t
from portal.db import timeline
from portal.db.codec import load
from portal.db.database import Database
from portal.db.repositories import PurchaseOrders
from portal.demo import DemoResult, load_demo
from portal.demo.catalog import DEMO_PASSWORD, ORGANISATIONS, PEOPLE
from portal.demo.plots import PLOTS
from portal.domain.actors import Actor
from portal.domain.orders import expected_date
from portal.domain.states import CRStatus, POStatus, SOStatus
from portal.settings import Settings

pytestmark = pytest.mark.engine

READER = Actor.system("test")


async def load_into(db: Database) -> DemoResult:
    return await load_demo(db, Settings(database_url=db.url))


async def column(table: type[t.Table], name: str) -> list[Any]:
    return [row[name] for row in await table.select(getattr(table, name)).run()]


async def test_demo_holds_every_party_an_order_for_every_plot_and_every_status(
    db: Database,
) -> None:
    result = await load_into(db)

    assert result.loaded
    kinds = await column(t.Organisation, "kind")
    assert sorted(kinds) == sorted(org.kind for org in ORGANISATIONS)
    assert (kinds.count("internal"), kinds.count("supplier"), kinds.count("customer")) == (1, 3, 3)
    users = await t.AppUser.select().run()
    assert len(users) == len(PEOPLE)
    internal_roles = {user["role"] for user in users if user["org"] == "HENGDA"}
    assert internal_roles == {"buyer", "sales", "warehouse", "admin"}
    for org in ORGANISATIONS:
        assert any(user["org"] == org.code for user in users), org.code
    hashes = {user["password_hash"] for user in users}
    assert all(password_hash.startswith("$argon2id$") for password_hash in hashes)
    assert all(PasswordHasher().verify(password_hash, DEMO_PASSWORD) for password_hash in hashes)
    assert await t.PurchaseOrder.count().run() == sum(plot.buys for plot in PLOTS)
    assert await t.SalesOrder.count().run() == sum(plot.sells for plot in PLOTS)
    assert 45 <= await t.PurchaseOrder.count().run() <= 60
    assert 45 <= await t.SalesOrder.count().run() <= 60

    po_statuses = set(await column(t.PurchaseOrder, "status"))
    assert po_statuses == {status.value for status in POStatus}
    moving = await t.PurchaseOrder.select(t.PurchaseOrder.number).where(
        t.PurchaseOrder.status.is_in([POStatus.IN_FULFILMENT.value, POStatus.SHIPPED.value])
    )
    shown = {(await PurchaseOrders().get(READER, row["number"])).display_status for row in moving}
    assert {"partially_shipped", "partially_received"} <= shown
    assert set(await column(t.SalesOrder, "status")) == {status.value for status in SOStatus}
    requests = await t.ChangeRequest.select().run()
    assert {row["status"] for row in requests} == {status.value for status in CRStatus}
    assert any(row["auto_approved"] and row["status"] == "approved" for row in requests)
    assert any(row["from_acknowledgement"] for row in requests)
    assert max(row["round"] for row in requests) >= 3
    rejected = await column(t.POLine, "rejected_qty")
    assert any(Decimal(str(quantity)) > 0 for quantity in rejected)
    shipments = await t.Shipment.select(t.Shipment.carrier, t.Shipment.tracking_no).run()
    assert all(row["tracking_no"] for row in shipments)
    carriers = " ".join(row["carrier"] for row in shipments)
    assert "顺丰" in carriers and "DHL" in carriers
    comments = await t.Event.select(t.Event.data).where(t.Event.kind == "comment.added").run()
    texts = [load(row["data"])["text"] for row in comments]
    assert any(not text.isascii() for text in texts) and any(text.isascii() for text in texts)


async def po_timelines(kinds: set[str]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Each purchase order's events of `kinds`, in order, as (kind, data), by PO number."""
    rows = (
        await t.Event.select(t.Event.stream, t.Event.kind, t.Event.data)
        .where(t.Event.kind.is_in(sorted(kinds)))
        .order_by(t.Event.stream, t.Event.seq)
        .run()
    )
    timelines: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for row in rows:
        number = row["stream"].removeprefix("po/")
        timelines.setdefault(number, []).append((row["kind"], load(row["data"])))
    return timelines


def moves(timeline: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str, str]]:
    return [(kind, data["status"]["before"], data["status"]["after"]) for kind, data in timeline]


async def test_demo_replaces_goods_turned_away_closes_short_and_cancels_open_requests(
    db: Database,
) -> None:
    await load_into(db)
    buyers = {person.display_name for person in PEOPLE if person.role == "buyer"}

    # An order cancelled while the change request of its acknowledgement was open: the
    # request is cancelled with it, by the buyer, for the order's reason.
    cancelled = await t.ChangeRequest.select(
        t.ChangeRequest.number,
        t.ChangeRequest.decided_by_name,
        t.ChangeRequest.decision_comment,
        t.ChangeRequest.decided_at,
        t.ChangeRequest.po.number.as_alias("po_number"),
        t.ChangeRequest.po.status.as_alias("po_status"),
    ).where(t.ChangeRequest.status == CRStatus.CANCELLED.value)
    assert cancelled
    closings = await po_timelines({"po.cancelled"})
    named = {
        cr: (number, data["reason"])
        for number, timeline in closings.items()
        for _, data in timeline
        for cr in data["change_requests_closed"]
    }
    assert set(named) == {row["number"] for row in cancelled}
    for row in cancelled:
        assert row["po_status"] == POStatus.CANCELLED.value
        assert named[row["number"]] == (row["po_number"], row["decision_comment"])
        assert row["decided_by_name"] in buyers and row["decided_at"] is not None
    befores = {moves(closings[row["po_number"]])[0][1] for row in cancelled}
    assert befores == {POStatus.CHANGES_PROPOSED.value}

    # Goods turned away on a shipped order put it back in fulfilment; the supplier ships the
    # replacement and the warehouse receives it: shipped, then received.
    goods = await po_timelines({"shipment.posted", "receipt.recorded"})
    turned_away = {
        number
        for number, timeline in goods.items()
        if ("receipt.recorded", "shipped", "in_fulfilment") in moves(timeline)
    }
    replaced = [
        number
        for number in turned_away
        if moves(goods[number])[-3:]
        == [
            ("receipt.recorded", "shipped", "in_fulfilment"),
            ("shipment.posted", "in_fulfilment", "shipped"),
            ("receipt.recorded", "shipped", "received"),
        ]
    ]
    assert replaced and set(replaced) < turned_away  # one replaced, one still waiting for it
    for number in turned_away:
        data = next(
            data
            for _, data in goods[number]
            if data["status"] == {"before": "shipped", "after": "in_fulfilment"}
        )
        assert any(Decimal(line["rejected"]) > 0 for line in data["receipt"]["lines"])
    for number in replaced:
        po = await PurchaseOrders().get(READER, number)
        assert po.status == POStatus.RECEIVED
        assert all(line.fully_received and line.left_to_ship == 0 for line in po.lines)
        assert any(line.rejected_qty > 0 for line in po.lines)
        # What was turned away was shipped again, on top of the quantity ordered.
        for line in po.lines:
            assert line.shipped_qty == line.quantity + line.rejected_qty
    for number in turned_away - set(replaced):
        po = await PurchaseOrders().get(READER, number)
        assert (po.status, po.display_status) == (POStatus.IN_FULFILMENT, "partially_received")
        assert any(line.left_to_ship > 0 for line in po.lines)

    # The buyer closed an order short: the event says which lines fell short.
    closed = await po_timelines({"po.closed"})
    short = {
        number: timeline[-1][1] for number, timeline in closed.items() if timeline[-1][1]["short"]
    }
    assert short
    for number, data in short.items():
        assert data["status"]["before"] in ("in_fulfilment", "shipped")
        po = await PurchaseOrders().get(READER, number)
        assert data["short"] == [
            {
                "line_no": line.line_no,
                "quantity": format(line.quantity.normalize(), "f"),
                "received": format(line.received_qty.normalize(), "f"),
            }
            for line in po.lines
            if not line.fully_received
        ]
    assert all(
        timeline[-1][1]["short"] == [] for number, timeline in closed.items() if number not in short
    )


async def test_about_half_the_sales_lines_follow_a_purchase_line_and_its_promise(
    db: Database,
) -> None:
    """The demo ships a sales order only after its purchase lines arrived, so every linked
    line, open or not, shows the date derived from the supplier's last promise."""
    await load_into(db)

    lines = await t.SOLine.select(
        t.SOLine.item,
        t.SOLine.quantity,
        t.SOLine.expected_date,
        t.SOLine.handling_days,
        t.SOLine.po_line,
        t.SOLine.po_line.line_no.as_alias("po_line_no"),
        t.SOLine.po_line.po.number.as_alias("po_number"),
    ).run()
    linked = [line for line in lines if line["po_line"] is not None]
    assert 0.35 <= len(linked) / len(lines) <= 0.65
    moved_by_promise = 0
    for line in linked:
        po_line = (await PurchaseOrders().get(READER, line["po_number"])).line(line["po_line_no"])
        assert po_line.item == line["item"]
        quantity = Decimal(str(line["quantity"]))
        assert line["expected_date"] == expected_date(po_line, quantity, line["handling_days"])
        if po_line.promise and po_line.promise.cover_date(quantity) != po_line.need_date:
            moved_by_promise += 1
    assert moved_by_promise >= 3


async def test_loading_again_adds_nothing(db: Database) -> None:
    world = World(db)
    await load_into(db)
    before = await world.snapshot()

    again = await load_into(db)

    assert not again.loaded
    assert await world.snapshot() == before
    assert len(before["event"]) > 300
    assert "already there" in again.describe()
    assert [user.email for user in again.sign_ins] == [person.email for person in PEOPLE]


async def test_every_timeline_is_sealed_and_told_in_order_over_the_past_weeks(
    db: Database,
) -> None:
    started = datetime.now(UTC)
    await load_into(db)

    assert await timeline.verify() == []
    events = await t.Event.select(t.Event.stream, t.Event.seq, t.Event.at).run()
    times = [event["at"] for event in events]
    assert started - timedelta(weeks=6, days=1) <= min(times)
    assert max(times) <= started
    assert max(times) - min(times) > timedelta(weeks=5)
    by_stream: dict[str, list[tuple[int, datetime]]] = {}
    for event in events:
        by_stream.setdefault(event["stream"], []).append((event["seq"], event["at"]))
    for stream, sequence in by_stream.items():
        in_seq_order = [at for _, at in sorted(sequence)]
        assert in_seq_order == sorted(in_seq_order), stream


def test_portal_demo_prints_the_sign_ins_then_says_it_was_already_loaded(
    db: Database, database_url: str
) -> None:
    """`db` is asked for only so the database starts migrated and empty."""
    first = run_cli("demo", database_url=database_url)

    assert first.returncode == 0, first.stderr
    assert "Demo data loaded" in first.stdout
    for person in PEOPLE:
        assert person.email in first.stdout
    assert DEMO_PASSWORD in first.stdout
    assert "for the demo only" in first.stdout
    assert Settings().base_url in first.stdout

    second = run_cli("demo", database_url=database_url)

    assert second.returncode == 0, second.stderr
    assert "already there" in second.stdout
    assert "Demo data loaded" not in second.stdout
    for person in PEOPLE:
        assert person.email in second.stdout


@pytest.fixture
def unmigrated_url(engine: str, tmp_path: Path) -> Iterator[str]:
    """A database nobody ran `portal migrate` on."""
    if engine == "sqlite":
        yield f"sqlite:///{tmp_path / 'never-migrated.sqlite3'}"
        return
    admin = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"portal_test_unmigrated_{uuid.uuid4().hex[:12]}"

    async def admin_sql(sql: str) -> None:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin_sql(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{admin.rpartition('/')[0]}/{name}"
    finally:
        asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_portal_demo_on_an_unmigrated_database_says_to_migrate_first(unmigrated_url: str) -> None:
    result = run_cli("demo", database_url=unmigrated_url)

    assert result.returncode != 0
    assert "portal migrate" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "Demo data loaded" not in result.stdout
