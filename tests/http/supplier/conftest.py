"""The supplier workspace's tests: the story of tests/http (PO-1 acknowledged by Acme and
promised late, PO-2 issued to Bolt & Nut) and Acme's orders of `add_orders`, then the real
application with Li Lei of Acme signed in.

State is read after the application stopped, through `reading(database_url)`: the
application's engine lives on the test client's own event loop, so the test reads over a
database of its own, as any other reader would.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from http_story import BUYER, uow
from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.db import timeline
from portal.db.database import Database
from portal.db.po_detail import PODetail, purchase_order_detail
from portal.domain.events import Event, po_stream
from portal.domain.orders import POLine
from portal.services.purchase_orders import IssuePurchaseOrder, issue_purchase_order

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}
HX = {**EN, "HX-Request": "true"}
NEED = date(2027, 6, 1)


async def issue_two_lines(db: Database, number: str, supplier: str = "ACME") -> None:
    """Two lines, 100 bolts and 200 nuts, both needed on 1 June 2027."""
    lines = [
        POLine(1, "BOLT-M8", "Hex bolt M8", Decimal(100), "pcs", Decimal("0.35"), NEED),
        POLine(2, "NUT-M8", "Hex nut M8", Decimal(200), "pcs", Decimal("0.10"), NEED),
    ]
    await issue_purchase_order(
        uow(db), BUYER, IssuePurchaseOrder(supplier, "CNY", lines, number=number)
    )


@asynccontextmanager
async def reading(database_url: str) -> AsyncIterator[None]:
    """The tables bound to a database of the test's own, for reading what the pages did."""
    db = Database(database_url)
    await db.start()
    try:
        yield
    finally:
        await db.close()


async def state(database_url: str, number: str) -> tuple[PODetail, list[Event]]:
    """The order as our staff see it, and its whole timeline."""
    async with reading(database_url):
        return (
            await purchase_order_detail(BUYER, number),
            await timeline.read(BUYER, po_stream(number)),
        )


def version_in(html: str, form_action: str) -> int:
    """The version a form (found by the end of its action) carries, as a reader would send."""
    form = re.search(
        rf'<form[^>]*action="[^"]*{re.escape(form_action)}".*?</form>', html, flags=re.S
    )
    assert form, f"no form posts to {form_action}"
    found = re.search(r'name="version" value="(\d+)"', form[0])
    assert found, f"the form for {form_action} carries no version"
    return int(found[1])


def csrf(client: AsyncTestClient[Litestar]) -> dict[str, str]:
    return {"_csrf_token": client.cookies["__Host-csrftoken"]}


@dataclass
class Window:
    """When the requests of a test were made: what an event's time must fall within."""

    start: datetime
    end: datetime | None = None

    def close(self) -> None:
        self.end = datetime.now(UTC)

    def holds(self, at: datetime) -> bool:
        assert self.end is not None
        return self.start <= at <= self.end


def window() -> Window:
    return Window(datetime.now(UTC))


def by_supplier(event: Event, window: Window) -> bool:
    """Written by Li Lei of Acme, through the web, while the test made its requests."""
    return (
        event.actor.get("name") == "Li Lei"
        and event.actor.get("org") == "ACME"
        and event.via.value == "web"
        and window.holds(event.at)
    )


def kinds(events: list[Event], since_seq: int = 0) -> list[str]:
    return [event.kind for event in events if event.seq > since_seq]
