"""Order lists as CSV and XLSX files: the same orders as the list under the same filters,
readable by csv and openpyxl, and a supplier's or customer's file holds only its own orders."""

from __future__ import annotations

import csv
import io
from datetime import date

from http_story import (
    ACME_USER,
    BOLT_USER,
    CUST_USER,
    SALES,
    numbers_in_order,
    portal,
    tell_the_story,
)
from openpyxl import load_workbook

from portal.db.database import Database


def csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "Excel needs the byte order mark"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def xlsx_rows(body: bytes) -> list[tuple[object, ...]]:
    book = load_workbook(io.BytesIO(body))
    sheet = book.worksheets[0]
    assert sheet["A1"].font.bold
    return list(sheet.iter_rows(values_only=True))


async def test_internal_lists_export_what_the_filtered_list_shows(
    db: Database, database_url: str
) -> None:
    await tell_the_story(db)
    async with portal(database_url, as_user=SALES, default_locale="en") as client:
        listed = await client.get("/purchase-orders?supplier=ACME")
        assert listed.status_code == 200
        assert numbers_in_order(listed.text, "PO") == ["PO-1"]
        assert "/purchase-orders/export?format=xlsx&amp;supplier=ACME" in listed.text
        every = await client.get("/purchase-orders")
        assert 'href="/purchase-orders/export?format=csv"' in every.text

        sheet = await client.get("/purchase-orders/export?format=xlsx&supplier=ACME")
        assert sheet.status_code == 200, sheet.text
        assert sheet.headers["content-type"].startswith("application/vnd.openxmlformats")
        rows = xlsx_rows(sheet.content)
        assert rows[0][:4] == ("Number", "Supplier", "Supplier name", "Status")
        assert [row[0] for row in rows[1:]] == ["PO-1"]
        need = rows[1][4]
        assert hasattr(need, "year") and need.date() == date(2027, 1, 11)  # a date, not text

        text = await client.get("/purchase-orders/export?format=csv")
        assert "attachment" in text.headers["content-disposition"]
        numbers = [row[0] for row in csv_rows(text.content)[1:]]
        assert numbers == numbers_in_order(every.text, "PO")

        sales = await client.get("/sales-orders/export?format=csv&customer=CUST")
        body = csv_rows(sales.content)
        assert [row[0] for row in body[1:]] == ["SO-1"]
        assert body[1][4] == "2027-01-15"

        bad = await client.get("/purchase-orders/export?format=pdf")
        assert bad.status_code == 400


async def test_suppliers_and_customers_export_only_their_own_orders(
    db: Database, database_url: str
) -> None:
    await tell_the_story(db)
    async with portal(database_url, as_user=ACME_USER, default_locale="en") as acme:
        inbox = await acme.get("/supplier/purchase-orders")
        assert "/supplier/purchase-orders/export?format=xlsx" in inbox.text
        rows = xlsx_rows((await acme.get("/supplier/purchase-orders/export?format=xlsx")).content)
        assert {row[0] for row in rows[1:]} == {"PO-1"}
        assert rows[1][6] == 100  # the quantity, a number
        # The internal list's export, asked for by a supplier, is still confined to it.
        other = csv_rows(
            (await acme.get("/purchase-orders/export?format=csv&supplier=BOLT")).content
        )
        assert {row[0] for row in other[1:]} <= {"PO-1"}
    async with portal(database_url, as_user=BOLT_USER, default_locale="en") as bolt:
        rows_ = csv_rows((await bolt.get("/supplier/purchase-orders/export?format=csv")).content)
        assert {row[0] for row in rows_[1:]} == {"PO-2"}
    async with portal(database_url, as_user=CUST_USER, default_locale="en") as customer:
        page = await customer.get("/orders")
        assert "/orders/export?format=csv" in page.text
        mine = xlsx_rows((await customer.get("/orders/export?format=xlsx")).content)
        assert [row[0] for row in mine[1:]] == ["SO-1"]
        assert (await customer.get("/purchase-orders/export?format=csv")).status_code in (403, 404)
