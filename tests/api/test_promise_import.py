"""`POST /api/v1/promise-imports`: a supplier's ERP sends a CSV or XLSX file of promise
updates; a dry run says what each row would do and writes nothing, the real run applies every
row or none, on the timeline as an import by that client. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import BytesIO
from typing import Any

import httpx
from api_support import ACME, INTERNAL, NEED, World, later, problem
from openpyxl import Workbook

from portal.db import tables as t
from portal.db import timeline
from portal.domain.actors import Via
from portal.domain.events import Event, po_stream
from portal.domain.schedule import Schedule
from portal.services.promises import UpdatePromise, update_promise
from portal.services.unit_of_work import UnitOfWork

IMPORTS = "/promise-imports"
HEADER = "PO no.,Line no.,Promised date,Quantity,Reason code,Comment\n"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def story(world: World) -> None:
    """Acme's PO-A1 and PO-A2 and Bolt's PO-B1: one line of 100 each, needed a month from
    today and accepted as ordered."""
    for number, supplier in (("PO-A1", "ACME"), ("PO-A2", "ACME"), ("PO-B1", "BOLT")):
        await world.accepted(number, supplier)


def rows(*lines: str) -> bytes:
    return (HEADER + "".join(line + "\n" for line in lines)).encode()


async def state() -> dict[str, Any]:
    """What any write would change."""
    return {
        "events": await t.Event.count().run(),
        "change requests": await t.ChangeRequest.count().run(),
        "lines": await t.POLine.select(t.POLine.id, t.POLine.promise).order_by(t.POLine.id).run(),
        "versions": await t.PurchaseOrder.select(t.PurchaseOrder.number, t.PurchaseOrder.version)
        .order_by(t.PurchaseOrder.number)
        .run(),
    }


async def imported(number: str) -> list[Event]:
    return [
        event
        for event in await timeline.read(INTERNAL, po_stream(number))
        if event.via == Via.IMPORT
    ]


async def send_csv(
    world: World, content: bytes, *, params: str = "", headers: dict[str, str] | None = None
) -> httpx.Response:
    erp = await world.caller("acme-erp")
    return await erp.send(
        "POST", IMPORTS + params, content, {"Content-Type": "text/csv", **(headers or {})}
    )


async def test_a_dry_run_writes_nothing_and_the_run_applies_it_as_an_import(world: World) -> None:
    await story(world)
    content = rows(
        f"PO-A1,1,{later(2)},100,capacity,Line 3 down",  # within the tolerance: at once
        f"PO-A2,1,{later(40)},100,logistics,",  # far later: for the buyer
    )
    before = await state()
    dry = await send_csv(world, content, params="?dry_run=true")
    assert dry.status_code == 200, dry.text
    body = dry.json()
    assert (body["dry_run"], body["applied"], body["apply"], body["change_request"]) == (
        True,
        False,
        1,
        1,
    )
    assert [(row["row"], row["outcome"]) for row in body["rows"]] == [
        (2, "apply"),
        (3, "change_request"),
    ]
    assert body["versions"] == {"PO-A1": 2, "PO-A2": 2}
    assert await state() == before

    started = datetime.now().astimezone() - timedelta(seconds=1)
    done = await send_csv(world, content, headers={"If-Match": dry.headers["etag"]})
    assert done.status_code == 201, done.text
    answer = done.json()
    assert answer["applied"] is True
    assert [(row["outcome"], row["change_request"]) for row in answer["rows"]] == [
        ("apply", None),
        ("change_request", "PO-A2-CR1"),
    ]
    (moved,) = await imported("PO-A1")
    assert moved.kind == "line.promise_changed" and moved.at >= started
    assert (moved.actor["kind"], moved.actor["id"]) == ("client", "acme-erp")
    assert moved.data["after"] == [{"quantity": "100", "date": later(2)}]
    (opened,) = await imported("PO-A2")
    assert opened.kind == "cr.opened" and opened.actor["id"] == "acme-erp"


async def test_an_xlsx_file_in_a_form_applies(world: World) -> None:
    await story(world)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["采购订单号", "行号", "承诺交期", "数量", "原因代码"])
    sheet.append(
        ["PO-A1", 1, datetime.combine(NEED - timedelta(days=3), datetime.min.time()), 100, "物流"]
    )
    content = BytesIO()
    workbook.save(content)
    erp = await world.caller("acme-erp")
    answer = await erp.http.post(
        "/api/v1" + IMPORTS,
        files={"file": ("promises.xlsx", content.getvalue(), XLSX)},
        headers=erp.headers(None),
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["rows"][0]["outcome"] == "apply"
    (moved,) = await imported("PO-A1")
    assert moved.data["reason_code"] == "logistics"
    assert moved.data["after"] == [
        {"quantity": "100", "date": (NEED - timedelta(days=3)).isoformat()}
    ]


async def test_one_bad_row_applies_nothing_and_names_the_row(world: World) -> None:
    await story(world)
    before = await state()
    answer = await send_csv(
        world,
        rows(
            f"PO-A1,1,{later(1)},100,capacity",
            f"PO-A2,1,{later(1)},-5,capacity",
            f"PO-B1,1,{later(1)},100,capacity",
            f"PO-NONE,1,{later(1)},100,capacity",
        ),
    )
    body = problem(answer, 422)
    assert body["detail"] == "Rows with errors: 3. Nothing was applied."
    assert body["errors"] == [
        {"field": "row 3", "message": "The quantity must be more than zero (it is -5)."},
        {"field": "row 4", "message": "Purchase order PO-B1 was not found."},
        {"field": "row 5", "message": "Purchase order PO-NONE was not found."},
    ]
    assert await state() == before and await imported("PO-A1") == []

    dry = await send_csv(world, rows(f"PO-B1,1,{later(1)},100,capacity"), params="?dry_run=true")
    (row,) = dry.json()["rows"]
    assert row["error"] == {"code": "not_found", "message": "Purchase order PO-B1 was not found."}
    assert "BOLT" not in dry.text and "Bolt" not in dry.text


async def move(world: World, number: str) -> None:
    """Acme moves the order's promise through another channel."""
    version = await world.version(number)
    await update_promise(
        UnitOfWork(world.db),
        ACME,
        UpdatePromise(
            number,
            version,
            1,
            Schedule.from_data([{"quantity": "100", "date": later(-5)}]),
            "other",
        ),
    )


