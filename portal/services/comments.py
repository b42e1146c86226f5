"""Comments on an order's timeline: a conversation kept next to the changes it is about."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from portal.domain.actors import Actor
from portal.domain.orders import PurchaseOrder, SalesOrder
from portal.services.unit_of_work import UnitOfWork


class OrderKind(StrEnum):
    PURCHASE = "purchase"
    SALES = "sales"


@dataclass(frozen=True, slots=True)
class AddComment:
    kind: OrderKind
    number: str
    text: str
    internal_only: bool = False


async def add_comment(uow: UnitOfWork, actor: Actor, cmd: AddComment) -> PurchaseOrder | SalesOrder:
    """Comments do not change the order, so they take no version and leave it as it is: two
    people may write at once, and neither makes the other's next edit stale."""
    async with uow:
        order: PurchaseOrder | SalesOrder
        if cmd.kind == OrderKind.PURCHASE:
            order = await uow.purchase_orders.get(actor, cmd.number)
        else:
            order = await uow.sales_orders.get(actor, cmd.number)
        order.comment(actor, cmd.text, internal_only=cmd.internal_only)
        uow.note(order)
        await uow.commit()
    return order
