"""Shipments from the workspace: post one (a plain form), correct it (htmx), cancel it (a plain
form), each on the timeline with its author and time; bad input is refused and changes
nothing."""

from __future__ import annotations

from decimal import Decimal

from conftest import EN, HX, ZH, by_supplier, csrf, state, version_in, window
from http_story import ACME_USER, portal, tell_the_story

from portal.db.database import Database


async def test_post_correct_and_cancel_a_shipment(db: Database, database_url: str) -> None:
    await tell_the_story(db)
    when = window()
    async with portal(database_url, as_user=ACME_USER) as client:
        page = (await client.get("/supplier/purchase-orders/PO-1", headers=EN)).text
        url = "/supplier/purchase-orders/PO-1/shipments"
        form = {
            **csrf(client),
            "version": version_in(page, "/shipments"),
            "ship-1": "40",
            "ship_date": "2027-01-05",
            "carrier": "SF Express",
            "tracking_no": "SF1001",
            "expected_arrival": "2027-01-08",
        }
        refused = {
            name: await client.post(url, data={**form, **change}, headers=headers)
            for name, change, headers in [
                ("no carrier", {"carrier": ""}, EN),
                ("negative", {"ship-1": "-3"}, HX),
                ("nothing", {"ship-1": ""}, ZH),
                ("unknown line", {"ship-7": "5"}, EN),
                ("arrival first", {"expected_arrival": "2027-01-01"}, EN),
                ("too many", {"ship-1": "500"}, EN),
            ]
        }
        posted = await client.post(url, data=form, headers=EN, follow_redirects=False)
        page = (await client.get(posted.headers["location"], headers=EN)).text
        number = posted.headers["location"].rpartition("ref=")[2]
        corrected = await client.post(
            f"/supplier/purchase-orders/PO-1/shipments/{number}/correction",
            data={
                **form,
                "version": version_in(page, f"/shipments/{number}/correction"),
                "ship-1": "35",
                "reason": "Five cartons stayed behind",
            },
            headers=HX,
        )
        cancelled = await client.post(
            f"/supplier/purchase-orders/PO-1/shipments/{number}/cancellation",
            data={
                **csrf(client),
                "version": version_in(corrected.text, f"/shipments/{number}/cancellation"),
                "reason": "The truck never left",
            },
            headers=EN,
            follow_redirects=False,
        )
        landed = await client.get(cancelled.headers["location"], headers=EN)
    when.close()

    assert {name: answer.status_code for name, answer in refused.items()} == {
        name: 422 for name in refused
    }
    assert "Enter the carrier." in refused["no carrier"].text
    assert "“-3” is not a quantity" in refused["negative"].text
    assert "请至少为一行填写发货数量。" in refused["nothing"].text
    assert "Line 7 is not an open line" in refused["unknown line"].text
    assert "The expected arrival cannot be before the ship date." in refused["arrival first"].text
    assert "That cannot be done:" in refused["too many"].text  # the tolerance, in its words
    assert posted.status_code == 303
    assert "?done=shipment_posted&ref=" in posted.headers["location"]
    assert f"Shipment {number} is posted." in page
    assert corrected.status_code == 200
    assert f"Shipment {number} is corrected." in corrected.text
    assert cancelled.status_code == 303
    assert f"Shipment {number} is cancelled." in landed.text
    assert f"Correct shipment {number}" not in landed.text  # a cancelled one stays as it is

    po, events = await state(database_url, "PO-1")
    (shipment,) = po.shipments
    assert (shipment.number, shipment.status, shipment.carrier, shipment.tracking_no) == (
        number,
        "cancelled",
        "SF Express",
        "SF1001",
    )
    assert [(line.line_no, line.quantity) for line in shipment.lines] == [(1, Decimal(35))]
    assert po.lines[0].shipped_qty == 0
    mine = events[-3:]
    assert [event.kind for event in mine] == [
        "shipment.posted",
        "shipment.corrected",
        "shipment.cancelled",
    ]
    assert mine[1].data["reason"] == "Five cartons stayed behind"
    assert mine[2].data["reason"] == "The truck never left"
    assert all(by_supplier(event, when) for event in mine)
    assert len([e for e in events if e.kind.startswith("shipment.")]) == 3  # refusals: none
