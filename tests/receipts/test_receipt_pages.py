"""The warehouse's receipt page, used as a clerk uses it on a phone: scan the shipment number,
check the prefilled quantities, record; the order and its timeline show the receipt. What is
refused (over the tolerance, a cancelled shipment, a stale form, bad numbers) changes nothing.
SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

from internal_world import (
    BUYER,
    SUPPLIER,
    SUPPLIER_USER,
    WAREHOUSE_USER,
    add_people,
    csrf_of,
    portal,
    shipped_order,
)

from portal.db import tables as t
from portal.db import timeline
from portal.db.database import Database
from portal.domain.events import po_stream
from portal.services import fulfilment
from portal.services.unit_of_work import UnitOfWork


async def _received(number: str) -> list[tuple[Decimal, Decimal]]:
    rows = (
        await t.POLine.select(t.POLine.received_qty, t.POLine.rejected_qty)
        .where(t.POLine.po.number == number)
        .order_by(t.POLine.line_no)
        .run()
    )
    return [(Decimal(row["received_qty"]), Decimal(row["rejected_qty"])) for row in rows]


async def test_a_clerk_scans_a_shipment_and_records_its_receipt(
    db: Database, database_url: str
) -> None:
    await add_people()
    await shipped_order(db, "PO-7")
    async with portal(database_url, WAREHOUSE_USER) as phone:
        home = await phone.get("/")
        assert 'href="/receipts"' in home.text
        start = await phone.get("/receipts")
        assert start.status_code == 200
        assert 'name="q"' in start.text and "autofocus" in start.text
        assert "PO or shipment number" in start.text

        missing = await phone.get("/receipts", params={"q": "NOPE-1"})
        assert missing.status_code == 404
        assert "No purchase order or shipment NOPE-1 was found." in missing.text

        scanned = await phone.get("/receipts", params={"q": "ASN-PO-7"}, follow_redirects=False)
        assert scanned.status_code == 303
        assert scanned.headers["location"] == "/receipts/PO-7?shipment=ASN-PO-7"
        form = await phone.get(scanned.headers["location"])
        assert form.status_code == 200
        assert 'inputmode="decimal"' in form.text
        assert 'name="received-1"' in form.text and 'value="60"' in form.text
        # Line 2 was not in the shipment: nothing prefilled.
        assert 'id="received-2" name="received-2"' in form.text

        recorded = await phone.post(
            "/receipts/PO-7",
            data={
                "_csrf_token": csrf_of(form.text),
                "version": form.text.split('name="version" value="')[1].split('"')[0],
                "shipment": "ASN-PO-7",
                "received-1": "60",
                "rejected-1": "2",
                "received-2": "",
                "note": "two cartons dented",
            },
            follow_redirects=False,
        )
        assert recorded.status_code == 303, recorded.text
        assert recorded.headers["location"] == "/purchase-orders/PO-7?received=1"
        page = await phone.get(recorded.headers["location"])
        assert "The receipt was recorded." in page.text

    assert await _received("PO-7") == [(Decimal(58), Decimal(2)), (Decimal(0), Decimal(0))]
    events = await timeline.read(BUYER, po_stream("PO-7"))
    receipt = [event for event in events if event.kind == "receipt.recorded"]
    assert len(receipt) == 1
    assert receipt[0].actor["name"] == "Wu Gang"
    assert receipt[0].via == "web"
    assert receipt[0].data["receipt"]["shipment"] == "ASN-PO-7"


async def test_refused_receipts_change_nothing(db: Database, database_url: str) -> None:
    await add_people()
    version = await shipped_order(db, "PO-8")
    # The supplier takes a shipment back: goods cannot be received against it.
    taken_back = await fulfilment.cancel_shipment(
        UnitOfWork(db),
        SUPPLIER,
        fulfilment.CancelShipment(
            "PO-10", await shipped_order(db, "PO-10"), "ASN-PO-10", "wrong truck"
        ),
    )
    async with portal(database_url, WAREHOUSE_USER) as phone:
        form = await phone.get("/receipts/PO-8?shipment=ASN-PO-8")
        token = csrf_of(form.text)
        base = {"_csrf_token": token, "version": str(version), "shipment": "ASN-PO-8"}

        # 100 ordered, 5% over-receipt tolerance by default: 106 is too many.
        over = await phone.post("/receipts/PO-8", data={**base, "received-1": "106"})
        assert over.status_code == 422
        assert "Line 1: at most 105 more can be accepted" in over.text
        assert "5% over-receipt tolerance" in over.text
        assert 'value="106"' in over.text  # what was typed stays

        bad = await phone.post("/receipts/PO-8", data={**base, "received-1": "ten"})
        assert bad.status_code == 422
        assert "The received quantity on line 1 must be a number of zero or more." in bad.text
        empty = await phone.post("/receipts/PO-8", data={**base, "received-1": ""})
        assert empty.status_code == 422
        assert "Enter the quantity received on at least one line." in empty.text

        stale = await phone.post(
            "/receipts/PO-8", data={**base, "version": str(version - 1), "received-1": "10"}
        )
        assert stale.status_code == 409
        assert "The order changed since you opened this form" in stale.text

        refused = await phone.post(
            "/receipts/PO-10",
            data={
                **base,
                "version": str(taken_back.version),
                "shipment": "ASN-PO-10",
                "received-1": "60",
            },
        )
        assert refused.status_code == 422
        assert "Shipment ASN-PO-10 was cancelled" in refused.text

    for number in ("PO-8", "PO-10"):
        assert await _received(number) == [(Decimal(0), Decimal(0)), (Decimal(0), Decimal(0))]
        events = await timeline.read(BUYER, po_stream(number))
        assert not [event for event in events if event.kind == "receipt.recorded"]


async def test_only_the_warehouse_receives(db: Database, database_url: str) -> None:
    await add_people()
    await shipped_order(db, "PO-9")
    async with portal(database_url, SUPPLIER_USER) as supplier:
        assert (await supplier.get("/receipts")).status_code in (403, 404)
        assert (await supplier.get("/receipts/PO-9")).status_code in (403, 404)
        home = await supplier.get("/")
        assert 'href="/receipts"' not in home.text
