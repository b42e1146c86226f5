"""Deciding change requests from the review pages: approve, reject (with a reason) and counter
apply atomically and appear on the purchase order's timeline; an approval also moves the
linked customer lines on their own orders' timelines (with the right dates), a rejection or a
counter leaves them alone. A stale form gets the request as it is now (409). Several low-impact
requests are approved at once, all or nothing, from the queue and through the API. A buyer asks
the supplier for a change from the purchase order page, and the supplier answers it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from review_support import (
    ACME,
    ACME_USER,
    BUYER_USER,
    EN,
    HX,
    NEED,
    World,
    csrf,
    kinds,
    later,
    version_in,
    world_over,
)

from portal.db.database import Database
from portal.domain.changes import ChangeKind, LineChange
from portal.services.change_requests import (
    DecideChangeRequest,
    Verdict,
    decide_change_request,
)

FOLLOWS = "line.expected_date_changed"


@pytest.fixture
async def world(db: Database, database_url: str) -> AsyncIterator[World]:
    async with world_over(db, database_url) as found:
        yield found


async def two_requests(world: World) -> None:
    """PO-1 line 1 two days later (SO-1 still on time: low impact); PO-2 line 1 ten days later
    (SO-2 late: not low impact)."""
    await world.accepted_po("PO-1")
    await world.customer_line("SO-1", "PO-1", 1, NEED + timedelta(days=5))
    await world.accepted_po("PO-2")
    await world.customer_line("SO-2", "PO-2", 1, NEED + timedelta(days=3))
    await world.supplier_asks("PO-1", later(2))
    await world.supplier_asks("PO-2", later(10))


def moved(world_events: list, before: date, after: date) -> bool:
    return any(
        event.kind == FOLLOWS
        and event.data["before"] == before.isoformat()
        and event.data["after"] == after.isoformat()
        for event in world_events
    )


async def test_approve_applies_and_moves_the_customer_lines(world: World) -> None:
    await two_requests(world)
    buyer = await world.browser(BUYER_USER)
    page = await buyer.get("/change-requests/PO-2-CR1", headers=EN)
    assert page.status_code == 200
    assert "10 days later" in page.text and "Past the requested date" in page.text
    version = version_in(page.text, "/change-requests/PO-2-CR1/decision")
    so_before = kinds(await world.so_events("SO-2"))
    answer = await buyer.post(
        "/change-requests/PO-2-CR1/decision",
        data={**csrf(buyer), "version": version, "verdict": "approve"},
        headers=EN,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/change-requests/PO-2-CR1?done=approved"
    shown = await buyer.get(answer.headers["location"], headers=EN)
    assert "Approved: the purchase order and the linked customer orders are updated." in shown.text
    assert (await world.cr("PO-2-CR1"))["status"] == "approved"
    po_events = await world.po_events("PO-2")
    assert po_events[-1].kind == "cr.approved"
    assert po_events[-1].actor["name"] == "Wang Fang"
    so_events = await world.so_events("SO-2")
    assert kinds(so_events) == [*so_before, FOLLOWS]
    assert moved(so_events, NEED + timedelta(days=2), NEED + timedelta(days=12))
    assert so_events[-1].data["cause"] == "change_approved"
    # The same version again: the request has moved on, nothing more happens.
    again = await buyer.post(
        "/change-requests/PO-2-CR1/decision",
        data={**csrf(buyer), "version": version, "verdict": "approve"},
        headers=EN,
    )
    assert again.status_code == 409
    assert "Changed by someone else" in again.text
    assert "The current version is 2." in again.text
    assert len(await world.so_events("SO-2")) == len(so_events)
    await buyer.aclose()


async def test_reject_needs_a_reason_and_touches_no_customer(world: World) -> None:
    await two_requests(world)
    buyer = await world.browser(BUYER_USER)
    so_before = kinds(await world.so_events("SO-1"))
    po_before = kinds(await world.po_events("PO-1"))
    url = "/change-requests/PO-1-CR1/decision"
    form = {**csrf(buyer), "version": "1", "verdict": "reject"}
    empty = await buyer.post(url, data=form, headers=HX)
    assert empty.status_code == 422
    assert "Say why you reject the change request." in empty.text
    assert "<html" not in empty.text
    assert kinds(await world.po_events("PO-1")) == po_before
    done = await buyer.post(url, data={**form, "comment": "We need them on time"}, headers=HX)
    assert done.status_code == 200
    assert "Rejected; the supplier is told why." in done.text
    po_events = await world.po_events("PO-1")
    assert kinds(po_events) == [*po_before, "cr.rejected"]
    assert po_events[-1].data["reason"] == "We need them on time"
    assert kinds(await world.so_events("SO-1")) == so_before
    await buyer.aclose()


async def test_counter_opens_a_new_round_and_touches_no_customer(world: World) -> None:
    await two_requests(world)
    buyer = await world.browser(BUYER_USER)
    so_before = kinds(await world.so_events("SO-2"))
    po_before = kinds(await world.po_events("PO-2"))
    url = "/change-requests/PO-2-CR1/decision"
    answer = await buyer.post(
        url,
        data={
            **csrf(buyer),
            "version": "1",
            "verdict": "counter",
            "cr-1-date": (NEED + timedelta(days=1)).isoformat(),
            "reason_code": "buyer_request",
            "comment": "One day at most",
        },
        headers=EN,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/change-requests/PO-2-CR2?done=countered"
    po_events = await world.po_events("PO-2")
    assert kinds(po_events) == [*po_before, "cr.countered", "cr.opened"]
    assert po_events[-1].data["changes"] == [
        {
            "kind": "date",
            "line_no": 1,
            "schedule": [{"date": (NEED + timedelta(days=1)).isoformat(), "quantity": "100"}],
        }
    ]
    assert kinds(await world.so_events("SO-2")) == so_before
    old, new = await world.cr("PO-2-CR1"), await world.cr("PO-2-CR2")
    assert old["status"] == "countered" and new["opened_by"] == "internal"
    # Now it waits for the supplier: in the queue's second section, with no checkbox.
    queue = (await buyer.get("/change-requests", headers=EN)).text
    assert queue.index("Awaiting the supplier") < queue.index('id="cr-PO-2-CR2"')
    assert 'value="PO-2-CR2"' not in queue
    await buyer.aclose()


async def test_bulk_approval_is_all_or_nothing(world: World) -> None:
    await two_requests(world)
    await world.accepted_po("PO-3")
    await world.customer_line("SO-3", "PO-3", 1, NEED + timedelta(days=9))
    await world.supplier_asks("PO-3", later(1))
    buyer = await world.browser(BUYER_USER)
    queue = (await buyer.get("/change-requests", headers=EN)).text
    assert 'id="bulk-approve"' in queue

    def picked(*numbers: str, stale: str = "") -> str:
        """The queue's form with these requests ticked (a stale version for `stale`)."""
        form = [("_csrf_token", buyer.cookies["__Host-csrftoken"])]
        for number in numbers:
            form += [("cr", number), (f"version-{number}", "9" if number == stale else "1")]
        return urlencode(form)

    before = {so: kinds(await world.so_events(so)) for so in ("SO-1", "SO-2", "SO-3")}
    url = "/change-requests/bulk-approval"
    form = {**EN, "Content-Type": "application/x-www-form-urlencoded"}
    refused = await buyer.post(
        url, content=picked("PO-1-CR1", "PO-2-CR1", "PO-3-CR1"), headers=form
    )
    assert refused.status_code == 422
    assert "PO-2-CR1" in refused.text and "one by one" in refused.text
    assert "Nothing was changed." in refused.text
    stale = await buyer.post(
        url, content=picked("PO-1-CR1", "PO-3-CR1", stale="PO-3-CR1"), headers=form
    )
    assert stale.status_code == 409
    for number in ("PO-1-CR1", "PO-2-CR1", "PO-3-CR1"):
        assert (await world.cr(number))["status"] == "open"
    for so, events in before.items():
        assert kinds(await world.so_events(so)) == events
    nothing = await buyer.post(url, content=picked(), headers=form)
    assert nothing.status_code == 422
    assert "Tick at least one change request to approve." in nothing.text

    done = await buyer.post(url, content=picked("PO-1-CR1", "PO-3-CR1"), headers=form)
    assert done.status_code == 303
    assert done.headers["location"] == "/change-requests?done=bulk"
    for number in ("PO-1-CR1", "PO-3-CR1"):
        assert (await world.cr(number))["status"] == "approved"
    assert (await world.cr("PO-2-CR1"))["status"] == "open"
    assert kinds(await world.po_events("PO-1"))[-1] == "cr.approved"
    assert moved(await world.so_events("SO-1"), NEED + timedelta(2), NEED + timedelta(4))
    assert moved(await world.so_events("SO-3"), NEED + timedelta(2), NEED + timedelta(3))
    assert kinds(await world.so_events("SO-2")) == before["SO-2"]
    await buyer.aclose()


