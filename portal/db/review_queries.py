"""The buyers' review queue: open change requests with what they would do to our customers.

Internal staff only: any other reader gets an empty queue (the pages turn them away by scope
before they get here). The requests of a page are read in one query, and the purchase order
lines and linked sales lines of all of them in one query each, never one per request; the
effect itself is worked out by `portal.domain.impact`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
from piccolo.query import Select
from piccolo.query.functions.aggregate import Count

from portal.db import tables as t
from portal.db.codec import load
from portal.db.queries import Page
from portal.db.repositories import po_line_from_row, stored_decimal
from portal.domain.actors import Actor, Side
from portal.domain.changes import LineChange
from portal.domain.impact import CustomerEffect, LinkedLine, customer_effects, not_low_impact
from portal.domain.orders import POLine
from portal.domain.states import CRStatus, SOStatus

CR = t.ChangeRequest


class Filters(msgspec.Struct, frozen=True, kw_only=True):
    overdue: bool = False
    opened_by: str = ""
    """"supplier" (awaiting us), "internal" (awaiting the supplier) or "" for both."""
    supplier: str = ""
    buyer: str = ""
    numbers: tuple[str, ...] = ()
    """Only these requests (the API's bulk answer, one request's page)."""


class ReviewItem(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    number: str
    po_number: str
    po_version: int
    supplier: str
    supplier_name: str
    buyer: str
    currency: str
    opened_by: str
    opened_by_name: str
    reason_code: str
    comment: str
    changes: list[dict[str, Any]]
    """As stored: {line_no, kind, quantity | schedule | unit_price | item}."""
    lines: dict[int, POLine]
    """The order's lines the request changes, as they are now."""
    round: int
    supersedes: str | None
    due_at: datetime
    created_at: datetime
    version: int
    from_acknowledgement: bool
    effects: list[CustomerEffect]
    not_low_impact: list[str]
    """Why it may not be approved with others: cancel, price, item, customer_late."""

    def overdue(self, now: datetime) -> bool:
        return self.due_at < now

    def hours_left(self, now: datetime) -> float:
        """Hours until it is due; negative once it is overdue."""
        return (self.due_at - now).total_seconds() / 3600

    @property
    def low_impact(self) -> bool:
        return not self.not_low_impact


def _filtered(query: Select[Any], filters: Filters, now: datetime) -> Select[Any]:
    query = query.where(CR.status == CRStatus.OPEN.value)
    if filters.overdue:
        query = query.where(CR.due_at < now)
    if filters.opened_by:
        query = query.where(CR.opened_by == filters.opened_by)
    if filters.supplier:
        query = query.where(CR.po._.supplier == filters.supplier)
    if filters.buyer:
        query = query.where(CR.po._.buyer == filters.buyer)
    if filters.numbers:
        query = query.where(CR.number.is_in(list(filters.numbers)))
    return query


def _columns() -> list[Any]:
    return [
        *CR.all_columns(),
        CR.po._.number.as_alias("po_number"),
        CR.po._.version.as_alias("po_version"),
        CR.po._.supplier.as_alias("supplier"),
        CR.po._.supplier._.name.as_alias("supplier_name"),
        CR.po._.buyer.as_alias("buyer"),
        CR.po._.currency.as_alias("currency"),
    ]


