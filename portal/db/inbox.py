"""The supplier's inbox: its purchase orders, filtered, sorted and paged on the server, with the
lines that need watching marked and the reasons an order needs the supplier's action.

Confined like every read: `scope_purchase_orders` narrows each query to the actor's own orders
(internal staff see every supplier's). Only portable SQL: the same queries run on SQLite and
PostgreSQL.

What the marks mean, in one place:

- **late**: an open line promised for after its need date (the domain's own rule,
  `POLine.late`).
- **at risk**: an open line, not late, with something left to ship, due (its promised date, or
  its need date while nothing is promised) within `AT_RISK_DAYS` days or already past. Three
  days is about what goods take from a supplier's dock to ours (handling plus domestic
  transit): a line still unshipped that close to its date will most likely miss it, so the
  supplier sees it while there is still time to ship or to move the promise.
- **needs my action** (any of):
  - *unacknowledged*: the order is issued and not yet answered;
  - *change request waiting*: our side opened a change request the supplier has not decided;
  - *promise in the past*: a line promised for a day before today of which nothing shipped,
    so the promise must be moved;
  - *unshipped past promise*: a partly shipped line whose promised day has passed with some of
    it still to ship.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

import msgspec
from piccolo.columns.combination import And, Or, Where, WhereRaw
from piccolo.query import Select
from piccolo.query.functions.aggregate import Count
from piccolo.querystring import QueryString

from portal.db import tables as t
from portal.db.queries import DeliveryRow, Page
from portal.db.repositories import po_line_from_row, scope_purchase_orders
from portal.domain.actors import Actor, Side
from portal.domain.orders import POLine, display_status
from portal.domain.states import CRStatus, POStatus

AT_RISK_DAYS = 3

ACTIVE_STATUSES: tuple[POStatus, ...] = (
    POStatus.ISSUED,
    POStatus.ACKNOWLEDGED,
    POStatus.CHANGES_PROPOSED,
    POStatus.IN_FULFILMENT,
    POStatus.SHIPPED,
)
"""Orders whose lines may still have goods to ship (a shipped order whose goods were turned
away has them to replace)."""


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    ANSWER_CHANGE_REQUEST = "answer_change_request"
    PROMISE_IN_PAST = "promise_in_past"
    UNSHIPPED_PAST_PROMISE = "unshipped_past_promise"


class LineState(Protocol):
    """What the marks read of a line: a domain `POLine` and a read-side line both have it."""

    @property
    def cancelled(self) -> bool: ...
    @property
    def late(self) -> bool: ...
    @property
    def quantity(self) -> Decimal: ...
    @property
    def shipped_qty(self) -> Decimal: ...
    @property
    def rejected_qty(self) -> Decimal: ...
    @property
    def need_date(self) -> date: ...
    @property
    def promised_date(self) -> date | None: ...


def left_to_ship(line: LineState) -> Decimal:
    return max(line.quantity - (line.shipped_qty - line.rejected_qty), Decimal(0))


def at_risk(line: LineState, today: date) -> bool:
    """See the module's docstring; only meaningful for a line of an active order."""
    if line.cancelled or line.late or left_to_ship(line) == 0:
        return False
    due = line.promised_date or line.need_date
    return due <= today + timedelta(days=AT_RISK_DAYS)


def past_promise(line: LineState, today: date) -> Action | None:
    """Which of the two promise actions the line needs, if any."""
    if line.cancelled or line.promised_date is None or line.promised_date >= today:
        return None
    if left_to_ship(line) == 0:
        return None
    return Action.PROMISE_IN_PAST if line.shipped_qty == 0 else Action.UNSHIPPED_PAST_PROMISE


class InboxSortKey(StrEnum):
    CREATED = "created"
    NUMBER = "number"
    STATUS = "status"
    NEED = "need"
    """The earliest need date of the order's open lines."""
    UPDATED = "updated"


class InboxSort(msgspec.Struct, frozen=True):
    key: InboxSortKey = InboxSortKey.CREATED
    descending: bool = True


NEWEST_FIRST = InboxSort()


class InboxFilter(msgspec.Struct, frozen=True, kw_only=True):
    status: POStatus | None = None
    need_from: date | None = None
    need_to: date | None = None
    item: str = ""
    """Part of an item code or description, any case."""
    needs_action: bool = False


