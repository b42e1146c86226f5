"""Sales staff create a sales order and link its lines to purchase order lines: the search
offers only open lines of the same item (narrowed by order number or supplier), linking moves
the line's expected date and records line.linked, and a link based on a stale version is 409."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from internal_orders_support import (
    API,
    BUYER,
    NEED,
    NEW_SO_FORM,
    SALES_USER,
    World,
    field_error,
    post_form,
)

from portal.db import link_queries
from portal.db import tables as t
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.services.purchase_orders import CancelPurchaseOrder, cancel_purchase_order

LINK = "/sales-orders/SO-1/lines/1/link"


def offered(html: str) -> list[str]:
    """The purchase order lines a link page offers, top to bottom."""
    return re.findall(r'name="po_number" value="([^"]+)"', html)


async def scene(world: World) -> None:
    """Open BOLT-M8 lines at Acme (PO-A) and Bolt & Nut (PO-B); a cancelled one (PO-X), a draft
    (PO-D) and another item (PO-N), none of which may be offered."""
    await world.issue("PO-A", "ACME")
    await world.issue("PO-B", "BOLT")
    version = await world.issue("PO-X", "ACME")
    await cancel_purchase_order(world.uow(), BUYER, CancelPurchaseOrder("PO-X", version, "dup"))
    await world.issue("PO-D", "ACME", draft=True)
    await world.issue("PO-N", "ACME", item="NUT-M8")
    await world.sales_order("SO-1")


async def test_sales_create_a_sales_order_from_the_page(world: World) -> None:
    before = await world.counts()
    async with world.browser(SALES_USER) as sales:
        form = {
            "customer": "CUST",
            "currency": "CNY",
            "contact_email": "buyer@contoso.example",
            "number": "SO-WEB-1",
            "lines-0-item": "BOLT-M8",
            "lines-0-quantity": "40",
            "lines-0-unit": "pcs",
            "lines-0-unit_price": "0.80",
            "lines-0-date": NEED.isoformat(),
        }
        refused = await post_form(
            sales, NEW_SO_FORM, NEW_SO_FORM, {**form, "contact_email": "", "customer": "ACME"}
        )
        assert refused.status_code == 422
        assert field_error(refused.text, "f-customer") == "Choose one from the list."
        assert field_error(refused.text, "f-contact_email") == (
            "Enter the customer's contact e-mail or phone."
        )
        assert await world.counts() == before

        done = await post_form(sales, NEW_SO_FORM, NEW_SO_FORM, form)
        assert done.status_code == 303
        assert done.headers["location"] == "/sales-orders/SO-WEB-1"
        page = (await sales.get("/sales-orders/SO-WEB-1")).text
        assert "Link to a purchase order line" in page
    events = await world.so_events("SO-WEB-1")
    assert [event.kind for event in events] == ["so.created"]
    assert events[0].actor["name"] == "Chen Jing"


async def test_the_search_offers_only_open_lines_of_the_same_item(world: World) -> None:
    await scene(world)
    found = await link_queries.open_po_lines(BUYER, "BOLT-M8")
    assert sorted(c.po_number for c in found) == ["PO-A", "PO-B"]
    assert {c.quantity_left for c in found} == {Decimal(100)}
    outsider = Actor(ActorKind.USER, "u", "CUST", Side.CUSTOMER, "Carl", Via.WEB)
    assert await link_queries.open_po_lines(outsider, "BOLT-M8") == []

    async with world.browser(SALES_USER) as sales:
        page = await sales.get(LINK)
        assert page.status_code == 200
        assert sorted(offered(page.text)) == ["PO-A", "PO-B"]
        assert "Acme Fasteners" in page.text and "Bolt &amp; Nut Works" in page.text

        narrowed = await sales.get(LINK, params={"q": "bolt &"})
        assert offered(narrowed.text) == ["PO-B"]
        by_number = await sales.get(LINK, params={"q": "po-a"})
        assert offered(by_number.text) == ["PO-A"]

        # htmx's live search gets the results alone.
        live = await sales.get(
            LINK,
            params={"q": "acme"},
            headers={"HX-Request": "true", "HX-Target": "link-candidates"},
        )
        assert live.status_code == 200
        assert live.text.lstrip().startswith('<section id="link-candidates"')
        assert offered(live.text) == ["PO-A"]

    async with world.api("home-sales") as erp:
        listed = await erp.get(API + "/purchase-order-lines", params={"item": "BOLT-M8"})
        assert listed.status_code == 200
        assert sorted(line["po_number"] for line in listed.json()["lines"]) == ["PO-A", "PO-B"]


async def test_linking_moves_the_expected_date_and_a_stale_link_is_refused(
    world: World,
) -> None:
    await scene(world)
    async with world.browser(SALES_USER) as sales:
        page = await sales.get(LINK)
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        link = {
            "_csrf_token": token.group(1),
            "version": "1",
            "po_number": "PO-B",
            "po_line_no": "1",
            "handling_days": "3",
        }
        done = await sales.post(LINK, data=link)
        assert done.status_code == 303
        assert done.headers["location"] == "/sales-orders/SO-1"

        stale = await sales.post(LINK, data={**link, "po_number": "PO-A"})
        assert stale.status_code == 409
        assert "was changed by someone else" in stale.text
        assert "it is now at version 2" in stale.text

        shown = (await sales.get("/sales-orders/SO-1")).text
        assert "PO-B line 1" in shown

    line = await t.SOLine.select().where(t.SOLine.so.number == "SO-1").first().run()
    assert line is not None
    # No promise yet: the need date, plus the three handling days.
    assert line["expected_date"] == NEED + timedelta(days=3)
    events = await world.so_events("SO-1")
    linked = [event for event in events if event.kind == "line.linked"]
    assert len(linked) == 1
    assert linked[0].data["after"] == {"po_number": "PO-B", "line_no": 1}
    assert linked[0].actor["name"] == "Chen Jing"


async def test_the_api_links_with_if_match_and_answers_409_when_stale(world: World) -> None:
    await scene(world)
    path = API + "/sales-orders/SO-1/lines/1/link"
    async with world.api("home-sales") as erp:
        blind = await erp.put(path, json={"po_number": "PO-A", "po_line_no": 1})
        assert blind.status_code == 428
        done = await erp.put(
            path, json={"po_number": "PO-A", "po_line_no": 1}, headers={"If-Match": '"1"'}
        )
        assert done.status_code == 200, done.text
        assert done.headers["etag"] == '"2"'
        assert done.json()["lines"][0]["po_number"] == "PO-A"
        assert done.json()["lines"][0]["expected_date"] == (NEED + timedelta(days=2)).isoformat()

        stale = await erp.put(path, json={"po_number": "PO-B", "po_line_no": 1, "version": 1})
        assert stale.status_code == 409
        assert stale.json()["current_version"] == 2
        assert stale.json()["current"]["lines"][0]["po_number"] == "PO-A"

        wrong_item = await erp.put(path, json={"po_number": "PO-N", "po_line_no": 1, "version": 2})
        assert wrong_item.status_code == 422
        assert "is for item BOLT-M8" in wrong_item.json()["detail"]
    events = await world.so_events("SO-1")
    assert [event.kind for event in events].count("line.linked") == 1
