"""A posted shipment corrected or cancelled before receipt: the lines' shipped quantities and
the order's status follow, the timeline says what it was and what it is now, and whatever is
refused changes nothing."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from domain_builders import (
    BUYER,
    CUSTOMER,
    NO_TOLERANCE,
    SUPPLIER,
    SUPPLIER_API,
    D,
    po_in,
    receipt,
    shipment,
)

from portal.domain.errors import DomainError, NotFound
from portal.domain.events import EventKind
from portal.domain.orders import PurchaseOrder
from portal.domain.shipments import Shipment, ShipmentLine
from portal.domain.states import POStatus

FIVE_PCT = Decimal(5)


def posted(
    *lines: tuple[int, int], status: POStatus = POStatus.ACKNOWLEDGED
) -> tuple[PurchaseOrder, Shipment]:
    """An order (line 1: 500, line 2: 200 ordered) with `lines` shipped as ASN-7."""
    po = po_in(status)
    notice = shipment(*lines, number="ASN-7")
    po.post_shipment(SUPPLIER, notice, NO_TOLERANCE)
    return po, notice


def shipped(po: PurchaseOrder) -> dict[int, Decimal]:
    return {line.line_no: line.shipped_qty for line in po.lines}


def test_a_correction_changes_the_shipped_quantities_and_tells_before_and_after() -> None:
    po, notice = posted((1, 300))
    fixed = replace(notice, lines=(ShipmentLine(1, D(250)), ShipmentLine(2, D(20))), carrier="UPS")

    po.correct_shipment(SUPPLIER_API, notice, fixed, "Counted again", NO_TOLERANCE, received=False)

    assert shipped(po) == {1: 250, 2: 20}
    assert po.status == POStatus.IN_FULFILMENT
    event = po.events[-1]
    assert (event.kind, event.actor) == (EventKind.SHIPMENT_CORRECTED, SUPPLIER_API)
    assert event.data == {
        "number": "ASN-7",
        "reason": "Counted again",
        "before": notice.to_data(),
        "after": fixed.to_data(),
        "status": {"before": "in_fulfilment", "after": "in_fulfilment"},
    }
    assert event.data["after"]["carrier"] == "UPS"


def test_a_correction_below_the_order_puts_a_shipped_order_back_in_fulfilment() -> None:
    po, notice = posted((1, 500), (2, 200))
    assert po.status == POStatus.SHIPPED
    fixed = replace(notice, lines=(ShipmentLine(1, D(500)), ShipmentLine(2, D(150))))
    po.correct_shipment(SUPPLIER, notice, fixed, "Short by 50", NO_TOLERANCE, received=False)
    assert po.status == POStatus.IN_FULFILMENT
    assert po.events[-1].data["status"] == {"before": "shipped", "after": "in_fulfilment"}
    assert po.line(2).left_to_ship == 50


def test_a_correction_that_completes_the_order_ships_it() -> None:
    po, notice = posted((1, 500), (2, 150))
    fixed = replace(notice, lines=(ShipmentLine(1, D(500)), ShipmentLine(2, D(200))))
    po.correct_shipment(SUPPLIER, notice, fixed, "All 200 went", NO_TOLERANCE, received=False)
    assert po.status == POStatus.SHIPPED


def test_a_correction_of_a_shipped_order_that_stays_shipped() -> None:
    po, notice = posted((1, 500), (2, 200))
    fixed = replace(notice, tracking_no="JD0002")
    po.correct_shipment(SUPPLIER, notice, fixed, "Wrong tracking no.", NO_TOLERANCE, received=False)
    assert po.status == POStatus.SHIPPED
    assert po.events[-1].data["status"] == {"before": "shipped", "after": "shipped"}


def test_a_correction_keeps_the_over_delivery_tolerance() -> None:
    po, notice = posted((1, 300))
    within = replace(notice, lines=(ShipmentLine(1, D(525)),))  # 500 + 5 %
    beyond = replace(notice, lines=(ShipmentLine(1, D(526)),))
    before = copy.deepcopy(po)
    with pytest.raises(DomainError, match=r"Line 1: ASN-7 would make 526 of 500 ordered shipped"):
        po.correct_shipment(SUPPLIER, notice, beyond, "More", FIVE_PCT, received=False)
    assert po == before
    po.correct_shipment(SUPPLIER, notice, within, "More", FIVE_PCT, received=False)
    assert shipped(po) == {1: 525, 2: 0}
    assert po.status == POStatus.IN_FULFILMENT  # line 2 is still to ship


def test_cancelling_the_only_shipment_makes_the_order_acknowledged_again() -> None:
    po, notice = posted((1, 500), (2, 200))
    po.cancel_shipment(SUPPLIER, notice, "Truck never left", received=False)
    assert shipped(po) == {1: 0, 2: 0}
    assert po.status == POStatus.ACKNOWLEDGED
    event = po.events[-1]
    assert (event.kind, event.actor) == (EventKind.SHIPMENT_CANCELLED, SUPPLIER)
    assert event.data == {
        "number": "ASN-7",
        "reason": "Truck never left",
        "before": notice.to_data(),
        "after": None,
        "status": {"before": "shipped", "after": "acknowledged"},
    }


def test_cancelling_one_of_two_shipments_leaves_the_other() -> None:
    po, _ = posted((1, 100))
    second = shipment((1, 400), (2, 200), number="ASN-8")
    po.post_shipment(SUPPLIER, second, NO_TOLERANCE)
    assert po.status == POStatus.SHIPPED
    po.cancel_shipment(BUYER, second, "Posted twice", received=False)
    assert shipped(po) == {1: 100, 2: 0}
    assert po.status == POStatus.IN_FULFILMENT
    assert po.events[-1].actor == BUYER


def test_goods_counted_in_stay_shipped() -> None:
    """Counted in against another document, 100 of line 1 cannot be unsent."""
    po, notice = posted((1, 300))
    po.record_receipt(BUYER, receipt((1, 100), number="GR-1"), NO_TOLERANCE)
    before = copy.deepcopy(po)
    with pytest.raises(DomainError, match="Line 1 has 100 received or turned away"):
        po.cancel_shipment(SUPPLIER, notice, "Oops", received=False)
    assert po == before
    fixed = replace(notice, lines=(ShipmentLine(1, D(99)),))
    with pytest.raises(DomainError, match="cannot have shipped only 99"):
        po.correct_shipment(SUPPLIER, notice, fixed, "Oops", NO_TOLERANCE, received=False)
    assert po == before
    po.correct_shipment(
        SUPPLIER,
        notice,
        replace(notice, lines=(ShipmentLine(1, D(100)),)),
        "Oops",
        NO_TOLERANCE,
        received=False,
    )
    assert shipped(po) == {1: 100, 2: 0}


def test_goods_turned_away_count_as_counted_too() -> None:
    po, notice = posted((1, 300))
    po.record_receipt(BUYER, receipt((1, 50, 50), number="GR-1"), NO_TOLERANCE)
    with pytest.raises(DomainError, match="Line 1 has 50 received or turned away"):
        po.cancel_shipment(SUPPLIER, notice, "Oops", received=False)


@pytest.mark.parametrize("what", ["correct", "cancel"])
def test_a_shipment_received_against_cannot_be_taken_back(what: str) -> None:
    po, notice = posted((1, 300))
    before = copy.deepcopy(po)
    with pytest.raises(DomainError) as refused:
        if what == "cancel":
            po.cancel_shipment(SUPPLIER, notice, "Oops", received=True)
        else:
            fixed = replace(notice, tracking_no="X")
            po.correct_shipment(SUPPLIER, notice, fixed, "Oops", NO_TOLERANCE, received=True)
    done = "cancelled" if what == "cancel" else "corrected"
    assert refused.value.message == (
        f"Goods of shipment ASN-7 were received; it can no longer be {done}."
    )
    assert po == before


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_correction_or_cancellation_says_why(reason: str) -> None:
    po, notice = posted((1, 300))
    before = copy.deepcopy(po)
    with pytest.raises(DomainError, match="Say why shipment ASN-7 is cancelled"):
        po.cancel_shipment(SUPPLIER, notice, reason, received=False)
    with pytest.raises(DomainError, match="Say why shipment ASN-7 is corrected"):
        po.correct_shipment(
            SUPPLIER, notice, replace(notice, carrier="UPS"), reason, NO_TOLERANCE, received=False
        )
    assert po == before


def test_a_correction_keeps_the_number_and_changes_something() -> None:
    po, notice = posted((1, 300))
    before = copy.deepcopy(po)
    with pytest.raises(DomainError, match=r"keeps the shipment's number \(ASN-7, not ASN-9\)"):
        po.correct_shipment(
            SUPPLIER, notice, replace(notice, number="ASN-9"), "x", NO_TOLERANCE, received=False
        )
    with pytest.raises(DomainError, match="Shipment ASN-7 already says exactly that"):
        po.correct_shipment(SUPPLIER, notice, notice, "x", NO_TOLERANCE, received=False)
    assert po == before


def test_a_correction_to_a_line_the_order_does_not_have_is_not_found() -> None:
    po, notice = posted((1, 300))
    before = copy.deepcopy(po)
    fixed = replace(notice, lines=(ShipmentLine(1, D(300)), ShipmentLine(9, D(1))))
    with pytest.raises(NotFound, match="Purchase order PO-1001 has no line 9"):
        po.correct_shipment(SUPPLIER, notice, fixed, "x", NO_TOLERANCE, received=False)
    assert po == before


def test_a_customer_cannot_take_a_shipment_back() -> None:
    po, notice = posted((1, 300))
    with pytest.raises(DomainError, match="Only the internal or supplier side"):
        po.cancel_shipment(CUSTOMER, notice, "x", received=False)


def test_a_received_order_keeps_its_shipments() -> None:
    po, notice = posted((1, 500), (2, 200))
    po.record_receipt(BUYER, receipt((1, 500), (2, 200)), NO_TOLERANCE)
    # Counted in without naming the shipment: the quantities still forbid taking it back,
    # and so does the order's state.
    fixed = replace(notice, tracking_no="X")
    with pytest.raises(DomainError, match="it is received"):
        po.correct_shipment(SUPPLIER, notice, fixed, "x", NO_TOLERANCE, received=False)


def test_zero_quantities_are_refused_when_the_shipment_is_written() -> None:
    with pytest.raises(DomainError, match="Shipped quantity on line 1 must be more than zero"):
        Shipment("ASN-7", date(2026, 12, 1), "DHL", "", None, (ShipmentLine(1, D(0)),))
    with pytest.raises(DomainError, match="Shipped quantity on line 1 must be more than zero"):
        Shipment("ASN-7", date(2026, 12, 1), "DHL", "", None, (ShipmentLine(1, D(-5)),))
