"""The promise upload page: a supplier's CSV or XLSX file is previewed row by row (nothing
written), then applied all or none, on the timeline as an import by its author; what cannot be
read, or is too big, or changed since the preview, is refused with a message and changes
nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any, TypeVar

import pytest
from http_story import (
    ACME_USER,
    BUYER,
    SUPPLIER,
    add_organisations,
    issue,
    portal,
    row_of,
    uow,
)
from litestar import Litestar
from litestar.testing import AsyncTestClient
from openpyxl import Workbook, load_workbook

from portal.db import queries, timeline
from portal.db import tables as t
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.events import Event, po_stream
from portal.domain.schedule import Schedule
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge
from portal.services.promises import UpdatePromise, update_promise
from portal.services.unit_of_work import UnitOfWork
from portal.web.rendering import CSRF_COOKIE, CSRF_FIELD

UPLOAD = "/supplier/promises/upload"
NEED = date(2027, 1, 11)
"""Every line of the story is needed then, and promised then by its acknowledgement."""
BOLT = Actor(ActorKind.USER, "u-bolt", "BOLT", Side.SUPPLIER, "Zhou Min", Via.WEB)
EN = {"Accept-Language": "en"}
HEADER = "PO no.,Line no.,Promised date,Quantity,Reason code,Comment\n"
GOOD_ROWS = (
    "PO-U1,1,2027-01-13,100,capacity,Line 3 down\n"  # two days later: within the tolerance
    "PO-U2,1,2027-02-15,100,logistics,Port closed\n"  # five weeks later: for the buyer
    "PO-U3,1,2027-01-05,100,other,\n"  # earlier than needed: at once
)
T = TypeVar("T")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def orders(db: Database) -> None:
    """Acme's PO-U1, PO-U2 and PO-U3 and Bolt's PO-B1, one line of 100 bolts each,
    acknowledged as ordered by their suppliers."""
    await add_organisations()
    for number, supplier, actor in (
        ("PO-U1", "ACME", SUPPLIER),
        ("PO-U2", "ACME", SUPPLIER),
        ("PO-U3", "ACME", SUPPLIER),
        ("PO-B1", "BOLT", BOLT),
    ):
        version = await issue(db, number, supplier, NEED)
        await acknowledge(uow(db), actor, Acknowledge(number, version, Decision.ACCEPT))


@pytest.fixture
async def acme(db: Database, database_url: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """Li Lei of Acme, signed in, reading English."""
    await orders(db)
    async with portal(database_url, as_user=ACME_USER, default_locale="en") as client:
        yield client


async def upload(
    client: AsyncTestClient[Litestar],
    name: str,
    content: bytes,
    media_type: str = "text/csv",
    *,
    headers: dict[str, str] | None = None,
) -> Any:
    return await client.post(
        UPLOAD,
        files={"file": (name, content, media_type)},
        data={CSRF_FIELD: client.cookies[CSRF_COOKIE]},
        headers={**EN, **(headers or {})},
    )


async def apply(
    client: AsyncTestClient[Litestar], html: str, headers: dict[str, str] | None = None
) -> Any:
    found = re.search(r'name="plan" value="([^"]+)"', html)
    assert found, "the preview offers no apply"
    return await client.post(
        UPLOAD + "/apply",
        data={CSRF_FIELD: client.cookies[CSRF_COOKIE], "plan": found.group(1)},
        headers={**EN, **(headers or {})},
    )


def in_app(client: AsyncTestClient[Litestar], read: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run `read` on the application's own event loop: its database pool (PostgreSQL) lives
    there, and the test client runs the application in a thread of its own."""
    return client.blocking_portal.call(read, *args)


async def _snapshot() -> dict[str, Any]:
    counts: dict[str, Any] = {
        table._meta.tablename: await table.count().run() for table in t.TABLES
    }
    newest = await t.Event.select(t.Event.id).order_by(t.Event.id, ascending=False).first().run()
    counts["newest event"] = newest
    counts["promises"] = (
        await t.POLine.select(t.POLine.id, t.POLine.promise).order_by(t.POLine.id).run()
    )
    return counts


async def move_promise(db: Database, number: str, on: date) -> None:
    version = (await queries.purchase_order(BUYER, number)).version
    await update_promise(
        UnitOfWork(db),
        SUPPLIER,
        UpdatePromise(number, version, 1, Schedule.single(Decimal(100), on), "other"),
    )


