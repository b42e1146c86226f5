"""The API's conventions: versions on every write (428 without, 409 with the current record when
stale), Idempotency-Key replays, and bad input refused with a clear problem that names the
field, in the caller's language, changing nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from api_support import TODAY, Caller, World, later, problem

from portal.db import tables as t


def shipment(version: int | None = None, quantity: str = "10") -> dict[str, Any]:
    body: dict[str, Any] = {
        "ship_date": TODAY.isoformat(),
        "carrier": "SF Express",
        "lines": [{"line_no": 1, "quantity": quantity}],
    }
    if version is not None:
        body["version"] = version
    return body


async def shipments_of(number: str) -> list[str]:
    rows = await t.Shipment.select(t.Shipment.number).where(t.Shipment.po.number == number).run()
    return sorted(row["number"] for row in rows)


async def test_a_write_needs_the_version_it_is_based_on(world: World) -> None:
    version = await world.issue("PO-1")
    acme = await world.caller("acme-erp")
    path = "/purchase-orders/PO-1/acknowledgement"

    blind = problem(await acme.post(path, {"decision": "accept"}), 428)
    assert blind["type"] == "urn:portal:problem:version-required"
    assert blind["detail"] == 'Send the version you read, as If-Match: "3" or a "version" field.'
    malformed = problem(await acme.post(path, {"decision": "accept"}, {"If-Match": "2"}), 400)
    assert malformed["errors"][0]["field"] == "If-Match"
    disagree = await acme.post(path, {"decision": "accept", "version": 1}, {"If-Match": '"2"'})
    assert problem(disagree, 422)["errors"][0]["field"] == "version"
    assert await world.version("PO-1") == version
    assert [event.kind for event in await world.events("PO-1")] == ["po.created", "po.issued"]

    answer = await acme.post(path, {"decision": "accept"}, {"If-Match": f'"{version}"'})
    assert answer.status_code == 200, answer.text


async def test_a_stale_write_gets_the_current_record(world: World) -> None:
    version = await world.accepted("PO-1")
    acme = await world.caller("acme-erp")
    moved = await acme.put(
        "/purchase-orders/PO-1/lines/1/promise",
        {"date": later(1), "reason_code": "logistics", "version": version},
    )
    assert moved.status_code == 200, moved.text

    stale = await acme.put(
        "/purchase-orders/PO-1/lines/1/promise",
        {"date": later(3), "reason_code": "capacity", "version": version},
    )
    body = problem(stale, 409)
    assert body["type"] == "urn:portal:problem:stale-version"
    assert body["current_version"] == version + 1
    current = (await acme.get("/purchase-orders/PO-1")).json()
    assert body["current"] == current
    assert current["lines"][0]["promised_date"] == later(1)
    assert [event.kind for event in await world.events("PO-1")][-1] == "line.promise_changed"
    assert len(await world.events("PO-1")) == 4

    # A change request's decision is based on the request's own version.
    opened = await acme.post(
        "/purchase-orders/PO-1/change-requests",
        {
            "version": version + 1,
            "changes": [{"line_no": 1, "kind": "price", "unit_price": "0.4"}],
            "reason_code": "other",
        },
    )
    number = opened.json()["change_request"]["number"]
    buyer = await world.caller("home-buyer")
    decided = await buyer.post(
        f"/change-requests/{number}/decision", {"verdict": "approve", "version": 7}
    )
    stale_cr = problem(decided, 409)
    assert stale_cr["current_version"] == 1
    assert stale_cr["current"]["number"] == number and stale_cr["current"]["status"] == "open"


async def test_a_repeated_post_is_answered_from_the_first(world: World) -> None:
    version = await world.accepted("PO-1")
    acme = await world.caller("acme-erp")
    path = "/purchase-orders/PO-1/shipments"
    key = {"Idempotency-Key": "7d1c0b6e-ship-1"}

    first = await acme.post(path, shipment(version), key)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    # The same request again (its JSON spelt differently) is answered as the first was.
    spelt = json.dumps(shipment(version), indent=2, sort_keys=True).encode()
    again = await acme.send("POST", path, spelt, key)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["content-type"] == first.headers["content-type"]
    assert len(await shipments_of("PO-1")) == 1
    assert [e.kind for e in await world.events("PO-1")].count("shipment.posted") == 1

    # The same key for another request is a mistake, not a replay.
    other = await acme.post(path, shipment(version, quantity="11"), key)
    assert problem(other, 422)["type"] == "urn:portal:problem:idempotency-key-reused"
    # Keys are the caller's own: another client of the same supplier may use the same one.
    wms = await world.caller("acme-wms")
    theirs = await wms.post(path, shipment(version + 1), key)
    assert theirs.status_code == 201 and "idempotent-replayed" not in theirs.headers
    assert len(await shipments_of("PO-1")) == 2

    # A refusal is kept like a success: the repeat is refused the same way, running nothing.
    refused_key = {"Idempotency-Key": "too-much"}
    too_much = await acme.post(path, shipment(version + 2, quantity="1000"), refused_key)
    assert problem(too_much, 422)
    repeat = await acme.post(path, shipment(version + 2, quantity="1000"), refused_key)
    assert repeat.content == too_much.content and repeat.headers["idempotent-replayed"] == "true"

    # After a day the key is forgotten and may be used again.
    await (
        t.IdempotencyRecord.update(
            {t.IdempotencyRecord.created_at: datetime.now(UTC) - timedelta(hours=25)}
        )
        .where(t.IdempotencyRecord.key == key["Idempotency-Key"])
        .run()
    )
    fresh = await acme.post(path, shipment(version + 2), key)
    assert fresh.status_code == 201 and "idempotent-replayed" not in fresh.headers
    assert len(await shipments_of("PO-1")) == 3

    unusable = await acme.post(path, shipment(version + 3), {"Idempotency-Key": "two words"})
    assert problem(unusable, 400)["errors"][0]["field"] == "Idempotency-Key"


async def refused(caller: Caller, path: str, body: Any, field: str, method: str = "POST") -> str:
    """The problem's message for `field`, checked to be a 422 naming it."""
    answer = await caller.http.request(
        method, "/api/v1" + path, json=body, headers=caller.headers(None)
    )
    found = problem(answer, 422)
    assert found["type"] == "urn:portal:problem:invalid-request"
    messages = [error["message"] for error in found["errors"] if error["field"] == field]
    assert messages, found
    return messages[0]


