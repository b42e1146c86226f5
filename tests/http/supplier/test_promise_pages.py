"""Promises from the workspace: one line at a time (applied at once within the tolerance
rule, a change request beyond it), and in bulk from the inbox; bad input is refused with a
localised message and changes nothing."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from conftest import EN, HX, ZH, by_supplier, csrf, state, version_in, window
from http_story import ACME_USER, BUYER, SUPPLIER, issue, portal, tell_the_story, uow

from portal.db import queries
from portal.db.database import Database
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge

PROMISE = "/lines/1/promise"


async def acknowledged(db: Database, number: str, need: date) -> None:
    """An order of Acme's for 100 bolts, accepted as ordered."""
    version = await issue(db, number, "ACME", need)
    await acknowledge(uow(db), SUPPLIER, Acknowledge(number, version, Decision.ACCEPT))


async def test_one_line_applies_at_once_or_goes_to_the_buyer(
    db: Database, database_url: str
) -> None:
    """PO-1 is promised for 20 January 2027. Two days later applies at once (the tolerance
    is three days); a month later becomes a change request."""
    await tell_the_story(db)
    before = (await queries.purchase_order(BUYER, "PO-1")).version
    when = window()
    async with portal(database_url, as_user=ACME_USER) as client:
        url = "/supplier/purchase-orders/PO-1/lines/1/promise"
        page = (await client.get("/supplier/purchase-orders/PO-1", headers=EN)).text
        plain = await client.post(
            url,
            data={
                **csrf(client),
                "version": version_in(page, PROMISE),
                "rows-1-qty": ["100", "", ""],
                "rows-1-date": ["2027-01-22", "", ""],
                "reason_code": "logistics",
                "comment": "Truck booked later",
            },
            headers=EN,
            follow_redirects=False,
        )
        landed = await client.get(plain.headers["location"], headers=EN)
        fragment = await client.post(
            url,
            data={
                **csrf(client),
                "version": version_in(landed.text, PROMISE),
                "rows-1-qty": ["60", "40"],
                "rows-1-date": ["2027-01-22", "2027-02-20"],
                "reason_code": "capacity",
            },
            headers=HX,
        )
    when.close()

    assert plain.status_code == 303
    assert plain.headers["location"] == "/supplier/purchase-orders/PO-1?done=promise_applied&line=1"
    assert "The new promise for line 1 applies at once." in landed.text
    assert fragment.status_code == 200
    assert "it went to the buyer as change request PO-1-CR1" in fragment.text
    po, events = await state(database_url, "PO-1")
    assert po.version > before
    assert [(row.quantity, row.date) for row in po.lines[0].promise] == [
        (Decimal(100), date(2027, 1, 22))
    ]
    (cr,) = po.open_change_requests
    assert cr.changes == [
        {
            "kind": "date",
            "line_no": 1,
            "schedule": [
                {"date": "2027-01-22", "quantity": "60"},
                {"date": "2027-02-20", "quantity": "40"},
            ],
        }
    ]
    changed = [event for event in events if event.kind == "line.promise_changed"][-1]
    assert changed.data["reason_code"] == "logistics"
    assert changed.data["comment"] == "Truck booked later"
    assert by_supplier(changed, when)
    assert events[-1].kind == "cr.opened" and by_supplier(events[-1], when)