def snapshot(client: AsyncTestClient[Litestar]) -> dict[str, Any]:
    """Every row count, every promise and the newest event: what any write would move."""
    return in_app(client, _snapshot)


async def _promise_of(number: str) -> list[Any]:
    order = await queries.purchase_order(BUYER, number)
    return [(row.quantity, row.date) for row in order.lines[0].promise]


def promise_of(client: AsyncTestClient[Litestar], number: str) -> list[Any]:
    return in_app(client, _promise_of, number)


async def _imported(number: str) -> list[Event]:
    events = await timeline.read(BUYER, po_stream(number))
    return [event for event in events if event.via == Via.IMPORT]


def imported(client: AsyncTestClient[Litestar], number: str) -> list[Event]:
    """The events of an order's timeline that came in through a file."""
    return in_app(client, _imported, number)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_a_csv_file_is_previewed_without_a_write_then_applied_as_an_import(
    acme: AsyncTestClient[Litestar],
) -> None:
    before = snapshot(acme)
    preview = await upload(acme, "promises.csv", (HEADER + GOOD_ROWS).encode())
    assert preview.status_code == 200, preview.text
    assert "Will apply at once" in row_of(preview.text, "PO-U1")
    assert "Will become a change request" in row_of(preview.text, "PO-U2")
    assert "Will apply at once" in row_of(preview.text, "PO-U3")
    assert "2 will apply at once, 1 will become change requests, 0 with errors" in text_of(
        preview.text
    )
    assert snapshot(acme) == before, "a preview writes nothing"

    started = datetime.now().astimezone()
    result = await apply(acme, preview.text)
    assert result.status_code == 200, result.text
    assert "Applied" in row_of(result.text, "PO-U1")
    assert "In change request PO-U2-CR1" in row_of(result.text, "PO-U2")
    for number in ("PO-U1", "PO-U2", "PO-U3"):
        assert f'href="/supplier/purchase-orders/{number}"' in result.text

    assert promise_of(acme, "PO-U1") == [(Decimal(100), date(2027, 1, 13))]
    assert promise_of(acme, "PO-U3") == [(Decimal(100), date(2027, 1, 5))]
    assert promise_of(acme, "PO-U2") == [(Decimal(100), NEED)], "the buyer decides"
    (moved,) = imported(acme, "PO-U1")
    assert moved.kind == "line.promise_changed"
    assert moved.actor["name"] == "Li Lei" and moved.actor["org"] == "ACME"
    assert moved.data["reason_code"] == "capacity" and moved.data["comment"] == "Line 3 down"
    assert moved.data["after"] == [{"quantity": "100", "date": "2027-01-13"}]
    assert started <= moved.at
    (opened,) = imported(acme, "PO-U2")
    assert opened.kind == "cr.opened" and opened.actor["name"] == "Li Lei"
    assert opened.data["reason_code"] == "logistics"


async def test_an_xlsx_file_with_a_chinese_header_swaps_in_place_with_htmx(
    acme: AsyncTestClient[Litestar],
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["采购订单号", "行号", "承诺交期", "数量", "原因代码", "备注"])
    sheet.append(["PO-U1", 1, datetime(2027, 1, 12), 100, "capacity", "夜班停产"])
    sheet.append(["PO-U3", 1.0, "2027/1/14", 100.0, "Logistics", None])
    content = BytesIO()
    workbook.save(content)
    htmx = {"HX-Request": "true"}
    before = snapshot(acme)

    preview = await upload(acme, "承诺.xlsx", content.getvalue(), XLSX, headers=htmx)
    assert preview.status_code == 200, preview.text
    assert "<html" not in preview.text and 'id="promise-upload"' in preview.text
    assert "Will apply at once" in row_of(preview.text, "PO-U1")
    assert "Will apply at once" in row_of(preview.text, "PO-U3")
    assert snapshot(acme) == before

    result = await apply(acme, preview.text, htmx)
    assert result.status_code == 200, result.text
    assert "<html" not in result.text and "Applied" in row_of(result.text, "PO-U3")
    assert promise_of(acme, "PO-U1") == [(Decimal(100), date(2027, 1, 12))]
    assert promise_of(acme, "PO-U3") == [(Decimal(100), date(2027, 1, 14))]
    (moved,) = imported(acme, "PO-U3")
    assert moved.data["reason_code"] == "logistics"
    assert moved.actor["name"] == "Li Lei"
    (moved,) = imported(acme, "PO-U1")
    assert moved.data["comment"] == "夜班停产"


