"""What each role may be granted, and how a principal is built from a user or a client."""

from __future__ import annotations

from portal.auth import scopes as s
from portal.auth.principal import client_principal, user_principal
from portal.domain.actors import ActorKind, Side, Via

USER = {
    "id": 7,
    "email": "li@acme.example",
    "display_name": "Li Lei",
    "org": "ACME",
    "role": "supplier",
    "locale": "zh_CN",
    "time_zone": "Asia/Shanghai",
}


def test_granted_scopes_are_what_the_role_allows_of_what_was_asked() -> None:
    asked = s.parse("openid po:read po:ship admin timeline:read")
    assert s.allowed("supplier", asked) == {"openid", "po:read", "po:ship"}
    assert s.allowed("customer", asked) == {"openid"}
    assert s.allowed("admin", asked) == asked


def test_an_unknown_role_is_granted_nothing_but_openid() -> None:
    assert s.allowed("intruder", s.parse("po:read openid")) == {"openid"}


def test_every_role_scope_is_a_known_scope_and_only_admins_hold_admin() -> None:
    for role, held in s.ROLE_SCOPES.items():
        assert held <= set(s.SCOPES), role
        assert (s.ADMIN in held) == (role == "admin")


def test_every_role_an_organisation_may_have_has_scopes_and_a_side() -> None:
    for roles in s.ORG_ROLES.values():
        for role in roles:
            assert s.ROLE_SCOPES[role]
            assert role in s.ROLE_SIDE
    assert s.ROLE_SIDE["supplier"] == Side.SUPPLIER
    assert s.ROLE_SIDE["customer"] == Side.CUSTOMER
    assert {s.ROLE_SIDE[role] for role in s.ORG_ROLES["internal"]} == {Side.INTERNAL}


def test_scopes_render_in_a_stable_order() -> None:
    assert s.render({"po:ship", "openid", "po:read"}) == "openid po:read po:ship"
    assert s.parse(s.render(set(s.SCOPES))) == set(s.SCOPES)


def test_a_user_principal_speaks_for_the_users_organisation_and_role() -> None:
    principal = user_principal(
        USER, scopes=s.parse("po:read admin"), client_id="portal-web", via=Via.WEB
    )
    assert principal.actor.kind == ActorKind.USER
    assert principal.actor.id == "7"
    assert principal.actor.org == "ACME"
    assert principal.actor.side == Side.SUPPLIER
    assert principal.actor.name == "Li Lei"
    # The token may carry more than the role allows today (a role was changed after sign-in):
    # the principal holds only what the role allows now.
    assert principal.scopes == {"po:read"}
    assert principal.holds("admin", "po:read")
    assert not principal.holds("admin")


def test_a_client_principal_holds_only_its_own_scopes_within_its_role() -> None:
    client = {
        "client_id": "erp-acme",
        "name": "Acme ERP",
        "org": "ACME",
        "role": "supplier",
        "scope": "po:read po:ship",
    }
    principal = client_principal(client, scopes=s.parse("po:read po:ship po:promise admin"))
    assert principal.actor.kind == ActorKind.CLIENT
    assert principal.actor.via == Via.API
    assert principal.actor.org == "ACME"
    assert principal.scopes == {"po:read", "po:ship"}
    assert principal.user_id is None
