"""POST /api/v1/purchase-orders/{number}/receipts as a warehouse system uses it: versioned,
idempotent, 201 with Location; over-receipt refused with nothing changed; suppliers cannot
record receipts. SQLite and PostgreSQL."""

from __future__ import annotations

from internal_world import BUYER, add_people, bearer, portal, shipped_order

from portal.db import timeline
from portal.db.database import Database
from portal.domain.events import po_stream

URL = "/api/v1/purchase-orders/PO-5/receipts"


async def test_a_warehouse_system_records_a_receipt(db: Database, database_url: str) -> None:
    await add_people()
    version = await shipped_order(db, "PO-5")
    async with portal(database_url) as http:
        wms = await bearer(http)
        body = {"shipment": "ASN-PO-5", "lines": [{"line_no": 1, "received": "60"}]}
        blind = await http.post(URL, json=body, headers=wms)
        assert blind.status_code == 428

        over = await http.post(
            URL,
            json={"lines": [{"line_no": 1, "received": "200"}]},
            headers={**wms, "If-Match": f'"{version}"'},
        )
        assert over.status_code == 422, over.text
        assert "Line 1: at most 105 more can be accepted" in over.json()["detail"]

        stale = await http.post(URL, json=body, headers={**wms, "If-Match": f'"{version - 1}"'})
        assert stale.status_code == 409
        assert stale.json()["current_version"] == version

        headers = {**wms, "If-Match": f'"{version}"', "Idempotency-Key": "gr-1"}
        made = await http.post(URL, json=body, headers=headers)
        assert made.status_code == 201, made.text
        assert made.headers["location"] == "/api/v1/purchase-orders/PO-5"
        answer = made.json()
        assert answer["receipt"].startswith("GR")
        assert answer["purchase_order"]["lines"][0]["received_qty"] == "60"
        again = await http.post(URL, json=body, headers=headers)
        assert again.status_code == 201
        assert again.json()["receipt"] == answer["receipt"]

    events = await timeline.read(BUYER, po_stream("PO-5"))
    receipts = [event for event in events if event.kind == "receipt.recorded"]
    assert len(receipts) == 1  # the retry did not receive twice
    assert receipts[0].via == "api"
    assert receipts[0].actor["name"] == "home-wms"
