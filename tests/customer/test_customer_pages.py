"""The customer workspace as a customer uses it: "My orders" and one order, on SQLite and
PostgreSQL. A supplier's move reaches the customer as a new expected date and a timeline entry in
the customer's words, never naming the supplier, its person, our purchase order or what was
said internally."""

from __future__ import annotations

from datetime import date

from customer_support import (
    CARL,
    FIONA,
    JANUS,
    SALES,
    SECRETS,
    comment,
    deliver,
    portal,
    row_of,
    ship,
    supplier_acknowledges,
    supplier_moves_promise,
    tell_the_story,
    text_of,
    timeline_titles,
)

from portal.db.database import Database

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def assert_no_secrets(html: str) -> None:
    for secret in SECRETS:
        assert secret not in html, f"the customer's page shows {secret!r}"


async def test_a_moved_promise_shows_the_new_expected_date_and_why_in_customer_words(
    db: Database, database_url: str
) -> None:
    await tell_the_story(db)
    async with portal(database_url) as client:
        before = (await client.get("/orders/SO-1", headers=EN)).text
        # Linked to the PO's need date (11 Jan) and two handling days: earlier than asked.
        assert "<del>Jan 15, 2027</del> → <ins>Jan 13, 2027</ins>" in row_of(before, "BOLT-M8")
        assert "late-badge" not in row_of(before, "BOLT-M8")

        # The running app bound the tables to its own engine: commands go through it.
        await supplier_acknowledges(client.db)
        await supplier_moves_promise(client.db, date(2027, 1, 20))
        page = (await client.get("/orders/SO-1", headers=EN)).text

    assert page.count("Order SO-1") >= 1
    line = row_of(page, "BOLT-M8")
    assert "<del>Jan 15, 2027</del> → <ins>Jan 22, 2027</ins>" in line  # first told → now
    assert "7 days later" in line
    assert 'class="late"' in line and "Late" in line  # asked for 15 Jan
    titles = timeline_titles(page)
    assert titles == [
        "Expected date changed",  # the promise moved
        "Order confirmed",
        "Expected date changed",  # linked
        "Order placed",
    ]
    newest = page.split('class="event ', 2)[1]
    assert "<del>Jan 13, 2027</del> → <ins>Jan 22, 2027</ins>" in newest
    assert "Our supply schedule changed" in newest
    assert "Order confirmed" in page and "expected on Jan 13, 2027" in page
    assert_no_secrets(page)
    assert "supplier" not in text_of(page).lower()


async def test_shipped_and_delivered_with_carrier_and_tracking(
    db: Database, database_url: str
) -> None:
    await tell_the_story(db)
    await comment(db, "SO-1", "Your goods are packed.")
    await comment(db, "SO-1", "Wang Fang says margin is thin", internal_only=True)
    await ship(db, "SO-1", "SF Express", "SF1234567890")
    await deliver(db, "SO-1")
    async with portal(database_url) as client:
        page = (await client.get("/orders/SO-1", headers=EN)).text
        listing = (await client.get("/orders", headers=EN)).text

    assert timeline_titles(page)[:3] == ["Delivered", "Shipped", "Message"]
    assert "SF Express" in page and "SF1234567890" in page
    assert "Delivered on" in page and "Jan 22, 2027" in page
    assert "Your goods are packed." in page and "from Chen Jing" in page
    assert "margin is thin" not in page  # an internal note
    assert_no_secrets(page)
    row = row_of(listing, "SO-1")
    assert "SF Express" in row and "SF1234567890" in row
    assert "shipped 100" in row
    assert "status-delivered" in row


async def test_my_orders_lists_only_the_organisations_orders_with_filters_and_pages(
    db: Database, database_url: str
) -> None:
    await tell_the_story(db)
    await supplier_acknowledges(db)
    await supplier_moves_promise(db, date(2027, 1, 20))
    await ship(db, "SO-2", "DHL", "JD0001")
    async with portal(database_url) as client:
        everything = (await client.get("/orders", headers=EN)).text
        late = (await client.get("/orders?late=1", headers=EN)).text
        shipped = (await client.get("/orders?status=shipped", headers=EN)).text
        by_item = (await client.get("/orders?q=nut-m", headers=EN)).text
        by_number = (await client.get("/orders?q=SO-1", headers=EN)).text
        nothing = (await client.get("/orders?q=WASHER", headers=EN)).text
        bad = await client.get("/orders?status=lost", headers=EN)
        fragment = await client.get("/orders?late=1", headers={**EN, "HX-Request": "true"})

    def numbers(html: str) -> list[str]:
        return sorted(
            set(__import__("re").findall(r'class="order-number" href="/orders/([^"]+)"', html))
        )

    assert numbers(everything) == ["SO-1", "SO-2"]  # not Fabrikam's SO-9 nor Janus's SO-B
    assert numbers(late) == ["SO-1"]
    assert numbers(shipped) == ["SO-2"]
    assert numbers(by_item) == ["SO-2"]
    assert numbers(by_number) == ["SO-1"]
    assert numbers(nothing) == []
    assert "No orders match." in nothing
    assert bad.status_code == 400
    assert "late-badge" in row_of(everything, "SO-1")
    assert "Page 1 of 1" in everything and "2 orders" in everything
    assert fragment.status_code == 200
    assert (
        fragment.text.lstrip().startswith('<section id="orders"')
        or '<section id="orders"' in fragment.text
    )
    assert "<html" not in fragment.text
    assert_no_secrets(everything)


