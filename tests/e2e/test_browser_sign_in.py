"""The browser harness itself: a real Chromium signs in through the form and reads an order."""

from __future__ import annotations

from e2e_support import Story, signed_in
from playwright.async_api import Browser, expect


async def test_buyer_signs_in_through_the_form_and_opens_the_purchase_order(
    browser: Browser, story: Story
) -> None:
    page = await signed_in(browser, story, story.buyer, f"/purchase-orders/{story.number}")

    await expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Purchase order {story.number}"
    )
    await expect(page.get_by_role("cell", name="BOLT-M8")).to_be_visible()
    await expect(page.locator(".timeline")).to_contain_text("by Wang Fang")
    # The session lives in a `__Host-` cookie, Secure even on http://127.0.0.1: Chromium keeps
    # and sends it there because loopback is a secure context.
    cookies = {cookie["name"]: cookie for cookie in await page.context.cookies()}
    session = cookies["__Host-portal_session"]
    assert session["secure"] and session["httpOnly"] and session["path"] == "/"


async def test_a_browser_not_signed_in_is_sent_to_the_sign_in_form(
    browser: Browser, story: Story
) -> None:
    page = await (await browser.new_context(base_url=story.base_url)).new_page()
    await page.goto(f"/purchase-orders/{story.number}")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    await expect(page.locator("body")).not_to_contain_text("BOLT-M8")
