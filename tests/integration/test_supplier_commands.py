"""The supplier's shipments, posted, corrected and cancelled before receipt, and its answers to
the buyer's change requests, on both engines: the stored state, and the timeline entries with
their author, time and before/after; refused commands change nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from integration_support import (
    AT,
    BUYER,
    OTHER_SUPPLIER,
    SUPPLIER,
    SUPPLIER_ERP,
    WAREHOUSE,
    World,
    brief,
)

from portal.domain.changes import ChangeKind, LineChange
from portal.domain.errors import Conflict, DomainError, NotFound
from portal.domain.receipts import Receipt, ReceiptLine
from portal.domain.schedule import Schedule
from portal.domain.shipments import Shipment, ShipmentLine
from portal.services.change_requests import (
    DecideChangeRequest,
    OpenChangeRequest,
    Verdict,
    decide_change_request,
    open_change_request,
)
from portal.services.fulfilment import (
    CancelShipment,
    CorrectShipment,
    PostShipment,
    RecordReceipt,
    Shipped,
    cancel_shipment,
    correct_shipment,
    post_shipment,
    record_receipt,
)

LATER = AT + timedelta(hours=3)
DUE = "2026-03-03T09:30:15.250000Z"
"""AT plus the 24 hours a change request's other side has to decide it."""


def notice(*lines: tuple[int, str], number: str = "") -> Shipment:
    return Shipment(
        number,
        date(2026, 4, 8),
        "DHL",
        "JD0001",
        date(2026, 4, 10),
        tuple(ShipmentLine(line_no, Decimal(quantity)) for line_no, quantity in lines),
    )


async def shipped_po(world: World, *lines: tuple[int, str]) -> Shipped:
    """PO-1 (line 1: 100, line 2: 50) acknowledged, and `lines` shipped as ASN-2026-00001."""
    po = await world.acknowledged_po()
    return await post_shipment(
        world.uow(), SUPPLIER, PostShipment("PO-1", po.version, notice(*lines))
    )


# Shipments --------------------------------------------------------------------------------


async def test_post_shipment_gives_back_the_numbered_shipment(world: World) -> None:
    shipped = await shipped_po(world, (1, "60"))
    assert shipped.shipment == replace(notice((1, "60")), number="ASN-2026-00001")
    assert (shipped.po.number, shipped.po.version, shipped.po.status) == (
        "PO-1",
        3,
        "in_fulfilment",
    )
    (row,) = (await world.snapshot())["shipment"]
    assert (row["number"], row["status"], row["created_at"], row["updated_at"]) == (
        "ASN-2026-00001",
        "posted",
        AT,
        AT,
    )


async def test_correct_shipment_before_receipt(world: World) -> None:
    shipped = await shipped_po(world, (1, "100"), (2, "50"))
    assert shipped.po.status == "shipped"
    fixed = replace(
        shipped.shipment,
        carrier="UPS",
        tracking_no="1Z999",
        lines=(ShipmentLine(1, Decimal(100)), ShipmentLine(2, Decimal(30))),
    )

    result = await correct_shipment(
        world.uow(clock=lambda: LATER),
        SUPPLIER_ERP,
        CorrectShipment("PO-1", shipped.po.version, fixed, "Only 30 nuts fitted on the truck"),
    )

    assert result.shipment == fixed
    assert (result.po.version, result.po.status) == (4, "in_fulfilment")
    events = await world.new_events("po/PO-1", 4)
    assert [brief(e) for e in events] == [
        (5, "shipment.corrected", "Northwind ERP", "SUP1", "supplier", "api", "internal,supplier"),
    ]
    assert events[0]["at"] == LATER
    assert events[0]["data"] == {
        "number": "ASN-2026-00001",
        "reason": "Only 30 nuts fitted on the truck",
        "before": {
            "number": "ASN-2026-00001",
            "ship_date": "2026-04-08",
            "carrier": "DHL",
            "tracking_no": "JD0001",
            "expected_arrival": "2026-04-10",
            "lines": [{"line_no": 1, "quantity": "100"}, {"line_no": 2, "quantity": "50"}],
        },
        "after": {
            "number": "ASN-2026-00001",
            "ship_date": "2026-04-08",
            "carrier": "UPS",
            "tracking_no": "1Z999",
            "expected_arrival": "2026-04-10",
            "lines": [{"line_no": 1, "quantity": "100"}, {"line_no": 2, "quantity": "30"}],
        },
        "status": {"before": "shipped", "after": "in_fulfilment"},
    }
    row = await world.po_row("PO-1")
    assert (row["status"], row["version"], row["updated_at"]) == ("in_fulfilment", 4, LATER)
    lines = await world.po_lines("PO-1")
    assert (lines[1]["shipped_qty"], lines[2]["shipped_qty"]) == (100, 30)
    (stored,) = (await world.snapshot())["shipment"]
    assert (stored["carrier"], stored["tracking_no"], stored["status"]) == (
        "UPS",
        "1Z999",
        "posted",
    )
    assert (stored["created_at"], stored["updated_at"]) == (AT, LATER)
    await world.sealed()


