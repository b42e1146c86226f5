"""The administration pages over real HTTP against a running portal (SQLite, then PostgreSQL),
used as an administrator uses them: signed in through the real sign-in form, forms posted with
their CSRF token, redirects followed. What the pages did is checked in the database and on the
organisation's history."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from auth_support import (
    DEFAULT_PASSWORD,
    add_org,
    add_user,
    csrf_token_of,
    live_portal,
    secure_cookie_client,
    sign_in,
)

from portal.db import tables as t
from portal.db.database import Database
from portal.domain.credentials import digest as secret_digest

ADA = "ada@acme.example"
SUE = "sue@northwind.example"
BEA = "bea@acme.example"
SECRET = re.compile(r'<code class="secret">([^<]+)</code>')


async def admin_world() -> dict[str, int]:
    await add_org("ACME", "internal", "Acme Trading")
    await add_org("SUP1", "supplier", "Northwind Fasteners")
    return {
        ADA: await add_user(ADA, org="ACME", role="admin", display_name="Ada Admin"),
        BEA: await add_user(BEA, org="ACME", role="buyer"),
        SUE: await add_user(SUE, org="SUP1", role="supplier"),
    }


async def post_form(
    browser: httpx.AsyncClient, page: str, action: str, data: dict[str, str | list[str]]
) -> httpx.Response:
    """Open `page`, take the CSRF token of its forms, post `data` to `action`; redirects are
    not followed, so the answer is the form's own."""
    opened = await browser.get(page)
    assert opened.status_code == 200, opened.text
    return await browser.post(action, data={**data, "_csrf_token": csrf_token_of(opened.text)})


