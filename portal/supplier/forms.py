"""The supplier's forms, read into service commands.

Forms post plain fields (they work without JavaScript), so everything arrives as text: this
module checks it and says what is wrong before any command runs, so a bad form changes
nothing. A `FormError` names the problem by a code and its details; the page says it in the
reader's language (templates/supplier/_form_error.html holds the words).

Field names: `version` (the version of the order, or of the change request, the form was
rendered from), `reason_code`, `comment`; per line N: `answer-N`, `quantity-N`, delivery rows
`rows-N-qty` / `rows-N-date` (repeated, one pair per row); proposed changes `cr-N-quantity`,
`cr-N-date`, `cr-N-price`, `cr-N-item`, `cr-N-cancel`; shipped quantities `ship-N`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from portal.domain.answers import LineAnswer, LineAnswerKind
from portal.domain.changes import ChangeKind, LineChange
from portal.domain.orders import reason_codes
from portal.domain.schedule import DeliveryRow, Schedule
from portal.domain.shipments import Shipment, ShipmentLine
from portal.services.acknowledgements import Acknowledge, AcknowledgeLines, Decision
from portal.services.change_requests import DecideChangeRequest, OpenChangeRequest, Verdict
from portal.services.fulfilment import CancelShipment, CorrectShipment, PostShipment
from portal.services.promises import PromiseUpdate, ShiftPromises, UpdatePromise, UpdatePromises

MAX_ROWS = 3
"""Delivery rows a form offers per line: enough to split a line without JavaScript."""
MAX_TEXT = 2000
"""The longest comment or reason kept; a longer one is refused rather than cut."""


class FormError(Exception):
    """What is wrong with a form, as a code and its details (`line_no`, `value`...)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params


class Fields:
    """A posted form: every value of every field, in the order sent."""

    def __init__(self, pairs: Iterable[tuple[str, Any]]) -> None:
        self.values: dict[str, list[str]] = {}
        for name, value in pairs:
            # A file where text is expected counts as an empty field.
            self.values.setdefault(name, []).append(value if isinstance(value, str) else "")

    def text(self, name: str) -> str:
        found = self.values.get(name)
        return found[-1].strip() if found else ""

    def all(self, name: str) -> list[str]:
        return [value.strip() for value in self.values.get(name, [])]


@dataclass(frozen=True, slots=True)
class LineFacts:
    """What a form needs to know of a line of the order."""

    line_no: int
    quantity: Decimal
    net_shipped: Decimal
    open: bool
    """Not cancelled: the line still takes answers, promises and changes."""


LINE_FIELD = re.compile(r"^(?:answer|quantity|rows|cr|ship)-(\d+)(?:-|$)")


def known_lines(fields: Fields, lines: Sequence[LineFacts]) -> None:
    """Refuse a form that speaks of a line the order does not have (or has cancelled)."""
    open_lines = {line.line_no for line in lines if line.open}
    for name, values in fields.values.items():
        match = LINE_FIELD.match(name)
        if match and int(match[1]) not in open_lines and any(value.strip() for value in values):
            raise FormError("unknown_line", line_no=int(match[1]))


def _require_open(lines: Sequence[LineFacts], line_no: int) -> None:
    if not any(line.line_no == line_no and line.open for line in lines):
        raise FormError("unknown_line", line_no=line_no)


# --- values ----------------------------------------------------------------------------------


def version(fields: Fields) -> int:
    text = fields.text("version")
    if not text.isdigit():
        raise FormError("version")
    return int(text)


def day(text: str, *, line_no: int | None = None, today: date | None = None) -> date:
    """A date as the browser's date input sends it (YYYY-MM-DD); not before `today` if given."""
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise FormError("date", value=text, line_no=line_no) from None
    if today is not None and value < today:
        raise FormError("date_past", value=value, line_no=line_no)
    return value


def quantity(text: str, *, line_no: int | None = None) -> Decimal:
    """A quantity more than zero."""
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise FormError("quantity", value=text, line_no=line_no) from None
    if not value.is_finite() or value <= 0:
        raise FormError("quantity", value=text, line_no=line_no)
    return value


def price(text: str, *, line_no: int) -> Decimal:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise FormError("price", value=text, line_no=line_no) from None
    if not value.is_finite() or value < 0:
        raise FormError("price", value=text, line_no=line_no)
    return value


def reason_code(fields: Fields) -> str:
    code = fields.text("reason_code")
    if code not in reason_codes():
        raise FormError("reason_code")
    return code


def free_text(fields: Fields, name: str, *, required: str | None = None) -> str:
    """A comment or reason; `required` is the error code when it must not be empty."""
    text = fields.text(name)
    if required and not text:
        raise FormError(required)
    if len(text) > MAX_TEXT:
        raise FormError("too_long", limit=MAX_TEXT)
    return text


