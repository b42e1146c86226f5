"""Who may hear of an order's events: the people of each side of the order.

For a purchase order: the supplier organisation's users (the outside party) and our buyers
(the order's own buyer when the name matches one, else every buyer, so nobody's order goes
unwatched). For a sales order: the customer organisation's users, the order's contact address
when it is nobody's account (a guest customer is told too), and our sales staff.

Only active users, and only those whose role speaks for the side: an organisation that is both
a supplier and a customer has people for each.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.auth.scopes import ROLE_SIDE
from portal.db import tables as t
from portal.domain.actors import Side
from portal.domain.orders import PurchaseOrder, SalesOrder

CONTACT_PREFIX = "contact:"


@dataclass(frozen=True, slots=True)
class Reader:
    """One person who may be told. `user_id` is None for a sales order's contact address."""

    user_id: int | None
    name: str
    email: str
    side: Side
    org: str
    time_zone: str = ""

    @property
    def target(self) -> str:
        """What a delivery row names as its recipient."""
        return str(self.user_id) if self.user_id is not None else CONTACT_PREFIX + self.email


async def _users(*, orgs: list[str], side: Side, roles: tuple[str, ...] = ()) -> list[Reader]:
    if not orgs:
        return []
    rows = (
        await t.AppUser.select(
            t.AppUser.id,
            t.AppUser.display_name,
            t.AppUser.email,
            t.AppUser.role,
            t.AppUser.org,
            t.AppUser.time_zone,
        )
        .where(t.AppUser.org.is_in(orgs) & (t.AppUser.active == True))  # noqa: E712
        .order_by(t.AppUser.id)
        .run()
    )
    return [
        Reader(row["id"], row["display_name"], row["email"], side, row["org"], row["time_zone"])
        for row in rows
        if ROLE_SIDE.get(row["role"]) == side and (not roles or row["role"] in roles)
    ]


async def internal_orgs() -> list[str]:
    rows = (
        await t.Organisation.select(t.Organisation.code)
        .where(t.Organisation.kind == "internal")
        .run()
    )
    return sorted(row["code"] for row in rows)


async def readers_of(order: PurchaseOrder | SalesOrder) -> list[Reader]:
    """Everybody of both sides who may hear of this order's events (the rules of `topic_for`
    then decide who hears of which)."""
    ours = await internal_orgs()
    if isinstance(order, PurchaseOrder):
        outside = await _users(orgs=[order.supplier], side=Side.SUPPLIER)
        buyers = await _users(orgs=ours, side=Side.INTERNAL, roles=("buyer",))
        own = [reader for reader in buyers if order.buyer and reader.name == order.buyer]
        return outside + (own or buyers)
    outside = await _users(orgs=[order.customer], side=Side.CUSTOMER)
    contact = order.contact_email.strip()
    if contact and not any(reader.email.lower() == contact.lower() for reader in outside):
        outside.append(Reader(None, contact, contact, Side.CUSTOMER, order.customer))
    return outside + await _users(orgs=ours, side=Side.INTERNAL, roles=("sales",))


async def routed_to(user_ids: object) -> list[Reader]:
    """The people an event names as its recipients (an alert's owner and managers): our own
    active staff only, whatever the data says."""
    given = user_ids if isinstance(user_ids, list) else []
    ids = {i for i in given if isinstance(i, int)}
    if not ids:
        return []
    ours = await internal_orgs()
    readers = await _users(orgs=ours, side=Side.INTERNAL)
    return [reader for reader in readers if reader.user_id in ids]