async def test_paging(db: Database, database_url: str) -> None:
    await tell_the_story(db)
    from customer_support import SALES_ACTOR, sales_line, uow

    from portal.services.sales_orders import CreateSalesOrder, create_sales_order

    for n in range(25):
        await create_sales_order(
            uow(db),
            SALES_ACTOR,
            CreateSalesOrder(
                "CUST",
                "CNY",
                [sales_line(1, "PIN-2", 5)],
                contact_email="x@y.z",
                number=f"SO-P{n:02d}",
            ),
        )
    async with portal(database_url) as client:
        first = (await client.get("/orders", headers=EN)).text
        second = (await client.get("/orders?page=2", headers=EN)).text
    assert "Page 1 of 2" in first and "27 orders" in first
    assert 'rel="next" href="/orders?page=2"' in first
    assert "Page 2 of 2" in second
    assert first.count('class="order-number"') == 20
    assert second.count('class="order-number"') == 7


async def test_a_customer_of_an_organisation_that_is_also_a_supplier_sees_its_orders(
    db: Database, database_url: str
) -> None:
    await tell_the_story(db)
    async with portal(database_url, as_user=JANUS) as client:
        listing = (await client.get("/orders", headers=EN)).text
        own = await client.get("/orders/SO-B", headers=EN)
        theirs = await client.get("/orders/SO-1", headers=EN)
    assert 'href="/orders/SO-B"' in listing and 'href="/orders/SO-1"' not in listing
    assert own.status_code == 200
    assert theirs.status_code == 404


async def test_another_customers_order_is_not_found_on_every_route(
    db: Database, database_url: str
) -> None:
    await tell_the_story(db)
    async with portal(database_url, as_user=FIONA) as client:
        for path in ("/orders/SO-1", "/live/orders/SO-1", "/orders/NO-SUCH"):
            answer = await client.get(path, headers=EN)
            assert answer.status_code == 404, path
            assert "BOLT-M8" not in answer.text
        listing = (await client.get("/orders", headers=EN)).text
    assert 'href="/orders/SO-9"' in listing and "SO-1" not in listing


async def test_pages_speak_chinese_and_fit_a_phone(db: Database, database_url: str) -> None:
    await tell_the_story(db)
    await ship(db, "SO-1", "SF Express", "SF1234567890")
    async with portal(database_url) as client:
        page = (await client.get("/orders/SO-1", headers=ZH)).text
        listing = (await client.get("/orders", headers=ZH)).text
        css = (await client.get("/static/css/portal.css")).text
    assert '<html lang="zh-CN">' in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in listing
    # Every cell carries its label, so the table reads as cards on a narrow screen.
    assert 'class="table customer-orders"' in listing
    assert 'data-label="' in row_of(listing, "SO-1")
    customer_css = css.split("Customer workspace", 1)[1]
    assert "@media (max-width: 47.99rem)" in customer_css
    assert ".customer-orders" in customer_css and "display: block" in customer_css
    assert 'href="/orders"' in page  # the "My orders" link in the header


async def test_internal_staff_see_an_order_as_its_customer_does(
    db: Database, database_url: str
) -> None:
    await tell_the_story(db)
    await comment(db, "SO-1", "Wang Fang says margin is thin", internal_only=True)
    async with portal(database_url, as_user=SALES) as client:
        page = (await client.get("/orders/SO-1", headers=EN)).text
    assert "margin is thin" not in page
    assert "PO-1" not in page


async def test_signed_out_visitors_are_sent_to_sign_in(db: Database, database_url: str) -> None:
    await tell_the_story(db)
    async with portal(database_url, as_user=None) as client:
        answer = await client.get("/orders/SO-1", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/sign-in")


async def test_carl_signed_in(db: Database, database_url: str) -> None:
    """The header links a customer to its orders."""
    await tell_the_story(db)
    async with portal(database_url, as_user=CARL) as client:
        home = (await client.get("/orders", headers=EN)).text
    assert '<a href="/orders">My orders</a>' in home