def schedule(fields: Fields, line_no: int, today: date) -> Schedule | None:
    """The delivery rows given for line `line_no` (None when every row is empty)."""
    quantities = fields.all(f"rows-{line_no}-qty")
    dates = fields.all(f"rows-{line_no}-date")
    rows = []
    for index in range(max(len(quantities), len(dates))):
        qty = quantities[index] if index < len(quantities) else ""
        on = dates[index] if index < len(dates) else ""
        if not qty and not on:
            continue
        if not qty or not on:
            raise FormError("row_incomplete", line_no=line_no)
        rows.append(
            DeliveryRow(quantity(qty, line_no=line_no), day(on, line_no=line_no, today=today))
        )
    if not rows:
        return None
    if len({row.date for row in rows}) != len(rows):
        raise FormError("row_same_date", line_no=line_no)
    return Schedule(tuple(rows))


# --- acknowledgement -------------------------------------------------------------------------


def acknowledgement(
    fields: Fields, number: str, lines: Sequence[LineFacts], today: date
) -> Acknowledge | AcknowledgeLines:
    """`decision`: accept (every line as ordered), reject (with a reason) or lines (an answer
    per line)."""
    seen = version(fields)
    decision = fields.text("decision")
    if decision == "accept":
        return Acknowledge(number, seen, Decision.ACCEPT)
    if decision == "reject":
        return Acknowledge(
            number, seen, Decision.REJECT, reason=free_text(fields, "reason", required="reason")
        )
    if decision != "lines":
        raise FormError("decision")
    known_lines(fields, lines)
    answers = []
    for line in lines:
        if not line.open:
            continue
        kind = fields.text(f"answer-{line.line_no}") or LineAnswerKind.ACCEPT.value
        if kind not in LineAnswerKind.__members__.values():
            raise FormError("answer", line_no=line.line_no)
        given = fields.text(f"quantity-{line.line_no}")
        rows = schedule(fields, line.line_no, today)
        answer = LineAnswerKind(kind)
        if answer == LineAnswerKind.REJECT:
            answers.append(LineAnswer(line.line_no, answer))
            continue
        new_quantity = quantity(given, line_no=line.line_no) if given else None
        if answer == LineAnswerKind.CHANGE and new_quantity is None and rows is None:
            raise FormError("change_needs_value", line_no=line.line_no)
        answers.append(LineAnswer(line.line_no, answer, schedule=rows, quantity=new_quantity))
    differs = any(answer.answer != LineAnswerKind.ACCEPT for answer in answers)
    return AcknowledgeLines(
        number,
        seen,
        tuple(answers),
        # A reason explains a difference; accepting every line needs none.
        reason_code=reason_code(fields) if differs else "other",
        comment=free_text(fields, "comment"),
    )


# --- promises --------------------------------------------------------------------------------


def promise(
    fields: Fields, number: str, line_no: int, lines: Sequence[LineFacts], today: date
) -> UpdatePromise:
    _require_open(lines, line_no)
    seen = version(fields)
    rows = schedule(fields, line_no, today)
    if rows is None:
        raise FormError("no_rows", line_no=line_no)
    return UpdatePromise(
        number, seen, line_no, rows, reason_code(fields), free_text(fields, "comment")
    )


@dataclass(frozen=True, slots=True)
class Selection:
    """What the inbox's bulk form picked: whole orders, and single lines."""

    versions: dict[str, int]
    orders: tuple[str, ...]
    lines: tuple[tuple[str, int], ...]


def selection(fields: Fields) -> Selection:
    """`po` (repeated): whole orders; `line` (repeated, "PO number:line number"): single
    lines; `version-<PO number>`: the version each order was listed at."""
    orders = tuple(dict.fromkeys(value for value in fields.all("po") if value))
    lines: list[tuple[str, int]] = []
    for value in fields.all("line"):
        number, _, line_no = value.rpartition(":")
        if not number or not line_no.isdigit():
            raise FormError("selection")
        lines.append((number, int(line_no)))
    if not orders and not lines:
        raise FormError("nothing_selected")
    versions = {}
    for number in dict.fromkeys([*orders, *(number for number, _ in lines)]):
        text = fields.text(f"version-{number}")
        if not text.isdigit():
            raise FormError("version")
        versions[number] = int(text)
    return Selection(versions, orders, tuple(dict.fromkeys(lines)))


def shift(fields: Fields, picked: Selection, still_to_come: dict[str, list[int]]) -> ShiftPromises:
    """Move the picked promises by `days`. Whole orders picked next to single lines stand for
    their lines with a promise still to come (`still_to_come`, by order)."""
    text = fields.text("days")
    try:
        days = int(text)
    except ValueError:
        raise FormError("days", value=text) from None
    if days == 0 or abs(days) > 365:
        raise FormError("days", value=text)
    lines: tuple[tuple[str, int], ...] = ()
    if picked.lines:
        whole = [(number, line_no) for number in picked.orders for line_no in still_to_come[number]]
        lines = tuple(dict.fromkeys([*picked.lines, *whole]))
    return ShiftPromises(
        picked.versions, days, reason_code(fields), free_text(fields, "comment"), lines
    )


