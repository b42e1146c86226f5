"""The customer workspace's read side: a customer's sales orders as the customer sees them.

A customer sees its own orders only (the repositories' scope functions), and of each line only
what concerns it: the item, how many, when it asked for it, when it is now expected, when it
was first told to expect it, and what has been shipped. Which purchase order a line follows,
and who supplies it, is never read here.

"When it was first told" is the expected date of the line as the order was created: the
`so.created` event holds it. It is read for a whole page of orders in one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import msgspec
from piccolo.query import Select
from piccolo.query.functions.aggregate import Count
from piccolo.querystring import QueryString

from portal.db import tables as t
from portal.db.codec import load
from portal.db.queries import Page
from portal.db.repositories import scope_sales_orders, stored_decimal
from portal.domain.actors import Actor
from portal.domain.errors import NotFound
from portal.domain.events import EventKind, so_stream
from portal.domain.states import SOStatus

SO = t.SalesOrder
SHIPPED_STATUSES = frozenset({SOStatus.SHIPPED, SOStatus.DELIVERED, SOStatus.CLOSED})
"""A sales order ships whole: in these statuses every line has left."""
SEARCH_MAX = 64


class CustomerLine(msgspec.Struct, frozen=True, kw_only=True):
    line_no: int
    item: str
    description: str
    quantity: Decimal
    unit: str
    requested_date: date
    expected_date: date
    first_expected_date: date
    """What the customer was told when the order was placed."""
    shipped_qty: Decimal
    late: bool
    """Expected after the date the customer asked for."""

    @property
    def moved_days(self) -> int:
        """How far the expected date moved since the order was placed (later: positive)."""
        return (self.expected_date - self.first_expected_date).days


class CustomerOrder(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    customer: str
    status: str
    carrier: str
    tracking_no: str
    version: int
    created_at: datetime
    updated_at: datetime
    lines: list[CustomerLine]
    row_id: int = 0

    @property
    def late(self) -> bool:
        return any(line.late for line in self.lines)

    @property
    def moved(self) -> bool:
        return any(line.moved_days for line in self.lines)

    @property
    def expected_date(self) -> date | None:
        """When the whole order can be there: its latest line."""
        return max((line.expected_date for line in self.lines), default=None)

    @property
    def requested_date(self) -> date | None:
        return min((line.requested_date for line in self.lines), default=None)

    @property
    def shipped(self) -> bool:
        return self.status in SHIPPED_STATUSES


class OrderFilter(msgspec.Struct, frozen=True, kw_only=True):
    status: SOStatus | None = None
    late_only: bool = False
    search: str = ""
    """A part of the order number or of an item code (case-insensitive)."""


class FeedPosition(msgspec.Struct, frozen=True):
    updated_at: datetime
    row_id: int


class OrderFeed(msgspec.Struct, frozen=True):
    items: list[CustomerOrder]
    next: FeedPosition | None


def _summary_columns() -> list[Any]:
    """What a customer reads of an order's row: never its contact (that is the guest lookup's
    key) nor anything of the purchase orders its lines follow."""
    return [
        SO._meta.primary_key,
        SO.number,
        SO.customer,
        SO.status,
        SO.carrier,
        SO.tracking_no,
        SO.version,
        SO.created_at,
        SO.updated_at,
    ]


def _columns(actor: Actor) -> Select[Any] | None:
    return scope_sales_orders(actor, SO.select(*_summary_columns()))


def _filtered(query: Select[Any], wanted: OrderFilter) -> Select[Any]:
    if wanted.status is not None:
        query = query.where(SO.status == wanted.status.value)
    if wanted.late_only:
        # A constant subquery (no input in it): the orders with a line expected too late.
        query = query.where(
            SO._meta.primary_key.is_in(
                QueryString("SELECT so FROM so_line WHERE expected_date > requested_date")
            )
        )
    search = wanted.search.strip()[:SEARCH_MAX]
    if search:
        pattern = "%" + search.replace("\\", "").replace("%", "").replace("_", "") + "%"
        query = query.where(
            SO.number.ilike(pattern)
            | SO._meta.primary_key.is_in(
                t.SOLine.select(t.SOLine.so).where(t.SOLine.item.ilike(pattern))
            )
        )
    return query


async def orders(
    actor: Actor, wanted: OrderFilter, *, page: int = 1, per_page: int = 20
) -> Page[CustomerOrder]:
    """One page of the actor's sales orders, most recently changed first."""
    if page < 1 or per_page < 1:
        raise ValueError("pages and page sizes count from 1")
    query = _columns(actor)
    count = scope_sales_orders(actor, SO.select(Count()))
    if query is None or count is None:
        return Page(items=[], number=page, size=per_page, total=0)
    total = (await _filtered(count, wanted).run())[0]["count"]
    rows = (
        await _filtered(query, wanted)
        .order_by(SO.updated_at, ascending=False)
        .order_by(SO._meta.primary_key, ascending=False)
        .limit(per_page)
        .offset((page - 1) * per_page)
        .run()
    )
    return Page(items=await _with_lines(rows), number=page, size=per_page, total=total)


