"""The bodies of the public API v1 for suppliers' systems: what a supplier may see of a purchase
order, and what it may send. Internal staff read the same shapes.

Decimals travel as strings ("12.5"), dates as ISO days, times as RFC 3339 in UTC. Request
bodies refuse unknown fields, so a misspelt field is an error rather than silently ignored.
Every write to an existing record may carry the `version` it is based on instead of If-Match.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from portal.db.feed import FeedPage
from portal.db.po_detail import CRView, PODetail, ShipmentView
from portal.db.queries import DeliveryRow as StoredRow
from portal.db.queries import PurchaseOrderLine, PurchaseOrderRow
from portal.domain.events import Event
from portal.domain.orders import REASON_CODES

Qty = Annotated[
    Decimal, Meta(description="A decimal string with up to four decimals.", examples=["100"])
]
Money = Annotated[
    Decimal, Meta(description="A decimal string with up to four decimals.", examples=["0.35"])
]
LineNo = Annotated[int, Meta(ge=1, description="The purchase order's line number.")]
Version = Annotated[
    int,
    Meta(
        ge=1,
        description="The version you read (the ETag without quotes); instead of If-Match.",
    ),
]
ReasonCode = Annotated[
    str,
    Meta(
        description="Why: one of the codes GET /api/v1/reason-codes lists (built in: "
        + ", ".join(REASON_CODES)
        + "; admins add and retire codes).",
        examples=["capacity"],
    ),
]
Comment = Annotated[str, Meta(max_length=4000)]
Number = Annotated[str, Meta(min_length=1, max_length=60)]
ChangeKind = Literal["quantity", "date", "price", "item", "cancel"]
CRStatus = Literal["open", "approved", "rejected", "countered", "withdrawn", "cancelled"]
Side = Literal["supplier", "internal"]


class DeliveryRow(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One row of a delivery schedule: this quantity on this day."""

    quantity: Qty
    date: date


# --- What is read ------------------------------------------------------------------------------


class Line(msgspec.Struct, frozen=True, kw_only=True):
    line_no: int
    item: str
    description: str
    quantity: Qty
    unit: str
    unit_price: Money
    need_date: date
    first_promise: list[DeliveryRow]
    """The supplier's first commitment, kept for ever."""
    promise: list[DeliveryRow]
    """The current promise; empty until the order is acknowledged."""
    promised_date: date | None
    shipped_qty: Qty
    received_qty: Qty
    rejected_qty: Qty
    cancelled: bool
    late: bool
    """Promised for after it is needed."""


