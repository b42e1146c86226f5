"""Cost of the early-warning scanner over a large set of orders.

    .venv/bin/python bench/bench_alerts.py [--orders 5000] [--lines 5] [--acked 0.2]
        [--analyze] [--engine sqlite|postgresql|both]

Creates a throw-away database per engine (a temp SQLite file; a fresh PostgreSQL database on
TEST_POSTGRES_URL's server, dropped afterwards) and imports `--orders` purchase orders of
`--lines` lines for a few suppliers through the bulk import path (`create_orders`), issued 36
hours ago. A share (`--acked`) is acknowledged by its supplier (one command each); half of those
then get a promise one day after the need date (`promise_after_need`). The rest stay
unacknowledged past the 24-hour threshold (`po_unacknowledged`). Then three scanner rounds:

1. now: raises every alert that holds;
2. now again: nothing new; the steady-state cost of a scan over every order;
3. 48 hours later: the unacknowledged orders pass the 72-hour escalation threshold.

Prints the alerts written and the seconds of each round. Measures; asserts nothing.

`--analyze` runs ANALYZE after the import (what autovacuum does in time; the test server runs
without it): without fresh statistics PostgreSQL may plan the scanner's joins for a few rows.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg

from portal.db import alert_queries, tables
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.alerts import DEFAULT_THRESHOLDS, thresholds_from
from portal.domain.changes import TolerancePolicy
from portal.domain.schedule import Schedule
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge
from portal.services.alerts import Round, scan
from portal.services.order_import import Kind, Line, Order, create_orders
from portal.services.promises import UpdatePromise, update_promise
from portal.services.unit_of_work import Rules, UnitOfWork

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BUYER = Actor(ActorKind.USER, "b1", "OURS", Side.INTERNAL, "Bench Buyer", Via.API)
SUPPLIERS = ("SUP1", "SUP2", "SUP3")
MOVES_AT_ONCE = Rules(tolerance=TolerancePolicy(max_date_move_days=365))
"""A one-day slip is within the tolerance rule, so it applies at once (no change request)."""
IMPORT_CHUNK = 1000
"""Orders per `create_orders` call (one transaction each)."""


def migrate(url: str) -> None:
    env = {**os.environ, "PICCOLO_CONF": "portal.piccolo_conf", "PORTAL_DATABASE_URL": url}
    subprocess.run(
        [sys.executable, "-m", "portal.cli", "migrate"], env=env, check=True, capture_output=True
    )


def supplier_actor(code: str) -> Actor:
    return Actor(ActorKind.USER, f"s-{code}", code, Side.SUPPLIER, f"Bench {code}", Via.API)


def fixed(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


async def prepare(db: Database, args: argparse.Namespace, now: datetime) -> tuple[int, int]:
    """Imports the orders (issued 36 hours before `now`); acknowledges a share and slips half
    of those. (orders acknowledged, orders slipped)."""
    await tables.Organisation.insert(
        tables.Organisation(code="OURS", name="Ours", kind="internal"),
        *[tables.Organisation(code=code, name=code, kind="supplier") for code in SUPPLIERS],
    ).run()
    need = now.date() + timedelta(days=30)
    orders = [
        Order(
            number=f"BPO-{n:07d}",
            party=SUPPLIERS[n % len(SUPPLIERS)],
            currency="CNY",
            contact_email="",
            contact_phone="",
            first_row=n,
            lines=[
                Line(n, no, f"ITEM-{no}", "", Decimal(100), "pcs", Decimal("1.5"), need)
                for no in range(1, args.lines + 1)
            ],
        )
        for n in range(args.orders)
    ]
    issued = fixed(now - timedelta(hours=36))
    for start in range(0, len(orders), IMPORT_CHUNK):
        await create_orders(
            UnitOfWork(db, clock=issued),
            BUYER,
            Kind.PURCHASE_ORDERS,
            orders[start : start + IMPORT_CHUNK],
        )
    step = max(1, round(1 / args.acked)) if args.acked > 0 else 0
    acked = slipped = 0
    for n, order in enumerate(orders[::step] if step else []):
        supplier = supplier_actor(order.party)
        row = (
            await tables.PurchaseOrder.select(tables.PurchaseOrder.version)
            .where(tables.PurchaseOrder.number == order.number)
            .first()
            .run()
        )
        assert row is not None
        done = await acknowledge(
            UnitOfWork(db, clock=issued),
            supplier,
            Acknowledge(order.number, row["version"], Decision.ACCEPT),
        )
        acked += 1
        if n % 2:
            continue
        await update_promise(
            UnitOfWork(db, MOVES_AT_ONCE, issued),
            supplier,
            UpdatePromise(
                order.number,
                done.po.version,
                1,
                Schedule.single(Decimal(100), need + timedelta(days=1)),
                "capacity",
            ),
        )
        slipped += 1
    return acked, slipped


async def timed(db: Database, at: datetime) -> tuple[Round, float]:
    started = time.perf_counter()
    done = await scan(db, fixed(at), DEFAULT_THRESHOLDS)
    return done, time.perf_counter() - started


async def bench(engine: str, args: argparse.Namespace) -> None:
    name = f"portal_bench_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        if engine == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        else:
            admin = await asyncpg.connect(ADMIN_URL)
            await admin.execute(f'CREATE DATABASE "{name}"')
            await admin.close()
            url = f"{ADMIN_URL.rpartition('/')[0]}/{name}"
        try:
            migrate(url)
            db = Database(url)
            await db.start()
            now = datetime.now(UTC).replace(microsecond=0)
            started = time.perf_counter()
            acked, slipped = await prepare(db, args, now)
            if args.analyze:
                await tables.Event.raw("ANALYZE").run()
            lines = await tables.POLine.count().run()
            events = await tables.Event.count().run()
            print(
                f"{engine}: imported {args.orders} POs ({lines} lines), acknowledged {acked}, "
                f"slipped {slipped}, {events} events, in {time.perf_counter() - started:.2f} s"
            )
            first, first_s = await timed(db, now)
            second, second_s = await timed(db, now)
            started = time.perf_counter()
            found = await alert_queries.tripped(now, thresholds_from(DEFAULT_THRESHOLDS))
            plan_s = time.perf_counter() - started
            third, third_s = await timed(db, now + timedelta(hours=48))
            opened = await tables.Alert.count().where(tables.Alert.resolved_at.is_null()).run()
            print(f"  {'round':<28}{'raised':>8}{'escalated':>11}{'resolved':>10}{'seconds':>9}")
            for label, done, took in (
                ("1 now (first scan)", first, first_s),
                ("2 now again (steady state)", second, second_s),
                ("3 now + 48 h (escalation)", third, third_s),
            ):
                print(
                    f"  {label:<28}{done.raised:>8}{done.escalated:>11}{done.resolved:>10}"
                    f"{took:>9.2f}"
                )
            print(
                f"  orders {args.orders}, lines {lines}, open alerts {opened}; "
                f"tripped() alone {plan_s:.2f} s for {len(found)} subjects"
            )
            await db.close()
        finally:
            if engine == "postgresql":
                admin = await asyncpg.connect(ADMIN_URL)
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--lines", type=int, default=5)
    parser.add_argument("--acked", type=float, default=0.2, help="share acknowledged (0..1)")
    parser.add_argument("--analyze", action="store_true", help="ANALYZE after the import")
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    for engine in engines:
        asyncio.run(bench(engine, args))


if __name__ == "__main__":
    main()
