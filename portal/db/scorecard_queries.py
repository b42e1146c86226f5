"""Reading what supplier scorecards are made from: the purchase order timelines.

Two queries whatever the number of suppliers: the orders (number -> supplier) and the events
of the kinds the figures need (`portal.domain.scorecard.KINDS`) on "po/" streams since a year
and a month before the first period asked for (a line due in a period is issued well within
that). The figures themselves are worked out by `portal.domain.scorecard`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

import msgspec

from portal.db import tables as t
from portal.db.codec import load
from portal.domain.scorecard import KINDS, Period, Scorecard, ScoreEvent, scorecards

LOOK_BACK = timedelta(days=400)
"""How long before a period its lines' orders may have been issued."""


class SupplierName(msgspec.Struct, frozen=True):
    code: str
    name: str


async def suppliers() -> list[SupplierName]:
    """Every organisation that supplies us, by name."""
    rows = (
        await t.Organisation.select(t.Organisation.code, t.Organisation.name)
        .where(t.Organisation.kind.is_in(["supplier", "both"]))
        .order_by(t.Organisation.name)
        .run()
    )
    return [SupplierName(row["code"], row["name"]) for row in rows]


async def supplier(code: str) -> SupplierName | None:
    row = (
        await t.Organisation.select(t.Organisation.code, t.Organisation.name)
        .where(t.Organisation.code == code)
        .where(t.Organisation.kind.is_in(["supplier", "both"]))
        .first()
        .run()
    )
    return SupplierName(row["code"], row["name"]) if row else None


async def supplier_events(since: datetime, only: str | None = None) -> dict[str, list[ScoreEvent]]:
    """The scorecard events of each supplier's orders (of `only`, when given), by supplier,
    each stream in seq order."""
    orders = t.PurchaseOrder.select(t.PurchaseOrder.number, t.PurchaseOrder.supplier)
    if only is not None:
        orders = orders.where(t.PurchaseOrder.supplier == only)
    owner = {f"po/{row['number']}": row["supplier"] for row in await orders.run()}
    found: dict[str, list[ScoreEvent]] = defaultdict(list)
    if not owner:
        return found
    query = t.Event.select(
        t.Event.stream, t.Event.seq, t.Event.at, t.Event.kind, t.Event.data
    ).where(t.Event.kind.is_in(list(KINDS)), t.Event.stream.like("po/%"), t.Event.at >= since)
    if only is not None:
        query = query.where(t.Event.stream.is_in(list(owner)))
    for row in await query.order_by(t.Event.stream).order_by(t.Event.seq).run():
        code = owner.get(row["stream"])
        if code is None:
            continue
        found[code].append(
            ScoreEvent(row["stream"], row["seq"], row["at"], row["kind"], load(row["data"]))
        )
    return found


def _since(periods: list[Period]) -> datetime:
    return datetime.combine(min(period.start for period in periods), time(), UTC) - LOOK_BACK


async def all_scorecards(periods: list[Period], as_of: date) -> dict[str, list[Scorecard]]:
    """Every supplier's scorecards for `periods`; a supplier with no orders gets empty ones."""
    names = await suppliers()
    events = await supplier_events(_since(periods))
    return scorecards({name.code: events.get(name.code, []) for name in names}, periods, as_of)


async def supplier_scorecards(code: str, periods: list[Period], as_of: date) -> list[Scorecard]:
    events = await supplier_events(_since(periods), only=code)
    return scorecards({code: events.get(code, [])}, periods, as_of)[code]