async def order(actor: Actor, number: str) -> CustomerOrder:
    """One of the actor's sales orders; NotFound if it does not exist or is not its own."""
    query = _columns(actor)
    row = await query.where(SO.number == number).first().run() if query is not None else None
    if row is None:
        raise NotFound("Sales order {number} was not found.", number=number)
    return (await _with_lines([row]))[0]


async def any_order(number: str) -> CustomerOrder | None:
    """A sales order by its number alone, for a holder of a signed tracking link (which
    proves the number was looked up with the order's contact, or sent to the customer)."""
    row = await SO.select(*_summary_columns()).where(SO.number == number).first().run()
    return (await _with_lines([row]))[0] if row else None


async def contact_of(number: str) -> tuple[str, str] | None:
    """The e-mail and phone stored on a sales order (the guest lookup compares them); one
    query by number, whatever is asked."""
    row = (
        await SO.select(SO.contact_email, SO.contact_phone).where(SO.number == number).first().run()
    )
    return (row["contact_email"], row["contact_phone"]) if row else None


async def order_feed(
    actor: Actor,
    *,
    statuses: Sequence[SOStatus] = (),
    updated_since: datetime | None = None,
    after: FeedPosition | None = None,
    limit: int = 50,
) -> OrderFeed:
    """The actor's sales orders, least recently changed first, paged by position (as the
    purchase order feed: a walk while orders change neither skips nor repeats one)."""
    if limit < 1:
        raise ValueError("a page holds at least one order")
    query = _columns(actor)
    if query is None:
        return OrderFeed(items=[], next=None)
    if statuses:
        query = query.where(SO.status.is_in([status.value for status in statuses]))
    if updated_since is not None:
        query = query.where(SO.updated_at >= updated_since)
    if after is not None:
        query = query.where(
            (SO.updated_at > after.updated_at)
            | ((SO.updated_at == after.updated_at) & (SO._meta.primary_key > after.row_id))
        )
    rows = await query.order_by(SO.updated_at).order_by(SO._meta.primary_key).limit(limit + 1).run()
    more, rows = len(rows) > limit, rows[:limit]
    last = rows[-1] if rows else None
    return OrderFeed(
        items=await _with_lines(rows),
        next=FeedPosition(last["updated_at"], last["id"]) if more and last else None,
    )


async def first_expected(numbers: Sequence[str]) -> dict[tuple[str, int], date]:
    """(order number, line no) -> the expected date the customer was told at creation, for
    all `numbers` in one query."""
    if not numbers:
        return {}
    rows = (
        await t.Event.select(t.Event.stream, t.Event.data)
        .where(
            t.Event.stream.is_in([so_stream(number) for number in numbers])
            & (t.Event.kind == EventKind.SO_CREATED.value)
        )
        .run()
    )
    told: dict[tuple[str, int], date] = {}
    for row in rows:
        number = row["stream"].removeprefix("so/")
        for line in load(row["data"]).get("lines", []):
            told[(number, int(line["line_no"]))] = date.fromisoformat(line["expected_date"])
    return told


async def _with_lines(rows: list[dict[str, Any]]) -> list[CustomerOrder]:
    if not rows:
        return []
    lines = (
        await t.SOLine.select(
            t.SOLine.so,
            t.SOLine.line_no,
            t.SOLine.item,
            t.SOLine.description,
            t.SOLine.quantity,
            t.SOLine.unit,
            t.SOLine.requested_date,
            t.SOLine.expected_date,
        )
        .where(t.SOLine.so.is_in([row["id"] for row in rows]))
        .order_by(t.SOLine.so)
        .order_by(t.SOLine.line_no)
        .run()
    )
    told = await first_expected([row["number"] for row in rows])
    by_order: dict[int, list[dict[str, Any]]] = {}
    for line in lines:
        by_order.setdefault(line["so"], []).append(line)
    return [_order(row, by_order.get(row["id"], []), told) for row in rows]


def _order(
    row: dict[str, Any], lines: list[dict[str, Any]], told: dict[tuple[str, int], date]
) -> CustomerOrder:
    shipped = SOStatus(row["status"]) in SHIPPED_STATUSES
    return CustomerOrder(
        number=row["number"],
        customer=row["customer"],
        status=row["status"],
        carrier=row["carrier"],
        tracking_no=row["tracking_no"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        row_id=row["id"],
        lines=[
            CustomerLine(
                line_no=line["line_no"],
                item=line["item"],
                description=line["description"],
                quantity=stored_decimal(line["quantity"]),
                unit=line["unit"],
                requested_date=line["requested_date"],
                expected_date=line["expected_date"],
                first_expected_date=told.get(
                    (row["number"], line["line_no"]), line["expected_date"]
                ),
                shipped_qty=stored_decimal(line["quantity"]) if shipped else Decimal(0),
                late=line["expected_date"] > line["requested_date"],
            )
            for line in lines
        ],
    )
