"""A supplier's new promise for a line: what the order takes at once, what needs the buyer (and
how the change request says it), and the schedule arithmetic behind both."""

from __future__ import annotations

from datetime import date

import pytest
from domain_builders import BUYER, NO_TOLERANCE, SUPPLIER, D, open_cr, po_in, schedule, shipment

from portal.domain.changes import (
    ChangeKind,
    LineChange,
    TolerancePolicy,
    approve,
    promise_changes,
    require_dates_from,
)
from portal.domain.errors import DomainError, NotFound
from portal.domain.states import CRStatus, POStatus

THREE_DAYS = TolerancePolicy(max_date_move_days=3)
OFF = TolerancePolicy()
DEC_10, DEC_15, DEC_18, DEC_19 = (date(2026, 12, d) for d in (10, 15, 18, 19))


# What the order takes at once -------------------------------------------------------------


@pytest.mark.parametrize("policy", [OFF, THREE_DAYS])
def test_everything_by_the_need_date_applies_at_once_whatever_the_tolerance(
    policy: TolerancePolicy,
) -> None:
    po = po_in(POStatus.ACKNOWLEDGED)  # line 1: 500 needed and promised on 15 Dec
    assert promise_changes(po, 1, schedule((300, DEC_10), (200, DEC_15)), policy) == ()
    assert promise_changes(po, 1, schedule((500, DEC_10)), policy) == ()


def test_a_later_promise_within_the_tolerance_applies_at_once() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    assert promise_changes(po, 1, schedule((500, DEC_18)), THREE_DAYS) == ()


def test_a_later_promise_beyond_the_tolerance_is_a_date_change() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    later = schedule((500, DEC_19))
    assert promise_changes(po, 1, later, THREE_DAYS) == (
        LineChange(1, ChangeKind.DATE, schedule=later),
    )
    assert promise_changes(po, 1, schedule((500, DEC_18)), OFF) == (
        LineChange(1, ChangeKind.DATE, schedule=schedule((500, DEC_18))),
    )


@pytest.mark.parametrize(("total", "quantity"), [(400, 400), (550, 550)])
def test_a_promise_for_more_or_less_than_is_left_is_a_quantity_change_too(
    total: int, quantity: int
) -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    new = schedule((total, DEC_10))  # by the need date, and still not the order as written
    assert promise_changes(po, 1, new, THREE_DAYS) == (
        LineChange(1, ChangeKind.QUANTITY, quantity=D(quantity)),
        LineChange(1, ChangeKind.DATE, schedule=new),
    )


def test_after_a_partial_shipment_the_quantity_counts_what_has_shipped() -> None:
    po = po_in(POStatus.IN_FULFILMENT)  # 100 of line 1's 500 shipped
    new = schedule((300, DEC_18))
    changes = promise_changes(po, 1, new, THREE_DAYS)
    assert changes == (
        LineChange(1, ChangeKind.QUANTITY, quantity=D(400)),
        LineChange(1, ChangeKind.DATE, schedule=new),
    )
    # Approved, the line is for what shipped plus what is now promised, on those dates.
    approve(po, open_cr(po, SUPPLIER, *changes), BUYER)
    line = po.line(1)
    assert (line.quantity, line.left_to_ship, line.promise) == (D(400), D(300), new)


def test_after_a_partial_shipment_the_move_is_measured_on_what_is_still_to_come() -> None:
    """500 promised on 15 Dec, 100 shipped: 400 are still to come on 15 Dec, and 400 on
    18 Dec moves them 3 days, within the tolerance."""
    po = po_in(POStatus.IN_FULFILMENT)
    assert po.line(1).promise_to_come == schedule((400, DEC_15))
    assert promise_changes(po, 1, schedule((400, DEC_18)), THREE_DAYS) == ()
    assert promise_changes(po, 1, schedule((400, DEC_19)), THREE_DAYS) != ()
    # The same date change as a request is approved without review for the same reason.
    cr = open_cr(
        po,
        SUPPLIER,
        LineChange(1, ChangeKind.DATE, schedule=schedule((400, DEC_18))),
        policy=THREE_DAYS,
    )
    assert (cr.status, cr.auto_approved) == (CRStatus.APPROVED, True)


def test_a_fully_shipped_line_keeps_its_promise() -> None:
    po = po_in(POStatus.SHIPPED)
    with pytest.raises(DomainError, match="Line 1 is fully shipped"):
        promise_changes(po, 1, schedule((10, DEC_18)), THREE_DAYS)


def test_a_line_the_order_does_not_have_is_not_found() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    with pytest.raises(NotFound, match="Purchase order PO-1001 has no line 7"):
        promise_changes(po, 7, schedule((10, DEC_18)), THREE_DAYS)


# Schedules --------------------------------------------------------------------------------


def test_what_is_still_to_come_takes_shipped_goods_off_the_earliest_rows() -> None:
    promise = schedule((300, date(2026, 12, 1)), (200, DEC_15))
    assert promise.still_to_come(D(500)) == promise
    assert promise.still_to_come(D(600)) == promise
    assert promise.still_to_come(D(350)) == schedule((150, date(2026, 12, 1)), (200, DEC_15))
    assert promise.still_to_come(D(200)) == schedule((200, DEC_15))
    assert promise.still_to_come(D("0.5")) == schedule(("0.5", DEC_15))
    assert promise.still_to_come(D(0)) is None


def test_nothing_left_to_ship_leaves_nothing_to_come() -> None:
    po = po_in(POStatus.SHIPPED)
    assert po.line(1).promise_to_come is None
    assert po_in(POStatus.ISSUED).line(1).promise_to_come is None  # nothing promised yet


def test_a_shifted_schedule_moves_every_row() -> None:
    promise = schedule((300, date(2026, 12, 30)), (200, date(2027, 1, 2)))
    assert promise.shifted(3) == schedule((300, date(2027, 1, 2)), (200, date(2027, 1, 5)))
    assert promise.shifted(-30) == schedule((300, date(2026, 11, 30)), (200, date(2026, 12, 3)))


def test_a_promise_for_a_day_gone_is_refused() -> None:
    promise = schedule((300, date(2026, 12, 1)), (200, DEC_15))
    promise.require_from(date(2026, 12, 1), 1)  # today is fine
    with pytest.raises(DomainError) as refused:
        promise.require_from(date(2026, 12, 2), 3)
    assert refused.value.message == (
        "Line 3: the delivery date 2026-12-01 is in the past; promise 2026-12-02 or later."
    )


@pytest.mark.parametrize("quantity", ["0", "-1"])
def test_a_promise_of_nothing_is_refused(quantity: str) -> None:
    with pytest.raises(DomainError, match="Promised quantity must be more than zero"):
        schedule((quantity, DEC_15))


def test_a_shipment_does_not_change_the_promise_itself() -> None:
    """The promise stays as agreed; only what is still to come of it shrinks."""
    po = po_in(POStatus.ACKNOWLEDGED)
    po.post_shipment(SUPPLIER, shipment((1, 200)), NO_TOLERANCE)
    line = po.line(1)
    assert line.promise == schedule((500, DEC_15))
    assert line.promise_to_come == schedule((300, DEC_15))


def test_every_date_a_change_proposes_is_today_or_later() -> None:
    changes = (
        LineChange(1, ChangeKind.QUANTITY, quantity=D(400)),
        LineChange(2, ChangeKind.DATE, schedule=schedule((100, DEC_10), (100, DEC_15))),
    )
    require_dates_from(changes, DEC_10)
    with pytest.raises(DomainError, match="Line 2: the delivery date 2026-12-10 is in the past"):
        require_dates_from(changes, date(2026, 12, 11))
