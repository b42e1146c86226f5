"""Order imports as background jobs: a large file through the real worker task with its
progress seen from outside, a bad row importing nothing, duplicates, Chinese headers in
GB18030, XLSX, and leases that keep two workers off one job."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from io import BytesIO
from typing import Any

import anyio
import pytest
from openpyxl import Workbook

from portal.db import tables as t
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.services import order_import as oi

BUYER = Actor(ActorKind.USER, "1", "HOME", Side.INTERNAL, "Wang Fang", Via.WEB, "buyer")
HEADER = "Order no,Supplier,Currency,Line no,Item,Description,Quantity,Unit,Unit price,Need date\n"


async def orgs() -> None:
    await t.Organisation.insert(
        t.Organisation(code="HOME", name="Our Company", kind="internal"),
        t.Organisation(code="ACME", name="Acme", kind="supplier"),
        t.Organisation(code="CUST", name="Contoso", kind="customer"),
    ).run()


def po_csv(orders: int, lines: int, *, start: int = 1) -> bytes:
    out = [HEADER]
    for n in range(start, start + orders):
        for line in range(1, lines + 1):
            out.append(
                f"PO-{n:05d},ACME,CNY,{line},ITEM-{line},Bolt {line},{line}0,pcs,0.35,2027-03-01\n"
            )
    return "".join(out).encode()


async def job_for(
    db: Database,
    content: bytes,
    filename: str = "orders.csv",
    kind: oi.Kind = oi.Kind.PURCHASE_ORDERS,
) -> int:
    sheet = oi.read_sheet(content, filename)
    mapping = oi.guess_mapping(sheet.headers, kind)
    job = await oi.create_job(
        db,
        kind=kind,
        filename=filename,
        content=content,
        mapping=mapping,
        user_id=1,
        actor=BUYER,
        total=len(sheet.rows),
    )
    assert await oi.submit(db, job)
    return job


async def job_row(job: int) -> dict[str, Any]:
    row = await t.ImportJob.select().where(t.ImportJob.id == job).first().run()
    assert row is not None
    return row


@pytest.mark.parametrize("engine", ["sqlite"])
async def test_fifty_thousand_lines_import_in_the_background_with_progress(db: Database) -> None:
    await orgs()
    content = po_csv(2_500, 20)
    job = await job_for(db, content)
    seen: list[tuple[str, str, int]] = []
    started = time.monotonic()
    async with anyio.create_task_group() as tasks:
        stop = anyio.Event()
        tasks.start_soon(oi.runner(db, "worker-1", idle=0.05), stop)
        while True:
            row = await job_row(job)
            phase, rows = oi.progress_of(row)
            seen.append((row["status"], phase, rows))
            if row["status"] in ("done", "failed"):
                break
            await anyio.sleep(0.02)
        stop.set()
    elapsed = time.monotonic() - started
    print(
        f"\n50,000 lines / 2,500 orders imported in {elapsed:.1f} s; progress seen: "
        f"{sorted({(s, p, r) for s, p, r in seen})[:12]}"
    )
    row = await job_row(job)
    assert row["status"] == "done", row["errors"]
    assert (row["total"], row["processed"]) == (50_000, 50_000)
    assert any(0 < rows < 50_000 for _, _, rows in seen), seen
    assert await t.PurchaseOrder.count().run() == 2_500
    assert await t.POLine.count().run() == 50_000
    assert await t.Event.count().where(t.Event.kind == "po.created").run() == 2_500
    assert await t.Event.count().where(t.Event.kind == "po.issued").run() == 2_500
    completed = await t.Event.select().where(t.Event.kind == "import.completed").run()
    assert [e["stream"] for e in completed] == ["org/HOME"]
    vias = await t.Event.select(t.Event.via).where(t.Event.kind == "po.created").distinct().run()
    assert vias == [{"via": "import"}]


async def test_one_bad_row_imports_nothing_and_names_the_row(db: Database) -> None:
    await orgs()
    text = po_csv(3, 2).decode().splitlines(keepends=True)
    text[4] = text[4].replace(",20,pcs", ",-5,pcs")  # PO-00002 line 2: row 5
    job = await job_for(db, "".join(text).encode())
    assert await oi.work_once(db, "w") == "failed"
    row = await job_row(job)
    assert row["status"] == "failed"
    (error,) = oi.errors_of(row)
    assert (error.row, error.code) == (5, oi.RowProblem.QUANTITY_NOT_POSITIVE)
    assert await t.PurchaseOrder.count().run() == 0
    assert await t.Event.count().run() == 0


async def test_duplicate_orders_are_found(db: Database) -> None:
    await orgs()
    first = await job_for(db, po_csv(1, 1))
    assert await oi.work_once(db, "w") == "done"
    assert (await job_row(first))["status"] == "done"
    content = (
        HEADER
        + "PO-00001,ACME,CNY,1,X,,1,pcs,1,2027-03-01\n"  # already in the portal
        + "PO-9,ACME,CNY,1,X,,1,pcs,1,2027-03-01\n"
        + "PO-9,ACME,USD,2,X,,1,pcs,1,2027-03-01\n"  # the same number, another currency
        + "PO-10,ACME,CNY,1,X,,1,pcs,1,2027-03-01\n"
        + "PO-10,ACME,CNY,1,Y,,1,pcs,1,2027-03-01\n"  # line 1 twice
        + "PO-11,NOPE,CNY,1,X,,1,pcs,1,2027-03-01\n"  # unknown supplier
        + "PO-12,ACME,CNY,1,X,,1,pcs,1,2027-02-30\n"  # no such date
    ).encode()
    sheet = oi.read_sheet(content, "dup.csv")
    checked = await oi.check(
        sheet, oi.guess_mapping(sheet.headers, oi.Kind.PURCHASE_ORDERS), oi.Kind.PURCHASE_ORDERS
    )
    assert [(e.row, e.code) for e in checked.errors] == [
        (2, oi.RowProblem.ORDER_EXISTS),
        (4, oi.RowProblem.ORDER_DIFFERS),
        (6, oi.RowProblem.DUPLICATE_LINE),
        (7, oi.RowProblem.UNKNOWN_PARTY),
        (8, oi.RowProblem.BAD_DATE),
    ]
    assert not checked.ok


async def test_chinese_headers_in_gb18030_and_xlsx_sales_orders(db: Database) -> None:
    await orgs()
    header = "单据编号,客户编码,币别,行号,物料编码,物料名称,数量,单位,含税单价,要货日期,联系电话\n"
    content = (header + "SO-甲1,CUST,CNY,1,M8,六角螺栓,100,个,0.8,2027/03/01,13800000000\n").encode(
        "gb18030"
    )
    sheet = oi.read_sheet(content, "销售订单.csv")
    mapping = oi.guess_mapping(sheet.headers, oi.Kind.SALES_ORDERS)
    assert set(mapping) == {f.value for f in oi.FIELDS[oi.Kind.SALES_ORDERS]} - {"contact_email"}
    job = await job_for(db, content, "销售订单.csv", oi.Kind.SALES_ORDERS)
    assert await oi.work_once(db, "w") == "done", (await job_row(job))["errors"]
    so = await t.SalesOrder.select().where(t.SalesOrder.number == "SO-甲1").first().run()
    assert so is not None and so["customer"] == "CUST"
    lines = await t.SOLine.select().run()
    assert [(line["description"], line["unit"]) for line in lines] == [("六角螺栓", "个")]

    book = Workbook()
    sheet_ = book.active
    assert sheet_ is not None
    sheet_.append(
        [
            "Order no",
            "Customer",
            "Currency",
            "Line",
            "Item",
            "Qty",
            "UOM",
            "Price",
            "Requested date",
            "Email",
        ]
    )
    sheet_.append(
        ["SO-X1", "CUST", "EUR", 1, "M8", 5, "pcs", 1.5, datetime(2027, 3, 1), "a@b.example"]
    )
    sheet_.append(
        ["SO-X1", "CUST", "EUR", 2, "M9", 7.5, "pcs", 2, datetime(2027, 3, 2), "a@b.example"]
    )
    out = BytesIO()
    book.save(out)
    job = await job_for(db, out.getvalue(), "so.xlsx", oi.Kind.SALES_ORDERS)
    assert await oi.work_once(db, "w") == "done", (await job_row(job))["errors"]
    assert await t.SOLine.count().run() == 3
    created = (
        await t.Event.select(t.Event.via, t.Event.actor).where(t.Event.kind == "so.created").run()
    )
    assert {e["via"] for e in created} == {"import"}


async def test_a_second_worker_does_not_take_a_leased_job(db: Database) -> None:
    await orgs()
    job = await job_for(db, po_csv(1, 1))
    assert await oi.lease(db, "one") == job
    assert await oi.lease(db, "two") is None
    # A lease that ran out (its worker died) is taken over.
    later = datetime.now(UTC) + oi.LEASE + timedelta(minutes=1)
    assert await oi.lease(db, "two", later) == job
    assert (await job_row(job))["worker"] == "two"


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_on_postgresql_a_worker_skips_a_job_another_holds_locked(db: Database) -> None:
    """While one worker's transaction holds the job's row (FOR UPDATE), another does not wait
    for it: it skips the row and finds nothing to do."""
    await orgs()
    await job_for(db, po_csv(1, 1))
    held, release = anyio.Event(), anyio.Event()
    answer: list[int | None] = []

    async def second_worker() -> None:
        await held.wait()
        with anyio.fail_after(30):
            answer.append(await oi.lease(db, "two"))
        release.set()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(second_worker)  # started outside the first worker's transaction
        async with db.write_transaction():
            await t.ImportJob.select(t.ImportJob.id).lock_rows("UPDATE").run()
            held.set()
            await release.wait()
    assert answer == [None]
