"""The alert scanner: one round raises the alerts whose rule newly holds, escalates those that
have waited too long and resolves those whose condition cleared, each with its event on the
order's timeline (by the system, for our staff only) in the same transaction as the alert row.

A round reads what is tripped (`portal.db.alert_queries`, set-based) outside any transaction,
then writes order by order, one short transaction each. Several workers may scan at once:

- raising is `INSERT ... ON CONFLICT DO NOTHING` against the partial unique index on open
  (rule, subject); only the worker whose row went in records `alert.raised`;
- escalating is `UPDATE ... WHERE level = 'raised'` and resolving `UPDATE ... WHERE
  resolved_at IS NULL`: only the worker whose update touched the row records the event.

The order is read (and on PostgreSQL row-locked) through its repository before the alert rows
are touched, so the workers of one order take their turns, as commands do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import anyio

from portal.db import alert_queries, rule_store
from portal.db import tables as t
from portal.db.alert_queries import Tripped
from portal.db.codec import dump
from portal.db.database import Database
from portal.domain.actors import Actor
from portal.domain.alerts import (
    Level,
    Rule,
    Threshold,
    event_data,
    recipients_for,
    thresholds_from,
)
from portal.domain.errors import NotFound
from portal.domain.events import EventKind
from portal.domain.orders import PurchaseOrder, SalesOrder
from portal.domain.states import POStatus, SOStatus
from portal.services.unit_of_work import Rules, UnitOfWork, utc_now
from portal.settings import Settings

logger = logging.getLogger("portal.alerts")

SCANNER = Actor.system()
"""Who writes alerts on a timeline: the system, via system."""


@dataclass(slots=True)
class Round:
    """What one round did."""

    raised: int = 0
    escalated: int = 0
    resolved: int = 0

    @property
    def work(self) -> int:
        return self.raised + self.escalated + self.resolved


@dataclass(slots=True)
class Steps:
    """What one order's transaction does."""

    raise_: list[Tripped] = field(default_factory=list)
    escalate: list[tuple[int, Tripped]] = field(default_factory=list)
    resolve: list[dict[str, Any]] = field(default_factory=list)


async def scan(
    db: Database,
    clock: Callable[[], datetime] = utc_now,
    thresholds: Mapping[str, tuple[int, int]] | None = None,
    *,
    rules: Rules | None = None,
) -> Round:
    """One round of the scanner at `clock()`; `thresholds` (rule -> (hours, escalate_hours))
    default to the stored settings."""
    limits = thresholds_from(
        dict(thresholds) if thresholds is not None else await rule_store.alert_thresholds()
    )
    return await apply(db, clock, await plan(clock(), limits), rules=rules)


async def plan(now: datetime, limits: Mapping[Rule, Threshold]) -> dict[str, Steps]:
    """What a round at `now` is to do, order by order (read outside any transaction)."""
    opened = {(row["rule"], row["subject"]): row for row in await alert_queries.open_alerts()}
    found = {
        (item.rule.value, item.subject): item for item in await alert_queries.tripped(now, limits)
    }
    steps: dict[str, Steps] = {}
    for key, item in found.items():
        row = opened.get(key)
        if row is None:
            steps.setdefault(item.stream, Steps()).raise_.append(item)
        elif row["level"] == Level.RAISED and item.level == Level.ESCALATED:
            steps.setdefault(item.stream, Steps()).escalate.append((row["id"], item))
    for key, row in opened.items():
        if key not in found:
            steps.setdefault(row["stream"], Steps()).resolve.append(row)
    return steps


async def apply(
    db: Database,
    clock: Callable[[], datetime],
    steps: dict[str, Steps],
    *,
    rules: Rules | None = None,
) -> Round:
    """Write a plan, order by order, in stream order (as the dispatcher locks them): one short
    transaction each."""
    done = Round()
    if not steps:
        return done
    managers = await alert_queries.managers()
    for stream in sorted(steps):
        await _apply(db, clock, rules, stream, steps[stream], managers, done)
    return done


def still_holds(order: PurchaseOrder | SalesOrder, item: Tripped) -> bool:
    """Whether what the plan found still holds for the order as now read (and locked): the
    supplier may have acknowledged or shipped, or a sales line moved, since the plan was
    read. What the order alone cannot tell (a change request, a shipment) is taken as found."""
    if isinstance(order, PurchaseOrder):
        if item.rule == Rule.PO_UNACKNOWLEDGED:
            return order.status == POStatus.ISSUED
        if item.rule in (Rule.PROMISE_AFTER_NEED, Rule.PROMISE_PASSED_UNSHIPPED):
            line_no = item.facts.get("line_no")
            found = [line for line in order.lines if line.line_no == line_no]
            if not found or found[0].fully_shipped or found[0].promised_date is None:
                return False
            if item.rule == Rule.PROMISE_AFTER_NEED:
                return found[0].promised_date > found[0].need_date
            return found[0].promised_date.isoformat() == item.facts.get("promised_date")
        return True
    if item.rule == Rule.SO_LATE:
        lines = [line for line in order.lines if line.line_no == item.facts.get("line_no")]
        return (
            order.status == SOStatus.OPEN
            and bool(lines)
            and lines[0].expected_date > lines[0].requested_date
        )
    return True


