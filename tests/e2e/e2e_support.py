"""What the browser tests share: how Chromium starts, the story's names, and signing in
through the real form in a browser context of one's own.

Imported by the tests of this folder as `e2e_support` (pytest puts the folder on the path).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from auth_support import DEFAULT_PASSWORD
from playwright.async_api import Browser, Page, expect

CHROMIUM = "/usr/lib/chromium/chromium"
"""The browser binary of Debian's `chromium` package (/usr/bin/chromium is a shell launcher
that adds flags of its own)."""
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    # The machines have no route out: without these Chromium keeps calling Google's hosts.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000
"""How long an action or an expectation waits for the page before it fails."""

BUYER_EMAIL = "wang.fang@home.example"
BUYER_NAME = "Wang Fang"
SUPPLIER_EMAIL = "li.lei@acme.example"
SUPPLIER_NAME = "Li Lei"
PO_NUMBER = "PO-E2E-1"


@dataclass(frozen=True)
class Story:
    base_url: str
    number: str
    need_date: date
    buyer: str
    supplier: str


async def signed_in(browser: Browser, story: Story, email: str, next: str) -> Page:
    """A new browser context (its own cookie jar), signed in as `email` through the sign-in
    form, on the page `next`. English and UTC, so the tests read what they expect."""
    context = await browser.new_context(base_url=story.base_url, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    await page.goto(f"/sign-in?next={quote(next)}")
    await page.get_by_label("E-mail address").fill(email)
    await page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page).to_have_url(story.base_url + next)
    return page


def shown(day: date) -> str:
    """A day as an English page shows it (`Dec 1, 2026`)."""
    return f"{day:%b} {day.day}, {day.year}"
