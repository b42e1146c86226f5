"""Purchase orders: each command from the states where it is legal and where it is not, the
rules each one checks, and who may give it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date

import pytest
from domain_builders import (
    BUYER,
    CUSTOMER,
    NO_TOLERANCE,
    OTHER_SUPPLIER,
    SUPPLIER,
    SUPPLIER_API,
    D,
    date_change,
    new_po,
    open_cr,
    po_in,
    po_lines,
    receipt,
    schedule,
    shipment,
)

from portal.domain.actors import Actor, Side
from portal.domain.changes import ChangeKind, LineChange, approve
from portal.domain.errors import DomainError, NotFound
from portal.domain.events import EventKind
from portal.domain.orders import POLine, PurchaseOrder
from portal.domain.states import PO_TRANSITIONS, POMove, POStatus

READABLE = {
    POStatus.CHANGES_PROPOSED: "waiting for a decision on proposed changes",
    POStatus.IN_FULFILMENT: "in fulfilment",
}

Command = Callable[[PurchaseOrder], object]

COMMANDS: dict[str, tuple[POMove, Command]] = {
    "issue": (POMove.ISSUE, lambda po: po.issue(BUYER)),
    "accept": (POMove.ACCEPT, lambda po: po.accept(SUPPLIER)),
    "reject": (POMove.REJECT, lambda po: po.reject(SUPPLIER, "Price is below our cost.")),
    "accept_with_changes": (
        POMove.PROPOSE_CHANGES,
        lambda po: po.accept_with_changes(SUPPLIER, {2}),
    ),
    "change_promise": (
        POMove.CHANGE_PROMISE,
        lambda po: po.change_promise(SUPPLIER, 2, schedule((200, date(2026, 12, 28))), "capacity"),
    ),
    "open_change_request": (
        POMove.OPEN_CHANGE_REQUEST,
        lambda po: open_cr(po, BUYER, LineChange(2, ChangeKind.PRICE, unit_price=D("0.06"))),
    ),
    # A generous tolerance, so that only the state can stop the partial shipment or receipt.
    "post_shipment": (
        POMove.SHIP,
        lambda po: po.post_shipment(SUPPLIER, shipment((2, 10)), D(100)),
    ),
    "record_receipt": (
        POMove.RECEIVE,
        lambda po: po.record_receipt(BUYER, receipt((2, 10)), D(100)),
    ),
    "cancel": (POMove.CANCEL, lambda po: po.cancel(BUYER, "No longer needed.")),
    "close": (POMove.CLOSE, lambda po: po.close(BUYER)),
}

ACKNOWLEDGED_BY_SUPPLIER = {POStatus.ACKNOWLEDGED, POStatus.IN_FULFILMENT}
EVERYTHING_RECEIVED = {POStatus.RECEIVED, POStatus.CLOSED}
EVERYTHING_SHIPPED = {POStatus.SHIPPED, *EVERYTHING_RECEIVED}


@pytest.mark.parametrize("status", list(POStatus), ids=str)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_each_command_from_each_state(command: str, status: POStatus) -> None:
    move, run = COMMANDS[command]
    # Once every line is in, the last piece would be "the rest": the move the order asks for.
    if command == "post_shipment" and status in EVERYTHING_SHIPPED:
        move = POMove.SHIP_ALL
    if command == "record_receipt" and status in EVERYTHING_RECEIVED:
        move = POMove.RECEIVE_ALL
    po = po_in(status)
    before = copy.deepcopy(po)
    allowed = (status, move) in PO_TRANSITIONS
    if command == "cancel" and status in ACKNOWLEDGED_BY_SUPPLIER:
        allowed = False
    if allowed:
        run(po)
        assert po.status == PO_TRANSITIONS[(status, move)]
        assert len(po.events) > len(before.events)
        return
    with pytest.raises(DomainError) as caught:
        run(po)
    if command == "cancel" and status in ACKNOWLEDGED_BY_SUPPLIER:
        assert caught.value.message == (
            "Purchase order PO-1001 is acknowledged by the supplier; "
            "open a change request to cancel it."
        )
    else:
        assert caught.value.message == (
            f"Cannot {move.value} purchase order PO-1001: it is "
            f"{READABLE.get(status, status.value)}."
        )
    assert po == before, "a refused command must change nothing"


# Create and issue -------------------------------------------------------------------------


def test_the_buyer_creates_and_issues_a_purchase_order() -> None:
    lines = po_lines()
    po = PurchaseOrder.create(
        BUYER, number="PO-1", supplier="acme", currency="usd", lines=[lines[1], lines[0]]
    )
    assert po.status == POStatus.ISSUED
    assert po.currency == "USD"
    assert [line.line_no for line in po.lines] == [1, 2]
    assert po.buyer == "Bea Buyer"
    assert po.version == 1
    assert [event.kind for event in po.events] == [EventKind.PO_CREATED, EventKind.PO_ISSUED]


def test_a_draft_is_only_created() -> None:
    po = new_po(issue=False)
    assert po.status == POStatus.DRAFT
    assert [event.kind for event in po.events] == [EventKind.PO_CREATED]
    po.issue(BUYER)
    assert po.status == POStatus.ISSUED


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"number": "  "}, "A purchase order needs a number."),
        ({"lines": []}, "A purchase order needs at least one line."),
        ({"currency": "EURO"}, "Currency must be a three-letter ISO code (got 'EURO')."),
        ({"currency": "E1R"}, "Currency must be a three-letter ISO code (got 'E1R')."),
    ],
)
def test_create_checks_the_order(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "number": "PO-1",
        "supplier": "acme",
        "currency": "EUR",
        "lines": po_lines(),
    }
    arguments.update(kwargs)
    with pytest.raises(DomainError) as caught:
        PurchaseOrder.create(BUYER, **arguments)  # type: ignore[arg-type]
    assert caught.value.message == message


def test_create_refuses_two_lines_with_one_number() -> None:
    first, second = po_lines()
    second.line_no = 1
    with pytest.raises(DomainError, match="its own line number"):
        PurchaseOrder.create(
            BUYER, number="PO-1", supplier="acme", currency="EUR", lines=[first, second]
        )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"line_no": 0}, "Line numbers start at 1."),
        ({"item": " "}, "Line 1 needs an item code."),
        ({"quantity": D(0)}, "Quantity on line 1 must be more than zero."),
        ({"quantity": D(-3)}, "Quantity on line 1 must be more than zero."),
        ({"unit_price": D("-0.01")}, "Price on line 1 cannot be negative."),
    ],
)
def test_a_line_checks_itself(changes: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "line_no": 1,
        "item": "BOLT-M8",
        "description": "",
        "quantity": D(1),
        "unit": "ea",
        "unit_price": D(0),
        "need_date": date(2026, 12, 1),
    }
    fields.update(changes)
    with pytest.raises(DomainError) as caught:
        POLine(**fields)  # type: ignore[arg-type]
    assert caught.value.message == message


def test_an_unknown_line_is_not_found() -> None:
    po = new_po()
    with pytest.raises(NotFound, match="Purchase order PO-1001 has no line 9"):
        po.line(9)


# Acknowledge ------------------------------------------------------------------------------


def test_accepting_promises_every_line_on_its_need_date() -> None:
    po = new_po()
    po.accept(SUPPLIER)
    assert po.status == POStatus.ACKNOWLEDGED
    for line in po.lines:
        assert line.promise == schedule((line.quantity, line.need_date))
        assert line.first_promise == line.promise
        assert line.promised_date == line.need_date


def test_accepting_with_per_line_promises() -> None:
    po = new_po()
    split = schedule((300, date(2026, 12, 1)), (200, date(2026, 12, 15)))
    po.accept(SUPPLIER, {1: split})
    assert po.line(1).promise == split
    assert po.line(1).promised_date == date(2026, 12, 15)
    assert po.line(2).promise == schedule((200, date(2026, 12, 20)))


@pytest.mark.parametrize("total", [499, 501])
def test_an_acceptance_must_promise_the_full_quantity(total: int) -> None:
    po = new_po()
    before = copy.deepcopy(po)
    with pytest.raises(DomainError) as caught:
        po.accept(SUPPLIER, {1: schedule((total, date(2026, 12, 1)))})
    assert caught.value.message == (
        f"Accepting line 1 means promising its full quantity (500); "
        f"propose a change to promise {total}."
    )
    assert po == before


def test_an_acceptance_cannot_promise_later_than_the_need_date() -> None:
    po = new_po()  # line 1 is needed by 15 Dec
    before = copy.deepcopy(po)
    late = schedule((300, date(2026, 12, 1)), (200, date(2026, 12, 16)))
    with pytest.raises(DomainError) as caught:
        po.accept(SUPPLIER, {2: schedule((200, date(2026, 12, 20))), 1: late})
    assert caught.value.message == (
        "Line 1 is needed by 2026-12-15; to promise 2026-12-16, accept with changes."
    )
    assert po == before, "no line is promised when one promise is refused"


def test_an_acceptance_may_promise_on_or_before_the_need_date() -> None:
    po = new_po()
    on_time = schedule((300, date(2026, 12, 1)), (200, date(2026, 12, 15)))
    early = schedule((200, date(2026, 12, 2)))
    po.accept(SUPPLIER, {1: on_time, 2: early})
    assert po.status == POStatus.ACKNOWLEDGED
    assert (po.line(1).promise, po.line(2).promise) == (on_time, early)


def test_an_acceptance_cannot_promise_a_line_the_order_does_not_have() -> None:
    po = new_po()
    with pytest.raises(NotFound):
        po.accept(SUPPLIER, {3: schedule((10, date(2026, 12, 1)))})
    assert po.status == POStatus.ISSUED


def test_the_buyer_may_record_an_acceptance_given_by_phone() -> None:
    po = new_po()
    po.accept(BUYER)
    assert po.status == POStatus.ACKNOWLEDGED
    assert po.events[-1].actor == BUYER


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_rejection_needs_a_reason(reason: str) -> None:
    po = new_po()
    with pytest.raises(DomainError, match="Say why the purchase order is rejected"):
        po.reject(SUPPLIER, reason)
    assert po.status == POStatus.ISSUED


def test_a_rejection() -> None:
    po = new_po()
    po.reject(SUPPLIER_API, "Discontinued item.")
    assert po.status == POStatus.REJECTED
    assert all(line.promise is None for line in po.lines)


def test_accepting_with_changes_promises_only_the_unchanged_lines() -> None:
    po = new_po()
    po.accept_with_changes(SUPPLIER, {1})
    assert po.status == POStatus.CHANGES_PROPOSED
    assert po.line(1).promise is None
    assert po.line(2).promise == schedule((200, date(2026, 12, 20)))


def test_accepting_with_changes_needs_a_changed_line() -> None:
    po = new_po()
    with pytest.raises(DomainError, match="needs at least one changed line"):
        po.accept_with_changes(SUPPLIER, set())
    assert po.status == POStatus.ISSUED


def test_accepting_with_changes_to_an_unknown_line_changes_nothing() -> None:
    po = new_po()
    before = copy.deepcopy(po)
    with pytest.raises(NotFound):
        po.accept_with_changes(SUPPLIER, {1, 7})
    assert po == before


def test_an_acknowledgement_with_changes_opens_its_change_request() -> None:
    po = new_po()
    po.accept_with_changes(SUPPLIER, {1})
    cr = open_cr(
        po,
        SUPPLIER,
        LineChange(1, ChangeKind.QUANTITY, quantity=D(450)),
        from_acknowledgement=True,
    )
    assert cr.from_acknowledgement
    assert cr.number == "PO-1001-CR1"
    assert po.status == POStatus.CHANGES_PROPOSED


@pytest.mark.parametrize("status", [POStatus.ISSUED, POStatus.ACKNOWLEDGED, POStatus.SHIPPED])
def test_an_acknowledgement_change_request_only_follows_accepting_with_changes(
    status: POStatus,
) -> None:
    po = po_in(status)
    before = copy.deepcopy(po)
    with pytest.raises(DomainError, match="only accepting it with changes"):
        open_cr(po, SUPPLIER, date_change(2, (200, date(2027, 1, 5))), from_acknowledgement=True)
    assert po == before


# Promises ---------------------------------------------------------------------------------


def test_the_supplier_moves_a_promise() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    first = po.line(1).promise
    later = schedule((300, date(2026, 12, 20)), (200, date(2027, 1, 8)))
    po.change_promise(SUPPLIER, 1, later, "material_shortage", "Steel is late.")
    assert po.line(1).promise == later
    assert po.line(1).first_promise == first
    assert po.line(1).promised_date == date(2027, 1, 8)
    assert po.status == POStatus.ACKNOWLEDGED


def test_a_promise_may_cover_less_than_is_left() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    po.change_promise(SUPPLIER, 1, schedule((100, date(2026, 12, 10))), "capacity")
    assert po.line(1).promise is not None
    assert po.line(1).promise.total == 100


@pytest.mark.parametrize(
    ("code", "message"),
    [("", "Unknown reason code ''"), ("weather", "Unknown reason code 'weather'")],
)
def test_a_promise_change_needs_a_known_reason(code: str, message: str) -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    before = copy.deepcopy(po)
    with pytest.raises(DomainError, match=message):
        po.change_promise(SUPPLIER, 1, schedule((500, date(2027, 1, 8))), code)
    assert po == before


def test_a_fully_shipped_line_keeps_its_promise() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    po.post_shipment(SUPPLIER, shipment((1, 500)), NO_TOLERANCE)
    assert po.status == POStatus.IN_FULFILMENT
    with pytest.raises(DomainError, match="Line 1 is fully shipped; its promise can no longer"):
        po.change_promise(SUPPLIER, 1, schedule((1, date(2027, 1, 8))), "capacity")


def test_a_promise_cannot_be_for_more_than_is_left_to_ship() -> None:
    po = po_in(POStatus.IN_FULFILMENT)  # 100 of 500 shipped on line 1
    before = copy.deepcopy(po)
    with pytest.raises(DomainError) as caught:
        po.change_promise(SUPPLIER, 1, schedule((401, date(2027, 1, 8))), "capacity")
    assert caught.value.message == (
        "Line 1 has 400 left to ship; the promise (401) cannot be for more."
    )
    assert po == before
    po.change_promise(SUPPLIER, 1, schedule((400, date(2027, 1, 8))), "capacity")
    assert po.status == POStatus.IN_FULFILMENT


def test_the_same_promise_again_is_refused() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    with pytest.raises(DomainError, match="already promised exactly like that"):
        po.change_promise(SUPPLIER, 1, schedule((500, date(2026, 12, 15))), "capacity")
    assert len(po.events) == len(po_in(POStatus.ACKNOWLEDGED).events)


def test_a_cancelled_line_has_no_promise_to_move() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    cr = open_cr(po, BUYER, LineChange(2, ChangeKind.CANCEL))
    approve(po, cr, SUPPLIER)
    with pytest.raises(DomainError, match="Line 2 of purchase order PO-1001 is cancelled"):
        po.change_promise(SUPPLIER, 2, schedule((200, date(2027, 1, 8))), "capacity")


def test_a_promise_before_acknowledgement_is_refused() -> None:
    po = new_po()
    with pytest.raises(DomainError, match="Cannot change a promise on purchase order PO-1001"):
        po.change_promise(SUPPLIER, 1, schedule((500, date(2027, 1, 8))), "capacity")


# Shipments --------------------------------------------------------------------------------


def test_a_partial_shipment_puts_the_order_in_fulfilment() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    po.post_shipment(SUPPLIER, shipment((1, 200)), NO_TOLERANCE)
    assert po.status == POStatus.IN_FULFILMENT
    assert po.display_status == "partially_shipped"
    assert po.line(1).shipped_qty == 200
    assert po.line(2).shipped_qty == 0


def test_shipping_everything_ships_the_order() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    po.post_shipment(SUPPLIER, shipment((1, 200)), NO_TOLERANCE)
    po.post_shipment(SUPPLIER, shipment((1, 300), (2, 200), number="ASN-2"), NO_TOLERANCE)
    assert po.status == POStatus.SHIPPED
    assert po.display_status == "shipped"


def test_one_shipment_of_everything_ships_an_acknowledged_order() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    po.post_shipment(SUPPLIER, shipment((1, 500), (2, 200)), NO_TOLERANCE)
    assert po.status == POStatus.SHIPPED


def test_a_cancelled_line_does_not_hold_the_order_back() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    approve(po, open_cr(po, BUYER, LineChange(2, ChangeKind.CANCEL)), SUPPLIER)
    po.post_shipment(SUPPLIER, shipment((1, 500)), NO_TOLERANCE)
    assert po.status == POStatus.SHIPPED


def test_over_shipment_beyond_tolerance_is_refused() -> None:
    po = po_in(POStatus.IN_FULFILMENT)  # 100 of 500 shipped on line 1
    before = copy.deepcopy(po)
    with pytest.raises(DomainError) as caught:
        po.post_shipment(SUPPLIER, shipment((2, 50), (1, 426)), D(5))
    assert caught.value.message == (
        "Line 1: shipping 426 more would make 526 of 500 ordered, beyond the 5% tolerance."
    )
    assert po == before
    po.post_shipment(SUPPLIER, shipment((1, 425)), D(5))
    assert po.line(1).shipped_qty == 525


def test_with_no_tolerance_a_single_extra_piece_is_refused() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    with pytest.raises(DomainError, match="beyond the 0% tolerance"):
        po.post_shipment(SUPPLIER, shipment((2, 201)), NO_TOLERANCE)


def test_nothing_ships_against_a_cancelled_line() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    approve(po, open_cr(po, BUYER, LineChange(2, ChangeKind.CANCEL)), SUPPLIER)
    before = copy.deepcopy(po)
    with pytest.raises(DomainError, match="Line 2 of purchase order PO-1001 is cancelled"):
        po.post_shipment(SUPPLIER, shipment((1, 10), (2, 10)), NO_TOLERANCE)
    assert po == before


def test_a_shipment_for_an_unknown_line_changes_nothing() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    before = copy.deepcopy(po)
    with pytest.raises(NotFound):
        po.post_shipment(SUPPLIER, shipment((1, 10), (5, 10)), NO_TOLERANCE)
    assert po == before


@pytest.mark.parametrize("status", [POStatus.ISSUED, POStatus.CANCELLED, POStatus.CLOSED])
def test_a_refused_shipment_leaves_every_line_as_it_was(status: POStatus) -> None:
    # Regression: the quantities used to be added before the state machine said no.
    po = po_in(status)
    shipped = [line.shipped_qty for line in po.lines]
    with pytest.raises(DomainError, match=r"Cannot post a shipment|ship the rest"):
        po.post_shipment(SUPPLIER, shipment((1, 1)), D(10))
    assert [line.shipped_qty for line in po.lines] == shipped


# Receipts ---------------------------------------------------------------------------------


def test_a_partial_receipt_of_a_shipped_order() -> None:
    po = po_in(POStatus.SHIPPED)
    po.record_receipt(BUYER, receipt((1, 500)), NO_TOLERANCE)
    assert po.status == POStatus.SHIPPED
    assert po.display_status == "partially_received"


def test_receiving_everything_receives_the_order() -> None:
    po = po_in(POStatus.SHIPPED)
    po.record_receipt(BUYER, receipt((1, 500)), NO_TOLERANCE)
    po.record_receipt(BUYER, receipt((2, 200), number="GR-2"), NO_TOLERANCE)
    assert po.status == POStatus.RECEIVED


def test_goods_may_arrive_before_the_shipment_notice() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    po.record_receipt(BUYER, receipt((1, 100)), NO_TOLERANCE)
    assert po.status == POStatus.IN_FULFILMENT
    assert po.display_status == "partially_received"


def test_rejected_goods_are_not_counted_as_received() -> None:
    po = po_in(POStatus.SHIPPED)
    po.record_receipt(BUYER, receipt((1, 500, 20), (2, 200)), NO_TOLERANCE)
    line = po.line(1)
    assert (line.received_qty, line.rejected_qty) == (480, 20)
    assert po.status == POStatus.IN_FULFILMENT, "20 of line 1 are to be replaced"
    po.record_receipt(BUYER, receipt((1, 20), number="GR-2"), NO_TOLERANCE)
    assert po.status == POStatus.RECEIVED


# Goods turned away ------------------------------------------------------------------------


def test_goods_turned_away_are_shipped_again() -> None:
    po = po_in(POStatus.SHIPPED)  # 500 + 200 shipped
    po.record_receipt(BUYER, receipt((1, 500, 20), (2, 200)), NO_TOLERANCE)
    line = po.line(1)
    assert (line.shipped_qty, line.net_shipped, line.left_to_ship) == (500, 480, 20)
    assert not line.fully_shipped
    assert po.line(2).fully_shipped
    assert po.status == POStatus.IN_FULFILMENT
    assert po.display_status == "partially_received"

    po.post_shipment(SUPPLIER, shipment((1, 20), number="ASN-2"), NO_TOLERANCE)
    assert po.status == POStatus.SHIPPED
    assert (line.shipped_qty, line.net_shipped, line.left_to_ship) == (520, 500, 0)
    assert line.fully_shipped

    po.record_receipt(BUYER, receipt((1, 20), number="GR-2"), NO_TOLERANCE)
    assert po.status == POStatus.RECEIVED
    assert (line.received_qty, line.rejected_qty) == (500, 20)


def test_goods_turned_away_twice_are_shipped_again_twice() -> None:
    po = po_in(POStatus.SHIPPED)
    po.record_receipt(BUYER, receipt((1, 500, 20), (2, 200)), NO_TOLERANCE)
    po.post_shipment(SUPPLIER, shipment((1, 20), number="ASN-2"), NO_TOLERANCE)
    po.record_receipt(BUYER, receipt((1, 20, 5), number="GR-2"), NO_TOLERANCE)
    assert po.status == POStatus.IN_FULFILMENT
    assert po.line(1).left_to_ship == 5
    po.post_shipment(SUPPLIER, shipment((1, 5), number="ASN-3"), NO_TOLERANCE)
    assert po.status == POStatus.SHIPPED
    po.record_receipt(BUYER, receipt((1, 5), number="GR-3"), NO_TOLERANCE)
    assert po.status == POStatus.RECEIVED


def test_a_rejection_an_over_shipment_covers_leaves_the_order_shipped() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    po.post_shipment(SUPPLIER, shipment((1, 520), (2, 200)), D(5))
    po.record_receipt(BUYER, receipt((1, 520, 20)), D(5))
    # 500 kept of 500 ordered, but nothing of line 2 received yet.
    assert po.line(1).net_shipped == 500
    assert po.status == POStatus.SHIPPED
    po.record_receipt(BUYER, receipt((2, 200, 1), number="GR-2"), D(5))
    assert po.status == POStatus.IN_FULFILMENT
    assert po.line(2).left_to_ship == 1


def test_a_rejection_that_still_receives_everything_receives_the_order() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    po.post_shipment(SUPPLIER, shipment((1, 520), (2, 200)), D(5))
    po.record_receipt(BUYER, receipt((1, 520, 20), (2, 200)), D(5))
    assert po.status == POStatus.RECEIVED


def test_a_rejection_on_an_order_in_fulfilment_keeps_it_in_fulfilment() -> None:
    po = po_in(POStatus.IN_FULFILMENT)  # 100 of line 1 shipped
    po.record_receipt(BUYER, receipt((1, 100, 40)), NO_TOLERANCE)
    assert po.status == POStatus.IN_FULFILMENT
    assert po.line(1).left_to_ship == 440
    po.post_shipment(SUPPLIER, shipment((1, 440), (2, 200), number="ASN-2"), NO_TOLERANCE)
    assert po.status == POStatus.SHIPPED


def test_a_replacement_is_within_tolerance_of_what_was_kept() -> None:
    po = po_in(POStatus.SHIPPED)
    po.record_receipt(BUYER, receipt((1, 500, 20), (2, 200)), NO_TOLERANCE)
    before = copy.deepcopy(po)
    with pytest.raises(DomainError) as caught:
        po.post_shipment(SUPPLIER, shipment((1, 21), number="ASN-2"), NO_TOLERANCE)
    assert caught.value.message == (
        "Line 1: shipping 21 more would make 501 of 500 ordered, beyond the 0% tolerance."
    )
    assert po == before
    po.post_shipment(SUPPLIER, shipment((1, 45), number="ASN-2"), D(5))
    assert po.line(1).net_shipped == 525


def test_a_line_whose_goods_were_turned_away_can_be_promised_again() -> None:
    po = po_in(POStatus.SHIPPED)
    po.record_receipt(BUYER, receipt((1, 500, 20), (2, 200)), NO_TOLERANCE)
    before = copy.deepcopy(po)
    with pytest.raises(DomainError) as caught:
        po.change_promise(SUPPLIER, 1, schedule((21, date(2027, 1, 8))), "quality")
    assert caught.value.message == (
        "Line 1 has 20 left to ship; the promise (21) cannot be for more."
    )
    assert po == before
    with pytest.raises(DomainError, match="Line 2 is fully shipped"):
        po.change_promise(SUPPLIER, 2, schedule((1, date(2027, 1, 8))), "quality")
    po.change_promise(SUPPLIER, 1, schedule((20, date(2027, 1, 8))), "quality")
    assert po.line(1).promise == schedule((20, date(2027, 1, 8)))
    assert po.status == POStatus.IN_FULFILMENT


def test_rejected_goods_do_not_count_against_the_over_receipt_tolerance() -> None:
    po = po_in(POStatus.SHIPPED)
    po.record_receipt(BUYER, receipt((2, 230, 30)), NO_TOLERANCE)
    assert po.line(2).received_qty == 200


def test_over_receipt_beyond_tolerance_is_refused() -> None:
    po = po_in(POStatus.SHIPPED)
    before = copy.deepcopy(po)
    with pytest.raises(DomainError) as caught:
        po.record_receipt(BUYER, receipt((1, 511)), D(2))
    assert caught.value.message == (
        "Line 1: accepting 511 more would make 511 of 500 ordered, "
        "beyond the 2% over-receipt tolerance."
    )
    assert po == before
    po.record_receipt(BUYER, receipt((1, 510)), D(2))
    assert po.line(1).received_qty == 510


@pytest.mark.parametrize("status", [POStatus.ISSUED, POStatus.RECEIVED, POStatus.CLOSED])
def test_a_refused_receipt_leaves_every_line_as_it_was(status: POStatus) -> None:
    # Regression: the quantities used to be added before the state machine said no.
    po = po_in(status)
    before = copy.deepcopy(po)
    with pytest.raises(DomainError, match=r"record a receipt|receive the rest"):
        po.record_receipt(BUYER, receipt((1, 1, 1)), D(100))
    assert po == before


def test_nothing_is_received_against_a_cancelled_line() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    approve(po, open_cr(po, BUYER, LineChange(2, ChangeKind.CANCEL)), SUPPLIER)
    with pytest.raises(DomainError, match="Line 2 of purchase order PO-1001 is cancelled"):
        po.record_receipt(BUYER, receipt((2, 5)), NO_TOLERANCE)


# Cancel and close -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status",
    [POStatus.DRAFT, POStatus.ISSUED, POStatus.REJECTED, POStatus.CHANGES_PROPOSED],
    ids=str,
)
def test_the_buyer_cancels_before_the_supplier_commits(status: POStatus) -> None:
    po = po_in(status)
    po.cancel(BUYER, "Project stopped.")
    assert po.status == POStatus.CANCELLED
    assert po.events[-1].data == {
        "reason": "Project stopped.",
        "status": {"before": status.value, "after": "cancelled"},
        "change_requests_closed": [],
    }


@pytest.mark.parametrize("status", sorted(ACKNOWLEDGED_BY_SUPPLIER), ids=str)
def test_a_committed_order_is_cancelled_through_a_change_request(status: POStatus) -> None:
    po = po_in(status)
    with pytest.raises(DomainError, match="open a change request to cancel it"):
        po.cancel(BUYER, "Project stopped.")
    assert po.status == status


def test_a_cancellation_needs_a_reason() -> None:
    po = new_po()
    with pytest.raises(DomainError, match="Say why the purchase order is cancelled"):
        po.cancel(BUYER, " ")
    assert po.status == POStatus.ISSUED


def test_closing_a_received_order() -> None:
    po = po_in(POStatus.RECEIVED)
    po.close(BUYER)
    assert po.status == POStatus.CLOSED
    assert po.events[-1].data["short"] == []


def test_closing_short_an_order_in_fulfilment() -> None:
    po = po_in(POStatus.IN_FULFILMENT)  # 100 of line 1 shipped, nothing received
    po.record_receipt(BUYER, receipt((1, 100, 10)), NO_TOLERANCE)
    po.close(BUYER)
    assert po.status == POStatus.CLOSED
    assert po.events[-1].kind == EventKind.PO_CLOSED
    assert po.events[-1].data == {
        "status": {"before": "in_fulfilment", "after": "closed"},
        "short": [
            {"line_no": 1, "quantity": "500", "received": "90"},
            {"line_no": 2, "quantity": "200", "received": "0"},
        ],
    }


def test_closing_short_a_shipped_order() -> None:
    po = po_in(POStatus.SHIPPED)
    po.record_receipt(BUYER, receipt((2, 200)), NO_TOLERANCE)
    po.close(BUYER)
    assert po.status == POStatus.CLOSED
    assert po.events[-1].data == {
        "status": {"before": "shipped", "after": "closed"},
        "short": [{"line_no": 1, "quantity": "500", "received": "0"}],
    }


def test_a_cancelled_line_is_not_short() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    approve(po, open_cr(po, BUYER, LineChange(2, ChangeKind.CANCEL)), SUPPLIER)
    po.post_shipment(SUPPLIER, shipment((1, 300)), NO_TOLERANCE)
    po.close(BUYER)
    assert po.events[-1].data["short"] == [{"line_no": 1, "quantity": "500", "received": "0"}]


@pytest.mark.parametrize("status", [POStatus.ACKNOWLEDGED, POStatus.ISSUED], ids=str)
def test_an_order_nothing_moved_on_cannot_be_closed(status: POStatus) -> None:
    po = po_in(status)
    before = copy.deepcopy(po)
    with pytest.raises(DomainError, match=f"Cannot close purchase order PO-1001: it is {status}"):
        po.close(BUYER)
    assert po == before


def test_display_status_of_an_order_without_movement_is_its_status() -> None:
    for status in POStatus:
        if status not in (POStatus.IN_FULFILMENT, POStatus.SHIPPED):
            assert po_in(status).display_status == status.value


# Comments ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "  \n "])
def test_an_empty_comment_is_refused(text: str) -> None:
    po = new_po()
    with pytest.raises(DomainError, match="A comment cannot be empty"):
        po.comment(SUPPLIER, text)


def test_a_comment_has_a_length_limit() -> None:
    po = new_po()
    with pytest.raises(DomainError, match="at most 4000 characters"):
        po.comment(SUPPLIER, "x" * 4001)
    po.comment(SUPPLIER, "x" * 4000)
    assert po.events[-1].data == {"text": "x" * 4000}


def test_the_orders_own_supplier_and_our_staff_write_on_it() -> None:
    po = new_po()
    po.comment(SUPPLIER, "Noted.")
    po.comment(SUPPLIER_API, "Order received by ERP.")
    po.comment(BUYER, "Thanks.")
    assert [event.actor for event in po.events[-3:]] == [SUPPLIER, SUPPLIER_API, BUYER]


@pytest.mark.parametrize(
    "actor", [OTHER_SUPPLIER, CUSTOMER], ids=["another-supplier", "a-customer"]
)
def test_nobody_else_writes_on_a_purchase_order(actor: Actor) -> None:
    po = new_po()
    before = copy.deepcopy(po)
    for internal_only in (False, True):
        with pytest.raises(DomainError) as caught:
            po.comment(actor, "Hello.", internal_only=internal_only)
        assert caught.value.message == (
            "Only our staff and the supplier of purchase order PO-1001 can write on it."
        )
    assert po == before


def test_only_our_side_writes_internal_notes() -> None:
    po = new_po()
    with pytest.raises(DomainError, match="Only the internal side can write internal notes"):
        po.comment(SUPPLIER, "psst", internal_only=True)
    po.comment(BUYER, "Supplier is slow again.", internal_only=True)
    assert po.events[-1].audience == (Side.INTERNAL,)


# Who may do what --------------------------------------------------------------------------

SIDE_RULES: list[tuple[str, set[Side], str, Callable[[PurchaseOrder, Actor], object]]] = [
    (
        "issue",
        {Side.INTERNAL},
        "Only the internal side can issue purchase orders.",
        lambda po, actor: po.issue(actor),
    ),
    (
        "accept",
        {Side.INTERNAL, Side.SUPPLIER},
        "Only the internal or supplier side can acknowledge purchase orders.",
        lambda po, actor: po.accept(actor),
    ),
    (
        "reject",
        {Side.INTERNAL, Side.SUPPLIER},
        "Only the internal or supplier side can reject purchase orders.",
        lambda po, actor: po.reject(actor, "No."),
    ),
    (
        "accept_with_changes",
        {Side.INTERNAL, Side.SUPPLIER},
        "Only the internal or supplier side can acknowledge purchase orders.",
        lambda po, actor: po.accept_with_changes(actor, {1}),
    ),
    (
        "change_promise",
        {Side.INTERNAL, Side.SUPPLIER},
        "Only the internal or supplier side can change a promise.",
        lambda po, actor: po.change_promise(
            actor, 1, schedule((500, date(2027, 1, 2))), "capacity"
        ),
    ),
    (
        "post_shipment",
        {Side.INTERNAL, Side.SUPPLIER},
        "Only the internal or supplier side can post shipments.",
        lambda po, actor: po.post_shipment(actor, shipment((1, 5)), NO_TOLERANCE),
    ),
    (
        "record_receipt",
        {Side.INTERNAL},
        "Only the internal side can record receipts.",
        lambda po, actor: po.record_receipt(actor, receipt((1, 5)), NO_TOLERANCE),
    ),
    (
        "cancel",
        {Side.INTERNAL},
        "Only the internal side can cancel purchase orders.",
        lambda po, actor: po.cancel(actor, "No."),
    ),
    (
        "close",
        {Side.INTERNAL},
        "Only the internal side can close purchase orders.",
        lambda po, actor: po.close(actor),
    ),
]

STATE_FOR = {
    "issue": POStatus.DRAFT,
    "accept": POStatus.ISSUED,
    "reject": POStatus.ISSUED,
    "accept_with_changes": POStatus.ISSUED,
    "change_promise": POStatus.ACKNOWLEDGED,
    "post_shipment": POStatus.ACKNOWLEDGED,
    "record_receipt": POStatus.ACKNOWLEDGED,
    "cancel": POStatus.ISSUED,
    "close": POStatus.RECEIVED,
}

ACTORS = {Side.INTERNAL: BUYER, Side.SUPPLIER: SUPPLIER, Side.CUSTOMER: CUSTOMER}


@pytest.mark.parametrize("side", list(Side), ids=str)
@pytest.mark.parametrize("rule", SIDE_RULES, ids=[rule[0] for rule in SIDE_RULES])
def test_who_may_give_each_command(
    rule: tuple[str, set[Side], str, Callable[[PurchaseOrder, Actor], object]], side: Side
) -> None:
    name, sides, message, run = rule
    po = po_in(STATE_FOR[name])
    before = copy.deepcopy(po)
    if side in sides:
        run(po, ACTORS[side])
        assert po.events[-1].actor == ACTORS[side]
    else:
        with pytest.raises(DomainError) as caught:
            run(po, ACTORS[side])
        assert caught.value.message == message
        assert po == before


@pytest.mark.parametrize("actor", [SUPPLIER, CUSTOMER], ids=["supplier", "customer"])
def test_only_our_side_creates_purchase_orders(actor: Actor) -> None:
    with pytest.raises(DomainError, match="Only the internal side can create purchase orders"):
        PurchaseOrder.create(
            actor, number="PO-1", supplier="acme", currency="EUR", lines=po_lines()
        )
