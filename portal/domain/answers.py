"""A supplier's acknowledgement line by line: accept, reject, or change each line.

The answers come down to the promises of the lines accepted as ordered and the changes the
buyer must agree to; `answers_to_changes` is the one place that decides which is which.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from portal.domain.changes import ChangeKind, LineChange
from portal.domain.errors import DomainError
from portal.domain.orders import POLine, PurchaseOrder
from portal.domain.schedule import Schedule


class LineAnswerKind(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    CHANGE = "change"


@dataclass(frozen=True, slots=True)
class LineAnswer:
    """One line's answer. Accept may carry the deliveries the supplier promises; change
    carries a new quantity and/or delivery schedule; reject carries neither."""

    line_no: int
    answer: LineAnswerKind
    schedule: Schedule | None = None
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Answered:
    promises: dict[int, Schedule]
    """Lines accepted as ordered, with the deliveries promised for them."""
    changes: tuple[LineChange, ...]
    """What differs from the order: one change request for the buyer."""


def answers_to_changes(po: PurchaseOrder, answers: tuple[LineAnswer, ...]) -> Answered:
    """Lines not answered are accepted as ordered. A schedule that brings a line's full
    quantity by its need date is a plain acceptance with that promise, whatever the answer
    was called; everything else that differs from the order is a change."""
    seen: set[int] = set()
    promises: dict[int, Schedule] = {}
    changes: list[LineChange] = []
    for answer in answers:
        if answer.line_no in seen:
            raise DomainError("Line {line_no} is answered twice.", line_no=answer.line_no)
        seen.add(answer.line_no)
        line = po.open_line(answer.line_no)
        if answer.answer == LineAnswerKind.REJECT:
            if answer.schedule is not None or answer.quantity is not None:
                raise DomainError(
                    "Line {line_no} is rejected; it takes no quantity or delivery schedule.",
                    line_no=line.line_no,
                )
            changes.append(LineChange(line.line_no, ChangeKind.CANCEL))
            continue
        quantity = _quantity(line, answer)
        if quantity != line.quantity:
            changes.append(LineChange(line.line_no, ChangeKind.QUANTITY, quantity=quantity))
            if answer.schedule is not None:
                changes.append(LineChange(line.line_no, ChangeKind.DATE, schedule=answer.schedule))
        elif answer.schedule is not None and answer.schedule.last_date > line.need_date:
            changes.append(LineChange(line.line_no, ChangeKind.DATE, schedule=answer.schedule))
        elif answer.schedule is not None:
            promises[line.line_no] = answer.schedule
    return Answered(promises, tuple(changes))


def _quantity(line: POLine, answer: LineAnswer) -> Decimal:
    """The quantity the answer commits to: the one given, else what its schedule adds up to,
    else the line's own."""
    if answer.quantity is not None and answer.quantity <= 0:
        raise DomainError(
            "Quantity on line {line_no} must be more than zero; to drop the line, reject it.",
            line_no=line.line_no,
        )
    if (
        answer.answer == LineAnswerKind.CHANGE
        and answer.quantity is None
        and answer.schedule is None
    ):
        raise DomainError(
            "A change to line {line_no} needs a new quantity or delivery schedule.",
            line_no=line.line_no,
        )
    schedule = answer.schedule
    quantity = answer.quantity
    if quantity is None:
        quantity = schedule.total if schedule is not None else line.quantity
    elif schedule is not None and schedule.total != quantity:
        raise DomainError(
            "Line {line_no}: the delivery schedule adds up to {total}, not the "
            "{quantity} proposed.",
            line_no=line.line_no,
            total=schedule.total,
            quantity=quantity,
        )
    if answer.answer == LineAnswerKind.ACCEPT and quantity != line.quantity:
        raise DomainError(
            "Accepting line {line_no} means its full quantity ({quantity}); to "
            "propose {proposed}, answer with a change.",
            line_no=line.line_no,
            quantity=line.quantity,
            proposed=quantity,
        )
    return quantity
