"""Every service command against a real database: the exact events it appends (stream, seq,
kind, actor, via, audience, data, time from the unit of work's clock) and the projection rows
it leaves behind. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from integration_support import (
    AT,
    BUYER,
    CUSTOMER,
    GENESIS,
    SALES,
    SUPPLIER,
    SUPPLIER_ERP,
    SYSTEM_ACTOR,
    WAREHOUSE,
    World,
    brief,
    on,
    po_line,
    so_line,
    split,
)

from portal.domain.changes import ChangeKind, LineChange, TolerancePolicy
from portal.domain.errors import Conflict, DomainError
from portal.domain.receipts import Receipt, ReceiptLine
from portal.domain.shipments import Shipment, ShipmentLine
from portal.services import purchase_orders as pos
from portal.services import sales_orders as sos
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge
from portal.services.change_requests import (
    DecideChangeRequest,
    OpenChangeRequest,
    Verdict,
    decide_change_request,
    open_change_request,
)
from portal.services.comments import AddComment, OrderKind, add_comment
from portal.services.fulfilment import PostShipment, RecordReceipt, post_shipment, record_receipt
from portal.services.promises import UpdatePromise, update_promise
from portal.services.unit_of_work import Rules

LINES_DATA = [
    {
        "line_no": 1,
        "item": "BOLT-M8",
        "description": "BOLT-M8 description",
        "quantity": "100",
        "unit": "pcs",
        "unit_price": "0.25",
        "need_date": "2026-04-10",
    },
    {
        "line_no": 2,
        "item": "NUT-M8",
        "description": "NUT-M8 description",
        "quantity": "50",
        "unit": "pcs",
        "unit_price": "0.25",
        "need_date": "2026-04-10",
    },
]
DUE = "2026-03-03T09:30:15.250000Z"  # AT + the default 24 hours of CR SLA


def promise(*rows: tuple[str, str]) -> list[dict[str, str]]:
    return [{"quantity": quantity, "date": day} for quantity, day in rows]


# Purchase orders ---------------------------------------------------------------------------


async def test_issue_purchase_order_writes_created_and_issued(world: World) -> None:
    uow = world.uow()
    po = await pos.issue_purchase_order(
        uow,
        BUYER,
        pos.IssuePurchaseOrder(
            supplier="SUP1",
            currency="usd",
            lines=[po_line(2, item="NUT-M8", quantity="50"), po_line(1)],
            number="PO-1",
        ),
    )

    events = await world.events("po/PO-1")
    assert [brief(e) for e in events] == [
        (1, "po.created", "Bea Buyer", "ACME", "internal", "web", "internal"),
        (2, "po.issued", "Bea Buyer", "ACME", "internal", "web", "internal,supplier"),
    ]
    assert events[0]["actor"] == BUYER.to_data()
    assert events[0]["data"] == {"supplier": "SUP1", "currency": "USD", "lines": LINES_DATA}
    assert events[1]["data"] == {
        "supplier": "SUP1",
        "currency": "USD",
        "lines": LINES_DATA,
        "status": {"before": "draft", "after": "issued"},
    }
    assert all(e["at"] == AT and e["stream"] == "po/PO-1" for e in events)
    assert events[0]["prev_hash"] == GENESIS
    assert events[1]["prev_hash"] == events[0]["hash"]
    assert [(e.seq, e.kind, e.hash) for e in uow.committed] == [
        (e["seq"], e["kind"], e["hash"]) for e in events
    ]

    row = await world.po_row("PO-1")
    assert (row["status"], row["version"], row["supplier"], row["currency"]) == (
        "issued",
        1,
        "SUP1",
        "USD",
    )
    assert (row["buyer"], row["cr_count"], row["created_at"], row["updated_at"]) == (
        "Bea Buyer",
        0,
        AT,
        AT,
    )
    lines = await world.po_lines("PO-1")
    assert sorted(lines) == [1, 2]
    assert (lines[2]["item"], lines[2]["quantity"], lines[2]["need_date"]) == (
        "NUT-M8",
        Decimal(50),
        date(2026, 4, 10),
    )
    assert lines[1]["promise"] is None and lines[1]["promised_date"] is None
    assert lines[1]["shipped_qty"] == lines[1]["received_qty"] == Decimal(0)
    assert (po.version, po.status) == (1, "issued")
    assert await world.head("po/PO-1") == 2
    await world.sealed()


async def test_issue_purchase_order_numbers_from_the_counter(world: World) -> None:
    for _ in range(2):
        await pos.issue_purchase_order(
            world.uow(), BUYER, pos.IssuePurchaseOrder("SUP1", "EUR", [po_line(1)])
        )
    rows = await world.snapshot()
    assert [row["number"] for row in rows["purchase_order"]] == [
        "PO-2026-00001",
        "PO-2026-00002",
    ]
    assert [(row["name"], row["value"]) for row in rows["counter"]] == [("PO-2026", 2)]
    assert sorted(row["name"] for row in rows["stream"]) == [
        "po/PO-2026-00001",
        "po/PO-2026-00002",
    ]


async def test_issue_purchase_order_refuses_a_customer_as_supplier(world: World) -> None:
    before = await world.snapshot()
    with pytest.raises(DomainError, match="'CUS1' is not a supplier"):
        await pos.issue_purchase_order(
            world.uow(), BUYER, pos.IssuePurchaseOrder("CUS1", "USD", [po_line(1)], number="PO-9")
        )
    assert await world.snapshot() == before


async def test_draft_then_issue_draft(world: World) -> None:
    draft = await world.issue_po(draft=True)
    events = await world.events("po/PO-1")
    assert [brief(e) for e in events] == [
        (1, "po.created", "Bea Buyer", "ACME", "internal", "web", "internal"),
    ]
    row = await world.po_row("PO-1")
    assert (row["status"], row["version"]) == ("draft", 1)

    issued = await pos.issue_draft(world.uow(), BUYER, pos.IssueDraft("PO-1", draft.version))

    events = await world.new_events("po/PO-1", 1)
    assert [brief(e) for e in events] == [
        (2, "po.issued", "Bea Buyer", "ACME", "internal", "web", "internal,supplier"),
    ]
    assert events[0]["data"] == {
        "supplier": "SUP1",
        "currency": "USD",
        "lines": LINES_DATA,
        "status": {"before": "draft", "after": "issued"},
    }
    assert events[0]["at"] == AT
    row = await world.po_row("PO-1")
    assert (row["status"], row["version"], issued.version) == ("issued", 2, 2)
    await world.sealed()


async def test_cancel_purchase_order(world: World) -> None:
    po = await world.issue_po()
    await pos.cancel_purchase_order(
        world.uow(), BUYER, pos.CancelPurchaseOrder("PO-1", po.version, "Project stopped")
    )
    events = await world.new_events("po/PO-1", 2)
    assert [brief(e) for e in events] == [
        (3, "po.cancelled", "Bea Buyer", "ACME", "internal", "web", "internal,supplier"),
    ]
    assert events[0]["data"] == {
        "reason": "Project stopped",
        "status": {"before": "issued", "after": "cancelled"},
        "change_requests_closed": [],
    }
    assert events[0]["at"] == AT
    row = await world.po_row("PO-1")
    assert (row["status"], row["version"]) == ("cancelled", 2)
    await world.sealed()


async def test_close_purchase_order_after_everything_arrived(world: World) -> None:
    po = await world.acknowledged_po(lines=[po_line(1, quantity="10")])
    shipment = Shipment(
        "ASN-1", date(2026, 4, 8), "DHL", "JD1", None, (ShipmentLine(1, Decimal(10)),)
    )
    po = (await post_shipment(world.uow(), SUPPLIER, PostShipment("PO-1", po.version, shipment))).po
    receipt = Receipt("GR-1", date(2026, 4, 10), "ASN-1", (ReceiptLine(1, Decimal(10)),))
    po = await record_receipt(world.uow(), WAREHOUSE, RecordReceipt("PO-1", po.version, receipt))
    assert (await world.po_row("PO-1"))["status"] == "received"
    seq = await world.head("po/PO-1")

    closed = await pos.close_purchase_order(
        world.uow(), BUYER, pos.ClosePurchaseOrder("PO-1", po.version)
    )

    events = await world.new_events("po/PO-1", seq)
    assert [brief(e) for e in events] == [
        (seq + 1, "po.closed", "Bea Buyer", "ACME", "internal", "web", "internal,supplier"),
    ]
    assert events[0]["data"] == {"status": {"before": "received", "after": "closed"}, "short": []}
    row = await world.po_row("PO-1")
    assert (row["status"], row["version"], closed.version) == ("closed", po.version + 1, 5)
    await world.sealed()


LATER_AT = AT + timedelta(days=2, hours=3)
"""A second time for the units of work of a test, to tell its later writes from its first."""


def later_clock() -> datetime:
    return LATER_AT


async def countered_acknowledgement(world: World, number: str = "PO-1") -> None:
    """`number` issued; the supplier accepted it with a later date for line 2 (CR1), the buyer
    countered (CR1 countered, CR2 open): the order still waits for that decision."""
    po = await world.issue_po(number)
    await acknowledge(
        world.uow(),
        SUPPLIER,
        Acknowledge(
            number,
            po.version,
            Decision.ACCEPT_WITH_CHANGES,
            changes=(LineChange(2, ChangeKind.DATE, schedule=on(date(2026, 4, 25), "50")),),
            reason_code="capacity",
        ),
    )
    await decide_change_request(
        world.uow(),
        BUYER,
        DecideChangeRequest(
            f"{number}-CR1",
            1,
            Verdict.COUNTER,
            "The 18th at the latest",
            changes=(LineChange(2, ChangeKind.DATE, schedule=on(date(2026, 4, 18), "50")),),
            reason_code="buyer_request",
        ),
    )


async def test_cancel_purchase_order_closes_its_open_change_requests(world: World) -> None:
    await countered_acknowledgement(world, "PO-1")
    await countered_acknowledgement(world, "PO-2")
    countered = await world.cr_row("PO-1-CR1")
    other = [await world.cr_row(number) for number in ("PO-2-CR1", "PO-2-CR2")]
    po = await world.po_row("PO-1")
    assert (po["status"], po["version"], po["cr_count"]) == ("changes_proposed", 3, 2)
    seq = await world.head("po/PO-1")

    cancelled = await pos.cancel_purchase_order(
        world.uow(clock=later_clock),
        BUYER,
        pos.CancelPurchaseOrder("PO-1", po["version"], "Customer cancelled the project"),
    )

    events = await world.new_events("po/PO-1", seq)
    assert [brief(e) for e in events] == [
        (seq + 1, "po.cancelled", "Bea Buyer", "ACME", "internal", "web", "internal,supplier"),
    ]
    assert events[0]["data"] == {
        "reason": "Customer cancelled the project",
        "status": {"before": "changes_proposed", "after": "cancelled"},
        "change_requests_closed": ["PO-1-CR2"],
    }
    assert events[0]["at"] == LATER_AT
    row = await world.po_row("PO-1")
    assert (row["status"], row["version"], row["cr_count"], cancelled.version) == (
        "cancelled",
        4,
        2,
        4,
    )
    assert row["updated_at"] == LATER_AT
    closed = await world.cr_row("PO-1-CR2")
    assert (closed["status"], closed["decided_by_name"], closed["decision_comment"]) == (
        "cancelled",
        "Bea Buyer",
        "Customer cancelled the project",
    )
    assert (closed["version"], closed["decided_at"], closed["created_at"]) == (2, LATER_AT, AT)
    # What the request asked for, and who asked, stay as they were.
    assert (closed["opened_by"], closed["opened_by_name"], closed["round"]) == (
        "internal",
        "Bea Buyer",
        2,
    )
    assert closed["changes"] == [
        {"line_no": 2, "kind": "date", "schedule": promise(("50", "2026-04-18"))}
    ]
    # A request already decided, and the requests on another order, are left alone.
    assert await world.cr_row("PO-1-CR1") == countered
    assert [await world.cr_row(number) for number in ("PO-2-CR1", "PO-2-CR2")] == other
    assert other[1]["status"] == "open"
    assert (await world.po_row("PO-2"))["status"] == "changes_proposed"
    # Nothing was applied: line 2 is still unpromised.
    assert (await world.po_lines("PO-1"))[2]["promise"] is None
    await world.sealed()


async def test_cancel_purchase_order_with_a_stale_version_changes_nothing(world: World) -> None:
    await countered_acknowledgement(world)
    current = (await world.po_row("PO-1"))["version"]
    before = await world.snapshot()

    for stale in (current - 1, current + 1):
        with pytest.raises(Conflict) as refused:
            await pos.cancel_purchase_order(
                world.uow(), BUYER, pos.CancelPurchaseOrder("PO-1", stale, "Project stopped")
            )
        assert refused.value.current_version == current

    assert await world.snapshot() == before
    assert (await world.cr_row("PO-1-CR2"))["status"] == "open"


async def test_a_closed_change_request_can_no_longer_be_decided(world: World) -> None:
    await countered_acknowledgement(world)
    po = await world.po_row("PO-1")
    await pos.cancel_purchase_order(
        world.uow(), BUYER, pos.CancelPurchaseOrder("PO-1", po["version"], "Project stopped")
    )
    before = await world.snapshot()
    with pytest.raises(DomainError, match="PO-1-CR2: it is cancelled"):
        await decide_change_request(
            world.uow(), SUPPLIER, DecideChangeRequest("PO-1-CR2", 2, Verdict.APPROVE)
        )
    assert await world.snapshot() == before


async def test_close_purchase_order_short_from_in_fulfilment(world: World) -> None:
    """The buyer settles for what came: line 1 arrived in part, line 2 not at all; line 3,
    cancelled by an agreed change, is not short."""
    po = await world.acknowledged_po(
        lines=[po_line(1), po_line(2, item="NUT-M8", quantity="50"), po_line(3, item="WASHER")]
    )
    cr = await open_change_request(
        world.uow(),
        BUYER,
        OpenChangeRequest("PO-1", po.version, (LineChange(3, ChangeKind.CANCEL),), "buyer_request"),
    )
    await decide_change_request(
        world.uow(), SUPPLIER, DecideChangeRequest(cr.number, 1, Verdict.APPROVE)
    )
    version = (await world.po_row("PO-1"))["version"]
    shipment = Shipment(
        "ASN-1", date(2026, 4, 8), "DHL", "JD1", None, (ShipmentLine(1, Decimal(60)),)
    )
    po = (await post_shipment(world.uow(), SUPPLIER, PostShipment("PO-1", version, shipment))).po
    receipt = Receipt("GR-1", date(2026, 4, 10), "ASN-1", (ReceiptLine(1, Decimal(60)),))
    po = await record_receipt(world.uow(), WAREHOUSE, RecordReceipt("PO-1", po.version, receipt))
    assert (await world.po_row("PO-1"))["status"] == "in_fulfilment"
    lines_before = await world.po_lines("PO-1")
    seq = await world.head("po/PO-1")

    closed = await pos.close_purchase_order(
        world.uow(), BUYER, pos.ClosePurchaseOrder("PO-1", po.version)
    )

    events = await world.new_events("po/PO-1", seq)
    assert [brief(e) for e in events] == [
        (seq + 1, "po.closed", "Bea Buyer", "ACME", "internal", "web", "internal,supplier"),
    ]
    assert events[0]["data"] == {
        "status": {"before": "in_fulfilment", "after": "closed"},
        "short": [
            {"line_no": 1, "quantity": "100", "received": "60"},
            {"line_no": 2, "quantity": "50", "received": "0"},
        ],
    }
    assert events[0]["at"] == AT
    row = await world.po_row("PO-1")
    assert (row["status"], row["version"], closed.version) == (
        "closed",
        po.version + 1,
        po.version + 1,
    )
    # Closing short changes no quantity: what came is what the lines say.
    assert await world.po_lines("PO-1") == lines_before
    await world.sealed()


async def test_close_purchase_order_short_from_shipped(world: World) -> None:
    po = await world.acknowledged_po()
    shipment = Shipment(
        "ASN-1",
        date(2026, 4, 8),
        "DHL",
        "JD1",
        None,
        (ShipmentLine(1, Decimal(100)), ShipmentLine(2, Decimal(50))),
    )
    po = (await post_shipment(world.uow(), SUPPLIER, PostShipment("PO-1", po.version, shipment))).po
    receipt = Receipt("GR-1", date(2026, 4, 10), "ASN-1", (ReceiptLine(1, Decimal(100)),))
    po = await record_receipt(world.uow(), WAREHOUSE, RecordReceipt("PO-1", po.version, receipt))
    assert (await world.po_row("PO-1"))["status"] == "shipped"
    seq = await world.head("po/PO-1")

    await pos.close_purchase_order(world.uow(), BUYER, pos.ClosePurchaseOrder("PO-1", po.version))

    events = await world.new_events("po/PO-1", seq)
    assert [e["kind"] for e in events] == ["po.closed"]
    assert events[0]["data"] == {
        "status": {"before": "shipped", "after": "closed"},
        "short": [{"line_no": 2, "quantity": "50", "received": "0"}],
    }
    row = await world.po_row("PO-1")
    assert (row["status"], row["version"]) == ("closed", po.version + 1)
    await world.sealed()


async def test_close_purchase_order_before_anything_shipped_is_refused(world: World) -> None:
    po = await world.acknowledged_po()
    before = await world.snapshot()
    with pytest.raises(DomainError, match="Cannot close purchase order PO-1: it is acknowledged"):
        await pos.close_purchase_order(
            world.uow(), BUYER, pos.ClosePurchaseOrder("PO-1", po.version)
        )
    assert await world.snapshot() == before


# Acknowledgements --------------------------------------------------------------------------


async def test_acknowledge_accept_confirms_every_line(world: World) -> None:
    po = await world.issue_po()
    result = await acknowledge(
        world.uow(),
        SUPPLIER_ERP,
        Acknowledge(
            "PO-1",
            po.version,
            Decision.ACCEPT,
            promises={1: split(("60", date(2026, 4, 6)), ("40", date(2026, 4, 10)))},
        ),
    )

    events = await world.new_events("po/PO-1", 2)
    assert [brief(e) for e in events] == [
        (3, "po.acknowledged", "Northwind ERP", "SUP1", "supplier", "api", "internal,supplier"),
    ]
    assert events[0]["actor"] == {
        "kind": "client",
        "id": "c-nw-erp",
        "org": "SUP1",
        "side": "supplier",
        "name": "Northwind ERP",
        "role": None,
    }
    assert events[0]["data"] == {
        "decision": "accepted",
        "status": {"before": "issued", "after": "acknowledged"},
        "lines": [
            {"line_no": 1, "promise": promise(("60", "2026-04-06"), ("40", "2026-04-10"))},
            {"line_no": 2, "promise": promise(("50", "2026-04-10"))},
        ],
    }
    assert events[0]["at"] == AT
    row = await world.po_row("PO-1")
    assert (row["status"], row["version"], result.po.version) == ("acknowledged", 2, 2)
    assert result.change_request is None
    lines = await world.po_lines("PO-1")
    assert lines[1]["promise"] == promise(("60", "2026-04-06"), ("40", "2026-04-10"))
    assert lines[1]["first_promise"] == lines[1]["promise"]
    assert lines[1]["promised_date"] == date(2026, 4, 10)
    assert lines[2]["promise"] == promise(("50", "2026-04-10"))
    assert lines[2]["promised_date"] == date(2026, 4, 10)
    await world.sealed()


async def test_acknowledge_accept_refuses_a_promise_after_the_need_date(world: World) -> None:
    """Promising later than the need date is a change the buyer must agree to: accepting
    with it is refused, and nothing is written."""
    po = await world.issue_po()
    before = await world.snapshot()
    with pytest.raises(
        DomainError, match=r"needed by 2026-04-10; to promise 2026-04-11, accept with changes"
    ):
        await acknowledge(
            world.uow(),
            SUPPLIER,
            Acknowledge(
                "PO-1",
                po.version,
                Decision.ACCEPT,
                promises={1: split(("60", date(2026, 4, 8)), ("40", date(2026, 4, 11)))},
            ),
        )
    assert await world.snapshot() == before


async def test_acknowledge_reject(world: World) -> None:
    po = await world.issue_po()
    await acknowledge(
        world.uow(),
        SUPPLIER,
        Acknowledge("PO-1", po.version, Decision.REJECT, reason="Item discontinued"),
    )
    events = await world.new_events("po/PO-1", 2)
    assert [brief(e) for e in events] == [
        (3, "po.rejected", "Sue Supplier", "SUP1", "supplier", "web", "internal,supplier"),
    ]
    assert events[0]["data"] == {
        "decision": "rejected",
        "reason": "Item discontinued",
        "status": {"before": "issued", "after": "rejected"},
    }
    assert events[0]["at"] == AT
    row = await world.po_row("PO-1")
    assert (row["status"], row["version"]) == ("rejected", 2)
    assert all(line["promise"] is None for line in (await world.po_lines("PO-1")).values())
    await world.sealed()


async def test_acknowledge_accept_with_changes_opens_a_change_request(world: World) -> None:
    po = await world.issue_po()
    change = LineChange(2, ChangeKind.DATE, schedule=on(date(2026, 4, 25), "50"))
    result = await acknowledge(
        world.uow(),
        SUPPLIER,
        Acknowledge(
            "PO-1",
            po.version,
            Decision.ACCEPT_WITH_CHANGES,
            changes=(change,),
            reason_code="capacity",
            comment="Line 2 needs two more weeks",
        ),
    )

    events = await world.new_events("po/PO-1", 2)
    assert [brief(e) for e in events] == [
        (3, "po.acknowledged", "Sue Supplier", "SUP1", "supplier", "web", "internal,supplier"),
        (4, "cr.opened", "Sue Supplier", "SUP1", "supplier", "web", "internal,supplier"),
    ]
    assert events[0]["data"] == {
        "decision": "accepted_with_changes",
        "changed_lines": [2],
        "status": {"before": "issued", "after": "changes_proposed"},
        "lines": [{"line_no": 1, "promise": promise(("100", "2026-04-10"))}],
    }
    assert events[1]["data"] == {
        "number": "PO-1-CR1",
        "round": 1,
        "opened_by": "supplier",
        "reason_code": "capacity",
        "comment": "Line 2 needs two more weeks",
        "changes": [
            {"line_no": 2, "kind": "date", "schedule": promise(("50", "2026-04-25"))},
        ],
        "supersedes": None,
        "due_at": DUE,
    }
    assert all(e["at"] == AT for e in events)
    row = await world.po_row("PO-1")
    assert (row["status"], row["version"], row["cr_count"]) == ("changes_proposed", 2, 1)
    lines = await world.po_lines("PO-1")
    assert lines[1]["promise"] == promise(("100", "2026-04-10"))
    assert lines[2]["promise"] is None
    cr = await world.cr_row("PO-1-CR1")
    assert (cr["status"], cr["opened_by"], cr["opened_by_name"], cr["reason_code"]) == (
        "open",
        "supplier",
        "Sue Supplier",
        "capacity",
    )
    assert (cr["from_acknowledgement"], cr["auto_approved"], cr["round"], cr["version"]) == (
        True,
        False,
        1,
        1,
    )
    assert (cr["po"], cr["due_at"], cr["created_at"], cr["decided_at"]) == (
        row["id"],
        AT + timedelta(hours=24),
        AT,
        None,
    )
    assert cr["changes"] == [
        {"line_no": 2, "kind": "date", "schedule": promise(("50", "2026-04-25"))}
    ]
    assert result.change_request is not None
    assert result.change_request.number == "PO-1-CR1"
    await world.sealed()


# Promises ----------------------------------------------------------------------------------


async def test_change_promise(world: World) -> None:
    world.rules = Rules(tolerance=TolerancePolicy(max_date_move_days=11))  # applies at once
    po = await world.acknowledged_po()
    changed = await update_promise(
        world.uow(),
        SUPPLIER,
        UpdatePromise(
            "PO-1",
            po.version,
            1,
            split(("70", date(2026, 4, 14)), ("30", date(2026, 4, 21))),
            "material_shortage",
            "Steel arrives late",
        ),
    )

    events = await world.new_events("po/PO-1", 3)
    assert [brief(e) for e in events] == [
        (4, "line.promise_changed", "Sue Supplier", "SUP1", "supplier", "web", "internal,supplier"),
    ]
    assert events[0]["data"] == {
        "line_no": 1,
        "before": promise(("100", "2026-04-10")),
        "after": promise(("70", "2026-04-14"), ("30", "2026-04-21")),
        "reason_code": "material_shortage",
        "comment": "Steel arrives late",
    }
    assert events[0]["at"] == AT
    row = await world.po_row("PO-1")
    assert (row["status"], row["version"], changed.orders[0].version) == ("acknowledged", 3, 3)
    assert row["updated_at"] == AT
    lines = await world.po_lines("PO-1")
    assert lines[1]["promise"] == promise(("70", "2026-04-14"), ("30", "2026-04-21"))
    assert lines[1]["first_promise"] == promise(("100", "2026-04-10"))
    assert lines[1]["promised_date"] == date(2026, 4, 21)
    assert lines[2]["promise"] == promise(("50", "2026-04-10"))
    await world.sealed()


# Change requests ---------------------------------------------------------------------------


async def supplier_date_request(world: World, day: date = date(2026, 4, 25)) -> str:
    """An acknowledged PO-1 with the supplier's open request to move line 1 to `day`."""
    po = await world.acknowledged_po()
    cr = await open_change_request(
        world.uow(),
        SUPPLIER,
        OpenChangeRequest(
            "PO-1",
            po.version,
            (LineChange(1, ChangeKind.DATE, schedule=on(day)),),
            "capacity",
            "Our press is down",
        ),
    )
    return cr.number


