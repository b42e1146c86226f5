"""Goods move: the supplier posts shipments, the warehouse records receipts."""

from __future__ import annotations

from dataclasses import dataclass, replace

from portal.domain.actors import Actor
from portal.domain.errors import DomainError, check_version
from portal.domain.orders import PurchaseOrder
from portal.domain.receipts import Receipt
from portal.domain.shipments import Shipment
from portal.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class PostShipment:
    po_number: str
    version: int
    shipment: Shipment


@dataclass(frozen=True, slots=True)
class RecordReceipt:
    po_number: str
    version: int
    receipt: Receipt


async def post_shipment(uow: UnitOfWork, actor: Actor, cmd: PostShipment) -> PurchaseOrder:
    async with uow:
        po = await uow.purchase_orders.get(actor, cmd.po_number)
        check_version(f"Purchase order {po.number}", po.version, cmd.version)
        shipment = cmd.shipment
        if not shipment.number:
            shipment = replace(shipment, number=await uow.counters.next("ASN", uow.now.date()))
        elif await uow.shipments.exists(shipment.number):
            raise DomainError(f"Shipment {shipment.number} was already posted.")
        po.post_shipment(actor, shipment, uow.rules.over_delivery_pct)
        await uow.save(po)
        await uow.shipments.add(shipment, uow.purchase_orders.ids[po.number], uow.now)
        await uow.commit()
    return po


async def record_receipt(uow: UnitOfWork, actor: Actor, cmd: RecordReceipt) -> PurchaseOrder:
    async with uow:
        po = await uow.purchase_orders.get(actor, cmd.po_number)
        check_version(f"Purchase order {po.number}", po.version, cmd.version)
        po_id = uow.purchase_orders.ids[po.number]
        receipt = cmd.receipt
        if not receipt.number:
            receipt = replace(receipt, number=await uow.counters.next("GR", uow.now.date()))
        elif await uow.receipts.exists(receipt.number):
            raise DomainError(f"Receipt {receipt.number} was already recorded.")
        shipment = receipt.shipment_number
        if shipment and not await uow.shipments.on_order(po_id, shipment):
            raise DomainError(f"Purchase order {po.number} has no shipment {shipment}.")
        po.record_receipt(actor, receipt, uow.rules.over_delivery_pct)
        await uow.save(po)
        await uow.receipts.add(receipt, po_id, uow.now)
        await uow.commit()
    return po
