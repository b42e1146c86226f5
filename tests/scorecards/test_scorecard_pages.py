"""The scorecard pages and API over the real application (SQLite, then PostgreSQL): the
ranking, one supplier's figures against their targets with charts, both languages, and
isolation — a supplier sees only its own scorecard (another code is 404, like none)."""

from __future__ import annotations

import re

from auth_support import DEFAULT_PASSWORD, TEST_SECRET_KEY, add_client, sign_in
from litestar.testing import AsyncTestClient
from scorecard_story import ACME_USER, BUYER_USER, CUST_USER, tell_the_story

from portal.app import create_app
from portal.auth import scopes as s
from portal.db.database import Database
from portal.settings import Settings

BASE_URL = "https://testserver.local"


def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        base_url=BASE_URL,
        secret_key=TEST_SECRET_KEY,
        time_zone="UTC",
        default_locale="en",
        dispatcher=False,
    )


async def as_user(client: AsyncTestClient, email: str) -> None:  # type: ignore[type-arg]
    client.cookies.clear()
    reached = await sign_in(client, email, DEFAULT_PASSWORD)
    assert reached.status_code == 200, reached.text


async def bearer(client: AsyncTestClient, client_id: str) -> dict[str, str]:  # type: ignore[type-arg]
    answer = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, "s3cret-" + client_id),
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def cell(html: str, supplier: str, figure: str) -> str:
    row = re.search(rf'<tr data-supplier="{supplier}">(.*?)</tr>', html, flags=re.S)
    assert row, supplier
    found = re.search(rf'data-figure="{figure}"[^>]*>\s*(.*?)\s*<', row.group(1), flags=re.S)
    assert found, figure
    return found.group(1)


async def test_scorecard_pages_and_api(db: Database, database_url: str) -> None:
    await tell_the_story(db)
    await add_client(
        "acme-erp",
        org="ACME",
        role="supplier",
        scope=s.render(s.ROLE_SCOPES["supplier"]),
        secret="s3cret-acme-erp",
    )
    await add_client(
        "home-buyer",
        org="HOME",
        role="buyer",
        scope=s.render(s.ROLE_SCOPES["buyer"]),
        secret="s3cret-home-buyer",
    )
    app = create_app(settings(database_url))
    async with AsyncTestClient(app, base_url=BASE_URL) as client:
        # --- internal staff: the ranking and any supplier ---------------------------------
        await as_user(client, BUYER_USER)
        ranking = await client.get("/scorecards", params={"period": "2026-03"})
        assert ranking.status_code == 200, ranking.text
        html = ranking.text
        assert html.index('data-supplier="BOLT"') < html.index('data-supplier="ACME"')
        assert cell(html, "ACME", "on_time_need") == "50%"
        assert cell(html, "ACME", "on_time_promise") == "66.7%"
        assert cell(html, "ACME", "accuracy") == "98.5%"
        assert cell(html, "BOLT", "on_time_promise") == "100%"
        assert "<svg" in html and "Target" in html
        quarter = await client.get("/scorecards", params={"kind": "quarter", "period": "2026-Q1"})
        assert quarter.status_code == 200 and "2026-Q1" in quarter.text
        assert (await client.get("/scorecards", params={"period": "2026-13"})).status_code == 400

        one = await client.get("/scorecards/ACME", params={"period": "2026-02"})
        assert one.status_code == 200, one.text
        # In February Acme meets two targets (acknowledgement, buyer response), Bolt one.
        assert "Rank 1 of 2 suppliers" in one.text
        ack = re.search(r'id="figure-ack_hours".*?</section>', one.text, flags=re.S)
        assert ack and "18 h" in ack.group(0) and "target met" in ack.group(0)
        assert "&lt; 24 h" in ack.group(0)
        response = re.search(r'id="figure-supplier_cr_hours".*?</section>', one.text, flags=re.S)
        assert response and "3 h" in response.group(0) and "below target" in response.group(0)
        # The trend shows the last six months, the target drawn as a labelled line.
        assert one.text.count('class="chart chart-line"') == 8
        assert "2025-09" in one.text and 'stroke-dasharray="5 4"' in one.text
        fragment = await client.get(
            "/scorecards/ACME", params={"period": "2026-02"}, headers={"HX-Request": "true"}
        )
        assert "<html" not in fragment.text and "figure-ack_hours" in fragment.text
        zh = await client.get("/scorecards/ACME", params={"period": "2026-02", "lang": "zh_CN"})
        assert zh.status_code == 200
        assert (await client.get("/scorecards/NOPE")).status_code == 404

        # --- a supplier: only its own --------------------------------------------------------
        await as_user(client, ACME_USER)
        own = await client.get("/scorecards/ACME", params={"period": "2026-03"})
        assert own.status_code == 200 and "Acme Fasteners" in own.text
        assert "All suppliers" not in own.text
        assert (await client.get("/scorecards/BOLT")).status_code == 404
        redirected = await client.get("/scorecards", follow_redirects=False)
        assert redirected.status_code in (302, 303, 307)
        assert redirected.headers["location"] == "/scorecards/ACME"
        inbox = await client.get("/supplier/purchase-orders")
        assert 'href="/scorecards/ACME"' in inbox.text

        # --- a customer: none ------------------------------------------------------------------
        await as_user(client, CUST_USER)
        assert (await client.get("/scorecards/ACME")).status_code in (403, 404)
        assert (await client.get("/scorecards")).status_code in (403, 404)

        # --- the API ---------------------------------------------------------------------------
        client.cookies.clear()
        acme = await bearer(client, "acme-erp")
        mine = await client.get(
            "/api/v1/suppliers/ACME/scorecard",
            params={"period": "2026-03", "periods": 2},
            headers=acme,
        )
        assert mine.status_code == 200, mine.text
        body = mine.json()
        assert body["supplier"] == "ACME" and body["period"] == "2026-03"
        assert (body["rank"], body["ranked_of"]) == (2, 2)
        figures = {figure["name"]: figure for figure in body["figures"]}
        assert figures["on_time_need"]["value"] == 0.5
        assert figures["on_time_need"]["target"] == 0.95
        assert figures["on_time_need"]["target_met"] is False
        assert figures["ack_hours"]["value"] is None
        assert [period["period"] for period in body["trend"]] == ["2026-02", "2026-03"]
        other = await client.get("/api/v1/suppliers/BOLT/scorecard", headers=acme)
        assert other.status_code == 404
        assert other.headers["content-type"].startswith("application/problem+json")
        buyer = await bearer(client, "home-buyer")
        bolt = await client.get(
            "/api/v1/suppliers/BOLT/scorecard", params={"period": "2026-03"}, headers=buyer
        )
        assert bolt.status_code == 200 and bolt.json()["rank"] == 1
        schema = await client.get("/schema/openapi.json")
        assert "getSupplierScorecard" in schema.text