async def _load(uow: UnitOfWork, stream: str) -> PurchaseOrder | SalesOrder | None:
    kind, _, number = stream.partition("/")
    try:
        if kind == "po":
            return await uow.purchase_orders.get(SCANNER, number)
        return await uow.sales_orders.get(SCANNER, number)
    except NotFound:
        return None


async def _apply(
    db: Database,
    clock: Callable[[], datetime],
    rules: Rules | None,
    stream: str,
    steps: Steps,
    managers: list[int],
    done: Round,
) -> None:
    async with UnitOfWork(db, rules, clock) as uow:
        order = await _load(uow, stream)
        if order is None:
            return  # leaving without commit: nothing written
        now = uow.now
        for item in steps.raise_:
            if not still_holds(order, item):
                continue  # cleared since the plan was read: nothing to raise
            inserted = (
                await t.Alert.insert(
                    t.Alert(
                        rule=item.rule.value,
                        subject=item.subject,
                        stream=item.stream,
                        number=item.number,
                        org=item.org,
                        owner_id=item.owner_id,
                        owner_name=item.owner_name,
                        level=Level.RAISED.value,
                        data=dump(item.facts),
                        due_at=item.due_at,
                        raised_at=now,
                    )
                )
                .on_conflict(action="DO NOTHING")
                .returning(t.Alert.id)
                .run()
            )
            if not inserted:
                continue  # another worker raised it first
            _record(order, EventKind.ALERT_RAISED, item, Level.RAISED, managers)
            done.raised += 1
            if item.level == Level.ESCALATED:
                steps.escalate.append((int(inserted[0]["id"]), item))
        for alert_id, item in steps.escalate:
            if not still_holds(order, item):
                continue  # cleared since the plan was read: the next round resolves it
            updated = (
                await t.Alert.update(
                    {t.Alert.level: Level.ESCALATED.value, t.Alert.escalated_at: now}
                )
                .where(
                    (t.Alert.id == alert_id)
                    & (t.Alert.level == Level.RAISED.value)
                    & t.Alert.resolved_at.is_null()
                )
                .returning(t.Alert.id)
                .run()
            )
            if updated:
                _record(order, EventKind.ALERT_ESCALATED, item, Level.ESCALATED, managers)
                done.escalated += 1
        for row in steps.resolve:
            updated = (
                await t.Alert.update({t.Alert.resolved_at: now})
                .where((t.Alert.id == row["id"]) & t.Alert.resolved_at.is_null())
                .returning(t.Alert.id)
                .run()
            )
            if updated:
                order.record(
                    SCANNER,
                    EventKind.ALERT_RESOLVED,
                    {
                        "rule": row["rule"],
                        "subject": row["subject"],
                        "level": row["level"],
                        "recipients": recipients_for(False, row["owner_id"], managers),
                    },
                    external=False,
                )
                done.resolved += 1
        if not order.events:
            return  # nothing was ours to write
        uow.note(order)
        await uow.commit()


def _record(
    order: PurchaseOrder | SalesOrder,
    kind: EventKind,
    item: Tripped,
    level: Level,
    managers: list[int],
) -> None:
    order.record(
        SCANNER,
        kind,
        event_data(
            item.rule,
            item.subject,
            due_at=item.due_at,
            late_hours=item.late_hours,
            facts=item.facts,
            recipients=recipients_for(level == Level.ESCALATED, item.owner_id, managers),
            level=level,
        ),
        external=False,
    )


class AlertScanner:
    """Scans every `settings.alert_scan_seconds` until stopped (a background task)."""

    def __init__(
        self, settings: Settings, db: Database, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock

    async def run_forever(self, stop: anyio.Event) -> None:
        """An error is logged and the next round goes on: a scanner must not die of one bad
        row or a database that is away for a moment."""
        while not stop.is_set():
            try:
                await scan(self.db, self.clock, rules=self.settings.rules)
            except Exception:
                logger.exception("the alert scan failed; trying again")
            with anyio.move_on_after(self.settings.alert_scan_seconds):
                await stop.wait()
