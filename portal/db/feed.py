"""Purchase orders as a change feed: ordered by when they last changed, paged by position.

A page starts right after a position (the last item's `updated_at` and row id) instead of at
an offset, so an ERP walking the pages while orders change neither skips nor repeats one, and
each page costs one index range scan however far in it is. `updated_since` starts the walk at
a moment: what changed since the ERP last looked. Confined to the actor like every read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec

from portal.db import tables as t
from portal.db.queries import PurchaseOrderRow, po_lines_of, po_summaries, po_summary
from portal.domain.actors import Actor
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
    query = po_summaries(actor)
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
    lines = await po_lines_of([row["id"] for row in rows])
    items = [po_summary(row, lines.get(row["id"], [])) for row in rows]
    last = rows[-1] if rows else None
    return FeedPage(
        items=items,
        next=Position(last["updated_at"], last["id"]) if more and last else None,
    )