class Change(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One proposed change to one line; the field its kind needs is set."""

    line_no: int
    kind: ChangeKind
    quantity: Qty | None = None
    schedule: list[DeliveryRow] | None = None
    unit_price: Money | None = None
    item: str | None = None


class ChangeRequest(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    po_number: str
    status: CRStatus
    opened_by: Side
    """The side that opened it; the other side decides."""
    opened_by_name: str
    reason_code: str
    comment: str
    changes: list[Change]
    round: int
    supersedes: str | None
    superseded_by: str | None
    due_at: datetime
    """When the other side's decision is due (the SLA)."""
    created_at: datetime
    decided_at: datetime | None
    decided_by_name: str
    decision_comment: str
    from_acknowledgement: bool
    auto_approved: bool
    """Within the tolerance rule: applied at once, without review."""
    version: int


class ShipmentLine(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    line_no: LineNo
    quantity: Qty


class Shipment(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    po_number: str
    status: Literal["posted", "cancelled"]
    ship_date: date
    carrier: str
    tracking_no: str
    expected_arrival: date | None
    lines: list[ShipmentLine]
    received: bool
    """Goods of it were received: it can no longer be corrected or cancelled."""
    created_at: datetime


class PurchaseOrder(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    supplier: str
    supplier_name: str
    currency: str
    status: str
    """issued, acknowledged, rejected, changes_proposed, in_fulfilment, partially_shipped,
    shipped, partially_received, received, closed or cancelled (and draft, which only our own
    staff see)."""
    buyer: str
    late: bool
    version: int
    """Send it back (If-Match or `version`) with any write to this order."""
    created_at: datetime
    updated_at: datetime
    lines: list[Line]
    change_requests: list[ChangeRequest]
    shipments: list[Shipment]


class PurchaseOrderSummary(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    supplier: str
    supplier_name: str
    status: str
    need_date: date | None
    """The earliest need date of the open lines."""
    promised_date: date | None
    """The latest promised date of the open lines."""
    late: bool
    version: int
    updated_at: datetime


class PurchaseOrderPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[PurchaseOrderSummary]
    """Least recently changed first."""
    next_cursor: str | None
    """Pass it as `cursor` for the next page; null on the last page."""
    next: str | None
    """The next page's URL (also in the Link header); null on the last page."""


class EventActor(msgspec.Struct, frozen=True, kw_only=True):
    kind: Literal["user", "client", "system"]
    name: str
    side: str
    org: str | None


class TimelineEvent(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    """Its place in the order's timeline; pass the last one seen as `after`."""
    at: datetime
    kind: str
    """e.g. po.acknowledged, line.promise_changed, cr.opened, shipment.posted."""
    actor: EventActor
    via: Literal["web", "api", "import", "system"]
    data: dict[str, Any]
    """What changed: before and after values, reason code, comment."""


class Timeline(msgspec.Struct, frozen=True, kw_only=True):
    po_number: str
    events: list[TimelineEvent]
    """Oldest first."""


# --- What is sent ------------------------------------------------------------------------------


class LineAnswer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    line_no: LineNo
    answer: Literal["accept", "reject", "change"]
    """accept as ordered, reject the line, or change it: deliver on `schedule` and/or
    `quantity` instead; a change becomes a change request unless within the tolerance."""
    schedule: list[DeliveryRow] | None = None
    quantity: Qty | None = None


class Acknowledgement(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    decision: Literal["accept", "reject", "per_line"]
    """accept every line as ordered; reject the order (`reason`); or answer `lines` one by
    one (lines not named are accepted as ordered)."""
    version: Version | None = None
    reason: Comment = ""
    lines: list[LineAnswer] = []
    reason_code: ReasonCode = "other"
    comment: Comment = ""


class Promise(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A new promise for one line: a `schedule`, or one `date` (for `quantity`, by default what
    is left to ship)."""

    version: Version | None = None
    schedule: list[DeliveryRow] | None = None
    date: date | None = None
    quantity: Qty | None = None
    reason_code: ReasonCode
    comment: Comment = ""


class PromiseUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    po_number: Number
    line_no: LineNo
    schedule: list[DeliveryRow] | None = None
    date: date | None = None
    quantity: Qty | None = None
    reason_code: ReasonCode
    comment: Comment = ""


class LineRef(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    po_number: Number
    line_no: LineNo


class PromiseUpdates(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Several promises at once, all or nothing: either `updates`, or every open promised line
    of `po_numbers` (or only `lines`) moved by `shift_days`. `versions` names the version read
    of every purchase order involved."""

    versions: dict[str, int]
    updates: list[PromiseUpdate] | None = None
    po_numbers: list[str] | None = None
    shift_days: Annotated[int, Meta(ge=-365, le=365)] | None = None
    lines: list[LineRef] | None = None
    reason_code: ReasonCode | None = None
    comment: Comment = ""


class ChangeProposal(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    line_no: LineNo
    kind: ChangeKind
    quantity: Qty | None = None
    schedule: list[DeliveryRow] | None = None
    unit_price: Money | None = None
    item: Annotated[str, Meta(max_length=64)] | None = None


class NewChangeRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    version: Version | None = None
    changes: list[ChangeProposal]
    reason_code: ReasonCode
    comment: Comment = ""


class Decision(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """approve, reject or counter (with `changes`) a request the other side opened; withdraw
    one's own. `version` is the change request's."""

    verdict: Literal["approve", "reject", "counter", "withdraw"]
    version: Version | None = None
    comment: Comment = ""
    changes: list[ChangeProposal] = []
    reason_code: ReasonCode = "other"


class NewShipment(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    version: Version | None = None
    number: Number | None = None
    """Your own ASN number; one is given when left out."""
    ship_date: date
    carrier: Annotated[str, Meta(min_length=1, max_length=100)]
    tracking_no: Annotated[str, Meta(max_length=100)] = ""
    expected_arrival: date | None = None
    lines: list[ShipmentLine]


class ShipmentCorrection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The shipment as it should have been posted, and why."""

    version: Version | None = None
    reason: Annotated[str, Meta(min_length=1, max_length=4000)]
    ship_date: date
    carrier: Annotated[str, Meta(min_length=1, max_length=100)]
    tracking_no: Annotated[str, Meta(max_length=100)] = ""
    expected_arrival: date | None = None
    lines: list[ShipmentLine]


class ShipmentCancellation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    version: Version | None = None
    reason: Annotated[str, Meta(min_length=1, max_length=4000)]


# --- What a write answers ----------------------------------------------------------------------


class Acknowledged(msgspec.Struct, frozen=True, kw_only=True):
    purchase_order: PurchaseOrder
    change_request: ChangeRequest | None
    """The changes the acknowledgement proposes, if any."""


class PromiseChanged(msgspec.Struct, frozen=True, kw_only=True):
    outcome: Literal["applied", "change_request_opened"]
    """applied at once (within the tolerance rule), or proposed to the buyer as a change
    request."""
    purchase_order: PurchaseOrder
    change_request: ChangeRequest | None


class PromisesChanged(msgspec.Struct, frozen=True, kw_only=True):
    applied: list[LineRef]
    """Lines whose new promise applied at once."""
    change_requests: list[ChangeRequest]
    """One per purchase order whose new promises need the buyer's approval."""
    purchase_orders: list[PurchaseOrder]


class ChangeRequestOpened(msgspec.Struct, frozen=True, kw_only=True):
    change_request: ChangeRequest
    purchase_order: PurchaseOrder


class Decided(msgspec.Struct, frozen=True, kw_only=True):
    change_request: ChangeRequest
    counter: ChangeRequest | None
    """The counter proposal, which supersedes the request."""
    purchase_order: PurchaseOrder


class ShipmentPosted(msgspec.Struct, frozen=True, kw_only=True):
    shipment: Shipment
    purchase_order: PurchaseOrder


# --- From the read models ----------------------------------------------------------------------


def _rows(rows: list[StoredRow]) -> list[DeliveryRow]:
    return [DeliveryRow(row.quantity, row.date) for row in rows]


def _line(line: PurchaseOrderLine) -> Line:
    return Line(
        line_no=line.line_no,
        item=line.item,
        description=line.description,
        quantity=line.quantity,
        unit=line.unit,
        unit_price=line.unit_price,
        need_date=line.need_date,
        first_promise=_rows(line.first_promise),
        promise=_rows(line.promise),
        promised_date=line.promised_date,
        shipped_qty=line.shipped_qty,
        received_qty=line.received_qty,
        rejected_qty=line.rejected_qty,
        cancelled=line.cancelled,
        late=line.late,
    )


def change_request(po_number: str, cr: CRView) -> ChangeRequest:
    return ChangeRequest(
        number=cr.number,
        po_number=po_number,
        status=msgspec.convert(cr.status, CRStatus),
        opened_by=msgspec.convert(cr.opened_by, Side),
        opened_by_name=cr.opened_by_name,
        reason_code=cr.reason_code,
        comment=cr.comment,
        changes=msgspec.convert(cr.changes, list[Change]),
        round=cr.round,
        supersedes=cr.supersedes,
        superseded_by=cr.superseded_by,
        due_at=cr.due_at,
        created_at=cr.created_at,
        decided_at=cr.decided_at,
        decided_by_name=cr.decided_by_name,
        decision_comment=cr.decision_comment,
        from_acknowledgement=cr.from_acknowledgement,
        auto_approved=cr.auto_approved,
        version=cr.version,
    )


def shipment(po_number: str, view: ShipmentView) -> Shipment:
    return Shipment(
        number=view.number,
        po_number=po_number,
        status="cancelled" if view.status == "cancelled" else "posted",
        ship_date=view.ship_date,
        carrier=view.carrier,
        tracking_no=view.tracking_no,
        expected_arrival=view.expected_arrival,
        lines=[ShipmentLine(line.line_no, line.quantity) for line in view.lines],
        received=view.received,
        created_at=view.created_at,
    )


def purchase_order(detail: PODetail) -> PurchaseOrder:
    return PurchaseOrder(
        number=detail.number,
        supplier=detail.supplier,
        supplier_name=detail.supplier_name,
        currency=detail.currency,
        status=detail.status,
        buyer=detail.buyer,
        late=detail.late,
        version=detail.version,
        created_at=detail.created_at,
        updated_at=detail.updated_at,
        lines=[_line(line) for line in detail.lines],
        change_requests=[change_request(detail.number, cr) for cr in detail.change_requests],
        shipments=[shipment(detail.number, view) for view in detail.shipments],
    )


def summary(row: PurchaseOrderRow) -> PurchaseOrderSummary:
    return PurchaseOrderSummary(
        number=row.number,
        supplier=row.supplier,
        supplier_name=row.supplier_name,
        status=row.status,
        need_date=row.need_date,
        promised_date=row.promised_date,
        late=row.late,
        version=row.version,
        updated_at=row.updated_at,
    )


def page(feed: FeedPage, next_cursor: str | None, next_url: str | None) -> PurchaseOrderPage:
    return PurchaseOrderPage(
        items=[summary(row) for row in feed.items], next_cursor=next_cursor, next=next_url
    )


def timeline_event(event: Event) -> TimelineEvent:
    """The event as stored, its actor without ids (who acted is told by name and side)."""
    return msgspec.convert(
        {
            "seq": event.seq,
            "at": event.at,
            "kind": event.kind,
            "actor": event.actor,
            "via": event.via.value,
            "data": event.data,
        },
        TimelineEvent,
    )
