"""One command, one transaction: repositories, the clock, and the events written at commit.

    async with uow:
        po = await uow.purchase_orders.get(actor, number)
        po.change_promise(...)
        await uow.save(po)
        await uow.commit()

Leaving the block without `commit()` (or with an exception) rolls everything back, events
included. Events the aggregates recorded are sealed and written inside the same transaction by
`commit()`, together with their outbox rows (what the notifications are made from), and kept in
`committed` for whoever publishes them after the commit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any

from portal.db import outbox, reason_store, rule_store, timeline
from portal.db.database import Database
from portal.db.repositories import (
    ChangeRequests,
    Counters,
    Organisations,
    PurchaseOrders,
    Receipts,
    SalesOrders,
    Shipments,
)
from portal.domain.changes import TolerancePolicy
from portal.domain.events import Event
from portal.domain.orders import REASON_CATALOG, Aggregate, PurchaseOrder, SalesOrder


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Rules:
    """The business settings commands obey (from `Settings`; admins change them later)."""

    tolerance: TolerancePolicy = field(default_factory=TolerancePolicy)
    over_delivery_pct: Decimal = Decimal(0)
    cr_sla_hours: int = 24
    handling_days: int = 2


AfterCommit = Callable[["UnitOfWork"], Awaitable[None]]
"""Told about each committed unit of work (its `committed` events and `changed` orders):
the live updates. It runs after the transaction, so it never sees a rolled-back change."""


AlsoWrite = Callable[["UnitOfWork"], Awaitable[None]]
"""A caller's own write, done in the command's transaction (see `UnitOfWork.also`)."""


class UnitOfWork:
    def __init__(
        self,
        db: Database,
        rules: Rules | None = None,
        clock: Callable[[], datetime] = utc_now,
        after_commit: AfterCommit | None = None,
    ) -> None:
        self.db = db
        self.base_rules = rules or Rules()
        # The process's settings until the transaction begins; then with the admin's stored
        # rules laid over them (see `__aenter__`).
        self.rules = self.base_rules
        self.clock = clock
        self.after_commit = after_commit
        self.committed: list[Event] = []
        self.changed: list[Aggregate] = []
        self._also: list[AlsoWrite] = []

    def also(self, write: AlsoWrite) -> None:
        """Run `write` inside this unit of work's transaction at `commit()`, before its events:
        a row the caller needs committed (or rolled back) together with the command it runs
        through a service, e.g. the used e-mail link that makes an acknowledgement single-use.
        If `write` raises, nothing of the command is committed."""
        self._also.append(write)

    async def __aenter__(self) -> UnitOfWork:
        self._transaction: AbstractAsyncContextManager[Any] = self.db.write_transaction()
        await self._transaction.__aenter__()
        self._done = False
        self._touched: list[Aggregate] = []
        try:
            # Read once the transaction is ours, so times follow the order of the writes.
            self.now = self.clock()
            # The admin's business settings as they are now, in every process (one query).
            self.rules = await rule_store.load_rules(self.base_rules)
            reasons = await reason_store.catalog()
        except BaseException as error:
            # `async with` calls no __aexit__ when __aenter__ fails: give the transaction (and
            # SQLite's write lock) back here, or every later write waits for ever.
            await self._transaction.__aexit__(type(error), error, error.__traceback__)
            raise
        self.purchase_orders = PurchaseOrders()
        self.sales_orders = SalesOrders()
        self.change_requests = ChangeRequests()
        self.shipments = Shipments()
        self.receipts = Receipts()
        self.organisations = Organisations()
        self.counters = Counters()
        self.committed = []
        self.changed = []
        # The reason codes in use now, for the domain's checks during this command.
        self._reasons = REASON_CATALOG.set(reasons)
        return self

    async def add(self, order: PurchaseOrder | SalesOrder) -> None:
        if isinstance(order, PurchaseOrder):
            await self.purchase_orders.add(order, self.now)
        else:
            await self.sales_orders.add(order, self.now)
        self._touched.append(order)

    async def save(self, order: PurchaseOrder | SalesOrder, *, checked: bool = True) -> None:
        """Write the changed order back, bumping its version. Only the system following a
        promise saves a sales order unchecked (see `SalesOrders.save`)."""
        if isinstance(order, PurchaseOrder):
            await self.purchase_orders.save(order, self.now)
        else:
            await self.sales_orders.save(order, self.now, checked=checked)
        self._touched.append(order)

    def note(self, order: Aggregate) -> None:
        """Write the aggregate's new events at commit without touching it (a comment on an
        order, an organisation's administration): an order's version stays, so nobody's edit
        in flight turns stale because of it. The row lock taken when the order was read still
        orders the stream's appends."""
        self._touched.append(order)

    async def commit(self) -> list[Event]:
        """Write the events (and their outbox rows); the events as written, for a caller that
        goes on in the same transaction with their seq (they are `committed` once it ends)."""
        for write in self._also:
            await write(self)
        pending = [event for order in _unique(self._touched) for event in order.events]
        written = await timeline.append(pending, self.clock())
        await outbox.add(written)
        for order in self._touched:
            order.events.clear()
        self._done = True
        self._written = written
        return written

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None and not self._done:
            exc_type, exc = _Abandoned, _Abandoned()
        with suppress(ValueError, RuntimeError):  # left in another context than entered
            REASON_CATALOG.reset(self._reasons)
        with suppress(_Abandoned):
            await self._transaction.__aexit__(exc_type, exc, tb)
        if exc is None:
            self.committed = self._written
            self.changed = _unique(self._touched)
            if self.after_commit is not None and self.committed:
                await self.after_commit(self)


class _Abandoned(Exception):
    """A unit of work left without commit: roll back quietly."""


def _unique(orders: list[Aggregate]) -> list[Aggregate]:
    seen: list[Aggregate] = []
    for order in orders:
        if not any(order is other for other in seen):
            seen.append(order)
    return seen
