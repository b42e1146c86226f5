"""The supplier keeps its promise current: a new delivery schedule for a line, with a reason."""

from __future__ import annotations

from dataclasses import dataclass

from portal.domain.actors import Actor
from portal.domain.errors import check_version
from portal.domain.orders import PurchaseOrder
from portal.domain.schedule import Schedule
from portal.services.propagation import follow_promises
from portal.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class ChangePromise:
    number: str
    version: int
    line_no: int
    schedule: Schedule
    reason_code: str
    comment: str = ""


async def change_promise(uow: UnitOfWork, actor: Actor, cmd: ChangePromise) -> PurchaseOrder:
    async with uow:
        po = await uow.purchase_orders.get(actor, cmd.number)
        check_version(f"Purchase order {po.number}", po.version, cmd.version)
        po.change_promise(actor, cmd.line_no, cmd.schedule, cmd.reason_code, cmd.comment)
        await uow.save(po)
        await follow_promises(uow, po, cause="promise_changed")
        await uow.commit()
    return po