class InboxLine(msgspec.Struct, frozen=True, kw_only=True):
    line_no: int
    item: str
    description: str
    quantity: Decimal
    unit: str
    need_date: date
    promise: list[DeliveryRow]
    promised_date: date | None
    shipped_qty: Decimal
    left_to_ship: Decimal
    late: bool
    at_risk: bool
    action: Action | None


class InboxRow(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    supplier: str
    supplier_name: str
    status: str
    """The display status (partial shipment and receipt derived from the lines)."""
    version: int
    created_at: datetime
    updated_at: datetime
    lines: list[InboxLine]
    """The lines not cancelled."""
    actions: list[Action]
    change_requests_waiting: list[str]
    """Open change requests our side opened: the supplier decides them."""

    @property
    def late(self) -> bool:
        return any(line.late for line in self.lines)

    @property
    def at_risk(self) -> bool:
        return any(line.at_risk for line in self.lines)


class Inbox(msgspec.Struct, frozen=True, kw_only=True):
    page: Page[InboxRow]
    counts: dict[str, int]
    """Orders per stored status, under every filter but the status."""
    needs_action: int
    """Orders needing the supplier's action, under every filter but the status."""
    latest_change: datetime | None
    """When the newest change to any of the actor's orders was made: where live updates of
    the inbox pick up."""


PO = t.PurchaseOrder
L = t.POLine
CR = t.ChangeRequest

_OPEN_LINE = L.cancelled == False  # noqa: E712  (a column comparison, not a truth test)


def _unshipped() -> WhereRaw:
    return WhereRaw('"po_line"."shipped_qty" - "po_line"."rejected_qty" < "po_line"."quantity"')


def _needs_action(today: date) -> Or:
    waiting = CR.select(CR.po).where(
        (CR.status == CRStatus.OPEN.value) & (CR.opened_by == Side.INTERNAL.value)
    )
    overdue = L.select(L.po).where(_OPEN_LINE & (L.promised_date < today) & _unshipped())
    return (
        (PO.status == POStatus.ISSUED.value)
        | PO.id.is_in(waiting)
        | (PO.id.is_in(overdue) & PO.status.is_in([status.value for status in ACTIVE_STATUSES]))
    )


def _conditions(filters: InboxFilter, today: date) -> list[Where | And | Or | WhereRaw]:
    """Every filter but the status (the counts per status are taken under these)."""
    found: list[Where | And | Or | WhereRaw] = []
    if filters.need_from is not None or filters.need_to is not None:
        lines = L.select(L.po).where(_OPEN_LINE)
        if filters.need_from is not None:
            lines = lines.where(L.need_date >= filters.need_from)
        if filters.need_to is not None:
            lines = lines.where(L.need_date <= filters.need_to)
        found.append(PO.id.is_in(lines))
    if filters.item.strip():
        pattern = f"%{filters.item.strip().lower()}%"
        found.append(
            PO.id.is_in(
                L.select(L.po).where(
                    WhereRaw(
                        'LOWER("po_line"."item") LIKE {} OR LOWER("po_line"."description") LIKE {}',
                        pattern,
                        pattern,
                    )
                )
            )
        )
    if filters.needs_action:
        found.append(_needs_action(today))
    return found


def _sort_column(key: InboxSortKey) -> Any:
    if key == InboxSortKey.NEED:
        # Orders with every line cancelled have no need date: last, on both engines (which
        # put NULLs at opposite ends).
        return QueryString(
            'COALESCE((SELECT MIN("po_line"."need_date") FROM "po_line" '
            'WHERE "po_line"."po" = "purchase_order"."id" AND "po_line"."cancelled" = {}), {})',
            False,
            date.max,
        )
    return {
        InboxSortKey.CREATED: PO.created_at,
        InboxSortKey.NUMBER: PO.number,
        InboxSortKey.STATUS: PO.status,
        InboxSortKey.UPDATED: PO.updated_at,
    }[key]


def _where(query: Select[Any], conditions: Sequence[Any]) -> Select[Any]:
    for condition in conditions:
        query = query.where(condition)
    return query


async def inbox(
    actor: Actor,
    filters: InboxFilter,
    *,
    today: date,
    sort: InboxSort = NEWEST_FIRST,
    page: int = 1,
    per_page: int = 20,
) -> Inbox:
    """One page of the actor's purchase orders under `filters`, with the counts the filter
    bar shows. `today` is the reader's day: what is "past" depends on where they are."""
    if page < 1 or per_page < 1:
        raise ValueError("pages and page sizes count from 1")
    if scope_purchase_orders(actor, PO.select(PO.id)) is None:
        empty: Page[InboxRow] = Page(items=[], number=page, size=per_page, total=0)
        return Inbox(page=empty, counts={}, needs_action=0, latest_change=None)

    def scoped(query: Select[Any], conditions: Sequence[Any]) -> Select[Any]:
        found = scope_purchase_orders(actor, query)
        assert found is not None  # the actor may see purchase orders: checked above
        if actor.side == Side.SUPPLIER:
            # A draft is still ours alone: it reaches the supplier when it is issued.
            found = found.where(PO.status != POStatus.DRAFT.value)
        for condition in conditions:
            found = found.where(condition)
        return found

    conditions = _conditions(filters, today)
    listed = conditions + ([PO.status == filters.status.value] if filters.status else [])
    query = scoped(
        PO.select(
            PO.id,
            PO.number,
            PO.supplier,
            PO.supplier.name.as_alias("supplier_name"),
            PO.status,
            PO.version,
            PO.created_at,
            PO.updated_at,
        ),
        listed,
    )
    total = (await scoped(PO.select(Count()), listed).run())[0]["count"]
    rows = (
        await query.order_by(_sort_column(sort.key), ascending=not sort.descending)
        .order_by(PO.id, ascending=not sort.descending)
        .limit(per_page)
        .offset((page - 1) * per_page)
        .run()
    )
    per_status = scoped(PO.select(PO.status, Count()).group_by(PO.status), conditions)
    acting = conditions if filters.needs_action else [*conditions, _needs_action(today)]
    newest = (
        await scoped(PO.select(PO.updated_at), [])
        .order_by(PO.updated_at, ascending=False)
        .first()
        .run()
    )
    return Inbox(
        page=Page(items=await _rows(rows, today), number=page, size=per_page, total=total),
        counts={row["status"]: row["count"] for row in await per_status.run()},
        needs_action=(await scoped(PO.select(Count()), acting).run())[0]["count"],
        latest_change=newest["updated_at"] if newest else None,
    )


async def _rows(rows: list[dict[str, Any]], today: date) -> list[InboxRow]:
    ids = [row["id"] for row in rows]
    lines: dict[int, list[POLine]] = {}
    waiting: dict[int, list[str]] = {}
    if ids:
        for line in (
            await L.select().where(L.po.is_in(ids)).order_by(L.po).order_by(L.line_no).run()
        ):
            lines.setdefault(line["po"], []).append(po_line_from_row(line))
        for cr in (
            await CR.select(CR.po, CR.number)
            .where(
                CR.po.is_in(ids)
                & (CR.status == CRStatus.OPEN.value)
                & (CR.opened_by == Side.INTERNAL.value)
            )
            .order_by(CR.id)
            .run()
        ):
            waiting.setdefault(cr["po"], []).append(cr["number"])
    return [_row(row, lines.get(row["id"], []), waiting.get(row["id"], []), today) for row in rows]


def _row(row: dict[str, Any], lines: list[POLine], waiting: list[str], today: date) -> InboxRow:
    status = POStatus(row["status"])
    active = status in ACTIVE_STATUSES
    shown = [
        InboxLine(
            line_no=line.line_no,
            item=line.item,
            description=line.description,
            quantity=line.quantity,
            unit=line.unit,
            need_date=line.need_date,
            promise=[DeliveryRow(r.quantity, r.date) for r in line.promise.rows]
            if line.promise
            else [],
            promised_date=line.promised_date,
            shipped_qty=line.shipped_qty,
            left_to_ship=left_to_ship(line),
            late=line.late and active,
            at_risk=active and at_risk(line, today),
            action=past_promise(line, today) if active else None,
        )
        for line in lines
        if not line.cancelled
    ]
    actions: list[Action] = []
    if status == POStatus.ISSUED:
        actions.append(Action.ACKNOWLEDGE)
    if waiting:
        actions.append(Action.ANSWER_CHANGE_REQUEST)
    for action in (Action.PROMISE_IN_PAST, Action.UNSHIPPED_PAST_PROMISE):
        if any(line.action == action for line in shown):
            actions.append(action)
    return InboxRow(
        number=row["number"],
        supplier=row["supplier"],
        supplier_name=row["supplier_name"] or row["supplier"],
        status=display_status(status, lines),
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        lines=shown,
        actions=actions,
        change_requests_waiting=waiting,
    )
