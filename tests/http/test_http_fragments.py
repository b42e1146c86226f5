"""One template, two answers: the whole page on a visit, its content alone for htmx."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

HX = {"HX-Request": "true", "Accept-Language": "en"}


async def test_a_visit_gets_the_whole_page(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/purchase-orders", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "HX-Request" in response.headers["vary"]
    page = response.text
    assert page.startswith("<!doctype html>")
    assert "<title>Purchase orders · Order portal</title>" in page
    assert '<script src="/static/vendor/htmx.min.js" defer></script>' in page
    assert '<script src="/static/vendor/htmx-ext-sse.min.js" defer></script>' in page
    assert '<section id="purchase-orders"' in page


async def test_htmx_gets_the_content_block_only(client: AsyncTestClient[Litestar]) -> None:
    for path in ("/", "/purchase-orders?status=issued", "/purchase-orders/PO-1"):
        response = await client.get(path, headers=HX)
        assert response.status_code == 200, path
        fragment = response.text
        assert "<html" not in fragment, path
        assert "<head>" not in fragment, path
        assert '<nav class="main-nav"' not in fragment, path

    listing = (await client.get("/purchase-orders?status=issued", headers=HX)).text
    assert '<section id="purchase-orders"' in listing
    assert ">PO-2</a>" in listing
    detail = (await client.get("/purchase-orders/PO-1", headers=HX)).text
    assert "<h1>Purchase order PO-1</h1>" in detail


async def test_boosted_links_and_history_restores_get_the_whole_page(
    client: AsyncTestClient[Litestar],
) -> None:
    for extra in ({"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}):
        page = (await client.get("/sales-orders", headers={**HX, **extra})).text
        assert "<html" in page
