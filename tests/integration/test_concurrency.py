"""Commands running at the same time, on both engines: the same stale version wins once, other
orders do not wait on each other's failures, and no write is lost between two transactions
(what the projection says always equals what the timeline says)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest
from integration_support import (
    AT,
    BUYER,
    OTHER_SUPPLIER,
    SALES,
    SUPPLIER,
    World,
    on,
    po_line,
    so_line,
)

from portal.db import tables as t
from portal.domain.changes import TolerancePolicy
from portal.domain.errors import Conflict
from portal.domain.orders import PurchaseOrder, SalesOrder
from portal.services import sales_orders as sos
from portal.services.comments import AddComment, OrderKind, add_comment
from portal.services.promises import PromisesUpdated, UpdatePromise, update_promise
from portal.services.unit_of_work import Rules, UnitOfWork

WRITERS = 6


@pytest.fixture(autouse=True)
def promises_apply_at_once(world: World) -> None:
    """The promises here move by up to 20 days, within the tolerance: no change requests."""
    world.rules = Rules(tolerance=TolerancePolicy(max_date_move_days=30))


async def test_the_same_version_wins_exactly_once(world: World) -> None:
    po = await world.acknowledged_po()
    commands = [
        UpdatePromise("PO-1", po.version, 1, on(date(2026, 4, 11) + timedelta(days=n)), "capacity")
        for n in range(WRITERS)
    ]
    results = await asyncio.gather(
        *(update_promise(world.uow(), SUPPLIER, command) for command in commands),
        return_exceptions=True,
    )

    winners = [r for r in results if isinstance(r, PromisesUpdated)]
    losers = [r for r in results if isinstance(r, Conflict)]
    assert (len(winners), len(losers)) == (1, WRITERS - 1), results
    assert all(loser.current_version == po.version + 1 for loser in losers)
    row = await world.po_row("PO-1")
    assert row["version"] == po.version + 1
    changes = [e for e in await world.events("po/PO-1") if e["kind"] == "line.promise_changed"]
    assert len(changes) == 1
    stored = (await world.po_lines("PO-1"))[1]["promise"]
    assert changes[0]["data"]["after"] == stored == winners[0].orders[0].line(1).promise.to_data()
    await world.sealed()


async def test_commands_on_different_orders_all_succeed(world: World) -> None:
    numbers = [f"PO-{n}" for n in range(1, WRITERS + 1)]
    versions = [(await world.acknowledged_po(number)).version for number in numbers]
    results = await asyncio.gather(
        *(
            update_promise(
                world.uow(),
                SUPPLIER,
                UpdatePromise(number, version, 1, on(date(2026, 4, 20)), "capacity"),
            )
            for number, version in zip(numbers, versions, strict=True)
        ),
        return_exceptions=True,
    )
    assert [type(r) for r in results] == [PromisesUpdated] * WRITERS, results
    for number, version in zip(numbers, versions, strict=True):
        assert (await world.po_row(number))["version"] == version + 1
        assert (await world.po_lines(number))[1]["promised_date"] == date(2026, 4, 20)
    await world.sealed()


async def test_many_new_orders_at_once_get_distinct_numbers(world: World) -> None:
    results = await asyncio.gather(*(world.issue_po(f"PO-{n}") for n in range(WRITERS)))
    assert len({po.number for po in results}) == WRITERS
    assert await world.count(t.PurchaseOrder) == WRITERS
    await world.sealed()


class PausingUnitOfWork(UnitOfWork):
    """Stops until `go` is set (after saying so through `paused`): before saving an order of
    type `pause_before`, or, with `after_first_read`, right after it read its first order.
    That is the moment another transaction can run between this one's read and its write."""

    def __init__(
        self, world: World, pause_before: type[Any] = object, *, after_first_read: bool = False
    ) -> None:
        super().__init__(world.db, world.rules, lambda: AT)
        self.pause_before = pause_before
        self.after_first_read = after_first_read
        self.paused = asyncio.Event()
        self.go = asyncio.Event()

    async def pause(self) -> None:
        if not self.go.is_set():
            self.paused.set()
            await self.go.wait()

    async def __aenter__(self) -> UnitOfWork:
        await super().__aenter__()
        if self.after_first_read:
            for repository in (self.purchase_orders, self.sales_orders):
                repository.get = self._pausing(repository.get)  # type: ignore[method-assign]
        return self

    def _pausing(self, get: Any) -> Any:
        async def get_then_pause(actor: Any, number: str) -> Any:
            order = await get(actor, number)
            await self.pause()
            return order

        return get_then_pause

    async def save(self, order: PurchaseOrder | SalesOrder, *, checked: bool = True) -> None:
        if not self.after_first_read and isinstance(order, self.pause_before):
            await self.pause()
        await super().save(order, checked=checked)


async def interleave(slow: PausingUnitOfWork, first: Any, second: Any) -> list[Any]:
    """Run `first` until it pauses, give `second` a chance to run to its end (it may have
    to wait for `first`), then let `first` go on; both outcomes, in order."""
    first_task = asyncio.create_task(first)
    await slow.paused.wait()
    second_task = asyncio.create_task(second)
    await asyncio.wait({second_task}, timeout=0.5)
    slow.go.set()
    return await asyncio.gather(first_task, second_task, return_exceptions=True)


