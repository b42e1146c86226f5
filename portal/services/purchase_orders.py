"""Buyers issue, cancel and close purchase orders."""

from __future__ import annotations

from dataclasses import dataclass

from portal.domain import changes
from portal.domain.actors import Actor
from portal.domain.errors import DomainError, Phrase, check_version
from portal.domain.orders import POLine, PurchaseOrder
from portal.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class IssuePurchaseOrder:
    supplier: str
    currency: str
    lines: list[POLine]
    number: str | None = None
    draft: bool = False


@dataclass(frozen=True, slots=True)
class IssueDraft:
    number: str
    version: int


@dataclass(frozen=True, slots=True)
class CancelPurchaseOrder:
    number: str
    version: int
    reason: str


@dataclass(frozen=True, slots=True)
class ClosePurchaseOrder:
    number: str
    version: int


async def issue_purchase_order(
    uow: UnitOfWork, actor: Actor, cmd: IssuePurchaseOrder
) -> PurchaseOrder:
    async with uow:
        if await uow.organisations.kind_of(cmd.supplier) not in ("supplier", "both"):
            raise DomainError(
                "{supplier!r} is not a supplier known to the portal.", supplier=cmd.supplier
            )
        number = cmd.number or await uow.counters.next("PO", uow.now.date())
        if await uow.purchase_orders.exists(number):
            raise DomainError("Purchase order {number} already exists.", number=number)
        po = PurchaseOrder.create(
            actor,
            number=number,
            supplier=cmd.supplier,
            currency=cmd.currency,
            lines=cmd.lines,
            issue=not cmd.draft,
        )
        await uow.add(po)
        await uow.commit()
    return po


async def issue_draft(uow: UnitOfWork, actor: Actor, cmd: IssueDraft) -> PurchaseOrder:
    async with uow:
        po = await uow.purchase_orders.get(actor, cmd.number)
        check_version(Phrase("Purchase order {number}", number=po.number), po.version, cmd.version)
        po.issue(actor)
        await uow.save(po)
        await uow.commit()
    return po


async def cancel_purchase_order(
    uow: UnitOfWork, actor: Actor, cmd: CancelPurchaseOrder
) -> PurchaseOrder:
    async with uow:
        po = await uow.purchase_orders.get(actor, cmd.number)
        check_version(Phrase("Purchase order {number}", number=po.number), po.version, cmd.version)
        open_requests = await uow.change_requests.open_on(actor, po.number)
        changes.cancel_order(po, actor, cmd.reason, open_requests)
        await uow.save(po)
        for cr in open_requests:
            await uow.change_requests.save(cr, uow.now)
        await uow.commit()
    return po


async def close_purchase_order(
    uow: UnitOfWork, actor: Actor, cmd: ClosePurchaseOrder
) -> PurchaseOrder:
    async with uow:
        po = await uow.purchase_orders.get(actor, cmd.number)
        check_version(Phrase("Purchase order {number}", number=po.number), po.version, cmd.version)
        po.close(actor)
        await uow.save(po)
        await uow.commit()
    return po
