"""A supplier's promise reaches the customer: linked sales lines follow their PO line."""

from __future__ import annotations

from portal.domain.actors import Actor
from portal.domain.orders import PurchaseOrder
from portal.domain.states import POStatus
from portal.services.unit_of_work import UnitOfWork

ACKNOWLEDGED = "acknowledged"
"""The cause an acknowledgement follows promises with: it also confirms the linked lines."""
NOT_CONFIRMED = (POStatus.REJECTED, POStatus.CANCELLED)


async def follow_promises(uow: UnitOfWork, po: PurchaseOrder, cause: str) -> None:
    """Re-derive the expected date of every sales line linked to `po`, in this transaction.

    The move is the portal's doing (the customer's timeline names neither the supplier nor its
    person), and it never fails on a sales order someone is editing: it is not their change.
    When the supplier acknowledges (and does not reject) the order, each linked line that is
    not cancelled is also confirmed to the customer, after any move, with the date it is now
    expected on.
    """
    system = Actor.system()
    confirming = cause == ACKNOWLEDGED and po.status not in NOT_CONFIRMED
    for so in await uow.sales_orders.linked_to(po.number):
        changed = False
        for line in so.lines:
            if line.link and line.link.po_number == po.number:
                po_line = po.line(line.link.line_no)
                changed |= so.follow(system, line.line_no, po_line, cause=cause)
                if confirming and not po_line.cancelled:
                    changed |= so.confirm_line(system, line.line_no)
        if changed:
            await uow.save(so, checked=False)
