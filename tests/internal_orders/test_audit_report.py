"""The audit report of an order: every event of its stream as CSV (with a BOM, so Excel shows
Chinese) and as a printable page that says whether the hash chain is intact — and, after a row
is altered behind the portal's back, at which event it breaks. Only our staff may read it."""

from __future__ import annotations

import csv
import io
import json
import re

from internal_orders_support import (
    ACME_USER,
    BUYER,
    BUYER_USER,
    CUST_USER,
    SALES_USER,
    World,
    csrf_of,
)

from portal.services.comments import AddComment, OrderKind, add_comment

BOM = b"\xef\xbb\xbf"


def parse(body: bytes) -> list[list[str]]:
    assert body.startswith(BOM)
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


async def test_audit_csv_and_page_of_a_purchase_order_then_a_tampered_row(world: World) -> None:
    await world.issue("PO-1")
    await add_comment(
        world.uow(),
        BUYER,
        AddComment(OrderKind.PURCHASE, "PO-1", '请核对包装, "加急"', internal_only=True),
    )
    events = await world.po_events("PO-1")
    async with world.browser(BUYER_USER) as buyer:
        download = await buyer.get("/purchase-orders/PO-1/audit.csv")
        assert download.status_code == 200
        assert download.headers["content-type"].startswith("text/csv")
        assert "attachment" in download.headers["content-disposition"]
        header, *rows = parse(download.content)
        assert header == [
            "Seq",
            "Time (UTC)",
            "Time (Asia/Shanghai)",
            "Event",
            "Author",
            "Organisation",
            "Via",
            "Audience",
            "Data (JSON)",
            "Previous hash",
            "Hash",
        ]
        assert [int(row[0]) for row in rows] == [event.seq for event in events] == [1, 2, 3]
        assert [row[10] for row in rows] == [event.hash for event in events]
        assert [row[9] for row in rows] == [event.prev_hash for event in events]
        assert [row[3] for row in rows] == [
            "Purchase order created",
            "Purchase order issued",
            "Comment added",
        ]
        note = rows[2]
        assert note[4] == "Wang Fang" and note[5] == "HOME" and note[6] == "web"
        assert note[7] == "our staff"
        assert json.loads(note[8]) == {"text": '请核对包装, "加急"'}
        assert note[1].endswith("+00:00") and note[2].endswith("+08:00")
        assert rows[1][7] == "our staff, the supplier"

        page = await buyer.get("/purchase-orders/PO-1/audit")
        assert page.status_code == 200
        assert "The hash chain is intact." in page.text
        assert "3 events, each sealed to the one before it." in page.text
        assert "Print / save as PDF" in page.text
        assert 'href="/static/css/audit.css"' in page.text
        assert "@media print" in (await buyer.get("/static/css/audit.css")).text
        assert "请核对包装" in page.text

        # Someone with the database's keys edits the issue event (a test-only raw UPDATE).
        await world.db.engine.run_ddl(
            "UPDATE event SET data = '{\"lines\":[]}' WHERE stream = 'po/PO-1' AND seq = 2"
        )
        broken = await buyer.get("/purchase-orders/PO-1/audit")
        assert broken.status_code == 200
        assert "The hash chain is broken at event 2." in broken.text
        assert "its content was altered" in broken.text
        assert re.search(r'<tr id="seq-2" class="[^"]*broken', broken.text)
        assert not re.search(r'<tr id="seq-1" class="[^"]*broken', broken.text)
        still = parse((await buyer.get("/purchase-orders/PO-1/audit.csv")).content)
        assert len(still) == 4  # the altered history is still shown, row for row


async def test_sales_order_audit_and_who_is_turned_away(world: World) -> None:
    await world.issue("PO-1")
    await world.sales_order("SO-1")
    async with world.browser(SALES_USER) as sales:
        page = await sales.get("/sales-orders/SO-1")
        assert "Shared with the customer" in page.text
        shared = await sales.post(
            "/sales-orders/SO-1/comments",
            data={"_csrf_token": csrf_of(page.text), "text": "已安排发货", "audience": "shared"},
        )
        assert shared.status_code == 303
        _header, *rows = parse((await sales.get("/sales-orders/SO-1/audit.csv")).content)
        assert [row[3] for row in rows] == ["Sales order created", "Comment added"]
        assert rows[1][7] == "our staff, the customer"
        audit = await sales.get("/sales-orders/SO-1/audit")
        assert "The hash chain is intact." in audit.text

    async with world.browser(CUST_USER) as customer:
        for path in (
            "/sales-orders/SO-1/audit.csv",
            "/sales-orders/SO-1/audit",
            "/sales-orders/new",
            "/sales-orders/SO-1/lines/1/link",
        ):
            assert (await customer.get(path)).status_code == 403, path
        own = await customer.get("/orders/SO-1")
        assert "已安排发货" in own.text
    async with world.browser(ACME_USER) as supplier:
        for path in (
            "/purchase-orders/PO-1/audit.csv",
            "/purchase-orders/PO-1/audit",
            "/purchase-orders/new",
        ):
            assert (await supplier.get(path)).status_code == 403, path