async def test_bad_promises_are_refused_and_change_nothing(db: Database, database_url: str) -> None:
    await tell_the_story(db)
    async with portal(database_url, as_user=ACME_USER) as client:
        page = (await client.get("/supplier/purchase-orders/PO-1", headers=EN)).text
        good = {
            **csrf(client),
            "version": str(version_in(page, PROMISE)),
            "rows-1-qty": "100",
            "rows-1-date": "2027-01-25",
            "reason_code": "capacity",
        }
        url = "/supplier/purchase-orders/PO-1/lines/1/promise"
        answers = {
            name: await client.post(url, data={**good, **change}, headers=headers)
            for name, change, headers in [
                ("past date", {"rows-1-date": "2020-01-01"}, EN),
                ("not a date", {"rows-1-date": "31/12/2027"}, HX),
                ("zero", {"rows-1-qty": "0"}, EN),
                ("negative", {"rows-1-qty": "-5"}, ZH),
                ("no reason", {"reason_code": ""}, EN),
                ("unknown reason", {"reason_code": "bored"}, ZH),
                ("half a row", {"rows-1-date": ""}, EN),
            ]
        }
        unknown_line = await client.post(
            "/supplier/purchase-orders/PO-1/lines/9/promise", data=good, headers=EN
        )
    assert {name: answer.status_code for name, answer in answers.items()} == {
        name: 422 for name in answers
    }
    assert "is in the past; choose today or a later day." in answers["past date"].text
    assert "“31/12/2027” is not a date" in answers["not a date"].text
    assert "<html" not in answers["not a date"].text
    assert "“0” is not a quantity; enter a number greater than zero." in answers["zero"].text
    assert "不是有效数量" in answers["negative"].text
    assert "Choose a reason." in answers["no reason"].text
    assert "请选择原因。" in answers["unknown reason"].text
    assert "Give each delivery row both a quantity and a date." in answers["half a row"].text
    assert unknown_line.status_code == 422
    assert "Line 9 is not an open line of this purchase order." in unknown_line.text
    # What was typed is kept, and the form that failed is open.
    assert 'value="2020-01-01"' in answers["past date"].text
    assert 'id="form-promise-1" open' in answers["past date"].text
    po, events = await state(database_url, "PO-1")
    assert str(po.version) == good["version"]
    assert events[-1].kind == "line.promise_changed" and events[-1].actor["name"] == "Li Lei"
    assert len([e for e in events if e.kind == "line.promise_changed"]) == 1


async def test_bulk_moves_and_dates_from_the_inbox(db: Database, database_url: str) -> None:
    """PO-X and PO-Y move by 2 days as whole orders (a plain form); then, through htmx, line 1
    of PO-Z gets one new date, three weeks later: a change request."""
    await tell_the_story(db)
    for number in ("PO-X", "PO-Y", "PO-Z"):
        await acknowledged(db, number, date(2027, 4, 1))
    when = window()
    async with portal(database_url, as_user=ACME_USER) as client:
        inbox = (await client.get("/supplier/purchase-orders", headers=EN)).text
        versions = {
            f"version-{number}": version_of(inbox, number) for number in ("PO-X", "PO-Y", "PO-Z")
        }
        plain = await client.post(
            "/supplier/promises",
            data={
                **csrf(client),
                **versions,
                "po": ["PO-X", "PO-Y"],
                "how": "shift",
                "days": "2",
                "reason_code": "logistics",
                "return_to": "/supplier/purchase-orders?sort=number",
            },
            headers=EN,
            follow_redirects=False,
        )
        landed = await client.get(plain.headers["location"], headers=EN)
        fragment = await client.post(
            "/supplier/promises",
            data={
                **csrf(client),
                "version-PO-Z": versions["version-PO-Z"],
                "line": "PO-Z:1",
                "how": "date",
                "date": "2027-04-22",
                "reason_code": "material_shortage",
                "return_to": "/supplier/purchase-orders",
            },
            headers=HX,
        )
        stale = await client.post(
            "/supplier/promises",
            data={
                **csrf(client),
                **versions,
                "po": ["PO-X"],
                "how": "shift",
                "days": "1",
                "reason_code": "logistics",
            },
            headers=EN,
        )
        nothing = await client.post(
            "/supplier/promises",
            data={**csrf(client), "how": "shift", "days": "1", "reason_code": "logistics"},
            headers=HX,
        )
    when.close()

    assert plain.status_code == 303
    assert plain.headers["location"] == (
        "/supplier/purchase-orders?sort=number&done=promises_updated&applied=2"
    )
    assert "2 lines' promises apply at once." in landed.text
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith("<h1")  # the inbox page's content
    assert "1 change request went to the buyer." in fragment.text
    assert stale.status_code == 409
    assert 'href="/supplier/purchase-orders"' in stale.text
    assert nothing.status_code == 422
    assert "Select at least one purchase order or line" in nothing.text
    for number in ("PO-X", "PO-Y"):
        po, events = await state(database_url, number)
        assert [row.date for row in po.lines[0].promise] == [date(2027, 4, 3)]
        assert events[-1].kind == "line.promise_changed" and by_supplier(events[-1], when)
        assert events[-1].data["reason_code"] == "logistics"
    po, events = await state(database_url, "PO-Z")
    (cr,) = po.open_change_requests
    assert cr.changes[0]["schedule"] == [{"date": "2027-04-22", "quantity": "100"}]
    assert events[-1].kind == "cr.opened" and by_supplier(events[-1], when)


def version_of(inbox: str, number: str) -> str:
    found = re.search(rf'name="version-{re.escape(number)}" value="(\d+)"', inbox)
    assert found, f"{number} is not listed with its version"
    return found[1]