async def test_cancel_shipment_before_receipt(world: World) -> None:
    shipped = await shipped_po(world, (1, "100"), (2, "50"))

    po = await cancel_shipment(
        world.uow(clock=lambda: LATER),
        SUPPLIER,
        CancelShipment("PO-1", shipped.po.version, "ASN-2026-00001", "Truck broke down"),
    )

    assert (po.version, po.status) == (4, "acknowledged")
    events = await world.new_events("po/PO-1", 4)
    assert [brief(e) for e in events] == [
        (5, "shipment.cancelled", "Sue Supplier", "SUP1", "supplier", "web", "internal,supplier"),
    ]
    assert events[0]["at"] == LATER
    assert events[0]["data"]["reason"] == "Truck broke down"
    assert events[0]["data"]["before"]["lines"] == [
        {"line_no": 1, "quantity": "100"},
        {"line_no": 2, "quantity": "50"},
    ]
    assert events[0]["data"]["after"] is None
    assert events[0]["data"]["status"] == {"before": "shipped", "after": "acknowledged"}
    lines = await world.po_lines("PO-1")
    assert (lines[1]["shipped_qty"], lines[2]["shipped_qty"]) == (0, 0)
    (stored,) = (await world.snapshot())["shipment"]
    assert (stored["status"], stored["updated_at"]) == ("cancelled", LATER)

    # A cancelled shipment stays cancelled: not again, not corrected, not received against,
    # and its number is not posted a second time.
    before = await world.snapshot()
    with pytest.raises(DomainError, match="Shipment ASN-2026-00001 was cancelled"):
        await cancel_shipment(
            world.uow(), SUPPLIER, CancelShipment("PO-1", po.version, "ASN-2026-00001", "again")
        )
    with pytest.raises(DomainError, match="Shipment ASN-2026-00001 was cancelled"):
        await correct_shipment(
            world.uow(),
            SUPPLIER,
            CorrectShipment("PO-1", po.version, notice((1, "5"), number="ASN-2026-00001"), "x"),
        )
    receipt = Receipt("GR-1", date(2026, 4, 10), "ASN-2026-00001", (ReceiptLine(1, Decimal(5)),))
    with pytest.raises(DomainError, match="Shipment ASN-2026-00001 was cancelled; receive"):
        await record_receipt(world.uow(), WAREHOUSE, RecordReceipt("PO-1", po.version, receipt))
    with pytest.raises(DomainError, match="Shipment ASN-2026-00001 was already posted"):
        await post_shipment(
            world.uow(),
            SUPPLIER,
            PostShipment("PO-1", po.version, notice((1, "5"), number="ASN-2026-00001")),
        )
    assert await world.snapshot() == before
    await world.sealed()


async def test_a_shipment_received_against_can_be_neither_corrected_nor_cancelled(
    world: World,
) -> None:
    shipped = await shipped_po(world, (1, "60"))
    receipt = Receipt("GR-1", date(2026, 4, 10), "ASN-2026-00001", (ReceiptLine(1, Decimal(20)),))
    po = await record_receipt(
        world.uow(), WAREHOUSE, RecordReceipt("PO-1", shipped.po.version, receipt)
    )
    before = await world.snapshot()
    with pytest.raises(DomainError) as refused:
        await cancel_shipment(
            world.uow(), SUPPLIER, CancelShipment("PO-1", po.version, "ASN-2026-00001", "x")
        )
    assert refused.value.message == (
        "Goods of shipment ASN-2026-00001 were received; it can no longer be cancelled."
    )
    fixed = replace(shipped.shipment, tracking_no="JD0002")
    with pytest.raises(DomainError, match="were received; it can no longer be corrected"):
        await correct_shipment(
            world.uow(), SUPPLIER, CorrectShipment("PO-1", po.version, fixed, "typo")
        )
    assert await world.snapshot() == before


async def test_a_correction_keeps_the_over_delivery_tolerance(world: World) -> None:
    shipped = await shipped_po(world, (1, "60"))
    before = await world.snapshot()
    too_much = replace(shipped.shipment, lines=(ShipmentLine(1, Decimal(101)),))
    with pytest.raises(DomainError, match="would make 101 of 100 ordered shipped"):
        await correct_shipment(
            world.uow(), SUPPLIER, CorrectShipment("PO-1", shipped.po.version, too_much, "more")
        )
    assert await world.snapshot() == before