async def test_a_comment_does_not_undo_a_promise_change_made_meanwhile(world: World) -> None:
    po = await world.acknowledged_po()
    slow = PausingUnitOfWork(world, after_first_read=True)
    outcomes = await interleave(
        slow,
        add_comment(slow, BUYER, AddComment(OrderKind.PURCHASE, "PO-1", "Any news?")),
        update_promise(
            world.uow(),
            SUPPLIER,
            UpdatePromise("PO-1", po.version, 1, on(date(2026, 4, 30)), "capacity"),
        ),
    )
    # A comment changes no field of the order, so the promise change made with the same
    # version goes through whichever of the two commits first.
    assert isinstance(outcomes[0], PurchaseOrder), outcomes
    assert isinstance(outcomes[1], PromisesUpdated), outcomes

    # Whatever the order, the stored promise is the last one the timeline recorded.
    recorded = None
    for event in await world.events("po/PO-1"):
        if event["kind"] == "po.acknowledged":
            recorded = event["data"]["lines"][0]["promise"]
        elif event["kind"] == "line.promise_changed":
            recorded = event["data"]["after"]
    assert (await world.po_lines("PO-1"))[1]["promise"] == recorded
    await world.sealed()


async def test_two_suppliers_moving_lines_of_one_sales_order_lose_nothing(world: World) -> None:
    """SO-1's line 1 follows PO-1 and its line 2 follows PO-2: both promises move at once."""
    po1 = await world.acknowledged_po("PO-1", lines=[po_line(1)])
    po2 = await world.acknowledged_po("PO-2", supplier="SUP2", lines=[po_line(1, item="NUT-M8")])
    await world.create_so(lines=[so_line(1), so_line(2, item="NUT-M8")])
    await world.link("SO-1", 1, "PO-1", 1)
    await world.link("SO-1", 2, "PO-2", 1)

    slow = PausingUnitOfWork(world, SalesOrder)
    outcomes = await interleave(
        slow,
        update_promise(
            slow,
            SUPPLIER,
            UpdatePromise("PO-1", po1.version, 1, on(date(2026, 4, 28)), "capacity"),
        ),
        update_promise(
            world.uow(),
            OTHER_SUPPLIER,
            UpdatePromise("PO-2", po2.version, 1, on(date(2026, 4, 29)), "capacity"),
        ),
    )
    assert [type(o) for o in outcomes] == [PromisesUpdated, PromisesUpdated], outcomes

    lines = await world.so_lines("SO-1")
    assert (lines[1]["expected_date"], lines[2]["expected_date"]) == (
        date(2026, 4, 30),
        date(2026, 5, 1),
    )
    moves = {
        e["data"]["line_no"]: e["data"]["after"]
        for e in await world.events("so/SO-1")
        if e["kind"] == "line.expected_date_changed"
    }
    assert moves == {1: "2026-04-30", 2: "2026-05-01"}
    await world.sealed()


async def test_a_line_linked_while_the_promise_moves_follows_the_new_promise(
    world: World,
) -> None:
    po = await world.acknowledged_po(lines=[po_line(1)])
    so = await world.create_so()
    slow = PausingUnitOfWork(world, SalesOrder)
    outcomes = await interleave(
        slow,
        sos.link_sales_line(slow, SALES, sos.LinkSalesLine("SO-1", so.version, 1, "PO-1", 1)),
        update_promise(
            world.uow(),
            SUPPLIER,
            UpdatePromise("PO-1", po.version, 1, on(date(2026, 4, 28)), "capacity"),
        ),
    )
    assert [type(o) for o in outcomes] == [SalesOrder, PromisesUpdated], outcomes
    # The sales line ends where the promise it is linked to says: 28 Apr + 2 handling days.
    assert (await world.so_lines("SO-1"))[1]["expected_date"] == date(2026, 4, 30)
    await world.sealed()


async def test_linking_a_line_while_the_promise_moves_does_not_deadlock(world: World) -> None:
    """SO-1 line 1 already follows PO-1; line 2 is being linked to it while the supplier moves
    the promise. Both commands lock both orders: they must take the locks in the same order."""
    po = await world.acknowledged_po(lines=[po_line(1)])
    await world.create_so(lines=[so_line(1), so_line(2)])
    so = await world.link("SO-1", 1, "PO-1", 1)
    slow = PausingUnitOfWork(world, after_first_read=True)
    outcomes = await interleave(
        slow,
        sos.link_sales_line(slow, SALES, sos.LinkSalesLine("SO-1", so.version, 2, "PO-1", 1)),
        update_promise(
            world.uow(),
            SUPPLIER,
            UpdatePromise("PO-1", po.version, 1, on(date(2026, 4, 28)), "capacity"),
        ),
    )
    assert [type(o) for o in outcomes] == [SalesOrder, PromisesUpdated], outcomes
    lines = await world.so_lines("SO-1")
    assert (lines[1]["expected_date"], lines[2]["expected_date"]) == (
        date(2026, 4, 30),
        date(2026, 4, 30),
    )
    await world.sealed()