async def test_an_order_changed_since_the_dry_run_answers_409(world: World) -> None:
    await story(world)
    content = rows(f"PO-A1,1,{later(2)},100,capacity", f"PO-A2,1,{later(1)},100,capacity")
    dry = await send_csv(world, content, params="?dry_run=true")
    await move(world, "PO-A2")
    before = await state()
    stale = await send_csv(world, content, headers={"If-Match": dry.headers["etag"]})
    assert "changed after the preview" in problem(stale, 409)["detail"]
    assert await state() == before and await imported("PO-A1") == []


async def test_a_ten_megabyte_body_and_the_wrong_type_are_refused(world: World) -> None:
    await story(world)
    before = await state()
    ten_megabytes = (HEADER + f"PO-A1,1,{later(2)},100,capacity\n" * 300_000).encode()
    big = await send_csv(world, ten_megabytes[: 10 * 1024 * 1024])
    assert "larger than 2 MB" in problem(big, 413)["detail"]
    pdf = await send_csv(world, b"%PDF-1.7\n\x00\x01binary")
    assert "is not a CSV or Excel (.xlsx) file" in problem(pdf, 422)["detail"]
    empty = await send_csv(world, b"")
    assert "Choose a CSV or XLSX file" in problem(empty, 422)["detail"]
    reader = await world.caller("acme-reader")
    denied = await reader.send(
        "POST", IMPORTS, rows(f"PO-A1,1,{later(2)},100,capacity"), {"Content-Type": "text/csv"}
    )
    assert denied.status_code == 403
    assert await state() == before
