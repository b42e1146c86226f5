"""Who acts, and through which channel. Every event carries one."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Side(StrEnum):
    """The party an actor speaks for: it decides what the actor may do and see."""

    INTERNAL = "internal"
    SUPPLIER = "supplier"
    CUSTOMER = "customer"


class Via(StrEnum):
    WEB = "web"
    API = "api"
    IMPORT = "import"
    SYSTEM = "system"
    EMAIL = "email"  # a link in an e-mail the portal sent (an actionable notification)


class ActorKind(StrEnum):
    USER = "user"
    CLIENT = "client"
    SYSTEM = "system"
    EMAIL = "email"  # a link in an e-mail the portal sent (an actionable notification)


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    id: str | None
    org: str | None
    side: Side
    name: str
    via: Via
    role: str | None = None

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(ActorKind.SYSTEM, None, None, Side.INTERNAL, name, Via.SYSTEM)

    def to_data(self) -> dict[str, str | None]:
        """The actor as it is written on the timeline."""
        return {
            "kind": self.kind.value,
            "id": self.id,
            "org": self.org,
            "side": self.side.value,
            "name": self.name,
            "role": self.role,
        }