async def test_open_change_request_by_the_buyer(world: World) -> None:
    po = await world.acknowledged_po()
    cr = await open_change_request(
        world.uow(),
        BUYER,
        OpenChangeRequest(
            "PO-1",
            po.version,
            (LineChange(1, ChangeKind.QUANTITY, quantity=Decimal(120)),),
            "buyer_request",
            "We need more",
        ),
    )

    events = await world.new_events("po/PO-1", 3)
    assert [brief(e) for e in events] == [
        (4, "cr.opened", "Bea Buyer", "ACME", "internal", "web", "internal,supplier"),
    ]
    assert events[0]["data"] == {
        "number": "PO-1-CR1",
        "round": 1,
        "opened_by": "internal",
        "reason_code": "buyer_request",
        "comment": "We need more",
        "changes": [{"line_no": 1, "kind": "quantity", "quantity": "120"}],
        "supersedes": None,
        "due_at": DUE,
    }
    assert events[0]["at"] == AT
    row = await world.po_row("PO-1")
    assert (row["status"], row["version"], row["cr_count"]) == ("acknowledged", 3, 1)
    assert (await world.po_lines("PO-1"))[1]["quantity"] == Decimal(100)
    stored = await world.cr_row("PO-1-CR1")
    assert (stored["status"], stored["opened_by"], stored["from_acknowledgement"]) == (
        "open",
        "internal",
        False,
    )
    assert (cr.number, cr.status) == ("PO-1-CR1", "open")
    await world.sealed()


