"""/imports as a buyer uses it: upload an ERP file, map its columns, preview every row, apply,
watch the job; a file with a bad row can't be applied; nobody else sees the job. Then the
API: a dry run's row errors, and a queued job followed to its end."""

from __future__ import annotations

import re
from typing import Any

import httpx
from auth_support import csrf_token_of
from http_story import ADMIN_USER, BUYER_USER, SALES, tell_the_story
from order_import_support import browser

from portal.db import tables as t
from portal.db.database import Database
from portal.services import order_import as oi

CHINESE = (
    "单据编号,供应商编码,币别,行号,物料编码,物料名称,数量,单位,单价,交货日期\n"
    "CG-001,ACME,CNY,1,M8,六角螺栓,100,个,0.35,2027-03-01\n"
    "CG-001,ACME,CNY,2,M10,六角螺栓 M10,50,个,0.55,2027-03-05\n"
    "CG-002,BOLT,CNY,1,N8,螺母,500,个,0.05,2027-03-02\n"
).encode("gb18030")


async def upload(client: httpx.AsyncClient, content: bytes, name: str, kind: str) -> Any:
    form = await client.get("/imports")
    assert form.status_code == 200, form.text
    return await client.post(
        "/imports",
        data={"kind": kind, "_csrf_token": csrf_token_of(form.text)},
        files={"file": (name, content, "text/csv")},
        follow_redirects=False,
    )


async def map_and_preview(client: httpx.AsyncClient, mapping_url: str) -> Any:
    page = await client.get(mapping_url)
    assert page.status_code == 200, page.text
    chosen = {}
    for block in re.findall(r"<select .*?</select>", page.text, re.S):
        name = re.search(r'name="(\w+)"', block)
        picked = re.search(r'<option value="(\d+)" selected', block)
        if name and picked:
            chosen[name[1]] = picked[1]
    saved = await client.post(
        mapping_url,
        data={**chosen, "_csrf_token": csrf_token_of(page.text)},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    return await client.get(saved.headers["location"])


async def test_a_buyer_imports_a_chinese_gb18030_file_step_by_step(
    db: Database, database_url: str
) -> None:
    await tell_the_story(db)
    async with browser(database_url, BUYER_USER) as (app, client):
        home = await client.get("/")
        assert 'href="/imports"' in home.text
        sent = await upload(client, CHINESE, "采购订单.csv", "purchase_orders")
        assert sent.status_code == 303, sent.text
        mapping_url = sent.headers["location"]
        page = await client.get(mapping_url)
        # Every field guessed from the Chinese header row.
        assert len(re.findall(r"<option value=\"\d+\" selected", page.text)) == 10
        preview = await map_and_preview(client, mapping_url)
        assert "CG-002" in preview.text and "import-errors" not in preview.text
        apply = re.search(r'action="(/imports/\d+/apply)"', preview.text)
        assert apply is not None
        applied = await client.post(
            apply[1], data={"_csrf_token": csrf_token_of(preview.text)}, follow_redirects=False
        )
        assert applied.status_code == 303
        job_url = applied.headers["location"]
        waiting = await client.get(job_url)
        assert 'hx-trigger="every 1s"' in waiting.text
        assert f'<a href="{job_url}">' in waiting.text  # the refresh link, without JS
        db_ = app.state.db
        assert await oi.work_once(db_, "test-worker") == "done"
        done = await client.get(job_url)
        assert "every 1s" not in done.text
        assert 'value="3"' in done.text  # the bar full: 3 of 3 rows
        assert (
            await t.PurchaseOrder.count()
            .where(t.PurchaseOrder.number.is_in(["CG-001", "CG-002"]))
            .run()
            == 2
        )
        events = (
            await t.Event.select(t.Event.kind, t.Event.via, t.Event.actor)
            .where(t.Event.stream == "po/CG-001")
            .run()
        )
        assert [e["kind"] for e in events] == ["po.created", "po.issued"]
        assert {e["via"] for e in events} == {"import"}
        assert "Wang Fang" in events[0]["actor"]
        # Another internal user does not see it; an admin does.
    async with browser(database_url, SALES) as (_, other):
        assert (await other.get(job_url)).status_code == 404
    async with browser(database_url, ADMIN_USER) as (_, admin):
        assert (await admin.get(job_url)).status_code in (200, 403)


async def test_a_file_with_a_bad_row_cannot_be_applied(db: Database, database_url: str) -> None:
    await tell_the_story(db)
    content = (
        b"Order no,Supplier,Currency,Line no,Item,Quantity,Unit,Unit price,Need date\n"
        b"PO-1,ACME,CNY,1,M8,100,pcs,0.35,2027-03-01\n"  # PO-1 is already in the portal
        b"PO-77,ACME,CNY,1,M8,0,pcs,0.35,2027-03-01\n"
        b"PO-78,ACME,CNY,1,M8,5,pcs,0.35,someday\n"
    )
    async with browser(database_url, BUYER_USER, default_locale="en") as (_, client):
        sent = await upload(client, content, "po.csv", "purchase_orders")
        preview = await map_and_preview(client, sent.headers["location"])
        assert 'id="import-errors"' in preview.text
        assert "/apply" not in preview.text
        errors = dict(re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td></tr>", preview.text))
        assert set(errors) == {"2", "3", "4"}, errors
        job_id = int(re.search(r"/imports/(\d+)/", sent.headers["location"])[1])  # type: ignore[index]
        forced = await client.post(
            f"/imports/{job_id}/apply", data={"_csrf_token": csrf_token_of(preview.text)}
        )
        assert forced.status_code == 422
        job = (
            await t.ImportJob.select(t.ImportJob.status)
            .where(t.ImportJob.id == job_id)
            .first()
            .run()
        )
        assert job == {"status": "draft"}
        assert await t.PurchaseOrder.count().run() == 2


async def test_sales_staff_cannot_import_purchase_orders(db: Database, database_url: str) -> None:
    await tell_the_story(db)
    async with browser(database_url, SALES, default_locale="en") as (_, client):
        sent = await upload(client, CHINESE, "po.csv", "purchase_orders")
        assert sent.status_code == 422
        assert await t.ImportJob.count().run() == 0
