"""Administration through the real services on SQLite and PostgreSQL: organisations, users,
OAuth clients and identity providers change only for an internal admin (or the command line),
every change is an event on the organisation's stream with its author and before/after, and
disabling a user or a client ends their access in the same transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from integration_support import AT, SUPPLIER, World

from portal.db import tables as t
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.credentials import digest
from portal.domain.errors import DomainError, NotFound
from portal.services import accounts, clients

ADMIN = Actor(ActorKind.USER, "900", "ACME", Side.INTERNAL, "Ada Admin", Via.WEB, "admin")
CLI = Actor.system("cli")


async def add_user(world: World, email: str, org: str, role: str, *, by: Actor = ADMIN) -> int:
    created = await accounts.create_user(
        world.uow(), by, accounts.CreateUser(org=org, email=email, name=email, role=role)
    )
    return created.id


async def database_text() -> str:
    """Every row of the tables a secret could leak into, as one text."""
    rows: list[Any] = []
    for table in (t.OAuthClient, t.Event, t.AccessLog, t.IdentityProvider):
        rows += await table.select().run()
    return repr(rows)


async def test_organisations_are_created_and_changed_with_their_history(world: World) -> None:
    made = await accounts.create_organisation(
        world.uow(),
        ADMIN,
        accounts.CreateOrganisation(code=" sup3 ", name="Eastwind", kind="supplier"),
    )
    assert (made.code, made.name, made.kind) == ("SUP3", "Eastwind", "supplier")
    await accounts.update_organisation(
        world.uow(),
        ADMIN,
        accounts.UpdateOrganisation(code="SUP3", name="Eastwind Tools", kind="both"),
    )

    events = await world.events("org/SUP3")
    assert [event["kind"] for event in events] == ["org.created", "org.updated"]
    assert events[1]["actor"]["name"] == "Ada Admin"
    assert events[1]["actor"]["org"] == "ACME"
    assert events[1]["at"] == AT
    assert events[1]["audience"] == "internal"
    assert events[1]["data"] == {
        "code": "SUP3",
        "before": {"name": "Eastwind", "kind": "supplier"},
        "after": {"name": "Eastwind Tools", "kind": "both"},
    }
    row = await t.Organisation.select().where(t.Organisation.code == "SUP3").first().run()
    assert (row["name"], row["kind"]) == ("Eastwind Tools", "both")
    await world.sealed()


async def test_bad_organisations_are_refused(world: World) -> None:
    for code, kind, message in [
        ("SUP1", "supplier", "already exists"),
        ("bad code!", "supplier", "organisation code"),
        ("NEW", "vendor", "Unknown kind 'vendor'"),
    ]:
        with pytest.raises(DomainError, match=message):
            await accounts.create_organisation(
                world.uow(), ADMIN, accounts.CreateOrganisation(code=code, name="X", kind=kind)
            )
    assert await t.Organisation.count().run() == 5
    assert await t.Event.count().run() == 0


async def test_a_kind_that_no_longer_fits_its_users_is_refused(world: World) -> None:
    await add_user(world, "sue@northwind.test", "SUP1", "supplier")
    with pytest.raises(DomainError, match="cannot have a 'supplier' user"):
        await accounts.update_organisation(
            world.uow(),
            ADMIN,
            accounts.UpdateOrganisation(code="SUP1", name="Northwind", kind="customer"),
        )
    row = await t.Organisation.select().where(t.Organisation.code == "SUP1").first().run()
    assert row["kind"] == "supplier"


async def test_users_are_created_updated_and_recorded(world: World) -> None:
    made = await accounts.create_user(
        world.uow(),
        ADMIN,
        accounts.CreateUser(
            org="SUP1",
            email="  Sue@Northwind.TEST ",
            name="Sue",
            role="supplier",
            locale="zh_CN",
            time_zone="Asia/Shanghai",
        ),
    )
    assert made.email == "sue@northwind.test"
    assert not made.has_password
    await accounts.update_user(
        world.uow(),
        ADMIN,
        accounts.UpdateUser(
            user_id=made.id, name="Sue Li", role="supplier", locale="en", time_zone="UTC"
        ),
    )

    row = await t.AppUser.select().where(t.AppUser.id == made.id).first().run()
    assert (row["display_name"], row["locale"], row["time_zone"]) == ("Sue Li", "en", "UTC")
    assert row["password_hash"] is None
    created, updated = await world.events("org/SUP1")
    assert created["kind"] == "user.created"
    assert created["data"]["after"]["role"] == "supplier"
    assert updated["kind"] == "user.updated"
    assert updated["actor"]["name"] == "Ada Admin"
    assert updated["data"] == {
        "user_id": made.id,
        "email": "sue@northwind.test",
        "before": {"name": "Sue", "locale": "zh_CN", "time_zone": "Asia/Shanghai"},
        "after": {"name": "Sue Li", "locale": "en", "time_zone": "UTC"},
    }
    await world.sealed()


BAD_USERS = [
    ("SUP1", "SUE@northwind.test", "supplier", "en", "UTC", "already exists"),
    ("SUP1", "new@northwind.test", "buyer", "en", "UTC", "'buyer' is not allowed"),
    ("ACME", "new@acme.test", "supplier", "en", "UTC", "'supplier' is not allowed"),
    ("SUP1", "not-an-address", "supplier", "en", "UTC", "not an e-mail address"),
    ("SUP1", "new@northwind.test", "supplier", "fr", "UTC", "Unknown language 'fr'"),
    ("SUP1", "new@northwind.test", "supplier", "en", "Mars/Olympus", "Unknown time zone"),
    ("NOPE", "new@nope.test", "supplier", "en", "UTC", "'NOPE' was not found"),
]
"""(org, e-mail, role, locale, time zone, what the refusal says)"""


async def test_bad_users_are_refused(world: World) -> None:
    await add_user(world, "sue@northwind.test", "SUP1", "supplier")
    for org, email, role, locale, zone, message in BAD_USERS:
        cmd = accounts.CreateUser(
            org=org, email=email, name="N", role=role, locale=locale, time_zone=zone
        )
        with pytest.raises(DomainError, match=message):
            await accounts.create_user(world.uow(), ADMIN, cmd)
    assert await t.AppUser.count().run() == 1
    assert len(await world.events("org/SUP1")) == 1


async def test_disabling_a_user_ends_their_sessions_and_tokens_at_once(world: World) -> None:
    sue = await add_user(world, "sue@northwind.test", "SUP1", "supplier")
    other = await add_user(world, "sid@southwind.test", "SUP2", "supplier")
    later = AT + timedelta(hours=12)
    for number, user_id in enumerate((sue, sue, other)):
        await t.WebSession.insert(
            t.WebSession(sid_hash=f"{number:064d}", user_id=user_id, expires_at=later)
        ).run()
        await t.OAuthGrant.insert(
            t.OAuthGrant(
                family=f"family-{number}", client_id="web", user_id=user_id, org="SUP1", scope=""
            )
        ).run()
        await t.OAuthToken.insert(
            t.OAuthToken(
                family=f"family-{number}",
                access_jti=f"jti-{number}",
                issued_at=AT,
                access_expires_at=later,
            )
        ).run()

    await accounts.disable_user(world.uow(), ADMIN, accounts.DisableUser(user_id=sue))

    sessions = await t.WebSession.select().order_by(t.WebSession.id).run()
    assert [row["ended_at"] for row in sessions] == [AT, AT, None]
    grants = await t.OAuthGrant.select().order_by(t.OAuthGrant.id).run()
    assert [row["revoked_at"] for row in grants] == [AT, AT, None]
    assert grants[0]["revoke_reason"] == "user_disabled"
    tokens = await t.OAuthToken.select().order_by(t.OAuthToken.id).run()
    assert [row["revoked_at"] for row in tokens] == [AT, AT, None]
    user = await t.AppUser.select().where(t.AppUser.id == sue).first().run()
    assert user["active"] is False
    disabled = (await world.events("org/SUP1"))[-1]
    assert disabled["kind"] == "user.disabled"
    assert disabled["data"]["before"] == {"active": True}
    assert disabled["data"]["after"] == {"active": False}
    assert disabled["data"]["sessions_ended"] == 2

    with pytest.raises(DomainError, match="already disabled"):
        await accounts.disable_user(world.uow(), ADMIN, accounts.DisableUser(user_id=sue))
    await accounts.enable_user(world.uow(), ADMIN, accounts.EnableUser(user_id=sue))
    assert (await world.events("org/SUP1"))[-1]["kind"] == "user.enabled"
    await world.sealed()


async def test_an_admin_cannot_lock_themself_out(world: World) -> None:
    ada = await add_user(world, "ada@acme.test", "ACME", "admin", by=CLI)
    herself = Actor(ActorKind.USER, str(ada), "ACME", Side.INTERNAL, "Ada", Via.WEB, "admin")
    with pytest.raises(DomainError, match="cannot disable your own account"):
        await accounts.disable_user(world.uow(), herself, accounts.DisableUser(user_id=ada))
    with pytest.raises(DomainError, match="cannot change your own role"):
        await accounts.update_user(
            world.uow(),
            herself,
            accounts.UpdateUser(
                user_id=ada, name="Ada", role="buyer", locale="en", time_zone="UTC"
            ),
        )
    row = await t.AppUser.select().where(t.AppUser.id == ada).first().run()
    assert (row["role"], row["active"]) == ("admin", True)


BUYER = Actor(ActorKind.USER, "901", "ACME", Side.INTERNAL, "Bea", Via.WEB, "buyer")
SUPPLIER_ADMIN = Actor(ActorKind.USER, "902", "SUP1", Side.SUPPLIER, "Sam", Via.WEB, "admin")
OTHER_SYSTEM = Actor.system()


@pytest.mark.parametrize(
    "actor",
    [BUYER, SUPPLIER, SUPPLIER_ADMIN, OTHER_SYSTEM],
    ids=["buyer", "supplier", "admin role outside an internal org", "system, not the cli"],
)
async def test_only_internal_admins_and_the_cli_administer(world: World, actor: Actor) -> None:
    with pytest.raises(NotFound):
        await accounts.create_user(
            world.uow(),
            actor,
            accounts.CreateUser(org="SUP1", email="x@y.test", name="X", role="supplier"),
        )
    with pytest.raises(NotFound):
        await clients.register_client(
            world.uow(),
            actor,
            clients.RegisterClient(org="SUP1", name="ERP", scopes=("po:read",)),
        )
    with pytest.raises(NotFound):
        await accounts.users(actor)
    with pytest.raises(NotFound):
        await accounts.access_log(actor, accounts.AccessFilter())
    assert await t.AppUser.count().run() == 0
    assert await t.OAuthClient.count().run() == 0
    assert await t.Event.count().run() == 0


async def test_a_registered_client_gets_a_secret_once_and_the_database_only_its_hash(
    world: World,
) -> None:
    issued = await clients.register_client(
        world.uow(),
        CLI,
        clients.RegisterClient(org="SUP1", name="Northwind ERP", scopes=("po:read po:ship",)),
    )
    client = issued.client
    assert client.client_id.startswith("sup1-")
    assert (client.role, client.grant_types, client.scopes) == (
        "supplier",
        ["client_credentials"],
        ["po:read", "po:ship"],
    )
    assert len(issued.secret) >= 40
    assert issued.secret not in repr(issued)
    row = (
        await t.OAuthClient.select()
        .where(t.OAuthClient.client_id == client.client_id)
        .first()
        .run()
    )
    assert row["secret_hash"] == digest(issued.secret)
    assert issued.secret not in await database_text()
    registered = (await world.events("org/SUP1"))[-1]
    assert registered["kind"] == "client.registered"
    assert registered["actor"]["kind"] == "system"
    assert registered["data"]["after"]["scope"] == "po:read po:ship"

    rotated = await clients.rotate_secret(
        world.uow(), ADMIN, clients.RotateSecret(client_id=client.client_id)
    )
    assert rotated.secret != issued.secret
    row = (
        await t.OAuthClient.select()
        .where(t.OAuthClient.client_id == client.client_id)
        .first()
        .run()
    )
    assert row["secret_hash"] == digest(rotated.secret)
    assert rotated.secret not in await database_text()
    assert (await world.events("org/SUP1"))[-1]["kind"] == "client.secret_rotated"
    await world.sealed()


BAD_CLIENTS = [
    (
        clients.RegisterClient(org="SUP1", name="ERP", scopes=("po:read po:write",)),
        "'po:write' is not allowed for a supplier client",
    ),
    (
        clients.RegisterClient(org="CUS1", name="Shop", scopes=("po:read",)),
        "'po:read' is not allowed for a customer client",
    ),
    (
        clients.RegisterClient(org="SUP1", name="ERP", scopes=("po:read",), role="buyer"),
        "'buyer' is not allowed in a supplier organisation",
    ),
    (
        clients.RegisterClient(org="ACME", name="BI", scopes=("po:read",)),
        "say which one this client is",
    ),
    (
        clients.RegisterClient(org="SUP1", name="ERP", scopes=("openid",)),
        "'openid' is not allowed",
    ),
    (
        clients.RegisterClient(org="SUP1", name="ERP", scopes=()),
        "at least one scope",
    ),
    (
        clients.RegisterClient(
            org="SUP1", name="App", scopes=("po:read",), grant_types=("implicit",)
        ),
        "Unknown grant type 'implicit'",
    ),
    (
        clients.RegisterClient(
            org="SUP1", name="App", scopes=("po:read",), grant_types=("authorization_code",)
        ),
        "needs at least one redirect URI",
    ),
    (
        clients.RegisterClient(
            org="SUP1",
            name="App",
            scopes=("po:read",),
            grant_types=("authorization_code",),
            redirect_uris=("http://app.example.com/cb",),
        ),
        "must use https://",
    ),
    (
        clients.RegisterClient(
            org="SUP1",
            name="App",
            scopes=("po:read",),
            grant_types=("authorization_code",),
            redirect_uris=("https://app.example.com/cb#x",),
        ),
        "must not contain a fragment",
    ),
    (
        clients.RegisterClient(
            org="SUP1", name="App", scopes=("po:read",), grant_types=("refresh_token",)
        ),
        "only issued with the authorization_code grant",
    ),
]
"""(what is asked, what the refusal says)"""


async def test_bad_clients_are_refused(world: World) -> None:
    for cmd, message in BAD_CLIENTS:
        with pytest.raises(DomainError, match=message):
            await clients.register_client(world.uow(), ADMIN, cmd)
    assert await t.OAuthClient.count().run() == 0
    assert await t.Event.count().run() == 0


async def test_a_code_client_may_redirect_to_https_or_loopback(world: World) -> None:
    issued = await clients.register_client(
        world.uow(),
        ADMIN,
        clients.RegisterClient(
            org="ACME",
            name="Reports",
            role="buyer",
            scopes=("openid", "po:read"),
            grant_types=("authorization_code", "refresh_token"),
            redirect_uris=("https://reports.acme.test/cb", "http://127.0.0.1:8765/cb"),
        ),
    )
    assert issued.client.redirect_uris == [
        "https://reports.acme.test/cb",
        "http://127.0.0.1:8765/cb",
    ]
    assert issued.client.scopes == ["openid", "po:read"]


async def test_disabling_a_client_revokes_its_token_families(world: World) -> None:
    issued = await clients.register_client(
        world.uow(), ADMIN, clients.RegisterClient(org="SUP1", name="ERP", scopes=("po:read",))
    )
    client_id = issued.client.client_id
    for family, owner in (("f-erp", client_id), ("f-other", "someone-else")):
        await t.OAuthGrant.insert(
            t.OAuthGrant(family=family, client_id=owner, org="SUP1", scope="po:read")
        ).run()

    await clients.disable_client(world.uow(), ADMIN, clients.DisableClient(client_id=client_id))

    grants = {row["family"]: row["revoked_at"] for row in await t.OAuthGrant.select().run()}
    assert grants == {"f-erp": AT, "f-other": None}
    row = await t.OAuthClient.select().where(t.OAuthClient.client_id == client_id).first().run()
    assert row["active"] is False
    disabled = (await world.events("org/SUP1"))[-1]
    assert (disabled["kind"], disabled["data"]["token_families_revoked"]) == (
        "client.disabled",
        1,
    )
    with pytest.raises(DomainError, match="is disabled"):
        await clients.rotate_secret(world.uow(), ADMIN, clients.RotateSecret(client_id=client_id))


async def test_an_identity_provider_is_set_changed_and_cleared(world: World) -> None:
    await clients.set_identity_provider(
        world.uow(),
        ADMIN,
        clients.SetIdentityProvider(
            org="SUP1",
            issuer="https://login.northwind.test",
            client_id="portal",
            client_secret="provider-secret-1",
        ),
    )
    provider = await clients.identity_provider(ADMIN, "SUP1")
    assert provider is not None
    assert (provider.name, provider.issuer, provider.has_secret) == (
        "Northwind Fasteners",
        "https://login.northwind.test",
        True,
    )
    await clients.set_identity_provider(
        world.uow(),
        ADMIN,
        clients.SetIdentityProvider(
            org="SUP1", issuer="http://127.0.0.1:9400", client_id="portal", name="Northwind SSO"
        ),
    )
    row = await t.IdentityProvider.select().where(t.IdentityProvider.org == "SUP1").first().run()
    assert row["client_secret"] == "provider-secret-1"
    assert row["issuer"] == "http://127.0.0.1:9400"

    await clients.clear_identity_provider(
        world.uow(), ADMIN, clients.ClearIdentityProvider(org="SUP1")
    )
    assert await clients.identity_provider(ADMIN, "SUP1") is None
    events = await world.events("org/SUP1")
    assert [event["kind"] for event in events] == [
        "identity_provider.set",
        "identity_provider.set",
        "identity_provider.cleared",
    ]
    assert events[1]["data"]["before"] == {
        "name": "Northwind Fasteners",
        "issuer": "https://login.northwind.test",
    }
    assert events[1]["data"]["secret_changed"] is False
    assert "provider-secret-1" not in repr(await t.Event.select().run())
    await world.sealed()


async def test_bad_identity_providers_are_refused(world: World) -> None:
    for issuer, secret, message in [
        ("http://login.northwind.test", "s", "must use https://"),
        ("ftp://login.northwind.test", "s", "must be an https:// address"),
        ("https://login.northwind.test", "", "client secret is required"),
    ]:
        cmd = clients.SetIdentityProvider(
            org="SUP1", issuer=issuer, client_id="portal", client_secret=secret
        )
        with pytest.raises(DomainError, match=message):
            await clients.set_identity_provider(world.uow(), ADMIN, cmd)
    assert await t.IdentityProvider.count().run() == 0


async def test_admins_read_the_access_log_newest_first_and_filtered(world: World) -> None:
    for minute, (kind, outcome, org) in enumerate(
        [
            ("sign_in", "ok", "SUP1"),
            ("sign_in_failed", "failed", "SUP1"),
            ("sign_in", "ok", "CUS1"),
        ]
    ):
        await t.AccessLog.insert(
            t.AccessLog(
                at=AT + timedelta(minutes=minute), kind=kind, outcome=outcome, org=org, detail="{}"
            )
        ).run()
    everything = await accounts.access_log(ADMIN, accounts.AccessFilter())
    assert [(entry.kind, entry.org) for entry in everything.items] == [
        ("sign_in", "CUS1"),
        ("sign_in_failed", "SUP1"),
        ("sign_in", "SUP1"),
    ]
    signed_in_sup1 = await accounts.access_log(
        ADMIN, accounts.AccessFilter(kind="sign_in", org="SUP1")
    )
    assert [(entry.kind, entry.org) for entry in signed_in_sup1.items] == [("sign_in", "SUP1")]
    second_page = await accounts.access_log(ADMIN, accounts.AccessFilter(), page=2, per_page=2)
    assert (second_page.total, [entry.org for entry in second_page.items]) == (3, ["SUP1"])
    assert await accounts.access_kinds(ADMIN) == ["sign_in", "sign_in_failed"]
