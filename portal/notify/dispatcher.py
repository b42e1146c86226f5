"""The dispatcher: turns committed order events (the outbox) into notifications, and delivers
the e-mails and webhook calls they need, with retries, until each one has gone out.

Two phases, each safe to run in several processes at once:

1. **Fan-out**, one transaction per batch: claim outbox rows (`FOR UPDATE SKIP LOCKED` on
   PostgreSQL; SQLite has one writer at a time), work out who hears of each event (the rules of
   `topic_for` and each reader's preference), write the in-app notifications and the delivery
   rows, note on the order's timeline who was told (`notification.sent`, for our staff), and
   mark the outbox rows done. It all commits together or not at all: a crash means the batch is
   fanned out again, and the unique delivery keys keep that from ever doubling a delivery.
2. **Delivery**: lease due deliveries (`locked_until`) in a short transaction, send them outside
   any transaction, then record the attempt and the outcome. A worker killed mid-send leaves
   leased rows that another worker takes once the lease ends: a mail may then arrive twice, and
   the copies carry the same `X-Portal-Delivery` and `Message-ID` (a webhook the same
   `webhook-id`), so the receiver can tell. Nothing is lost.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import anyio

from portal.background import background_tasks
from portal.db import outbox
from portal.db import tables as t
from portal.db.codec import dump
from portal.db.database import Database
from portal.db.timeline import event_of
from portal.domain.actors import Actor, Side
from portal.domain.errors import NotFound
from portal.domain.events import Event, EventKind
from portal.domain.notifications import (
    DEFAULT_PREFERENCE,
    GIVE_UP_AFTER,
    ROUTED_KINDS,
    Preference,
    retry_delay,
    topic_for,
)
from portal.domain.orders import PurchaseOrder, SalesOrder
from portal.notify import email, webhooks
from portal.notify.live import Publish, notify_channel
from portal.notify.recipients import Reader, internal_orgs, readers_of, routed_to
from portal.services.unit_of_work import AfterCommit, UnitOfWork, utc_now
from portal.settings import Settings

logger = logging.getLogger("portal.notify")

BATCH = 50
"""Outbox rows fanned out per transaction, and deliveries leased at once."""
LEASE = timedelta(seconds=60)
"""How long a leased delivery is a worker's alone; after that another worker may take it."""
CONCURRENCY = 8
"""Deliveries sent at the same time by one worker."""
SHUTDOWN_GRACE_SECONDS = 5
"""How long a stopping web process lets the dispatcher and background tasks end their round."""
NOTIFIER = Actor.system("notifier")