async def test_bad_input_is_refused_field_by_field_and_changes_nothing(world: World) -> None:
    version = await world.accepted("PO-1", quantities=(100, 40))
    acme = await world.caller("acme-erp")
    ship = "/purchase-orders/PO-1/shipments"
    promise = "/purchase-orders/PO-1/lines/1/promise"
    past = (TODAY - timedelta(days=1)).isoformat()

    assert await refused(acme, ship, shipment(version, "0"), "lines[0].quantity") == (
        "the quantity must be more than zero (got 0)."
    )
    assert "more than zero" in await refused(
        acme, ship, shipment(version, "-5"), "lines[0].quantity"
    )
    assert "not a number" in await refused(
        acme, ship, shipment(version, "NaN"), "lines[0].quantity"
    )
    assert "decimal places" in await refused(
        acme, ship, shipment(version, "1.00001"), "lines[0].quantity"
    )
    wrong_line = {**shipment(version), "lines": [{"line_no": 9, "quantity": "1"}]}
    assert await refused(acme, ship, wrong_line, "lines[0].line_no") == (
        "purchase order PO-1 has no line 9."
    )
    twice = {**shipment(version), "lines": [{"line_no": 1, "quantity": "1"}] * 2}
    assert await refused(acme, ship, twice, "lines[1].line_no") == "line 1 is named twice."
    wrong_type = {**shipment(version), "lines": [{"line_no": "one", "quantity": "1"}]}
    assert "Expected `int`" in await refused(acme, ship, wrong_type, "lines[0].line_no")
    unknown_field = {**shipment(version), "priority": "high"}
    assert "unknown field `priority`" in await refused(acme, ship, unknown_field, "")
    assert "Expected `str`" in await refused(
        acme, ship, {**shipment(version), "carrier": 7}, "carrier"
    )

    nothing = problem(await acme.send("POST", ship, b""), 422)
    assert nothing["errors"], nothing
    not_json = problem(await acme.send("POST", ship, b"{ships: 1"), 400)
    assert "JSON is malformed" in not_json["detail"]

    in_the_past = {"date": past, "reason_code": "capacity", "version": version}
    assert await refused(acme, promise, in_the_past, "date", "PUT") == (
        f"{past} is in the past; promise today or a later day."
    )
    rows = {
        "schedule": [{"quantity": "0", "date": later(0)}, {"quantity": "1", "date": past}],
        "reason_code": "weather",
        "version": version,
    }
    answer = await acme.put(promise, rows)
    errors = {error["field"]: error["message"] for error in problem(answer, 422)["errors"]}
    assert errors.keys() == {"schedule[0].quantity", "schedule[1].date", "reason_code"}
    assert problem(answer, 422)["detail"].startswith("The request has 3 errors; the first: ")
    both = {"date": later(1), "schedule": [], "reason_code": "capacity", "version": version}
    assert "exactly one of" in await refused(acme, promise, both, "schedule", "PUT")
    no_such_line = await acme.put(
        "/purchase-orders/PO-1/lines/9/promise",
        {"date": later(1), "reason_code": "capacity", "version": version},
    )
    assert problem(no_such_line, 404)["detail"] == "Purchase order PO-1 has no line 9."

    unknown_line = {
        "decision": "per_line",
        "version": version,
        "lines": [{"line_no": 3, "answer": "reject"}],
    }
    assert "no line 3" in await refused(
        acme, "/purchase-orders/PO-1/acknowledgement", unknown_line, "lines[0].line_no"
    )
    change = {
        "version": version,
        "changes": [{"line_no": 2, "kind": "quantity", "quantity": "-1"}],
        "reason_code": "other",
    }
    assert "more than zero" in await refused(
        acme, "/purchase-orders/PO-1/change-requests", change, "changes[0].quantity"
    )

    assert await world.version("PO-1") == version
    assert [event.kind for event in await world.events("PO-1")] == [
        "po.created",
        "po.issued",
        "po.acknowledged",
    ]
    assert await shipments_of("PO-1") == []


async def test_messages_are_in_the_callers_language(world: World) -> None:
    version = await world.accepted("PO-1")
    acme = await world.caller("acme-erp", language="zh-CN")
    blind = problem(await acme.post("/purchase-orders/PO-1/shipments", shipment()), 428)
    assert blind["detail"] == '请发送您读取时的版本：If-Match: "3" 或 "version" 字段。'  # noqa: RUF001
    zero = await acme.post("/purchase-orders/PO-1/shipments", shipment(version, "0"))
    assert problem(zero, 422)["errors"][0]["message"] == "数量必须大于零（收到 0）。"  # noqa: RUF001
