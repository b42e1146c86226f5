"""Acknowledging a purchase order from the workspace: accept all in one click, reject with a
reason, or answer line by line; each as a plain form (303 to the order) and through htmx (the
order's fragment in place), and each on the timeline with its author and time."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from conftest import (
    EN,
    HX,
    ZH,
    by_supplier,
    csrf,
    issue_two_lines,
    state,
    version_in,
    window,
)
from http_story import ACME_USER, portal, tell_the_story

from portal.db.database import Database

ACK = "/acknowledgement"


async def test_accept_all_as_a_form_and_with_htmx(db: Database, database_url: str) -> None:
    await tell_the_story(db)
    await issue_two_lines(db, "PO-A")
    await issue_two_lines(db, "PO-B")
    when = window()
    async with portal(database_url, as_user=ACME_USER) as client:
        page = (await client.get("/supplier/purchase-orders/PO-A", headers=EN)).text
        plain = await client.post(
            "/supplier/purchase-orders/PO-A/acknowledgement",
            data={**csrf(client), "version": version_in(page, ACK), "decision": "accept"},
            headers=EN,
            follow_redirects=False,
        )
        landed = await client.get(plain.headers["location"], headers=EN)
        page = (await client.get("/supplier/purchase-orders/PO-B", headers=EN)).text
        fragment = await client.post(
            "/supplier/purchase-orders/PO-B/acknowledgement",
            data={**csrf(client), "version": version_in(page, ACK), "decision": "accept"},
            headers=HX,
        )
    when.close()

    assert plain.status_code == 303
    assert plain.headers["location"] == "/supplier/purchase-orders/PO-A?done=accepted"
    assert "You accepted the purchase order." in landed.text
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="supplier-po"')
    assert "<html" not in fragment.text
    assert "You accepted the purchase order." in fragment.text
    for number in ("PO-A", "PO-B"):
        po, events = await state(database_url, number)
        assert po.stored_status == "acknowledged"
        assert [row.date for line in po.lines for row in line.promise] == [
            date(2027, 6, 1),
            date(2027, 6, 1),
        ]
        last = events[-1]
        assert last.kind == "po.acknowledged" and last.data["decision"] == "accepted"
        assert by_supplier(last, when)


async def test_reject_needs_a_reason(db: Database, database_url: str) -> None:
    await tell_the_story(db)
    await issue_two_lines(db, "PO-A")
    await issue_two_lines(db, "PO-B")
    when = window()
    async with portal(database_url, as_user=ACME_USER) as client:
        page = (await client.get("/supplier/purchase-orders/PO-A", headers=EN)).text
        version = version_in(page, ACK)
        form = {**csrf(client), "version": version, "decision": "reject"}
        url = "/supplier/purchase-orders/PO-A/acknowledgement"
        without_en = await client.post(url, data=form, headers=HX)
        without_zh = await client.post(url, data=form, headers={**ZH, "HX-Request": "true"})
        plain = await client.post(
            url,
            data={**form, "reason": "We no longer make M8 nuts"},
            headers=EN,
            follow_redirects=False,
        )
        page = (await client.get("/supplier/purchase-orders/PO-B", headers=EN)).text
        fragment = await client.post(
            "/supplier/purchase-orders/PO-B/acknowledgement",
            data={
                **csrf(client),
                "version": version_in(page, ACK),
                "decision": "reject",
                "reason": "Out of capacity",
            },
            headers=HX,
        )
    when.close()

    assert without_en.status_code == 422
    assert "Say why you reject the purchase order." in without_en.text
    assert 'id="form-acknowledge-reject" open' in without_en.text
    assert without_zh.status_code == 422
    assert "请说明拒绝此采购订单的原因。" in without_zh.text
    assert plain.status_code == 303
    assert "You rejected the purchase order." in fragment.text
    po, events = await state(database_url, "PO-A")
    assert po.stored_status == "rejected"
    assert [event.kind for event in events] == ["po.created", "po.issued", "po.rejected"][
        -len(events) :
    ]
    assert events[-1].data["reason"] == "We no longer make M8 nuts"
    assert by_supplier(events[-1], when)
    po, events = await state(database_url, "PO-B")
    assert po.stored_status == "rejected" and by_supplier(events[-1], when)


async def test_answer_line_by_line(db: Database, database_url: str) -> None:
    """PO-A: line 1 accepted in two deliveries, line 2 cut to 150 (beyond what applies at
    once): the buyer gets a change request. PO-B, through htmx: line 2 rejected."""
    await tell_the_story(db)
    await issue_two_lines(db, "PO-A")
    await issue_two_lines(db, "PO-B")
    when = window()
    async with portal(database_url, as_user=ACME_USER) as client:
        page = (await client.get("/supplier/purchase-orders/PO-A", headers=EN)).text
        plain = await client.post(
            "/supplier/purchase-orders/PO-A/acknowledgement",
            data={
                **csrf(client),
                "version": version_in(page, ACK),
                "decision": "lines",
                "answer-1": "accept",
                "rows-1-qty": ["60", "40", ""],
                "rows-1-date": ["2027-05-20", "2027-05-28", ""],
                "answer-2": "change",
                "quantity-2": "150",
                "reason_code": "material_shortage",
                "comment": "Short of nuts",
            },
            headers=EN,
            follow_redirects=False,
        )
        landed = await client.get(plain.headers["location"], headers=EN)
        page = (await client.get("/supplier/purchase-orders/PO-B", headers=EN)).text
        fragment = await client.post(
            "/supplier/purchase-orders/PO-B/acknowledgement",
            data={
                **csrf(client),
                "version": version_in(page, ACK),
                "decision": "lines",
                "answer-2": "reject",
                "reason_code": "capacity",
            },
            headers=HX,
        )
    when.close()

    assert plain.status_code == 303
    assert plain.headers["location"].startswith("/supplier/purchase-orders/PO-A?done=answered")
    assert "went to the buyer as change request PO-A-CR1" in landed.text
    po, events = await state(database_url, "PO-A")
    assert po.stored_status == "changes_proposed"
    assert [(row.quantity, row.date) for row in po.lines[0].promise] == [
        (Decimal(60), date(2027, 5, 20)),
        (Decimal(40), date(2027, 5, 28)),
    ]
    (cr,) = po.open_change_requests
    assert cr.changes == [{"kind": "quantity", "line_no": 2, "quantity": "150"}]
    assert (cr.reason_code, cr.comment, cr.opened_by_name) == (
        "material_shortage",
        "Short of nuts",
        "Li Lei",
    )
    assert [event.kind for event in events[-2:]] == ["po.acknowledged", "cr.opened"]
    assert all(by_supplier(event, when) for event in events[-2:])

    assert fragment.status_code == 200
    assert "PO-B-CR1" in fragment.text
    po, events = await state(database_url, "PO-B")
    (cr,) = po.open_change_requests
    assert cr.changes == [{"kind": "cancel", "line_no": 2}]
    assert by_supplier(events[-1], when)
