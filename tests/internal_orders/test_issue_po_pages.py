"""A buyer issues a purchase order through the page: the supplier picked from a list, lines
typed row by row (blank rows left out), issued at once or kept as a draft; a refused form comes
back with a message at each wrong field and nothing written."""

from __future__ import annotations

from decimal import Decimal

from internal_orders_support import (
    BUYER_USER,
    NEED,
    NEW_PO_FORM,
    SALES_USER,
    World,
    field_error,
    post_form,
)

from portal.db import tables as t


def po_form(**overrides: str) -> dict[str, str]:
    form = {
        "supplier": "ACME",
        "currency": "cny",
        "number": "",
        "action": "issue",
        "lines-0-item": "BOLT-M8",
        "lines-0-description": "六角螺栓 M8",
        "lines-0-quantity": "500",
        "lines-0-unit": "pcs",
        "lines-0-unit_price": "0.35",
        "lines-0-date": NEED.isoformat(),
        # a row left blank is not a line
        "lines-1-item": "",
        "lines-1-quantity": "",
        "lines-2-item": "NUT-M8",
        "lines-2-quantity": "1,000",
        "lines-2-unit": "pcs",
        "lines-2-unit_price": "0.08",
        "lines-2-date": NEED.isoformat(),
    }
    return {**form, **overrides}


async def test_buyer_issues_a_purchase_order_from_the_page(world: World) -> None:
    async with world.browser(BUYER_USER) as buyer:
        page = await buyer.get(NEW_PO_FORM)
        assert page.status_code == 200
        assert '<option value="ACME">Acme Fasteners (ACME)</option>' in page.text
        assert '<option value="BOLT">' in page.text
        assert 'value="CUST"' not in page.text  # a customer is no supplier
        assert 'href="/purchase-orders/new"' in page.text  # the header's link

        done = await post_form(buyer, NEW_PO_FORM, NEW_PO_FORM, po_form())
        assert done.status_code == 303
        number = done.headers["location"].removeprefix("/purchase-orders/")
        assert number.startswith("PO-")

        shown = await buyer.get(done.headers["location"])
        assert shown.status_code == 200
        assert f"Purchase order {number}" in shown.text
        assert "六角螺栓 M8" in shown.text

    po = await t.PurchaseOrder.select().where(t.PurchaseOrder.number == number).first().run()
    assert po is not None
    assert (po["supplier"], po["currency"], po["status"]) == ("ACME", "CNY", "issued")
    lines = await t.POLine.select().where(t.POLine.po == po["id"]).order_by(t.POLine.line_no).run()
    assert [(line["line_no"], line["item"]) for line in lines] == [(1, "BOLT-M8"), (2, "NUT-M8")]
    assert [Decimal(str(line["quantity"])) for line in lines] == [Decimal(500), Decimal(1000)]

    events = await world.po_events(number)
    assert [event.kind for event in events] == ["po.created", "po.issued"]
    for event in events:
        assert event.actor["name"] == "Wang Fang"
        assert event.actor["org"] == "HOME"
        assert event.via.value == "web"


async def test_a_draft_keeps_its_number_and_stays_ours(world: World) -> None:
    async with world.browser(BUYER_USER) as buyer:
        done = await post_form(
            buyer, NEW_PO_FORM, NEW_PO_FORM, po_form(number="PO-DRAFT-1", action="draft")
        )
        assert done.status_code == 303
        assert done.headers["location"] == "/purchase-orders/PO-DRAFT-1"
    po = await t.PurchaseOrder.select().where(t.PurchaseOrder.number == "PO-DRAFT-1").first().run()
    assert po is not None and po["status"] == "draft"
    assert [event.kind for event in await world.po_events("PO-DRAFT-1")] == ["po.created"]


async def test_a_refused_form_names_each_wrong_field_and_writes_nothing(world: World) -> None:
    await world.issue("PO-TAKEN")
    before = await world.counts()
    async with world.browser(BUYER_USER) as buyer:
        refused = await post_form(
            buyer,
            NEW_PO_FORM,
            NEW_PO_FORM,
            po_form(
                supplier="CUST",
                currency="yuan",
                **{
                    "lines-0-quantity": "0",
                    "lines-0-date": "next week",
                    "lines-2-unit_price": "-1",
                    "lines-2-unit": "",
                },
            ),
        )
        assert refused.status_code == 422
        html = refused.text
        assert "nothing was saved" in html
        assert field_error(html, "f-supplier") == "Choose one from the list."
        assert field_error(html, "f-currency") == (
            "Enter a three-letter currency code, such as CNY."
        )
        assert field_error(html, "lines-0-quantity") == "Enter a quantity above zero."
        assert field_error(html, "lines-0-date") == "Enter a date as YYYY-MM-DD."
        assert field_error(html, "lines-2-unit_price") == "A price cannot be negative."
        assert field_error(html, "lines-2-unit") == "This is required."
        assert field_error(html, "lines-0-item") == ""
        # What was typed is kept, to correct rather than retype.
        assert 'value="六角螺栓 M8"' in html
        assert 'aria-invalid="true"' in html

        nothing = await post_form(
            buyer, NEW_PO_FORM, NEW_PO_FORM, {"supplier": "ACME", "currency": "CNY"}
        )
        assert nothing.status_code == 422
        assert field_error(nothing.text, "lines") == "Add at least one line."

        taken = await post_form(buyer, NEW_PO_FORM, NEW_PO_FORM, po_form(number="PO-TAKEN"))
        assert taken.status_code == 422
        assert "Purchase order PO-TAKEN already exists." in taken.text

        more = await post_form(buyer, NEW_PO_FORM, NEW_PO_FORM, po_form(action="more"))
        assert more.status_code == 200
        assert 'name="lines-5-item"' in more.text  # three rows posted, three more offered
        assert 'value="NUT-M8"' in more.text
    assert await world.counts() == before


async def test_only_buyers_may_issue(world: World) -> None:
    """Sales staff read purchase orders but do not hold po:write."""
    async with world.browser(SALES_USER) as sales:
        assert (await sales.get(NEW_PO_FORM)).status_code == 403
        assert 'href="/purchase-orders/new"' not in (await sales.get("/")).text
