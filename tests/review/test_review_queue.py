"""The buyers' review queue, as a page and in the API: every open change request with what it
changes (old → new), its effect on the linked customer orders, its SLA clock, filters and
paging; a supplier is turned away."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from review_support import (
    ACME_USER,
    BUYER,
    BUYER_USER,
    EN,
    HX,
    NEED,
    World,
    later,
    world_over,
)

from portal.db import review_queries
from portal.db.database import Database
from portal.domain.changes import ChangeKind, LineChange


@pytest.fixture
async def world(db: Database, database_url: str) -> AsyncIterator[World]:
    async with world_over(db, database_url) as found:
        yield found


async def story(world: World) -> None:
    """PO-1: Acme asks for line 1 two days later; Contoso's SO-1 follows it and still gets it
    before it asked for it. PO-2: Acme asks (30 hours ago, so 6 hours overdue) for ten days
    later, which makes Contoso's SO-2 late. PO-3: our buyer asks Acme for a lower price."""
    await world.accepted_po("PO-1")
    await world.customer_line("SO-1", "PO-1", 1, NEED + timedelta(days=5))
    await world.accepted_po("PO-2")
    await world.customer_line("SO-2", "PO-2", 1, NEED + timedelta(days=3))
    await world.accepted_po("PO-3")
    await world.supplier_asks("PO-1", later(2))
    await world.supplier_asks("PO-2", later(10), hours_ago=30)
    await world.supplier_asks(
        "PO-3", LineChange(1, ChangeKind.PRICE, unit_price=Decimal("0.30")), actor=BUYER
    )


def item_of(html: str, number: str) -> str:
    """The queue's entry for one request: from its <li> to the next entry or section."""
    start = html.find(f'<li id="cr-{number}"')
    assert start >= 0, f"{number} is not in the queue"
    ends = [html.find(mark, start + 1) for mark in ('<li id="cr-', "<h2>", "<nav")]
    return html[start : min(end for end in ends if end > 0)]


