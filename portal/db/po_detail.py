"""One purchase order as its pages and the API show it: the order and its lines, every change
request on it and every shipment posted against it.

The order is read through `queries.purchase_order`, which confines it to the actor (NotFound for
an order the actor may not see); the change requests and shipments are then read for that order
only, so they inherit the same confinement.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import msgspec

from portal.db import tables as t
from portal.db.codec import load
from portal.db.queries import PurchaseOrderDetail, purchase_order
from portal.db.repositories import stored_decimal
from portal.domain.actors import Actor, Side
from portal.domain.errors import NotFound
from portal.domain.states import CRStatus, POStatus


class CRView(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    status: str
    opened_by: str
    """The side that opened it: internal (the buyer) or supplier."""
    opened_by_name: str
    reason_code: str
    comment: str
    changes: list[dict[str, Any]]
    """As stored: {line_no, kind, quantity | schedule | unit_price | item}."""
    round: int
    supersedes: str | None
    superseded_by: str | None
    due_at: datetime
    created_at: datetime
    decided_at: datetime | None
    decided_by_name: str
    decision_comment: str
    version: int
    from_acknowledgement: bool
    auto_approved: bool

    @property
    def is_open(self) -> bool:
        return self.status == CRStatus.OPEN.value


class ShipmentLineView(msgspec.Struct, frozen=True):
    line_no: int
    quantity: Decimal


class ShipmentView(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    status: str
    """posted | cancelled"""
    ship_date: date
    carrier: str
    tracking_no: str
    expected_arrival: date | None
    lines: list[ShipmentLineView]
    received: bool
    """Goods of it were received: it can no longer be corrected or cancelled."""
    created_at: datetime


class PODetail(PurchaseOrderDetail, frozen=True, kw_only=True):
    stored_status: str
    """The status as the state machine knows it (`status` is the display status, which the
    lines may refine to partially shipped or received)."""
    change_requests: list[CRView]
    """Every request on the order, oldest first."""
    shipments: list[ShipmentView]
    """Every shipment posted against the order, cancelled ones included, oldest first."""

    @property
    def open_change_requests(self) -> list[CRView]:
        return [cr for cr in self.change_requests if cr.is_open]


async def purchase_order_detail(actor: Actor, number: str) -> PODetail:
    """The order with its change requests and shipments; NotFound if the actor may not see it."""
    order = await purchase_order(actor, number)
    row = (
        await t.PurchaseOrder.select(t.PurchaseOrder.id, t.PurchaseOrder.status)
        .where(t.PurchaseOrder.number == order.number)
        .first()
        .run()
    )
    # A draft is still ours alone: to its supplier it does not exist until it is issued.
    # (Orders are never deleted, so the row read a moment ago is there.)
    if row is None or (actor.side == Side.SUPPLIER and row["status"] == POStatus.DRAFT.value):
        raise NotFound("Purchase order {number} was not found.", number=number)
    return PODetail(
        **msgspec.structs.asdict(order),
        stored_status=row["status"],
        change_requests=await _change_requests(row["id"]),
        shipments=await _shipments(row["id"]),
    )


async def _change_requests(po_id: int) -> list[CRView]:
    CR = t.ChangeRequest
    rows = await CR.select().where(CR.po == po_id).order_by(CR.id).run()
    return [
        CRView(
            number=row["number"],
            status=row["status"],
            opened_by=row["opened_by"],
            opened_by_name=row["opened_by_name"],
            reason_code=row["reason_code"],
            comment=row["comment"],
            changes=load(row["changes"]),
            round=row["round"],
            supersedes=row["supersedes"],
            superseded_by=row["superseded_by"],
            due_at=row["due_at"],
            created_at=row["created_at"],
            decided_at=row["decided_at"],
            decided_by_name=row["decided_by_name"],
            decision_comment=row["decision_comment"],
            version=row["version"],
            from_acknowledgement=row["from_acknowledgement"],
            auto_approved=row["auto_approved"],
        )
        for row in rows
    ]


async def _shipments(po_id: int) -> list[ShipmentView]:
    S = t.Shipment
    rows = await S.select().where(S.po == po_id).order_by(S.id).run()
    if not rows:
        return []
    received = {
        row["shipment"]
        for row in await t.Receipt.select(t.Receipt.shipment)
        .where(t.Receipt.shipment.is_in([row["number"] for row in rows]))
        .run()
    }
    return [
        ShipmentView(
            number=row["number"],
            status=row["status"],
            ship_date=row["ship_date"],
            carrier=row["carrier"],
            tracking_no=row["tracking_no"],
            expected_arrival=row["expected_arrival"],
            lines=[
                ShipmentLineView(int(line["line_no"]), stored_decimal(line["quantity"]))
                for line in load(row["lines"])
            ],
            received=row["number"] in received,
            created_at=row["created_at"],
        )
        for row in rows
    ]
