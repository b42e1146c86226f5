"""Promise updates on both engines: one line, several lines of several orders at once, and
"move everything by N days". Within the tolerance rule a promise applies at once; beyond it the
lines of one order become one change request; one bad line, or one stale version, and nothing
at all changes."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from integration_support import (
    AT,
    BUYER,
    SUPPLIER,
    SUPPLIER_ERP,
    SYSTEM_ACTOR,
    World,
    brief,
    on,
    po_line,
    split,
)

from portal.domain.changes import TolerancePolicy
from portal.domain.errors import Conflict, DomainError, NotFound
from portal.domain.shipments import Shipment, ShipmentLine
from portal.services.change_requests import DecideChangeRequest, Verdict, decide_change_request
from portal.services.fulfilment import PostShipment, post_shipment
from portal.services.promises import (
    PromiseUpdate,
    ShiftPromises,
    UpdatePromise,
    UpdatePromises,
    shift_promises,
    update_promise,
    update_promises,
)
from portal.services.unit_of_work import Rules

THREE_DAYS = Rules(tolerance=TolerancePolicy(max_date_move_days=3))
DUE = "2026-03-03T09:30:15.250000Z"


def promise(*rows: tuple[str, str]) -> list[dict[str, str]]:
    return [{"quantity": quantity, "date": day} for quantity, day in rows]


async def two_orders(world: World) -> dict[str, int]:
    """PO-1 (line 1: 100, line 2: 50) and PO-2 (the same), acknowledged on the need date
    10 Apr; their versions."""
    return {number: (await world.acknowledged_po(number)).version for number in ("PO-1", "PO-2")}


async def test_a_promise_by_the_need_date_applies_at_once(world: World) -> None:
    po = await world.acknowledged_po()
    await world.create_so()
    await world.link("SO-1", 1, "PO-1", 1)
    so_head = await world.head("so/SO-1")

    updated = await update_promise(
        world.uow(),
        SUPPLIER_ERP,
        UpdatePromise(
            "PO-1",
            po.version,
            1,
            split(("60", date(2026, 4, 3)), ("40", date(2026, 4, 9))),
            "capacity",
            "Two lots",
        ),
    )

    assert (updated.applied, updated.change_requests) == ([("PO-1", 1)], [])
    assert [(o.number, o.version) for o in updated.orders] == [("PO-1", po.version + 1)]
    events = await world.new_events("po/PO-1", 3)
    assert [brief(e) for e in events] == [
        (
            4,
            "line.promise_changed",
            "Northwind ERP",
            "SUP1",
            "supplier",
            "api",
            "internal,supplier",
        ),
    ]
    assert events[0]["at"] == AT
    assert events[0]["data"] == {
        "line_no": 1,
        "before": promise(("100", "2026-04-10")),
        "after": promise(("60", "2026-04-03"), ("40", "2026-04-09")),
        "reason_code": "capacity",
        "comment": "Two lots",
    }
    assert (await world.po_lines("PO-1"))[1]["promised_date"] == date(2026, 4, 9)
    # The linked sales line follows: its 40 come with the 60 of 3 Apr, plus 2 handling days.
    moved = await world.new_events("so/SO-1", so_head)
    assert [(e["kind"], e["actor"]) for e in moved] == [
        ("line.expected_date_changed", SYSTEM_ACTOR)
    ]
    assert (await world.so_lines("SO-1"))[1]["expected_date"] == date(2026, 4, 5)
    await world.sealed()


async def test_promises_beyond_the_tolerance_become_one_change_request_per_order(
    world: World,
) -> None:
    world.rules = THREE_DAYS
    versions = await two_orders(world)

    updated = await update_promises(
        world.uow(),
        SUPPLIER,
        UpdatePromises(
            (
                PromiseUpdate("PO-1", 1, on(date(2026, 4, 20)), "capacity", "Press down"),
                PromiseUpdate("PO-2", 1, on(date(2026, 4, 12)), "logistics"),
                PromiseUpdate("PO-1", 2, on(date(2026, 4, 25), "50"), "capacity", "Press down"),
            ),
            versions,
        ),
    )

    assert updated.applied == [("PO-2", 1)]
    assert [(cr.number, cr.status, cr.auto_approved) for cr in updated.change_requests] == [
        ("PO-1-CR1", "open", False)
    ]
    assert [(o.number, o.version) for o in updated.orders] == [("PO-1", 3), ("PO-2", 3)]
    events = await world.new_events("po/PO-1", 3)
    assert [brief(e) for e in events] == [
        (4, "cr.opened", "Sue Supplier", "SUP1", "supplier", "web", "internal,supplier"),
    ]
    assert events[0]["data"] == {
        "number": "PO-1-CR1",
        "round": 1,
        "opened_by": "supplier",
        "reason_code": "capacity",
        "comment": "Press down",
        "changes": [
            {"line_no": 1, "kind": "date", "schedule": promise(("100", "2026-04-20"))},
            {"line_no": 2, "kind": "date", "schedule": promise(("50", "2026-04-25"))},
        ],
        "supersedes": None,
        "due_at": DUE,
    }
    cr = await world.cr_row("PO-1-CR1")
    assert (cr["status"], cr["opened_by_name"], cr["due_at"]) == (
        "open",
        "Sue Supplier",
        AT + timedelta(hours=24),
    )
    # PO-1's promises wait for the buyer; PO-2's moved.
    assert (await world.po_lines("PO-1"))[1]["promise"] == promise(("100", "2026-04-10"))
    events = await world.new_events("po/PO-2", 3)
    assert [brief(e)[1:3] for e in events] == [("line.promise_changed", "Sue Supplier")]
    assert (await world.po_lines("PO-2"))[1]["promise"] == promise(("100", "2026-04-12"))
    await world.sealed()


async def test_lines_of_one_order_with_different_reasons_share_one_request(world: World) -> None:
    versions = await two_orders(world)
    updated = await update_promises(
        world.uow(),
        SUPPLIER,
        UpdatePromises(
            (
                PromiseUpdate("PO-1", 1, on(date(2026, 4, 20)), "capacity", "Press down"),
                PromiseUpdate("PO-1", 2, on(date(2026, 4, 25), "50"), "logistics"),
            ),
            {"PO-1": versions["PO-1"]},
        ),
    )
    (cr,) = updated.change_requests
    assert (cr.reason_code, cr.comment) == (
        "other",
        "Line 1: capacity (Press down)\nLine 2: logistics",
    )


async def test_a_promise_for_less_than_is_left_asks_for_the_smaller_quantity(
    world: World,
) -> None:
    po = await world.acknowledged_po()
    updated = await update_promise(
        world.uow(),
        SUPPLIER,
        UpdatePromise("PO-1", po.version, 1, on(date(2026, 4, 10), "80"), "material_shortage"),
    )
    (cr,) = updated.change_requests
    assert updated.applied == []
    assert [change.to_data() for change in cr.changes] == [
        {"line_no": 1, "kind": "quantity", "quantity": "80"},
        {"line_no": 1, "kind": "date", "schedule": promise(("80", "2026-04-10"))},
    ]

    await decide_change_request(
        world.uow(), BUYER, DecideChangeRequest(cr.number, 1, Verdict.APPROVE, "Take 80")
    )

    line = (await world.po_lines("PO-1"))[1]
    assert (line["quantity"], line["promise"]) == (80, promise(("80", "2026-04-10")))
    approval = (await world.events("po/PO-1"))[-1]
    assert brief(approval)[1:3] == ("cr.approved", "Bea Buyer")
    assert approval["data"]["applied"] == [
        {"line_no": 1, "kind": "quantity", "before": "100", "after": "80"},
        {
            "line_no": 1,
            "kind": "date",
            "before": promise(("100", "2026-04-10")),
            "after": promise(("80", "2026-04-10")),
        },
    ]
    await world.sealed()


async def test_after_a_partial_shipment_a_small_move_of_the_rest_applies_at_once(
    world: World,
) -> None:
    world.rules = THREE_DAYS
    po = await world.acknowledged_po()
    shipment = Shipment("ASN-1", date(2026, 4, 8), "DHL", "", None, (ShipmentLine(1, Decimal(40)),))
    shipped = await post_shipment(world.uow(), SUPPLIER, PostShipment("PO-1", po.version, shipment))
    updated = await update_promise(
        world.uow(),
        SUPPLIER,
        UpdatePromise("PO-1", shipped.po.version, 1, on(date(2026, 4, 13), "60"), "capacity"),
    )
    assert (updated.applied, updated.change_requests) == ([("PO-1", 1)], [])
    assert (await world.po_lines("PO-1"))[1]["promise"] == promise(("60", "2026-04-13"))


async def test_shift_promises_moves_every_promised_line_of_the_orders(world: World) -> None:
    world.rules = THREE_DAYS
    versions = await two_orders(world)

    updated = await shift_promises(
        world.uow(), SUPPLIER, ShiftPromises(versions, 3, "logistics", "Port congestion")
    )

    assert updated.applied == [("PO-1", 1), ("PO-1", 2), ("PO-2", 1), ("PO-2", 2)]
    assert updated.change_requests == []
    for number in ("PO-1", "PO-2"):
        events = await world.new_events(f"po/{number}", 3)
        assert [brief(e)[1:3] for e in events] == [("line.promise_changed", "Sue Supplier")] * 2
        assert [e["data"]["after"] for e in events] == [
            promise(("100", "2026-04-13")),
            promise(("50", "2026-04-13")),
        ]
        assert {e["data"]["reason_code"] for e in events} == {"logistics"}
        assert (await world.po_row(number))["version"] == versions[number] + 1
    await world.sealed()


async def test_shift_promises_of_chosen_lines_only(world: World) -> None:
    versions = await two_orders(world)
    updated = await shift_promises(
        world.uow(),
        SUPPLIER,
        ShiftPromises(versions, -2, "other", lines=(("PO-2", 2),)),
    )
    assert updated.applied == [("PO-2", 2)]
    assert [o.number for o in updated.orders] == ["PO-2"]
    assert (await world.po_lines("PO-2"))[2]["promise"] == promise(("50", "2026-04-08"))
    assert (await world.po_row("PO-1"))["version"] == versions["PO-1"]


def bad_updates(versions: dict[str, int]) -> dict[str, tuple[Any, type[Exception], str]]:
    good = PromiseUpdate("PO-1", 1, on(date(2026, 4, 5)), "capacity")
    return {
        "past date": (
            UpdatePromises(
                (good, PromiseUpdate("PO-2", 1, on(date(2026, 3, 1)), "capacity")), versions
            ),
            DomainError,
            "Purchase order PO-2: Line 1: the delivery date 2026-03-01 is in the past; "
            "promise 2026-03-02 or later.",
        ),
        "unknown line": (
            UpdatePromises(
                (good, PromiseUpdate("PO-2", 9, on(date(2026, 4, 5)), "capacity")), versions
            ),
            NotFound,
            "Purchase order PO-2 has no line 9.",
        ),
        "unknown reason": (
            UpdatePromises(
                (good, PromiseUpdate("PO-2", 1, on(date(2026, 4, 5)), "weather")), versions
            ),
            DomainError,
            "Purchase order PO-2: Unknown reason code 'weather'; use one of: material_shortage, "
            "capacity, quality, logistics, customer_request, buyer_request, force_majeure, other.",
        ),
        "the same line twice": (
            UpdatePromises((good, good), versions),
            DomainError,
            "Purchase order PO-1: Line 1 is updated twice.",
        ),
        "stale version": (
            UpdatePromises(
                (good, PromiseUpdate("PO-2", 1, on(date(2026, 4, 5)), "capacity")),
                versions | {"PO-2": versions["PO-2"] - 1},
            ),
            Conflict,
            "Purchase order PO-2 was changed by someone else (you had version 1, it is now at "
            "version 2); reload it and try again.",
        ),
        "no version": (
            UpdatePromises(
                (good, PromiseUpdate("PO-2", 1, on(date(2026, 4, 5)), "capacity")),
                {"PO-1": versions["PO-1"]},
            ),
            DomainError,
            "Give the version of purchase order PO-2 you saw.",
        ),
        "unknown order": (
            UpdatePromises(
                (good, PromiseUpdate("PO-404", 1, on(date(2026, 4, 5)), "capacity")),
                versions | {"PO-404": 1},
            ),
            NotFound,
            "Purchase order PO-404 was not found.",
        ),
        "nothing": (UpdatePromises((), versions), DomainError, "There is no promise to update."),
    }


@pytest.mark.parametrize(
    "case",
    [
        "past date",
        "unknown line",
        "unknown reason",
        "the same line twice",
        "stale version",
        "no version",
        "unknown order",
        "nothing",
    ],
)
async def test_one_bad_update_and_nothing_changes(world: World, case: str) -> None:
    versions = await two_orders(world)
    command, error, message = bad_updates(versions)[case]
    before = await world.snapshot()
    with pytest.raises(error) as refused:
        await update_promises(world.uow(), SUPPLIER, command)
    assert refused.value.message == message
    if isinstance(refused.value, Conflict):
        assert refused.value.current_version == versions["PO-2"]
    assert await world.snapshot() == before


async def test_a_promise_of_nothing_cannot_even_be_written_down() -> None:
    with pytest.raises(DomainError, match="Promised quantity must be more than zero"):
        on(date(2026, 4, 5), "0")
    with pytest.raises(DomainError, match="Promised quantity must be more than zero"):
        on(date(2026, 4, 5), "-5")


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (
            ShiftPromises({"PO-1": 2}, 0, "capacity"),
            "Say by how many days the promises move.",
        ),
        (
            ShiftPromises({"PO-1": 2}, -40, "capacity"),
            "Purchase order PO-1: Line 1: the delivery date 2026-03-01 is in the past; "
            "promise 2026-03-02 or later.",
        ),
        (
            ShiftPromises({"PO-1": 2}, 1, "capacity", lines=(("PO-3", 1),)),
            "Give the version of purchase order PO-3 you saw.",
        ),
        (
            ShiftPromises({"PO-3": 1}, 1, "capacity"),
            "Purchase order PO-3 has no promise still to come.",
        ),
        (
            ShiftPromises({"PO-3": 1}, 1, "capacity", lines=(("PO-3", 1),)),
            "Line 1 of purchase order PO-3 has no promise still to come.",
        ),
        (ShiftPromises({}, 1, "capacity"), "Choose at least one purchase order."),
    ],
)
async def test_shifts_that_cannot_be_made_change_nothing(
    world: World, command: ShiftPromises, message: str
) -> None:
    await world.acknowledged_po("PO-1")
    await world.issue_po("PO-3", lines=[po_line(1)])  # issued: nothing promised yet
    before = await world.snapshot()
    with pytest.raises(DomainError) as refused:
        await shift_promises(world.uow(), SUPPLIER, command)
    assert refused.value.message == message
    assert await world.snapshot() == before