async def review_page(
    actor: Actor, filters: Filters, now: datetime, *, page: int = 1, per_page: int = 20
) -> Page[ReviewItem]:
    """One page of open requests: those awaiting us (supplier's) first, then the earliest due."""
    if actor.side != Side.INTERNAL:
        return Page(items=[], number=page, size=per_page, total=0)
    total = (await _filtered(CR.select(Count()), filters, now).run())[0]["count"]
    rows = (
        await _filtered(CR.select(*_columns()), filters, now)
        # "supplier" sorts after "internal": descending puts the requests awaiting us first.
        .order_by(CR.opened_by, ascending=False)
        .order_by(CR.due_at, CR.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
        .run()
    )
    return Page(items=await _items(rows), number=page, size=per_page, total=total)


async def review_after(
    actor: Actor,
    filters: Filters,
    now: datetime,
    *,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[ReviewItem]:
    """Open requests by due time (then id), after a cursor position: the API's listing."""
    if actor.side != Side.INTERNAL:
        return []
    query = _filtered(CR.select(*_columns()), filters, now)
    if after is not None:
        due, row_id = after
        query = query.where((CR.due_at > due) | ((CR.due_at == due) & (CR.id > row_id)))
    rows = await query.order_by(CR.due_at, CR.id).limit(limit).run()
    return await _items(rows)


async def review_item(actor: Actor, number: str, now: datetime) -> ReviewItem | None:
    """One request (open or not) with its effect, or None if there is none we may see."""
    if actor.side != Side.INTERNAL:
        return None
    rows = await CR.select(*_columns()).where(CR.number == number).run()
    items = await _items(rows)
    return items[0] if items else None


async def _items(rows: Sequence[dict[str, Any]]) -> list[ReviewItem]:
    po_ids = sorted({row["po"] for row in rows})
    lines, linked = await _po_lines(po_ids), await _linked(po_ids)
    items = []
    for row in rows:
        stored = load(row["changes"])
        changes = [LineChange.from_data(item) for item in stored]
        touched = {change.line_no for change in changes}
        po_lines = {no: line for no, line in lines[row["po"]].items() if no in touched}
        effects = customer_effects(po_lines, changes, linked[row["po"]])
        items.append(
            ReviewItem(
                id=row["id"],
                number=row["number"],
                po_number=row["po_number"],
                po_version=row["po_version"],
                supplier=row["supplier"],
                supplier_name=row["supplier_name"],
                buyer=row["buyer"],
                currency=row["currency"],
                opened_by=row["opened_by"],
                opened_by_name=row["opened_by_name"],
                reason_code=row["reason_code"],
                comment=row["comment"],
                changes=stored,
                lines=po_lines,
                round=row["round"],
                supersedes=row["supersedes"],
                due_at=row["due_at"],
                created_at=row["created_at"],
                version=row["version"],
                from_acknowledgement=row["from_acknowledgement"],
                effects=effects,
                not_low_impact=not_low_impact(changes, effects),
            )
        )
    return items


async def _po_lines(po_ids: list[int]) -> dict[int, dict[int, POLine]]:
    found: dict[int, dict[int, POLine]] = defaultdict(dict)
    if po_ids:
        for row in await t.POLine.select().where(t.POLine.po.is_in(po_ids)).run():
            found[row["po"]][row["line_no"]] = po_line_from_row(row)
    return found


async def _linked(po_ids: list[int]) -> dict[int, list[LinkedLine]]:
    """The open sales lines following any line of these orders, per order."""
    found: dict[int, list[LinkedLine]] = defaultdict(list)
    if not po_ids:
        return found
    SL = t.SOLine
    rows = (
        await SL.select(
            SL.line_no,
            SL.quantity,
            SL.requested_date,
            SL.expected_date,
            SL.handling_days,
            SL.so._.number.as_alias("so_number"),
            SL.so._.customer.as_alias("customer"),
            SL.so._.customer._.name.as_alias("customer_name"),
            SL.po_line._.line_no.as_alias("po_line_no"),
            SL.po_line._.po.as_alias("po_id"),
        )
        .where(SL.po_line._.po.is_in(po_ids) & (SL.so._.status == SOStatus.OPEN.value))
        .order_by(SL.id)
        .run()
    )
    for row in rows:
        found[row["po_id"]].append(
            LinkedLine(
                so_number=row["so_number"],
                customer=row["customer"],
                customer_name=row["customer_name"],
                line_no=row["line_no"],
                po_line_no=row["po_line_no"],
                quantity=stored_decimal(row["quantity"]),
                requested_date=row["requested_date"],
                expected_date=row["expected_date"],
                handling_days=row["handling_days"],
            )
        )
    return found


async def suppliers_and_buyers() -> tuple[list[tuple[str, str]], list[str]]:
    """The filter choices: suppliers (code, name) and buyers with an open request."""
    open_ = CR.status == CRStatus.OPEN.value
    suppliers = (
        await CR.select(CR.po._.supplier.as_alias("code"), CR.po._.supplier._.name.as_alias("name"))
        .where(open_)
        .distinct()
        .run()
    )
    buyers = await CR.select(CR.po._.buyer.as_alias("buyer")).where(open_).distinct().run()
    return (
        sorted((row["code"], row["name"]) for row in suppliers),
        sorted(row["buyer"] for row in buyers if row["buyer"]),
    )