async def test_shipment_commands_refuse_what_they_cannot_find_or_a_stale_version(
    world: World,
) -> None:
    shipped = await shipped_po(world, (1, "60"))
    before = await world.snapshot()
    version = shipped.po.version
    with pytest.raises(NotFound, match="Purchase order PO-1 has no shipment ASN-404"):
        await cancel_shipment(
            world.uow(), SUPPLIER, CancelShipment("PO-1", version, "ASN-404", "x")
        )
    with pytest.raises(NotFound, match="Purchase order PO-1 was not found"):
        await cancel_shipment(
            world.uow(), OTHER_SUPPLIER, CancelShipment("PO-1", version, "ASN-2026-00001", "x")
        )
    with pytest.raises(Conflict) as stale:
        await cancel_shipment(
            world.uow(), SUPPLIER, CancelShipment("PO-1", version - 1, "ASN-2026-00001", "x")
        )
    assert stale.value.current_version == version
    unknown_line = replace(shipped.shipment, lines=(ShipmentLine(7, Decimal(1)),))
    with pytest.raises(NotFound, match="Purchase order PO-1 has no line 7"):
        await correct_shipment(
            world.uow(), SUPPLIER, CorrectShipment("PO-1", version, unknown_line, "x")
        )
    with pytest.raises(DomainError, match="Say why shipment ASN-2026-00001 is cancelled"):
        await cancel_shipment(
            world.uow(), SUPPLIER, CancelShipment("PO-1", version, "ASN-2026-00001", " ")
        )
    assert await world.snapshot() == before


# Answering the buyer's change requests ---------------------------------------------------


async def test_a_supplier_negotiates_a_buyers_change_request_over_several_rounds(
    world: World,
) -> None:
    po = await world.acknowledged_po()
    opened = await open_change_request(
        world.uow(),
        BUYER,
        OpenChangeRequest(
            "PO-1",
            po.version,
            (LineChange(1, ChangeKind.QUANTITY, quantity=Decimal(150)),),
            "customer_request",
            "Our customer doubled up",
        ),
    )
    assert (opened.number, opened.status, opened.round) == ("PO-1-CR1", "open", 1)
    assert opened.due_at == AT + timedelta(hours=24)

    # The buyer cannot approve its own request, nor the supplier withdraw what it did not open.
    before = await world.snapshot()
    with pytest.raises(DomainError, match="only the supplier side can approve it"):
        await decide_change_request(
            world.uow(), BUYER, DecideChangeRequest("PO-1-CR1", 1, Verdict.APPROVE)
        )
    with pytest.raises(DomainError, match="which opened change request PO-1-CR1"):
        await decide_change_request(
            world.uow(), SUPPLIER, DecideChangeRequest("PO-1-CR1", 1, Verdict.WITHDRAW)
        )
    assert await world.snapshot() == before

    first = await decide_change_request(
        world.uow(),
        SUPPLIER,
        DecideChangeRequest(
            "PO-1-CR1",
            1,
            Verdict.COUNTER,
            "120 is what we can make",
            (LineChange(1, ChangeKind.QUANTITY, quantity=Decimal(120)),),
            "capacity",
        ),
    )
    assert first.counter is not None
    second = await decide_change_request(
        world.uow(),
        BUYER,
        DecideChangeRequest(
            first.counter.number,
            1,
            Verdict.COUNTER,
            "Meet at 130?",
            (LineChange(1, ChangeKind.QUANTITY, quantity=Decimal(130)),),
            "customer_request",
        ),
    )
    assert second.counter is not None
    agreed = await decide_change_request(
        world.uow(),
        SUPPLIER_ERP,
        DecideChangeRequest(second.counter.number, 1, Verdict.APPROVE, "Deal"),
    )

    assert (agreed.change_request.number, agreed.change_request.status) == ("PO-1-CR3", "approved")
    events = await world.new_events("po/PO-1", 3)
    assert [brief(e) for e in events] == [
        (4, "cr.opened", "Bea Buyer", "ACME", "internal", "web", "internal,supplier"),
        (5, "cr.countered", "Sue Supplier", "SUP1", "supplier", "web", "internal,supplier"),
        (6, "cr.opened", "Sue Supplier", "SUP1", "supplier", "web", "internal,supplier"),
        (7, "cr.countered", "Bea Buyer", "ACME", "internal", "web", "internal,supplier"),
        (8, "cr.opened", "Bea Buyer", "ACME", "internal", "web", "internal,supplier"),
        (9, "cr.approved", "Northwind ERP", "SUP1", "supplier", "api", "internal,supplier"),
    ]
    rounds = [
        (e["data"]["number"], e["data"]["round"], e["data"]["supersedes"])
        for e in events
        if e["kind"] == "cr.opened"
    ]
    assert rounds == [
        ("PO-1-CR1", 1, None),
        ("PO-1-CR2", 2, "PO-1-CR1"),
        ("PO-1-CR3", 3, "PO-1-CR2"),
    ]
    assert all(e["data"]["due_at"] == DUE for e in events if e["kind"] == "cr.opened")
    assert events[-1]["data"] == {
        "number": "PO-1-CR3",
        "comment": "Deal",
        "applied": [
            {"line_no": 1, "kind": "quantity", "before": "100", "after": "130"},
            {
                "line_no": 1,
                "kind": "promise",
                "before": [{"quantity": "100", "date": "2026-04-10"}],
                "after": [{"quantity": "130", "date": "2026-04-10"}],
            },
        ],
        "status": {"before": "acknowledged", "after": "acknowledged"},
    }
    crs = {n: await world.cr_row(n) for n in ("PO-1-CR1", "PO-1-CR2", "PO-1-CR3")}
    assert [(c["status"], c["opened_by"], c["superseded_by"]) for c in crs.values()] == [
        ("countered", "internal", "PO-1-CR2"),
        ("countered", "supplier", "PO-1-CR3"),
        ("approved", "internal", None),
    ]
    assert crs["PO-1-CR3"]["decided_by_name"] == "Northwind ERP"
    assert all(c["due_at"] == AT + timedelta(hours=24) for c in crs.values())
    assert (await world.po_lines("PO-1"))[1]["quantity"] == 130
    await world.sealed()


