"""What the API's request bodies must satisfy beyond their schema, and the domain values they
become.

The schema (msgspec) already refused wrong types and unknown fields. Here each body is held
against the order it names: lines that exist, each named once, quantities above zero,
promises not in the past, known reason codes. Every mistake is collected with the field it is
in, so one answer names them all; nothing is sent to a service until the body is sound.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from portal.db.po_detail import PODetail
from portal.domain.answers import LineAnswer, LineAnswerKind
from portal.domain.changes import ChangeKind, LineChange
from portal.domain.schedule import DeliveryRow, Schedule
from portal.domain.shipments import Shipment, ShipmentLine
from portal.supplier import schemas
from portal.web.api import Checks

NEEDS = {"quantity": "quantity", "date": "schedule", "price": "unit_price", "item": "item"}
"""The field each kind of change needs."""


def known_lines(detail: PODetail) -> set[int]:
    return {line.line_no for line in detail.lines}


def _line(checks: Checks, line_no: int, po_number: str | None = None) -> str:
    """A line as a message names it."""
    if po_number is None:
        return checks._("line %(line_no)s") % {"line_no": line_no}
    return checks._("%(number)s line %(line_no)s") % {"number": po_number, "line_no": line_no}


def check_schedule(checks: Checks, where: str, rows: Sequence[schemas.DeliveryRow] | None) -> None:
    if rows is None:
        return
    checks.required(f"{where}schedule", bool(rows))
    dates: set[date] = set()
    for index, row in enumerate(rows):
        field = f"{where}schedule[{index}]"
        checks.quantity(f"{field}.quantity", row.quantity)
        checks.not_past(f"{field}.date", row.date)
        checks.once(f"{field}.date", row.date.isoformat(), dates, row.date)


def schedule(rows: Sequence[schemas.DeliveryRow]) -> Schedule:
    return Schedule(tuple(DeliveryRow(row.quantity, row.date) for row in rows))


def check_promise(
    checks: Checks,
    where: str,
    rows: Sequence[schemas.DeliveryRow] | None,
    on: date | None,
    quantity: Decimal | None,
) -> None:
    """A new promise: a schedule, or one date (and maybe its quantity)."""
    checks.exactly_one(
        f"{where}schedule", ("schedule", "date"), (rows is not None) + (on is not None)
    )
    check_schedule(checks, where, rows)
    checks.not_past(f"{where}date", on)
    checks.quantity(f"{where}quantity", quantity)
    if rows is not None and quantity is not None:
        checks.fail(f"{where}quantity", checks._("a schedule says its quantities itself."))


def promise(
    detail: PODetail,
    line_no: int,
    rows: Sequence[schemas.DeliveryRow] | None,
    on: date | None,
    quantity: Decimal | None,
) -> Schedule:
    """The schedule a checked promise asks for; one date moves what is still to ship."""
    if rows is not None:
        return schedule(rows)
    assert on is not None
    if quantity is None:
        line = next(line for line in detail.lines if line.line_no == line_no)
        quantity = line.quantity - line.shipped_qty + line.rejected_qty
    return Schedule.single(quantity, on)


def check_acknowledgement(checks: Checks, data: schemas.Acknowledgement, detail: PODetail) -> None:
    checks.reason_code("reason_code", data.reason_code)
    if data.decision == "reject":
        checks.required("reason", bool(data.reason.strip()))
    if data.decision == "per_line":
        checks.required("lines", bool(data.lines))
    elif data.lines:
        checks.fail("lines", checks._("lines are answered only with decision per_line."))
    seen: set[int] = set()
    for index, answer in enumerate(data.lines):
        where = f"lines[{index}]."
        checks.line(f"{where}line_no", detail.number, answer.line_no, known_lines(detail))
        checks.once(f"{where}line_no", _line(checks, answer.line_no), seen, answer.line_no)
        if answer.answer == "change":
            changed = answer.schedule is not None or answer.quantity is not None
            checks.required(f"{where}schedule", changed)
        check_schedule(checks, where, answer.schedule)
        checks.quantity(f"{where}quantity", answer.quantity)


def line_answers(data: schemas.Acknowledgement) -> tuple[LineAnswer, ...]:
    return tuple(
        LineAnswer(
            answer.line_no,
            LineAnswerKind(answer.answer),
            schedule(answer.schedule) if answer.schedule else None,
            answer.quantity,
        )
        for answer in data.lines
    )


def check_updates(
    checks: Checks, updates: list[schemas.PromiseUpdate], details: dict[str, PODetail]
) -> None:
    checks.required("updates", bool(updates))
    seen: set[tuple[str, int]] = set()
    for index, update in enumerate(updates):
        where = f"updates[{index}]."
        lines = known_lines(details[update.po_number])
        checks.line(f"{where}line_no", update.po_number, update.line_no, lines)
        named = (update.po_number, update.line_no)
        checks.once(f"{where}line_no", _line(checks, update.line_no, update.po_number), seen, named)
        check_promise(checks, where, update.schedule, update.date, update.quantity)
        checks.reason_code(f"{where}reason_code", update.reason_code)


def check_shift(checks: Checks, data: schemas.PromiseUpdates, details: dict[str, PODetail]) -> None:
    checks.required("po_numbers", bool(data.po_numbers))
    checks.required("reason_code", data.reason_code is not None)
    checks.reason_code("reason_code", data.reason_code)
    if data.shift_days == 0:
        checks.fail("shift_days", checks._("move promises by at least one day."))
    seen: set[tuple[str, int]] = set()
    for index, line in enumerate(data.lines or ()):
        where = f"lines[{index}]."
        if line.po_number not in details:
            checks.fail(f"{where}po_number", checks._("this order is not in po_numbers."))
            continue
        lines = known_lines(details[line.po_number])
        checks.line(f"{where}line_no", line.po_number, line.line_no, lines)
        named = (line.po_number, line.line_no)
        checks.once(f"{where}line_no", _line(checks, line.line_no, line.po_number), seen, named)


def check_changes(
    checks: Checks, where: str, proposed: list[schemas.ChangeProposal], detail: PODetail
) -> None:
    checks.required(f"{where}changes", bool(proposed))
    for index, change in enumerate(proposed):
        field = f"{where}changes[{index}]."
        checks.line(f"{field}line_no", detail.number, change.line_no, known_lines(detail))
        if change.kind in NEEDS:
            name = NEEDS[change.kind]
            checks.required(f"{field}{name}", getattr(change, name) is not None)
        checks.quantity(f"{field}quantity", change.quantity)
        checks.price(f"{field}unit_price", change.unit_price)
        check_schedule(checks, field, change.schedule)


def line_changes(proposed: list[schemas.ChangeProposal]) -> tuple[LineChange, ...]:
    return tuple(
        LineChange(
            change.line_no,
            ChangeKind(change.kind),
            quantity=change.quantity,
            schedule=schedule(change.schedule) if change.schedule else None,
            unit_price=change.unit_price,
            item=change.item,
        )
        for change in proposed
    )


def check_shipment(checks: Checks, lines: list[schemas.ShipmentLine], detail: PODetail) -> None:
    checks.required("lines", bool(lines))
    seen: set[int] = set()
    for index, line in enumerate(lines):
        where = f"lines[{index}]."
        checks.line(f"{where}line_no", detail.number, line.line_no, known_lines(detail))
        checks.once(f"{where}line_no", _line(checks, line.line_no), seen, line.line_no)
        checks.quantity(f"{where}quantity", line.quantity)


def shipment(number: str, data: schemas.NewShipment | schemas.ShipmentCorrection) -> Shipment:
    """`number` empty: the portal numbers it."""
    return Shipment(
        number=number,
        ship_date=data.ship_date,
        carrier=data.carrier.strip(),
        tracking_no=data.tracking_no.strip(),
        expected_arrival=data.expected_arrival,
        lines=tuple(ShipmentLine(line.line_no, line.quantity) for line in data.lines),
    )
