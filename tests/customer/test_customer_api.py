"""The customer API (/api/v1/orders) as a customer's system uses it, on SQLite and PostgreSQL:
the feed by cursor, one order with its ETag, the customer's part of the timeline, and another
customer's orders that do not exist for the caller."""

from __future__ import annotations

import json
from datetime import date

from customer_support import (
    SALES_ACTOR,
    SECRETS,
    bearer,
    comment,
    portal,
    sales_line,
    ship,
    supplier_acknowledges,
    supplier_moves_promise,
    tell_the_story,
    uow,
)

from portal.db.database import Database
from portal.services.sales_orders import CreateSalesOrder, create_sales_order


async def test_an_order_with_its_expected_dates_moves_and_etag(
    db: Database, database_url: str
) -> None:
    await tell_the_story(db)
    async with portal(database_url, as_user=None) as client:
        auth = await bearer(client, "contoso-erp", "CUST")
        first = await client.get("/api/v1/orders/SO-1", headers=auth)
        assert first.status_code == 200, first.text
        etag = first.headers["etag"]
        unchanged = await client.get("/api/v1/orders/SO-1", headers={**auth, "If-None-Match": etag})
        await supplier_acknowledges(client.db)
        await supplier_moves_promise(client.db, date(2027, 1, 20))
        moved = await client.get("/api/v1/orders/SO-1", headers={**auth, "If-None-Match": etag})

    assert unchanged.status_code == 304
    assert moved.status_code == 200 and moved.headers["etag"] != etag
    body = moved.json()
    assert body["number"] == "SO-1" and body["status"] == "open" and body["late"] is True
    [line] = body["lines"]
    assert line["item"] == "BOLT-M8"
    assert (line["requested_date"], line["first_expected_date"], line["expected_date"]) == (
        "2027-01-15",
        "2027-01-15",
        "2027-01-22",
    )
    assert line["moved_days"] == 7 and line["late"] is True
    assert line["shipped_quantity"] == "0"
    for secret in SECRETS:
        assert secret not in moved.text


async def test_the_timeline_holds_the_customers_events_only(
    db: Database, database_url: str
) -> None:
    await tell_the_story(db)
    await supplier_acknowledges(db)
    await supplier_moves_promise(db, date(2027, 1, 20))
    await comment(db, "SO-1", "Packed and ready.")
    await comment(db, "SO-1", "Margin is thin", internal_only=True)
    await ship(db, "SO-1", "SF Express", "SF1234567890")
    async with portal(database_url, as_user=None) as client:
        auth = await bearer(client, "contoso-erp", "CUST")
        answer = await client.get("/api/v1/orders/SO-1/timeline", headers=auth)
        later = await client.get("/api/v1/orders/SO-1/timeline?after=4", headers=auth)
        order = (await client.get("/api/v1/orders/SO-1", headers=auth)).json()

    assert answer.status_code == 200
    events = answer.json()["events"]
    assert [event["kind"] for event in events] == [
        "so.created",
        "line.expected_date_changed",  # linked
        "line.confirmed",
        "line.expected_date_changed",  # the promise moved
        "comment.added",
        "so.shipped",
    ]
    moved = events[3]["data"]
    assert moved == {
        "line_no": 1,
        "before": "2027-01-13",
        "after": "2027-01-22",
        "cause": "promise_changed",
    }
    assert events[4]["by"] == "Chen Jing" and events[3]["by"] == ""
    assert events[5]["data"]["tracking_no"] == "SF1234567890"
    assert all(event["seq"] > 4 for event in later.json()["events"])
    assert "line.linked" not in answer.text and "Margin is thin" not in answer.text
    for secret in SECRETS:
        assert secret not in json.dumps(events)
    assert order["carrier"] == "SF Express" and order["tracking_no"] == "SF1234567890"
    assert order["status"] == "shipped" and order["lines"][0]["shipped_quantity"] == "100"


async def test_the_list_pages_by_cursor(db: Database, database_url: str) -> None:
    await tell_the_story(db)
    for n in range(3):
        await create_sales_order(
            uow(db),
            SALES_ACTOR,
            CreateSalesOrder(
                "CUST", "CNY", [sales_line(1, "PIN-2", 5)], contact_email="x@y.z", number=f"SO-P{n}"
            ),
        )
    async with portal(database_url, as_user=None) as client:
        auth = await bearer(client, "contoso-erp", "CUST")
        seen: list[str] = []
        url = "/api/v1/orders?limit=2"
        pages = 0
        while url:
            answer = await client.get(url, headers=auth)
            assert answer.status_code == 200, answer.text
            page = answer.json()
            seen += [item["number"] for item in page["items"]]
            assert (page["next"] is None) == ("link" not in answer.headers)
            url = page["next"]
            pages += 1
        shipped = await client.get("/api/v1/orders?status=shipped", headers=auth)
        bad_status = await client.get("/api/v1/orders?status=lost", headers=auth)
        bad_cursor = await client.get("/api/v1/orders?cursor=nonsense", headers=auth)
    assert pages == 3
    assert sorted(seen) == ["SO-1", "SO-2", "SO-P0", "SO-P1", "SO-P2"]
    assert len(seen) == len(set(seen))
    assert shipped.json()["items"] == []
    assert bad_status.status_code == 422
    assert bad_cursor.status_code == 422
    assert bad_cursor.headers["content-type"].startswith("application/problem+json")


async def test_another_customers_orders_do_not_exist(db: Database, database_url: str) -> None:
    await tell_the_story(db)
    async with portal(database_url, as_user=None) as client:
        auth = await bearer(client, "fabrikam-erp", "OTHER")
        listed = (await client.get("/api/v1/orders", headers=auth)).json()
        answers = [
            await client.get(path, headers=auth)
            for path in (
                "/api/v1/orders/SO-1",
                "/api/v1/orders/SO-1/timeline",
                "/api/v1/orders/NO-SUCH",
            )
        ]
        anonymous = await client.get("/api/v1/orders")
    assert [item["number"] for item in listed["items"]] == ["SO-9"]
    for answer in answers:
        assert answer.status_code == 404
        assert "BOLT-M8" not in answer.text
    assert anonymous.status_code == 401


async def test_the_api_is_described_with_examples(db: Database, database_url: str) -> None:
    await tell_the_story(db)
    async with portal(database_url, as_user=None) as client:
        schema = (await client.get("/schema/openapi.json")).json()
    paths = schema["paths"]
    for path in ("/api/v1/orders", "/api/v1/orders/{number}", "/api/v1/orders/{number}/timeline"):
        operation = paths[path]["get"]
        assert operation["security"] == [{"oauth2": ["order:read"]}]
        assert "200" in operation["responses"] and "404" in operation["responses"]
    text = json.dumps(schema["components"]["schemas"])
    assert "SF1234567890" in text and "line.expected_date_changed" in text
