"""Our systems issue purchase orders and create sales orders through the API: 201 with
Location and ETag, an Idempotency-Key replayed without running twice, problems that name each
wrong field and change nothing, and only internal tokens with the right scope let in."""

from __future__ import annotations

from typing import Any

from internal_orders_support import API, NEED, World

from portal.db import tables as t


def po_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "supplier": "ACME",
        "currency": "CNY",
        "lines": [
            {
                "item": "BOLT-M8",
                "description": "Hex bolt M8",
                "quantity": "500",
                "unit": "pcs",
                "unit_price": "0.35",
                "need_date": NEED.isoformat(),
            },
            {
                "item": "NUT-M8",
                "quantity": "1000",
                "unit": "pcs",
                "unit_price": "0.08",
                "need_date": NEED.isoformat(),
            },
        ],
    }
    return {**body, **overrides}


async def test_issue_a_purchase_order_once_per_idempotency_key(world: World) -> None:
    async with world.api("home-buyer") as erp:
        key = {"Idempotency-Key": "issue-0001"}
        first = await erp.post(API + "/purchase-orders", json=po_body(), headers=key)
        assert first.status_code == 201, first.text
        made = first.json()
        number = made["number"]
        assert first.headers["location"] == f"{API}/purchase-orders/{number}"
        assert first.headers["etag"] == f'"{made["version"]}"'
        assert made["status"] == "issued"
        assert [line["item"] for line in made["lines"]] == ["BOLT-M8", "NUT-M8"]

        again = await erp.post(API + "/purchase-orders", json=po_body(), headers=key)
        assert again.status_code == 201
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == made

        other = await erp.post(API + "/purchase-orders", json=po_body(currency="USD"), headers=key)
        assert other.status_code == 422  # the key was used for another request

        read = await erp.get(first.headers["location"])
        assert read.status_code == 200 and read.json()["number"] == number

    assert await t.PurchaseOrder.count().run() == 1
    events = await world.po_events(number)
    assert [event.kind for event in events] == ["po.created", "po.issued"]
    for event in events:
        assert event.via.value == "api"
        assert event.actor["kind"] == "client" and event.actor["id"] == "home-buyer"


async def test_a_refused_purchase_order_names_its_fields_and_changes_nothing(
    world: World,
) -> None:
    before = await world.counts()
    async with world.api("home-buyer") as erp:
        bad_lines = po_body()
        bad_lines["lines"][0]["quantity"] = "0"
        bad_lines["lines"][1]["unit_price"] = "-2"
        refused = await erp.post(API + "/purchase-orders", json=bad_lines)
        assert refused.status_code == 422
        problem = refused.json()
        assert refused.headers["content-type"].startswith("application/problem+json")
        fields = {error["field"] for error in problem["errors"]}
        assert fields == {"lines[0].quantity", "lines[1].unit_price"}

        unknown = await erp.post(API + "/purchase-orders", json=po_body(supplier="CUST"))
        assert unknown.status_code == 422
        assert "is not a supplier known to the portal" in unknown.json()["detail"]

        shape = await erp.post(API + "/purchase-orders", json=po_body(lines=[]))
        assert shape.status_code == 422
    assert await world.counts() == before


async def test_create_a_sales_order_through_the_api(world: World) -> None:
    body = {
        "customer": "CUST",
        "currency": "CNY",
        "contact_phone": "+86 21 5555 0000",
        "number": "SO-API-1",
        "lines": [
            {
                "item": "BOLT-M8",
                "quantity": "40",
                "unit": "pcs",
                "unit_price": "0.80",
                "requested_date": NEED.isoformat(),
            }
        ],
    }
    async with world.api("home-sales") as erp:
        made = await erp.post(API + "/sales-orders", json=body, headers={"Idempotency-Key": "so-1"})
        assert made.status_code == 201, made.text
        assert made.headers["location"] == f"{API}/sales-orders/SO-API-1"
        order = made.json()
        assert order["lines"][0]["expected_date"] == NEED.isoformat()
        assert order["lines"][0]["po_number"] is None
        read = await erp.get(made.headers["location"])
        assert read.status_code == 200
        assert read.headers["etag"] == made.headers["etag"]

        nobody = await erp.post(API + "/sales-orders", json={**body, "contact_phone": ""})
        assert nobody.status_code == 422  # no contact to reach the customer
    events = await world.so_events("SO-API-1")
    assert [event.kind for event in events] == ["so.created"]
    assert events[0].via.value == "api"


async def test_suppliers_customers_and_the_wrong_role_are_turned_away(world: World) -> None:
    await world.issue("PO-1")
    await world.sales_order("SO-1")
    before = await world.counts()
    async with world.api("acme-erp") as supplier:
        assert (await supplier.post(API + "/purchase-orders", json=po_body())).status_code == 403
        assert (await supplier.get(API + "/sales-orders/SO-1")).status_code == 403
        lines = await supplier.get(API + "/purchase-order-lines?item=BOLT-M8")
        assert lines.status_code == 403
    async with world.api("cust-erp") as customer:
        assert (await customer.post(API + "/sales-orders", json={})).status_code == 403
        link = await customer.put(
            API + "/sales-orders/SO-1/lines/1/link", json={"po_number": "PO-1", "po_line_no": 1}
        )
        assert link.status_code == 403
    async with world.api("home-sales") as sales:
        # Sales staff hold order:write, not po:write.
        assert (await sales.post(API + "/purchase-orders", json=po_body())).status_code == 403
    assert await world.counts() == before
