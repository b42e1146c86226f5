"""An acknowledgement line by line: which answers are plain acceptances (with the deliveries
promised), which become changes for the buyer, and which are refused; and an acceptance with
changes keeps the promises given for the lines it does not change."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

import pytest
from domain_builders import BUYER, SUPPLIER, D, open_cr, po_in, schedule

from portal.domain.answers import Answered, LineAnswer, LineAnswerKind, answers_to_changes
from portal.domain.changes import ChangeKind, LineChange, approve
from portal.domain.errors import DomainError, NotFound
from portal.domain.events import EventKind
from portal.domain.schedule import Schedule
from portal.domain.states import POStatus

ACCEPT, REJECT, CHANGE = LineAnswerKind.ACCEPT, LineAnswerKind.REJECT, LineAnswerKind.CHANGE
DEC_10, DEC_15, DEC_20 = date(2026, 12, 10), date(2026, 12, 15), date(2026, 12, 20)
JAN_8 = date(2027, 1, 8)


def answer(*answers: LineAnswer) -> Answered:
    po = po_in(POStatus.ISSUED)  # line 1: 500 needed 15 Dec; line 2: 200 needed 20 Dec
    before = copy.deepcopy(po)
    answered = answers_to_changes(po, answers)
    assert po == before, "working out the answers changes nothing"
    return answered


def test_no_answers_accept_everything_as_ordered() -> None:
    assert answer() == Answered({}, ())
    assert answer(LineAnswer(1, ACCEPT), LineAnswer(2, ACCEPT)) == Answered({}, ())


def test_a_split_by_the_need_date_for_the_full_quantity_is_a_plain_acceptance() -> None:
    split = schedule((300, DEC_10), (200, DEC_15))
    assert answer(LineAnswer(1, ACCEPT, split)) == Answered({1: split}, ())
    # Called a change, it is still the order as written.
    assert answer(LineAnswer(1, CHANGE, split, D(500))) == Answered({1: split}, ())


def test_an_accepted_line_promised_after_its_need_date_is_a_date_change() -> None:
    later = schedule((500, JAN_8))
    assert answer(LineAnswer(1, ACCEPT, later)) == Answered(
        {}, (LineChange(1, ChangeKind.DATE, schedule=later),)
    )


def test_a_rejected_line_is_a_cancellation() -> None:
    assert answer(LineAnswer(2, REJECT)) == Answered({}, (LineChange(2, ChangeKind.CANCEL),))


def test_a_new_quantity_alone_is_a_quantity_change() -> None:
    assert answer(LineAnswer(1, CHANGE, quantity=D(450))) == Answered(
        {}, (LineChange(1, ChangeKind.QUANTITY, quantity=D(450)),)
    )


def test_a_schedule_for_another_quantity_changes_both() -> None:
    split = schedule((300, DEC_10), (100, JAN_8))
    expected = Answered(
        {},
        (
            LineChange(1, ChangeKind.QUANTITY, quantity=D(400)),
            LineChange(1, ChangeKind.DATE, schedule=split),
        ),
    )
    assert answer(LineAnswer(1, CHANGE, split)) == expected
    assert answer(LineAnswer(1, CHANGE, split, D(400))) == expected


def test_answers_mix_into_promises_and_one_set_of_changes() -> None:
    split = schedule((100, DEC_10), (100, DEC_20))
    answered = answer(LineAnswer(1, CHANGE, schedule((500, JAN_8))), LineAnswer(2, ACCEPT, split))
    assert answered == Answered(
        {2: split}, (LineChange(1, ChangeKind.DATE, schedule=schedule((500, JAN_8))),)
    )


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ((LineAnswer(1, ACCEPT), LineAnswer(1, REJECT)), "Line 1 is answered twice."),
        (
            (LineAnswer(1, REJECT, quantity=D(5)),),
            "Line 1 is rejected; it takes no quantity or delivery schedule.",
        ),
        (
            (LineAnswer(1, CHANGE),),
            "A change to line 1 needs a new quantity or delivery schedule.",
        ),
        (
            (LineAnswer(1, CHANGE, quantity=D(0)),),
            "Quantity on line 1 must be more than zero; to drop the line, reject it.",
        ),
        (
            (LineAnswer(1, CHANGE, quantity=D(-3)),),
            "Quantity on line 1 must be more than zero; to drop the line, reject it.",
        ),
        (
            (LineAnswer(1, CHANGE, schedule((300, DEC_10)), D(400)),),
            "Line 1: the delivery schedule adds up to 300, not the 400 proposed.",
        ),
        (
            (LineAnswer(1, ACCEPT, schedule((300, DEC_10))),),
            "Accepting line 1 means its full quantity (500); to propose 300, answer with a change.",
        ),
        (
            (LineAnswer(1, ACCEPT, quantity=D(499)),),
            "Accepting line 1 means its full quantity (500); to propose 499, answer with a change.",
        ),
    ],
)
def test_answers_that_cannot_be_taken(answers: tuple[LineAnswer, ...], message: str) -> None:
    with pytest.raises(DomainError) as refused:
        answer(*answers)
    assert refused.value.message == message


def test_an_answer_for_a_line_the_order_does_not_have_is_not_found() -> None:
    with pytest.raises(NotFound, match="Purchase order PO-1001 has no line 3"):
        answer(LineAnswer(3, ACCEPT))


def test_an_answer_for_a_cancelled_line_is_refused() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    approve(po, open_cr(po, BUYER, LineChange(2, ChangeKind.CANCEL)), SUPPLIER)
    with pytest.raises(DomainError, match="Line 2 of purchase order PO-1001 is cancelled"):
        answers_to_changes(po, (LineAnswer(2, ACCEPT),))


# Accepting with changes -------------------------------------------------------------------


def test_accepting_with_changes_keeps_the_promises_of_the_unchanged_lines() -> None:
    po = po_in(POStatus.ISSUED)
    split = schedule((100, DEC_10), (100, DEC_20))
    po.accept_with_changes(SUPPLIER, {1}, {2: split})
    assert po.status == POStatus.CHANGES_PROPOSED
    assert (po.line(1).promise, po.line(2).promise, po.line(2).first_promise) == (
        None,
        split,
        split,
    )
    event = po.events[-1]
    assert event.kind == EventKind.PO_ACKNOWLEDGED
    assert event.data["lines"] == [{"line_no": 2, "promise": split.to_data()}]
    assert event.data["changed_lines"] == [1]


@pytest.mark.parametrize(
    ("promises", "message"),
    [
        ({1: schedule((500, DEC_10))}, "Line 1 is changed; its delivery schedule belongs"),
        ({2: schedule((200, JAN_8))}, "Line 2 is needed by 2026-12-20; to promise 2027-01-08"),
        ({2: schedule((150, DEC_10))}, r"Accepting line 2 means promising its full quantity"),
    ],
)
def test_accepting_with_changes_refuses_promises_that_change_the_order(
    promises: dict[int, Schedule], message: str
) -> None:
    po = po_in(POStatus.ISSUED)
    before = copy.deepcopy(po)
    with pytest.raises(DomainError, match=message):
        po.accept_with_changes(SUPPLIER, {1}, promises)
    assert po == before


def test_the_buyer_agreeing_promises_the_changed_lines_and_keeps_the_others() -> None:
    po = po_in(POStatus.ISSUED)
    split = schedule((100, DEC_10), (100, DEC_20))
    po.accept_with_changes(SUPPLIER, {1}, {2: split})
    cr = open_cr(
        po,
        SUPPLIER,
        LineChange(1, ChangeKind.QUANTITY, quantity=Decimal(450)),
        from_acknowledgement=True,
    )
    approve(po, cr, BUYER)
    assert po.status == POStatus.ACKNOWLEDGED
    assert po.line(1).promise == schedule((450, DEC_15))
    assert po.line(2).promise == split
