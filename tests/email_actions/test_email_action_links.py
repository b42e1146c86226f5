"""Actionable e-mail: the accept and view links of a supplier's new-order mail. The supplier
accepts from the mail once (the timeline says "via e-mail link"); a reused, expired, forged or
altered link, a disabled user, another supplier's user, or an order changed since the mail
changes nothing and gets a page saying why; two clicks at once accept once. SQLite and
PostgreSQL; the app runs in-process and is called as a browser calls it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from asgi_stream import StreamingASGITransport
from auth_support import TEST_SECRET_KEY, add_org, add_user, csrf_token_of
from joserfc import jwt
from joserfc.jwk import OctKey

from portal.app import create_app
from portal.db import tables as t
from portal.db import timeline
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.events import po_stream
from portal.domain.orders import POLine
from portal.notify.email_actions import ActionLinks, action_links
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge
from portal.services.purchase_orders import IssuePurchaseOrder, issue_purchase_order
from portal.services.unit_of_work import UnitOfWork
from portal.settings import Settings

BASE_URL = "https://portal.test"
NEED = datetime.now(UTC).date() + timedelta(days=30)
BUYER = Actor(ActorKind.USER, "u-buyer", "HOME", Side.INTERNAL, "Wang Fang", Via.WEB, "buyer")
READER = Actor(ActorKind.SYSTEM, None, None, Side.INTERNAL, "test", Via.SYSTEM)
NUMBER = "PO-ACME-1"


@dataclass
class World:
    settings: Settings
    http: httpx.AsyncClient
    db: Database
    users: dict[str, int]
    version: int

    def links(
        self,
        user: str = "li@acme.test",
        *,
        number: str = NUMBER,
        version: int | None = None,
        jti: str = "mail-1",
        now: datetime | None = None,
    ) -> ActionLinks:
        return action_links(
            self.settings,
            number,
            self.users[user],
            self.version if version is None else version,
            jti,
            now or datetime.now(UTC),
        )

    async def post(self, url: str, csrf: str) -> httpx.Response:
        return await self.http.post(url, data={"_csrf_token": csrf})

    async def csrf(self) -> str:
        """A CSRF token for this browser, from any page with a form."""
        page = await self.http.get("/sign-in")
        return csrf_token_of(page.text)


async def state() -> dict[str, Any]:
    """What a refused link must leave as it was."""
    events = await timeline.read(READER, po_stream(NUMBER))
    po = (
        await t.PurchaseOrder.select(t.PurchaseOrder.version, t.PurchaseOrder.status)
        .where(t.PurchaseOrder.number == NUMBER)
        .first()
        .run()
    )
    return {"events": len(events), "used_links": await t.UsedLink.count().run(), "po": po}


@asynccontextmanager
async def running(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    for code, kind in (("HOME", "internal"), ("ACME", "supplier"), ("BOLT", "supplier")):
        await add_org(code, kind)
    users = {
        "li@acme.test": await add_user("li@acme.test", org="ACME", role="supplier"),
        "zhou@bolt.test": await add_user("zhou@bolt.test", org="BOLT", role="supplier"),
        "old@acme.test": await add_user("old@acme.test", org="ACME", role="supplier", active=False),
        "chen@acme.test": await add_user(
            "chen@acme.test", org="ACME", role="supplier", locale="zh_CN"
        ),
    }
    settings = Settings(
        database_url=database_url,
        base_url=BASE_URL,
        secret_key=TEST_SECRET_KEY,
        dispatcher=False,
        mail_dir=str(tmp_path / "mail"),
    )
    app = create_app(settings)
    async with app.lifespan():
        bound: Database = app.state.db
        line = POLine(1, "BOLT-M8", "Hex bolt", Decimal(100), "pcs", Decimal("0.35"), NEED)
        po = await issue_purchase_order(
            UnitOfWork(bound), BUYER, IssuePurchaseOrder("ACME", "CNY", [line], number=NUMBER)
        )
        transport = StreamingASGITransport(app, client=("10.8.0.1", 50000))
        async with httpx.AsyncClient(
            transport=transport, base_url=BASE_URL, headers={"Accept-Language": "en"}
        ) as http:
            yield World(settings, http, bound, users, po.version)


async def test_a_supplier_accepts_from_the_mail_once(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    async with running(database_url, tmp_path) as world:
        links = world.links()
        assert links.view == links.accept + "/view"
        before = await state()

        # Opening the link (as a mail scanner would) changes nothing: it asks.
        page = await world.http.get(links.accept)
        assert page.status_code == 200, page.text
        assert "Purchase order PO-ACME-1" in page.text
        assert "Hex bolt" in page.text and "BOLT-M8" in page.text
        assert "Accept the order" in page.text
        assert await state() == before

        accepted = await world.post(links.accept, csrf_token_of(page.text))
        assert accepted.status_code == 200, accepted.text
        assert "You accepted purchase order PO-ACME-1" in accepted.text

        events = await timeline.read(READER, po_stream(NUMBER))
        (answer,) = [event for event in events if event.kind == "po.acknowledged"]
        assert answer.via == Via.EMAIL
        assert answer.actor["id"] == str(world.users["li@acme.test"])
        after = await state()
        assert after["used_links"] == 1
        assert after["po"] == {"version": world.version + 1, "status": "acknowledged"}

        # The view link shows the order read-only, with the answer on its timeline.
        shown = await world.http.get(links.view)
        assert shown.status_code == 200, shown.text
        assert "e-mail link" in shown.text
        assert "Accept the order" not in shown.text

        # The link has done its work: clicking it again explains and changes nothing.
        again = await world.post(links.accept, csrf_token_of(page.text))
        assert again.status_code == 410
        assert "This link has already been used" in again.text
        assert "Nothing was changed." in again.text
        reopened = await world.http.get(links.accept)
        assert reopened.status_code == 410
        assert await state() == after


async def test_refused_links_explain_and_change_nothing(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    async with running(database_url, tmp_path) as world:
        csrf = await world.csrf()
        good = world.links().accept
        header, payload, signature = good.rsplit("/", 1)[1].split(".")
        flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
        other_key = OctKey.import_key(b"email-action:" + b"x" * 48)
        foreign = jwt.encode(
            {"alg": "HS256"},
            {"po": NUMBER, "user": world.users["li@acme.test"], "version": world.version},
            other_key,
        )
        cases = {
            # a forged or altered link
            f"{BASE_URL}/email-actions/{header}.{payload}.{flipped}": (
                400,
                "This link is not valid",
            ),
            f"{BASE_URL}/email-actions/{foreign}": (400, "This link is not valid"),
            f"{BASE_URL}/email-actions/not-a-token": (400, "This link is not valid"),
            # expired: written longer ago than links live
            world.links(now=datetime.now(UTC) - timedelta(days=8)).accept: (
                410,
                "This link has expired",
            ),
            # its user was disabled since
            world.links("old@acme.test").accept: (403, "This link no longer works for you"),
            # another supplier's user: the order does not exist for them
            world.links("zhou@bolt.test").accept: (404, "Not found"),
            # the order changed since the mail was written
            world.links(version=world.version - 1).accept: (
                409,
                "The order changed since this e-mail",
            ),
        }
        before = await state()
        for url, (status, title) in cases.items():
            for answer in (await world.http.get(url), await world.post(url, csrf)):
                assert answer.status_code == status, (url, answer.text)
                assert title in answer.text, url
                assert "Nothing was changed." in answer.text
                assert "Accept the order" not in answer.text
            view = await world.http.get(url + "/view")
            if status in (400, 403, 404, 410):
                assert view.status_code == status, url
        assert await state() == before

        # An order answered in the portal no longer waits for the link: a link written at
        # the new version still cannot accept it.
        supplier = Actor(ActorKind.USER, "u-li", "ACME", Side.SUPPLIER, "Li", Via.WEB, "supplier")
        done = await acknowledge(
            UnitOfWork(world.db),
            supplier,
            Acknowledge(NUMBER, world.version, Decision.REJECT, reason="no stock"),
        )
        answered = await state()
        late = world.links(version=done.po.version, jti="mail-2").accept
        refused = await world.post(late, csrf)
        assert refused.status_code == 409
        assert "The order no longer waits for an answer" in refused.text
        assert await state() == answered


async def test_the_page_speaks_the_link_users_language(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    async with running(database_url, tmp_path) as world:
        page = await world.http.get(world.links("chen@acme.test").accept)
        assert page.status_code == 200
        assert '<html lang="zh-CN">' in page.text or '<html lang="zh-Hans">' in page.text
        english = await world.http.get(world.links("chen@acme.test").accept + "?lang=en")
        assert '<html lang="en">' in english.text


async def test_two_clicks_at_once_accept_once(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    async with running(database_url, tmp_path) as world:
        links = world.links()
        csrf = csrf_token_of((await world.http.get(links.accept)).text)
        answers = await asyncio.gather(*(world.post(links.accept, csrf) for _ in range(4)))
        assert sorted(answer.status_code for answer in answers) == [200, 410, 410, 410], [
            (answer.status_code, answer.text[:300]) for answer in answers
        ]
        events = await timeline.read(READER, po_stream(NUMBER))
        assert [event.kind for event in events].count("po.acknowledged") == 1
        assert await t.UsedLink.count().run() == 1


async def test_the_token_grants_one_order_for_a_while(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    async with running(database_url, tmp_path) as world:
        now = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
        links = world.links(now=now, jti="mail-9")
        token = links.accept.rsplit("/", 1)[1]
        key = OctKey.import_key(f"email-action:{TEST_SECRET_KEY}".encode())
        claims = jwt.decode(token, key, algorithms=["HS256"]).claims
        assert claims["aud"] == "portal-email-action"
        assert claims["po"] == NUMBER
        assert claims["user"] == world.users["li@acme.test"]
        assert claims["version"] == world.version
        assert claims["jti"] == "mail-9"
        assert claims["scope"] == ["po:read", "po:acknowledge"]
        expires = now + timedelta(days=world.settings.action_link_days)
        assert claims["exp"] == int(expires.timestamp())
        assert links.accept.startswith(f"{BASE_URL}/email-actions/")