async def test_open_change_request_within_tolerance_is_auto_approved(world: World) -> None:
    world.rules = Rules(tolerance=TolerancePolicy(3, Decimal(5)))
    po = await world.acknowledged_po()
    await open_change_request(
        world.uow(),
        SUPPLIER,
        OpenChangeRequest(
            "PO-1",
            po.version,
            (LineChange(1, ChangeKind.DATE, schedule=on(date(2026, 4, 12))),),
            "logistics",
        ),
    )

    events = await world.new_events("po/PO-1", 3)
    assert [brief(e) for e in events] == [
        (4, "cr.opened", "Sue Supplier", "SUP1", "supplier", "web", "internal,supplier"),
        (5, "cr.auto_approved", "system", None, "internal", "system", "internal,supplier"),
    ]
    assert events[1]["actor"] == SYSTEM_ACTOR
    assert events[1]["data"] == {
        "number": "PO-1-CR1",
        "applied": [
            {
                "line_no": 1,
                "kind": "date",
                "before": promise(("100", "2026-04-10")),
                "after": promise(("100", "2026-04-12")),
            }
        ],
        "policy": {"max_date_move_days": 3, "max_qty_change_pct": "5"},
        "status": {"before": "acknowledged", "after": "acknowledged"},
    }
    assert all(e["at"] == AT for e in events)
    cr = await world.cr_row("PO-1-CR1")
    assert (cr["status"], cr["auto_approved"], cr["decided_by_name"], cr["decided_at"]) == (
        "approved",
        True,
        "system",
        AT,
    )
    lines = await world.po_lines("PO-1")
    assert lines[1]["promise"] == promise(("100", "2026-04-12"))
    assert (await world.po_row("PO-1"))["version"] == 3
    await world.sealed()