def next_digest_at(now: datetime, hour: int, time_zone: str) -> datetime:
    """The next `hour` o'clock in the reader's time zone, strictly after `now`."""
    try:
        zone = ZoneInfo(time_zone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    at = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if at <= local:
        at = (local + timedelta(days=1)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return at


@dataclass(slots=True)
class _Plan:
    """What one batch writes."""

    notifications: list[t.Notification] = field(default_factory=list)
    deliveries: list[t.Delivery] = field(default_factory=list)
    users: set[int] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class _Outcome:
    ok: bool
    status_code: int | None = None
    detail: str = ""
    permanent: bool = False
    subject: str = ""
    eml: str = ""


class Dispatcher:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        publish: Publish | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        batch: int = BATCH,
        lease: timedelta = LEASE,
        name: str | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.publish = publish
        self.clock = clock
        self.batch = batch
        self.lease = lease
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self._woken = anyio.Event()

    def wake(self) -> None:
        """Something was committed: look for work now instead of at the next poll."""
        self._woken.set()

    async def run_once(self) -> int:
        """Fan out what is pending, then deliver what is due; the work done (rows handled)."""
        return await self.fan_out() + await self.deliver()

    async def run_forever(self, stop: anyio.Event) -> None:
        """Until `stop` is set: work while there is work, else sleep until woken or the next
        poll. An error is logged and the loop goes on: a dispatcher must not die of one bad
        row or a database that is away for a moment."""
        poll = float(self.settings.notify_poll_seconds)
        async with anyio.create_task_group() as group:

            async def stopper() -> None:
                await stop.wait()
                self.wake()

            group.start_soon(stopper)
            while not stop.is_set():
                self._woken = anyio.Event()
                try:
                    work = await self.run_once()
                except Exception:
                    logger.exception("the dispatcher's round failed; trying again")
                    work = 0
                if work or stop.is_set():
                    continue
                with anyio.move_on_after(poll):
                    await self._woken.wait()
            group.cancel_scope.cancel()

    # Fan-out -------------------------------------------------------------------------------

    async def fan_out(self) -> int:
        # Look before taking the write lock: an idle dispatcher polls every second, and on
        # SQLite each write transaction would hold off every other writer of the file.
        pending = await t.Outbox.exists().where(t.Outbox.done_at.is_null()).run()
        if not pending:
            return 0
        async with UnitOfWork(self.db, self.settings.rules, self.clock) as uow:
            rows = await self._claim_outbox()
            if not rows:
                return 0  # leaving without commit: nothing was written
            plan = await self._plan(uow, rows)
            if plan.notifications:
                await t.Notification.insert(*plan.notifications).run()
            if plan.deliveries:
                await t.Delivery.insert(*plan.deliveries).on_conflict(action="DO NOTHING").run()
            await (
                t.Outbox.update({t.Outbox.done_at: uow.now})
                .where(t.Outbox.id.is_in([row["id"] for row in rows]))
                .run()
            )
            await uow.commit()
        if self.publish is not None:
            for user in sorted(plan.users):
                try:
                    await self.publish(b"notify", [notify_channel(user)])
                except Exception:
                    logger.exception("could not tell user %s's open pages", user)
        return len(rows)

    async def _claim_outbox(self) -> list[dict[str, Any]]:
        query = (
            t.Outbox.select()
            .where(t.Outbox.done_at.is_null())
            .order_by(t.Outbox.id)
            .limit(self.batch)
        )
        if not self.db.is_sqlite:
            # Another worker's batch is skipped, not waited for: each takes its own.
            query = query.lock_rows(skip_locked=True, of=(t.Outbox,))
        return list(await query.run())

    async def _plan(self, uow: UnitOfWork, rows: list[dict[str, Any]]) -> _Plan:
        streams = sorted({row["stream"] for row in rows})
        event_rows = (
            await t.Event.select()
            .where(t.Event.stream.is_in(streams))
            .where(t.Event.seq.is_in(sorted({row["seq"] for row in rows})))
            .run()
        )
        events = {(row["stream"], row["seq"]): event_of(row) for row in event_rows}
        # Locked in stream order: two workers (and the commands, PO before SO) meet in one order.
        orders: dict[str, PurchaseOrder | SalesOrder] = {}
        readers: dict[str, list[Reader]] = {}
        for stream in streams:
            order = await self._order(uow, stream)
            if order is not None:
                orders[stream] = order
                readers[stream] = await readers_of(order)
        users = {r.user_id for group in readers.values() for r in group if r.user_id is not None}
        preferences = await self._preferences(users)
        ours = await internal_orgs()
        plan = _Plan()
        for row in rows:
            event = events.get((row["stream"], row["seq"]))
            order = orders.get(row["stream"])
            if event is None or order is None:
                logger.warning("outbox row %s names no event or order; skipped", row["id"])
                continue
            told = await self._fan_out_event(
                plan, event, order, readers[event.stream], preferences, ours, uow.now
            )
            if told is not None:
                order.record(NOTIFIER, EventKind.NOTIFICATION_SENT, told, external=False)
                uow.note(order)
        return plan

    async def _order(self, uow: UnitOfWork, stream: str) -> PurchaseOrder | SalesOrder | None:
        kind, _, number = stream.partition("/")
        try:
            if kind == "po":
                return await uow.purchase_orders.get(NOTIFIER, number)
            return await uow.sales_orders.get(NOTIFIER, number)
        except NotFound:
            return None

    async def _preferences(self, users: set[int]) -> dict[tuple[int, str], Preference]:
        if not users:
            return {}
        rows = (
            await t.NotificationPreference.select()
            .where(t.NotificationPreference.user_id.is_in(sorted(users)))
            .run()
        )
        return {
            (row["user_id"], row["topic"]): Preference(row["in_app"], row["email"], row["digest"])
            for row in rows
        }

    async def _fan_out_event(
        self,
        plan: _Plan,
        event: Event,
        order: PurchaseOrder | SalesOrder,
        readers: list[Reader],
        preferences: dict[tuple[int, str], Preference],
        ours: list[str],
        now: datetime,
    ) -> dict[str, Any] | None:
        """Notifications and deliveries for one event; what the timeline says of them, or None
        when nobody was told anything."""
        if event.kind in ROUTED_KINDS:  # an alert: only the people it names, as they chose
            readers = await routed_to(event.data.get("recipients"))
            named = {reader.user_id for reader in readers if reader.user_id is not None}
            preferences = {**preferences, **await self._preferences(named)}
        author_side = Side(event.actor.get("side", Side.INTERNAL))
        author = str(event.actor.get("id")) if event.actor.get("kind") == "user" else None
        number = order.number
        event_data = {"kind": event.kind, "seq": event.seq, "at": event.at.isoformat()}
        in_app: list[str] = []
        mailed: list[str] = []
        for reader in readers:
            if reader.user_id is not None and str(reader.user_id) == author:
                continue  # nobody is told of their own change
            topic = topic_for(event.kind, event.stream, reader.side, author_side, event.audience)
            if topic is None:
                continue
            preference = (
                preferences.get((reader.user_id, topic), DEFAULT_PREFERENCE)
                if reader.user_id is not None
                else DEFAULT_PREFERENCE
            )
            if reader.user_id is not None and preference.in_app:
                plan.notifications.append(
                    outbox.in_app(
                        reader.user_id,
                        topic.value,
                        stream=event.stream,
                        seq=event.seq,
                        kind=event.kind,
                        number=number,
                        data=event.data,
                        now=now,
                    )
                )
                plan.users.add(reader.user_id)
                in_app.append(reader.name)
            if preference.email and reader.email:
                digest = preference.digest and reader.user_id is not None
                zone = reader.time_zone or self.settings.time_zone
                plan.deliveries.append(
                    outbox.email(
                        reader.target,
                        reader.org,
                        topic.value,
                        stream=event.stream,
                        number=number,
                        side=reader.side.value,
                        event={**event_data, "data": event.data},
                        now=now,
                        next_at=next_digest_at(now, self.settings.digest_hour, zone)
                        if digest
                        else None,
                        version=order.version,
                        digest=digest,
                    )
                )
                mailed.append(reader.name if reader.user_id is not None else _masked(reader.email))
        if isinstance(order, PurchaseOrder):
            partner, partner_side = order.supplier, Side.SUPPLIER
        else:
            partner, partner_side = order.customer, Side.CUSTOMER
        orgs = ([partner] if partner_side in event.audience else []) + ours
        endpoints = await webhooks.endpoints_for(orgs, event.kind)
        if endpoints:
            body = webhooks.payload(event, number)
            for endpoint, owner in endpoints.items():
                plan.deliveries.append(
                    t.Delivery(
                        key=outbox.delivery_key(event.stream, event.seq, "webhook", str(endpoint)),
                        channel="webhook",
                        target=str(endpoint),
                        org=owner,
                        stream=event.stream,
                        seq=event.seq,
                        kind=event.kind,
                        payload=dump(body),
                        next_at=now,
                        created_at=now,
                    )
                )
        if not (in_app or mailed or endpoints):
            return None
        return {
            "for_seq": event.seq,
            "kind": event.kind,
            "in_app": in_app,
            "email": mailed,
            "webhooks": len(endpoints),
        }

    # Delivery ------------------------------------------------------------------------------

    async def deliver(self) -> int:
        """Send what is due; the number of deliveries tried."""
        claimed = await self._claim_deliveries()
        if not claimed:
            return 0
        jobs: list[list[dict[str, Any]]] = []
        digests: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in claimed:
            if row["channel"] == "email" and email.payload_of(row).get("digest"):
                digests[row["target"]].append(row)
            else:
                jobs.append([row])
        jobs.extend(digests.values())
        limiter = anyio.CapacityLimiter(CONCURRENCY)

        async def run(rows: list[dict[str, Any]]) -> None:
            async with limiter:
                await self._deliver(rows)

        async with anyio.create_task_group() as group:
            for rows in jobs:
                group.start_soon(run, rows)
        return len(claimed)

    async def _claim_deliveries(self) -> list[dict[str, Any]]:
        due = await (
            t.Delivery.exists()
            .where((t.Delivery.status == "pending") & (t.Delivery.next_at <= self.clock()))
            .run()
        )
        if not due:
            return []  # as in fan_out: no write lock for an idle poll
        async with self.db.write_transaction():
            now = self.clock()
            free = t.Delivery.locked_until.is_null() | (t.Delivery.locked_until < now)
            query = (
                t.Delivery.select(t.Delivery.id)
                .where((t.Delivery.status == "pending") & (t.Delivery.next_at <= now))
                .where(free)
                .order_by(t.Delivery.next_at)
                .order_by(t.Delivery.id)
                .limit(self.batch)
            )
            if not self.db.is_sqlite:
                query = query.lock_rows(skip_locked=True)
            ids = [row["id"] for row in await query.run()]
            if not ids:
                return []
            # Conditional: a row another worker leased since the select stays its own.
            rows = (
                await t.Delivery.update({t.Delivery.locked_until: now + self.lease})
                .where(t.Delivery.id.is_in(ids) & free)
                .returning(*t.Delivery.all_columns())
                .run()
            )
        return sorted(rows, key=lambda row: row["id"])

    async def _deliver(self, rows: list[dict[str, Any]]) -> None:
        started = time.monotonic()
        try:
            outcome = await self._send(rows)
        except Exception as error:  # one bad delivery must not stop the others
            logger.exception("delivery %s failed unexpectedly", rows[0]["key"])
            outcome = _Outcome(False, detail=f"{type(error).__name__}: {error}")
        elapsed = int((time.monotonic() - started) * 1000)
        try:
            await self._record(rows, outcome, elapsed)
        except Exception:
            # The lease runs out and the delivery is tried again: a duplicate, never a loss.
            logger.exception("could not record the outcome of delivery %s", rows[0]["key"])

    async def _send(self, rows: list[dict[str, Any]]) -> _Outcome:
        first = rows[0]
        if first["channel"] == "webhook":
            attempt = await webhooks.send(self.settings, first)
            if first["target"].isdigit():
                await webhooks.after_attempt(
                    int(first["target"]),
                    attempt.ok,
                    self.clock(),
                    self.db,
                    permanent=attempt.permanent,
                )
            return _Outcome(attempt.ok, attempt.status_code, attempt.detail, attempt.permanent)
        try:
            sent = await email.send(self.settings, rows, self.clock())
        except email.PermanentFailure as error:
            return _Outcome(False, detail=str(error), permanent=True)
        except Exception as error:
            return _Outcome(False, detail=f"{type(error).__name__}: {error}")
        detail = f"written to {sent.eml}" if sent.eml else "accepted by the SMTP server"
        return _Outcome(
            True, detail=f"{detail} ({sent.message_id})", subject=sent.subject, eml=sent.eml
        )

    async def _record(self, rows: Sequence[dict[str, Any]], outcome: _Outcome, ms: int) -> None:
        async with self.db.write_transaction():
            now = self.clock()
            await t.DeliveryAttempt.insert(
                *[
                    t.DeliveryAttempt(
                        delivery=row["id"],
                        at=now,
                        ok=outcome.ok,
                        status_code=outcome.status_code,
                        detail=outcome.detail[:2000],
                        duration_ms=ms,
                        worker=self.name[:64],
                    )
                    for row in rows
                ]
            ).run()
            for row in rows:
                attempts = row["attempts"] + 1
                values: dict[Any, Any] = {
                    t.Delivery.attempts: attempts,
                    t.Delivery.locked_until: None,
                }
                if outcome.subject:
                    values[t.Delivery.subject] = outcome.subject[:300]
                if outcome.eml:
                    values[t.Delivery.payload] = dump({**email.payload_of(row), "eml": outcome.eml})
                if outcome.ok:
                    values |= {
                        t.Delivery.status: "sent",
                        t.Delivery.sent_at: now,
                        t.Delivery.last_error: "",
                    }
                else:
                    values[t.Delivery.last_error] = outcome.detail[:2000]
                    if outcome.permanent or attempts >= GIVE_UP_AFTER:
                        values[t.Delivery.status] = "failed"
                    else:
                        wait = retry_delay(attempts).total_seconds()
                        values[t.Delivery.next_at] = now + timedelta(
                            seconds=wait * float(self.settings.retry_scale)
                        )
                await t.Delivery.update(values).where(t.Delivery.id == row["id"]).run()


def _masked(address: str) -> str:
    """A contact address as our staff's timeline shows it: enough to recognise, not to copy."""
    name, _, domain = address.partition("@")
    return f"{name[:1]}***@{domain}" if domain else "***"


class InProcess:
    """The dispatcher inside the web process (`settings.dispatcher`, the embedded default):
    started with the app, woken by every committed unit of work, stopped with the app."""

    def __init__(self, settings: Settings, publish: Publish) -> None:
        self.settings = settings
        self.publish = publish
        self.dispatcher: Dispatcher | None = None

    def after_commit(self, announce: AfterCommit | None = None) -> AfterCommit:
        """The unit of work's `after_commit`: `announce` (the live updates), then a wake-up."""

        async def committed(uow: UnitOfWork) -> None:
            if announce is not None:
                await announce(uow)
            if self.dispatcher is not None:
                self.dispatcher.wake()

        return committed

    @asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        """Runs after the database lifespan has put `app.state.db` in place."""
        if not self.settings.dispatcher:
            yield
            return
        self.dispatcher = Dispatcher(self.settings, app.state.db, self.publish)
        stop = anyio.Event()
        async with anyio.create_task_group() as group:
            group.start_soon(self.dispatcher.run_forever, stop)
            for task in background_tasks(self.settings, app.state.db, self.publish):
                group.start_soon(task, stop)
            try:
                yield
            finally:
                stop.set()
                # Each task ends at `stop` once its round is done. Cancelling at once could cut
                # a round between BEGIN and ROLLBACK, and the orphaned connection would keep
                # SQLite's write lock; a round still running after the grace (a slow SMTP
                # server) is abandoned: its lease runs out and a later run does it again.
                group.cancel_scope.deadline = anyio.current_time() + SHUTDOWN_GRACE_SECONDS
                self.dispatcher = None
