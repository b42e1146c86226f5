"""Sales orders: created by our sales staff, linked to purchase order lines, shipped to the
customer. A linked line's expected date follows the supplier's promise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from portal.domain.actors import Actor
from portal.domain.errors import DomainError, Phrase, check_version
from portal.domain.orders import LineRef, SalesLine, SalesOrder
from portal.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class CreateSalesOrder:
    customer: str
    currency: str
    lines: list[SalesLine]
    contact_email: str = ""
    contact_phone: str = ""
    number: str | None = None


@dataclass(frozen=True, slots=True)
class LinkSalesLine:
    number: str
    version: int
    line_no: int
    po_number: str
    po_line_no: int
    handling_days: int | None = None


class Progress(StrEnum):
    SHIP = "ship"
    DELIVER = "deliver"
    CLOSE = "close"
    CANCEL = "cancel"


@dataclass(frozen=True, slots=True)
class AdvanceSalesOrder:
    number: str
    version: int
    step: Progress
    on: date | None = None
    carrier: str = ""
    tracking_no: str = ""
    reason: str = ""


async def create_sales_order(uow: UnitOfWork, actor: Actor, cmd: CreateSalesOrder) -> SalesOrder:
    async with uow:
        if await uow.organisations.kind_of(cmd.customer) not in ("customer", "both"):
            raise DomainError(
                "{customer!r} is not a customer known to the portal.", customer=cmd.customer
            )
        number = cmd.number or await uow.counters.next("SO", uow.now.date())
        if await uow.sales_orders.exists(number):
            raise DomainError("Sales order {number} already exists.", number=number)
        so = SalesOrder.create(
            actor,
            number=number,
            customer=cmd.customer,
            currency=cmd.currency,
            lines=cmd.lines,
            contact_email=cmd.contact_email,
            contact_phone=cmd.contact_phone,
        )
        await uow.add(so)
        await uow.commit()
    return so


async def link_sales_line(uow: UnitOfWork, actor: Actor, cmd: LinkSalesLine) -> SalesOrder:
    async with uow:
        # The purchase order first: a promise change locks it before the sales orders it
        # moves, and taking the two locks in the same order keeps the two from deadlocking.
        po = await uow.purchase_orders.get(actor, cmd.po_number)
        so = await uow.sales_orders.get(actor, cmd.number)
        check_version(Phrase("Sales order {number}", number=so.number), so.version, cmd.version)
        handling = uow.rules.handling_days if cmd.handling_days is None else cmd.handling_days
        so.link_line(
            actor,
            cmd.line_no,
            LineRef(po.number, cmd.po_line_no),
            po.line(cmd.po_line_no),
            handling,
        )
        await uow.save(so)
        await uow.commit()
    return so


async def advance_sales_order(uow: UnitOfWork, actor: Actor, cmd: AdvanceSalesOrder) -> SalesOrder:
    async with uow:
        so = await uow.sales_orders.get(actor, cmd.number)
        check_version(Phrase("Sales order {number}", number=so.number), so.version, cmd.version)
        on = cmd.on or uow.now.date()
        if cmd.step == Progress.SHIP:
            so.ship(actor, cmd.carrier, cmd.tracking_no, on)
        elif cmd.step == Progress.DELIVER:
            so.deliver(actor, on)
        elif cmd.step == Progress.CLOSE:
            so.close(actor)
        else:
            so.cancel(actor, cmd.reason)
        await uow.save(so)
        await uow.commit()
    return so