async def test_decide_change_request_approve(world: World) -> None:
    number = await supplier_date_request(world)
    po_version = (await world.po_row("PO-1"))["version"]
    decided = await decide_change_request(
        world.uow(), BUYER, DecideChangeRequest(number, 1, Verdict.APPROVE, "Fine")
    )

    events = await world.new_events("po/PO-1", 4)
    assert [brief(e) for e in events] == [
        (5, "cr.approved", "Bea Buyer", "ACME", "internal", "web", "internal,supplier"),
    ]
    assert events[0]["data"] == {
        "number": "PO-1-CR1",
        "comment": "Fine",
        "applied": [
            {
                "line_no": 1,
                "kind": "date",
                "before": promise(("100", "2026-04-10")),
                "after": promise(("100", "2026-04-25")),
            }
        ],
        "status": {"before": "acknowledged", "after": "acknowledged"},
    }
    assert events[0]["at"] == AT
    cr = await world.cr_row(number)
    assert (cr["status"], cr["version"], cr["decided_by_name"], cr["decision_comment"]) == (
        "approved",
        2,
        "Bea Buyer",
        "Fine",
    )
    assert cr["decided_at"] == AT
    assert decided.change_request.version == 2
    row = await world.po_row("PO-1")
    assert (row["status"], row["version"]) == ("acknowledged", po_version + 1)
    lines = await world.po_lines("PO-1")
    assert lines[1]["promise"] == promise(("100", "2026-04-25"))
    assert lines[1]["promised_date"] == date(2026, 4, 25)
    await world.sealed()


