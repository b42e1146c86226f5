"""Browser sign-in by password over real HTTP: the session cookie, a new session id at each
sign-in, no open redirect, sign-out, disabling a user, and a session's token refreshed."""

from __future__ import annotations

import time

import pytest
from auth_support import (
    DEFAULT_PASSWORD,
    add_org,
    add_user,
    csrf_token_of,
    jwt_part,
    secure_cookie_client,
    sign_in,
)
from joserfc import jwt
from joserfc.jwk import ECKey

from portal.auth import sessions
from portal.db import tables as t

WRONG = "The e-mail address or the password is wrong."


async def test_wrong_email_and_wrong_password_get_the_same_answer(live: str) -> None:
    await add_org("ACME", "supplier")
    await add_user("sue1@acme.test", org="ACME", role="supplier")
    await add_user("old@acme.test", org="ACME", role="supplier", active=False)
    async with secure_cookie_client(live) as browser:
        for email, password in (
            ("sue1@acme.test", "not her password"),
            ("nobody@acme.test", DEFAULT_PASSWORD),
            ("old@acme.test", DEFAULT_PASSWORD),
        ):
            answer = await sign_in(browser, email, password)
            assert answer.status_code == 400 and WRONG in answer.text
            assert sessions.SESSION_COOKIE not in answer.headers.get("set-cookie", "")
        assert (await browser.get("/purchase-orders")).status_code == 303
    failed = await t.AccessLog.select().where(t.AccessLog.kind == "sign_in_failed")
    assert len(failed) == 3
    assert DEFAULT_PASSWORD not in str([row["detail"] for row in failed])


async def test_sign_in_sets_a_host_cookie_and_a_new_session_each_time(live: str) -> None:
    await add_org("ACME", "supplier")
    user_id = await add_user("sue2@acme.test", org="ACME", role="supplier")
    async with secure_cookie_client(live) as browser:
        form = await browser.get("/sign-in")
        posted = await browser.post(
            "/sign-in",
            data={
                "email": "SUE2@acme.test",
                "password": DEFAULT_PASSWORD,
                "next": "/purchase-orders?page=1",
                "_csrf_token": csrf_token_of(form.text),
            },
        )
        assert posted.status_code == 303
        cookie = next(
            value
            for value in posted.headers.get_list("set-cookie")
            if value.startswith(sessions.SESSION_COOKIE + "=")
        )
        for attribute in ("Secure", "HttpOnly", "SameSite=lax", "Path=/"):
            assert attribute.lower() in cookie.lower()
        assert "domain=" not in cookie.lower()
        landed = await sign_in(browser, "sue2@acme.test", DEFAULT_PASSWORD, "/purchase-orders")
        assert landed.status_code == 200 and str(landed.url).endswith("/purchase-orders")
        first = browser.cookies[sessions.SESSION_COOKIE]

        again = await sign_in(browser, "sue2@acme.test", DEFAULT_PASSWORD, "/purchase-orders")
        assert again.status_code == 200
        second = browser.cookies[sessions.SESSION_COOKIE]
        assert second != first
    # The earlier session was ended, not reused.
    async with secure_cookie_client(live) as stale:
        stale.cookies.set(sessions.SESSION_COOKIE, first)
        assert (await stale.get("/purchase-orders")).status_code == 303
    open_sessions = await t.WebSession.select().where(
        (t.WebSession.user_id == user_id) & t.WebSession.ended_at.is_null()
    )
    assert len(open_sessions) == 1 and open_sessions[0]["access_token"]
    grant = await t.OAuthGrant.select().where(t.OAuthGrant.family == open_sessions[0]["family"])
    assert grant[0]["client_id"] == "portal-web"
    assert grant[0]["scope"] == "openid po:read po:acknowledge po:promise po:ship cr:write notify"


async def test_next_never_leaves_the_site(live: str) -> None:
    await add_org("ACME", "supplier")
    await add_user("sue3@acme.test", org="ACME", role="supplier")
    async with secure_cookie_client(live) as browser:
        for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
            landed = await sign_in(browser, "sue3@acme.test", DEFAULT_PASSWORD, target)
            assert landed.url.host == "127.0.0.1" and landed.url.path == "/", target


async def test_sign_out_and_disabling_end_sessions(live: str) -> None:
    await add_org("ACME", "supplier")
    user_id = await add_user("sue4@acme.test", org="ACME", role="supplier")
    async with secure_cookie_client(live) as browser, secure_cookie_client(live) as other:
        page = await sign_in(browser, "sue4@acme.test", DEFAULT_PASSWORD, "/purchase-orders")
        await sign_in(other, "sue4@acme.test", DEFAULT_PASSWORD, "/purchase-orders")
        out = await browser.post("/sign-out", data={"_csrf_token": csrf_token_of(page.text)})
        assert out.status_code == 303 and out.headers["location"] == "/sign-in"
        assert (await browser.get("/purchase-orders")).status_code == 303
        assert (await other.get("/purchase-orders")).status_code == 200

        assert await sessions.end_sessions_of(user_id) == 1
        assert (await other.get("/purchase-orders")).status_code == 303
    grants = await t.OAuthGrant.select().where(t.OAuthGrant.user_id == user_id)
    assert all(grant["revoked_at"] is not None for grant in grants)
    assert "signed_out" in [row["kind"] for row in await t.AccessLog.select(t.AccessLog.kind)]


async def test_an_expired_access_token_is_refreshed_and_its_refresh_token_rotated(
    live: str,
) -> None:
    await add_org("ACME", "supplier")
    user_id = await add_user("sue5@acme.test", org="ACME", role="supplier")
    async with secure_cookie_client(live) as browser:
        await sign_in(browser, "sue5@acme.test", DEFAULT_PASSWORD, "/purchase-orders")
        session = await t.WebSession.select().where(t.WebSession.user_id == user_id).first()
        access = session["access_token"]
        # Make the stored access token one that expired a minute ago (same jti and key).
        header, claims = jwt_part(access, 0), jwt_part(access, 1)
        key = await t.SigningKey.select().where(t.SigningKey.kid == header["kid"]).first()
        now = int(time.time())
        expired = jwt.encode(
            header,
            {**claims, "iat": now - 700, "exp": now - 60},
            ECKey.import_key(key["private_pem"]),
        )
        await (
            t.WebSession.update({t.WebSession.access_token: expired})
            .where(t.WebSession.id == session["id"])
            .run()
        )

        assert (await browser.get("/purchase-orders")).status_code == 200
        renewed = await t.WebSession.select().where(t.WebSession.id == session["id"]).first()
        assert renewed["access_token"] not in (access, expired)
        assert renewed["refresh_token"] != session["refresh_token"]
        assert renewed["family"] == session["family"]
        assert (await browser.get("/purchase-orders")).status_code == 200
    logged = [row["kind"] for row in await t.AccessLog.select(t.AccessLog.kind)]
    assert "token_refreshed" in logged and "refresh_reused" not in logged


@pytest.fixture(scope="module")
def engine() -> str:
    """SQLite only: the session storage also runs on PostgreSQL in the code-flow tests, whose
    first step is this sign-in."""
    return "sqlite"