async def test_an_admin_manages_organisations_and_users(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    ids = await admin_world()
    mail_dir = tmp_path / "mail"
    with live_portal(database_url, {"PORTAL_MAIL_DIR": str(mail_dir)}) as base_url:
        async with secure_cookie_client(base_url) as admin, secure_cookie_client(base_url) as sue:
            assert (await sign_in(admin, ADA, DEFAULT_PASSWORD, next="/admin")).status_code == 200
            assert (await sign_in(sue, SUE, DEFAULT_PASSWORD)).status_code == 200
            home = await admin.get("/admin")
            assert home.status_code == 200
            for link in ("/admin/organisations", "/admin/users", "/admin/clients"):
                assert f'href="{link}"' in home.text

            # Without the CSRF token nothing is created.
            forged = await admin.post("/admin/organisations", data={"code": "X", "name": "X"})
            assert forged.status_code == 403
            # A refused form comes back with its message and what was typed.
            refused = await post_form(
                admin,
                "/admin/organisations",
                "/admin/organisations",
                {"code": "bad code!", "name": "Eastwind Tools", "kind": "supplier"},
            )
            assert refused.status_code == 422
            assert "An organisation code is 1 to 32 letters" in refused.text
            assert 'value="Eastwind Tools"' in refused.text
            made = await post_form(
                admin,
                "/admin/organisations",
                "/admin/organisations",
                {"code": "sup3", "name": "Eastwind Tools", "kind": "supplier"},
            )
            assert (made.status_code, made.headers["location"]) == (
                303,
                "/admin/organisations/SUP3",
            )

            created = await post_form(
                admin,
                "/admin/users?org=SUP3",
                "/admin/users",
                {
                    "org": "SUP3",
                    "email": "Eve@Eastwind.example",
                    "name": "Eve",
                    "role": "supplier",
                    "locale": "zh_CN",
                    "time_zone": "Asia/Shanghai",
                },
            )
            assert created.status_code == 303
            eve_page = created.headers["location"]
            eve = (
                await t.AppUser.select()
                .where(t.AppUser.email == "eve@eastwind.example")
                .first()
                .run()
            )
            assert eve_page == f"/admin/users/{eve['id']}"
            assert (eve["org"], eve["role"], eve["password_hash"]) == ("SUP3", "supplier", None)

            wrong_role = await post_form(
                admin,
                eve_page,
                eve_page,
                {"name": "Eve", "role": "admin", "locale": "en", "time_zone": "UTC"},
            )
            assert wrong_role.status_code == 422
            assert (
                "Role &#39;admin&#39; is not allowed in a supplier organisation" in wrong_role.text
            )
            changed = await post_form(
                admin,
                eve_page,
                eve_page,
                {"name": "Eve Wu", "role": "supplier", "locale": "en", "time_zone": "UTC"},
            )
            assert changed.status_code == 303

            invited = await post_form(admin, eve_page, f"{eve_page}/invite", {})
            assert invited.status_code == 200
            assert invited.headers["cache-control"] == "no-store"
            assert "/invitations/" in invited.text
            assert any(mail_dir.iterdir())

            history = await admin.get("/admin/organisations/SUP3")
            assert history.status_code == 200
            for title in ("Organisation created", "User created", "User changed"):
                assert title in history.text
            assert "by Ada Admin" in history.text
            assert "<del>Eve</del> → <ins>Eve Wu</ins>" in history.text

            # Disabling Sue signs her out at once: her next page asks her to sign in.
            assert (await sue.get("/purchase-orders")).status_code == 200
            sue_page = f"/admin/users/{ids[SUE]}"
            disabled = await post_form(admin, sue_page, f"{sue_page}/disable", {})
            assert (disabled.status_code, disabled.headers["location"]) == (303, sue_page)
            after = await sue.get("/purchase-orders")
            assert after.status_code == 303
            assert after.headers["location"].startswith("/sign-in")
            assert (await sign_in(sue, SUE, DEFAULT_PASSWORD)).url.path == "/sign-in"
            sessions = await t.WebSession.select().where(t.WebSession.user_id == ids[SUE]).run()
            assert sessions and all(row["ended_at"] is not None for row in sessions)

            # The admin cannot disable herself.
            own = f"/admin/users/{ids[ADA]}"
            refused_self = await post_form(admin, own, f"{own}/disable", {})
            assert refused_self.status_code == 422
            assert "You cannot disable your own account" in refused_self.text


async def test_an_admin_registers_rotates_and_disables_a_client(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    await admin_world()
    with live_portal(database_url) as base_url:
        async with secure_cookie_client(base_url) as admin:
            await sign_in(admin, ADA, DEFAULT_PASSWORD)
            refused = await post_form(
                admin,
                "/admin/clients",
                "/admin/clients",
                {"org": "SUP1", "name": "Northwind ERP", "scopes": ["po:read", "po:write"]},
            )
            assert refused.status_code == 422
            assert "&#39;po:write&#39; is not allowed for a supplier client" in refused.text
            assert 'value="Northwind ERP"' in refused.text
            assert 'value="po:read" checked' in refused.text

            registered = await post_form(
                admin,
                "/admin/clients?org=SUP1",
                "/admin/clients",
                {
                    "org": "SUP1",
                    "name": "Northwind ERP",
                    "scopes": ["po:read", "po:ship"],
                    "grant_types": "client_credentials",
                },
            )
            assert registered.status_code == 200
            assert registered.headers["cache-control"] == "no-store"
            assert "shown only this once" in registered.text
            first_secret = SECRET.findall(registered.text)[0]
            row = (
                await t.OAuthClient.select()
                .where(t.OAuthClient.name == "Northwind ERP")
                .first()
                .run()
            )
            client_id = row["client_id"]
            assert row["secret_hash"] == secret_digest(first_secret)
            assert (row["scope"], row["role"]) == ("po:read po:ship", "supplier")

            # The client works with its secret, and its page never shows the secret again.
            token = await admin.post(
                "/oauth/token",
                data={"grant_type": "client_credentials", "scope": "po:read"},
                auth=(client_id, first_secret),
            )
            assert token.status_code == 200, token.text
            client_page = await admin.get(f"/admin/clients/{client_id}")
            assert client_page.status_code == 200
            assert first_secret not in client_page.text

            rotated = await post_form(
                admin, f"/admin/clients/{client_id}", f"/admin/clients/{client_id}/rotate", {}
            )
            assert rotated.status_code == 200
            second_secret = SECRET.findall(rotated.text)[0]
            assert second_secret != first_secret
            old = await admin.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client_id, first_secret),
            )
            assert old.status_code == 401
            new = await admin.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client_id, second_secret),
            )
            assert new.status_code == 200, new.text

            disabled = await post_form(
                admin, f"/admin/clients/{client_id}", f"/admin/clients/{client_id}/disable", {}
            )
            assert disabled.status_code == 303
            grants = await t.OAuthGrant.select().where(t.OAuthGrant.client_id == client_id).run()
            assert grants and all(grant["revoked_at"] is not None for grant in grants)
            gone = await admin.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client_id, second_secret),
            )
            assert gone.status_code in (400, 401)

            # The identity provider of the supplier.
            idp = "/admin/organisations/SUP1/identity-provider"
            plain_http = await post_form(
                admin,
                idp,
                idp,
                {
                    "issuer": "http://login.northwind.example",
                    "client_id": "p",
                    "client_secret": "s3",
                },
            )
            assert plain_http.status_code == 422
            assert "must use https://" in plain_http.text
            assert "s3" not in plain_http.text.split("</header>")[1]
            saved = await post_form(
                admin,
                idp,
                idp,
                {
                    "issuer": "https://login.northwind.example",
                    "client_id": "portal",
                    "client_secret": "provider-secret",
                    "name": "Northwind SSO",
                    "scope": "openid email profile",
                },
            )
            assert saved.status_code == 303
            org_page = await admin.get("/admin/organisations/SUP1")
            assert "Northwind SSO" in org_page.text
            assert "Identity provider set" in org_page.text
            assert "provider-secret" not in (await admin.get(idp)).text