async def test_decide_change_request_reject_of_an_acknowledgement(world: World) -> None:
    po = await world.issue_po()
    await acknowledge(
        world.uow(),
        SUPPLIER,
        Acknowledge(
            "PO-1",
            po.version,
            Decision.ACCEPT_WITH_CHANGES,
            changes=(LineChange(2, ChangeKind.QUANTITY, quantity=Decimal(40)),),
            reason_code="material_shortage",
        ),
    )
    await decide_change_request(
        world.uow(),
        BUYER,
        DecideChangeRequest("PO-1-CR1", 1, Verdict.REJECT, "We need all 50"),
    )

    events = await world.new_events("po/PO-1", 4)
    assert [brief(e) for e in events] == [
        (5, "cr.rejected", "Bea Buyer", "ACME", "internal", "web", "internal,supplier"),
    ]
    assert events[0]["data"] == {
        "number": "PO-1-CR1",
        "reason": "We need all 50",
        "status": {"before": "changes_proposed", "after": "issued"},
    }
    cr = await world.cr_row("PO-1-CR1")
    assert (cr["status"], cr["version"], cr["decision_comment"], cr["decided_at"]) == (
        "rejected",
        2,
        "We need all 50",
        AT,
    )
    row = await world.po_row("PO-1")
    assert (row["status"], row["version"]) == ("issued", 3)
    assert (await world.po_lines("PO-1"))[2]["quantity"] == Decimal(50)
    await world.sealed()


async def test_decide_change_request_counter(world: World) -> None:
    number = await supplier_date_request(world)
    decided = await decide_change_request(
        world.uow(),
        BUYER,
        DecideChangeRequest(
            number,
            1,
            Verdict.COUNTER,
            "Can you make the 18th?",
            changes=(LineChange(1, ChangeKind.DATE, schedule=on(date(2026, 4, 18))),),
            reason_code="buyer_request",
        ),
    )

    events = await world.new_events("po/PO-1", 4)
    assert [brief(e) for e in events] == [
        (5, "cr.countered", "Bea Buyer", "ACME", "internal", "web", "internal,supplier"),
        (6, "cr.opened", "Bea Buyer", "ACME", "internal", "web", "internal,supplier"),
    ]
    assert events[0]["data"] == {"number": "PO-1-CR1", "countered_by": "PO-1-CR2"}
    assert events[1]["data"] == {
        "number": "PO-1-CR2",
        "round": 2,
        "opened_by": "internal",
        "reason_code": "buyer_request",
        "comment": "Can you make the 18th?",
        "changes": [{"line_no": 1, "kind": "date", "schedule": promise(("100", "2026-04-18"))}],
        "supersedes": "PO-1-CR1",
        "due_at": DUE,
    }
    old = await world.cr_row("PO-1-CR1")
    assert (old["status"], old["superseded_by"], old["version"]) == ("countered", "PO-1-CR2", 2)
    new = await world.cr_row("PO-1-CR2")
    assert (new["status"], new["round"], new["supersedes"], new["opened_by"]) == (
        "open",
        2,
        "PO-1-CR1",
        "internal",
    )
    assert (new["opened_by_name"], new["version"], new["due_at"]) == (
        "Bea Buyer",
        1,
        AT + timedelta(hours=24),
    )
    assert decided.counter is not None and decided.counter.number == "PO-1-CR2"
    row = await world.po_row("PO-1")
    assert (row["cr_count"], row["status"]) == (2, "acknowledged")
    assert (await world.po_lines("PO-1"))[1]["promise"] == promise(("100", "2026-04-10"))
    await world.sealed()


