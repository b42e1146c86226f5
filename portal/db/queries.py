"""Read-side queries for the order pages: rows as msgspec Structs, always confined to the actor.

Each function takes the actor first and narrows its query with the repositories' scope
functions, so the organisation filter is the same one the commands obey. An order the actor may
not see is reported exactly like one that does not exist. Only portable SQL is built here: the
same queries run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar

import msgspec
from piccolo.columns import Column
from piccolo.query import Select
from piccolo.query.functions.aggregate import Count

from portal.db import tables as t
from portal.db.repositories import (
    po_line_from_row,
    scope_purchase_orders,
    scope_sales_orders,
    stored_decimal,
)
from portal.domain.actors import Actor, Side
from portal.domain.errors import NotFound
from portal.domain.orders import POLine, display_status
from portal.domain.schedule import Schedule
from portal.domain.states import POStatus, SOStatus

T = TypeVar("T")


class SortKey(StrEnum):
    NUMBER = "number"
    PARTY = "party"
    """The supplier of a purchase order, the customer of a sales order (by name)."""
    STATUS = "status"
    UPDATED = "updated"


class Sort(msgspec.Struct, frozen=True):
    key: SortKey = SortKey.UPDATED
    descending: bool = True


BY_LATEST_CHANGE = Sort()


class Page(msgspec.Struct, Generic[T], frozen=True):
    items: list[T]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


class DeliveryRow(msgspec.Struct, frozen=True):
    quantity: Decimal
    date: date


class PurchaseOrderRow(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    supplier: str
    supplier_name: str
    status: str
    """The display status: the stored one, refined to partially shipped/received by the lines."""
    need_date: date | None
    """The earliest need date of the open lines."""
    promised_date: date | None
    """The latest promised date of the open lines (None until the supplier promises)."""
    late: bool
    """Some open line is promised later than it is needed."""
    version: int
    updated_at: datetime


class SalesOrderRow(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    customer: str
    customer_name: str
    status: str
    requested_date: date | None
    expected_date: date | None
    """The latest expected date of the lines: when the whole order can be there."""
    late: bool
    """Some line is expected later than the customer asked for it."""
    version: int
    updated_at: datetime


class PurchaseOrderLine(msgspec.Struct, frozen=True, kw_only=True):
    line_no: int
    item: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    need_date: date
    first_promise: list[DeliveryRow]
    promise: list[DeliveryRow]
    promised_date: date | None
    shipped_qty: Decimal
    received_qty: Decimal
    rejected_qty: Decimal
    cancelled: bool
    late: bool


class PurchaseOrderDetail(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    supplier: str
    supplier_name: str
    currency: str
    status: str
    buyer: str
    version: int
    created_at: datetime
    updated_at: datetime
    lines: list[PurchaseOrderLine]

    @property
    def late(self) -> bool:
        return any(line.late for line in self.lines)


class SalesOrderLine(msgspec.Struct, frozen=True, kw_only=True):
    line_no: int
    item: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    requested_date: date
    expected_date: date
    late: bool
    po_number: str | None
    """The purchase order the line follows; only internal staff learn it."""
    po_line_no: int | None


class SalesOrderDetail(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    customer: str
    customer_name: str
    currency: str
    status: str
    contact_email: str
    contact_phone: str
    carrier: str
    tracking_no: str
    version: int
    created_at: datetime
    updated_at: datetime
    lines: list[SalesOrderLine]

    @property
    def late(self) -> bool:
        return any(line.late for line in self.lines)


PO = t.PurchaseOrder
SO = t.SalesOrder

_PO_SORT: dict[SortKey, Column] = {
    SortKey.NUMBER: PO.number,
    SortKey.PARTY: PO.supplier.name,
    SortKey.STATUS: PO.status,
    SortKey.UPDATED: PO.updated_at,
}
_SO_SORT: dict[SortKey, Column] = {
    SortKey.NUMBER: SO.number,
    SortKey.PARTY: SO.customer.name,
    SortKey.STATUS: SO.status,
    SortKey.UPDATED: SO.updated_at,
}


def _rows(schedule: Schedule | None) -> list[DeliveryRow]:
    if schedule is None:
        return []
    return [DeliveryRow(row.quantity, row.date) for row in schedule.rows]


async def _paged(
    query: Select[Any], count: Select[Any], column: Column, sort: Sort, page: int, per_page: int
) -> tuple[int, list[dict[str, Any]]]:
    """The total and one page of rows; the id breaks ties so that pages never overlap."""
    if page < 1 or per_page < 1:
        raise ValueError("pages and page sizes count from 1")
    total = (await count.run())[0]["count"]
    rows = (
        await query.order_by(column, ascending=not sort.descending)
        .order_by(query.table._meta.primary_key, ascending=not sort.descending)
        .limit(per_page)
        .offset((page - 1) * per_page)
        .run()
    )
    return total, rows


async def purchase_orders(
    actor: Actor,
    *,
    status: POStatus | None = None,
    sort: Sort = BY_LATEST_CHANGE,
    page: int = 1,
    per_page: int = 20,
    only: Sequence[int] | None = None,
) -> Page[PurchaseOrderRow]:
    """One page of the purchase orders the actor may see, with their lines summed up (of
    the orders `only` names, when given: a list's further filters)."""
    query = po_summaries(actor)
    count = scope_purchase_orders(actor, PO.select(Count()))
    if query is None or count is None or (only is not None and not only):
        return Page(items=[], number=page, size=per_page, total=0)
    if only is not None:
        query = query.where(PO._meta.primary_key.is_in(list(only)))
        count = count.where(PO._meta.primary_key.is_in(list(only)))
    if status is not None:
        query = query.where(PO.status == status.value)
        count = count.where(PO.status == status.value)
    total, rows = await _paged(query, count, _PO_SORT[sort.key], sort, page, per_page)
    lines = await po_lines_of([row["id"] for row in rows])
    items = [po_summary(row, lines.get(row["id"], [])) for row in rows]
    return Page(items=items, number=page, size=per_page, total=total)


def po_summaries(actor: Actor) -> Select[Any] | None:
    """The columns an order list sums an order up from, confined to the actor (None: it may
    see no purchase orders)."""
    return scope_purchase_orders(
        actor,
        PO.select(
            PO._meta.primary_key,
            PO.number,
            PO.supplier,
            PO.supplier.name.as_alias("supplier_name"),
            PO.status,
            PO.version,
            PO.updated_at,
        ),
    )


def po_summary(row: dict[str, Any], lines: list[POLine]) -> PurchaseOrderRow:
    """A `po_summaries` row summed up from its open lines, as the order lists show it."""
    open_lines = [line for line in lines if not line.cancelled]
    promised = [line.promised_date for line in open_lines if line.promised_date]
    return PurchaseOrderRow(
        number=row["number"],
        supplier=row["supplier"],
        supplier_name=row["supplier_name"] or row["supplier"],
        status=display_status(POStatus(row["status"]), lines),
        need_date=min((line.need_date for line in open_lines), default=None),
        promised_date=max(promised, default=None),
        late=any(line.late for line in open_lines),
        version=row["version"],
        updated_at=row["updated_at"],
    )


async def po_lines_of(po_ids: Sequence[int]) -> dict[int, list[POLine]]:
    if not po_ids:
        return {}
    rows = (
        await t.POLine.select()
        .where(t.POLine.po.is_in(list(po_ids)))
        .order_by(t.POLine.po)
        .order_by(t.POLine.line_no)
        .run()
    )
    lines: dict[int, list[POLine]] = {}
    for row in rows:
        lines.setdefault(row["po"], []).append(po_line_from_row(row))
    return lines


async def purchase_order(actor: Actor, number: str) -> PurchaseOrderDetail:
    """One purchase order with its lines; NotFound if it does not exist or is not the actor's."""
    query = scope_purchase_orders(
        actor,
        PO.select(*PO.all_columns(), PO.supplier.name.as_alias("supplier_name")).where(
            PO.number == number
        ),
    )
    row = await query.first().run() if query is not None else None
    if row is None:
        raise NotFound("Purchase order {number} was not found.", number=number)
    lines = (await po_lines_of([row["id"]])).get(row["id"], [])
    return PurchaseOrderDetail(
        number=row["number"],
        supplier=row["supplier"],
        supplier_name=row["supplier_name"] or row["supplier"],
        currency=row["currency"],
        status=display_status(POStatus(row["status"]), lines),
        buyer=row["buyer"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        lines=[
            PurchaseOrderLine(
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
            for line in lines
        ],
    )


async def sales_orders(
    actor: Actor,
    *,
    status: SOStatus | None = None,
    sort: Sort = BY_LATEST_CHANGE,
    page: int = 1,
    per_page: int = 20,
    only: Sequence[int] | None = None,
) -> Page[SalesOrderRow]:
    """One page of the sales orders the actor may see, with their lines' dates summed up (of
    the orders `only` names, when given)."""
    query = scope_sales_orders(
        actor,
        SO.select(
            SO._meta.primary_key,
            SO.number,
            SO.customer,
            SO.customer.name.as_alias("customer_name"),
            SO.status,
            SO.version,
            SO.updated_at,
        ),
    )
    count = scope_sales_orders(actor, SO.select(Count()))
    if query is None or count is None or (only is not None and not only):
        return Page(items=[], number=page, size=per_page, total=0)
    if only is not None:
        query = query.where(SO._meta.primary_key.is_in(list(only)))
        count = count.where(SO._meta.primary_key.is_in(list(only)))
    if status is not None:
        query = query.where(SO.status == status.value)
        count = count.where(SO.status == status.value)
    total, rows = await _paged(query, count, _SO_SORT[sort.key], sort, page, per_page)
    dates: dict[int, list[tuple[date, date]]] = {}
    if rows:
        for line in (
            await t.SOLine.select(t.SOLine.so, t.SOLine.requested_date, t.SOLine.expected_date)
            .where(t.SOLine.so.is_in([row["id"] for row in rows]))
            .run()
        ):
            dates.setdefault(line["so"], []).append((line["requested_date"], line["expected_date"]))
    items = []
    for row in rows:
        own = dates.get(row["id"], [])
        items.append(
            SalesOrderRow(
                number=row["number"],
                customer=row["customer"],
                customer_name=row["customer_name"] or row["customer"],
                status=row["status"],
                requested_date=min((requested for requested, _ in own), default=None),
                expected_date=max((expected for _, expected in own), default=None),
                late=any(expected > requested for requested, expected in own),
                version=row["version"],
                updated_at=row["updated_at"],
            )
        )
    return Page(items=items, number=page, size=per_page, total=total)


async def sales_order(actor: Actor, number: str) -> SalesOrderDetail:
    """One sales order with its lines; NotFound if it does not exist or is not the actor's."""
    query = scope_sales_orders(
        actor,
        SO.select(*SO.all_columns(), SO.customer.name.as_alias("customer_name")).where(
            SO.number == number
        ),
    )
    row = await query.first().run() if query is not None else None
    if row is None:
        raise NotFound("Sales order {number} was not found.", number=number)
    lines = (
        await t.SOLine.select(
            *t.SOLine.all_columns(),
            t.SOLine.po_line._.line_no.as_alias("po_line_no"),
            t.SOLine.po_line._.po._.number.as_alias("po_number"),
        )
        .where(t.SOLine.so == row["id"])
        .order_by(t.SOLine.line_no)
        .run()
    )
    return SalesOrderDetail(
        number=row["number"],
        customer=row["customer"],
        customer_name=row["customer_name"] or row["customer"],
        currency=row["currency"],
        status=row["status"],
        contact_email=row["contact_email"],
        contact_phone=row["contact_phone"],
        carrier=row["carrier"],
        tracking_no=row["tracking_no"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        lines=[_sales_line(actor, line) for line in lines],
    )


def _sales_line(actor: Actor, row: dict[str, Any]) -> SalesOrderLine:
    # The link names our supplier's order, which a customer must never learn.
    internal = actor.side == Side.INTERNAL
    return SalesOrderLine(
        line_no=row["line_no"],
        item=row["item"],
        description=row["description"],
        quantity=stored_decimal(row["quantity"]),
        unit=row["unit"],
        unit_price=stored_decimal(row["unit_price"]),
        requested_date=row["requested_date"],
        expected_date=row["expected_date"],
        late=row["expected_date"] > row["requested_date"],
        po_number=row["po_number"] if internal else None,
        po_line_no=row["po_line_no"] if internal else None,
    )
