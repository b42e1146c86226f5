"""The shared read side of one purchase order: its change requests and shipments come with it,
confined like the order itself."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from http_story import BUYER, SUPPLIER, tell_the_story, uow

from portal.db import queries
from portal.db.database import Database
from portal.db.po_detail import ShipmentLineView, purchase_order_detail
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.changes import ChangeKind, LineChange
from portal.domain.errors import NotFound
from portal.domain.shipments import Shipment, ShipmentLine
from portal.services.change_requests import OpenChangeRequest, open_change_request
from portal.services.fulfilment import PostShipment, post_shipment

BOLT = Actor(ActorKind.USER, "u-bolt", "BOLT", Side.SUPPLIER, "Zhou Min", Via.WEB)


async def test_detail_carries_change_requests_and_shipments(db: Database) -> None:
    await tell_the_story(db)
    version = (await queries.purchase_order(SUPPLIER, "PO-1")).version
    cr = await open_change_request(
        uow(db),
        SUPPLIER,
        OpenChangeRequest(
            "PO-1",
            version,
            (LineChange(1, ChangeKind.PRICE, unit_price=Decimal("0.40")),),
            "other",
            "Steel went up",
        ),
    )
    version = (await queries.purchase_order(SUPPLIER, "PO-1")).version
    await post_shipment(
        uow(db),
        SUPPLIER,
        PostShipment(
            "PO-1",
            version,
            Shipment(
                "",
                date(2027, 1, 5),
                "SF Express",
                "SF123",
                date(2027, 1, 8),
                (ShipmentLine(1, Decimal(40)),),
            ),
        ),
    )
    detail = await purchase_order_detail(SUPPLIER, "PO-1")
    assert detail.number == "PO-1" and detail.lines[0].shipped_qty == 40
    (seen,) = detail.change_requests
    assert (seen.number, seen.status, seen.opened_by, seen.opened_by_name) == (
        cr.number,
        "open",
        "supplier",
        "Li Lei",
    )
    assert seen.changes == [{"line_no": 1, "kind": "price", "unit_price": "0.4"}]
    assert detail.open_change_requests == [seen]
    (shipment,) = detail.shipments
    assert (shipment.status, shipment.carrier, shipment.tracking_no, shipment.received) == (
        "posted",
        "SF Express",
        "SF123",
        False,
    )
    assert shipment.lines == [ShipmentLineView(1, Decimal(40))]
    assert (await purchase_order_detail(BUYER, "PO-1")).shipments == detail.shipments
    with pytest.raises(NotFound):
        await purchase_order_detail(BOLT, "PO-1")
