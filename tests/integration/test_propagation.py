"""When the supplier's promise moves, every linked sales line moves with it, on the customer's
timeline, in the same transaction; the customer reads that the date moved, never who supplies
it or under which purchase order."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from integration_support import (
    AT,
    BUYER,
    CUSTOMER,
    OTHER_SUPPLIER,
    SALES,
    SUPPLIER,
    SYSTEM_ACTOR,
    World,
    on,
    po_line,
    so_line,
    split,
)

from portal.db import timeline
from portal.domain.changes import ChangeKind, LineChange, TolerancePolicy
from portal.services import sales_orders as sos
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge
from portal.services.change_requests import (
    DecideChangeRequest,
    OpenChangeRequest,
    Verdict,
    decide_change_request,
    open_change_request,
)
from portal.services.promises import UpdatePromise, update_promise
from portal.services.unit_of_work import Rules

SECRETS = ("SUP1", "PO-1", "Northwind", "Sue Supplier", "u-sue", "u-buyer", "Bea Buyer")
"""What the customer must not learn from a moved date: the supplier, its people, our PO."""

WITHIN_TOLERANCE = Rules(tolerance=TolerancePolicy(max_date_move_days=30))
"""The supplier may move a promise by up to 30 days without the buyer: it applies at once."""


async def linked_orders(world: World) -> None:
    """PO-1 (SUP1, issued, not yet promised) feeds SO-1 lines 1 and 3 and SO-2 line 1;
    SO-1 line 2 is not linked; SO-3 is linked to another supplier's PO-2; SO-4 is linked to
    PO-1 but already shipped."""
    await world.issue_po("PO-1")
    await world.issue_po("PO-2", supplier="SUP2", lines=[po_line(1)])
    await world.create_so(
        "SO-1",
        lines=[
            so_line(1, quantity="40"),
            so_line(2, item="NUT-M8", quantity="10"),
            so_line(3, quantity="80"),
        ],
    )
    await world.create_so("SO-2", customer="CUS2", lines=[so_line(1, quantity="30")])
    await world.create_so("SO-3", lines=[so_line(1, quantity="10")])
    await world.create_so("SO-4", lines=[so_line(1, quantity="10")])
    await world.link("SO-1", 1, "PO-1", 1)
    await world.link("SO-1", 3, "PO-1", 1, handling_days=3)
    await world.link("SO-2", 1, "PO-1", 1)
    await world.link("SO-3", 1, "PO-2", 1)
    await world.link("SO-4", 1, "PO-1", 1)
    version = (await world.so_row("SO-4"))["version"]
    await sos.advance_sales_order(
        world.uow(), SALES, sos.AdvanceSalesOrder("SO-4", version, sos.Progress.SHIP, carrier="SF")
    )


async def expected_dates(world: World) -> dict[tuple[str, int], date]:
    dates = {}
    for number in ("SO-1", "SO-2", "SO-3", "SO-4"):
        for line_no, line in (await world.so_lines(number)).items():
            dates[(number, line_no)] = line["expected_date"]
    return dates


def assert_told_in_general_words(event: dict[str, Any], cause: str) -> None:
    assert event["kind"] == "line.expected_date_changed"
    assert event["actor"] == SYSTEM_ACTOR
    assert event["via"] == "system"
    assert event["audience"] == "internal,customer"
    assert event["at"] == AT
    assert event["data"]["cause"] == cause
    assert set(event["data"]) == {"line_no", "before", "after", "cause"}
    text = json.dumps([event["actor"], event["data"], event["kind"]])
    for secret in SECRETS:
        assert secret not in text


def assert_confirmed_in_general_words(event: dict[str, Any]) -> None:
    assert event["kind"] == "line.confirmed"
    assert event["actor"] == SYSTEM_ACTOR
    assert event["via"] == "system"
    assert event["audience"] == "internal,customer"
    assert set(event["data"]) == {"line_no", "expected_date"}
    text = json.dumps([event["actor"], event["data"], event["kind"]])
    for secret in SECRETS:
        assert secret not in text


async def test_linking_derives_the_date_from_the_need_date_until_there_is_a_promise(
    world: World,
) -> None:
    await linked_orders(world)
    dates = await expected_dates(world)
    assert dates == {
        ("SO-1", 1): date(2026, 4, 12),  # need date 10 Apr + 2 handling days
        ("SO-1", 2): date(2026, 4, 20),  # not linked: as created
        ("SO-1", 3): date(2026, 4, 13),  # + its own 3 handling days
        ("SO-2", 1): date(2026, 4, 12),
        ("SO-3", 1): date(2026, 4, 12),
        ("SO-4", 1): date(2026, 4, 12),
    }


async def test_an_acknowledgement_moves_every_linked_line(world: World) -> None:
    await linked_orders(world)
    before = await expected_dates(world)
    heads = {n: await world.head(f"so/{n}") for n in ("SO-1", "SO-2", "SO-3", "SO-4")}
    po = await world.po_row("PO-1")
    await acknowledge(
        world.uow(),
        SUPPLIER,
        Acknowledge(
            "PO-1",
            po["version"],
            Decision.ACCEPT,
            promises={1: split(("60", date(2026, 4, 4)), ("40", date(2026, 4, 8)))},
        ),
    )

    after = await expected_dates(world)
    # 40 and 30 are covered by the first 60 (4 Apr); 80 only by the second row (8 Apr).
    assert after == before | {
        ("SO-1", 1): date(2026, 4, 6),
        ("SO-1", 3): date(2026, 4, 11),
        ("SO-2", 1): date(2026, 4, 6),
    }
    # Each linked line moves, then is confirmed to the customer at its new date.
    so1_all = await world.new_events("so/SO-1", heads["SO-1"])
    assert [(e["seq"], e["kind"], e["data"]["line_no"]) for e in so1_all] == [
        (heads["SO-1"] + 1, "line.expected_date_changed", 1),
        (heads["SO-1"] + 2, "line.confirmed", 1),
        (heads["SO-1"] + 3, "line.expected_date_changed", 3),
        (heads["SO-1"] + 4, "line.confirmed", 3),
    ]
    so1 = [e for e in so1_all if e["kind"] == "line.expected_date_changed"]
    assert [(e["data"]["before"], e["data"]["after"]) for e in so1] == [
        ("2026-04-12", "2026-04-06"),
        ("2026-04-13", "2026-04-11"),
    ]
    so2_all = await world.new_events("so/SO-2", heads["SO-2"])
    so2 = [e for e in so2_all if e["kind"] == "line.expected_date_changed"]
    assert [(e["data"]["before"], e["data"]["after"]) for e in so2] == [
        ("2026-04-12", "2026-04-06")
    ]
    for event in so1 + so2:
        assert_told_in_general_words(event, "acknowledged")
    confirmed = [e for e in so1_all + so2_all if e["kind"] == "line.confirmed"]
    assert [e["data"] for e in confirmed] == [
        {"line_no": 1, "expected_date": "2026-04-06"},
        {"line_no": 3, "expected_date": "2026-04-11"},
        {"line_no": 1, "expected_date": "2026-04-06"},
    ]
    for event in confirmed:
        assert_confirmed_in_general_words(event)
    assert await world.new_events("so/SO-3", heads["SO-3"]) == []
    assert await world.new_events("so/SO-4", heads["SO-4"]) == []
    await world.sealed()

    # The customer reads the moves and the confirmations on its own timeline.
    seen = await timeline.read(CUSTOMER, "so/SO-1")
    assert [e.kind for e in seen][-4:] == ["line.expected_date_changed", "line.confirmed"] * 2


async def test_a_promise_change_moves_every_linked_line(world: World) -> None:
    world.rules = WITHIN_TOLERANCE
    await linked_orders(world)
    po = await world.po_row("PO-1")
    result = await acknowledge(
        world.uow(), SUPPLIER, Acknowledge("PO-1", po["version"], Decision.ACCEPT)
    )
    before = await expected_dates(world)  # accepted on the need date: nothing moved
    heads = {n: await world.head(f"so/{n}") for n in ("SO-1", "SO-2", "SO-3", "SO-4")}

    await update_promise(
        world.uow(),
        SUPPLIER,
        UpdatePromise("PO-1", result.po.version, 1, on(date(2026, 4, 30)), "material_shortage"),
    )

    after = await expected_dates(world)
    assert after == before | {
        ("SO-1", 1): date(2026, 5, 2),
        ("SO-1", 3): date(2026, 5, 3),
        ("SO-2", 1): date(2026, 5, 2),
    }
    moved = await world.new_events("so/SO-1", heads["SO-1"]) + await world.new_events(
        "so/SO-2", heads["SO-2"]
    )
    assert len(moved) == 3
    for event in moved:
        assert_told_in_general_words(event, "promise_changed")
    assert await world.new_events("so/SO-3", heads["SO-3"]) == []
    assert await world.new_events("so/SO-4", heads["SO-4"]) == []
    # Unlinked line 2 of SO-1 did not move, and its PO line 2 did not change either.
    assert after[("SO-1", 2)] == date(2026, 4, 20)
    await world.sealed()


async def test_a_promise_change_on_an_unlinked_po_line_moves_nothing(world: World) -> None:
    world.rules = WITHIN_TOLERANCE
    await linked_orders(world)
    po = await world.po_row("PO-1")
    result = await acknowledge(
        world.uow(), SUPPLIER, Acknowledge("PO-1", po["version"], Decision.ACCEPT)
    )
    before = await world.snapshot()
    await update_promise(
        world.uow(),
        SUPPLIER,
        UpdatePromise("PO-1", result.po.version, 2, on(date(2026, 4, 30), "50"), "capacity"),
    )
    after = await world.snapshot()
    assert after["sales_order"] == before["sales_order"]
    assert after["so_line"] == before["so_line"]
    assert [e["stream"] for e in after["event"][len(before["event"]) :]] == ["po/PO-1"]


async def test_an_approved_date_change_request_moves_every_linked_line(world: World) -> None:
    await linked_orders(world)
    po = await world.po_row("PO-1")
    result = await acknowledge(
        world.uow(), SUPPLIER, Acknowledge("PO-1", po["version"], Decision.ACCEPT)
    )
    await open_change_request(
        world.uow(),
        SUPPLIER,
        OpenChangeRequest(
            "PO-1",
            result.po.version,
            (LineChange(1, ChangeKind.DATE, schedule=on(date(2026, 4, 21))),),
            "capacity",
        ),
    )
    # Opening the request moves nothing yet.
    before = await expected_dates(world)
    assert before[("SO-1", 1)] == date(2026, 4, 12)
    heads = {n: await world.head(f"so/{n}") for n in ("SO-1", "SO-2")}

    await decide_change_request(
        world.uow(), BUYER, DecideChangeRequest("PO-1-CR1", 1, Verdict.APPROVE)
    )

    assert await expected_dates(world) == before | {
        ("SO-1", 1): date(2026, 4, 23),
        ("SO-1", 3): date(2026, 4, 24),
        ("SO-2", 1): date(2026, 4, 23),
    }
    moved = await world.new_events("so/SO-1", heads["SO-1"]) + await world.new_events(
        "so/SO-2", heads["SO-2"]
    )
    assert len(moved) == 3
    for event in moved:
        assert_told_in_general_words(event, "change_approved")
    await world.sealed()


@pytest.mark.parametrize("verdict", [Verdict.REJECT, Verdict.WITHDRAW])
async def test_a_date_change_request_not_approved_moves_nothing(
    world: World, verdict: Verdict
) -> None:
    await linked_orders(world)
    po = await world.po_row("PO-1")
    result = await acknowledge(
        world.uow(), SUPPLIER, Acknowledge("PO-1", po["version"], Decision.ACCEPT)
    )
    await open_change_request(
        world.uow(),
        SUPPLIER,
        OpenChangeRequest(
            "PO-1",
            result.po.version,
            (LineChange(1, ChangeKind.DATE, schedule=on(date(2026, 4, 21))),),
            "capacity",
        ),
    )
    before = await world.snapshot()
    decider = BUYER if verdict == Verdict.REJECT else SUPPLIER
    await decide_change_request(
        world.uow(), decider, DecideChangeRequest("PO-1-CR1", 1, verdict, "no")
    )
    after = await world.snapshot()
    assert after["so_line"] == before["so_line"]
    assert {e["stream"] for e in after["event"][len(before["event"]) :]} == {"po/PO-1"}


async def test_an_auto_approved_date_change_moves_linked_lines(world: World) -> None:
    world.rules = Rules(tolerance=TolerancePolicy(3, Decimal(0)))
    await linked_orders(world)
    po = await world.po_row("PO-1")
    result = await acknowledge(
        world.uow(), SUPPLIER, Acknowledge("PO-1", po["version"], Decision.ACCEPT)
    )
    head = await world.head("so/SO-1")
    await open_change_request(
        world.uow(),
        SUPPLIER,
        OpenChangeRequest(
            "PO-1",
            result.po.version,
            (LineChange(1, ChangeKind.DATE, schedule=on(date(2026, 4, 12))),),
            "logistics",
        ),
    )
    lines = await world.so_lines("SO-1")
    assert (lines[1]["expected_date"], lines[3]["expected_date"]) == (
        date(2026, 4, 14),
        date(2026, 4, 15),
    )
    for event in await world.new_events("so/SO-1", head):
        assert_told_in_general_words(event, "change_approved")


async def test_a_promise_of_another_supplier_moves_only_its_own_lines(world: World) -> None:
    await linked_orders(world)
    po = await world.po_row("PO-2")
    result = await acknowledge(
        world.uow(),
        OTHER_SUPPLIER,
        Acknowledge("PO-2", po["version"], Decision.ACCEPT, promises={1: on(date(2026, 4, 3))}),
    )
    assert result.po.status == "acknowledged"
    dates = await expected_dates(world)
    assert dates[("SO-3", 1)] == date(2026, 4, 5)
    assert dates[("SO-1", 1)] == date(2026, 4, 12)
    assert dates[("SO-2", 1)] == date(2026, 4, 12)


async def test_an_acknowledgement_on_the_need_date_confirms_the_lines_without_moving_them(
    world: World,
) -> None:
    await linked_orders(world)
    before = await expected_dates(world)
    heads = {n: await world.head(f"so/{n}") for n in ("SO-1", "SO-2", "SO-3", "SO-4")}
    po = await world.po_row("PO-1")
    await acknowledge(world.uow(), SUPPLIER, Acknowledge("PO-1", po["version"], Decision.ACCEPT))

    assert await expected_dates(world) == before
    so1 = await world.new_events("so/SO-1", heads["SO-1"])
    assert [(e["kind"], e["data"]) for e in so1] == [
        ("line.confirmed", {"line_no": 1, "expected_date": "2026-04-12"}),
        ("line.confirmed", {"line_no": 3, "expected_date": "2026-04-13"}),
    ]
    for event in so1:
        assert_confirmed_in_general_words(event)
    assert [e["kind"] for e in await world.new_events("so/SO-2", heads["SO-2"])] == [
        "line.confirmed"
    ]
    # Another supplier's order, and an order already shipped, are not confirmed.
    assert await world.new_events("so/SO-3", heads["SO-3"]) == []
    assert await world.new_events("so/SO-4", heads["SO-4"]) == []
    await world.sealed()


async def test_a_rejected_purchase_order_confirms_nothing(world: World) -> None:
    await linked_orders(world)
    po = await world.po_row("PO-1")
    before = await world.snapshot()
    await acknowledge(
        world.uow(),
        SUPPLIER,
        Acknowledge("PO-1", po["version"], Decision.REJECT, reason="Discontinued"),
    )
    after = await world.snapshot()
    added = after["event"][len(before["event"]) :]
    assert "line.confirmed" not in [e["kind"] for e in added]
    assert {e["stream"] for e in added} == {"po/PO-1"}
