"""What a change request would do to our customers: the expected date of every sales line
linked to a line it changes, before and after, and whether that date passes the date the
customer asked for. Also what makes a request "low impact", so a buyer may approve several at
once without reading each one.

Pure: the caller reads the purchase order's lines and the linked sales lines; nothing here
touches storage. The dates are derived exactly as an approval would derive them (see
`changes._apply` and `SalesOrder.follow`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from portal.domain.changes import ChangeKind, LineChange
from portal.domain.orders import POLine, expected_date
from portal.domain.schedule import Schedule

NOT_LOW_IMPACT_KINDS = frozenset({ChangeKind.CANCEL, ChangeKind.PRICE, ChangeKind.ITEM})
"""Changes a buyer must always read on their own: they change what we pay or receive."""


@dataclass(frozen=True, slots=True)
class LinkedLine:
    """An open customer's sales line that follows a line of the purchase order."""

    so_number: str
    customer: str
    customer_name: str
    line_no: int
    po_line_no: int
    quantity: Decimal
    requested_date: date
    expected_date: date
    handling_days: int


@dataclass(frozen=True, slots=True)
class CustomerEffect:
    """One linked customer line, as the change request would leave it."""

    so_number: str
    customer: str
    customer_name: str
    line_no: int
    po_line_no: int
    requested_date: date
    expected_before: date
    expected_after: date
    cancelled: bool
    """The purchase order line it follows would be cancelled: the goods will not come."""

    @property
    def days(self) -> int:
        """How many days later (positive) or earlier (negative) the customer gets it."""
        return (self.expected_after - self.expected_before).days

    @property
    def late_after(self) -> bool:
        return self.cancelled or self.expected_after > self.requested_date

    @property
    def pushed_past_requested(self) -> bool:
        """The change makes the line late for the customer (or later still, if it was)."""
        return self.cancelled or (self.late_after and self.days > 0)


def changed_line(line: POLine, changes: Iterable[LineChange]) -> POLine:
    """A copy of `line` with the request's changes for it applied as an approval applies them:
    a new quantity without a new date keeps the promise, resized, on its last date."""
    mine = [change for change in changes if change.line_no == line.line_no]
    after = replace(line)
    dated = any(change.kind == ChangeKind.DATE for change in mine)
    for change in mine:
        if change.kind == ChangeKind.QUANTITY and change.quantity is not None:
            after.quantity = change.quantity
            if not dated and after.promise is not None and after.left_to_ship > 0:
                after.promise = Schedule.single(after.left_to_ship, after.promise.last_date)
        elif change.kind == ChangeKind.DATE and change.schedule is not None:
            after.promise = change.schedule
        elif change.kind == ChangeKind.CANCEL:
            after.cancelled = True
        elif change.kind == ChangeKind.ITEM and change.item is not None:
            after.item = change.item.strip()
        elif change.kind == ChangeKind.PRICE and change.unit_price is not None:
            after.unit_price = change.unit_price
    return after


def customer_effects(
    po_lines: Mapping[int, POLine],
    changes: Sequence[LineChange],
    linked: Iterable[LinkedLine],
) -> list[CustomerEffect]:
    """Every linked line of a line the request changes, with its expected date after it."""
    touched = {change.line_no for change in changes}
    after = {
        line_no: changed_line(line, changes)
        for line_no, line in po_lines.items()
        if line_no in touched
    }
    effects = []
    for link in linked:
        po_line = after.get(link.po_line_no)
        if po_line is None:
            continue
        effects.append(
            CustomerEffect(
                so_number=link.so_number,
                customer=link.customer,
                customer_name=link.customer_name,
                line_no=link.line_no,
                po_line_no=link.po_line_no,
                requested_date=link.requested_date,
                expected_before=link.expected_date,
                expected_after=expected_date(po_line, link.quantity, link.handling_days),
                cancelled=po_line.cancelled,
            )
        )
    return sorted(effects, key=lambda e: (e.so_number, e.line_no))


def not_low_impact(changes: Sequence[LineChange], effects: Iterable[CustomerEffect]) -> list[str]:
    """Why a request may not be approved together with others (empty when it may): it cancels
    a line, changes a price or an item, or pushes a customer's line past its requested date."""
    why = sorted({change.kind.value for change in changes if change.kind in NOT_LOW_IMPACT_KINDS})
    if any(effect.pushed_past_requested for effect in effects):
        why.append("customer_late")
    return why


def is_low_impact(changes: Sequence[LineChange], effects: Iterable[CustomerEffect]) -> bool:
    return not not_low_impact(changes, effects)