def set_date(
    fields: Fields, picked: Selection, to_come: dict[tuple[str, int], Decimal], today: date
) -> UpdatePromises:
    """Promise every picked line still to ship (`to_come`: what is left of each line's promise
    or, without one, of the line) for one new date. Whole orders stand for their lines."""
    on = day(fields.text("date"), today=today)
    wanted = set(picked.lines) | {key for key in to_come if key[0] in picked.orders}
    for key in picked.lines:
        if key not in to_come:
            raise FormError("unknown_line", line_no=key[1], number=key[0])
    code, comment = reason_code(fields), free_text(fields, "comment")
    updates = tuple(
        PromiseUpdate(number, line_no, Schedule.single(to_come[number, line_no], on), code, comment)
        for number, line_no in sorted(wanted)
    )
    if not updates:
        raise FormError("nothing_selected")
    return UpdatePromises(updates, picked.versions)


# --- change requests -------------------------------------------------------------------------


def changes(fields: Fields, lines: Sequence[LineFacts], today: date) -> tuple[LineChange, ...]:
    """The per-line changes filled in: any of a new quantity, delivery date, unit price or
    item, or cancel. A new date moves what is left of the line (at its new quantity)."""
    known_lines(fields, lines)
    found: list[LineChange] = []
    for line in lines:
        if not line.open:
            continue
        n = line.line_no
        if fields.text(f"cr-{n}-cancel"):
            found.append(LineChange(n, ChangeKind.CANCEL))
            continue
        new_quantity = fields.text(f"cr-{n}-quantity")
        if new_quantity:
            found.append(
                LineChange(n, ChangeKind.QUANTITY, quantity=quantity(new_quantity, line_no=n))
            )
        new_date = fields.text(f"cr-{n}-date")
        if new_date:
            ordered = quantity(new_quantity, line_no=n) if new_quantity else line.quantity
            left = ordered - line.net_shipped
            if left <= 0:
                raise FormError("nothing_left", line_no=n)
            on = day(new_date, line_no=n, today=today)
            found.append(LineChange(n, ChangeKind.DATE, schedule=Schedule.single(left, on)))
        new_price = fields.text(f"cr-{n}-price")
        if new_price:
            found.append(LineChange(n, ChangeKind.PRICE, unit_price=price(new_price, line_no=n)))
        new_item = fields.text(f"cr-{n}-item")
        if new_item:
            found.append(LineChange(n, ChangeKind.ITEM, item=new_item))
    if not found:
        raise FormError("no_changes")
    return tuple(found)


def change_request(
    fields: Fields, number: str, lines: Sequence[LineFacts], today: date
) -> OpenChangeRequest:
    seen = version(fields)
    proposed = changes(fields, lines, today)
    return OpenChangeRequest(
        number, seen, proposed, reason_code(fields), free_text(fields, "comment")
    )


def decision(
    fields: Fields, cr_number: str, lines: Sequence[LineFacts], today: date
) -> DecideChangeRequest:
    """`verdict`: approve, reject (with a reason), counter (with changes of its own and a
    reason code) or withdraw (one's own request)."""
    seen = version(fields)
    verdict_text = fields.text("verdict")
    if verdict_text not in Verdict.__members__.values():
        raise FormError("verdict")
    verdict = Verdict(verdict_text)
    if verdict == Verdict.REJECT:
        return DecideChangeRequest(
            cr_number, seen, verdict, free_text(fields, "comment", required="reject_reason")
        )
    if verdict == Verdict.COUNTER:
        return DecideChangeRequest(
            cr_number,
            seen,
            verdict,
            free_text(fields, "comment"),
            changes(fields, lines, today),
            reason_code(fields),
        )
    return DecideChangeRequest(cr_number, seen, verdict, free_text(fields, "comment"))


# --- shipments -------------------------------------------------------------------------------


def _shipment(fields: Fields, number: str, lines: Sequence[LineFacts]) -> Shipment:
    known_lines(fields, lines)
    shipped = []
    for line in lines:
        text = fields.text(f"ship-{line.line_no}")
        if line.open and text and text != "0":
            shipped.append(ShipmentLine(line.line_no, quantity(text, line_no=line.line_no)))
    if not shipped:
        raise FormError("no_shipment_lines")
    carrier = fields.text("carrier")
    if not carrier:
        raise FormError("carrier")
    ship_date = day(fields.text("ship_date"))
    arrival_text = fields.text("expected_arrival")
    arrival = day(arrival_text) if arrival_text else None
    if arrival is not None and arrival < ship_date:
        raise FormError("arrival_before_ship")
    return Shipment(number, ship_date, carrier, fields.text("tracking_no"), arrival, tuple(shipped))


def shipment(fields: Fields, number: str, lines: Sequence[LineFacts]) -> PostShipment:
    seen = version(fields)
    return PostShipment(number, seen, _shipment(fields, "", lines))


def correction(
    fields: Fields, number: str, shipment_number: str, lines: Sequence[LineFacts]
) -> CorrectShipment:
    seen = version(fields)
    corrected = _shipment(fields, shipment_number, lines)
    return CorrectShipment(
        number, seen, corrected, free_text(fields, "reason", required="shipment_reason")
    )


def cancellation(fields: Fields, number: str, shipment_number: str) -> CancelShipment:
    seen = version(fields)
    return CancelShipment(
        number, seen, shipment_number, free_text(fields, "reason", required="shipment_reason")
    )
