"""The bodies of the public API v1 for customers' systems: a customer's sales orders, as the
customer sees them (no supplier, no purchase order, no price it did not agree to see), and the
customer's part of each order's timeline.

Decimals travel as strings ("12.5"), dates as ISO days, times as RFC 3339 in UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from portal.db.customer_queries import CustomerLine, CustomerOrder, OrderFeed
from portal.domain.events import Event

Qty = Annotated[
    Decimal, Meta(description="A decimal string with up to four decimals.", examples=["100"])
]
SOStatusName = Annotated[
    Literal["open", "shipped", "delivered", "closed", "cancelled"],
    Meta(examples=["open"]),
]


class OrderLine(msgspec.Struct, frozen=True, kw_only=True):
    line_no: Annotated[int, Meta(examples=[1])]
    item: Annotated[str, Meta(examples=["BOLT-M8"])]
    description: Annotated[str, Meta(examples=["Hex bolt M8"])]
    quantity: Qty
    unit: Annotated[str, Meta(examples=["pcs"])]
    requested_date: Annotated[date, Meta(examples=["2027-01-15"])]
    """When you asked for it."""
    expected_date: Annotated[date, Meta(examples=["2027-01-22"])]
    """When it is expected now."""
    first_expected_date: Annotated[date, Meta(examples=["2027-01-15"])]
    """When it was expected as the order was placed."""
    moved_days: Annotated[int, Meta(examples=[7])]
    """How many days the expected date moved since (later: positive)."""
    shipped_quantity: Qty
    late: bool
    """Expected after the requested date."""


class Order(msgspec.Struct, frozen=True, kw_only=True):
    number: Annotated[str, Meta(examples=["SO-2026-00042"])]
    status: SOStatusName
    late: bool
    expected_date: Annotated[date | None, Meta(examples=["2027-01-22"])]
    """When the whole order is expected: its latest line."""
    carrier: Annotated[str, Meta(examples=["SF Express"])]
    """Empty until it ships."""
    tracking_no: Annotated[str, Meta(examples=["SF1234567890"])]
    version: Annotated[int, Meta(examples=[3])]
    """The ETag, without quotes."""
    created_at: datetime
    updated_at: datetime
    lines: list[OrderLine]


class OrderPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Order]
    """Least recently changed first."""
    next_cursor: str | None
    """Pass it as `cursor` for the next page; null on the last page."""
    next: str | None
    """The next page's URL (also in the Link header); null on the last page."""


class TimelineEvent(msgspec.Struct, frozen=True, kw_only=True):
    seq: Annotated[int, Meta(examples=[5])]
    """Its place in the order's timeline; pass the last one seen as `after`."""
    at: datetime
    kind: Annotated[str, Meta(examples=["line.expected_date_changed"])]
    """so.created, line.confirmed, line.expected_date_changed, so.shipped, so.delivered,
    so.closed, so.cancelled or comment.added."""
    data: Annotated[
        dict[str, Any],
        Meta(
            examples=[
                {
                    "line_no": 1,
                    "before": "2027-01-15",
                    "after": "2027-01-22",
                    "cause": "promise_changed",
                }
            ]
        ),
    ]
    """What happened: a moved date's before, after and cause code; a shipment's carrier and
    tracking number; a comment's text."""
    by: Annotated[str, Meta(examples=[""])]
    """Who wrote a comment; empty for what the portal records."""


class Timeline(msgspec.Struct, frozen=True, kw_only=True):
    order_number: str
    events: list[TimelineEvent]
    """Oldest first."""


def line(row: CustomerLine) -> OrderLine:
    return OrderLine(
        line_no=row.line_no,
        item=row.item,
        description=row.description,
        quantity=row.quantity,
        unit=row.unit,
        requested_date=row.requested_date,
        expected_date=row.expected_date,
        first_expected_date=row.first_expected_date,
        moved_days=row.moved_days,
        shipped_quantity=row.shipped_qty,
        late=row.late,
    )


def order(row: CustomerOrder) -> Order:
    return Order(
        number=row.number,
        status=msgspec.convert(row.status, SOStatusName),
        late=row.late,
        expected_date=row.expected_date,
        carrier=row.carrier,
        tracking_no=row.tracking_no,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        lines=[line(item) for item in row.lines],
    )


def page(feed: OrderFeed, next_cursor: str | None, next_url: str | None) -> OrderPage:
    return OrderPage(
        items=[order(row) for row in feed.items], next_cursor=next_cursor, next=next_url
    )


def timeline_event(event: Event) -> TimelineEvent:
    """A customer-visible event as stored; only a comment says who wrote it."""
    by = str(event.actor.get("name") or "") if event.kind == "comment.added" else ""
    return TimelineEvent(seq=event.seq, at=event.at, kind=event.kind, data=event.data, by=by)
