"""A supplier's promise reaches the customer: linked sales lines follow their PO line."""

from __future__ import annotations

from portal.domain.actors import Actor
from portal.domain.orders import PurchaseOrder
from portal.services.unit_of_work import UnitOfWork


async def follow_promises(uow: UnitOfWork, po: PurchaseOrder, cause: str) -> None:
    """Re-derive the expected date of every sales line linked to `po`, in this transaction.

    The move is the portal's doing (the customer's timeline names neither the supplier nor its
    person), and it never fails on a sales order someone is editing: it is not their change.
    """
    system = Actor.system()
    for so in await uow.sales_orders.linked_to(po.number):
        moved = False
        for line in so.lines:
            if line.link and line.link.po_number == po.number:
                moved |= so.follow(system, line.line_no, po.line(line.link.line_no), cause=cause)
        if moved:
            await uow.save(so, checked=False)
