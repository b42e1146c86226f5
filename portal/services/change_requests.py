"""Change requests: open, then approve, reject, counter or withdraw, over as many rounds as it
takes. Every decision is checked against the request's version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from portal.domain import changes, impact
from portal.domain.actors import Actor
from portal.domain.changes import ChangeRequest, LineChange
from portal.domain.errors import DomainError, Phrase, check_version
from portal.domain.orders import PurchaseOrder
from portal.domain.states import SOStatus
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


@dataclass(frozen=True, slots=True)
class BulkApprove:
    """Change requests to approve together, each with the version the buyer saw."""

    versions: tuple[tuple[str, int], ...]
    comment: str = ""


async def bulk_approve(uow: UnitOfWork, actor: Actor, cmd: BulkApprove) -> list[ChangeRequest]:
    """Approve every request in one transaction, or none: a stale one, one no longer open, or
    one that is not low impact (see `portal.domain.impact`) refuses the lot, so a buyer never
    approves unread a change that cancels, reprices, substitutes or makes a customer late."""
    if not cmd.versions:
        raise DomainError("Pick at least one change request to approve.")
    numbers = [number for number, _ in cmd.versions]
    if len(set(numbers)) != len(numbers):
        raise DomainError("Each change request can be picked only once.")
    async with uow:
        orders: dict[str, PurchaseOrder] = {}
        approved: list[ChangeRequest] = []
        refused: list[str] = []
        for number, version in cmd.versions:
            cr = await uow.change_requests.get(actor, number)
            check_version(Phrase("Change request {number}", number=cr.number), cr.version, version)
            po = orders.get(cr.po_number)
            if po is None:
                po = orders[cr.po_number] = await uow.purchase_orders.get(actor, cr.po_number)
            linked = [
                impact.LinkedLine(
                    so_number=so.number,
                    customer=so.customer,
                    customer_name=so.customer,
                    line_no=line.line_no,
                    po_line_no=line.link.line_no,
                    quantity=line.quantity,
                    requested_date=line.requested_date,
                    expected_date=line.expected_date,
                    handling_days=line.handling_days,
                )
                for so in await uow.sales_orders.linked_to(po.number)
                if so.status == SOStatus.OPEN
                for line in so.lines
                if line.link and line.link.po_number == po.number
            ]
            effects = impact.customer_effects(
                {line.line_no: line for line in po.lines}, cr.changes, linked
            )
            if not impact.is_low_impact(cr.changes, effects):
                refused.append(cr.number)
                continue
            changes.approve(po, cr, actor, cmd.comment)
            await uow.change_requests.save(cr, uow.now)
            approved.append(cr)
        if refused:
            raise DomainError(
                "Only low-impact change requests can be approved together; decide {numbers} "
                "one by one (they cancel a line, change a price or an item, or make a "
                "customer's order late).",
                numbers=", ".join(refused),
            )
        for po in orders.values():
            await uow.save(po)
            await follow_promises(uow, po, cause="change_approved")
        await uow.commit()
    return approved
