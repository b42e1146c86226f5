"""Change requests from the workspace: open one, withdraw one's own, and answer the buyer's
(approve, reject with a reason, counter), each with its SLA due time shown and each on the
timeline with its author and time."""

from __future__ import annotations

from decimal import Decimal

from conftest import EN, HX, ZH, by_supplier, csrf, state, version_in, window
from http_story import ACME_USER, BUYER, portal, tell_the_story, uow

from portal.db import queries
from portal.db.database import Database
from portal.domain.changes import ChangeKind, LineChange
from portal.services.change_requests import OpenChangeRequest, open_change_request

CRS = "/change-requests"


async def buyer_asks(db: Database, price: str) -> str:
    """Our buyer asks Acme for a new price on PO-1; returns the request's number."""
    version = (await queries.purchase_order(BUYER, "PO-1")).version
    cr = await open_change_request(
        uow(db),
        BUYER,
        OpenChangeRequest(
            "PO-1",
            version,
            (LineChange(1, ChangeKind.PRICE, unit_price=Decimal(price)),),
            "buyer_request",
            "Budget cut",
        ),
    )
    return cr.number


def cr_version(html: str, number: str) -> int:
    return version_in(html, f"/change-requests/{number}/decision")


async def test_open_and_withdraw_a_change_request(db: Database, database_url: str) -> None:
    await tell_the_story(db)
    when = window()
    async with portal(database_url, as_user=ACME_USER) as client:
        page = (await client.get("/supplier/purchase-orders/PO-1", headers=EN)).text
        form = {**csrf(client), "version": version_in(page, CRS)}
        url = "/supplier/purchase-orders/PO-1/change-requests"
        empty = await client.post(url, data={**form, "reason_code": "quality"}, headers=HX)
        bad_price = await client.post(
            url, data={**form, "cr-1-price": "cheap", "reason_code": "quality"}, headers=ZH
        )
        plain = await client.post(
            url,
            data={
                **form,
                "cr-1-quantity": "80",
                "cr-1-price": "0.40",
                "reason_code": "material_shortage",
                "comment": "Steel is short",
            },
            headers=EN,
            follow_redirects=False,
        )
        page = (await client.get(plain.headers["location"], headers=EN)).text
        withdrawn = await client.post(
            "/supplier/purchase-orders/PO-1/change-requests/PO-1-CR1/decision",
            data={
                **csrf(client),
                "version": cr_version(page, "PO-1-CR1"),
                "verdict": "withdraw",
                "comment": "Found steel elsewhere",
            },
            headers=HX,
        )
    when.close()

    assert empty.status_code == 422 and "Fill in at least one change." in empty.text
    assert bad_price.status_code == 422
    assert "“cheap”不是有效价格" in bad_price.text
    assert plain.status_code == 303
    assert plain.headers["location"] == "/supplier/purchase-orders/PO-1?done=cr_opened&ref=PO-1-CR1"
    assert "Change request PO-1-CR1 is open" in page
    assert "Decision due" in page and "(the buyer decides)" in page
    assert withdrawn.status_code == 200
    assert "You withdrew change request PO-1-CR1." in withdrawn.text
    po, events = await state(database_url, "PO-1")
    (cr,) = po.change_requests
    assert cr.status == "withdrawn"
    assert cr.changes == [
        {"kind": "quantity", "line_no": 1, "quantity": "80"},
        {"kind": "price", "line_no": 1, "unit_price": "0.4"},
    ]
    assert (cr.reason_code, cr.comment) == ("material_shortage", "Steel is short")
    assert [event.kind for event in events[-2:]] == ["cr.opened", "cr.withdrawn"]
    assert events[-1].data["comment"] == "Found steel elsewhere"
    assert all(by_supplier(event, when) for event in events[-2:])


async def test_answer_the_buyers_change_requests(db: Database, database_url: str) -> None:
    """Two requests from our buyer: the first approved (a plain form), the second refused
    without a reason or a verdict, then countered (htmx)."""
    await tell_the_story(db)
    first = await buyer_asks(db, "0.30")
    second = await buyer_asks(db, "0.28")
    when = window()
    async with portal(database_url, as_user=ACME_USER) as client:
        page = (await client.get("/supplier/purchase-orders/PO-1", headers=EN)).text
        assert "Budget cut" in page and "(you decide)" in page
        approved = await client.post(
            f"/supplier/purchase-orders/PO-1/change-requests/{first}/decision",
            data={**csrf(client), "version": cr_version(page, first), "verdict": "approve"},
            headers=EN,
            follow_redirects=False,
        )
        page = (await client.get(approved.headers["location"], headers=EN)).text
        url = f"/supplier/purchase-orders/PO-1/change-requests/{second}/decision"
        form = {**csrf(client), "version": cr_version(page, second)}
        no_reason = await client.post(url, data={**form, "verdict": "reject"}, headers=HX)
        no_verdict = await client.post(url, data=form, headers=EN)
        countered = await client.post(
            url,
            data={
                **form,
                "verdict": "counter",
                "cr-1-price": "0.29",
                "reason_code": "other",
                "comment": "Meet in the middle",
            },
            headers=HX,
        )
    when.close()

    assert approved.status_code == 303
    assert approved.headers["location"].endswith(f"?done=cr_approved&ref={first}")
    assert "You approved change request PO-1-CR1; the order is changed." in page
    assert no_reason.status_code == 422
    assert "Say why you reject the change request." in no_reason.text
    assert no_verdict.status_code == 422
    assert "Choose approve, reject or counter." in no_verdict.text
    assert countered.status_code == 200
    assert "Your counter proposal is change request PO-1-CR3." in countered.text
    po, events = await state(database_url, "PO-1")
    assert po.lines[0].unit_price == Decimal("0.3")
    by_number = {cr.number: cr for cr in po.change_requests}
    assert by_number[first].status == "approved"
    assert by_number[second].status == "countered"
    counter = by_number["PO-1-CR3"]
    assert (counter.status, counter.opened_by, counter.supersedes) == ("open", "supplier", second)
    assert counter.changes == [{"kind": "price", "line_no": 1, "unit_price": "0.29"}]
    answered = [event for event in events if event.seq > 6]
    assert [event.kind for event in answered] == ["cr.approved", "cr.countered", "cr.opened"]
    assert all(by_supplier(event, when) for event in answered)
