"""Password reset over real HTTP against a running portal: the same answer whether or not an
account has the address, a mailed single-use link, every other session ended, and a rate limit
that answers 429 with Retry-After."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from auth_support import (
    DEFAULT_PASSWORD,
    add_org,
    add_user,
    csrf_token_of,
    live_portal,
    secure_cookie_client,
    sign_in,
)
from test_mail import parts, written

from portal.auth.passwords import verify_password
from portal.db import tables as t
from portal.db.database import Database

ENGLISH = {"Accept-Language": "en"}
"""The pages' words are checked in English (the default language is Chinese)."""
ANN = "ann@northwind.example"
NOBODY = "nobody@northwind.example"
NEW_PASSWORD = "a brand new password 7"
LINK = re.compile(r"https?://\S+/password-reset/[A-Za-z0-9_-]+")
CSRF = re.compile(r"[0-9a-f]{64,}")


async def ask_for_link(browser: httpx.AsyncClient, address: str) -> httpx.Response:
    form = await browser.get("/password-reset")
    assert form.status_code == 200
    return await browser.post(
        "/password-reset", data={"email": address, "_csrf_token": csrf_token_of(form.text)}
    )


async def mailed_link(folder: Path) -> str:
    """The link of the one reset mail, which goes out just after the answer."""
    for _ in range(200):
        mails = written(folder)
        if mails:
            break
        await asyncio.sleep(0.05)
    [mail] = mails
    assert mail["To"] == ANN
    found = LINK.search(parts(mail)[0])
    assert found
    return found.group(0)


async def test_a_reset_link_sets_a_new_password_once_and_ends_other_sessions(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    await add_org("SUP1", "supplier")
    ann = await add_user(ANN, org="SUP1", role="supplier")
    mail_dir = tmp_path / "mail"
    with live_portal(database_url, env={"PORTAL_MAIL_DIR": str(mail_dir)}) as base_url:
        async with (
            secure_cookie_client(base_url, headers=ENGLISH) as elsewhere,
            secure_cookie_client(base_url, headers=ENGLISH) as browser,
        ):
            assert "Sign out" in (await sign_in(elsewhere, ANN, DEFAULT_PASSWORD)).text

            unknown = await ask_for_link(browser, NOBODY)
            known = await ask_for_link(browser, ANN)
            # The same answer, word for word, but for the address typed.
            assert unknown.status_code == known.status_code == 200
            assert CSRF.sub("", unknown.text).replace(NOBODY, ANN) == CSRF.sub("", known.text)

            link = await mailed_link(mail_dir)
            form = await browser.get(link)
            assert form.status_code == 200
            home = await browser.post(
                link,
                data={
                    "password": NEW_PASSWORD,
                    "password_confirm": NEW_PASSWORD,
                    "_csrf_token": csrf_token_of(form.text),
                },
                follow_redirects=True,
            )
            assert home.url.path == "/" and "Sign out" in home.text

            # The browser signed in before the reset is signed out.
            ended = await elsewhere.get("/")
            assert ended.status_code == 303
            assert ended.headers["location"].startswith("/sign-in")

            again = await browser.get(link)
            assert again.status_code == 410
            assert "was used already" in again.text

        async with secure_cookie_client(base_url, headers=ENGLISH) as fresh:
            refused = await sign_in(fresh, ANN, DEFAULT_PASSWORD)
            assert "Sign out" not in refused.text
            assert "Sign out" in (await sign_in(fresh, ANN, NEW_PASSWORD)).text

    assert len(written(mail_dir)) == 1, "no mail for an address without an account"
    row = await t.AppUser.select(t.AppUser.password_hash).where(t.AppUser.id == ann).first().run()
    assert row is not None and verify_password(row["password_hash"], NEW_PASSWORD)
    kinds = [row["kind"] for row in await t.AccessLog.select(t.AccessLog.kind).run()]
    assert "password_reset" in kinds and "password_reset_requested" in kinds


@pytest.mark.parametrize("engine", ["sqlite"])
async def test_too_many_reset_requests_are_refused_with_retry_after(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    await add_org("SUP1", "supplier")
    await add_user(ANN, org="SUP1", role="supplier")
    with live_portal(database_url, env={"PORTAL_MAIL_DIR": str(tmp_path)}) as base_url:
        async with secure_cookie_client(base_url, headers=ENGLISH) as browser:
            answers = [await ask_for_link(browser, ANN) for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert int(answers[-1].headers["retry-after"]) > 0
    kinds = [row["kind"] for row in await t.AccessLog.select(t.AccessLog.kind).run()]
    assert "rate_limited" in kinds
