"""The supplier's answer to a purchase order: accept, reject, or accept with changes, for the
whole order at once (`acknowledge`) or line by line (`acknowledge_lines`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from portal.domain.actors import Actor
from portal.domain.answers import LineAnswer, LineAnswerKind, answers_to_changes
from portal.domain.changes import (
    ChangeRequest,
    LineChange,
    open_change_request,
    require_dates_from,
)
from portal.domain.errors import DomainError, Phrase, check_version
from portal.domain.orders import PurchaseOrder
from portal.domain.schedule import Schedule
from portal.services.propagation import follow_promises
from portal.services.unit_of_work import UnitOfWork

__all__ = [
    "Acknowledge",
    "AcknowledgeLines",
    "Acknowledged",
    "Decision",
    "LineAnswer",
    "LineAnswerKind",
    "acknowledge",
    "acknowledge_lines",
]


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
    """Deliveries promised for lines accepted as ordered (full quantity by the need date)."""
    changes: tuple[LineChange, ...] = ()
    reason_code: str = "other"
    comment: str = ""


@dataclass(frozen=True, slots=True)
class AcknowledgeLines:
    number: str
    version: int
    answers: tuple[LineAnswer, ...]
    """Lines not answered are accepted as ordered."""
    reason_code: str = "other"
    comment: str = ""


@dataclass(frozen=True, slots=True)
class Acknowledged:
    po: PurchaseOrder
    change_request: ChangeRequest | None


async def acknowledge(uow: UnitOfWork, actor: Actor, cmd: Acknowledge) -> Acknowledged:
    async with uow:
        po = await uow.purchase_orders.get(actor, cmd.number)
        check_version(Phrase("Purchase order {number}", number=po.number), po.version, cmd.version)
        if cmd.decision == Decision.REJECT:
            po.reject(actor, cmd.reason)
            cr = None
        else:
            if cmd.decision == Decision.ACCEPT_WITH_CHANGES and not cmd.changes:
                raise DomainError("Accepting with changes needs at least one changed line.")
            changes = cmd.changes if cmd.decision == Decision.ACCEPT_WITH_CHANGES else ()
            cr = _answer(uow, actor, po, cmd.promises, changes, cmd.reason_code, cmd.comment)
        await _save(uow, po, cr)
        await uow.commit()
    return Acknowledged(po, cr)


async def acknowledge_lines(uow: UnitOfWork, actor: Actor, cmd: AcknowledgeLines) -> Acknowledged:
    """Every answer that differs from the order goes into one change request (approved at
    once where the tolerance policy allows); if none does, the order is simply accepted."""
    async with uow:
        po = await uow.purchase_orders.get(actor, cmd.number)
        check_version(Phrase("Purchase order {number}", number=po.number), po.version, cmd.version)
        answered = answers_to_changes(po, cmd.answers)
        cr = _answer(
            uow, actor, po, answered.promises, answered.changes, cmd.reason_code, cmd.comment
        )
        await _save(uow, po, cr)
        await uow.commit()
    return Acknowledged(po, cr)


def _answer(
    uow: UnitOfWork,
    actor: Actor,
    po: PurchaseOrder,
    promises: dict[int, Schedule],
    changes: tuple[LineChange, ...],
    reason_code: str,
    comment: str,
) -> ChangeRequest | None:
    today = uow.now.date()
    for line_no, schedule in promises.items():
        schedule.require_from(today, line_no)
    require_dates_from(changes, today)
    if not changes:
        po.accept(actor, promises)
        return None
    po.accept_with_changes(actor, {change.line_no for change in changes}, promises)
    return open_change_request(
        po,
        actor,
        changes=changes,
        reason_code=reason_code,
        comment=comment,
        due_at=uow.now + timedelta(hours=uow.rules.cr_sla_hours),
        policy=uow.rules.tolerance,
        from_acknowledgement=True,
    )


async def _save(uow: UnitOfWork, po: PurchaseOrder, cr: ChangeRequest | None) -> None:
    await uow.save(po)
    if cr is not None:
        await uow.change_requests.add(cr, uow.purchase_orders.ids[po.number], uow.now)
    await follow_promises(uow, po, cause="acknowledged")
