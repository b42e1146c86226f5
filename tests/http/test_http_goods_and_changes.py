"""The timeline reads well past the first promise: a change request, a shipment, a receipt."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from http_story import BUYER, SUPPLIER, portal, row_of, tell_the_story, uow

from portal.db import queries
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.changes import ChangeKind, LineChange
from portal.domain.receipts import Receipt, ReceiptLine
from portal.domain.shipments import Shipment, ShipmentLine
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge
from portal.services.change_requests import (
    DecideChangeRequest,
    OpenChangeRequest,
    Verdict,
    decide_change_request,
    open_change_request,
)
from portal.services.fulfilment import (
    PostShipment,
    RecordReceipt,
    post_shipment,
    record_receipt,
)
from portal.services.purchase_orders import (
    CancelPurchaseOrder,
    ClosePurchaseOrder,
    cancel_purchase_order,
    close_purchase_order,
)

EN = {"Accept-Language": "en"}
OTHER_SUPPLIER = Actor(ActorKind.USER, "u-bolt", "BOLT", Side.SUPPLIER, "Zhou Min", Via.API)


async def version_of(number: str) -> int:
    return (await queries.purchase_order(BUYER, number)).version


async def test_change_request_shipment_and_receipt_on_the_timeline(
    db: Database, database_url: str
) -> None:
    await tell_the_story(db)
    cr = await open_change_request(
        uow(db),
        SUPPLIER,
        OpenChangeRequest(
            "PO-1",
            await version_of("PO-1"),
            (LineChange(1, ChangeKind.QUANTITY, quantity=Decimal(80)),),
            "material_shortage",
        ),
    )
    await decide_change_request(
        uow(db), BUYER, DecideChangeRequest(cr.number, cr.version, Verdict.APPROVE, "OK for us")
    )
    shipment = Shipment(
        "ASN-1", date(2027, 1, 18), "SF Express", "SF123", None, (ShipmentLine(1, Decimal(50)),)
    )
    await post_shipment(uow(db), SUPPLIER, PostShipment("PO-1", await version_of("PO-1"), shipment))
    after_shipment = await queries.purchase_order(BUYER, "PO-1")
    receipt = Receipt(
        "GR-1", date(2027, 1, 21), "ASN-1", (ReceiptLine(1, Decimal(50), Decimal(2), "two bent"),)
    )
    await record_receipt(uow(db), BUYER, RecordReceipt("PO-1", after_shipment.version, receipt))

    async with portal(database_url) as client:
        page = (await client.get("/purchase-orders/PO-1", headers=EN)).text
        listed = (await client.get("/purchase-orders", headers=EN)).text

    assert after_shipment.status == "partially_shipped"
    assert "Partially received" in row_of(listed, ">PO-1<")
    line = row_of(page, "BOLT-M8")
    assert "80 pcs" in line
    assert "48" in line  # accepted
    assert "(2 rejected)" in line

    assert "Change request opened" in page
    assert "<dt>Line 1: Quantity</dt>" in page
    assert "<del>100</del> → <ins>80</ins>" in page  # what the approval changed
    assert "Material shortage" in page
    assert "<dd>OK for us</dd>" in page
    assert "Shipment posted" in page
    assert "<dd>SF Express</dd>" in page
    assert "<dd>SF123</dd>" in page
    assert "<dt>Line 1: Shipped</dt>" in page
    assert "Receipt recorded" in page
    assert "50 received, 2 rejected (two bent)" in page


async def test_a_short_close_and_a_cancellation_read_well(db: Database, database_url: str) -> None:
    """PO-1 closes after 60 of its 100 arrived; PO-2 is cancelled while the supplier's
    acknowledgement with changes still waits for a decision."""
    await tell_the_story(db)
    shipment = Shipment(
        "ASN-1", date(2027, 1, 18), "SF Express", "", None, (ShipmentLine(1, Decimal(60)),)
    )
    await post_shipment(uow(db), SUPPLIER, PostShipment("PO-1", await version_of("PO-1"), shipment))
    receipt = Receipt("GR-1", date(2027, 1, 21), "ASN-1", (ReceiptLine(1, Decimal(60)),))
    await record_receipt(uow(db), BUYER, RecordReceipt("PO-1", await version_of("PO-1"), receipt))
    await close_purchase_order(uow(db), BUYER, ClosePurchaseOrder("PO-1", await version_of("PO-1")))
    answered = await acknowledge(
        uow(db),
        OTHER_SUPPLIER,
        Acknowledge(
            "PO-2",
            await version_of("PO-2"),
            Decision.ACCEPT_WITH_CHANGES,
            changes=(LineChange(1, ChangeKind.QUANTITY, quantity=Decimal(90)),),
            reason_code="capacity",
        ),
    )
    assert answered.change_request is not None
    await cancel_purchase_order(
        uow(db),
        BUYER,
        CancelPurchaseOrder("PO-2", answered.po.version, "Project stopped"),
    )

    async with portal(database_url) as client:
        closed = (await client.get("/purchase-orders/PO-1", headers=EN)).text
        cancelled = (await client.get("/purchase-orders/PO-2", headers=EN)).text
        closed_zh = (await client.get("/purchase-orders/PO-1?lang=zh_CN")).text

    assert "Purchase order closed" in closed
    assert "<dt>Line 1: Closed short</dt>" in closed
    assert "60 of 100 received" in closed
    assert "短交关闭" in closed_zh
    assert "Purchase order cancelled" in cancelled
    assert "<dt>Change requests closed</dt>" in cancelled
    assert f"<dd>{answered.change_request.number}</dd>" in cancelled
    assert "<dd>Project stopped</dd>" in cancelled
