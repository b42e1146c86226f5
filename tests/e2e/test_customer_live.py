"""A customer watches its order while the supplier moves the promise its line depends on: Carl
(Contoso) has SO-E2E-1 open, its line following line 1 of Acme's PO-E2E-1; Li Lei (Acme), in a
second browser, moves that promise by two days on the supplier page. Carl's page, never
reloaded, shows the new expected date, a timeline entry "expected date changed old → new" in the
customer's words without Acme's name, and the bell's count rises (the dispatcher runs inside
the web process and makes the in-app notification).
"""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta
from decimal import Decimal

from auth_support import add_org, add_user
from e2e_support import Story, shown, signed_in
from playwright.async_api import Browser, Frame, Page, expect

from portal.db import tables as t
from portal.db.codec import load
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.orders import SalesLine
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge
from portal.services.sales_orders import (
    CreateSalesOrder,
    LinkSalesLine,
    create_sales_order,
    link_sales_line,
)
from portal.services.unit_of_work import UnitOfWork

CUSTOMER_EMAIL = "carl@contoso.example"
SO_NUMBER = "SO-E2E-1"
PAGE_MARKER = "window.portalTestMarker"
WAIT_SECONDS = 15.0


async def customer_order_linked_and_confirmed(db: Database, story: Story) -> tuple[int, date]:
    """Contoso's order for 500 bolts, linked to PO-E2E-1 line 1, which Acme then accepted as
    ordered: the customer's user id, and the date the line is expected on."""
    await add_org("CUST", "customer")
    carl = await add_user(CUSTOMER_EMAIL, org="CUST", role="customer", display_name="Carl")
    sales = Actor(ActorKind.USER, "u-sales", "HOME", Side.INTERNAL, "Chen Jing", Via.WEB, "sales")
    supplier = Actor(ActorKind.USER, "u-sup", "ACME", Side.SUPPLIER, "Li Lei", Via.WEB)
    asked = story.need_date + timedelta(days=3)
    line = SalesLine(
        1, "BOLT-M8", "Hex bolt M8", Decimal(500), "pcs", Decimal("0.80"), asked, asked
    )
    so = await create_sales_order(
        UnitOfWork(db),
        sales,
        CreateSalesOrder(
            "CUST", "CNY", [line], contact_email="buyer@contoso.example", number=SO_NUMBER
        ),
    )
    await link_sales_line(
        UnitOfWork(db), sales, LinkSalesLine(SO_NUMBER, so.version, 1, story.number, 1)
    )
    po = (
        await t.PurchaseOrder.select(t.PurchaseOrder.version)
        .where(t.PurchaseOrder.number == story.number)
        .first()
        .run()
    )
    assert po is not None
    await acknowledge(
        UnitOfWork(db), supplier, Acknowledge(story.number, po["version"], Decision.ACCEPT)
    )
    row = await t.SOLine.select(t.SOLine.expected_date).first().run()
    assert row is not None
    return carl, row["expected_date"]


async def notification_of_the_move(user_id: int, expected: date) -> int:
    """Waits for the dispatcher (in the web process) to make the in-app notification of the
    moved date; then the user's unread count, which the bell must show."""
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while True:
        rows = await t.Notification.select().where(t.Notification.user_id == user_id).run()
        if any(
            row["kind"] == "line.expected_date_changed"
            and load(row["data"]).get("event", {}).get("after") == expected.isoformat()
            for row in rows
        ):
            return sum(1 for row in rows if row["read_at"] is None)
        assert asyncio.get_running_loop().time() < deadline, (
            f"no in-app notification of the move within {WAIT_SECONDS} s: {rows}"
        )
        await asyncio.sleep(0.2)


async def bell_count(page: Page) -> int:
    count = page.locator("#notification-count")
    await expect(count).to_have_text(re.compile(r"^\d+$"))
    return int((await count.text_content() or "0").strip())


async def test_the_customer_sees_the_expected_date_move_live(
    browser: Browser, story: Story, db: Database
) -> None:
    carl_id, expected = await customer_order_linked_and_confirmed(db, story)
    customer = await signed_in(browser, story, CUSTOMER_EMAIL, f"/orders/{SO_NUMBER}")
    line = customer.locator("table.customer-lines tbody tr").filter(has_text="BOLT-M8")
    expected_cell = line.locator('td[data-label="Expected date"]')
    await expect(expected_cell).to_contain_text(shown(expected))
    await expect(customer.locator(".event-title").first).to_have_text("Order confirmed")
    before = await bell_count(customer)
    await customer.evaluate(f"{PAGE_MARKER} = 'never reloaded'")
    navigations: list[str] = []

    def count(frame: Frame) -> None:
        if frame == customer.main_frame:
            navigations.append(frame.url)

    customer.on("framenavigated", count)

    # Li Lei moves the bolts' promise by two days (within the tolerance: it applies at once).
    supplier = await signed_in(
        browser, story, story.supplier, f"/supplier/purchase-orders/{story.number}"
    )
    later = story.need_date + timedelta(days=2)
    promise = supplier.locator("#form-promise-1")
    await promise.get_by_text("Line 1 · BOLT-M8").click()
    await promise.get_by_label("Date of delivery 1").fill(later.isoformat())
    await promise.get_by_label("Reason").select_option(label="Material shortage")
    await promise.get_by_label("Comment").fill("Steel wire arrives late")
    await promise.get_by_role("button", name="Save the new promise").click()
    await expect(supplier.get_by_role("status")).to_contain_text("applies at once")

    # Carl's page follows, without a reload.
    moved_to = expected + timedelta(days=2)
    await expect(expected_cell).to_contain_text(shown(moved_to))
    newest = customer.locator(".customer-timeline > li").first
    await expect(newest.locator(".event-title")).to_have_text("Expected date changed")
    await expect(newest).to_contain_text(f"{shown(expected)} → {shown(moved_to)}")
    await expect(newest).to_contain_text("Our supply schedule changed")
    page_text = await customer.locator("main").inner_text()
    for secret in ("Acme", "ACME", "Li Lei", story.number, "Steel wire"):
        assert secret not in page_text

    # And the bell counts the new notification.
    unread = await notification_of_the_move(carl_id, moved_to)
    assert unread > before
    await expect(customer.locator("#notification-count")).to_have_text(str(unread))

    assert navigations == []
    assert await customer.evaluate(PAGE_MARKER) == "never reloaded"