async def test_bulk_approval_in_the_api(world: World) -> None:
    await two_requests(world)
    await world.accepted_po("PO-3")
    await world.supplier_asks("PO-3", LineChange(1, ChangeKind.QUANTITY, quantity=Decimal(90)))
    api = {**await world.bearer("home-buyer"), "Idempotency-Key": "bulk-1"}
    url = "/api/v1/change-requests/bulk-approval"
    mixed = {
        "change_requests": [
            {"number": "PO-1-CR1", "version": 1},
            {"number": "PO-2-CR1", "version": 1},
        ]
    }
    refused = await world.http.post(url, json=mixed, headers={**api, "Idempotency-Key": "b-0"})
    assert refused.status_code == 422, refused.text
    assert "PO-2-CR1" in refused.json()["detail"]
    stale = {
        "change_requests": [
            {"number": "PO-1-CR1", "version": 1},
            {"number": "PO-3-CR1", "version": 5},
        ]
    }
    conflict = await world.http.post(url, json=stale, headers={**api, "Idempotency-Key": "b-1"})
    assert conflict.status_code == 409, conflict.text
    assert {item["number"] for item in conflict.json()["current"]} == {"PO-1-CR1", "PO-3-CR1"}
    assert (await world.cr("PO-1-CR1"))["status"] == "open"
    good = {
        "change_requests": [
            {"number": "PO-1-CR1", "version": 1},
            {"number": "PO-3-CR1", "version": 1},
        ],
        "comment": "Fine",
    }
    done = await world.http.post(url, json=good, headers=api)
    assert done.status_code == 200, done.text
    assert [cr["status"] for cr in done.json()["approved"]] == ["approved", "approved"]
    replay = await world.http.post(url, json=good, headers=api)
    assert replay.status_code == 200 and replay.json() == done.json()
    assert kinds(await world.po_events("PO-1")).count("cr.approved") == 1
    supplier = {**await world.bearer("acme-erp"), "Idempotency-Key": "x"}
    turned_away = await world.http.post(url, json=good, headers=supplier)
    assert turned_away.status_code == 403


