"""Purchase orders as a change feed: ordered by when they last changed, paged by position.

A page starts right after a position (the last item's `updated_at` and row id) instead of at
an offset, so an ERP walking the pages while orders change neither skips nor repeats one, and
each page costs one index range scan however far in it is. `updated_since` starts the walk at
a moment: what changed since the ERP last looked. Confined to the actor like every read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from portal.db import tables as t
from portal.db.queries import PurchaseOrderRow
from portal.db.repositories import po_line_from_row, scope_purchase_orders
from portal.domain.actors import Actor
from portal.domain.orders import POLine, display_status
from portal.domain.states import POStatus

PO = t.PurchaseOrder


class Position(msgspec.Struct, frozen=True):
    """Where a page ended: the feed goes on after this order."""

    updated_at: datetime
    row_id: int


class FeedPage(msgspec.Struct, frozen=True):
    items: list[PurchaseOrderRow]
    next: Position | None
    """Where the next page starts; None when this page reached the end."""


async def purchase_order_feed(
    actor: Actor,
    *,
    statuses: Sequence[POStatus] = (),
    updated_since: datetime | None = None,
    after: Position | None = None,
    limit: int = 50,
) -> FeedPage:
    """The purchase orders the actor may see, least recently changed first, `limit` at most."""
    if limit < 1:
        raise ValueError("a page holds at least one order")
    query = scope_purchase_orders(
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
    if query is None:
        return FeedPage(items=[], next=None)
    if statuses:
        query = query.where(PO.status.is_in([status.value for status in statuses]))
    if updated_since is not None:
        query = query.where(PO.updated_at >= updated_since)
    if after is not None:
        query = query.where(
            (PO.updated_at > after.updated_at)
            | ((PO.updated_at == after.updated_at) & (PO._meta.primary_key > after.row_id))
        )
    # One row more than asked says whether another page follows.
    rows = await query.order_by(PO.updated_at).order_by(PO._meta.primary_key).limit(limit + 1).run()
    more, rows = len(rows) > limit, rows[:limit]
    lines = await _lines_of([row["id"] for row in rows])
    items = [_summary(row, lines.get(row["id"], [])) for row in rows]
    last = rows[-1] if rows else None
    return FeedPage(
        items=items,
        next=Position(last["updated_at"], last["id"]) if more and last else None,
    )


async def _lines_of(po_ids: list[int]) -> dict[int, list[POLine]]:
    if not po_ids:
        return {}
    rows = (
        await t.POLine.select()
        .where(t.POLine.po.is_in(po_ids))
        .order_by(t.POLine.po)
        .order_by(t.POLine.line_no)
        .run()
    )
    lines: dict[int, list[POLine]] = {}
    for row in rows:
        lines.setdefault(row["po"], []).append(po_line_from_row(row))
    return lines


def _summary(row: dict[str, Any], lines: list[POLine]) -> PurchaseOrderRow:
    """The order summed up from its open lines, as the order lists show it."""
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
