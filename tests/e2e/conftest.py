"""Browser tests: Debian's Chromium, headless, driven by Playwright against the real portal
(`portal serve` in a child process) on SQLite.

- `live_server`: one running portal for all of them; `story`: its database emptied, then a buyer,
  a supplier user and one issued purchase order, made through the real service command.
- `browser`: Chromium started from the system package (`apt-get install chromium`; `.ci/run`
  installs it). Playwright never downloads a browser here: a missing Chromium fails the test
  with a message saying how to install it, it is never skipped.

Helpers the tests import (Story, signed_in) are in `e2e_support.py`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from auth_support import add_org, add_user, live_portal
from e2e_support import (
    BUYER_EMAIL,
    BUYER_NAME,
    CHROMIUM,
    CHROMIUM_ARGS,
    PO_NUMBER,
    SUPPLIER_EMAIL,
    SUPPLIER_NAME,
    TIMEOUT_MS,
    Story,
)
from playwright.async_api import Browser, async_playwright, expect

from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.orders import POLine
from portal.services.purchase_orders import IssuePurchaseOrder, issue_purchase_order
from portal.services.unit_of_work import UnitOfWork


@pytest.fixture(scope="module")
def engine() -> str:
    """One engine is enough here: the browser flow is the same on both, and the HTTP and
    integration tests already cover PostgreSQL."""
    return "sqlite"


@pytest.fixture(scope="session")
def e2e_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The browser tests' own database: their portal delivers notifications in the
    background (as `make run` does), which must not reach the rows of the other tests this
    process runs on its shared database."""
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'portal.sqlite3'}"
    result = subprocess.run(
        [sys.executable, "-m", "portal.cli", "migrate"],
        env={**os.environ, "PORTAL_DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return url


@pytest.fixture
def database_url(e2e_database_url: str) -> str:
    return e2e_database_url


@pytest.fixture(scope="session")
def live_server(e2e_database_url: str) -> Iterator[str]:
    """Started once for every browser test of this process: each test empties the database
    (the `db` fixture) and the portal keeps no rows in memory. Its dispatcher runs, as in
    `make run`, so a customer's bell rings."""
    with live_portal(e2e_database_url, {"PORTAL_DISPATCHER": "true"}) as base_url:
        yield base_url


@pytest.fixture
async def story(live_server: str, db: Database) -> Story:
    """Wang Fang, our buyer, issued PO-E2E-1 to Acme: 500 bolts and 1,000 nuts, both needed in
    30 days (the portal refuses promises in the past, and it runs on the real clock). Li Lei
    answers for Acme."""
    await add_org("HOME", "internal")
    await add_org("ACME", "supplier")
    buyer_id = await add_user(BUYER_EMAIL, org="HOME", role="buyer", display_name=BUYER_NAME)
    await add_user(SUPPLIER_EMAIL, org="ACME", role="supplier", display_name=SUPPLIER_NAME)
    buyer = Actor(
        ActorKind.USER, str(buyer_id), "HOME", Side.INTERNAL, BUYER_NAME, Via.WEB, "buyer"
    )
    need = date.today() + timedelta(days=30)
    lines = [
        POLine(1, "BOLT-M8", "Hex bolt M8", Decimal(500), "pcs", Decimal("0.35"), need),
        POLine(2, "NUT-M8", "Hex nut M8", Decimal(1000), "pcs", Decimal("0.08"), need),
    ]
    await issue_purchase_order(
        UnitOfWork(db), buyer, IssuePurchaseOrder("ACME", "CNY", lines, number=PO_NUMBER)
    )
    return Story(live_server, PO_NUMBER, need, BUYER_EMAIL, SUPPLIER_EMAIL)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium is not installed ({CHROMIUM} is missing): `apt-get install -y chromium` "
            "(.ci/run does this). The browser tests never download a browser.",
            pytrace=False,
        )
    expect.set_options(timeout=TIMEOUT_MS)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()
