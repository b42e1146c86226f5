"""Invitations, end to end: an admin invites a user who has no password, the mail carries a
single-use link, and the link's page (on a running portal, over real HTTP) lets the user choose
a password and signs them in. Used, expired and forged links change nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from auth_support import (
    add_org,
    add_user,
    csrf_token_of,
    secure_cookie_client,
    sign_in,
)
from test_mail import parts, written

from portal.auth.invitations import INVITE, LinkProblem, invite, open_link
from portal.auth.passwords import verify_password
from portal.db import tables as t
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.credentials import digest
from portal.domain.errors import DomainError, NotFound
from portal.settings import Settings

ENGLISH = {"Accept-Language": "en"}
"""The pages' words are checked in English (the default language is Chinese)."""
ADMIN = Actor(ActorKind.USER, "1", "ACME", Side.INTERNAL, "Ada Admin", Via.WEB, "admin")
SUPPLIER_ADMIN = Actor(ActorKind.USER, "9", "SUP1", Side.SUPPLIER, "Sly", Via.WEB, "admin")
ANN = "ann@northwind.example"
NEW_PASSWORD = "a long new password 1"
LINK = re.compile(r"https?://\S+/invitations/[A-Za-z0-9_-]+")


async def invited_world() -> int:
    await add_org("ACME", "internal")
    await add_org("SUP1", "supplier")
    return await add_user(ANN, org="SUP1", role="supplier", password=None)


def mailed_link(folder: Path) -> str:
    """The link of the newest mail in the folder, as the recipient would click it."""
    text, _ = parts(written(folder)[-1])
    found = LINK.search(text)
    assert found, text
    return found.group(0)


async def user_row(user_id: int) -> dict[str, object]:
    row = await t.AppUser.select().where(t.AppUser.id == user_id).first().run()
    assert row is not None
    return dict(row)


async def access_kinds() -> list[str]:
    return [row["kind"] for row in await t.AccessLog.select(t.AccessLog.kind).run()]


def settings_for(base_url: str, mail_dir: Path) -> Settings:
    return Settings(base_url=base_url, mail_dir=str(mail_dir))


async def test_an_invited_user_chooses_a_password_and_is_signed_in(
    db: Database, live: str, tmp_path: Path
) -> None:
    ann = await invited_world()
    mail_dir = tmp_path / "mail"
    invitation = await invite(db, settings_for(live, mail_dir), ADMIN, ann)
    link = mailed_link(mail_dir)
    assert link == invitation.link
    assert invitation.mailed

    async with secure_cookie_client(live, headers=ENGLISH) as browser:
        page = await browser.get(link)
        assert page.status_code == 200
        assert ANN in page.text
        csrf = csrf_token_of(page.text)

        too_short = await browser.post(
            link, data={"password": "short", "password_confirm": "short", "_csrf_token": csrf}
        )
        assert too_short.status_code == 422
        assert "at least 10 characters" in too_short.text
        differ = await browser.post(
            link,
            data={
                "password": NEW_PASSWORD,
                "password_confirm": NEW_PASSWORD + "x",
                "_csrf_token": csrf,
            },
        )
        assert differ.status_code == 422
        assert "The two passwords differ." in differ.text

        home = await browser.post(
            link,
            data={
                "password": NEW_PASSWORD,
                "password_confirm": NEW_PASSWORD,
                "_csrf_token": csrf,
            },
            follow_redirects=True,
        )
        assert home.status_code == 200, home.text
        assert home.url.path == "/"
        assert "Sign out" in home.text

    # The password works from another browser; the link does not work a second time,
    # not even from a form left open (the password stays the one chosen).
    async with secure_cookie_client(live, headers=ENGLISH) as other:
        signed = await sign_in(other, ANN, NEW_PASSWORD)
        assert signed.url.path == "/" and "Sign out" in signed.text
        again = await other.get(link)
        assert again.status_code == 410
        assert "was used already" in again.text
        replay = await other.post(
            link,
            data={
                "password": "another password 22",
                "password_confirm": "another password 22",
                "_csrf_token": csrf_token_of(signed.text),
            },
        )
        assert replay.status_code == 410

    stored = await user_row(ann)
    assert verify_password(str(stored["password_hash"]), NEW_PASSWORD)
    kinds = await access_kinds()
    assert "invitation_sent" in kinds and "invitation_accepted" in kinds and "sign_in" in kinds


async def test_expired_and_forged_invitations_change_nothing(
    db: Database, live: str, tmp_path: Path
) -> None:
    ann = await invited_world()
    link = (await invite(db, settings_for(live, tmp_path), ADMIN, ann)).link
    token = link.rsplit("/", 1)[1]
    # Time passes beyond the invitation's days.
    await (
        t.OneTimeLink.update({t.OneTimeLink.expires_at: datetime.now(UTC) - timedelta(minutes=1)})
        .where(t.OneTimeLink.token_hash == digest(token))
        .run()
    )
    forged = link[:-4] + ("aaaa" if not link.endswith("aaaa") else "bbbb")

    async with secure_cookie_client(live, headers=ENGLISH) as browser:
        expired = await browser.get(link)
        assert expired.status_code == 410
        assert "has expired" in expired.text
        unknown = await browser.get(forged)
        assert unknown.status_code == 404
        assert "There is no such invitation" in unknown.text
        csrf = csrf_token_of((await browser.get("/password-reset")).text)
        for target, status in ((link, 410), (forged, 404)):
            tried = await browser.post(
                target,
                data={
                    "password": NEW_PASSWORD,
                    "password_confirm": NEW_PASSWORD,
                    "_csrf_token": csrf,
                },
            )
            assert tried.status_code == status
            assert "__Host-portal_session" not in tried.cookies

    stored = await user_row(ann)
    assert stored["password_hash"] is None
    assert "invitation_accepted" not in await access_kinds()


async def test_inviting_again_replaces_the_earlier_link(db: Database, tmp_path: Path) -> None:
    ann = await invited_world()
    settings = settings_for("https://portal.example.com", tmp_path)
    first = await invite(db, settings, ADMIN, ann)
    second = await invite(db, settings, ADMIN, ann)

    now = datetime.now(UTC)
    assert await open_link(first.link.rsplit("/", 1)[1], INVITE, now) == LinkProblem.EXPIRED
    assert not isinstance(await open_link(second.link.rsplit("/", 1)[1], INVITE, now), LinkProblem)
    assert len(written(tmp_path)) == 2


async def test_only_portal_admins_invite_and_only_users_without_a_password(
    db: Database, tmp_path: Path
) -> None:
    ann = await invited_world()
    bob = await add_user("bob@northwind.example", org="SUP1", role="supplier")
    settings = settings_for("https://portal.example.com", tmp_path)

    with pytest.raises(NotFound):
        await invite(db, settings, SUPPLIER_ADMIN, ann)
    with pytest.raises(DomainError, match="has a password already"):
        await invite(db, settings, ADMIN, bob)
    assert await t.OneTimeLink.count().run() == 0
    assert written(tmp_path) == []
