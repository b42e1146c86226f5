"""What is tripped right now, rule by rule, and the open alerts as the pages list them.

Each rule is one set-based query (plain SQL that reads the same on SQLite and PostgreSQL):
every subject whose condition holds, with its order, the time it was due and the order's owner
(the actor of the order's first event, `po.created` / `so.created`). The thresholds are applied
in SQL where they are a plain comparison and refined by `portal.domain.alerts` on the rows
found, never by walking every order in Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from portal.db import tables as t
from portal.db.codec import load
from portal.domain.alerts import (
    Level,
    Rule,
    Threshold,
    end_of,
    lateness,
    level_of,
    subject_of,
    trips,
)
from portal.domain.events import po_stream, so_stream


@dataclass(frozen=True, slots=True)
class Tripped:
    """One subject whose rule holds now."""

    rule: Rule
    subject: str
    stream: str
    number: str
    org: str
    due_at: datetime
    late_hours: float
    level: Level
    owner_id: int | None
    owner_name: str
    facts: dict[str, Any] = field(default_factory=dict)


def owner_of(actor: Any) -> tuple[int | None, str]:
    """The owner an order's first event names: its user id (None for a client, an import or
    the system) and display name."""
    data = load(actor)
    if not isinstance(data, Mapping):
        return None, ""
    raw_id = str(data.get("id") or "")
    user_id = int(raw_id) if data.get("kind") == "user" and raw_id.isdigit() else None
    return user_id, str(data.get("name") or "")


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _qty(value: Any) -> str:
    text = format(value, "f") if not isinstance(value, str) else value
    return text.rstrip("0").rstrip(".") if "." in text else text


# The owner: the actor of the order's first event.
_PO_OWNER = "LEFT JOIN event c ON c.stream = 'po/' || po.number AND c.kind = 'po.created' "
_SO_OWNER = "LEFT JOIN event c ON c.stream = 'so/' || so.number AND c.kind = 'so.created' "
_PO_LIVE = "po.status NOT IN ('draft', 'cancelled', 'closed', 'received', 'rejected')"
_LINE_OPEN = "l.cancelled = {} AND l.shipped_qty - l.rejected_qty < l.quantity"

PO_UNACKNOWLEDGED = (
    "SELECT po.number, po.supplier, e.at, c.actor FROM purchase_order po "
    "JOIN event e ON e.stream = 'po/' || po.number AND e.kind = 'po.issued' "
    + _PO_OWNER
    + "WHERE po.status = 'issued' AND e.at <= {} ORDER BY po.number"
)
PROMISE_AFTER_NEED = (
    "SELECT po.number, po.supplier, l.line_no, l.need_date, l.promised_date, l.quantity, "
    "l.shipped_qty, l.rejected_qty, c.actor FROM po_line l "
    "JOIN purchase_order po ON po.id = l.po "
    + _PO_OWNER
    + "WHERE "
    + _LINE_OPEN
    + " AND l.promised_date IS NOT NULL AND l.promised_date > l.need_date AND "
    + _PO_LIVE
    + " ORDER BY po.number, l.line_no"
)
PROMISE_PASSED_UNSHIPPED = (
    "SELECT po.number, po.supplier, l.line_no, l.need_date, l.promised_date, l.quantity, "
    "l.shipped_qty, l.rejected_qty, c.actor FROM po_line l "
    "JOIN purchase_order po ON po.id = l.po "
    + _PO_OWNER
    + "WHERE "
    + _LINE_OPEN
    + " AND l.promised_date IS NOT NULL AND l.promised_date < {} AND "
    + _PO_LIVE
    + " ORDER BY po.number, l.line_no"
)
SHIPMENT_OVERDUE = (
    "SELECT po.number, po.supplier, s.number AS shipment, s.ship_date, s.expected_arrival, "
    "s.carrier, c.actor FROM shipment s "
    "JOIN purchase_order po ON po.id = s.po "
    + _PO_OWNER
    + "WHERE s.status = 'posted' AND s.expected_arrival IS NOT NULL "
    "AND s.expected_arrival < {} "
    "AND po.status NOT IN ('received', 'closed', 'cancelled') "
    "AND NOT EXISTS (SELECT 1 FROM receipt r WHERE r.shipment = s.number) "
    "ORDER BY s.number"
)
CR_OVERDUE = (
    "SELECT po.number, po.supplier, cr.number AS cr, cr.due_at, cr.opened_by, c.actor "
    "FROM change_request cr "
    "JOIN purchase_order po ON po.id = cr.po "
    + _PO_OWNER
    + "WHERE cr.status = 'open' AND cr.due_at <= {} ORDER BY cr.number"
)
SO_LATE = (
    "SELECT so.number, so.customer, l.line_no, l.requested_date, l.expected_date, c.actor "
    "FROM so_line l JOIN sales_order so ON so.id = l.so "
    + _SO_OWNER
    + "WHERE so.status = 'open' AND l.expected_date > l.requested_date "
    "ORDER BY so.number, l.line_no"
)


async def _rows(sql: str, *args: Any) -> list[dict[str, Any]]:
    return list(await t.Alert.raw(sql, *args).run())


async def tripped(now: datetime, thresholds: Mapping[Rule, Threshold]) -> list[Tripped]:
    """Every subject of every rule that holds at `now` by `thresholds`."""
    found: list[Tripped] = []

    def keep(
        rule: Rule,
        row: dict[str, Any],
        *,
        org: str,
        due_at: datetime,
        line: int | None = None,
        ref: str = "",
        forecast: date | None = None,
        facts: dict[str, Any],
    ) -> None:
        threshold = thresholds[rule]
        late = lateness(rule, now, due_at, forecast)
        if not trips(late, threshold):
            return
        owner_id, owner_name = owner_of(row.get("actor"))
        number = str(row["number"])
        found.append(
            Tripped(
                rule=rule,
                subject=subject_of(rule, number, line=line, ref=ref),
                stream=so_stream(number) if rule == Rule.SO_LATE else po_stream(number),
                number=number,
                org=org,
                due_at=due_at,
                late_hours=late,
                level=level_of(late, threshold),
                owner_id=owner_id,
                owner_name=owner_name,
                facts=facts,
            )
        )

    def cutoff(rule: Rule) -> datetime:
        return now - timedelta(hours=thresholds[rule].hours)

    for row in await _rows(PO_UNACKNOWLEDGED, cutoff(Rule.PO_UNACKNOWLEDGED)):
        issued = _moment(row["at"])
        keep(
            Rule.PO_UNACKNOWLEDGED,
            row,
            org=row["supplier"],
            due_at=issued,
            facts={"issued_at": issued.isoformat()},
        )
    for row in await _rows(PROMISE_AFTER_NEED, False):
        need, promised = _day(row["need_date"]), _day(row["promised_date"])
        keep(
            Rule.PROMISE_AFTER_NEED,
            row,
            org=row["supplier"],
            due_at=end_of(need),
            line=row["line_no"],
            forecast=promised,
            facts={
                "line_no": row["line_no"],
                "need_date": need.isoformat(),
                "promised_date": promised.isoformat(),
            },
        )
    passed = cutoff(Rule.PROMISE_PASSED_UNSHIPPED).date()
    for row in await _rows(PROMISE_PASSED_UNSHIPPED, False, passed):
        promised = _day(row["promised_date"])
        left = row["quantity"] - row["shipped_qty"] + row["rejected_qty"]
        keep(
            Rule.PROMISE_PASSED_UNSHIPPED,
            row,
            org=row["supplier"],
            due_at=end_of(promised),
            line=row["line_no"],
            facts={
                "line_no": row["line_no"],
                "promised_date": promised.isoformat(),
                "unshipped": _qty(left),
            },
        )
    arrival = cutoff(Rule.SHIPMENT_OVERDUE).date()
    for row in await _rows(SHIPMENT_OVERDUE, arrival):
        expected = _day(row["expected_arrival"])
        keep(
            Rule.SHIPMENT_OVERDUE,
            row,
            org=row["supplier"],
            due_at=end_of(expected),
            ref=row["shipment"],
            facts={
                "shipment": row["shipment"],
                "expected_arrival": expected.isoformat(),
                "ship_date": _day(row["ship_date"]).isoformat(),
            },
        )
    for row in await _rows(CR_OVERDUE, cutoff(Rule.CR_OVERDUE)):
        due = _moment(row["due_at"])
        keep(
            Rule.CR_OVERDUE,
            row,
            org=row["supplier"],
            due_at=due,
            ref=row["cr"],
            facts={"change_request": row["cr"], "opened_by": row["opened_by"]},
        )
    for row in await _rows(SO_LATE):
        requested, expected = _day(row["requested_date"]), _day(row["expected_date"])
        keep(
            Rule.SO_LATE,
            row,
            org=row["customer"],
            due_at=end_of(requested),
            line=row["line_no"],
            forecast=expected,
            facts={
                "line_no": row["line_no"],
                "requested_date": requested.isoformat(),
                "expected_date": expected.isoformat(),
            },
        )
    return found


async def open_alerts() -> list[dict[str, Any]]:
    """Every open alert (the scanner compares them with what is tripped)."""
    return list(
        await t.Alert.select(
            t.Alert.id,
            t.Alert.rule,
            t.Alert.subject,
            t.Alert.stream,
            t.Alert.number,
            t.Alert.level,
            t.Alert.owner_id,
        )
        .where(t.Alert.resolved_at.is_null())
        .run()
    )


async def managers() -> list[int]:
    """Who hears of escalated alerts: the active admins of our own organisation."""
    rows = await t.AppUser.raw(
        "SELECT u.id FROM app_user u JOIN organisation o ON o.code = u.org "
        "WHERE o.kind = 'internal' AND u.role = 'admin' AND u.active = {} ORDER BY u.id",
        True,
    ).run()
    return [int(row["id"]) for row in rows]


# --- Lists for the pages and the API ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlertFilter:
    rule: str = ""
    level: str = ""
    org: str = ""
    owner_id: int | None = None


async def list_open(
    flt: AlertFilter, *, after_id: int | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Open alerts, escalated first and then the oldest due first; by id for cursor paging
    when `after_id` is given (the API), so pages never skip or repeat a row."""
    query = t.Alert.select().where(t.Alert.resolved_at.is_null())
    if flt.rule:
        query = query.where(t.Alert.rule == flt.rule)
    if flt.level:
        query = query.where(t.Alert.level == flt.level)
    if flt.org:
        query = query.where(t.Alert.org == flt.org)
    if flt.owner_id is not None:
        query = query.where(t.Alert.owner_id == flt.owner_id)
    if after_id is not None:
        query = query.where(t.Alert.id > after_id).order_by(t.Alert.id)
    else:
        # "escalated" sorts before "raised".
        query = query.order_by(t.Alert.level).order_by(t.Alert.due_at).order_by(t.Alert.id)
    rows = await query.limit(limit).run()
    for row in rows:
        row["data"] = load(row["data"]) or {}
    return list(rows)


async def open_orgs() -> list[str]:
    """The organisations with open alerts (the filter's choices)."""
    rows = (
        await t.Alert.select(t.Alert.org)
        .where(t.Alert.resolved_at.is_null())
        .distinct()
        .order_by(t.Alert.org)
        .run()
    )
    return [row["org"] for row in rows if row["org"]]
