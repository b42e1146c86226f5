"""Reading through the API: the feed of purchase orders (cursor pages, `updated_since`, status),
one order with its ETag, its timeline, change requests and shipments; each confined to the
caller's organisation, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from api_support import API, TODAY, World, later, problem


async def test_the_feed_pages_by_cursor_and_polls_by_updated_since(world: World) -> None:
    for n in range(1, 6):
        await world.issue(f"PO-A{n}")
    await world.issue("PO-B1", supplier="BOLT")
    acme = await world.caller("acme-erp")

    first = await acme.get("/purchase-orders?limit=2")
    assert first.status_code == 200, first.text
    page = first.json()
    assert [item["number"] for item in page["items"]] == ["PO-A1", "PO-A2"]
    assert first.headers["link"] == f'<{page["next"]}>; rel="next"'
    assert parse_qs(urlsplit(page["next"]).query) == {
        "limit": ["2"],
        "cursor": [page["next_cursor"]],
    }
    seen = [item["number"] for item in page["items"]]
    while page["next"]:
        answer = await acme.http.get(page["next"], headers=acme.headers(None))
        page = answer.json()
        seen += [item["number"] for item in page["items"]]
    assert seen == [f"PO-A{n}" for n in range(1, 6)]
    assert page["next_cursor"] is None and "link" not in answer.headers

    # An ERP remembers the latest change it saw, and asks only for what changed since.
    last_seen = max(item["updated_at"] for item in first.json()["items"])
    version = await world.version("PO-A1")
    changed = await acme.post(
        "/purchase-orders/PO-A1/acknowledgement", {"decision": "accept", "version": version}
    )
    assert changed.status_code == 200, changed.text
    since = (await acme.get(f"/purchase-orders?updated_since={later_than(last_seen)}")).json()
    assert [item["number"] for item in since["items"]][-1] == "PO-A1"
    assert "PO-A2" not in [item["number"] for item in since["items"]]
    newest = since["items"][-1]
    assert (newest["status"], newest["version"]) == ("acknowledged", version + 1)

    accepted = (await acme.get("/purchase-orders?status=acknowledged")).json()
    assert [item["number"] for item in accepted["items"]] == ["PO-A1"]
    both = (await acme.get("/purchase-orders?status=acknowledged,issued&limit=200")).json()
    assert len(both["items"]) == 5

    # Internal staff read every supplier's orders.
    buyer = await world.caller("home-buyer")
    everything = (await buyer.get("/purchase-orders?limit=200")).json()
    assert {item["number"] for item in everything["items"]} == {
        *(f"PO-A{n}" for n in range(1, 6)),
        "PO-B1",
    }


def later_than(moment: str) -> str:
    """A moment just after `moment`, as a client would send it back (with its offset)."""
    parsed = datetime.fromisoformat(moment) + timedelta(microseconds=1)
    return parsed.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def test_bad_feed_parameters_are_refused_with_what_is_wrong(world: World) -> None:
    acme = await world.caller("acme-erp")
    wrong = problem(await acme.get("/purchase-orders?status=lost&updated_since=yesterday"), 422)
    assert {error["field"] for error in wrong["errors"]} == {"status", "updated_since"}
    assert "lost" in wrong["detail"] or "lost" in str(wrong["errors"])
    naive = problem(await acme.get("/purchase-orders?updated_since=2026-03-02T09:30:00"), 422)
    assert naive["errors"][0]["field"] == "updated_since"
    problem(await acme.get("/purchase-orders?cursor=not-a-cursor"), 422)
    too_many = problem(await acme.get("/purchase-orders?limit=1000"), 422)
    assert too_many["errors"][0]["field"] == "limit"


async def test_one_order_with_its_etag_and_conditional_reads(world: World) -> None:
    version = await world.accepted("PO-1", quantities=(100, 50))
    acme = await world.caller("acme-erp")

    answer = await acme.get("/purchase-orders/PO-1")
    assert answer.status_code == 200, answer.text
    assert answer.headers["etag"] == f'"{version}"'
    assert answer.headers["content-type"] == "application/json"
    assert "Authorization" in answer.headers["vary"]
    assert "set-cookie" not in answer.headers
    order = answer.json()
    assert (order["number"], order["status"], order["version"]) == ("PO-1", "acknowledged", version)
    assert [(line["line_no"], line["quantity"]) for line in order["lines"]] == [
        (1, "100"),
        (2, "50"),
    ]
    assert order["lines"][0]["promise"] == [{"quantity": "100", "date": later(0)}]
    assert order["change_requests"] == [] and order["shipments"] == []

    unchanged = await acme.get("/purchase-orders/PO-1", {"If-None-Match": f'"{version}"'})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == f'"{version}"'
    stale = await acme.get("/purchase-orders/PO-1", {"If-None-Match": f'"{version - 1}"'})
    assert stale.status_code == 200


async def test_another_suppliers_order_does_not_exist_for_the_caller(world: World) -> None:
    await world.accepted("PO-B1", supplier="BOLT")
    acme = await world.caller("acme-erp")
    for path in (
        "/purchase-orders/PO-B1",
        "/purchase-orders/PO-B1/timeline",
        "/purchase-orders/PO-B1/shipments/ASN-1",
    ):
        assert (await acme.get(path)).status_code == 404
        assert (await acme.get(path.replace("PO-B1", "PO-NONE"))).status_code == 404
    writes = [
        ("POST", "/purchase-orders/PO-B1/acknowledgement", {"decision": "accept"}),
        (
            "PUT",
            "/purchase-orders/PO-B1/lines/1/promise",
            {"date": later(1), "reason_code": "capacity"},
        ),
        (
            "POST",
            "/purchase-orders/PO-B1/shipments",
            {
                "ship_date": TODAY.isoformat(),
                "carrier": "SF",
                "lines": [{"line_no": 1, "quantity": "1"}],
            },
        ),
    ]
    for method, path, body in writes:
        answer = await acme.http.request(
            method, API + path, json={**body, "version": 2}, headers=acme.headers(None)
        )
        assert problem(answer, 404)["detail"] == "Purchase order PO-B1 was not found."
    listed = (await acme.get("/purchase-orders")).json()
    assert listed["items"] == []
    assert (await world.version("PO-B1")) == 2
    assert [event.kind for event in await world.events("PO-B1")] == [
        "po.created",
        "po.issued",
        "po.acknowledged",
    ]


async def test_the_timeline_shows_what_the_caller_may_see(world: World) -> None:
    await world.accepted("PO-1")
    acme = await world.caller("acme-erp")
    seen = (await acme.get("/purchase-orders/PO-1/timeline")).json()
    assert seen["po_number"] == "PO-1"
    # How the order was drafted inside our company is not the supplier's business.
    assert [event["kind"] for event in seen["events"]] == ["po.issued", "po.acknowledged"]
    issued = seen["events"][0]
    assert issued["actor"] == {
        "kind": "user",
        "name": "Wang Fang",
        "side": "internal",
        "org": "HOME",
    }
    assert issued["via"] == "web" and issued["seq"] == 2
    assert issued["data"]["lines"][0]["quantity"] == "100"

    later_only = (await acme.get("/purchase-orders/PO-1/timeline?after=2")).json()
    assert [event["kind"] for event in later_only["events"]] == ["po.acknowledged"]

    sales = await world.caller("home-sales")
    everything = (await sales.get("/purchase-orders/PO-1/timeline")).json()
    assert [event["kind"] for event in everything["events"]] == [
        "po.created",
        "po.issued",
        "po.acknowledged",
    ]


async def test_a_token_without_the_scope_is_refused(world: World) -> None:
    version = await world.accepted("PO-1")
    reader = await world.caller("acme-reader")
    assert (await reader.get("/purchase-orders/PO-1")).status_code == 200
    refused = await reader.post(
        "/purchase-orders/PO-1/shipments",
        {"version": version, "ship_date": TODAY.isoformat(), "carrier": "SF", "lines": []},
    )
    assert problem(refused, 403)["detail"] == "This needs the scope po:ship."
    anonymous = await reader.http.get(API + "/purchase-orders")
    assert problem(anonymous, 401)
    assert (await world.version("PO-1")) == version


async def test_the_openapi_document_describes_the_api(world: World) -> None:
    document = (await world.http.get("/schema/openapi.json")).json()
    paths = document["paths"]
    promise = paths[API + "/purchase-orders/{number}/lines/{line_no}/promise"]["put"]
    assert promise["security"] == [{"oauth2": ["po:promise"]}]
    body = promise["requestBody"]["content"]["application/json"]
    assert body["schema"]["examples"][0]["reason_code"] == "logistics"
    assert {"200", "202", "409", "422", "428"} <= promise["responses"].keys()
    stale = promise["responses"]["409"]["content"]["application/problem+json"]
    assert stale["schema"] == {"$ref": "#/components/schemas/ProblemDetails"}
    listing = paths[API + "/purchase-orders"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {
        "status",
        "updated_since",
        "cursor",
        "limit",
    }
    posting = paths[API + "/purchase-orders/{number}/shipments"]["post"]
    headers = {p["name"] for p in posting["parameters"] if p["in"] == "header"}
    assert headers == {"If-Match", "Idempotency-Key"}
    reading = paths[API + "/purchase-orders/{number}"]["get"]
    assert [p["name"] for p in reading["parameters"] if p["in"] == "header"] == ["If-None-Match"]
    shipment = document["components"]["schemas"]["NewShipment"]
    assert shipment["properties"]["lines"]["items"] == {"$ref": "#/components/schemas/ShipmentLine"}
