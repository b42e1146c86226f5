"""POST /api/v1/imports: a dry run lists each row in error and writes nothing; a clean file is
queued (202 + Location) and GET /api/v1/imports/{id} follows it to the end. Only its client
sees the job."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from api_support import API, World, seed, settings
from order_import_support import served

from portal.db import tables as t
from portal.db.database import Database
from portal.services import order_import as oi

HEADER = "采购订单号,供应商代码,币种,行号,物料编码,数量,单位,单价,需求日期\n"


@pytest.fixture
async def world(db: Database, database_url: str) -> AsyncIterator[World]:
    await seed()
    async with served(settings(database_url)) as (app, http):
        yield World(http, app.state.db)


async def send(world: World, client_id: str, content: bytes, query: str = "", **extra: str):  # type: ignore[no-untyped-def]
    caller = await world.caller(client_id)
    return await world.http.post(
        f"{API}/imports{query}",
        files={"file": ("po.csv", content, "text/csv")},
        data={"kind": "purchase_orders", **extra},
        headers={"Authorization": f"Bearer {caller.bearer}"},
    )


async def test_dry_run_reports_row_errors_and_writes_nothing(world: World) -> None:
    content = (
        HEADER
        + "API-1,ACME,CNY,1,M8,100,pcs,0.35,2027-03-01\n"
        + "API-1,ACME,CNY,1,M9,100,pcs,0.35,2027-03-01\n"
        + "API-2,NOBODY,CNY,1,M8,1,pcs,0.35,2027-03-01\n"
    ).encode("gb18030")
    dry = await send(world, "home-buyer", content, "?dry_run=true")
    assert dry.status_code == 200, dry.text
    body = dry.json()
    assert (body["total"], body["orders"]) == (3, 2)
    assert [(e["row"], e["code"]) for e in body["errors"]] == [
        (3, "duplicate_line"),
        (4, "unknown_party"),
    ]
    assert "NOBODY" in body["errors"][1]["message"]
    assert await t.ImportJob.count().run() == 0
    refused = await send(world, "home-buyer", content)
    assert refused.status_code == 422
    assert await t.ImportJob.count().run() == 0


async def test_a_clean_file_is_queued_and_followed_to_the_end(world: World) -> None:
    content = (HEADER + "API-9,ACME,CNY,1,M8,100,pcs,0.35,2027-03-01\n").encode()
    queued = await send(world, "home-buyer", content, mapping='{"number": "采购订单号"}')
    assert queued.status_code == 202, queued.text
    location = queued.headers["location"]
    assert queued.json()["status"] == "pending"
    buyer = await world.caller("home-buyer")
    assert await oi.work_once(world.db, "api-test") == "done"
    state = await buyer.get(location.removeprefix(API))
    assert state.status_code == 200
    assert (state.json()["status"], state.json()["processed"], state.json()["total"]) == (
        "done",
        1,
        1,
    )
    assert state.json()["result"]["orders"] == 1
    sales = await world.caller("home-sales")
    assert (await sales.get(location.removeprefix(API))).status_code == 404
    # Sales staff hold no po:write: they may not import purchase orders.
    assert (await send(world, "home-sales", content)).status_code == 422