async def test_decide_change_request_withdraw(world: World) -> None:
    number = await supplier_date_request(world)
    await decide_change_request(
        world.uow(), SUPPLIER, DecideChangeRequest(number, 1, Verdict.WITHDRAW, "Press fixed")
    )
    events = await world.new_events("po/PO-1", 4)
    assert [brief(e) for e in events] == [
        (5, "cr.withdrawn", "Sue Supplier", "SUP1", "supplier", "web", "internal,supplier"),
    ]
    assert events[0]["data"] == {
        "number": "PO-1-CR1",
        "comment": "Press fixed",
        "status": {"before": "acknowledged", "after": "acknowledged"},
    }
    cr = await world.cr_row(number)
    assert (cr["status"], cr["decided_by_name"], cr["version"]) == ("withdrawn", "Sue Supplier", 2)
    assert (await world.po_lines("PO-1"))[1]["promise"] == promise(("100", "2026-04-10"))
    await world.sealed()


# Goods -------------------------------------------------------------------------------------


async def test_post_shipment_numbers_it_and_ships_part_of_a_line(world: World) -> None:
    po = await world.acknowledged_po()
    shipment = Shipment(
        "", date(2026, 4, 8), "DHL", "JD0001", date(2026, 4, 10), (ShipmentLine(1, Decimal(60)),)
    )
    shipped = await post_shipment(world.uow(), SUPPLIER, PostShipment("PO-1", po.version, shipment))
    assert shipped.shipment.number == "ASN-2026-00001"

    events = await world.new_events("po/PO-1", 3)
    assert [brief(e) for e in events] == [
        (4, "shipment.posted", "Sue Supplier", "SUP1", "supplier", "web", "internal,supplier"),
    ]
    assert events[0]["data"] == {
        "shipment": {
            "number": "ASN-2026-00001",
            "ship_date": "2026-04-08",
            "carrier": "DHL",
            "tracking_no": "JD0001",
            "expected_arrival": "2026-04-10",
            "lines": [{"line_no": 1, "quantity": "60"}],
        },
        "status": {"before": "acknowledged", "after": "in_fulfilment"},
    }
    assert events[0]["at"] == AT
    row = await world.po_row("PO-1")
    assert (row["status"], row["version"], shipped.po.version) == ("in_fulfilment", 3, 3)
    lines = await world.po_lines("PO-1")
    assert (lines[1]["shipped_qty"], lines[2]["shipped_qty"]) == (Decimal(60), Decimal(0))
    stored = (await world.snapshot())["shipment"]
    assert len(stored) == 1
    assert (stored[0]["number"], stored[0]["po"], stored[0]["carrier"]) == (
        "ASN-2026-00001",
        row["id"],
        "DHL",
    )
    assert (stored[0]["ship_date"], stored[0]["expected_arrival"], stored[0]["created_at"]) == (
        date(2026, 4, 8),
        date(2026, 4, 10),
        AT,
    )
    await world.sealed()


async def test_record_receipt_against_a_shipment(world: World) -> None:
    po = await world.acknowledged_po()
    shipment = Shipment("ASN-7", date(2026, 4, 8), "DHL", "", None, (ShipmentLine(1, Decimal(60)),))
    po = (await post_shipment(world.uow(), SUPPLIER, PostShipment("PO-1", po.version, shipment))).po
    receipt = Receipt(
        "", date(2026, 4, 10), "ASN-7", (ReceiptLine(1, Decimal(60), Decimal(5), "dented"),)
    )
    received = await record_receipt(
        world.uow(), WAREHOUSE, RecordReceipt("PO-1", po.version, receipt)
    )

    events = await world.new_events("po/PO-1", 4)
    assert [brief(e) for e in events] == [
        (5, "receipt.recorded", "Wen Warehouse", "ACME", "internal", "web", "internal,supplier"),
    ]
    assert events[0]["data"] == {
        "receipt": {
            "number": "GR-2026-00001",
            "received_on": "2026-04-10",
            "shipment": "ASN-7",
            "lines": [{"line_no": 1, "received": "60", "rejected": "5", "note": "dented"}],
        },
        "status": {"before": "in_fulfilment", "after": "in_fulfilment"},
    }
    assert events[0]["at"] == AT
    lines = await world.po_lines("PO-1")
    assert (lines[1]["received_qty"], lines[1]["rejected_qty"]) == (Decimal(55), Decimal(5))
    row = await world.po_row("PO-1")
    assert (row["status"], row["version"], received.version) == ("in_fulfilment", 4, 4)
    stored = (await world.snapshot())["receipt"]
    assert [(r["number"], r["po"], r["shipment"], r["created_at"]) for r in stored] == [
        ("GR-2026-00001", row["id"], "ASN-7", AT)
    ]
    await world.sealed()


