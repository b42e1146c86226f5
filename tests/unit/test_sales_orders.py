"""Sales orders: creation, linking lines to purchase order lines, the expected date that
follows the supplier's promise, and the order's own life (ship, deliver, close, cancel)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from domain_builders import (
    BUYER,
    CUSTOMER,
    OTHER_CUSTOMER,
    SUPPLIER,
    D,
    new_so,
    open_cr,
    po_in,
    ref,
    sales_line,
    schedule,
)

from portal.domain.actors import Actor, Side
from portal.domain.changes import ChangeKind, LineChange, approve
from portal.domain.errors import DomainError, NotFound
from portal.domain.events import EventKind
from portal.domain.orders import LineRef, PurchaseOrder, SalesLine, SalesOrder, expected_date
from portal.domain.schedule import Schedule
from portal.domain.states import SO_TRANSITIONS, POStatus, SOMove, SOStatus

SPLIT = schedule((300, date(2026, 12, 1)), (200, date(2026, 12, 15)))


def promised_po(promise: Schedule = SPLIT) -> PurchaseOrder:
    po = po_in(POStatus.ISSUED)
    po.accept(SUPPLIER, {1: promise})
    return po


# Create -----------------------------------------------------------------------------------


def test_the_buyer_records_a_customer_order() -> None:
    so = SalesOrder.create(
        BUYER,
        number="SO-1",
        customer="globex",
        currency="gbp",
        lines=[sales_line(2, item="NUT-M8"), sales_line(1)],
        contact_phone=" +44 20 7946 0000 ",
    )
    assert so.status == SOStatus.OPEN
    assert so.currency == "GBP"
    assert [line.line_no for line in so.lines] == [1, 2]
    assert so.contact_phone == "+44 20 7946 0000"
    (event,) = so.events
    assert event.kind == EventKind.SO_CREATED
    assert event.stream == "so/SO-1"
    assert event.audience == (Side.INTERNAL, Side.CUSTOMER)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"number": ""}, "A sales order needs a number."),
        ({"lines": []}, "A sales order needs at least one line."),
        ({"lines": [sales_line(1), sales_line(1)]}, "Each line of a sales order needs its own"),
        ({"currency": "€"}, "Currency must be a three-letter ISO code"),
        ({"contact_email": " ", "contact_phone": ""}, "needs the customer's contact"),
    ],
)
def test_create_checks_the_order(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "number": "SO-1",
        "customer": "globex",
        "currency": "EUR",
        "lines": [sales_line()],
        "contact_email": "ops@globex.example",
    }
    arguments.update(kwargs)
    with pytest.raises(DomainError, match=message):
        SalesOrder.create(BUYER, **arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize("actor", [SUPPLIER, CUSTOMER], ids=["supplier", "customer"])
def test_only_our_side_records_sales_orders(actor: Actor) -> None:
    with pytest.raises(DomainError, match="Only the internal side can create sales orders"):
        SalesOrder.create(
            actor,
            number="SO-1",
            customer="globex",
            currency="EUR",
            lines=[sales_line()],
            contact_email="x@y.example",
        )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"line_no": 0}, "Line numbers start at 1."),
        ({"item": ""}, "Line 1 needs an item code."),
        ({"quantity": D(0)}, "Quantity on line 1 must be more than zero."),
        ({"unit_price": D(-1)}, "Price on line 1 cannot be negative."),
    ],
)
def test_a_sales_line_checks_itself(changes: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "line_no": 1,
        "item": "BOLT-M8",
        "description": "",
        "quantity": D(1),
        "unit": "ea",
        "unit_price": D(1),
        "requested_date": date(2026, 12, 1),
        "expected_date": date(2026, 12, 1),
    }
    fields.update(changes)
    with pytest.raises(DomainError) as caught:
        SalesLine(**fields)  # type: ignore[arg-type]
    assert caught.value.message == message


def test_an_unknown_sales_line_is_not_found() -> None:
    with pytest.raises(NotFound, match="Sales order SO-2001 has no line 4"):
        new_so().line(4)


# Expected dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "covered_on"),
    [
        (1, date(2026, 12, 1)),
        (250, date(2026, 12, 1)),
        (300, date(2026, 12, 1)),
        (301, date(2026, 12, 15)),
        (400, date(2026, 12, 15)),
        (500, date(2026, 12, 15)),
        (900, date(2026, 12, 15)),  # more than promised: the last promised date
    ],
)
def test_the_expected_date_is_when_the_promise_covers_the_quantity(
    quantity: int, covered_on: date
) -> None:
    po = promised_po()
    line = po.line(1)
    assert expected_date(line, D(quantity), 3) == covered_on + timedelta(days=3)
    assert expected_date(line, D(quantity), 0) == covered_on


def test_without_a_promise_the_need_date_counts() -> None:
    po = po_in(POStatus.ISSUED)
    assert expected_date(po.line(1), D(250), 2) == date(2026, 12, 17)


def test_linking_derives_the_expected_date() -> None:
    po = promised_po()
    so = new_so(sales_line(1, quantity=250), sales_line(2, quantity=400))
    so.link_line(BUYER, 1, ref(po, 1), po.line(1), handling_days=2)
    so.link_line(BUYER, 2, ref(po, 1), po.line(1), handling_days=2)
    assert so.line(1).expected_date == date(2026, 12, 3)
    assert so.line(2).expected_date == date(2026, 12, 17)
    assert so.line(1).link == LineRef("PO-1001", 1)
    assert so.line(1).handling_days == 2
    linked, moved = so.events[1:3]
    assert linked.kind == EventKind.LINE_LINKED
    assert linked.audience == (Side.INTERNAL,), "the customer must not learn our supplier's PO"
    assert linked.data == {
        "line_no": 1,
        "before": None,
        "after": {"po_number": "PO-1001", "line_no": 1},
        "handling_days": 2,
    }
    assert moved.kind == EventKind.EXPECTED_DATE_CHANGED
    assert moved.audience == (Side.INTERNAL, Side.CUSTOMER)
    assert moved.data == {
        "line_no": 1,
        "before": "2026-12-20",
        "after": "2026-12-03",
        "cause": "linked",
    }


def test_linking_a_line_whose_date_does_not_move_records_only_the_link() -> None:
    po = promised_po(schedule((500, date(2026, 12, 15))))
    so = new_so(sales_line(1, quantity=250, requested=date(2026, 12, 20)))
    so.link_line(BUYER, 1, ref(po, 1), po.line(1), handling_days=5)
    assert so.line(1).expected_date == date(2026, 12, 20)
    assert [event.kind for event in so.events] == [EventKind.SO_CREATED, EventKind.LINE_LINKED]


def test_relinking_names_the_link_before() -> None:
    po = promised_po()
    other = po_in(POStatus.ACKNOWLEDGED, number="PO-1002")
    so = new_so()
    so.link_line(BUYER, 1, ref(po, 1), po.line(1), 0)
    so.link_line(BUYER, 1, ref(other, 1), other.line(1), 0)
    relinked = [event for event in so.events if event.kind == EventKind.LINE_LINKED][-1]
    assert relinked.data["before"] == {"po_number": "PO-1001", "line_no": 1}
    assert relinked.data["after"] == {"po_number": "PO-1002", "line_no": 1}
    assert so.line(1).expected_date == date(2026, 12, 15)


def test_a_line_links_only_to_the_same_item() -> None:
    po = promised_po()
    so = new_so()
    before = copy.deepcopy(so)
    with pytest.raises(DomainError) as caught:
        so.link_line(BUYER, 1, ref(po, 2), po.line(2), 1)
    assert caught.value.message == (
        "Sales line 1 is for item BOLT-M8, but purchase order line PO-1001/2 is for NUT-M8."
    )
    assert so == before


def test_no_link_to_a_cancelled_purchase_order_line() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    approve(po, open_cr(po, BUYER, LineChange(1, ChangeKind.CANCEL)), SUPPLIER)
    so = new_so()
    with pytest.raises(DomainError, match="Line 1 of purchase order PO-1001 is cancelled"):
        so.link_line(BUYER, 1, ref(po, 1), po.line(1), 1)
    assert so.line(1).link is None


def test_handling_days_cannot_be_negative() -> None:
    po = promised_po()
    so = new_so()
    with pytest.raises(DomainError, match="Handling days cannot be negative"):
        so.link_line(BUYER, 1, ref(po, 1), po.line(1), -1)
    assert so.line(1).link is None


def test_linking_an_unknown_sales_line() -> None:
    po = promised_po()
    so = new_so()
    with pytest.raises(NotFound):
        so.link_line(BUYER, 3, ref(po, 1), po.line(1), 1)


@pytest.mark.parametrize("actor", [SUPPLIER, CUSTOMER], ids=["supplier", "customer"])
def test_only_our_side_links_lines(actor: Actor) -> None:
    po = promised_po()
    so = new_so()
    with pytest.raises(DomainError, match="Only the internal side can link sales lines"):
        so.link_line(actor, 1, ref(po, 1), po.line(1), 1)


def test_the_customer_line_follows_a_moved_promise() -> None:
    po = promised_po()
    so = new_so(sales_line(1, quantity=250))
    so.link_line(BUYER, 1, ref(po, 1), po.line(1), 2)
    po.change_promise(
        SUPPLIER,
        1,
        schedule((100, date(2026, 12, 1)), (400, date(2026, 12, 10))),
        "material_shortage",
        "Coil delivery slipped.",
    )
    assert so.follow(BUYER, 1, po.line(1), cause="promise_changed")
    assert so.line(1).expected_date == date(2026, 12, 12)
    event = so.events[-1]
    assert event.data == {
        "line_no": 1,
        "before": "2026-12-03",
        "after": "2026-12-12",
        "cause": "promise_changed",
    }
    assert "material_shortage" not in str(event.data), "the customer reads general words only"
    events = len(so.events)
    assert not so.follow(BUYER, 1, po.line(1), cause="promise_changed")
    assert len(so.events) == events


@pytest.mark.parametrize("status", [SOStatus.SHIPPED, SOStatus.CANCELLED])
def test_a_sales_order_past_open_no_longer_follows(status: SOStatus) -> None:
    po = promised_po()
    so = so_in(status)
    expected = so.line(1).expected_date
    events = len(so.events)
    assert not so.follow(BUYER, 1, po.line(1), cause="promise_changed")
    assert so.line(1).expected_date == expected
    assert len(so.events) == events


# Life of a sales order --------------------------------------------------------------------


def so_in(status: SOStatus) -> SalesOrder:
    so = new_so()
    if status == SOStatus.CANCELLED:
        so.cancel(BUYER, "Customer withdrew.")
    if status in (SOStatus.SHIPPED, SOStatus.DELIVERED, SOStatus.CLOSED):
        so.ship(BUYER, "UPS", "1Z999", date(2026, 12, 16))
    if status in (SOStatus.DELIVERED, SOStatus.CLOSED):
        so.deliver(BUYER, date(2026, 12, 18))
    if status == SOStatus.CLOSED:
        so.close(BUYER)
    assert so.status == status
    return so


SO_COMMANDS: dict[str, tuple[SOMove, Callable[[SalesOrder, Actor], object]]] = {
    "link_line": (
        SOMove.LINK,
        lambda so, actor: so.link_line(
            actor, 1, LineRef("PO-1001", 1), po_in(POStatus.ACKNOWLEDGED).line(1), 1
        ),
    ),
    "ship": (SOMove.SHIP, lambda so, actor: so.ship(actor, "UPS", "1Z1", date(2026, 12, 16))),
    "deliver": (SOMove.DELIVER, lambda so, actor: so.deliver(actor, date(2026, 12, 18))),
    "close": (SOMove.CLOSE, lambda so, actor: so.close(actor)),
    "cancel": (SOMove.CANCEL, lambda so, actor: so.cancel(actor, "Customer withdrew.")),
}


@pytest.mark.parametrize("status", list(SOStatus), ids=str)
@pytest.mark.parametrize("command", list(SO_COMMANDS))
def test_each_sales_order_command_from_each_state(command: str, status: SOStatus) -> None:
    move, run = SO_COMMANDS[command]
    so = so_in(status)
    before = copy.deepcopy(so)
    if (status, move) in SO_TRANSITIONS:
        run(so, BUYER)
        assert so.status == SO_TRANSITIONS[(status, move)]
    else:
        with pytest.raises(DomainError) as caught:
            run(so, BUYER)
        assert caught.value.message == f"Cannot {move.value} sales order SO-2001: it is {status}."
        assert so == before


@pytest.mark.parametrize("actor", [SUPPLIER, CUSTOMER], ids=["supplier", "customer"])
@pytest.mark.parametrize("command", ["ship", "cancel"])
def test_only_our_side_moves_a_sales_order(command: str, actor: Actor) -> None:
    so = new_so()
    with pytest.raises(DomainError, match="Only the internal side can"):
        SO_COMMANDS[command][1](so, actor)
    assert so.status == SOStatus.OPEN


@pytest.mark.parametrize("actor", [SUPPLIER, CUSTOMER], ids=["supplier", "customer"])
def test_only_our_side_confirms_delivery_and_closes(actor: Actor) -> None:
    so = so_in(SOStatus.SHIPPED)
    with pytest.raises(DomainError, match="Only the internal side can confirm deliveries"):
        so.deliver(actor, date(2026, 12, 18))
    so.deliver(BUYER, date(2026, 12, 18))
    with pytest.raises(DomainError, match="Only the internal side can close sales orders"):
        so.close(actor)


def test_shipping_records_carrier_and_tracking() -> None:
    so = new_so()
    with pytest.raises(DomainError, match="A shipment needs the carrier's name"):
        so.ship(BUYER, "  ", "1Z1", date(2026, 12, 16))
    assert so.status == SOStatus.OPEN
    so.ship(BUYER, " UPS ", " 1Z999 ", date(2026, 12, 16))
    assert (so.carrier, so.tracking_no) == ("UPS", "1Z999")
    assert so.events[-1].data == {
        "carrier": "UPS",
        "tracking_no": "1Z999",
        "shipped_on": "2026-12-16",
        "status": {"before": "open", "after": "shipped"},
    }
    assert so.events[-1].audience == (Side.INTERNAL, Side.CUSTOMER)


def test_a_sales_order_cancellation_needs_a_reason() -> None:
    so = new_so()
    with pytest.raises(DomainError, match="Say why the sales order is cancelled"):
        so.cancel(BUYER, "")
    assert so.status == SOStatus.OPEN


def test_comments_on_a_sales_order_reach_the_customer_unless_internal() -> None:
    so = new_so()
    so.comment(CUSTOMER, "Can you ship sooner?")
    assert so.events[-1].audience == (Side.INTERNAL, Side.CUSTOMER)
    so.comment(BUYER, "Customer is pushy.", internal_only=True)
    assert so.events[-1].audience == (Side.INTERNAL,)
    with pytest.raises(DomainError, match="Only the internal side can write internal notes"):
        so.comment(CUSTOMER, "note to self", internal_only=True)


@pytest.mark.parametrize(
    "actor", [OTHER_CUSTOMER, SUPPLIER], ids=["another-customer", "a-supplier"]
)
def test_nobody_else_writes_on_a_sales_order(actor: Actor) -> None:
    so = new_so()
    before = copy.deepcopy(so)
    for internal_only in (False, True):
        with pytest.raises(DomainError) as caught:
            so.comment(actor, "Hello.", internal_only=internal_only)
        assert caught.value.message == (
            "Only our staff and the customer of sales order SO-2001 can write on it."
        )
    assert so == before