async def test_each_malformed_row_gets_its_own_message_and_nothing_can_be_applied(
    acme: AsyncTestClient[Litestar],
) -> None:
    rows = (
        "PO-U1,1,2027-01-13,100,capacity,fine on its own\n"  # row 2
        "PO-U2,,2027-01-13,100,capacity\n"  # 3: no line
        "PO-U2,one,2027-01-13,100,capacity\n"  # 4
        "PO-U2,1,13/01/2027,100,capacity\n"  # 5: day first is a guess
        "PO-U2,1,2027-01-13,lots,capacity\n"  # 6
        "PO-U2,1,2027-01-13,0,capacity\n"  # 7
        "PO-U2,1,2027-01-13,100,weather\n"  # 8
        "PO-U1,1,2027-01-14,100,capacity\n"  # 9: PO-U1 line 1 again
        "PO-U2,1,2020-01-13,100,capacity\n"  # 10: gone
        "PO-U3,7,2027-01-13,100,capacity\n"  # 11
        "PO-B1,1,2027-01-13,100,capacity\n"  # 12: Bolt's
        "PO-NONE,1,2027-01-13,100,capacity\n"  # 13
        "PO-U3,1,2027-01-13,100,capacity,comment,stray\n"  # 14
    )
    before = snapshot(acme)
    preview = await upload(acme, "promises.csv", (HEADER + rows).encode())
    assert preview.status_code == 200, preview.text
    page = preview.text
    messages = {
        3: "The cell “Line no.” is empty.",
        4: "“one” is not a line number",
        5: "“13/01/2027” is not a date; write it as 2027-01-31.",
        6: "“lots” is not a quantity",
        7: "The quantity must be more than zero (it is 0).",
        8: "“weather” is not a reason code; use one of: material_shortage, capacity",
        9: "This line is already in row 2; name each line once.",
        10: "The date is in the past",
        11: "Purchase order PO-U3 has no line 7.",
        12: "Purchase order PO-B1 was not found.",
        13: "Purchase order PO-NONE was not found.",
        14: "This row has more cells than the header row has columns.",
    }
    for number, message in messages.items():
        row = row_of(page, f'id="row-{number}"')
        assert "Error" in row and message in text_of(row), (number, text_of(row))
    assert "Will apply at once" in row_of(page, 'id="row-2"')
    assert 'name="plan"' not in page
    assert "Nothing can be applied while rows have errors" in page
    assert "PO-B1</a>" not in page and "Bolt" not in page, "nothing of Bolt's order shows"
    assert snapshot(acme) == before


async def test_a_sealed_preview_cannot_be_forged(acme: AsyncTestClient[Litestar]) -> None:
    preview = await upload(acme, "promises.csv", (HEADER + GOOD_ROWS).encode())
    sealed = re.search(r'name="plan" value="([^"]+)"', preview.text)
    assert sealed
    payload, _, mac = sealed.group(1).partition(".")
    before = snapshot(acme)
    for forged in (payload + "." + mac[::-1], "garbage", ""):
        answer = await acme.post(
            UPLOAD + "/apply",
            data={CSRF_FIELD: acme.cookies[CSRF_COOKIE], "plan": forged},
            headers=EN,
        )
        assert answer.status_code == 400
        assert "This preview cannot be applied any more. Upload the file again." in answer.text
    assert snapshot(acme) == before


async def test_an_order_changed_after_the_preview_applies_nothing(
    acme: AsyncTestClient[Litestar],
) -> None:
    preview = await upload(acme, "promises.csv", (HEADER + GOOD_ROWS).encode())
    # Meanwhile PO-U3 moves through the web page: the preview no longer holds for it.
    in_app(acme, move_promise, acme.app.state.db, "PO-U3", date(2027, 1, 8))
    before = snapshot(acme)
    answer = await apply(acme, preview.text)
    assert answer.status_code == 409
    assert "changed after the preview, so nothing was applied" in answer.text
    assert snapshot(acme) == before
    assert promise_of(acme, "PO-U1") == [(Decimal(100), NEED)]
    assert imported(acme, "PO-U1") == [] and imported(acme, "PO-U2") == []


