"""Every response carries the browser's safety headers: pages, API problems, redirects, CSRF
refusals, static files and the health check; HSTS only over TLS; no caching of what a
signed-in person sees; and templates that need no inline script or style."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from auth_support import TEST_SECRET_KEY
from http_story import portal, tell_the_story
from litestar import Litestar, Response, get
from litestar.testing import AsyncTestClient

from portal.app import create_app
from portal.auth.guards import public
from portal.core import PortalCore
from portal.db.database import Database
from portal.settings import Settings

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
TEMPLATES = Path(__file__).parents[2] / "templates"
sqlite_only = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
"""The headers do not depend on the database engine."""


def assert_safe(response: httpx.Response) -> None:
    headers = response.headers
    where = f"{response.request.method} {response.url} -> {response.status_code}"
    assert headers.get("content-security-policy") == CSP, where
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("x-frame-options") == "DENY", where
    assert headers.get("referrer-policy") in ("same-origin", "no-referrer"), where


@sqlite_only
async def test_a_signed_in_page_is_safe_and_never_cached(db: Database, database_url: str) -> None:
    await tell_the_story(db)
    async with portal(database_url) as client:
        page = await client.get("/purchase-orders")
        fragment = await client.get("/purchase-orders", headers={"HX-Request": "true"})
        css = await client.get("/static/css/portal.css")

    assert page.status_code == fragment.status_code == 200
    for response in (page, fragment, css):
        assert_safe(response)
        # The test portal's base URL is https://...: served over TLS.
        assert response.headers["strict-transport-security"] == "max-age=31536000"
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["cache-control"] == "no-store"
    assert fragment.headers["cache-control"] == "no-store"
    assert css.headers.get("cache-control") != "no-store"  # the same file for everyone


@sqlite_only
async def test_anonymous_answers_and_errors_are_safe(db: Database, database_url: str) -> None:
    async with portal(database_url, as_user=None) as client:
        health = await client.get("/health")
        css = await client.get("/static/css/portal.css")
        problem = await client.get("/api/v1/nothing-here")
        missing_page = await client.get("/nothing-here")
        redirect = await client.get("/purchase-orders", follow_redirects=False)
        sign_in = await client.get("/sign-in")
        no_csrf_token = await client.post("/sign-out")
        wrong_method = await client.post("/health")

    for response in (health, css, problem, missing_page, redirect, sign_in, no_csrf_token):
        assert_safe(response)
    assert_safe(wrong_method)
    assert health.status_code == 200
    assert css.status_code == 200
    assert problem.status_code == 404
    assert problem.headers["content-type"] == "application/problem+json"
    assert missing_page.status_code == 404
    assert redirect.status_code == 303
    assert redirect.headers["location"].startswith("/sign-in?next=")
    assert no_csrf_token.status_code == 403
    assert wrong_method.status_code == 405
    # The sign-in form carries a CSRF token: not for any cache either.
    assert sign_in.headers["cache-control"] == "no-store"
    assert "no-store" not in health.headers.get("cache-control", "")


@sqlite_only
async def test_token_carrying_urls_send_no_referrer_and_oauth_is_never_cached(
    db: Database, database_url: str
) -> None:
    async with portal(database_url, as_user=None) as client:
        token_pages = [
            await client.get("/invitations/an-invitation-token"),
            await client.get("/password-reset/a-reset-token"),
            await client.get("/auth/callback?code=a-code&state=a-state"),
        ]
        jwks = await client.get("/oauth/jwks")
        refused_token = await client.post("/oauth/token", data={"grant_type": "password"})

    for response in token_pages:
        assert_safe(response)
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"
    for response in (jwks, refused_token):
        assert_safe(response)
        assert response.headers["cache-control"] == "no-store"
    assert jwks.status_code == 200
    assert refused_token.status_code in (400, 401)


@sqlite_only
@pytest.mark.parametrize(
    ("base_url", "requested_over", "hsts"),
    [
        ("https://portal.example.com", "http://testserver.local", True),  # TLS ends at a proxy
        ("http://127.0.0.1:8000", "https://testserver.local", True),
        ("http://127.0.0.1:8000", "http://testserver.local", False),
    ],
)
async def test_hsts_only_when_served_over_tls(
    database_url: str, base_url: str, requested_over: str, hsts: bool
) -> None:
    settings = Settings(database_url=database_url, base_url=base_url, secret_key=TEST_SECRET_KEY)
    async with AsyncTestClient(create_app(settings), base_url=requested_over) as client:
        response = await client.get("/health")
    assert_safe(response)
    assert ("strict-transport-security" in response.headers) is hsts


@get("/consent-like", opt=public(), sync_to_thread=False)
def wider_policy() -> Response[str]:
    return Response(
        "ok", headers={"Content-Security-Policy": "form-action 'self' https://client.example"}
    )


@sqlite_only
async def test_a_handler_may_set_a_wider_policy_of_its_own(database_url: str) -> None:
    settings = Settings(database_url=database_url, secret_key=TEST_SECRET_KEY)
    app = Litestar(plugins=[PortalCore(settings)], route_handlers=[wider_policy])
    async with AsyncTestClient(app) as client:
        response = await client.get("/consent-like")
    assert response.headers.get_list("content-security-policy") == [
        "form-action 'self' https://client.example"
    ]
    assert response.headers["x-frame-options"] == "DENY"


INLINE = {
    "an inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "a <style> element": re.compile(r"<style\b", re.I),
    "a style attribute": re.compile(r"\sstyle\s*=", re.I),
    "an event handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "an hx-on attribute (evaluated code)": re.compile(r"\shx-on", re.I),
    "a javascript: URL": re.compile(r"javascript:", re.I),
}


def test_templates_need_no_inline_script_or_style() -> None:
    """The Content-Security-Policy would block them: a page would silently break."""
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert templates
    found = [
        f"{path.relative_to(TEMPLATES)}: {what}"
        for path in templates
        for what, pattern in INLINE.items()
        if pattern.search(path.read_text())
    ]
    assert found == []
