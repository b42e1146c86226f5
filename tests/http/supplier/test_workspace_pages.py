"""The workspace as a whole: the inbox (whole and as a fragment, live), another supplier's
orders that do not exist, a stale form answered with the conflict page, our own staff looking
without forms, and the buyer's order page listening for changes."""

from __future__ import annotations

import re
from datetime import date

from conftest import EN, HX, ZH, csrf, issue_two_lines, state, version_in
from http_story import (
    ACME_USER,
    BOLT_USER,
    BUYER_USER,
    SALES,
    issue,
    portal,
    row_of,
    tell_the_story,
)

from portal.db.database import Database

ROUTES_ON_PO1 = [
    ("GET", "/supplier/purchase-orders/PO-1"),
    ("POST", "/supplier/purchase-orders/PO-1/acknowledgement"),
    ("POST", "/supplier/purchase-orders/PO-1/lines/1/promise"),
    ("POST", "/supplier/purchase-orders/PO-1/change-requests"),
    ("POST", "/supplier/purchase-orders/PO-1/change-requests/PO-1-CR1/decision"),
    ("POST", "/supplier/purchase-orders/PO-1/shipments"),
    ("POST", "/supplier/purchase-orders/PO-1/shipments/ASN-1/correction"),
    ("POST", "/supplier/purchase-orders/PO-1/shipments/ASN-1/cancellation"),
]


async def test_the_inbox_whole_and_as_a_fragment(db: Database, database_url: str) -> None:
    """PO-1 (promised late), PO-3 (issued, needed soon: at risk, to acknowledge), PO-A."""
    await tell_the_story(db)
    await issue(db, "PO-3", "ACME", date.today())
    await issue_two_lines(db, "PO-A")
    async with portal(database_url, as_user=ACME_USER) as client:
        whole = (await client.get("/supplier/purchase-orders", headers=EN)).text
        fragment = await client.get("/supplier/purchase-orders?action=1&sort=number", headers=HX)
        chinese = (await client.get("/supplier/purchase-orders", headers=ZH)).text
        bad = await client.get("/supplier/purchase-orders?status=lost", headers=EN)

    assert "<html" in whole and 'sse-connect="/live/purchase-orders?after=' in whole
    assert 'href="/supplier/promises/upload"' in whole
    assert 'href="/supplier/purchase-orders"' in whole  # the nav link of a supplier user
    assert re.findall(r'<tr id="po-(PO-[\w-]+)"', whole) == ["PO-A", "PO-3", "PO-1"]
    assert "PO-2" not in whole  # Bolt & Nut's
    late = row_of(whole, 'id="po-PO-1"')
    assert 'class="late' in late and "Late" in late
    soon = row_of(whole, 'id="po-PO-3"')
    assert "At risk" in soon and "Not acknowledged yet" in soon
    assert re.search(r"Needs my action <span class=\"count\">2</span>", whole)
    assert re.search(r"Issued <span class=\"count\">2</span>", whole)
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith("<h1") and "<html" not in fragment.text
    assert re.findall(r'<tr id="po-(PO-[\w-]+)"', fragment.text) == ["PO-3", "PO-A"]
    assert 'hx-trigger="sse:changed"' in fragment.text
    assert "待我处理" in chinese and "有风险" in chinese
    assert bad.status_code == 400


async def test_another_suppliers_order_does_not_exist(db: Database, database_url: str) -> None:
    await tell_the_story(db)
    async with portal(database_url, as_user=BOLT_USER) as client:
        answers = {
            f"{method} {url}": await client.request(
                method, url, data={**csrf(client), "version": "1"}, headers=EN
            )
            for method, url in ROUTES_ON_PO1
        }
        bulk = await client.post(
            "/supplier/promises",
            data={
                **csrf(client),
                "po": "PO-1",
                "version-PO-1": "3",
                "how": "shift",
                "days": "2",
                "reason_code": "capacity",
            },
            headers=EN,
        )
        own = await client.get("/supplier/purchase-orders/PO-2", headers=EN)
    assert {name: answer.status_code for name, answer in answers.items()} == {
        name: 404 for name in answers
    }
    assert bulk.status_code == 404
    assert own.status_code == 200
    po, events = await state(database_url, "PO-1")
    assert po.version == 3 and events[-1].kind == "line.promise_changed"  # as the story left it


async def test_a_stale_form_gets_the_conflict_page(db: Database, database_url: str) -> None:
    await tell_the_story(db)
    await issue_two_lines(db, "PO-A")
    async with portal(database_url, as_user=ACME_USER) as client:
        page = (await client.get("/supplier/purchase-orders/PO-A", headers=EN)).text
        version = version_in(page, "/acknowledgement")
        url = "/supplier/purchase-orders/PO-A/acknowledgement"
        stale = {**csrf(client), "version": version - 1, "decision": "accept"}
        whole = await client.post(url, data=stale, headers=EN)
        fragment = await client.post(url, data=stale, headers=HX)
    assert whole.status_code == 409 and "<html" in whole.text
    assert "Changed by someone else" in whole.text
    assert f"The current version is {version}." in whole.text
    assert 'href="/supplier/purchase-orders/PO-A"' in whole.text
    assert fragment.status_code == 409
    assert fragment.text.lstrip().startswith('<section id="supplier-po"')
    po, _ = await state(database_url, "PO-A")
    assert (po.stored_status, po.version) == ("issued", version)


async def test_our_staff_see_the_suppliers_view_without_forms(
    db: Database, database_url: str
) -> None:
    await tell_the_story(db)
    async with portal(database_url, as_user=BUYER_USER) as client:
        page = await client.get("/supplier/purchase-orders/PO-1", headers=EN)
        inbox = await client.get("/supplier/purchase-orders", headers=EN)
    assert page.status_code == 200
    assert "the supplier's forms are not shown to you" in page.text
    assert "<form" not in page.text.split('<main id="main">')[1]
    assert "Line 3 is down for maintenance" in page.text
    assert re.findall(r'<tr id="po-(PO-[\w-]+)"', inbox.text) == ["PO-2", "PO-1"]
    assert 'name="po"' not in inbox.text  # no bulk form for them


async def test_the_buyers_order_page_listens_for_changes(db: Database, database_url: str) -> None:
    await tell_the_story(db)
    async with portal(database_url, as_user=SALES) as client:
        page = (await client.get("/purchase-orders/PO-1", headers=EN)).text
        part = await client.get("/purchase-orders/PO-1", headers=HX)
    assert 'sse-connect="/live/purchase-orders/PO-1?after=4"' in page
    assert 'hx-get="/purchase-orders/PO-1" hx-trigger="sse:changed"' in page
    assert '<article id="po-view"' in part.text and "<html" not in part.text