async def test_only_admins_reach_the_administration(db: Database, database_url: str) -> None:
    await admin_world()
    with live_portal(database_url) as base_url:
        async with secure_cookie_client(base_url) as anonymous:
            page = await anonymous.get("/admin/users")
            assert page.status_code == 303
            assert page.headers["location"] == "/sign-in?next=/admin/users"
        async with secure_cookie_client(base_url) as bea:
            await sign_in(bea, BEA, DEFAULT_PASSWORD)
            for path in ("/admin", "/admin/users", "/admin/clients", "/admin/access-log"):
                assert (await bea.get(path)).status_code == 403, path
            home = await bea.get("/")
            refused = await bea.post(
                "/admin/organisations",
                data={
                    "code": "EVIL",
                    "name": "Evil",
                    "kind": "internal",
                    "_csrf_token": csrf_token_of(home.text),
                },
            )
            assert refused.status_code == 403
        assert await t.Organisation.count().where(t.Organisation.code == "EVIL").run() == 0

        # The refusals, the sign-ins and a failed one are in the access log.
        async with secure_cookie_client(base_url) as stranger:
            await sign_in(stranger, ADA, "not the password")
        async with secure_cookie_client(base_url) as admin:
            await sign_in(admin, ADA, DEFAULT_PASSWORD)
            log = await admin.get("/admin/access-log")
            assert log.status_code == 200
            assert BEA in log.text
            assert "request_denied" in log.text
            failed = await admin.get("/admin/access-log", params={"outcome": "failed"})
            assert failed.status_code == 200
            rows = failed.text.split("<tbody>")[1]
            assert ADA in rows
            assert "request_denied" not in rows
            fragment = await admin.get(
                "/admin/access-log", params={"outcome": "denied"}, headers={"HX-Request": "true"}
            )
            assert fragment.status_code == 200
            assert "<html" not in fragment.text
            assert 'id="access-log"' in fragment.text