async def test_the_queue_shows_changes_customer_effects_and_the_sla_clock(world: World) -> None:
    await story(world)
    buyer = await world.browser(BUYER_USER)
    page = await buyer.get("/change-requests", headers=EN)
    assert page.status_code == 200
    html = page.text
    assert 'href="/change-requests"' in html  # the nav link for a reviewer
    # Awaiting us first (the overdue one first), then ours awaiting the supplier.
    order = re.findall(r'<li id="cr-(PO-\d-CR\d)"', html)
    assert order == ["PO-2-CR1", "PO-1-CR1", "PO-3-CR1"]
    assert html.index("Awaiting our decision") < html.index("PO-2-CR1")
    assert html.index("PO-1-CR1") < html.index("Awaiting the supplier") < html.index("PO-3-CR1")

    late = item_of(html, "PO-2-CR1")
    assert 'class="review-item change-request overdue"' in late
    assert "Overdue by 6 h" in late
    assert "SO-2" in late and "Contoso Retail" in late
    assert "10 days later" in late and "Past the requested date" in late
    assert "Needs its own decision" in late

    fine = item_of(html, "PO-1-CR1")
    assert "overdue" not in fine.split(">")[0]
    assert re.search(r"Due in 2[34] h", fine)
    assert "2 days later" in fine and "Past the requested date" not in fine
    assert "Low impact" in fine
    assert 'type="checkbox" name="cr" value="PO-1-CR1"' in fine

    ours = item_of(html, "PO-3-CR1")
    assert "0.35" in ours and "0.30" in ours and "→" in ours
    assert 'name="cr"' not in ours  # the supplier decides it, not us
    assert "No customer order follows the changed lines." in ours

    overdue = await buyer.get("/change-requests?due=overdue", headers=EN)
    assert re.findall(r'<li id="cr-(PO-\d-CR\d)"', overdue.text) == ["PO-2-CR1"]
    theirs = await buyer.get("/change-requests?opened_by=internal&supplier=ACME", headers=EN)
    assert re.findall(r'<li id="cr-(PO-\d-CR\d)"', theirs.text) == ["PO-3-CR1"]
    nobody = await buyer.get("/change-requests?buyer=Nobody", headers=EN)
    assert "<li id=" not in nobody.text and "Page 1 of 1" in nobody.text
    fragment = await buyer.get("/change-requests?due=overdue", headers=HX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "PO-2-CR1" in fragment.text
    await buyer.aclose()


async def test_a_supplier_is_turned_away_from_the_queue(world: World) -> None:
    await story(world)
    supplier = await world.browser(ACME_USER)
    for path in ("/change-requests", "/change-requests/PO-1-CR1"):
        answer = await supplier.get(path, headers=EN)
        assert answer.status_code in (403, 404), path
        assert "PO-2-CR1" not in answer.text
    assert 'href="/change-requests"' not in (await supplier.get("/", headers=EN)).text
    await supplier.aclose()
    api = await world.bearer("acme-erp")
    answer = await world.http.get("/api/v1/change-requests", headers=api)
    assert answer.status_code == 403
    assert "PO-" not in answer.text


async def test_the_queue_in_the_api_pages_by_cursor(world: World) -> None:
    await story(world)
    api = await world.bearer("home-buyer")
    first = await world.http.get("/api/v1/change-requests?limit=1", headers=api)
    assert first.status_code == 200, first.text
    body = first.json()
    [item] = body["items"]
    assert item["number"] == "PO-2-CR1"  # earliest due first
    assert item["overdue"] is True and item["low_impact"] is False
    assert item["not_low_impact"] == ["customer_late"]
    [effect] = item["effects"]
    assert effect == {
        "customer": "CUST",
        "customer_name": "Contoso Retail",
        "so_number": "SO-2",
        "so_line_no": 1,
        "po_line_no": 1,
        "requested_date": (NEED + timedelta(days=3)).isoformat(),
        "expected_date_before": (NEED + timedelta(days=2)).isoformat(),
        "expected_date_after": (NEED + timedelta(days=12)).isoformat(),
        "days_later": 10,
        "late_for_customer": True,
        "line_cancelled": False,
    }
    assert item["changes"] == [
        {
            "line_no": 1,
            "kind": "date",
            "schedule": [{"quantity": "100", "date": (NEED + timedelta(days=10)).isoformat()}],
        }
    ]
    seen = [item["number"]]
    following = body["next"]
    while following:
        page = await world.http.get(following, headers=api)
        assert page.status_code == 200
        seen += [found["number"] for found in page.json()["items"]]
        following = page.json()["next"]
    assert seen == ["PO-2-CR1", "PO-1-CR1", "PO-3-CR1"]
    overdue = await world.http.get("/api/v1/change-requests?due=overdue", headers=api)
    assert [found["number"] for found in overdue.json()["items"]] == ["PO-2-CR1"]
    waiting = await world.http.get("/api/v1/change-requests?opened_by=internal", headers=api)
    assert [found["number"] for found in waiting.json()["items"]] == ["PO-3-CR1"]
    bad = await world.http.get("/api/v1/change-requests?due=soon", headers=api)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")


async def test_the_queue_reads_a_page_in_a_fixed_number_of_queries(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests, their orders' lines and the linked customer lines are read for the whole page
    at once: twice as many requests on the page take no more queries."""
    engine_type = type(world.db.engine)
    counted: list[str] = []
    run = engine_type.run_querystring

    async def counting(self: Any, querystring: Any, in_pool: bool = True) -> Any:
        counted.append(str(querystring))
        return await run(self, querystring, in_pool=in_pool)

    async def queries_for_page() -> tuple[int, int]:
        counted.clear()
        monkeypatch.setattr(engine_type, "run_querystring", counting)
        found = await review_queries.review_page(BUYER, review_queries.Filters(), datetime.now(UTC))
        monkeypatch.undo()
        return len(found.items), len(counted)

    await story(world)
    small = await queries_for_page()
    for n in range(4, 7):
        await world.accepted_po(f"PO-{n}")
        await world.customer_line(f"SO-{n}", f"PO-{n}", 1, NEED + timedelta(days=9))
        await world.supplier_asks(f"PO-{n}", later(1))
    large = await queries_for_page()
    assert (small[0], large[0]) == (3, 6)
    assert small[1] == large[1] == 4  # count, requests, order lines, linked customer lines
