"""Who is calling, as the guards see it: the actor the services record, plus the scopes the
caller's token carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from portal.auth import scopes as s
from portal.domain.actors import Actor, ActorKind, Via


@dataclass(frozen=True, slots=True)
class Principal:
    actor: Actor
    scopes: frozenset[str]
    client_id: str
    user_id: int | None = None
    email: str = ""
    locale: str | None = None
    time_zone: str | None = None
    session: str | None = field(default=None, repr=False)
    """The web session's id digest, for pages; None for bearer tokens."""

    def holds(self, *any_of: str) -> bool:
        return any(scope in self.scopes for scope in any_of)

    @property
    def org(self) -> str:
        assert self.actor.org is not None
        return self.actor.org


def user_principal(
    user: dict[str, Any],
    *,
    scopes: frozenset[str],
    client_id: str,
    via: Via,
    session: str | None = None,
) -> Principal:
    """`user` is an app_user row. The granted scopes are cut to what the role allows now, so a
    role changed after sign-in takes effect at once."""
    role = user["role"]
    actor = Actor(
        ActorKind.USER,
        str(user["id"]),
        user["org"],
        s.ROLE_SIDE[role],
        user["display_name"],
        via,
        role,
    )
    return Principal(
        actor=actor,
        scopes=s.allowed(role, scopes),
        client_id=client_id,
        user_id=user["id"],
        email=user["email"],
        locale=user["locale"],
        time_zone=user["time_zone"],
        session=session,
    )


def client_principal(client: dict[str, Any], *, scopes: frozenset[str]) -> Principal:
    """`client` is an oauth_client row acting for its organisation (client credentials)."""
    role = client["role"]
    actor = Actor(
        ActorKind.CLIENT,
        client["client_id"],
        client["org"],
        s.ROLE_SIDE[role],
        client["name"],
        Via.API,
        role,
    )
    return Principal(
        actor=actor,
        scopes=s.allowed(role, scopes) & s.parse(client["scope"]),
        client_id=client["client_id"],
    )
