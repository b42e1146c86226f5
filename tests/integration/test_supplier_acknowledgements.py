"""Acknowledging a purchase order line by line, on both engines: plain acceptances keep the
deliveries promised, whatever differs from the order becomes one change request (approved at
once within the tolerance), and bad answers change nothing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from integration_support import (
    AT,
    SUPPLIER,
    SUPPLIER_ERP,
    SYSTEM_ACTOR,
    World,
    brief,
    on,
    split,
)

from portal.db import tables as t
from portal.domain.changes import ChangeKind, LineChange, TolerancePolicy
from portal.domain.errors import Conflict, DomainError, NotFound
from portal.services.acknowledgements import (
    Acknowledge,
    AcknowledgeLines,
    Decision,
    LineAnswer,
    LineAnswerKind,
    acknowledge,
    acknowledge_lines,
)
from portal.services.unit_of_work import Rules

ACCEPT, REJECT, CHANGE = LineAnswerKind.ACCEPT, LineAnswerKind.REJECT, LineAnswerKind.CHANGE
DUE = "2026-03-03T09:30:15.250000Z"


def promise(*rows: tuple[str, str]) -> list[dict[str, str]]:
    return [{"quantity": quantity, "date": day} for quantity, day in rows]


async def test_every_line_accepted_is_a_plain_acceptance_with_its_deliveries(
    world: World,
) -> None:
    po = await world.issue_po()  # line 1: 100, line 2: 50, both needed 10 Apr
    lots = split(("70", date(2026, 4, 6)), ("30", date(2026, 4, 10)))

    result = await acknowledge_lines(
        world.uow(),
        SUPPLIER_ERP,
        AcknowledgeLines("PO-1", po.version, (LineAnswer(1, ACCEPT, lots),)),
    )

    assert result.change_request is None
    assert (result.po.status, result.po.version) == ("acknowledged", 2)
    events = await world.new_events("po/PO-1", 2)
    assert [brief(e) for e in events] == [
        (3, "po.acknowledged", "Northwind ERP", "SUP1", "supplier", "api", "internal,supplier"),
    ]
    assert events[0]["at"] == AT
    assert events[0]["data"] == {
        "decision": "accepted",
        "status": {"before": "issued", "after": "acknowledged"},
        "lines": [
            {"line_no": 1, "promise": promise(("70", "2026-04-06"), ("30", "2026-04-10"))},
            {"line_no": 2, "promise": promise(("50", "2026-04-10"))},
        ],
    }
    lines = await world.po_lines("PO-1")
    assert (lines[1]["promise"], lines[2]["promise"]) == (
        promise(("70", "2026-04-06"), ("30", "2026-04-10")),
        promise(("50", "2026-04-10")),
    )
    assert await world.count(t.ChangeRequest) == 0
    await world.sealed()


async def test_answers_that_differ_become_one_change_request_for_the_buyer(world: World) -> None:
    po = await world.issue_po()
    lots = split(("20", date(2026, 4, 3)), ("30", date(2026, 4, 9)))

    result = await acknowledge_lines(
        world.uow(),
        SUPPLIER,
        AcknowledgeLines(
            "PO-1",
            po.version,
            (
                LineAnswer(1, CHANGE, on(date(2026, 4, 24), "90"), Decimal(90)),
                LineAnswer(2, ACCEPT, lots),
            ),
            "material_shortage",
            "Steel is short",
        ),
    )

    cr = result.change_request
    assert cr is not None
    assert (cr.number, cr.status, cr.from_acknowledgement, cr.auto_approved) == (
        "PO-1-CR1",
        "open",
        True,
        False,
    )
    assert cr.due_at == AT + timedelta(hours=24)
    assert (result.po.status, result.po.version) == ("changes_proposed", 2)
    events = await world.new_events("po/PO-1", 2)
    assert [brief(e) for e in events] == [
        (3, "po.acknowledged", "Sue Supplier", "SUP1", "supplier", "web", "internal,supplier"),
        (4, "cr.opened", "Sue Supplier", "SUP1", "supplier", "web", "internal,supplier"),
    ]
    assert events[0]["data"] == {
        "decision": "accepted_with_changes",
        "changed_lines": [1],
        "status": {"before": "issued", "after": "changes_proposed"},
        "lines": [{"line_no": 2, "promise": promise(("20", "2026-04-03"), ("30", "2026-04-09"))}],
    }
    assert events[1]["data"] == {
        "number": "PO-1-CR1",
        "round": 1,
        "opened_by": "supplier",
        "reason_code": "material_shortage",
        "comment": "Steel is short",
        "changes": [
            {"line_no": 1, "kind": "quantity", "quantity": "90"},
            {"line_no": 1, "kind": "date", "schedule": promise(("90", "2026-04-24"))},
        ],
        "supersedes": None,
        "due_at": DUE,
    }
    row = await world.cr_row("PO-1-CR1")
    assert (row["status"], row["from_acknowledgement"], row["opened_by_name"]) == (
        "open",
        True,
        "Sue Supplier",
    )
    lines = await world.po_lines("PO-1")
    assert lines[1]["promise"] is None  # waits for the buyer
    assert lines[2]["promise"] == promise(("20", "2026-04-03"), ("30", "2026-04-09"))
    await world.sealed()


async def test_a_rejected_line_asks_to_cancel_it(world: World) -> None:
    po = await world.issue_po()
    result = await acknowledge_lines(
        world.uow(),
        SUPPLIER,
        AcknowledgeLines("PO-1", po.version, (LineAnswer(2, REJECT),), "other", "No nuts"),
    )
    assert result.change_request is not None
    assert [c.to_data() for c in result.change_request.changes] == [
        {"line_no": 2, "kind": "cancel"}
    ]
    events = await world.new_events("po/PO-1", 2)
    assert events[0]["data"]["lines"] == [{"line_no": 1, "promise": promise(("100", "2026-04-10"))}]


async def test_changes_within_the_tolerance_are_approved_at_once(world: World) -> None:
    world.rules = Rules(tolerance=TolerancePolicy(max_date_move_days=3))
    po = await world.issue_po()

    result = await acknowledge_lines(
        world.uow(),
        SUPPLIER,
        AcknowledgeLines(
            "PO-1", po.version, (LineAnswer(1, ACCEPT, on(date(2026, 4, 12))),), "logistics"
        ),
    )

    cr = result.change_request
    assert cr is not None
    assert (cr.status, cr.auto_approved, cr.decided_by_name) == ("approved", True, "system")
    assert result.po.status == "acknowledged"
    events = await world.new_events("po/PO-1", 2)
    assert [e["kind"] for e in events] == ["po.acknowledged", "cr.opened", "cr.auto_approved"]
    assert events[2]["actor"] == SYSTEM_ACTOR
    assert events[2]["data"]["status"] == {"before": "changes_proposed", "after": "acknowledged"}
    lines = await world.po_lines("PO-1")
    assert (lines[1]["promise"], lines[2]["promise"]) == (
        promise(("100", "2026-04-12")),
        promise(("50", "2026-04-10")),
    )
    await world.sealed()


async def test_accept_with_changes_keeps_the_promises_of_the_lines_it_does_not_change(
    world: World,
) -> None:
    po = await world.issue_po()
    lots = split(("25", date(2026, 4, 5)), ("25", date(2026, 4, 8)))
    result = await acknowledge(
        world.uow(),
        SUPPLIER,
        Acknowledge(
            "PO-1",
            po.version,
            Decision.ACCEPT_WITH_CHANGES,
            promises={2: lots},
            changes=(LineChange(1, ChangeKind.QUANTITY, quantity=Decimal(80)),),
            reason_code="capacity",
        ),
    )
    assert result.change_request is not None
    assert (await world.po_lines("PO-1"))[2]["promise"] == promise(
        ("25", "2026-04-05"), ("25", "2026-04-08")
    )


ANSWERS_REFUSED = {
    "past date": (
        (LineAnswer(1, ACCEPT, on(date(2026, 3, 1))),),
        DomainError,
        "Line 1: the delivery date 2026-03-01 is in the past; promise 2026-03-02 or later.",
    ),
    "past date in a change": (
        (LineAnswer(1, CHANGE, on(date(2026, 2, 27), "80")),),
        DomainError,
        "Line 1: the delivery date 2026-02-27 is in the past; promise 2026-03-02 or later.",
    ),
    "zero quantity": (
        (LineAnswer(1, CHANGE, quantity=Decimal(0)),),
        DomainError,
        "Quantity on line 1 must be more than zero; to drop the line, reject it.",
    ),
    "negative quantity": (
        (LineAnswer(2, CHANGE, quantity=Decimal(-5)),),
        DomainError,
        "Quantity on line 2 must be more than zero; to drop the line, reject it.",
    ),
    "unknown line": (
        (LineAnswer(1, ACCEPT), LineAnswer(3, REJECT)),
        NotFound,
        "Purchase order PO-1 has no line 3.",
    ),
}


@pytest.mark.parametrize("case", list(ANSWERS_REFUSED))
async def test_bad_answers_change_nothing(world: World, case: str) -> None:
    answers, error, message = ANSWERS_REFUSED[case]
    po = await world.issue_po()
    before = await world.snapshot()
    with pytest.raises(error) as refused:
        await acknowledge_lines(
            world.uow(), SUPPLIER, AcknowledgeLines("PO-1", po.version, answers)
        )
    assert refused.value.message == message
    assert await world.snapshot() == before


async def test_a_stale_or_second_acknowledgement_changes_nothing(world: World) -> None:
    po = await world.acknowledged_po()
    before = await world.snapshot()
    with pytest.raises(Conflict) as stale:
        await acknowledge_lines(world.uow(), SUPPLIER, AcknowledgeLines("PO-1", 1, ()))
    assert stale.value.current_version == po.version
    with pytest.raises(DomainError, match="Cannot accept purchase order PO-1: it is acknowledged"):
        await acknowledge_lines(world.uow(), SUPPLIER, AcknowledgeLines("PO-1", po.version, ()))
    assert await world.snapshot() == before


async def test_acknowledge_refuses_a_promise_for_a_day_gone(world: World) -> None:
    po = await world.issue_po()
    before = await world.snapshot()
    with pytest.raises(DomainError, match="the delivery date 2026-03-01 is in the past"):
        await acknowledge(
            world.uow(),
            SUPPLIER,
            Acknowledge(
                "PO-1", po.version, Decision.ACCEPT, promises={2: on(date(2026, 3, 1), "50")}
            ),
        )
    assert await world.snapshot() == before