async def test_goods_turned_away_on_a_shipped_order_are_replaced(world: World) -> None:
    """Everything shipped; the warehouse turns 10 of line 1 away, so the order is back in
    fulfilment with 10 left to ship; the supplier promises, ships and we receive the
    replacement, and only then is the order received."""
    po = await world.acknowledged_po()
    everything = Shipment(
        "ASN-1",
        date(2026, 4, 8),
        "DHL",
        "JD1",
        None,
        (ShipmentLine(1, Decimal(100)), ShipmentLine(2, Decimal(50))),
    )
    po = (
        await post_shipment(world.uow(), SUPPLIER, PostShipment("PO-1", po.version, everything))
    ).po
    assert (po.status, po.version) == ("shipped", 3)
    receipt = Receipt(
        "GR-1",
        date(2026, 4, 10),
        "ASN-1",
        (ReceiptLine(1, Decimal(100), Decimal(10), "bent thread"), ReceiptLine(2, Decimal(50))),
    )

    po = await record_receipt(world.uow(), WAREHOUSE, RecordReceipt("PO-1", po.version, receipt))

    events = await world.new_events("po/PO-1", 4)
    assert [brief(e) for e in events] == [
        (5, "receipt.recorded", "Wen Warehouse", "ACME", "internal", "web", "internal,supplier"),
    ]
    assert events[0]["data"] == {
        "receipt": {
            "number": "GR-1",
            "received_on": "2026-04-10",
            "shipment": "ASN-1",
            "lines": [
                {"line_no": 1, "received": "100", "rejected": "10", "note": "bent thread"},
                {"line_no": 2, "received": "50", "rejected": "0", "note": ""},
            ],
        },
        "status": {"before": "shipped", "after": "in_fulfilment"},
    }
    row = await world.po_row("PO-1")
    assert (row["status"], row["version"], po.version) == ("in_fulfilment", 4, 4)
    lines = await world.po_lines("PO-1")
    counted = {
        n: (ln["shipped_qty"], ln["received_qty"], ln["rejected_qty"]) for n, ln in lines.items()
    }
    assert counted == {1: (100, 90, 10), 2: (50, 50, 0)}
    assert (po.line(1).net_shipped, po.line(1).left_to_ship, po.line(2).left_to_ship) == (
        Decimal(90),
        Decimal(10),
        Decimal(0),
    )
    assert po.display_status == "partially_received"

    # The promise for the replacement is for what is left to ship (more would be a change
    # request for a bigger quantity), four days after the first: within the tolerance here.
    world.rules = Rules(tolerance=TolerancePolicy(max_date_move_days=4))
    promised = await update_promise(
        world.uow(),
        SUPPLIER,
        UpdatePromise("PO-1", po.version, 1, on(date(2026, 4, 14), "10"), "quality", "Re-made"),
    )
    po = promised.orders[0]
    events = await world.new_events("po/PO-1", 5)
    assert [e["kind"] for e in events] == ["line.promise_changed"]
    assert events[0]["data"] == {
        "line_no": 1,
        "before": promise(("100", "2026-04-10")),
        "after": promise(("10", "2026-04-14")),
        "reason_code": "quality",
        "comment": "Re-made",
    }

    # The replacement may not exceed what was turned away (no over-delivery tolerance here).
    too_much = Shipment(
        "ASN-2", date(2026, 4, 12), "DHL", "JD2", None, (ShipmentLine(1, Decimal(11)),)
    )
    before = await world.snapshot()
    with pytest.raises(DomainError, match=r"shipping 11 more would make 101 of 100 ordered"):
        await post_shipment(world.uow(), SUPPLIER, PostShipment("PO-1", po.version, too_much))
    assert await world.snapshot() == before

    replacement = Shipment(
        "ASN-2", date(2026, 4, 12), "DHL", "JD2", None, (ShipmentLine(1, Decimal(10)),)
    )
    po = (
        await post_shipment(world.uow(), SUPPLIER, PostShipment("PO-1", po.version, replacement))
    ).po
    events = await world.new_events("po/PO-1", 6)
    assert [brief(e) for e in events] == [
        (7, "shipment.posted", "Sue Supplier", "SUP1", "supplier", "web", "internal,supplier"),
    ]
    assert events[0]["data"]["status"] == {"before": "in_fulfilment", "after": "shipped"}
    assert events[0]["data"]["shipment"]["lines"] == [{"line_no": 1, "quantity": "10"}]
    assert ((await world.po_row("PO-1"))["status"], po.version) == ("shipped", 6)

    again = Receipt("GR-2", date(2026, 4, 14), "ASN-2", (ReceiptLine(1, Decimal(10)),))
    po = await record_receipt(world.uow(), WAREHOUSE, RecordReceipt("PO-1", po.version, again))

    events = await world.new_events("po/PO-1", 7)
    assert [brief(e) for e in events] == [
        (8, "receipt.recorded", "Wen Warehouse", "ACME", "internal", "web", "internal,supplier"),
    ]
    assert events[0]["data"]["status"] == {"before": "shipped", "after": "received"}
    row = await world.po_row("PO-1")
    assert (row["status"], row["version"], po.version) == ("received", 7, 7)
    lines = await world.po_lines("PO-1")
    assert (lines[1]["shipped_qty"], lines[1]["received_qty"], lines[1]["rejected_qty"]) == (
        Decimal(110),
        Decimal(100),
        Decimal(10),
    )
    assert [r["number"] for r in (await world.snapshot())["shipment"]] == ["ASN-1", "ASN-2"]
    assert [r["number"] for r in (await world.snapshot())["receipt"]] == ["GR-1", "GR-2"]
    await world.sealed()


async def test_record_receipt_refuses_a_shipment_of_another_order(world: World) -> None:
    po = await world.acknowledged_po()
    other = await world.acknowledged_po("PO-2")
    shipment = Shipment("ASN-9", date(2026, 4, 8), "DHL", "", None, (ShipmentLine(1, Decimal(5)),))
    await post_shipment(world.uow(), SUPPLIER, PostShipment("PO-2", other.version, shipment))
    before = await world.snapshot()
    receipt = Receipt("GR-1", date(2026, 4, 10), "ASN-9", (ReceiptLine(1, Decimal(5)),))
    with pytest.raises(DomainError, match="PO-1 has no shipment ASN-9"):
        await record_receipt(world.uow(), WAREHOUSE, RecordReceipt("PO-1", po.version, receipt))
    assert await world.snapshot() == before


# Sales orders ------------------------------------------------------------------------------


SO_LINE_DATA = {
    "line_no": 1,
    "item": "BOLT-M8",
    "description": "BOLT-M8 for you",
    "quantity": "40",
    "unit": "pcs",
    "unit_price": "0.9",
    "requested_date": "2026-04-15",
    "expected_date": "2026-04-20",
}


async def test_create_sales_order(world: World) -> None:
    so = await sos.create_sales_order(
        world.uow(),
        SALES,
        sos.CreateSalesOrder("CUS1", "cny", [so_line(1)], contact_phone=" +86 21 5555 0100 "),
    )
    assert so.number == "SO-2026-00001"
    events = await world.events("so/SO-2026-00001")
    assert [brief(e) for e in events] == [
        (1, "so.created", "Sam Sales", "ACME", "internal", "web", "internal,customer"),
    ]
    assert events[0]["data"] == {"customer": "CUS1", "currency": "CNY", "lines": [SO_LINE_DATA]}
    assert events[0]["at"] == AT
    row = await world.so_row("SO-2026-00001")
    assert (row["customer"], row["currency"], row["status"], row["version"]) == (
        "CUS1",
        "CNY",
        "open",
        1,
    )
    assert (row["contact_phone"], row["contact_email"], row["created_at"]) == (
        "+86 21 5555 0100",
        "",
        AT,
    )
    lines = await world.so_lines("SO-2026-00001")
    assert (lines[1]["expected_date"], lines[1]["po_line"], lines[1]["quantity"]) == (
        date(2026, 4, 20),
        None,
        Decimal(40),
    )
    await world.sealed()


async def test_create_sales_order_refuses_a_supplier_as_customer(world: World) -> None:
    before = await world.snapshot()
    with pytest.raises(DomainError, match="'SUP1' is not a customer"):
        await sos.create_sales_order(
            world.uow(),
            SALES,
            sos.CreateSalesOrder("SUP1", "USD", [so_line(1)], contact_email="a@b.example"),
        )
    assert await world.snapshot() == before


