"""The supplier's answer to a purchase order: accept, reject, or accept with changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from portal.domain.actors import Actor
from portal.domain.changes import ChangeRequest, LineChange, open_change_request
from portal.domain.errors import DomainError, check_version
from portal.domain.orders import PurchaseOrder
from portal.domain.schedule import Schedule
from portal.services.propagation import follow_promises
from portal.services.unit_of_work import UnitOfWork


class Decision(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    ACCEPT_WITH_CHANGES = "accept_with_changes"


@dataclass(frozen=True, slots=True)
class Acknowledge:
    number: str
    version: int
    decision: Decision
    reason: str = ""
    promises: dict[int, Schedule] = field(default_factory=dict)
    changes: tuple[LineChange, ...] = ()
    reason_code: str = "other"
    comment: str = ""


@dataclass(frozen=True, slots=True)
class Acknowledged:
    po: PurchaseOrder
    change_request: ChangeRequest | None


async def acknowledge(uow: UnitOfWork, actor: Actor, cmd: Acknowledge) -> Acknowledged:
    async with uow:
        po = await uow.purchase_orders.get(actor, cmd.number)
        check_version(f"Purchase order {po.number}", po.version, cmd.version)
        cr = None
        if cmd.decision == Decision.ACCEPT:
            po.accept(actor, cmd.promises)
        elif cmd.decision == Decision.REJECT:
            po.reject(actor, cmd.reason)
        else:
            if not cmd.changes:
                raise DomainError("Accepting with changes needs at least one changed line.")
            po.accept_with_changes(actor, {change.line_no for change in cmd.changes})
            cr = open_change_request(
                po,
                actor,
                changes=cmd.changes,
                reason_code=cmd.reason_code,
                comment=cmd.comment,
                due_at=uow.now + timedelta(hours=uow.rules.cr_sla_hours),
                policy=uow.rules.tolerance,
                from_acknowledgement=True,
            )
        await uow.save(po)
        if cr is not None:
            await uow.change_requests.add(cr, uow.purchase_orders.ids[po.number], uow.now)
        await follow_promises(uow, po, cause="acknowledged")
        await uow.commit()
    return Acknowledged(po, cr)
