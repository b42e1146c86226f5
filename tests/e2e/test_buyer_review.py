"""A buyer works an overdue change request from the dashboard while the supplier watches: Acme
accepted PO-E2E-1 and asked, 30 hours ago, for the bolts five days later (its SLA is 24 hours,
so it is 6 hours overdue). Wang Fang follows the dashboard's overdue tile to the review queue,
opens the request and counters it with two days; Li Lei's page of the order, open since before
the counter, shows the counter proposal as it happens, never reloaded."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from e2e_support import SUPPLIER_NAME, Story, shown, signed_in
from playwright.async_api import Browser, Frame, expect

from portal.db import tables as t
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.changes import ChangeKind, LineChange
from portal.domain.schedule import Schedule
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge
from portal.services.change_requests import OpenChangeRequest, open_change_request
from portal.services.unit_of_work import UnitOfWork

PAGE_MARKER = "window.portalTestMarker"
"""Set once on the supplier's page: it survives only as long as the page is never reloaded."""


async def overdue_request(db: Database, story: Story) -> str:
    """Acme accepts the order, then asks (through the service, on a clock 30 hours back) for
    line 1 five days after the need date; returns the request's number."""
    acme = Actor(ActorKind.USER, "u-li", "ACME", Side.SUPPLIER, SUPPLIER_NAME, Via.WEB)
    row = await t.PurchaseOrder.select(t.PurchaseOrder.version).first().run()
    assert row is not None
    done = await acknowledge(
        UnitOfWork(db), acme, Acknowledge(story.number, row["version"], Decision.ACCEPT)
    )
    opened_at = datetime.now(UTC) - timedelta(hours=30)
    later = Schedule.single(Decimal(500), story.need_date + timedelta(days=5))
    cr = await open_change_request(
        UnitOfWork(db, clock=lambda: opened_at),
        acme,
        OpenChangeRequest(
            story.number,
            done.po.version,
            (LineChange(1, ChangeKind.DATE, schedule=later),),
            "capacity",
            "The press is down",
        ),
    )
    return cr.number


async def test_the_buyer_counters_an_overdue_request_the_supplier_sees_it_live(
    browser: Browser, story: Story, db: Database
) -> None:
    number = await overdue_request(db, story)
    supplier = await signed_in(
        browser, story, story.supplier, f"/supplier/purchase-orders/{story.number}"
    )
    await expect(supplier.locator(f"#cr-{number}")).to_be_visible()
    await supplier.evaluate(f"{PAGE_MARKER} = 'never reloaded'")
    navigations: list[str] = []

    def count(frame: Frame) -> None:
        if frame == supplier.main_frame:
            navigations.append(frame.url)

    supplier.on("framenavigated", count)

    buyer = await signed_in(browser, story, story.buyer, "/dashboard")
    tile = buyer.locator("#tile-cr-overdue")
    await expect(tile.locator("a")).to_have_text("1")
    await tile.locator("a").click()
    await expect(buyer).to_have_url(story.base_url + "/change-requests?due=overdue")
    entry = buyer.locator(f"#cr-{number}")
    await expect(entry).to_have_class(re.compile(r"\boverdue\b"))
    await expect(entry.locator(".sla-overdue")).to_have_text(re.compile(r"^Overdue by [67] h$"))
    await expect(entry).to_contain_text(
        f"500 on {shown(story.need_date)} → 500 on {shown(story.need_date + timedelta(days=5))}"
    )
    await entry.get_by_role("link", name=number).click()
    await expect(buyer).to_have_url(story.base_url + f"/change-requests/{number}")

    await buyer.get_by_text("Counter with changes of your own").click()
    counter_on = story.need_date + timedelta(days=2)
    await buyer.get_by_label("New delivery date for line 1").fill(counter_on.isoformat())
    await buyer.locator("#counter-reason").select_option(label="Buyer request")
    await buyer.locator("#counter-comment").fill("Two days at most")
    await buyer.get_by_role("button", name="Send the counter proposal").click()
    await expect(buyer.get_by_role("status")).to_contain_text(
        "Your counter proposal was sent to the supplier."
    )
    countered = f"{story.number}-CR2"
    await expect(buyer).to_have_url(story.base_url + f"/change-requests/{countered}")

    # The supplier's page, never reloaded, now holds the buyer's counter proposal.
    proposal = supplier.locator(f"#cr-{countered}")
    await expect(proposal).to_be_visible()
    await expect(proposal).to_contain_text("Two days at most")
    await expect(proposal).to_contain_text(shown(counter_on))
    await expect(supplier.locator(f"#cr-{number}")).to_contain_text("Countered")
    assert navigations == []
    assert await supplier.evaluate(PAGE_MARKER) == "never reloaded"
