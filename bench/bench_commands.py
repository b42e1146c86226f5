"""Throughput and latency of service commands (version check + projection + sealed events).

    .venv/bin/python bench/bench_commands.py [--orders 200] [--writers 32] [--rounds 5]
        [--engine sqlite|postgresql|both]

Creates a throw-away database per engine (a temp SQLite file; a fresh PostgreSQL database on
TEST_POSTGRES_URL's server, dropped afterwards), issues and acknowledges `--orders` purchase
orders, then lets `--writers` concurrent writers move promises (each a full `update_promise`
command: load, check version, update lines, append a hash-chained event, commit) and prints
commands per second and latency percentiles. Measures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg

from portal.db import tables, timeline
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.changes import TolerancePolicy
from portal.domain.errors import Conflict
from portal.domain.orders import POLine
from portal.domain.schedule import Schedule
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge
from portal.services.promises import UpdatePromise, update_promise
from portal.services.purchase_orders import IssuePurchaseOrder, issue_purchase_order
from portal.services.unit_of_work import Rules, UnitOfWork

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BUYER = Actor(ActorKind.USER, "b1", "OURS", Side.INTERNAL, "Bench Buyer", Via.API)
SUPPLIER = Actor(ActorKind.USER, "s1", "SUP", Side.SUPPLIER, "Bench Supplier", Via.API)
MOVES_AT_ONCE = Rules(tolerance=TolerancePolicy(max_date_move_days=365))
"""Every move the benchmark makes is within the tolerance rule, so each one applies at once
(beyond it, a promise update opens a change request instead)."""


def migrate(url: str) -> None:
    env = {**os.environ, "PORTAL_DATABASE_URL": url, "PICCOLO_CONF": "portal.piccolo_conf"}
    subprocess.run(
        [sys.executable, "-m", "portal.cli", "migrate"], env=env, check=True, capture_output=True
    )


async def prepare(db: Database, orders: int) -> list[tuple[str, int]]:
    await tables.Organisation.insert(
        tables.Organisation(code="OURS", name="Ours", kind="internal"),
        tables.Organisation(code="SUP", name="Supplier", kind="supplier"),
    ).run()
    need = date.today() + timedelta(days=30)
    numbers = []
    for _ in range(orders):
        po = await issue_purchase_order(
            UnitOfWork(db),
            BUYER,
            IssuePurchaseOrder(
                "SUP", "CNY", [POLine(1, "BOLT-M8", "", Decimal(500), "pcs", Decimal("0.3"), need)]
            ),
        )
        done = await acknowledge(
            UnitOfWork(db), SUPPLIER, Acknowledge(po.number, po.version, Decision.ACCEPT)
        )
        numbers.append((po.number, done.po.version))
    return numbers


async def run(db: Database, orders: list[tuple[str, int]], writers: int, rounds: int) -> None:
    versions = dict(orders)
    queue: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
    for step in range(rounds):
        for number, _ in orders:
            queue.put_nowait((number, step))
    latencies: list[float] = []
    conflicts = 0
    base = date.today() + timedelta(days=40)

    async def writer() -> None:
        nonlocal conflicts
        while not queue.empty():
            number, step = queue.get_nowait()
            started = time.perf_counter()
            try:
                done = await update_promise(
                    UnitOfWork(db, MOVES_AT_ONCE),
                    SUPPLIER,
                    UpdatePromise(
                        number,
                        versions[number],
                        1,
                        Schedule.single(Decimal(500), base + timedelta(days=step + 1)),
                        "capacity",
                    ),
                )
                versions[number] = done.orders[0].version
            except Conflict:
                conflicts += 1
            latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(writers)))
    elapsed = time.perf_counter() - began
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    print(
        f"  {len(latencies)} update_promise commands by {writers} writers in {elapsed:.2f} s: "
        f"{len(latencies) / elapsed:.0f}/s; latency p50 {q[49] * 1000:.1f} ms, "
        f"p99 {q[98] * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms; conflicts {conflicts}"
    )
    started = time.perf_counter()
    breaks = await timeline.verify()
    events = await tables.Event.count().run()
    print(
        f"  verify-timeline over {events} events: {time.perf_counter() - started:.2f} s, "
        f"{'intact' if not breaks else f'{len(breaks)} broken'}"
    )


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
            started = time.perf_counter()
            orders = await prepare(db, args.orders)
            took = time.perf_counter() - started
            print(
                f"{engine}: issued and acknowledged {args.orders} POs in {took:.2f} s "
                f"({2 * args.orders / took:.0f} commands/s, one at a time)"
            )
            await run(db, orders, args.writers, args.rounds)
            await db.close()
        finally:
            if engine == "postgresql":
                admin = await asyncpg.connect(ADMIN_URL)
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--writers", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    for engine in engines:
        asyncio.run(bench(engine, args))


if __name__ == "__main__":
    main()
