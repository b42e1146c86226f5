"""Truly concurrent requests against the real server (`portal serve` in child processes), on
both engines: of many writes based on one version exactly one wins and no update is lost; many
POSTs with one Idempotency-Key, spread over two processes, have one effect.

Starting a server takes seconds, so the same ones serve every test of this module on one engine
(the `db` fixture empties the database before each test)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from api_support import ACME, BUYER, INTERNAL, NEED, TODAY, Caller, by_api, seed, token
from auth_support import live_portal

from portal.db import tables as t
from portal.db import timeline
from portal.db.codec import load
from portal.db.database import Database
from portal.domain.events import po_stream
from portal.domain.orders import POLine
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge
from portal.services.purchase_orders import IssuePurchaseOrder, issue_purchase_order
from portal.services.unit_of_work import UnitOfWork

PROMISES = 50
REPEATS = 100


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def live_server(engine: str, migrated_urls: dict[str, str]) -> Iterator[str]:
    with live_portal(migrated_urls[engine]) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def other_server(engine: str, migrated_urls: dict[str, str]) -> Iterator[str]:
    """A second web process on the same database, as behind a load balancer."""
    with live_portal(migrated_urls[engine]) as base_url:
        yield base_url


async def accepted_order(db: Database, number: str) -> int:
    """A one-line order for 100 bolts, accepted by Acme; returns its version."""
    line = POLine(1, "BOLT-M8", "Hex bolt", Decimal(100), "pcs", Decimal("0.35"), NEED)
    po = await issue_purchase_order(
        UnitOfWork(db), BUYER, IssuePurchaseOrder("ACME", "CNY", [line], number=number)
    )
    done = await acknowledge(UnitOfWork(db), ACME, Acknowledge(number, po.version, Decision.ACCEPT))
    return done.po.version


@asynccontextmanager
async def caller(live: str) -> AsyncIterator[Caller]:
    """Acme's ERP, with a connection for every request it makes at once."""
    limits = httpx.Limits(max_connections=REPEATS)
    async with httpx.AsyncClient(base_url=live, timeout=120, limits=limits) as http:
        yield Caller(http, await token(http, "acme-erp"))


async def test_one_of_many_writes_on_one_version_wins(live_server: str, db: Database) -> None:
    await seed()
    version = await accepted_order(db, "PO-1")
    early = (TODAY + timedelta(days=5)).isoformat()

    def schedule(n: int) -> list[dict[str, str]]:
        """Each writer's own promise, all of them within the need date (applied at once)."""
        return [
            {"quantity": str(n), "date": early},
            {"quantity": str(100 - n), "date": NEED.isoformat()},
        ]

    async with caller(live_server) as acme:
        answers = await asyncio.gather(
            *(
                acme.put(
                    "/purchase-orders/PO-1/lines/1/promise",
                    {"schedule": schedule(n), "reason_code": "capacity", "version": version},
                )
                for n in range(1, PROMISES + 1)
            )
        )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] + [409] * (PROMISES - 1), statuses
    (winner,) = [answer.json() for answer in answers if answer.status_code == 200]
    won = winner["purchase_order"]["lines"][0]["promise"]
    for answer in answers:
        if answer.status_code == 409:
            stale = answer.json()
            assert stale["current_version"] == version + 1
            assert stale["current"]["lines"][0]["promise"] == won
    stored = await t.POLine.select(t.POLine.promise).where(t.POLine.po.number == "PO-1").run()
    assert [load(row["promise"]) for row in stored] == [won]
    events = await timeline.read(INTERNAL, po_stream("PO-1"))
    changed = [event for event in events if event.kind == "line.promise_changed"]
    assert len(changed) == 1 and by_api(changed[0], "acme-erp")
    assert changed[0].data["after"] == won
    version_now = await t.PurchaseOrder.select(t.PurchaseOrder.version).first().run()
    assert version_now == {"version": version + 1}


async def test_many_posts_with_one_key_have_one_effect(
    live_server: str, other_server: str, db: Database
) -> None:
    """Half the repeats reach another process, which learns of the first only through the
    database."""
    await seed()
    version = await accepted_order(db, "PO-1")
    body = {
        "version": version,
        "ship_date": TODAY.isoformat(),
        "carrier": "SF Express",
        "lines": [{"line_no": 1, "quantity": "60"}],
    }
    key = {"Idempotency-Key": "asn-2027-0001"}
    async with caller(live_server) as acme, caller(other_server) as elsewhere:
        answers = await asyncio.gather(
            *(
                (acme, elsewhere)[n % 2].post("/purchase-orders/PO-1/shipments", body, key)
                for n in range(REPEATS)
            )
        )
    first = [
        answer
        for answer in answers
        if answer.status_code == 201 and "idempotent-replayed" not in answer.headers
    ]
    assert len(first) == 1, [answer.status_code for answer in answers]
    for answer in answers:
        if answer is first[0]:
            continue
        if answer.status_code == 201:
            assert answer.headers["idempotent-replayed"] == "true"
            assert answer.content == first[0].content
            assert answer.headers["location"] == first[0].headers["location"]
        else:
            # Still running when the repeat stopped waiting: it says so, and ran nothing.
            assert answer.status_code == 409
            assert answer.json()["type"] == "urn:portal:problem:idempotency-key-in-progress"
    shipments = await t.Shipment.select(t.Shipment.number).run()
    assert shipments == [{"number": first[0].json()["shipment"]["number"]}]
    events = await timeline.read(INTERNAL, po_stream("PO-1"))
    assert [event.kind for event in events].count("shipment.posted") == 1
    line = await t.POLine.select(t.POLine.shipped_qty).first().run()
    assert line is not None and line["shipped_qty"] == 60
