"""The doors people try to force answer 429 with Retry-After once tried too often: sign-in (per
e-mail and address), password reset (per e-mail and address) and the token endpoint (per
client and address). Counted in the portal's own memory store, fresh for each application."""

from __future__ import annotations

import httpx
import pytest
from auth_support import DEFAULT_PASSWORD, add_client, csrf_token_of
from http_story import ACME_USER, BOLT_USER, add_organisations, portal
from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.db.database import Database
from portal.web.ratelimit import LIMITS

EN = {"Accept-Language": "en"}
sqlite_only = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
"""The counters live in the limiter's store, not in the database."""


def allowed(bucket: str) -> int:
    """How many attempts per key and address the bucket allows."""
    return LIMITS[bucket][0].amount


def assert_too_many(response: httpx.Response, window_seconds: int) -> None:
    assert response.status_code == 429, response.text
    wait = int(response.headers["retry-after"])
    assert 1 <= wait <= window_seconds


async def form_token(client: AsyncTestClient[Litestar], path: str) -> str:
    return csrf_token_of((await client.get(path, headers=EN)).text)


async def sign_in_attempt(
    client: AsyncTestClient[Litestar], email: str, password: str, token: str
) -> httpx.Response:
    return await client.post(
        "/sign-in",
        data={"email": email, "password": password, "next": "/", "_csrf_token": token},
        headers=EN,
        follow_redirects=False,
    )


@sqlite_only
async def test_sign_in_is_limited_per_email(db: Database, database_url: str) -> None:
    await add_organisations()
    async with portal(database_url, as_user=None) as client:
        token = await form_token(client, "/sign-in")
        for _ in range(allowed("sign_in")):
            wrong = await sign_in_attempt(client, ACME_USER, "not the password", token)
            assert wrong.status_code == 400
        assert_too_many(await sign_in_attempt(client, ACME_USER, "still wrong", token), 60)
        # Locked out means locked out: the right password waits as well...
        assert_too_many(await sign_in_attempt(client, ACME_USER, DEFAULT_PASSWORD, token), 60)
        # ...while another person signing in from the same address is not held up.
        other = await sign_in_attempt(client, BOLT_USER, DEFAULT_PASSWORD, token)
    assert other.status_code == 303


@sqlite_only
async def test_password_reset_is_limited_per_email(db: Database, database_url: str) -> None:
    await add_organisations()
    async with portal(database_url, as_user=None) as client:
        token = await form_token(client, "/password-reset")

        async def ask(email: str) -> httpx.Response:
            return await client.post(
                "/password-reset",
                data={"email": email, "_csrf_token": token},
                headers=EN,
                follow_redirects=False,
            )

        for _ in range(allowed("password_reset")):
            assert (await ask(ACME_USER)).status_code == 200
        assert_too_many(await ask(ACME_USER), 15 * 60)
        assert (await ask(BOLT_USER)).status_code == 200


@sqlite_only
async def test_the_token_endpoint_is_limited_per_client(db: Database, database_url: str) -> None:
    await add_organisations()
    for client_id in ("acme-erp", "bolt-erp"):
        await add_client(
            client_id,
            org="ACME" if client_id == "acme-erp" else "BOLT",
            role="supplier",
            scope="po:read",
            secret=f"{client_id}-secret-0123456789",
        )
    async with portal(database_url, as_user=None) as client:

        async def token_for(client_id: str) -> httpx.Response:
            return await client.post(
                "/oauth/token",
                data={"grant_type": "client_credentials", "scope": "po:read"},
                auth=(client_id, f"{client_id}-secret-0123456789"),
            )

        for _ in range(allowed("token")):
            assert (await token_for("acme-erp")).status_code == 200
        assert_too_many(await token_for("acme-erp"), 60)
        assert (await token_for("bolt-erp")).status_code == 200
