"""The alerts page and GET /api/v1/alerts, on the real application (in process) over SQLite
and PostgreSQL: our staff see the open alerts, filtered by rule, level, organisation and owner,
each linking to its order; a supplier learns nothing of them."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

import httpx
from alert_support import NEED, Story, at, line, seed
from auth_support import (
    DEFAULT_PASSWORD,
    TEST_SECRET_KEY,
    add_client,
    secure_cookie_client,
    sign_in,
)
from litestar import Litestar

from portal.app import create_app
from portal.auth import scopes as s
from portal.db.database import Database
from portal.settings import Settings

BASE_URL = "https://testserver.local"
EN = {"Accept-Language": "en"}


@asynccontextmanager
async def running(app: Litestar) -> AsyncIterator[None]:
    """The app's lifespan, entered and left by one task of its own."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def serve() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(serve())
    waiting = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiting.cancel()
        task.result()
    try:
        yield
    finally:
        stop.set()
        await task


def orders_listed(html: str) -> list[str]:
    return sorted(set(re.findall(r'href="/(?:purchase|sales)-orders/([A-Z0-9-]+)"', html)))


async def bearer(http: httpx.AsyncClient, client_id: str) -> dict[str, str]:
    answer = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, f"secret-of-{client_id}-0123456789"),
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}", **EN}


async def test_alerts_page_and_api(db: Database, database_url: str) -> None:
    people = await seed(passwords=True)
    for client_id, org, role in (("home-erp", "HOME", "buyer"), ("acme-erp", "ACME", "supplier")):
        await add_client(
            client_id,
            org=org,
            role=role,
            scope=s.render(s.ROLE_SCOPES[role]),
            secret=f"secret-of-{client_id}-0123456789",
        )
    settings = Settings(
        database_url=database_url,
        base_url=BASE_URL,
        secret_key=TEST_SECRET_KEY,
        default_locale="en",
        time_zone="UTC",
        dispatcher=False,
    )
    app = create_app(settings)
    async with running(app):
        story = Story(app.state.db, people)
        await story.issue("PO-1", at(0))  # Bea's, never acknowledged
        await story.issue("PO-2", at(0), buyer=people.other_buyer)  # Bob's, never acknowledged
        await story.issue("PO-3", at(0))
        await story.accept("PO-3", at(1))
        await story.promise("PO-3", at(2), date(2026, 3, 21))  # a day after NEED
        await story.issue("PO-4", at(0), lines=[line(need=NEED)])
        await story.accept("PO-4", at(1))  # fine: never listed
        await story.sell("SO-1", at(2), requested=date(2026, 4, 15), expected=date(2026, 4, 16))
        await story.scan(at(80))

        transport = httpx.ASGITransport(app=app, client=("10.1.0.9", 50000))
        async with (
            secure_cookie_client(BASE_URL, transport=transport, headers=EN) as bea,
            secure_cookie_client(BASE_URL, transport=transport, headers=EN) as li,
            httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http,
        ):
            assert (await sign_in(bea, "bea@home.test", DEFAULT_PASSWORD)).status_code == 200
            page = await bea.get("/alerts")
            assert page.status_code == 200
            assert '<a href="/alerts">Alerts</a>' in page.text, "in the header for our staff"
            assert orders_listed(page.text) == ["PO-1", "PO-2", "PO-3", "SO-1"]
            assert "Purchase order not acknowledged" in page.text
            escalated = re.findall(r'<tr class="alert-escalated late"', page.text)
            assert len(escalated) == 2, "PO-1 and PO-2 went to a manager: marked red"

            async def listed(**query: str) -> list[str]:
                answer = await bea.get("/alerts", params=query)
                assert answer.status_code == 200
                return orders_listed(answer.text)

            assert await listed(rule="po_unacknowledged") == ["PO-1", "PO-2"]
            assert await listed(rule="promise_after_need") == ["PO-3"]
            assert await listed(rule="so_late") == ["SO-1"]
            assert await listed(level="escalated") == ["PO-1", "PO-2"]
            assert await listed(org="SHOP") == ["SO-1"]
            assert await listed(org="ACME", mine="1") == ["PO-1", "PO-3"]
            assert await listed(rule="no-such-rule") == ["PO-1", "PO-2", "PO-3", "SO-1"]
            fragment = await bea.get(
                "/alerts", params={"rule": "so_late"}, headers={"HX-Request": "true"}
            )
            assert fragment.status_code == 200 and "<html" not in fragment.text
            assert orders_listed(fragment.text) == ["SO-1"]

            # A supplier's user: turned away, and nothing is shown.
            assert (await sign_in(li, "li@acme.test", DEFAULT_PASSWORD)).status_code == 200
            refused = await li.get("/alerts")
            assert refused.status_code in (403, 404)
            assert "PO-1" not in refused.text
            assert 'href="/alerts"' not in (await li.get("/")).text

            # The API.
            ours = await bearer(http, "home-erp")
            answer = await http.get("/api/v1/alerts", headers=ours)
            assert answer.status_code == 200, answer.text
            items = answer.json()["items"]
            assert sorted((i["order"], i["rule"], i["level"]) for i in items) == [
                ("PO-1", "po_unacknowledged", "escalated"),
                ("PO-2", "po_unacknowledged", "escalated"),
                ("PO-3", "promise_after_need", "raised"),
                ("SO-1", "so_late", "raised"),
            ]
            so = next(i for i in items if i["order"] == "SO-1")
            assert (so["subject"], so["order_kind"], so["org"], so["owner"]) == (
                "so/SO-1/line/1",
                "sales",
                "SHOP",
                "Sam Sales",
            )
            assert so["data"]["expected_date"] == "2026-04-16"
            only = await http.get("/api/v1/alerts", params={"rule": "so_late"}, headers=ours)
            assert [i["order"] for i in only.json()["items"]] == ["SO-1"]
            acme = await http.get("/api/v1/alerts", params={"org": "ACME"}, headers=ours)
            assert len(acme.json()["items"]) == 3

            seen: list[int] = []
            params: dict[str, str] = {"limit": "3"}
            pages = 0
            while True:
                got = (await http.get("/api/v1/alerts", params=params, headers=ours)).json()
                seen.extend(i["id"] for i in got["items"])
                pages += 1
                if got["next_cursor"] is None:
                    break
                params = {"limit": "3", "cursor": got["next_cursor"]}
            assert pages == 2 and sorted(seen) == sorted(i["id"] for i in items)
            assert len(set(seen)) == len(seen)

            bad = await http.get("/api/v1/alerts", params={"rule": "bogus"}, headers=ours)
            assert bad.status_code in (400, 422)
            assert bad.headers["content-type"].startswith("application/problem+json")
            assert "po_unacknowledged" in bad.text

            theirs = await bearer(http, "acme-erp")
            refused_api = await http.get("/api/v1/alerts", headers=theirs)
            assert refused_api.status_code in (403, 404)
            assert "PO-1" not in refused_api.text
