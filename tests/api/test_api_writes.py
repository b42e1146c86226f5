"""Every write of the API, as a supplier's ERP (or our buyer's system) makes it: what the order
is afterwards, and who the timeline says did it (the OAuth client, through the API), when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from api_support import API, TODAY, Caller, World, between, by_api, later, problem, token


def now() -> datetime:
    return datetime.now(UTC)


async def test_accepting_an_order(world: World) -> None:
    version = await world.issue("PO-1", quantities=(100, 40))
    acme = await world.caller("acme-erp")
    before = now()
    answer = await acme.post(
        "/purchase-orders/PO-1/acknowledgement", {"decision": "accept", "version": version}
    )
    after = now()
    assert answer.status_code == 200, answer.text
    order = answer.json()["purchase_order"]
    assert (order["status"], order["version"]) == ("acknowledged", version + 1)
    assert answer.json()["change_request"] is None
    assert [line["promise"] for line in order["lines"]] == [
        [{"quantity": "100", "date": later(0)}],
        [{"quantity": "40", "date": later(0)}],
    ]
    assert await world.version("PO-1") == version + 1
    event = (await world.events("PO-1"))[-1]
    assert event.kind == "po.acknowledged" and by_api(event, "acme-erp")
    assert event.data["decision"] == "accepted"
    assert between(event.at, before, after)


async def test_rejecting_an_order_needs_a_reason(world: World) -> None:
    version = await world.issue("PO-1")
    acme = await world.caller("acme-erp")
    silent = await acme.post(
        "/purchase-orders/PO-1/acknowledgement", {"decision": "reject", "version": version}
    )
    assert problem(silent, 422)["errors"] == [
        {"field": "reason", "message": "this is required here."}
    ]
    assert await world.version("PO-1") == version
    answer = await acme.post(
        "/purchase-orders/PO-1/acknowledgement",
        {"decision": "reject", "version": version, "reason": "Item discontinued"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["purchase_order"]["status"] == "rejected"
    event = (await world.events("PO-1"))[-1]
    assert (event.kind, event.data["reason"]) == ("po.rejected", "Item discontinued")
    assert by_api(event, "acme-erp")


async def test_answering_line_by_line_opens_one_change_request(world: World) -> None:
    version = await world.issue("PO-1", quantities=(100, 40, 10))
    acme = await world.caller("acme-erp")
    before = now()
    answer = await acme.post(
        "/purchase-orders/PO-1/acknowledgement",
        {
            "decision": "per_line",
            "version": version,
            "lines": [
                {
                    "line_no": 1,
                    "answer": "change",
                    "schedule": [
                        {"quantity": "60", "date": later(0)},
                        {"quantity": "40", "date": later(14)},
                    ],
                },
                {"line_no": 2, "answer": "reject"},
            ],
            "reason_code": "capacity",
            "comment": "Second half after the new line starts",
        },
    )
    after = now()
    assert answer.status_code == 200, answer.text
    order, cr = answer.json()["purchase_order"], answer.json()["change_request"]
    assert order["status"] == "changes_proposed"
    assert (cr["status"], cr["opened_by"], cr["opened_by_name"]) == ("open", "supplier", "acme-erp")
    assert cr["from_acknowledgement"] is True and cr["reason_code"] == "capacity"
    assert cr["changes"] == [
        {
            "line_no": 1,
            "kind": "date",
            "schedule": [
                {"quantity": "60", "date": later(0)},
                {"quantity": "40", "date": later(14)},
            ],
        },
        {"line_no": 2, "kind": "cancel"},
    ]
    due = datetime.fromisoformat(cr["due_at"])
    assert due - datetime.fromisoformat(cr["created_at"]) == timedelta(hours=24)
    # The line not answered is accepted as ordered.
    assert order["lines"][2]["promise"] == [{"quantity": "10", "date": later(0)}]
    kinds = [
        (e.kind, by_api(e, "acme-erp"), between(e.at, before, after))
        for e in await world.events("PO-1")
    ]
    assert kinds[-2:] == [("po.acknowledged", True, True), ("cr.opened", True, True)]


async def test_a_promise_within_the_rules_applies_at_once(world: World) -> None:
    version = await world.accepted("PO-1")
    acme = await world.caller("acme-erp")
    before = now()
    answer = await acme.put(
        "/purchase-orders/PO-1/lines/1/promise",
        {"date": later(2), "reason_code": "logistics", "comment": "Truck", "version": version},
    )
    after = now()
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["outcome"] == "applied" and body["change_request"] is None
    assert answer.headers["etag"] == f'"{version + 1}"'
    assert body["purchase_order"]["lines"][0]["promised_date"] == later(2)
    assert (await world.lines("PO-1"))[1]["promised_date"].isoformat() == later(2)
    event = (await world.events("PO-1"))[-1]
    assert (event.kind, event.data["reason_code"], event.data["comment"]) == (
        "line.promise_changed",
        "logistics",
        "Truck",
    )
    assert event.data["after"] == [{"quantity": "100", "date": later(2)}]
    assert by_api(event, "acme-erp") and between(event.at, before, after)


async def test_a_promise_beyond_the_rules_becomes_a_change_request(world: World) -> None:
    version = await world.accepted("PO-1")
    acme = await world.caller("acme-erp")
    answer = await acme.put(
        "/purchase-orders/PO-1/lines/1/promise",
        {
            "schedule": [
                {"quantity": "50", "date": later(0)},
                {"quantity": "50", "date": later(20)},
            ],
            "reason_code": "material_shortage",
        },
        {"If-Match": f'"{version}"'},
    )
    assert answer.status_code == 202, answer.text
    body = answer.json()
    cr = body["change_request"]
    assert body["outcome"] == "change_request_opened" and cr["status"] == "open"
    assert answer.headers["location"] == f"{API}/change-requests/{cr['number']}"
    assert body["purchase_order"]["lines"][0]["promised_date"] == later(0)
    read = await acme.http.get(answer.headers["location"], headers=acme.headers(None))
    assert read.json() == cr and read.headers["etag"] == f'"{cr["version"]}"'
    event = (await world.events("PO-1"))[-1]
    assert event.kind == "cr.opened" and by_api(event, "acme-erp")
    assert (await world.lines("PO-1"))[1]["promised_date"].isoformat() == later(0)


async def test_many_promises_at_once_all_or_nothing(world: World) -> None:
    v1 = await world.accepted("PO-1")
    v2 = await world.accepted("PO-2", quantities=(100, 30))
    issued = await world.issue("PO-3")
    acme = await world.caller("acme-erp")
    update = {"po_number": "PO-1", "line_no": 1, "date": later(1), "reason_code": "logistics"}

    # Nothing moves when one of the updates cannot be made: here, an order not acknowledged.
    refused = await acme.post(
        "/promise-updates",
        {
            "versions": {"PO-1": v1, "PO-3": issued},
            "updates": [update, {**update, "po_number": "PO-3"}],
        },
    )
    assert "PO-3" in problem(refused, 422)["detail"]
    assert (await world.version("PO-1"), await world.version("PO-3")) == (v1, issued)
    # Nor when a version is missing for one of the orders.
    unversioned = await acme.post(
        "/promise-updates",
        {"versions": {"PO-1": v1}, "updates": [update, {**update, "po_number": "PO-2"}]},
    )
    assert problem(unversioned, 428)["type"] == "urn:portal:problem:version-required"

    before = now()
    answer = await acme.post(
        "/promise-updates",
        {
            "versions": {"PO-1": v1, "PO-2": v2},
            "updates": [
                update,
                {"po_number": "PO-2", "line_no": 2, "date": later(30), "reason_code": "capacity"},
            ],
        },
    )
    after = now()
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["applied"] == [{"po_number": "PO-1", "line_no": 1}]
    (cr,) = body["change_requests"]
    assert cr["po_number"] == "PO-2" and cr["changes"][0]["line_no"] == 2
    assert [order["version"] for order in body["purchase_orders"]] == [v1 + 1, v2 + 1]
    moved = (await world.events("PO-1"))[-1]
    opened = (await world.events("PO-2"))[-1]
    assert (moved.kind, opened.kind) == ("line.promise_changed", "cr.opened")
    assert all(by_api(e, "acme-erp") and between(e.at, before, after) for e in (moved, opened))

    # Whole orders move by some days: every open promised line, as one update.
    shifted = await acme.post(
        "/promise-updates",
        {
            "versions": {"PO-1": v1 + 1},
            "po_numbers": ["PO-1"],
            "shift_days": 2,
            "reason_code": "logistics",
            "comment": "Port congestion",
        },
    )
    assert shifted.status_code == 200, shifted.text
    assert shifted.json()["applied"] == [{"po_number": "PO-1", "line_no": 1}]
    assert (await world.lines("PO-1"))[1]["promised_date"].isoformat() == later(3)
    event = (await world.events("PO-1"))[-1]
    assert event.data["comment"] == "Port congestion" and by_api(event, "acme-erp")


async def test_change_requests_through_rounds(world: World) -> None:
    version = await world.accepted("PO-1", quantities=(100, 20))
    acme = await world.caller("acme-erp")
    buyer = await world.caller("home-buyer")

    opened = await acme.post(
        "/purchase-orders/PO-1/change-requests",
        {
            "version": version,
            "changes": [{"line_no": 1, "kind": "price", "unit_price": "0.40"}],
            "reason_code": "other",
            "comment": "Steel went up",
        },
    )
    assert opened.status_code == 201, opened.text
    cr = opened.json()["change_request"]
    assert opened.headers["location"] == f"{API}/change-requests/{cr['number']}"
    assert (cr["status"], cr["round"], cr["changes"]) == (
        "open",
        1,
        [{"line_no": 1, "kind": "price", "unit_price": "0.4"}],
    )
    assert datetime.fromisoformat(cr["due_at"]) - datetime.fromisoformat(cr["created_at"]) == (
        timedelta(hours=24)
    )

    # Our buyer counters; the supplier accepts the counter proposal.
    countered = await buyer.post(
        f"/change-requests/{cr['number']}/decision",
        {
            "verdict": "counter",
            "version": cr["version"],
            "changes": [{"line_no": 1, "kind": "price", "unit_price": "0.38"}],
            "reason_code": "buyer_request",
            "comment": "Meet halfway",
        },
    )
    assert countered.status_code == 200, countered.text
    counter = countered.json()["counter"]
    assert countered.json()["change_request"]["status"] == "countered"
    assert (counter["round"], counter["supersedes"], counter["opened_by"]) == (
        2,
        cr["number"],
        "internal",
    )
    approved = await acme.post(
        f"/change-requests/{counter['number']}/decision",
        {"verdict": "approve"},
        {"If-Match": f'"{counter["version"]}"'},
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["change_request"]["status"] == "approved"
    assert approved.json()["purchase_order"]["lines"][0]["unit_price"] == "0.38"
    events = (await world.events("PO-1"))[-4:]
    assert [(e.kind, e.actor["id"], e.via.value) for e in events] == [
        ("cr.opened", "acme-erp", "api"),
        ("cr.countered", "home-buyer", "api"),
        ("cr.opened", "home-buyer", "api"),
        ("cr.approved", "acme-erp", "api"),
    ]

    # A supplier withdraws its own; a buyer's token without cr:review cannot approve.
    version = await world.version("PO-1")
    own = (
        await acme.post(
            "/purchase-orders/PO-1/change-requests",
            {
                "version": version,
                "changes": [{"line_no": 2, "kind": "cancel"}],
                "reason_code": "other",
            },
        )
    ).json()["change_request"]
    narrow = Caller(world.http, await token(world.http, "home-buyer", "po:read cr:write"))
    refused = await narrow.post(
        f"/change-requests/{own['number']}/decision", {"verdict": "approve", "version": 1}
    )
    assert problem(refused, 403)["detail"] == "This needs the scope cr:review."
    withdrawn = await acme.post(
        f"/change-requests/{own['number']}/decision",
        {"verdict": "withdraw", "version": own["version"], "comment": "Solved"},
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["change_request"]["status"] == "withdrawn"
    event = (await world.events("PO-1"))[-1]
    assert (event.kind, event.data["comment"]) == ("cr.withdrawn", "Solved")
    assert by_api(event, "acme-erp")
    # Another supplier cannot even find it.
    bolt = await world.caller("bolt-erp")
    assert (await bolt.get(f"/change-requests/{own['number']}")).status_code == 404


async def test_shipments_are_posted_corrected_and_cancelled(world: World) -> None:
    version = await world.accepted("PO-1", quantities=(100, 40))
    acme = await world.caller("acme-erp")
    before = now()
    posted = await acme.post(
        "/purchase-orders/PO-1/shipments",
        {
            "version": version,
            "ship_date": TODAY.isoformat(),
            "carrier": "SF Express",
            "tracking_no": "SF1234567890",
            "expected_arrival": (TODAY + timedelta(days=2)).isoformat(),
            "lines": [{"line_no": 1, "quantity": "60"}],
        },
    )
    after = now()
    assert posted.status_code == 201, posted.text
    shipment = posted.json()["shipment"]
    number = shipment["number"]
    assert number.startswith("ASN-")
    assert posted.headers["location"] == f"{API}/purchase-orders/PO-1/shipments/{number}"
    assert (shipment["status"], shipment["lines"]) == (
        "posted",
        [{"line_no": 1, "quantity": "60"}],
    )
    order = posted.json()["purchase_order"]
    assert order["status"] == "partially_shipped" and order["lines"][0]["shipped_qty"] == "60"
    read = await acme.http.get(posted.headers["location"], headers=acme.headers(None))
    assert read.json() == shipment and read.headers["etag"] == f'"{order["version"]}"'
    event = (await world.events("PO-1"))[-1]
    assert event.kind == "shipment.posted" and by_api(event, "acme-erp")
    assert between(event.at, before, after)
    assert event.data["shipment"]["tracking_no"] == "SF1234567890"

    corrected = await acme.put(
        f"/purchase-orders/PO-1/shipments/{number}",
        {
            "version": order["version"],
            "reason": "Two cartons left behind",
            "ship_date": TODAY.isoformat(),
            "carrier": "SF Express",
            "tracking_no": "SF1234567890",
            "lines": [{"line_no": 1, "quantity": "50"}],
        },
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["shipment"]["lines"] == [{"line_no": 1, "quantity": "50"}]
    assert (await world.lines("PO-1"))[1]["shipped_qty"] == Decimal(50)
    event = (await world.events("PO-1"))[-1]
    assert (event.kind, event.data["reason"]) == ("shipment.corrected", "Two cartons left behind")
    assert by_api(event, "acme-erp")

    cancelled = await acme.post(
        f"/purchase-orders/PO-1/shipments/{number}/cancellation",
        {"reason": "Posted twice"},
        {"If-Match": f'"{corrected.json()["purchase_order"]["version"]}"'},
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["shipment"]["status"] == "cancelled"
    assert cancelled.json()["purchase_order"]["status"] == "acknowledged"
    assert (await world.lines("PO-1"))[1]["shipped_qty"] == 0
    event = (await world.events("PO-1"))[-1]
    assert (event.kind, event.data["reason"]) == ("shipment.cancelled", "Posted twice")
    assert by_api(event, "acme-erp")
