"""`portal worker` as real processes: one killed (SIGKILL) in the middle of a batch of mails
to a slow SMTP server loses nothing, and the copies its death causes carry the same ids; two
workers at once on one PostgreSQL database deliver every notification exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from auth_support import add_user
from notify_support import deliveries, events, issue_po, people, received, smtp_server

from portal.db import tables as t
from portal.db.database import Database
from portal.notify.dispatcher import Dispatcher
from portal.services.unit_of_work import utc_now
from portal.settings import Settings

ORDERS = 12


@contextmanager
def worker(database_url: str, smtp_port: int, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "PORTAL_BASE_URL": "https://portal.example.com",
        "PORTAL_SECRET_KEY": "s" * 40,
        "PORTAL_MAIL_DIR": str(tmp_path / "mail"),
        "PORTAL_RETRY_SCALE": "0",
        "PORTAL_NOTIFY_POLL_SECONDS": "0.2",
        "PORTAL_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


async def wait_until(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await anyio.sleep(0.1)


async def suppliers(count: int) -> None:
    for n in range(count):
        await add_user(f"s{n}@northwind.example", org="SUP1", role="supplier", password=None)


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_a_worker_killed_mid_batch_loses_nothing(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    who = await people()
    await suppliers(2)  # three supplier people: 36 mails
    for n in range(ORDERS):
        await issue_po(db, who, f"PO-{n}")
    maildir = tmp_path / "maildir"
    with smtp_server(maildir, delay=0.5) as port:
        with worker(database_url, port, tmp_path) as first:

            async def some_arrived() -> bool:
                return len(received(maildir)) >= 6

            await wait_until(some_arrived, "the first mails arrived")
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=30)
        assert first.returncode == -signal.SIGKILL
        stuck = [d for d in await deliveries(channel="email") if d["status"] != "sent"]
        assert stuck, "the worker died with mails still to send"

        # Another worker, once the dead one's lease has run out.
        values = Settings(
            database_url=database_url,
            smtp_url=f"smtp://127.0.0.1:{port}",
            base_url="https://portal.example.com",
            secret_key="s" * 40,
            retry_scale=Decimal(0),
        )
        second = Dispatcher(values, db, clock=lambda: utc_now() + timedelta(minutes=2))
        while await second.run_once():
            pass

    sent = await deliveries(channel="email")
    assert len(sent) == ORDERS * 3 and all(d["status"] == "sent" for d in sent)
    mails = received(maildir)
    copies: dict[str, set[str]] = defaultdict(set)
    for mail in mails:
        copies[mail["X-Portal-Delivery"]].add(mail["Message-ID"])
    assert set(copies) == {d["key"] for d in sent}, "every delivery arrived, none lost"
    assert all(len(ids) == 1 for ids in copies.values()), "a duplicate has the same Message-ID"
    # Each order's notifications were written once: the fan-out is all or nothing.
    for n in range(ORDERS):
        assert len(await events(f"po/PO-{n}", "notification.sent")) == 1
    assert await t.Notification.count().run() == ORDERS * 3


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_two_workers_at_once_deliver_everything_exactly_once(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    who = await people()
    await suppliers(4)  # five supplier people, 100 mails: more than one worker's batch
    # A backlog both workers find at once when they start: they claim the same rows at the
    # same moment, and only one may have each.
    for n in range(20):
        await issue_po(db, who, f"PO-{n}")
    maildir = tmp_path / "maildir"
    with (
        smtp_server(maildir, delay=0.05) as port,
        worker(database_url, port, tmp_path) as one,
        worker(database_url, port, tmp_path) as two,
    ):

        async def all_sent() -> bool:
            pending = await t.Delivery.count().where(t.Delivery.status != "sent").run()
            open_outbox = await t.Outbox.count().where(t.Outbox.done_at.is_null()).run()
            total = await t.Delivery.count().run()
            return bool(total == 100 and pending == 0 and open_outbox == 0)

        await wait_until(all_sent, "every delivery was sent")
        assert one.poll() is None and two.poll() is None, "both workers still run"
        one.terminate()
        assert one.wait(timeout=30) == 0, "SIGTERM stops a worker cleanly"

    keys = Counter(mail["X-Portal-Delivery"] for mail in received(maildir))
    assert len(keys) == 100 and set(keys.values()) == {1}, "each mail exactly once"
    attempts = await t.DeliveryAttempt.select().run()
    assert len(attempts) == 100
    assert len({a["worker"] for a in attempts}) == 2, "both workers delivered"
    assert await t.Notification.count().run() == 100
    for n in range(20):
        assert len(await events(f"po/PO-{n}", "notification.sent")) == 1


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_two_dispatchers_claiming_the_same_backlog_at_the_same_moment(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    """The moment that matters, made certain: both claim while the outbox is full."""
    who = await people()
    for n in range(10):
        await issue_po(db, who, f"PO-{n}")
    values = Settings(database_url=database_url, mail_dir=str(tmp_path / "mail"))
    one, two = Dispatcher(values, db, name="one"), Dispatcher(values, db, name="two")
    done: list[int] = []

    async def fan_out(dispatcher: Dispatcher) -> None:
        done.append(await dispatcher.fan_out())

    async with anyio.create_task_group() as group:
        group.start_soon(fan_out, one)
        group.start_soon(fan_out, two)
    while await one.fan_out():
        pass

    assert sum(done) == 20, "each outbox row (created, issued per order) claimed once"
    assert await t.Notification.count().run() == 10, "Sue is told of each order once"
    assert await t.Delivery.count().run() == 10
    for n in range(10):
        assert len(await events(f"po/PO-{n}", "notification.sent")) == 1