async def test_the_existing_decision_api_serves_buyers(world: World) -> None:
    await two_requests(world)
    api = {**await world.bearer("home-buyer"), "If-Match": '"1"'}
    read = await world.http.get("/api/v1/change-requests/PO-1-CR1", headers=api)
    assert read.status_code == 200 and read.headers["etag"] == '"1"'
    counter = await world.http.post(
        "/api/v1/change-requests/PO-1-CR1/decision",
        json={
            "verdict": "counter",
            "changes": [
                {
                    "line_no": 1,
                    "kind": "date",
                    "schedule": [{"quantity": "100", "date": (NEED + timedelta(1)).isoformat()}],
                }
            ],
            "reason_code": "buyer_request",
        },
        headers=api,
    )
    assert counter.status_code == 200, counter.text
    assert counter.json()["counter"]["number"] == "PO-1-CR2"
    approve = await world.http.post(
        "/api/v1/change-requests/PO-2-CR1/decision", json={"verdict": "approve"}, headers=api
    )
    assert approve.status_code == 200, approve.text
    assert moved(await world.so_events("SO-2"), NEED + timedelta(2), NEED + timedelta(12))


async def test_a_buyer_asks_the_supplier_for_a_change(world: World) -> None:
    await world.accepted_po("PO-1")
    await world.customer_line("SO-1", "PO-1", 1, NEED + timedelta(days=5))
    buyer = await world.browser(BUYER_USER)
    po_page = await buyer.get("/purchase-orders/PO-1", headers=EN)
    assert 'href="/purchase-orders/PO-1/change-requests/new"' in po_page.text
    url = "/purchase-orders/PO-1/change-requests/new"
    form = await buyer.get(url, headers=EN)
    assert form.status_code == 200
    version = version_in(form.text, url)
    bad = await buyer.post(
        url,
        data={**csrf(buyer), "version": version, "cr-1-price": "cheap", "reason_code": "other"},
        headers=EN,
    )
    assert bad.status_code == 422 and "is not a price" in bad.text
    opened = await buyer.post(
        url,
        data={
            **csrf(buyer),
            "version": version,
            "cr-1-date": (NEED - timedelta(days=3)).isoformat(),
            "reason_code": "buyer_request",
            "comment": "Our customer wants them sooner",
        },
        headers=EN,
    )
    assert opened.status_code == 303
    assert opened.headers["location"] == "/change-requests/PO-1-CR1?done=opened"
    cr = await world.cr("PO-1-CR1")
    assert cr["opened_by"] == "internal" and cr["opened_by_name"] == "Wang Fang"
    await buyer.aclose()

    # The supplier's own page answers it.
    supplier = await world.browser(ACME_USER)
    page = await supplier.get("/supplier/purchase-orders/PO-1", headers=EN)
    assert "PO-1-CR1" in page.text
    answered = await supplier.post(
        "/supplier/purchase-orders/PO-1/change-requests/PO-1-CR1/decision",
        data={**csrf(supplier), "version": "1", "verdict": "approve"},
        headers=EN,
    )
    assert answered.status_code == 303
    await supplier.aclose()
    assert (await world.cr("PO-1-CR1"))["status"] == "approved"
    assert moved(await world.so_events("SO-1"), NEED + timedelta(2), NEED - timedelta(1))
    # Opening one from the supplier's side through the buyer's URL is not possible.
    supplier = await world.browser(ACME_USER)
    assert (await supplier.get(url, headers=EN)).status_code == 403
    sent = await supplier.post(
        url,
        data={**csrf(supplier), "version": "9", "cr-1-price": "1", "reason_code": "other"},
        headers=EN,
    )
    assert sent.status_code == 404
    await supplier.aclose()
    assert await world.cr_count("PO-1") == 1


async def test_a_decision_through_the_service_shows_in_the_queue(world: World) -> None:
    await two_requests(world)
    await decide_change_request(
        world.uow(), ACME, DecideChangeRequest("PO-1-CR1", 1, Verdict.WITHDRAW)
    )
    buyer = await world.browser(BUYER_USER)
    queue = (await buyer.get("/change-requests", headers=EN)).text
    assert re.findall(r'<li id="cr-(PO-\d-CR\d)"', queue) == ["PO-2-CR1"]
    one = await buyer.get("/change-requests/PO-1-CR1", headers=EN)
    assert one.status_code == 200 and "Withdrawn" in one.text
    assert 'value="approve"' not in one.text
    await buyer.aclose()
