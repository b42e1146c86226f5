"""One command, one transaction: a stale version is refused with the current version and writes
nothing; a failure anywhere in a command (a rule broken after a save, a unique key on a later
insert, the clock or the commit itself) leaves every table exactly as it was."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from integration_support import (
    AT,
    BUYER,
    SALES,
    SUPPLIER,
    WAREHOUSE,
    World,
    on,
    po_line,
    so_line,
)

from portal.db import tables as t
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
from portal.services.fulfilment import PostShipment, RecordReceipt, post_shipment, record_receipt
from portal.services.promises import UpdatePromise, update_promise
from portal.services.unit_of_work import Rules, UnitOfWork

UNIQUE_VIOLATION = (sqlite3.IntegrityError, asyncpg.UniqueViolationError)
LATER = date(2026, 4, 20)

# Stale versions ----------------------------------------------------------------------------

Command = Callable[[World, int], Awaitable[Any]]


async def _draft(world: World) -> int:
    return (await world.issue_po(draft=True)).version


async def _issued(world: World) -> int:
    return (await world.issue_po()).version


async def _acknowledged(world: World) -> int:
    return (await world.acknowledged_po()).version


async def _received(world: World) -> int:
    po = await world.acknowledged_po(lines=[po_line(1, quantity="10")])
    shipment = Shipment("ASN-1", date(2026, 4, 8), "DHL", "", None, (ShipmentLine(1, Decimal(10)),))
    po = (await post_shipment(world.uow(), SUPPLIER, PostShipment("PO-1", po.version, shipment))).po
    receipt = Receipt("GR-1", date(2026, 4, 9), None, (ReceiptLine(1, Decimal(10)),))
    po = await record_receipt(world.uow(), WAREHOUSE, RecordReceipt("PO-1", po.version, receipt))
    return po.version


async def _so(world: World) -> int:
    await world.issue_po()
    return (await world.create_so()).version


def _date_change(day: date = LATER) -> tuple[LineChange, ...]:
    return (LineChange(1, ChangeKind.DATE, schedule=on(day)),)


def _shipment() -> Shipment:
    return Shipment("ASN-5", date(2026, 4, 8), "DHL", "", None, (ShipmentLine(1, Decimal(5)),))


def _receipt() -> Receipt:
    return Receipt("GR-5", date(2026, 4, 9), None, (ReceiptLine(1, Decimal(5)),))


STALE_CASES: dict[str, tuple[Callable[[World], Awaitable[int]], Command]] = {
    "issue_draft": (
        _draft,
        lambda w, v: pos.issue_draft(w.uow(), BUYER, pos.IssueDraft("PO-1", v)),
    ),
    "cancel_purchase_order": (
        _issued,
        lambda w, v: pos.cancel_purchase_order(
            w.uow(), BUYER, pos.CancelPurchaseOrder("PO-1", v, "no")
        ),
    ),
    "close_purchase_order": (
        _received,
        lambda w, v: pos.close_purchase_order(w.uow(), BUYER, pos.ClosePurchaseOrder("PO-1", v)),
    ),
    "acknowledge": (
        _issued,
        lambda w, v: acknowledge(w.uow(), SUPPLIER, Acknowledge("PO-1", v, Decision.ACCEPT)),
    ),
    "update_promise": (
        _acknowledged,
        lambda w, v: update_promise(
            w.uow(), SUPPLIER, UpdatePromise("PO-1", v, 1, on(LATER), "capacity")
        ),
    ),
    "open_change_request": (
        _acknowledged,
        lambda w, v: open_change_request(
            w.uow(), SUPPLIER, OpenChangeRequest("PO-1", v, _date_change(), "capacity")
        ),
    ),
    "post_shipment": (
        _acknowledged,
        lambda w, v: post_shipment(w.uow(), SUPPLIER, PostShipment("PO-1", v, _shipment())),
    ),
    "record_receipt": (
        _acknowledged,
        lambda w, v: record_receipt(w.uow(), WAREHOUSE, RecordReceipt("PO-1", v, _receipt())),
    ),
    "link_sales_line": (
        _so,
        lambda w, v: sos.link_sales_line(
            w.uow(), SALES, sos.LinkSalesLine("SO-1", v, 1, "PO-1", 1)
        ),
    ),
    "advance_sales_order": (
        _so,
        lambda w, v: sos.advance_sales_order(
            w.uow(), SALES, sos.AdvanceSalesOrder("SO-1", v, sos.Progress.CANCEL, reason="x")
        ),
    ),
}


@pytest.mark.parametrize("case", STALE_CASES)
async def test_a_stale_version_is_refused_and_changes_nothing(world: World, case: str) -> None:
    setup, command = STALE_CASES[case]
    current = await setup(world)
    before = await world.snapshot()

    for stale in (current - 1, current + 1):
        with pytest.raises(Conflict) as refused:
            await command(world, stale)
        assert refused.value.current_version == current
        assert f"version {stale}" in refused.value.message

    assert await world.snapshot() == before
    # The same command with the current version goes through.
    await command(world, current)
    assert await world.snapshot() != before


async def test_deciding_an_already_decided_change_request_is_a_conflict(world: World) -> None:
    po = await world.acknowledged_po()
    await open_change_request(
        world.uow(), SUPPLIER, OpenChangeRequest("PO-1", po.version, _date_change(), "capacity")
    )
    # Two buyers read version 1 of the request; the first one approves it.
    await decide_change_request(
        world.uow(), BUYER, DecideChangeRequest("PO-1-CR1", 1, Verdict.APPROVE)
    )
    before = await world.snapshot()
    with pytest.raises(Conflict) as refused:
        await decide_change_request(
            world.uow(), BUYER, DecideChangeRequest("PO-1-CR1", 1, Verdict.REJECT, "too late")
        )
    assert refused.value.current_version == 2
    assert await world.snapshot() == before


async def test_a_version_that_moves_between_read_and_save_is_a_conflict(world: World) -> None:
    """The repository's own check, behind the command's: the row's version is compared again
    in the UPDATE, so a write that lost a race is refused too."""
    await world.acknowledged_po()
    before = await world.snapshot()
    uow = world.uow()
    with pytest.raises(Conflict) as refused:
        async with uow:
            po = await uow.purchase_orders.get(SUPPLIER, "PO-1")
            po.change_promise(SUPPLIER, 1, on(LATER), "capacity")
            po.version -= 1  # as if another writer had saved in between
            await uow.save(po)
            await uow.commit()
    assert refused.value.current_version == 2
    assert await world.snapshot() == before
    assert uow.committed == []


# Failures halfway --------------------------------------------------------------------------


async def linked_world(world: World) -> int:
    """An acknowledged PO-1 whose line 1 feeds SO-1: a promise change writes both orders
    (the supplier may move a promise by ten days at once, LATER is that)."""
    world.rules = Rules(tolerance=TolerancePolicy(max_date_move_days=10))
    po = await world.acknowledged_po()
    await world.create_so()
    await world.link("SO-1", 1, "PO-1", 1)
    return po.version


async def test_a_rule_broken_after_a_save_rolls_everything_back(world: World) -> None:
    await linked_world(world)
    before = await world.snapshot()
    uow = world.uow()
    with pytest.raises(DomainError, match="second thoughts"):
        async with uow:
            po = await uow.purchase_orders.get(SUPPLIER, "PO-1")
            po.change_promise(SUPPLIER, 1, on(LATER), "capacity")
            await uow.save(po)
            so = await uow.sales_orders.get(SALES, "SO-1")
            so.comment(SALES, "saved too")
            await uow.save(so)
            raise DomainError("second thoughts")
    assert await world.snapshot() == before
    assert uow.committed == []


async def test_a_unique_violation_on_a_later_insert_rolls_back_the_saved_order(
    world: World,
) -> None:
    """The change request's number is taken (a leftover row): the PO was already saved with
    its new CR count when the insert fails."""
    po = await world.acknowledged_po()
    other = await world.issue_po("PO-2")
    other_id = (await world.po_row("PO-2"))["id"]
    await t.ChangeRequest.insert(
        t.ChangeRequest(
            number="PO-1-CR1",
            po=other_id,
            status="open",
            opened_by="internal",
            opened_by_name="leftover",
            reason_code="other",
            changes="[]",
            due_at=AT,
        )
    ).run()
    assert other.version == 1
    before = await world.snapshot()
    with pytest.raises(UNIQUE_VIOLATION):
        await open_change_request(
            world.uow(),
            SUPPLIER,
            OpenChangeRequest("PO-1", po.version, _date_change(), "capacity"),
        )
    assert await world.snapshot() == before


async def test_a_unique_violation_on_the_event_insert_rolls_back_both_orders(
    world: World,
) -> None:
    """A stray event row holds the seq the command's first event needs: by then the PO, its
    lines and the linked sales order were all saved."""
    version = await linked_world(world)
    seq = await world.head("po/PO-1")
    await t.Event.insert(
        t.Event(
            stream="po/PO-1",
            seq=seq + 1,
            at=AT,
            actor="{}",
            via="system",
            kind="stray",
            data="{}",
            audience="internal",
            prev_hash="0" * 64,
            hash="0" * 64,
        )
    ).run()
    before = await world.snapshot()
    with pytest.raises(UNIQUE_VIOLATION):
        await update_promise(
            world.uow(), SUPPLIER, UpdatePromise("PO-1", version, 1, on(LATER), "capacity")
        )
    assert await world.snapshot() == before


async def test_a_clock_that_fails_at_commit_rolls_back(world: World) -> None:
    version = await linked_world(world)
    before = await world.snapshot()
    calls: list[datetime] = []

    def clock() -> datetime:
        if calls:
            raise RuntimeError("clock unavailable")
        calls.append(AT)
        return AT

    uow = world.uow(clock=clock)
    with pytest.raises(RuntimeError, match="clock unavailable"):
        await update_promise(
            uow, SUPPLIER, UpdatePromise("PO-1", version, 1, on(LATER), "capacity")
        )
    assert calls == [AT]  # the first call (the command's `now`) worked
    assert await world.snapshot() == before
    assert uow.committed == []


class CommitFailsAfterWriting(UnitOfWork):
    """Writes the events (and sees them in its transaction), then fails before committing."""

    events_seen = 0

    async def commit(self) -> None:
        await super().commit()
        self.events_seen = await t.Event.count().run()
        raise RuntimeError("disk full")


async def test_a_commit_that_fails_after_writing_rolls_back(world: World) -> None:
    version = await linked_world(world)
    before = await world.snapshot()
    uow = CommitFailsAfterWriting(world.db, world.rules, lambda: AT)
    with pytest.raises(RuntimeError, match="disk full"):
        await update_promise(
            uow, SUPPLIER, UpdatePromise("PO-1", version, 1, on(LATER), "capacity")
        )
    # The command's events (one on the PO, one on the SO) were written, then undone.
    assert uow.events_seen == len(before["event"]) + 2
    assert await world.snapshot() == before
    assert uow.committed == []

    # Nothing was left locked or half-done: the same command, with the same version, works.
    await update_promise(
        world.uow(), SUPPLIER, UpdatePromise("PO-1", version, 1, on(LATER), "capacity")
    )
    assert (await world.po_row("PO-1"))["version"] == version + 1
    await world.sealed()


async def test_leaving_the_unit_of_work_without_commit_rolls_back(world: World) -> None:
    await linked_world(world)
    before = await world.snapshot()
    uow = world.uow()
    async with uow:
        po = await uow.purchase_orders.get(SUPPLIER, "PO-1")
        po.change_promise(SUPPLIER, 1, on(LATER), "capacity")
        await uow.save(po)
        await uow.counters.next("ASN", AT.date())
    assert await world.snapshot() == before
    assert uow.committed == []


async def test_a_committed_unit_of_work_keeps_its_events_for_publishing(world: World) -> None:
    version = await linked_world(world)
    uow = world.uow()
    await update_promise(uow, SUPPLIER, UpdatePromise("PO-1", version, 1, on(LATER), "capacity"))
    assert [(e.stream, e.kind) for e in uow.committed] == [
        ("po/PO-1", "line.promise_changed"),
        ("so/SO-1", "line.expected_date_changed"),
    ]


async def test_a_failed_command_on_a_new_order_leaves_no_stream_behind(world: World) -> None:
    """A sales order with two lines numbered 1 is refused after its number was drawn from the
    counter: the counter row is rolled back with everything else."""
    before = await world.snapshot()
    with pytest.raises(DomainError):
        await sos.create_sales_order(
            world.uow(),
            SALES,
            sos.CreateSalesOrder(
                "CUS1",
                "USD",
                [so_line(1), so_line(1, item="DUPLICATE")],
                contact_email="x@y.example",
            ),
        )
    assert await world.snapshot() == before


async def test_a_clock_that_fails_at_the_start_leaves_no_transaction_open(world: World) -> None:
    """The transaction (and on SQLite the process's write lock) is taken before the clock is
    read; a failing clock must give both back, or every later write waits for ever."""
    version = await linked_world(world)
    before = await world.snapshot()

    def broken() -> datetime:
        raise RuntimeError("clock unavailable")

    with pytest.raises(RuntimeError, match="clock unavailable"):
        await update_promise(
            world.uow(clock=broken),
            SUPPLIER,
            UpdatePromise("PO-1", version, 1, on(LATER), "capacity"),
        )
    assert await world.snapshot() == before
    if not world.db.is_sqlite:
        open_transactions = await world.db.engine.run_ddl(
            "SELECT COUNT(*) AS n FROM pg_stat_activity "
            "WHERE datname = current_database() AND state LIKE 'idle in transaction%'"
        )
        assert open_transactions[0]["n"] == 0
    # The next command gets the database at once (a leaked lock would make it time out).
    await asyncio.wait_for(
        update_promise(
            world.uow(), SUPPLIER, UpdatePromise("PO-1", version, 1, on(LATER), "capacity")
        ),
        timeout=30,
    )
    assert (await world.po_row("PO-1"))["version"] == version + 1
