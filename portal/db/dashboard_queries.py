"""The dashboard's figures for internal staff: orders by status, open alerts by rule and age,
purchase orders awaiting acknowledgement, change requests awaiting decision (and overdue),
this week's expected receipts and customer orders at risk.

Every figure obeys the same `Filters`. A filter on the orders themselves (supplier, buyer,
customer) narrows each kind of order directly; a filter on their lines (item, date range) or
across the link between sales and purchase lines (a supplier for sales orders, a customer for
purchase orders) is resolved first into the matching orders' ids, which every tile then uses.
Only portable Piccolo queries: the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from piccolo.columns import Column
from piccolo.columns.combination import WhereRaw
from piccolo.query.functions.aggregate import Count

from portal.db import tables as t
from portal.domain.states import CRStatus, POStatus, SOStatus

PO = t.PurchaseOrder
SO = t.SalesOrder

ALERT_RULES = (
    "po_unacknowledged",
    "promise_after_need",
    "promise_passed_unshipped",
    "shipment_overdue",
    "cr_overdue",
    "so_late",
)
AGE_BUCKETS = ((24, "lt_1d"), (72, "1_3d"), (None, "gt_3d"))
"""Hours past due (up to) -> bucket: under a day, one to three days, more."""


@dataclass(frozen=True, slots=True)
class Filters:
    supplier: str = ""
    customer: str = ""
    item: str = ""
    buyer: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @property
    def any(self) -> bool:
        return bool(
            self.supplier
            or self.customer
            or self.item
            or self.buyer
            or self.date_from
            or self.date_to
        )

    def query(self) -> dict[str, str]:
        """The filters as URL parameters (only the ones set), for links to the lists."""
        values = {
            "supplier": self.supplier,
            "customer": self.customer,
            "item": self.item,
            "buyer": self.buyer,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
        }
        return {key: value for key, value in values.items() if value}


@dataclass(slots=True)
class AlertRow:
    rule: str
    open: int = 0
    escalated: int = 0
    overdue: int = 0
    """Open for more than three days past due."""
    ages: dict[str, int] = field(default_factory=lambda: {name: 0 for _, name in AGE_BUCKETS})
    oldest_hours: float | None = None


@dataclass(slots=True)
class Dashboard:
    po_status: dict[str, int]
    so_status: dict[str, int]
    alerts: list[AlertRow]
    awaiting_acknowledgement: int
    crs_open: int
    crs_overdue: int
    receipts_this_week: int
    receipts_overdue: int
    """Posted shipments expected before this week and still not received."""
    at_risk_orders: int
    at_risk_lines: int
    week: tuple[date, date]

    @property
    def alerts_open(self) -> int:
        return sum(row.open for row in self.alerts)


@dataclass(frozen=True, slots=True)
class Scope:
    """Which orders the filters leave: None means every order of that kind."""

    po_ids: list[int] | None
    po_numbers: list[str] | None
    so_ids: list[int] | None
    so_numbers: list[str] | None


def _within(column: Column, ids: list[int]) -> Any:
    # An empty IN () is not valid SQL; no id is negative.
    return column.is_in(ids) if ids else column == -1


def _intersect(found: set[int] | None, more: set[int]) -> set[int]:
    return more if found is None else found & more


async def scope(filters: Filters) -> Scope:
    if not filters.any:
        return Scope(None, None, None, None)
    po_query = PO.select(PO._meta.primary_key, PO.number)
    if filters.supplier:
        po_query = po_query.where(PO.supplier == filters.supplier)
    if filters.buyer:
        po_query = po_query.where(PO.buyer == filters.buyer)
    po_ids: set[int] | None = None
    if filters.item or filters.date_from or filters.date_to:
        lines = t.POLine.select(t.POLine.po).where(t.POLine.cancelled == False)  # noqa: E712
        if filters.item:
            lines = lines.where(t.POLine.item == filters.item)
        if filters.date_from:
            lines = lines.where(t.POLine.need_date >= filters.date_from)
        if filters.date_to:
            lines = lines.where(t.POLine.need_date <= filters.date_to)
        po_ids = _intersect(po_ids, {row["po"] for row in await lines.run()})
    if filters.customer:
        linked = t.SOLine.select(t.SOLine.po_line._.po.as_alias("po")).where(
            t.SOLine.so._.customer == filters.customer, t.SOLine.po_line.is_not_null()
        )
        po_ids = _intersect(po_ids, {row["po"] for row in await linked.run()})
    if po_ids is not None:
        po_query = po_query.where(_within(PO._meta.primary_key, sorted(po_ids)))
    pos = await po_query.run()

    so_query = SO.select(SO._meta.primary_key, SO.number)
    if filters.customer:
        so_query = so_query.where(SO.customer == filters.customer)
    so_ids: set[int] | None = None
    if filters.item or filters.date_from or filters.date_to:
        so_lines = t.SOLine.select(t.SOLine.so)
        if filters.item:
            so_lines = so_lines.where(t.SOLine.item == filters.item)
        if filters.date_from:
            so_lines = so_lines.where(t.SOLine.requested_date >= filters.date_from)
        if filters.date_to:
            so_lines = so_lines.where(t.SOLine.requested_date <= filters.date_to)
        so_ids = _intersect(so_ids, {row["so"] for row in await so_lines.run()})
    if filters.supplier or filters.buyer:
        following = t.SOLine.select(t.SOLine.so).where(t.SOLine.po_line.is_not_null())
        if filters.supplier:
            following = following.where(t.SOLine.po_line._.po._.supplier == filters.supplier)
        if filters.buyer:
            following = following.where(t.SOLine.po_line._.po._.buyer == filters.buyer)
        so_ids = _intersect(so_ids, {row["so"] for row in await following.run()})
    if so_ids is not None:
        so_query = so_query.where(_within(SO._meta.primary_key, sorted(so_ids)))
    sos = await so_query.run()
    return Scope(
        [row["id"] for row in pos],
        [row["number"] for row in pos],
        [row["id"] for row in sos],
        [row["number"] for row in sos],
    )


def _hours(since: datetime | None, now: datetime) -> float | None:
    return None if since is None else (now - since).total_seconds() / 3600


def _bucket(hours: float) -> str:
    for limit, name in AGE_BUCKETS:
        if limit is None or hours < limit:
            return name
    return AGE_BUCKETS[-1][1]


async def dashboard(filters: Filters, now: datetime, today: date) -> Dashboard:
    """Every tile's figures, as they stand at `now` (`today` is the viewer's day)."""
    found = await scope(filters)

    def pos(query: Any, column: Column) -> Any:
        return query if found.po_ids is None else query.where(_within(column, found.po_ids))

    def sos(query: Any, column: Column) -> Any:
        return query if found.so_ids is None else query.where(_within(column, found.so_ids))

    po_status = {
        row["status"]: row["count"]
        for row in await pos(
            PO.select(PO.status, Count()).group_by(PO.status), PO._meta.primary_key
        ).run()
    }
    so_status = {
        row["status"]: row["count"]
        for row in await sos(
            SO.select(SO.status, Count()).group_by(SO.status), SO._meta.primary_key
        ).run()
    }

    alerts = {rule: AlertRow(rule) for rule in ALERT_RULES}
    alert_query = t.Alert.select(
        t.Alert.rule, t.Alert.level, t.Alert.due_at, t.Alert.raised_at
    ).where(t.Alert.resolved_at.is_null())
    if found.po_numbers is not None and found.so_numbers is not None:
        streams = [f"po/{n}" for n in found.po_numbers] + [f"so/{n}" for n in found.so_numbers]
        alert_query = alert_query.where(
            t.Alert.stream.is_in(streams) if streams else t.Alert.stream == ""
        )
    for row in await alert_query.run():
        entry = alerts.setdefault(row["rule"], AlertRow(row["rule"]))
        entry.open += 1
        if row["level"] == "escalated":
            entry.escalated += 1
        hours = _hours(row["due_at"] or row["raised_at"], now) or 0.0
        bucket = _bucket(max(hours, 0.0))
        entry.ages[bucket] += 1
        if bucket == AGE_BUCKETS[-1][1]:
            entry.overdue += 1
        entry.oldest_hours = max(entry.oldest_hours or 0.0, hours)

    cr = t.ChangeRequest
    crs = await pos(cr.select(cr.due_at).where(cr.status == CRStatus.OPEN.value), cr.po).run()
    overdue = sum(1 for row in crs if row["due_at"] < now)

    monday = today - timedelta(days=today.weekday())
    sunday = monday + timedelta(days=6)
    shipments = await pos(
        t.Shipment.select(t.Shipment.number, t.Shipment.expected_arrival).where(
            t.Shipment.status == "posted",
            t.Shipment.expected_arrival.is_not_null(),
            t.Shipment.expected_arrival <= sunday,
        ),
        t.Shipment.po,
    ).run()
    received: set[str] = set()
    if shipments:
        received = {
            row["shipment"]
            for row in await t.Receipt.select(t.Receipt.shipment)
            .where(t.Receipt.shipment.is_in([row["number"] for row in shipments]))
            .run()
        }
    waiting = [row for row in shipments if row["number"] not in received]

    late_lines = await sos(
        t.SOLine.select(t.SOLine.so).where(
            WhereRaw("expected_date > requested_date"),
            t.SOLine.so._.status == SOStatus.OPEN.value,
        ),
        t.SOLine.so,
    ).run()

    return Dashboard(
        po_status=po_status,
        so_status=so_status,
        alerts=list(alerts.values()),
        awaiting_acknowledgement=po_status.get(POStatus.ISSUED.value, 0),
        crs_open=len(crs),
        crs_overdue=overdue,
        receipts_this_week=sum(1 for row in waiting if row["expected_arrival"] >= monday),
        receipts_overdue=sum(1 for row in waiting if row["expected_arrival"] < monday),
        at_risk_orders=len({row["so"] for row in late_lines}),
        at_risk_lines=len(late_lines),
        week=(monday, sunday),
    )


# --- the order lists' filters (the tiles link to them) ---------------------------------------


async def arriving_po_ids(start: date | None, end: date | None) -> set[int]:
    """Orders with a posted shipment expected between `start` and `end` (inclusive, either
    open) that no receipt names yet."""
    query = t.Shipment.select(t.Shipment.po, t.Shipment.number).where(
        t.Shipment.status == "posted", t.Shipment.expected_arrival.is_not_null()
    )
    if start:
        query = query.where(t.Shipment.expected_arrival >= start)
    if end:
        query = query.where(t.Shipment.expected_arrival <= end)
    shipments = await query.run()
    if not shipments:
        return set()
    received = {
        row["shipment"]
        for row in await t.Receipt.select(t.Receipt.shipment)
        .where(t.Receipt.shipment.is_in([row["number"] for row in shipments]))
        .run()
    }
    return {row["po"] for row in shipments if row["number"] not in received}


async def late_so_ids() -> set[int]:
    """Open sales orders with a line expected after the customer asked for it."""
    rows = (
        await t.SOLine.select(t.SOLine.so)
        .where(
            WhereRaw("expected_date > requested_date"),
            t.SOLine.so._.status == SOStatus.OPEN.value,
        )
        .run()
    )
    return {row["so"] for row in rows}


async def purchase_order_ids(
    filters: Filters, arrival_from: date | None = None, arrival_to: date | None = None
) -> list[int] | None:
    """The purchase orders a filtered list shows (None: no filter, every order)."""
    ids: set[int] | None = None
    if filters.any:
        ids = set((await scope(filters)).po_ids or [])
    if arrival_from or arrival_to:
        ids = _intersect(ids, await arriving_po_ids(arrival_from, arrival_to))
    return None if ids is None else sorted(ids)


async def sales_order_ids(filters: Filters, late: bool = False) -> list[int] | None:
    ids: set[int] | None = None
    if filters.any:
        ids = set((await scope(filters)).so_ids or [])
    if late:
        ids = _intersect(ids, await late_so_ids())
    return None if ids is None else sorted(ids)
