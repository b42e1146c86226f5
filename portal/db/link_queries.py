"""Purchase order lines a sales line may be linked to: open lines of the same item, with who
supplies them, when they are promised and how much of them is still to come.

Internal staff only: the candidates name suppliers and their orders, which a customer must never
learn, so any other side gets none. Portable SQL only (SQLite and PostgreSQL).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import msgspec

from portal.db import tables as t
from portal.db.repositories import stored_decimal
from portal.domain.actors import Actor, Side
from portal.domain.states import POStatus

OPEN_STATUSES = (
    POStatus.ISSUED.value,
    POStatus.ACKNOWLEDGED.value,
    POStatus.CHANGES_PROPOSED.value,
    POStatus.IN_FULFILMENT.value,
    POStatus.SHIPPED.value,
)
"""A purchase order whose goods may still arrive: issued and neither received in full,
closed, rejected nor cancelled (a draft is not the supplier's to promise yet)."""
MAX_CANDIDATES = 50


class LinkCandidate(msgspec.Struct, frozen=True, kw_only=True):
    po_number: str
    po_line_no: int
    supplier: str
    supplier_name: str
    status: str
    item: str
    description: str
    unit: str
    quantity: Decimal
    quantity_left: Decimal
    """Ordered less received (rejected goods do not count as received)."""
    need_date: date
    promised_date: date | None
    """When the current promise covers the whole line; None before the supplier promised."""


async def open_po_lines(
    actor: Actor, item: str, search: str = "", limit: int = MAX_CANDIDATES
) -> list[LinkCandidate]:
    """Open lines of open purchase orders for `item` (exactly), optionally narrowed by `search`
    in the order number or the supplier's code or name; soonest promised (else needed) first."""
    if actor.side != Side.INTERNAL or not item.strip():
        return []
    line = t.POLine
    query = line.select(
        line.line_no,
        line.item,
        line.description,
        line.unit,
        line.quantity,
        line.received_qty,
        line.need_date,
        line.promised_date,
        line.po._.number.as_alias("po_number"),
        line.po._.status.as_alias("status"),
        line.po._.supplier.as_alias("supplier"),
        line.po._.supplier._.name.as_alias("supplier_name"),
    ).where(
        (line.item == item.strip())
        & (line.cancelled == False)  # noqa: E712  (a column comparison, not a truth test)
        & line.po._.status.is_in(list(OPEN_STATUSES))
    )
    rows = await query.order_by(line.po._.number).order_by(line.line_no).run()
    # One item's open lines are few: the search narrows them here, the same on both engines
    # (no LIKE wildcards or case rules to tell apart).
    text = search.strip().casefold()
    found = [
        candidate
        for candidate in map(_candidate, rows)
        if candidate.quantity_left > 0
        and (
            not text
            or text in candidate.po_number.casefold()
            or text in candidate.supplier.casefold()
            or text in candidate.supplier_name.casefold()
        )
    ]
    found.sort(key=lambda c: (c.promised_date or c.need_date, c.po_number, c.po_line_no))
    return found[:limit]


def _candidate(row: dict[str, Any]) -> LinkCandidate:
    quantity = stored_decimal(row["quantity"])
    received = stored_decimal(row["received_qty"])
    return LinkCandidate(
        po_number=row["po_number"],
        po_line_no=row["line_no"],
        supplier=row["supplier"],
        supplier_name=row["supplier_name"] or row["supplier"],
        status=row["status"],
        item=row["item"],
        description=row["description"],
        unit=row["unit"],
        quantity=quantity,
        quantity_left=max(quantity - received, Decimal(0)),
        need_date=row["need_date"],
        promised_date=row["promised_date"],
    )