async def test_a_supplier_rejects_a_buyers_change_request(world: World) -> None:
    po = await world.acknowledged_po()
    await open_change_request(
        world.uow(),
        BUYER,
        OpenChangeRequest("PO-1", po.version, (LineChange(2, ChangeKind.CANCEL),), "buyer_request"),
    )
    before = await world.snapshot()
    with pytest.raises(DomainError, match="Say why the change request is rejected"):
        await decide_change_request(
            world.uow(), SUPPLIER, DecideChangeRequest("PO-1-CR1", 1, Verdict.REJECT, " ")
        )
    assert await world.snapshot() == before

    await decide_change_request(
        world.uow(),
        SUPPLIER,
        DecideChangeRequest("PO-1-CR1", 1, Verdict.REJECT, "The nuts are already made"),
    )

    events = await world.new_events("po/PO-1", 4)
    assert [brief(e) for e in events] == [
        (5, "cr.rejected", "Sue Supplier", "SUP1", "supplier", "web", "internal,supplier"),
    ]
    assert events[0]["data"] == {
        "number": "PO-1-CR1",
        "reason": "The nuts are already made",
        "status": {"before": "acknowledged", "after": "acknowledged"},
    }
    cr = await world.cr_row("PO-1-CR1")
    assert (cr["status"], cr["decided_by_name"], cr["decided_at"]) == (
        "rejected",
        "Sue Supplier",
        AT,
    )
    assert not (await world.po_lines("PO-1"))[2]["cancelled"]
    await world.sealed()


async def test_another_supplier_cannot_see_or_answer_the_change_request(world: World) -> None:
    po = await world.acknowledged_po()
    await open_change_request(
        world.uow(),
        BUYER,
        OpenChangeRequest("PO-1", po.version, (LineChange(2, ChangeKind.CANCEL),), "buyer_request"),
    )
    before = await world.snapshot()
    with pytest.raises(NotFound, match="Change request PO-1-CR1 was not found"):
        await decide_change_request(
            world.uow(), OTHER_SUPPLIER, DecideChangeRequest("PO-1-CR1", 1, Verdict.APPROVE)
        )
    assert await world.snapshot() == before


async def test_a_change_request_or_counter_for_a_day_gone_is_refused(world: World) -> None:
    po = await world.acknowledged_po()
    gone = (
        LineChange(1, ChangeKind.DATE, schedule=Schedule.single(Decimal(100), date(2026, 3, 1))),
    )
    before = await world.snapshot()
    with pytest.raises(DomainError) as refused:
        await open_change_request(
            world.uow(), SUPPLIER, OpenChangeRequest("PO-1", po.version, gone, "capacity")
        )
    assert refused.value.message == (
        "Line 1: the delivery date 2026-03-01 is in the past; promise 2026-03-02 or later."
    )
    assert await world.snapshot() == before

    await open_change_request(
        world.uow(),
        BUYER,
        OpenChangeRequest(
            "PO-1",
            po.version,
            (LineChange(1, ChangeKind.QUANTITY, quantity=Decimal(150)),),
            "customer_request",
        ),
    )
    before = await world.snapshot()
    with pytest.raises(DomainError, match="the delivery date 2026-03-01 is in the past"):
        await decide_change_request(
            world.uow(),
            SUPPLIER,
            DecideChangeRequest("PO-1-CR1", 1, Verdict.COUNTER, "Later", gone, "capacity"),
        )
    assert await world.snapshot() == before
