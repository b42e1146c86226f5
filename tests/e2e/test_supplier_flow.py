"""The supplier keeps the order current in the workspace while the buyer watches it: Li Lei
(Acme) acknowledges PO-E2E-1 with one line changed, moves a promise with a reason and posts a
shipment; Wang Fang's open page of the order shows each change as it happens, never reloaded.

Both changes of date stay within the tolerance rule (3 days), so each applies at once: a change
beyond it would leave the order waiting for the buyer's decision, and nothing could be shipped.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from e2e_support import BUYER_NAME, SUPPLIER_NAME, Story, shown, signed_in
from playwright.async_api import Browser, Frame, Locator, Page, expect

PAGE_MARKER = "window.portalTestMarker"
"""Set once on the buyer's page: it survives only as long as the page is never reloaded."""


def entry(page: Page, title: str) -> Locator:
    """The buyer's timeline entry with this title (one: each happens once in this story)."""
    return page.locator(".timeline > li").filter(has=page.locator(".event-title", has_text=title))


async def expect_written_today(entry: Locator, author: str) -> None:
    """The entry names its author and channel, and bears today's time (UTC, the reader's)."""
    await expect(entry.locator(".event-who")).to_have_text(re.compile(rf"^by {author}, via "))
    today = re.compile(rf"^{date.today().isoformat()}T")
    await expect(entry.locator("time")).to_have_attribute("datetime", today)


def line_cell(page: Page, item: str, column: str) -> Locator:
    """One cell of the buyer's table of lines: the row of `item`, the column named `column`."""
    row = page.locator("table.lines tbody tr").filter(has_text=item)
    return row.locator(f'td[data-label="{column}"]')


async def test_the_buyer_sees_each_change_of_the_supplier_live(
    browser: Browser, story: Story
) -> None:
    need = story.need_date
    buyer = await signed_in(browser, story, story.buyer, f"/purchase-orders/{story.number}")
    await expect(buyer.locator(".order-head .status")).to_have_text("Issued")
    await buyer.evaluate(f"{PAGE_MARKER} = 'never reloaded'")
    navigations: list[str] = []

    def count(frame: Frame) -> None:
        if frame == buyer.main_frame:
            navigations.append(frame.url)

    buyer.on("framenavigated", count)

    async def buyer_page_was_not_reloaded() -> None:
        assert navigations == []
        assert await buyer.evaluate(PAGE_MARKER) == "never reloaded"

    supplier = await signed_in(
        browser, story, story.supplier, f"/supplier/purchase-orders/{story.number}"
    )

    # 1. Acknowledge: bolts as ordered; the nuts in two deliveries, the second 2 days late.
    await supplier.get_by_text("Answer line by line").click()
    answer = supplier.locator("#form-acknowledge-lines")
    await answer.locator("#answer-2").select_option("change")
    nuts = answer.get_by_role("group", name="Deliveries for line 2")
    await nuts.get_by_label("Quantity of delivery 1").fill("600")
    await nuts.get_by_label("Date of delivery 1").fill(need.isoformat())
    await nuts.get_by_label("Quantity of delivery 2").fill("400")
    await nuts.get_by_label("Date of delivery 2").fill((need + timedelta(days=2)).isoformat())
    await answer.get_by_label("Reason").select_option(label="Capacity")
    await answer.get_by_role("button", name="Send the answer").click()
    await expect(supplier.get_by_role("status")).to_contain_text("is applied")

    await expect(buyer.locator(".order-head .status")).to_have_text("Acknowledged")
    acknowledged = entry(buyer, "Purchase order acknowledged")
    await expect_written_today(acknowledged, SUPPLIER_NAME)
    await expect(acknowledged).to_contain_text("Accepted with changes")
    await expect_written_today(entry(buyer, "Change request opened"), SUPPLIER_NAME)
    approved = entry(buyer, "Change request approved automatically")
    await expect_written_today(approved, re.escape("Portal (automatic)"))
    nut_promise = line_cell(buyer, "NUT-M8", "Current promise")
    await expect(nut_promise).to_contain_text(f"600 on {shown(need)}")
    await expect(nut_promise).to_contain_text(f"400 on {shown(need + timedelta(days=2))}")
    await expect(line_cell(buyer, "BOLT-M8", "Current promise")).to_contain_text(
        f"500 on {shown(need)}"
    )
    await buyer_page_was_not_reloaded()

    # 2. Move the bolts' promise by 2 days, for a material shortage.
    later = need + timedelta(days=2)
    promise = supplier.locator("#form-promise-1")
    await promise.get_by_text("Line 1 · BOLT-M8").click()
    await promise.get_by_label("Date of delivery 1").fill(later.isoformat())
    await promise.get_by_label("Reason").select_option(label="Material shortage")
    await promise.get_by_label("Comment").fill("Steel wire arrives late")
    await promise.get_by_role("button", name="Save the new promise").click()
    await expect(supplier.get_by_role("status")).to_contain_text("applies at once")

    moved = entry(buyer, "Promised date changed")
    await expect_written_today(moved, SUPPLIER_NAME)
    await expect(moved).to_contain_text("Material shortage")
    await expect(moved).to_contain_text("Steel wire arrives late")
    await expect(line_cell(buyer, "BOLT-M8", "Current promise")).to_contain_text(
        f"500 on {shown(later)}"
    )
    await buyer_page_was_not_reloaded()

    # 3. Ship 200 of the bolts.
    await supplier.get_by_text("Post a shipment").click()
    shipment = supplier.locator("#form-shipment")
    await shipment.get_by_label("Line 1 · BOLT-M8").fill("200")
    await shipment.get_by_label("Carrier").fill("SF Express")
    await shipment.get_by_label("Tracking number").fill("SF1234567890")
    await shipment.get_by_label("Expected arrival").fill(later.isoformat())
    await shipment.get_by_role("button", name="Post the shipment").click()
    await expect(supplier.get_by_role("status")).to_contain_text("is posted")

    await expect(buyer.locator(".order-head .status")).to_have_text("Partially shipped")
    shipped = entry(buyer, "Shipment posted")
    await expect_written_today(shipped, SUPPLIER_NAME)
    await expect(shipped).to_contain_text("SF Express")
    await expect(shipped).to_contain_text("SF1234567890")
    await expect(line_cell(buyer, "BOLT-M8", "Shipped")).to_have_text("200")
    await expect(line_cell(buyer, "NUT-M8", "Shipped")).to_have_text("0")
    await buyer_page_was_not_reloaded()

    # Nothing else reached the buyer: the order as issued, then the five changes, newest first,
    # among the portal's own notes of who it told (the dispatcher runs, as in `make run`; when
    # it writes each note depends on its polling, so they are counted, not placed).
    await expect(entry(buyer, "Notification sent").first).to_be_visible()
    changes = buyer.locator(".timeline > li").filter(
        has_not=buyer.locator(".event-title", has_text="Notification sent")
    )
    await expect(changes.locator(".event-title")).to_have_text(
        [
            "Shipment posted",
            "Promised date changed",
            "Change request approved automatically",
            "Change request opened",
            "Purchase order acknowledged",
            "Purchase order issued",
            "Purchase order created",
        ]
    )
    await expect_written_today(entry(buyer, "Purchase order issued"), BUYER_NAME)
