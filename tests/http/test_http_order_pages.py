"""One order: its header, its lines and its timeline, as the viewer reads them."""

from __future__ import annotations

import re

from http_story import ACME_USER, BOLT_USER, CUST_USER, portal, prefer, row_of, tell_the_story
from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.db.database import Database

EN = {"Accept-Language": "en"}


def timeline_of(page: str) -> list[str]:
    """The event titles of a timeline, top to bottom."""
    return re.findall(r'<strong class="event-title">(.*?)</strong>', page)


async def test_purchase_order_shows_header_lines_and_promises(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.get("/purchase-orders/PO-1", headers=EN)
    assert response.status_code == 200
    page = response.text
    assert "<h1>Purchase order PO-1</h1>" in page
    assert "Acme Fasteners" in page
    assert "Wang Fang" in page  # the buyer
    assert "Acknowledged" in page

    line = row_of(page, "BOLT-M8")
    assert "Hex bolt M8" in line
    assert "100 pcs" in line
    assert "CN¥0.35" in line
    assert "Jan 11, 2027" in line  # need date
    assert "100 on Jan 11, 2027" in line  # first promise: accepted as needed
    assert "100 on Jan 20, 2027" in line  # current promise
    assert 'class="late' in line
    assert "Late" in line


async def test_purchase_order_timeline_newest_first_with_who_and_what(
    client: AsyncTestClient[Litestar],
) -> None:
    page = (await client.get("/purchase-orders/PO-1", headers=EN)).text
    assert timeline_of(page) == [
        "Promised date changed",
        "Purchase order acknowledged",
        "Purchase order issued",
        "Purchase order created",
    ]
    assert "by Li Lei, via web" in page
    assert "by Wang Fang, via web" in page
    assert "<dt>Line 1: Promised date</dt>" in page
    assert "<del>100 on Jan 11, 2027</del> → <ins>100 on Jan 20, 2027</ins>" in page
    assert "<dd>Capacity</dd>" in page
    assert "<dd>Line 3 is down for maintenance</dd>" in page
    assert "<del>Issued</del> → <ins>Acknowledged</ins>" in page


async def test_sales_order_shows_requested_and_expected_dates(
    client: AsyncTestClient[Litestar],
) -> None:
    page = (await client.get("/sales-orders/SO-1", headers=EN)).text
    assert "<h1>Sales order SO-1</h1>" in page
    assert "Contoso Retail" in page
    assert "buyer@contoso.example" in page

    line = row_of(page, "BOLT-M8")
    assert "Jan 15, 2027" in line  # requested
    assert "Jan 22, 2027" in line  # expected
    assert 'href="/purchase-orders/PO-1"' in line  # the viewer is internal: it sees the link
    assert 'class="late"' in line

    assert timeline_of(page) == [
        "Expected date changed",
        "Expected date changed",
        "Line linked to a purchase order",
        "Sales order created",
    ]
    assert "<del>Jan 13, 2027</del> → <ins>Jan 22, 2027</ins>" in page
    assert "Our supply schedule changed" in page
    assert "by Portal (automatic), via system" in page


async def test_times_are_shown_in_the_configured_time_zone(db: Database, database_url: str) -> None:
    await tell_the_story(db)  # every change at 09:30 UTC
    async with portal(database_url, time_zone="Asia/Shanghai") as client:
        shanghai = (await client.get("/purchase-orders/PO-1", headers=EN)).text
    async with portal(database_url, time_zone="UTC") as client:
        utc = (await client.get("/purchase-orders/PO-1", headers=EN)).text
    assert "Mar 2, 2026, 5:30\u202fPM" in shanghai
    assert "Mar 2, 2026, 9:30\u202fAM" not in shanghai
    assert "Mar 2, 2026, 9:30\u202fAM" in utc
    assert "Times are in Asia/Shanghai." in shanghai


async def test_each_reader_sees_times_in_their_own_time_zone(
    db: Database, database_url: str
) -> None:
    await tell_the_story(db)
    await prefer(ACME_USER, time_zone="America/New_York")
    async with portal(database_url, as_user=ACME_USER, time_zone="Asia/Shanghai") as client:
        page = (await client.get("/purchase-orders/PO-1", headers=EN)).text
    assert "Mar 2, 2026, 4:30\u202fAM" in page
    assert "Times are in America/New_York." in page


async def test_a_supplier_reads_its_own_order_and_not_the_others(
    db: Database, database_url: str
) -> None:
    await tell_the_story(db)
    async with portal(database_url, as_user=ACME_USER) as acme:
        own = await acme.get("/purchase-orders/PO-1", headers=EN)
        other = await acme.get("/purchase-orders/PO-2", headers=EN)
        missing = await acme.get("/purchase-orders/PO-404", headers=EN)
    async with portal(database_url, as_user=BOLT_USER) as bolt:
        not_bolts = await bolt.get("/purchase-orders/PO-1", headers=EN)

    assert own.status_code == 200
    assert "<h1>Purchase order PO-1</h1>" in own.text
    assert "Promised date changed" in own.text
    # Another supplier's order does not exist for them: the same 404 as an unknown number.
    assert other.status_code == missing.status_code == not_bolts.status_code == 404
    assert "Bolt &amp; Nut Works" not in other.text
    assert "Acme Fasteners" not in not_bolts.text


async def test_a_customer_reads_its_sales_order_without_the_purchase_order_behind_it(
    db: Database, database_url: str
) -> None:
    await tell_the_story(db)
    async with portal(database_url, as_user=CUST_USER) as customer:
        page = await customer.get("/sales-orders/SO-1", headers=EN)
        po = await customer.get("/purchase-orders/PO-1", headers=EN)
    assert page.status_code == 200
    line = row_of(page.text, "BOLT-M8")
    assert "Jan 22, 2027" in line  # the expected date, as the internal viewer sees it
    assert "PO-1" not in page.text
    assert "Acme Fasteners" not in page.text
    assert po.status_code == 403  # a customer holds no po:read


async def test_an_unknown_order_is_a_404_page(client: AsyncTestClient[Litestar]) -> None:
    for path in ("/purchase-orders/PO-404", "/sales-orders/SO-404"):
        response = await client.get(path, headers=EN)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "<title>Not found · Order portal</title>" in response.text
        assert "was not found." in response.text
        assert '<a href="/">Back to the orders</a>' in response.text

    chinese = await client.get("/purchase-orders/PO-404", headers={"Accept-Language": "zh-CN"})
    assert chinese.status_code == 404
    assert "未找到" in chinese.text


async def test_an_unanswered_purchase_order_has_no_promise_yet(
    client: AsyncTestClient[Litestar],
) -> None:
    page = (await client.get("/purchase-orders/PO-2", headers=EN)).text
    line = row_of(page, "BOLT-M8")
    assert line.count("none yet") == 2  # neither a first nor a current promise
    assert "late" not in line
    assert timeline_of(page) == ["Purchase order issued", "Purchase order created"]