async def test_a_ten_megabyte_upload_is_refused_unread(acme: AsyncTestClient[Litestar]) -> None:
    before = snapshot(acme)
    big = (HEADER + GOOD_ROWS * 100_000).encode()[: 10 * 1024 * 1024]
    for headers in ({}, {"HX-Request": "true"}):
        answer = await upload(acme, "promises.csv", big, headers=headers)
        assert answer.status_code == 413, answer.text
        assert "is larger than 2 MB" in answer.text
    assert snapshot(acme) == before


NOT_PROMISE_SHEETS = [
    # file name, content, what the page says
    ("logo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not a CSV or Excel (.xlsx) file"),
    ("promises.pdf", (HEADER + GOOD_ROWS).encode(), "is not a CSV or Excel (.xlsx) file"),
    ("promises.xlsx", (HEADER + GOOD_ROWS).encode(), "is not a CSV or Excel (.xlsx) file"),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "Excel 97-2003 workbook"),
    ("utf16.csv", (HEADER + GOOD_ROWS).encode("utf-16"), "is not text in UTF-8 or GB18030"),
    (
        "latin1.csv",
        (HEADER + "PO-U1,1,2027-01-13,100,other,caf\u00e9\n").encode("latin-1"),
        "UTF-8",
    ),
    ("empty.csv", HEADER.encode(), "has nothing to read"),
    ("columns.csv", b"PO,Qty\nPO-U1,100\n", "lacks these columns: Line no., Promised date"),
]


async def test_a_file_that_is_not_a_promise_sheet_is_refused_with_its_reason(
    acme: AsyncTestClient[Litestar],
) -> None:
    before = snapshot(acme)
    wrong = []
    for name, content, message in NOT_PROMISE_SHEETS:
        answer = await upload(acme, name, content, "application/octet-stream")
        if answer.status_code != 422 or message not in answer.text or 'name="plan"' in answer.text:
            wrong.append((name, answer.status_code, text_of(answer.text)[-300:]))
    assert wrong == []
    assert snapshot(acme) == before


async def test_a_chinese_excel_csv_in_gb18030_reads_and_speaks_chinese(
    acme: AsyncTestClient[Litestar],
) -> None:
    content = (
        "采购订单号,行号,承诺交期,数量,原因代码,备注\r\n"
        "PO-U1,1,2027/1/13,100,产能不足,三号线检修\r\n"
        "PO-U2,1,2027/1/13,100,天气,\r\n"
    ).encode("gb18030")
    answer = await upload(acme, "承诺交期.csv", content, headers={"Accept-Language": "zh-CN"})
    assert answer.status_code == 200, answer.text
    assert "三号线检修" in row_of(answer.text, "PO-U1")
    assert "“天气”不是原因代码" in text_of(row_of(answer.text, "PO-U2"))


async def test_the_templates_download_in_the_readers_language_and_read_back(
    acme: AsyncTestClient[Litestar],
) -> None:
    page = await acme.get(UPLOAD, headers=EN)
    assert page.status_code == 200
    for link in ("/template.xlsx", "/template.csv"):
        assert f'href="{UPLOAD}{link}"' in page.text
    assert 'enctype="multipart/form-data"' in page.text

    csv = await acme.get(UPLOAD + "/template.csv", headers={"Accept-Language": "zh-CN"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.content.decode("utf-8-sig").splitlines() == [
        "采购订单号,行号,承诺交期,数量,原因代码,备注"
    ]

    xlsx = await acme.get(UPLOAD + "/template.xlsx", headers=EN)
    assert xlsx.status_code == 200
    assert 'filename="promise-updates.xlsx"' in xlsx.headers["content-disposition"]
    workbook = load_workbook(BytesIO(xlsx.content))
    sheet = workbook.active
    assert sheet is not None
    assert [cell.value for cell in sheet[1]] == [
        "PO no.",
        "Line no.",
        "Promised date",
        "Quantity",
        "Reason code",
        "Comment",
    ]
    sheet.append(["PO-U1", 1, datetime(2027, 1, 12), 100, "capacity", None])
    filled = BytesIO()
    workbook.save(filled)
    preview = await upload(acme, "promise-updates.xlsx", filled.getvalue(), XLSX)
    assert "Will apply at once" in row_of(preview.text, "PO-U1")
