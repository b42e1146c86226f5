"""Actors, orders and documents for the domain unit tests, built only through the domain's own
methods (so an order "in fulfilment" got there the way a real one does)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.changes import (
    ChangeKind,
    ChangeRequest,
    LineChange,
    TolerancePolicy,
    open_change_request,
)
from portal.domain.orders import LineRef, POLine, PurchaseOrder, SalesLine, SalesOrder
from portal.domain.receipts import Receipt, ReceiptLine
from portal.domain.schedule import DeliveryRow, Schedule
from portal.domain.shipments import Shipment, ShipmentLine
from portal.domain.states import POStatus

BUYER = Actor(ActorKind.USER, "u-buyer", "ourco", Side.INTERNAL, "Bea Buyer", Via.WEB, "buyer")
SUPPLIER = Actor(ActorKind.USER, "u-sam", "acme", Side.SUPPLIER, "Sam Supplier", Via.WEB)
SUPPLIER_API = Actor(ActorKind.CLIENT, "erp-1", "acme", Side.SUPPLIER, "ACME ERP", Via.API)
CUSTOMER = Actor(ActorKind.USER, "u-cleo", "globex", Side.CUSTOMER, "Cleo Customer", Via.WEB)
OTHER_SUPPLIER = Actor(ActorKind.USER, "u-ina", "initech", Side.SUPPLIER, "Ina Initech", Via.WEB)
"""A supplier, but not the supplier of the orders built here (those are for "acme")."""
OTHER_CUSTOMER = Actor(ActorKind.USER, "u-hank", "hooli", Side.CUSTOMER, "Hank Hooli", Via.WEB)
"""A customer, but not the customer of the sales orders built here (those are for "globex")."""

DUE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
"""A fixed SLA due time for change requests."""

NO_TOLERANCE = Decimal(0)

D = Decimal


def po_lines() -> list[POLine]:
    return [
        POLine(1, "BOLT-M8", "Hex bolt M8", D(500), "ea", D("0.12"), date(2026, 12, 15)),
        POLine(2, "NUT-M8", "Hex nut M8", D(200), "ea", D("0.05"), date(2026, 12, 20)),
    ]


def new_po(number: str = "PO-1001", *, issue: bool = True) -> PurchaseOrder:
    return PurchaseOrder.create(
        BUYER, number=number, supplier="acme", currency="eur", lines=po_lines(), issue=issue
    )


def shipment(*lines: tuple[int, int | str | Decimal], number: str = "ASN-1") -> Shipment:
    return Shipment(
        number=number,
        ship_date=date(2026, 12, 1),
        carrier="DHL",
        tracking_no="JD0001",
        expected_arrival=date(2026, 12, 4),
        lines=tuple(ShipmentLine(line_no, D(qty)) for line_no, qty in lines),
    )


def receipt(
    *lines: tuple[int, int | str | Decimal] | tuple[int, int | str | Decimal, int | str | Decimal],
    number: str = "GR-1",
) -> Receipt:
    return Receipt(
        number=number,
        received_on=date(2026, 12, 4),
        shipment_number="ASN-1",
        lines=tuple(
            ReceiptLine(spec[0], D(spec[1]), D(spec[2]) if len(spec) == 3 else D(0))
            for spec in lines
        ),
    )


def schedule(*rows: tuple[int | str | Decimal, date]) -> Schedule:
    return Schedule(tuple(DeliveryRow(D(qty), on) for qty, on in rows))


def date_change(line_no: int, *rows: tuple[int | str | Decimal, date]) -> LineChange:
    return LineChange(line_no, ChangeKind.DATE, schedule=schedule(*rows))


def open_cr(
    po: PurchaseOrder,
    actor: Actor,
    *changes: LineChange,
    policy: TolerancePolicy | None = None,
    from_acknowledgement: bool = False,
    reason_code: str = "capacity",
    comment: str = "",
) -> ChangeRequest:
    return open_change_request(
        po,
        actor,
        changes=changes,
        reason_code=reason_code,
        comment=comment,
        due_at=DUE,
        policy=policy or TolerancePolicy(),
        from_acknowledgement=from_acknowledgement,
    )


def po_in(status: POStatus, number: str = "PO-1001") -> PurchaseOrder:
    """A purchase order brought to `status` the way a real one gets there.

    In fulfilment: 100 of line 1 shipped. Changes proposed: line 1 moved by the supplier's
    acknowledgement change request (still open). Shipped/received: both lines in full.
    """
    if status == POStatus.DRAFT:
        return new_po(number, issue=False)
    po = new_po(number)
    if status == POStatus.ISSUED:
        return po
    if status == POStatus.REJECTED:
        po.reject(SUPPLIER, "We no longer make this item.")
        return po
    if status == POStatus.CANCELLED:
        po.cancel(BUYER, "Ordered twice by mistake.")
        return po
    if status == POStatus.CHANGES_PROPOSED:
        po.accept_with_changes(SUPPLIER, {1})
        open_cr(
            po,
            SUPPLIER,
            date_change(1, (500, date(2027, 1, 10))),
            from_acknowledgement=True,
        )
        return po
    po.accept(SUPPLIER)
    if status == POStatus.ACKNOWLEDGED:
        return po
    if status == POStatus.IN_FULFILMENT:
        po.post_shipment(SUPPLIER, shipment((1, 100)), NO_TOLERANCE)
        return po
    po.post_shipment(SUPPLIER, shipment((1, 500), (2, 200)), NO_TOLERANCE)
    if status == POStatus.SHIPPED:
        return po
    po.record_receipt(BUYER, receipt((1, 500), (2, 200)), NO_TOLERANCE)
    if status == POStatus.RECEIVED:
        return po
    po.close(BUYER)
    assert status == POStatus.CLOSED
    return po


def sales_line(
    line_no: int = 1,
    item: str = "BOLT-M8",
    quantity: int | str | Decimal = 250,
    requested: date = date(2026, 12, 20),
) -> SalesLine:
    return SalesLine(
        line_no=line_no,
        item=item,
        description="Hex bolt M8, boxed",
        quantity=D(quantity),
        unit="ea",
        unit_price=D("0.30"),
        requested_date=requested,
        expected_date=requested,
    )


def new_so(*lines: SalesLine, number: str = "SO-2001") -> SalesOrder:
    return SalesOrder.create(
        BUYER,
        number=number,
        customer="globex",
        currency="EUR",
        lines=list(lines) or [sales_line()],
        contact_email="buyer@globex.example",
    )


def ref(po: PurchaseOrder, line_no: int) -> LineRef:
    return LineRef(po.number, line_no)
