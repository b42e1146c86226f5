"""Delivery schedules (a promise of one or more rows), shipment notices and receipts: the
documents the order commands take, and what each refuses on its own."""

from __future__ import annotations

from datetime import date

import pytest
from domain_builders import D, receipt, schedule, shipment
from hypothesis import given
from hypothesis import strategies as st

from portal.domain.errors import DomainError
from portal.domain.receipts import Receipt, ReceiptLine
from portal.domain.schedule import DeliveryRow, Schedule
from portal.domain.shipments import Shipment, ShipmentLine

DEC_1, DEC_15, JAN_5 = date(2026, 12, 1), date(2026, 12, 15), date(2027, 1, 5)


def test_a_schedule_reads_in_date_order_whatever_the_input_order() -> None:
    forwards = schedule((300, DEC_1), (200, DEC_15))
    backwards = schedule((200, DEC_15), (300, DEC_1))
    assert forwards == backwards
    assert [row.date for row in backwards.rows] == [DEC_1, DEC_15]
    assert backwards.total == 500
    assert backwards.last_date == DEC_15


def test_a_single_row_schedule() -> None:
    single = Schedule.single(D(40), JAN_5)
    assert single.rows == (DeliveryRow(D(40), JAN_5),)
    assert single.total == 40


def test_a_schedule_needs_a_row() -> None:
    with pytest.raises(DomainError, match="at least one delivery row"):
        Schedule(())


@pytest.mark.parametrize("quantity", [0, -1])
def test_every_row_promises_something(quantity: int) -> None:
    with pytest.raises(DomainError, match=f"more than zero \\(got {quantity}\\)"):
        schedule((10, DEC_1), (quantity, DEC_15))


def test_two_rows_on_one_date_are_refused() -> None:
    with pytest.raises(DomainError, match="two delivery rows on the same date"):
        schedule((10, DEC_1), (20, DEC_1))


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [("0.5", DEC_1), (300, DEC_1), ("300.01", DEC_15), (500, DEC_15), (700, JAN_5), (10**6, JAN_5)],
)
def test_cover_date(quantity: int | str, expected: date) -> None:
    promise = schedule((300, DEC_1), (200, DEC_15), (100, JAN_5))
    assert promise.cover_date(D(quantity)) == expected


def test_a_schedule_survives_its_written_form() -> None:
    promise = schedule(("300.50", DEC_1), ("199.5", DEC_15))
    data = promise.to_data()
    assert data == [
        {"quantity": "300.5", "date": "2026-12-01"},
        {"quantity": "199.5", "date": "2026-12-15"},
    ]
    assert Schedule.from_data(data) == promise


def test_trailing_zeros_do_not_leak_into_the_written_form() -> None:
    assert schedule(("1E+2", DEC_1)).to_data() == [{"quantity": "100", "date": "2026-12-01"}]


rows = st.lists(
    st.tuples(
        st.decimals(min_value=D("0.001"), max_value=D(10**6), places=3),
        st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31)),
    ),
    min_size=1,
    max_size=6,
    unique_by=lambda row: row[1],
)


@given(rows)
def test_any_valid_schedule_round_trips_and_covers_its_total_on_its_last_date(
    raw: list[tuple[D, date]],
) -> None:
    promise = Schedule(tuple(DeliveryRow(quantity, on) for quantity, on in raw))
    assert Schedule.from_data(promise.to_data()) == promise
    assert promise.cover_date(promise.total) == promise.last_date
    assert promise.last_date == max(on for _quantity, on in raw)
    assert promise.cover_date(promise.rows[0].quantity) == promise.rows[0].date


# Shipments --------------------------------------------------------------------------------


def test_a_shipment_notice() -> None:
    notice = shipment((1, 200), (2, "50.5"))
    assert notice.to_data() == {
        "number": "ASN-1",
        "ship_date": "2026-12-01",
        "carrier": "DHL",
        "tracking_no": "JD0001",
        "expected_arrival": "2026-12-04",
        "lines": [{"line_no": 1, "quantity": "200"}, {"line_no": 2, "quantity": "50.5"}],
    }


def _shipment(**changes: object) -> Shipment:
    fields: dict[str, object] = {
        "number": "ASN-9",
        "ship_date": DEC_1,
        "carrier": "DHL",
        "tracking_no": "",
        "expected_arrival": None,
        "lines": (ShipmentLine(1, D(1)),),
    }
    fields.update(changes)
    return Shipment(**fields)  # type: ignore[arg-type]


def test_a_shipment_without_expected_arrival() -> None:
    assert _shipment().to_data()["expected_arrival"] is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lines": ()}, "A shipment needs at least one line with a quantity"),
        ({"carrier": "  "}, "A shipment needs the carrier's name"),
        (
            {"lines": (ShipmentLine(1, D(1)), ShipmentLine(1, D(2)))},
            "A shipment lists each purchase order line once",
        ),
        ({"lines": (ShipmentLine(3, D(0)),)}, "Shipped quantity on line 3 must be more than zero"),
        ({"expected_arrival": date(2026, 11, 30)}, "cannot be before the ship date"),
    ],
)
def test_a_shipment_checks_itself(changes: dict[str, object], message: str) -> None:
    with pytest.raises(DomainError, match=message):
        _shipment(**changes)


# Receipts ---------------------------------------------------------------------------------


def test_a_receipt_counts_what_it_accepts() -> None:
    counted = receipt((1, 100, 7), (2, "20.25"))
    assert [line.accepted for line in counted.lines] == [93, D("20.25")]
    assert counted.to_data()["lines"] == [
        {"line_no": 1, "received": "100", "rejected": "7", "note": ""},
        {"line_no": 2, "received": "20.25", "rejected": "0", "note": ""},
    ]
    assert counted.to_data()["shipment"] == "ASN-1"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ((), "A receipt needs at least one line"),
        (
            (ReceiptLine(1, D(1)), ReceiptLine(1, D(1))),
            "A receipt lists each purchase order line once",
        ),
        ((ReceiptLine(2, D(0)),), "Received quantity on line 2 must be more than zero"),
        ((ReceiptLine(2, D(5), D(-1)),), "Rejected quantity on line 2 must be between zero"),
        ((ReceiptLine(2, D(5), D(6)),), r"and the quantity received \(5\)"),
    ],
)
def test_a_receipt_checks_itself(lines: tuple[ReceiptLine, ...], message: str) -> None:
    with pytest.raises(DomainError, match=message):
        Receipt("GR-9", DEC_15, None, lines)


def test_everything_received_may_be_rejected() -> None:
    assert receipt((1, 5, 5)).lines[0].accepted == 0
