"""The home page and the order lists: what is listed, late marking, filter, sort and pages."""

from __future__ import annotations

import html
from datetime import date

from http_story import (
    ACME_USER,
    BOLT_USER,
    CUST_USER,
    add_organisations,
    issue,
    numbers_in_order,
    portal,
    row_of,
    tell_the_story,
)
from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.db.database import Database

EN = {"Accept-Language": "en"}


async def test_home_lists_purchase_and_sales_orders(client: AsyncTestClient[Litestar]) -> None:
    page = (await client.get("/", headers=EN)).text

    po_1 = row_of(page, ">PO-1<")
    assert "Acme Fasteners" in po_1
    assert "Acknowledged" in po_1
    assert "Jan 11, 2027" in po_1  # needed
    assert "Jan 20, 2027" in po_1  # promised, nine days later
    assert 'class="late"' in po_1
    assert "Late" in po_1
    assert ">3<" in po_1  # version: issued, acknowledged, promise changed

    po_2 = row_of(page, ">PO-2<")
    assert "Bolt &amp; Nut Works" in po_2
    assert "Issued" in po_2
    assert "none yet" in po_2
    assert "late" not in po_2  # neither the class nor the badge

    so_1 = row_of(page, ">SO-1<")
    assert "Contoso Retail" in so_1
    assert "Open" in so_1
    assert "Jan 15, 2027" in so_1  # requested
    assert "Jan 22, 2027" in so_1  # expected: the promise plus two handling days
    assert 'class="late"' in so_1

    assert '<a href="/purchase-orders/PO-1">PO-1</a>' in page
    assert '<a href="/sales-orders/SO-1">SO-1</a>' in page


async def test_status_filter_is_a_plain_get_form_and_an_htmx_request(
    client: AsyncTestClient[Litestar],
) -> None:
    home = (await client.get("/", headers=EN)).text
    assert '<form class="filters" method="get" action="/purchase-orders"' in home
    assert 'hx-get="/purchase-orders"' in home
    assert 'hx-target="#purchase-orders"' in home

    issued = (await client.get("/purchase-orders?status=issued", headers=EN)).text
    assert numbers_in_order(issued, "PO") == ["PO-2"]
    assert '<option value="issued" selected>Issued</option>' in issued

    acknowledged = await client.get(
        "/purchase-orders?status=acknowledged", headers={**EN, "HX-Request": "true"}
    )
    assert numbers_in_order(acknowledged.text, "PO") == ["PO-1"]

    cancelled = (await client.get("/sales-orders?status=cancelled", headers=EN)).text
    assert numbers_in_order(cancelled, "SO") == []
    assert "No sales orders to show." in cancelled


async def test_sorting_by_a_column_and_reversing_it(client: AsyncTestClient[Litestar]) -> None:
    by_number = (await client.get("/purchase-orders?sort=number", headers=EN)).text
    assert numbers_in_order(by_number, "PO") == ["PO-1", "PO-2"]
    assert 'aria-sort="ascending"' in by_number
    assert 'href="/purchase-orders?sort=-number"' in by_number  # clicking again reverses

    reversed_ = (await client.get("/purchase-orders?sort=-number", headers=EN)).text
    assert numbers_in_order(reversed_, "PO") == ["PO-2", "PO-1"]

    by_supplier = (await client.get("/purchase-orders?sort=-party", headers=EN)).text
    assert numbers_in_order(by_supplier, "PO") == ["PO-2", "PO-1"]  # Bolt & Nut, then Acme


async def test_an_unknown_sort_or_status_is_a_readable_400(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.get("/purchase-orders?sort=price", headers=EN)
    assert response.status_code == 400
    assert "Unknown sort 'price'" in html.unescape(response.text)

    response = await client.get("/sales-orders?status=lost", headers=EN)
    assert response.status_code == 400
    assert "Unknown status 'lost'" in html.unescape(response.text)


async def test_pages_of_twenty(db: Database, database_url: str) -> None:
    await add_organisations()
    for n in range(1, 24):
        await issue(db, f"PO-{n:02d}", "ACME", date(2027, 3, 1))
    async with portal(database_url) as client:
        first = (await client.get("/purchase-orders?sort=number", headers=EN)).text
        second = (await client.get("/purchase-orders?sort=number&page=2", headers=EN)).text
        beyond = await client.get("/purchase-orders?page=0", headers=EN)

    assert numbers_in_order(first, "PO") == [f"PO-{n:02d}" for n in range(1, 21)]
    assert "Page 1 of 2" in first
    assert "23 orders" in first
    assert 'href="/purchase-orders?sort=number&amp;page=2"' in first
    assert 'rel="prev"' not in first

    assert numbers_in_order(second, "PO") == ["PO-21", "PO-22", "PO-23"]
    assert "Page 2 of 2" in second
    assert 'href="/purchase-orders?sort=number"' in second  # back to page 1
    assert 'rel="next"' not in second

    assert beyond.status_code == 400


async def test_suppliers_and_customers_see_only_their_own_orders(
    db: Database, database_url: str
) -> None:
    await tell_the_story(db)
    async with portal(database_url, as_user=ACME_USER) as acme:
        acme_home = (await acme.get("/", headers=EN)).text
        acme_list = (await acme.get("/purchase-orders?sort=number", headers=EN)).text
        acme_issued = (await acme.get("/purchase-orders?status=issued", headers=EN)).text
        acme_sales = await acme.get("/sales-orders", headers=EN)
    async with portal(database_url, as_user=BOLT_USER) as bolt:
        bolt_list = (await bolt.get("/purchase-orders", headers=EN)).text
    async with portal(database_url, as_user=CUST_USER) as customer:
        customer_home = (await customer.get("/", headers=EN)).text
        customer_list = (await customer.get("/sales-orders", headers=EN)).text
        customer_pos = await customer.get("/purchase-orders", headers=EN)

    assert numbers_in_order(acme_home, "PO") == ["PO-1"]
    assert numbers_in_order(acme_home, "SO") == []
    assert numbers_in_order(acme_list, "PO") == ["PO-1"]
    assert "1 order" in acme_list
    assert numbers_in_order(acme_issued, "PO") == []  # PO-2 is issued, but not Acme's
    assert "Bolt &amp; Nut Works" not in acme_list
    assert acme_sales.status_code == 403  # a supplier holds no order:read
    assert numbers_in_order(bolt_list, "PO") == ["PO-2"]
    assert "Acme Fasteners" not in bolt_list

    assert numbers_in_order(customer_home, "PO") == []
    assert numbers_in_order(customer_list, "SO") == ["SO-1"]
    assert "PO-1" not in customer_list
    assert customer_pos.status_code == 403
