"""Change requests: open, then approve, reject, counter or withdraw, over as many rounds as it
takes. Every decision is checked against the request's version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from portal.domain import changes
from portal.domain.actors import Actor
from portal.domain.changes import ChangeRequest, LineChange
from portal.domain.errors import DomainError, Phrase, check_version
from portal.services.propagation import follow_promises
from portal.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class OpenChangeRequest:
    po_number: str
    version: int
    changes: tuple[LineChange, ...]
    reason_code: str
    comment: str = ""


class Verdict(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    COUNTER = "counter"
    WITHDRAW = "withdraw"


@dataclass(frozen=True, slots=True)
class DecideChangeRequest:
    number: str
    version: int
    verdict: Verdict
    comment: str = ""
    changes: tuple[LineChange, ...] = ()
    reason_code: str = "other"


@dataclass(frozen=True, slots=True)
class Decided:
    change_request: ChangeRequest
    counter: ChangeRequest | None = None


async def open_change_request(
    uow: UnitOfWork, actor: Actor, cmd: OpenChangeRequest
) -> ChangeRequest:
    async with uow:
        po = await uow.purchase_orders.get(actor, cmd.po_number)
        check_version(Phrase("Purchase order {number}", number=po.number), po.version, cmd.version)
        changes.require_dates_from(cmd.changes, uow.now.date())
        cr = changes.open_change_request(
            po,
            actor,
            changes=cmd.changes,
            reason_code=cmd.reason_code,
            comment=cmd.comment,
            due_at=uow.now + timedelta(hours=uow.rules.cr_sla_hours),
            policy=uow.rules.tolerance,
        )
        await uow.save(po)
        await uow.change_requests.add(cr, uow.purchase_orders.ids[po.number], uow.now)
        if cr.auto_approved:
            await follow_promises(uow, po, cause="change_approved")
        await uow.commit()
    return cr


async def decide_change_request(uow: UnitOfWork, actor: Actor, cmd: DecideChangeRequest) -> Decided:
    async with uow:
        cr = await uow.change_requests.get(actor, cmd.number)
        check_version(Phrase("Change request {number}", number=cr.number), cr.version, cmd.version)
        po = await uow.purchase_orders.get(actor, cr.po_number)
        new = None
        if cmd.verdict == Verdict.APPROVE:
            changes.approve(po, cr, actor, cmd.comment)
        elif cmd.verdict == Verdict.REJECT:
            changes.reject(po, cr, actor, cmd.comment)
        elif cmd.verdict == Verdict.WITHDRAW:
            changes.withdraw(po, cr, actor, cmd.comment)
        else:
            if not cmd.changes:
                raise DomainError("A counter proposal needs at least one change of its own.")
            changes.require_dates_from(cmd.changes, uow.now.date())
            new = changes.counter(
                po,
                cr,
                actor,
                changes=cmd.changes,
                reason_code=cmd.reason_code,
                comment=cmd.comment,
                due_at=uow.now + timedelta(hours=uow.rules.cr_sla_hours),
            )
        await uow.change_requests.save(cr, uow.now)
        await uow.save(po)
        if new is not None:
            await uow.change_requests.add(new, uow.purchase_orders.ids[po.number], uow.now)
        if cmd.verdict == Verdict.APPROVE:
            await follow_promises(uow, po, cause="change_approved")
        await uow.commit()
    return Decided(cr, new)