async def test_link_sales_line(world: World) -> None:
    await world.issue_po()
    await world.create_so()
    linked = await world.link("SO-1", 1, "PO-1", 1)

    events = await world.new_events("so/SO-1", 1)
    assert [brief(e) for e in events] == [
        (2, "line.linked", "Sam Sales", "ACME", "internal", "web", "internal"),
        (3, "line.expected_date_changed", "Sam Sales", "ACME", "internal", "web",
         "internal,customer"),
    ]  # fmt: skip
    assert events[0]["data"] == {
        "line_no": 1,
        "before": None,
        "after": {"po_number": "PO-1", "line_no": 1},
        "handling_days": 2,
    }
    # No promise yet: the need date (10 Apr) plus the default two handling days.
    assert events[1]["data"] == {
        "line_no": 1,
        "before": "2026-04-20",
        "after": "2026-04-12",
        "cause": "linked",
    }
    assert all(e["at"] == AT for e in events)
    row = await world.so_row("SO-1")
    assert (row["version"], linked.version) == (2, 2)
    lines = await world.so_lines("SO-1")
    po_line_id = (await world.po_lines("PO-1"))[1]["id"]
    assert (lines[1]["po_line"], lines[1]["handling_days"], lines[1]["expected_date"]) == (
        po_line_id,
        2,
        date(2026, 4, 12),
    )
    await world.sealed()


async def test_link_sales_line_with_own_handling_days_to_a_promised_line(world: World) -> None:
    # Promised four days before the need date (10 Apr): the promise, not the need, counts.
    await world.acknowledged_po(promises={1: on(date(2026, 4, 6))})
    await world.create_so()
    await world.link("SO-1", 1, "PO-1", 1, handling_days=5)
    lines = await world.so_lines("SO-1")
    assert (lines[1]["handling_days"], lines[1]["expected_date"]) == (5, date(2026, 4, 11))
    events = await world.new_events("so/SO-1", 1)
    assert [e["kind"] for e in events] == ["line.linked", "line.expected_date_changed"]
    assert events[1]["data"]["after"] == "2026-04-11"


@pytest.mark.parametrize(
    ("steps", "kind", "data"),
    [
        (
            [sos.Progress.SHIP],
            "so.shipped",
            {
                "carrier": "SF Express",
                "tracking_no": "SF123",
                "shipped_on": "2026-03-02",
                "status": {"before": "open", "after": "shipped"},
            },
        ),
        (
            [sos.Progress.SHIP, sos.Progress.DELIVER],
            "so.delivered",
            {"delivered_on": "2026-03-05", "status": {"before": "shipped", "after": "delivered"}},
        ),
        (
            [sos.Progress.SHIP, sos.Progress.DELIVER, sos.Progress.CLOSE],
            "so.closed",
            {"status": {"before": "delivered", "after": "closed"}},
        ),
        (
            [sos.Progress.CANCEL],
            "so.cancelled",
            {"reason": "Customer withdrew", "status": {"before": "open", "after": "cancelled"}},
        ),
    ],
    ids=["ship", "deliver", "close", "cancel"],
)
async def test_advance_sales_order(
    world: World, steps: list[sos.Progress], kind: str, data: dict[str, object]
) -> None:
    so = await world.create_so()
    version = so.version
    for step in steps:
        advanced = await sos.advance_sales_order(
            world.uow(),
            SALES,
            sos.AdvanceSalesOrder(
                "SO-1",
                version,
                step,
                on=date(2026, 3, 5) if step == sos.Progress.DELIVER else None,
                carrier="SF Express",
                tracking_no="SF123",
                reason="Customer withdrew",
            ),
        )
        version = advanced.version

    events = await world.events("so/SO-1")
    assert len(events) == 1 + len(steps)
    last = events[-1]
    assert brief(last) == (
        1 + len(steps),
        kind,
        "Sam Sales",
        "ACME",
        "internal",
        "web",
        "internal,customer",
    )
    assert last["data"] == data
    assert last["at"] == AT
    row = await world.so_row("SO-1")
    assert (row["status"], row["version"]) == (kind.removeprefix("so."), 1 + len(steps))
    if sos.Progress.SHIP in steps:
        assert (row["carrier"], row["tracking_no"]) == ("SF Express", "SF123")
    await world.sealed()


# Comments ----------------------------------------------------------------------------------


async def test_add_comment_to_a_purchase_order(world: World) -> None:
    await world.issue_po()
    await add_comment(
        world.uow(), SUPPLIER, AddComment(OrderKind.PURCHASE, "PO-1", "Is line 2 zinc plated?")
    )
    await add_comment(
        world.uow(),
        BUYER,
        AddComment(OrderKind.PURCHASE, "PO-1", "They were late last time", internal_only=True),
    )
    events = await world.new_events("po/PO-1", 2)
    assert [brief(e) for e in events] == [
        (3, "comment.added", "Sue Supplier", "SUP1", "supplier", "web", "internal,supplier"),
        (4, "comment.added", "Bea Buyer", "ACME", "internal", "web", "internal"),
    ]
    assert [e["data"] for e in events] == [
        {"text": "Is line 2 zinc plated?"},
        {"text": "They were late last time"},
    ]
    assert all(e["at"] == AT for e in events)
    row = await world.po_row("PO-1")
    assert (row["status"], row["version"]) == ("issued", 1)
    await world.sealed()


async def test_a_comment_does_not_make_an_edit_in_flight_stale(world: World) -> None:
    po = await world.acknowledged_po()
    await add_comment(world.uow(), BUYER, AddComment(OrderKind.PURCHASE, "PO-1", "Any news?"))
    moved = await update_promise(
        world.uow(),
        SUPPLIER,
        UpdatePromise("PO-1", po.version, 1, on(date(2026, 4, 30)), "capacity"),
    )
    assert moved.orders[0].version == po.version + 1
    await world.sealed()


async def test_add_comment_to_a_sales_order_by_the_customer(world: World) -> None:
    await world.create_so()
    await add_comment(
        world.uow(), CUSTOMER, AddComment(OrderKind.SALES, "SO-1", "Please deliver to gate 3")
    )
    events = await world.new_events("so/SO-1", 1)
    assert [brief(e) for e in events] == [
        (2, "comment.added", "Carl Contoso", "CUS1", "customer", "web", "internal,customer"),
    ]
    assert events[0]["data"] == {"text": "Please deliver to gate 3"}
    assert events[0]["at"] == AT
    await world.sealed()


async def test_a_supplier_cannot_write_an_internal_note(world: World) -> None:
    await world.issue_po()
    before = await world.snapshot()
    with pytest.raises(DomainError, match="internal notes"):
        await add_comment(
            world.uow(),
            SUPPLIER,
            AddComment(OrderKind.PURCHASE, "PO-1", "psst", internal_only=True),
        )
    assert await world.snapshot() == before
