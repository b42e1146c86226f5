"""Domain errors and HTTP errors: problem details (RFC 9457) for machines, a page for people."""

from __future__ import annotations

from collections.abc import AsyncIterator
from http import HTTPStatus

import pytest
from auth_support import TEST_SECRET_KEY
from litestar import Litestar, get
from litestar.params import FromPath
from litestar.testing import AsyncTestClient

from portal.auth.guards import public
from portal.core import PortalCore
from portal.domain.errors import Conflict, DomainError, NotFound
from portal.settings import Settings

ERRORS: dict[str, DomainError] = {
    "missing": NotFound("Purchase order PO-9 was not found."),
    "stale": Conflict("Purchase order PO-9 was changed by someone else.", current_version=7),
    "refused": DomainError("Cannot ship purchase order PO-9: it is cancelled."),
}


@get(["/api/v1/boom/{name:str}", "/boom/{name:str}"], sync_to_thread=False, opt=public())
def boom(name: FromPath[str]) -> None:
    raise ERRORS[name]


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = Settings(database_url=database_url, secret_key=TEST_SECRET_KEY, dispatcher=False)
    app = Litestar(plugins=[PortalCore(settings)], route_handlers=[boom])
    async with AsyncTestClient(app) as client:
        yield client


@pytest.mark.parametrize(("name", "status"), [("missing", 404), ("stale", 409), ("refused", 422)])
async def test_domain_errors_are_problem_details_on_the_api(
    client: AsyncTestClient[Litestar], name: str, status: int
) -> None:
    response = await client.get(f"/api/v1/boom/{name}")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "about:blank"
    assert body["title"] == HTTPStatus(status).phrase  # about:blank: the title is the phrase
    assert body["status"] == status
    assert body["detail"] == ERRORS[name].message
    assert body["instance"] == f"/api/v1/boom/{name}"
    assert body.get("current_version") == (7 if name == "stale" else None)


@pytest.mark.parametrize(("name", "status"), [("missing", 404), ("stale", 409), ("refused", 422)])
async def test_domain_errors_are_pages_elsewhere(
    client: AsyncTestClient[Litestar], name: str, status: int
) -> None:
    response = await client.get(f"/boom/{name}", headers={"Accept-Language": "en"})
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text
    assert ERRORS[name].message in response.text
    if name == "stale":
        assert "The current version is 7." in response.text


async def test_unknown_paths(client: AsyncTestClient[Litestar]) -> None:
    api = await client.get("/api/v1/nothing-here")
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["title"] == "Not Found"

    page = await client.get("/nothing-here", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 404
    assert "未找到" in page.text


async def test_a_wrong_method_keeps_its_allow_header(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post("/health")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert "GET" in response.headers["allow"]
