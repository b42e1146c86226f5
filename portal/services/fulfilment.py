"""Goods move: the supplier posts shipments (and corrects or cancels them before receipt), the
warehouse records receipts."""

from __future__ import annotations

from dataclasses import dataclass, replace

from portal.db.repositories import SHIPMENT_CANCELLED
from portal.domain.actors import Actor
from portal.domain.errors import DomainError, NotFound, Phrase, check_version
from portal.domain.orders import PurchaseOrder
from portal.domain.receipts import Receipt
from portal.domain.shipments import Shipment
from portal.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class PostShipment:
    po_number: str
    version: int
    shipment: Shipment
    """An empty `number` asks the portal to number it."""


@dataclass(frozen=True, slots=True)
class CorrectShipment:
    po_number: str
    version: int
    shipment: Shipment
    """What was really sent; its `number` names the posted shipment it replaces."""
    reason: str


@dataclass(frozen=True, slots=True)
class CancelShipment:
    po_number: str
    version: int
    number: str
    reason: str


@dataclass(frozen=True, slots=True)
class RecordReceipt:
    po_number: str
    version: int
    receipt: Receipt


@dataclass(frozen=True, slots=True)
class Shipped:
    po: PurchaseOrder
    shipment: Shipment
    """As stored, with the number it was given."""


async def post_shipment(uow: UnitOfWork, actor: Actor, cmd: PostShipment) -> Shipped:
    async with uow:
        po = await uow.purchase_orders.get(actor, cmd.po_number)
        check_version(Phrase("Purchase order {number}", number=po.number), po.version, cmd.version)
        shipment = cmd.shipment
        if not shipment.number:
            shipment = replace(shipment, number=await uow.counters.next("ASN", uow.now.date()))
        elif await uow.shipments.exists(shipment.number):
            raise DomainError("Shipment {number} was already posted.", number=shipment.number)
        po.post_shipment(actor, shipment, uow.rules.over_delivery_pct)
        await uow.save(po)
        await uow.shipments.add(shipment, uow.purchase_orders.ids[po.number], uow.now)
        await uow.commit()
    return Shipped(po, shipment)


async def _posted(uow: UnitOfWork, po: PurchaseOrder, number: str) -> tuple[Shipment, bool]:
    """The posted shipment `number` of the order, and whether goods of it were received."""
    po_id = uow.purchase_orders.ids[po.number]
    found = await uow.shipments.find(po_id, number)
    if found is None:
        raise NotFound(
            "Purchase order {number} has no shipment {shipment}.", number=po.number, shipment=number
        )
    shipment, status = found
    if status == SHIPMENT_CANCELLED:
        raise DomainError("Shipment {number} was cancelled.", number=number)
    return shipment, await uow.receipts.name_shipment(po_id, number)


async def correct_shipment(uow: UnitOfWork, actor: Actor, cmd: CorrectShipment) -> Shipped:
    async with uow:
        po = await uow.purchase_orders.get(actor, cmd.po_number)
        check_version(Phrase("Purchase order {number}", number=po.number), po.version, cmd.version)
        po_id = uow.purchase_orders.ids[po.number]
        before, received = await _posted(uow, po, cmd.shipment.number)
        po.correct_shipment(
            actor,
            before,
            cmd.shipment,
            cmd.reason,
            uow.rules.over_delivery_pct,
            received=received,
        )
        await uow.save(po)
        await uow.shipments.save(cmd.shipment, po_id, uow.now)
        await uow.commit()
    return Shipped(po, cmd.shipment)


async def cancel_shipment(uow: UnitOfWork, actor: Actor, cmd: CancelShipment) -> PurchaseOrder:
    async with uow:
        po = await uow.purchase_orders.get(actor, cmd.po_number)
        check_version(Phrase("Purchase order {number}", number=po.number), po.version, cmd.version)
        po_id = uow.purchase_orders.ids[po.number]
        shipment, received = await _posted(uow, po, cmd.number)
        po.cancel_shipment(actor, shipment, cmd.reason, received=received)
        await uow.save(po)
        await uow.shipments.cancel(po_id, cmd.number, uow.now)
        await uow.commit()
    return po


async def record_receipt(uow: UnitOfWork, actor: Actor, cmd: RecordReceipt) -> PurchaseOrder:
    async with uow:
        po = await uow.purchase_orders.get(actor, cmd.po_number)
        check_version(Phrase("Purchase order {number}", number=po.number), po.version, cmd.version)
        po_id = uow.purchase_orders.ids[po.number]
        receipt = cmd.receipt
        if not receipt.number:
            receipt = replace(receipt, number=await uow.counters.next("GR", uow.now.date()))
        elif await uow.receipts.exists(receipt.number):
            raise DomainError("Receipt {number} was already recorded.", number=receipt.number)
        if receipt.shipment_number:
            found = await uow.shipments.find(po_id, receipt.shipment_number)
            if found is None:
                raise DomainError(
                    "Purchase order {number} has no shipment {shipment_number}.",
                    number=po.number,
                    shipment_number=receipt.shipment_number,
                )
            if found[1] == SHIPMENT_CANCELLED:
                raise DomainError(
                    "Shipment {shipment_number} was cancelled; receive the goods without it "
                    "or against the shipment that brought them.",
                    shipment_number=receipt.shipment_number,
                )
        po.record_receipt(actor, receipt, uow.rules.over_delivery_pct)
        await uow.save(po)
        await uow.receipts.add(receipt, po_id, uow.now)
        await uow.commit()
    return po
