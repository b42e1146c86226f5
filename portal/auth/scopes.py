"""The OAuth scopes of DESIGN.md section 4, and which roles may hold them.

A scope is necessary, never sufficient: the repositories still confine every read and write to
the caller's organisation.
"""

from __future__ import annotations

from portal.domain.actors import Side

PO_READ = "po:read"
PO_ACKNOWLEDGE = "po:acknowledge"
PO_PROMISE = "po:promise"
PO_SHIP = "po:ship"
CR_WRITE = "cr:write"
ORDER_READ = "order:read"
NOTIFY = "notify"
TIMELINE_READ = "timeline:read"
CR_REVIEW = "cr:review"
PO_WRITE = "po:write"
ORDER_WRITE = "order:write"
RECEIPT_WRITE = "receipt:write"
ADMIN = "admin"
OPENID = "openid"
"""Not an access scope: asks for an ID token (OpenID Connect)."""

SCOPES: tuple[str, ...] = (
    PO_READ,
    PO_ACKNOWLEDGE,
    PO_PROMISE,
    PO_SHIP,
    CR_WRITE,
    ORDER_READ,
    NOTIFY,
    TIMELINE_READ,
    CR_REVIEW,
    PO_WRITE,
    ORDER_WRITE,
    RECEIPT_WRITE,
    ADMIN,
)
OIDC_SCOPES: tuple[str, ...] = (OPENID, "profile", "email")

ROLE_SCOPES: dict[str, frozenset[str]] = {
    "supplier": frozenset({PO_READ, PO_ACKNOWLEDGE, PO_PROMISE, PO_SHIP, CR_WRITE, NOTIFY}),
    "customer": frozenset({ORDER_READ, NOTIFY}),
    "buyer": frozenset({PO_READ, TIMELINE_READ, CR_WRITE, CR_REVIEW, PO_WRITE, NOTIFY}),
    "sales": frozenset({PO_READ, ORDER_READ, TIMELINE_READ, ORDER_WRITE, NOTIFY}),
    "warehouse": frozenset({PO_READ, TIMELINE_READ, RECEIPT_WRITE, NOTIFY}),
    "admin": frozenset(SCOPES),
}
"""The most a user (or a client) of each role may be granted."""

ROLE_SIDE: dict[str, Side] = {
    "supplier": Side.SUPPLIER,
    "customer": Side.CUSTOMER,
    "buyer": Side.INTERNAL,
    "sales": Side.INTERNAL,
    "warehouse": Side.INTERNAL,
    "admin": Side.INTERNAL,
}

ORG_ROLES: dict[str, tuple[str, ...]] = {
    "internal": ("buyer", "sales", "warehouse", "admin"),
    "supplier": ("supplier",),
    "customer": ("customer",),
    "both": ("supplier", "customer"),
}
"""The roles a user of each kind of organisation may have (`both`: supplier and customer)."""


def parse(scope: str | None) -> frozenset[str]:
    return frozenset((scope or "").split())


def render(scopes: frozenset[str] | set[str]) -> str:
    """Scopes as a space-separated string in a stable order."""
    order = {name: i for i, name in enumerate(OIDC_SCOPES + SCOPES)}
    return " ".join(sorted(scopes, key=lambda name: (order.get(name, len(order)), name)))


def allowed(role: str, asked: frozenset[str]) -> frozenset[str]:
    """What a holder of `role` is granted when it asks for `asked`: the intersection (OpenID
    Connect's own scopes are always allowed)."""
    return asked & (ROLE_SCOPES.get(role, frozenset()) | frozenset(OIDC_SCOPES))
