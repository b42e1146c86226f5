"""Rows <-> domain objects, always scoped by the actor's organisation.

The organisation filter lives here and nowhere else: a supplier's actor only ever finds its own
purchase orders, a customer's only its own sales orders, and a record the actor may not see is
reported exactly like one that does not exist.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from piccolo.columns.combination import And, Where
from piccolo.query import Select

from portal.db import tables as t
from portal.db.codec import dump, load
from portal.domain.actors import Actor, Side
from portal.domain.changes import ChangeRequest, LineChange
from portal.domain.errors import Conflict, NotFound
from portal.domain.orders import LineRef, POLine, PurchaseOrder, SalesLine, SalesOrder
from portal.domain.receipts import Receipt
from portal.domain.schedule import Schedule
from portal.domain.shipments import Shipment, ShipmentLine
from portal.domain.states import CRStatus, POStatus, SOStatus


def scope_purchase_orders(actor: Actor, query: Select[Any]) -> Select[Any] | None:
    """The purchase orders `actor` may see, or None when it may see none."""
    if actor.side == Side.INTERNAL:
        return query
    if actor.side == Side.SUPPLIER and actor.org:
        # A draft is still ours to change: the supplier learns of an order when it is issued.
        return query.where(
            (t.PurchaseOrder.supplier == actor.org) & (t.PurchaseOrder.status != "draft")
        )
    return None


def scope_sales_orders(actor: Actor, query: Select[Any]) -> Select[Any] | None:
    if actor.side == Side.INTERNAL:
        return query
    if actor.side == Side.CUSTOMER and actor.org:
        return query.where(t.SalesOrder.customer == actor.org)
    return None


def for_update(query: Select[Any]) -> Select[Any]:
    """Lock the rows an order is read from until the transaction ends, so that no other writer
    changes them between this read and its write-back (which writes every line as read).
    SQLite has no row locks and needs none: its writers run one at a time, from `BEGIN
    IMMEDIATE` on."""
    return query if query.engine_type == "sqlite" else query.lock_rows()


def _schedule(data: Any) -> Schedule | None:
    return Schedule.from_data(data) if data else None


def stored_decimal(value: Any) -> Decimal:
    """A stored number without the column's trailing zeros (PostgreSQL gives 100.0000), so
    messages and events say 100, as the user wrote it."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return (
        number.quantize(Decimal(1)) if number == number.to_integral_value() else number.normalize()
    )


def po_line_from_row(row: dict[str, Any]) -> POLine:
    return POLine(
        line_no=row["line_no"],
        item=row["item"],
        description=row["description"],
        quantity=stored_decimal(row["quantity"]),
        unit=row["unit"],
        unit_price=stored_decimal(row["unit_price"]),
        need_date=row["need_date"],
        first_promise=_schedule(load(row["first_promise"])),
        promise=_schedule(load(row["promise"])),
        shipped_qty=stored_decimal(row["shipped_qty"]),
        received_qty=stored_decimal(row["received_qty"]),
        rejected_qty=stored_decimal(row["rejected_qty"]),
        cancelled=row["cancelled"],
    )


async def _first(query: Select[Any] | None) -> dict[str, Any] | None:
    if query is None:
        return None
    rows = await query.limit(1).run()
    return rows[0] if rows else None


class PurchaseOrders:
    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self._line_ids: dict[tuple[str, int], int] = {}

    async def get(self, actor: Actor, number: str) -> PurchaseOrder:
        query = scope_purchase_orders(
            actor, t.PurchaseOrder.select().where(t.PurchaseOrder.number == number)
        )
        row = await _first(for_update(query) if query is not None else None)
        if row is None:
            raise NotFound("Purchase order {number} was not found.", number=number)
        lines = (
            await t.POLine.select().where(t.POLine.po == row["id"]).order_by(t.POLine.line_no).run()
        )
        self.ids[number] = row["id"]
        for line in lines:
            self._line_ids[(number, line["line_no"])] = line["id"]
        return PurchaseOrder(
            version=row["version"],
            number=row["number"],
            supplier=row["supplier"],
            currency=row["currency"],
            status=POStatus(row["status"]),
            buyer=row["buyer"],
            cr_count=row["cr_count"],
            lines=[po_line_from_row(line) for line in lines],
        )

    async def exists(self, number: str) -> bool:
        return bool(await t.PurchaseOrder.exists().where(t.PurchaseOrder.number == number).run())

    async def add(self, po: PurchaseOrder, now: datetime) -> None:
        rows = (
            await t.PurchaseOrder.insert(
                t.PurchaseOrder(
                    number=po.number,
                    supplier=po.supplier,
                    currency=po.currency,
                    status=po.status.value,
                    buyer=po.buyer,
                    version=po.version,
                    cr_count=po.cr_count,
                    created_at=now,
                    updated_at=now,
                )
            )
            .returning(t.PurchaseOrder.id)
            .run()
        )
        self.ids[po.number] = rows[0]["id"]
        for line in po.lines:
            inserted = (
                await t.POLine.insert(t.POLine(po=rows[0]["id"], **self._line_values(line)))
                .returning(t.POLine.id)
                .run()
            )
            self._line_ids[(po.number, line.line_no)] = inserted[0]["id"]

    @staticmethod
    def _line_values(line: POLine) -> dict[str, Any]:
        return {
            "line_no": line.line_no,
            "item": line.item,
            "description": line.description,
            "quantity": line.quantity,
            "unit": line.unit,
            "unit_price": line.unit_price,
            "need_date": line.need_date,
            "first_promise": dump(line.first_promise.to_data()) if line.first_promise else None,
            "promise": dump(line.promise.to_data()) if line.promise else None,
            "promised_date": line.promised_date,
            "shipped_qty": line.shipped_qty,
            "received_qty": line.received_qty,
            "rejected_qty": line.rejected_qty,
            "cancelled": line.cancelled,
        }

    async def save(self, po: PurchaseOrder, now: datetime) -> None:
        """Write the order back if nobody changed it since it was read; bump its version."""
        po_id = self.ids[po.number]
        where = (t.PurchaseOrder.id == po_id) & (t.PurchaseOrder.version == po.version)
        updated = (
            await t.PurchaseOrder.update(
                {
                    t.PurchaseOrder.status: po.status.value,
                    t.PurchaseOrder.cr_count: po.cr_count,
                    t.PurchaseOrder.version: t.PurchaseOrder.version + 1,
                    t.PurchaseOrder.updated_at: now,
                }
            )
            .where(where)
            .returning(t.PurchaseOrder.version)
            .run()
        )
        if not updated:
            current = (
                await t.PurchaseOrder.select(t.PurchaseOrder.version)
                .where(t.PurchaseOrder.id == po_id)
                .first()
                .run()
            )
            raise Conflict(
                "Purchase order {number} was changed by someone else meanwhile; reload "
                "it and try again.",
                number=po.number,
                current_version=current["version"] if current else po.version,
            )
        po.version = updated[0]["version"]
        for line in po.lines:
            values = self._line_values(line)
            await (
                t.POLine.update({getattr(t.POLine, name): value for name, value in values.items()})
                .where(t.POLine.id == self._line_ids[(po.number, line.line_no)])
                .run()
            )

    def line_id(self, number: str, line_no: int) -> int:
        return self._line_ids[(number, line_no)]


class SalesOrders:
    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        # The PO line row behind each link read, so saving an order looks up only new links.
        self._po_line_ids: dict[LineRef, int] = {}

    async def get(self, actor: Actor, number: str) -> SalesOrder:
        query = scope_sales_orders(
            actor, t.SalesOrder.select().where(t.SalesOrder.number == number)
        )
        row = await _first(for_update(query) if query is not None else None)
        if row is None:
            raise NotFound("Sales order {number} was not found.", number=number)
        return (await self._load([row]))[0]

    async def _load(self, rows: list[dict[str, Any]]) -> list[SalesOrder]:
        ids = [row["id"] for row in rows]
        lines = (
            await t.SOLine.select(
                *t.SOLine.all_columns(),
                t.SOLine.po_line._.line_no.as_alias("po_line_no"),
                t.SOLine.po_line._.po._.number.as_alias("po_number"),
            )
            .where(t.SOLine.so.is_in(ids))
            .order_by(t.SOLine.line_no)
            .run()
        )
        for line in lines:
            if line["po_line"]:
                self._po_line_ids[LineRef(line["po_number"], line["po_line_no"])] = line["po_line"]
        orders = []
        for row in rows:
            self.ids[row["number"]] = row["id"]
            orders.append(
                SalesOrder(
                    version=row["version"],
                    number=row["number"],
                    customer=row["customer"],
                    currency=row["currency"],
                    status=SOStatus(row["status"]),
                    contact_email=row["contact_email"],
                    contact_phone=row["contact_phone"],
                    carrier=row["carrier"],
                    tracking_no=row["tracking_no"],
                    lines=[
                        SalesLine(
                            line_no=line["line_no"],
                            item=line["item"],
                            description=line["description"],
                            quantity=stored_decimal(line["quantity"]),
                            unit=line["unit"],
                            unit_price=stored_decimal(line["unit_price"]),
                            requested_date=line["requested_date"],
                            expected_date=line["expected_date"],
                            link=LineRef(line["po_number"], line["po_line_no"])
                            if line["po_line"]
                            else None,
                            handling_days=line["handling_days"],
                        )
                        for line in lines
                        if line["so"] == row["id"]
                    ],
                )
            )
        return orders

    async def linked_to(self, po_number: str) -> list[SalesOrder]:
        """Every sales order with a line linked to a line of `po_number` (system use only:
        it is how a supplier's promise reaches the customer, without either seeing the other)."""
        so_ids = (
            await t.SOLine.select(t.SOLine.so)
            .where(t.SOLine.po_line._.po._.number == po_number)
            .distinct()
            .run()
        )
        if not so_ids:
            return []
        # Locked in id order, so two promise changes reaching the same orders cannot deadlock.
        rows = await for_update(
            t.SalesOrder.select()
            .where(t.SalesOrder.id.is_in([row["so"] for row in so_ids]))
            .order_by(t.SalesOrder.id)
        ).run()
        return await self._load(rows)

    async def exists(self, number: str) -> bool:
        return bool(await t.SalesOrder.exists().where(t.SalesOrder.number == number).run())

    async def add(self, so: SalesOrder, now: datetime) -> None:
        rows = (
            await t.SalesOrder.insert(
                t.SalesOrder(
                    number=so.number,
                    customer=so.customer,
                    currency=so.currency,
                    status=so.status.value,
                    contact_email=so.contact_email,
                    contact_phone=so.contact_phone,
                    version=so.version,
                    created_at=now,
                    updated_at=now,
                )
            )
            .returning(t.SalesOrder.id)
            .run()
        )
        self.ids[so.number] = rows[0]["id"]
        await t.SOLine.insert(
            *[t.SOLine(so=rows[0]["id"], **self._line_values(line, None)) for line in so.lines]
        ).run()

    @staticmethod
    def _line_values(line: SalesLine, po_line_id: int | None) -> dict[str, Any]:
        return {
            "line_no": line.line_no,
            "item": line.item,
            "description": line.description,
            "quantity": line.quantity,
            "unit": line.unit,
            "unit_price": line.unit_price,
            "requested_date": line.requested_date,
            "expected_date": line.expected_date,
            "po_line": po_line_id,
            "handling_days": line.handling_days,
        }

    async def save(self, so: SalesOrder, now: datetime, *, checked: bool = True) -> None:
        """Write the order back and bump its version. `checked=False` is for the system moving
        dates on behalf of a purchase order: it must not fail because a person edited the sales
        order meanwhile, and the row lock still serialises the two."""
        so_id = self.ids[so.number]
        where: Where | And = t.SalesOrder.id == so_id
        if checked:
            where = where & (t.SalesOrder.version == so.version)
        updated = (
            await t.SalesOrder.update(
                {
                    t.SalesOrder.status: so.status.value,
                    t.SalesOrder.carrier: so.carrier,
                    t.SalesOrder.tracking_no: so.tracking_no,
                    t.SalesOrder.version: t.SalesOrder.version + 1,
                    t.SalesOrder.updated_at: now,
                }
            )
            .where(where)
            .returning(t.SalesOrder.version)
            .run()
        )
        if not updated:
            current = (
                await t.SalesOrder.select(t.SalesOrder.version)
                .where(t.SalesOrder.id == so_id)
                .first()
                .run()
            )
            raise Conflict(
                "Sales order {number} was changed by someone else meanwhile; reload it "
                "and try again.",
                number=so.number,
                current_version=current["version"] if current else so.version,
            )
        so.version = updated[0]["version"]
        for line in so.lines:
            values = self._line_values(line, await self._po_line_id(line.link))
            await (
                t.SOLine.update({getattr(t.SOLine, name): value for name, value in values.items()})
                .where((t.SOLine.so == so_id) & (t.SOLine.line_no == line.line_no))
                .run()
            )

    async def _po_line_id(self, ref: LineRef | None) -> int | None:
        if ref is None:
            return None
        if ref in self._po_line_ids:
            return self._po_line_ids[ref]
        row = (
            await t.POLine.select(t.POLine.id)
            .where((t.POLine.po.number == ref.po_number) & (t.POLine.line_no == ref.line_no))
            .first()
            .run()
        )
        if row is None:
            return None
        self._po_line_ids[ref] = row["id"]
        return int(row["id"])


class ChangeRequests:
    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    async def get(self, actor: Actor, number: str) -> ChangeRequest:
        found = await self._load(actor, t.ChangeRequest.number == number, limit=1)
        if not found:
            raise NotFound("Change request {number} was not found.", number=number)
        return found[0]

    async def open_on(self, actor: Actor, po_number: str) -> list[ChangeRequest]:
        """The requests on `po_number` still waiting for a decision, oldest first."""
        return await self._load(
            actor,
            (t.ChangeRequest.po._.number == po_number)
            & (t.ChangeRequest.status == CRStatus.OPEN.value),
        )

    async def _load(
        self, actor: Actor, where: Any, limit: int | None = None
    ) -> list[ChangeRequest]:
        query = (
            t.ChangeRequest.select(
                *t.ChangeRequest.all_columns(), t.ChangeRequest.po._.number.as_alias("po_number")
            )
            .where(where)
            .order_by(t.ChangeRequest.id)
        )
        if actor.side == Side.SUPPLIER and actor.org:
            query = query.where(t.ChangeRequest.po._.supplier == actor.org)
        elif actor.side != Side.INTERNAL:
            return []
        if limit is not None:
            query = query.limit(limit)
        # No row lock: a decision saves the request with a version check (see `save`).
        rows = await query.run()
        for row in rows:
            self._ids[row["number"]] = row["id"]
        return [
            ChangeRequest(
                number=row["number"],
                po_number=row["po_number"],
                status=CRStatus(row["status"]),
                opened_by=Side(row["opened_by"]),
                opened_by_name=row["opened_by_name"],
                reason_code=row["reason_code"],
                comment=row["comment"],
                changes=tuple(LineChange.from_data(item) for item in load(row["changes"])),
                due_at=row["due_at"],
                round=row["round"],
                supersedes=row["supersedes"],
                superseded_by=row["superseded_by"],
                from_acknowledgement=row["from_acknowledgement"],
                auto_approved=row["auto_approved"],
                decided_by_name=row["decided_by_name"],
                decision_comment=row["decision_comment"],
                version=row["version"],
            )
            for row in rows
        ]

    async def add(self, cr: ChangeRequest, po_id: int, now: datetime) -> None:
        rows = (
            await t.ChangeRequest.insert(
                t.ChangeRequest(
                    number=cr.number,
                    po=po_id,
                    created_at=now,
                    decided_at=now if cr.status != CRStatus.OPEN else None,
                    **self._values(cr),
                )
            )
            .returning(t.ChangeRequest.id)
            .run()
        )
        self._ids[cr.number] = rows[0]["id"]

    @staticmethod
    def _values(cr: ChangeRequest) -> dict[str, Any]:
        return {
            "status": cr.status.value,
            "opened_by": cr.opened_by.value,
            "opened_by_name": cr.opened_by_name,
            "reason_code": cr.reason_code,
            "comment": cr.comment,
            "changes": dump([change.to_data() for change in cr.changes]),
            "round": cr.round,
            "supersedes": cr.supersedes,
            "superseded_by": cr.superseded_by,
            "from_acknowledgement": cr.from_acknowledgement,
            "auto_approved": cr.auto_approved,
            "decided_by_name": cr.decided_by_name,
            "decision_comment": cr.decision_comment,
            "due_at": cr.due_at,
            "version": cr.version,
        }

    async def save(self, cr: ChangeRequest, now: datetime) -> None:
        cr_id = self._ids[cr.number]
        values = self._values(cr) | {"version": cr.version + 1, "decided_at": now}
        updated = (
            await t.ChangeRequest.update(
                {getattr(t.ChangeRequest, name): value for name, value in values.items()}
            )
            .where((t.ChangeRequest.id == cr_id) & (t.ChangeRequest.version == cr.version))
            .returning(t.ChangeRequest.id)
            .run()
        )
        if not updated:
            current = (
                await t.ChangeRequest.select(t.ChangeRequest.version)
                .where(t.ChangeRequest.id == cr_id)
                .first()
                .run()
            )
            raise Conflict(
                "Change request {number} was decided or changed meanwhile; reload it.",
                number=cr.number,
                current_version=current["version"] if current else cr.version,
            )
        cr.version += 1


SHIPMENT_POSTED = "posted"
SHIPMENT_CANCELLED = "cancelled"
"""A shipment's stored statuses: a cancelled one stays, so its number is never reused."""


class Shipments:
    """A purchase order's shipments; read and changed only with their order (locked by
    `PurchaseOrders.get`), so the order's row lock orders their changes too."""

    async def exists(self, number: str) -> bool:
        return bool(await t.Shipment.exists().where(t.Shipment.number == number).run())

    async def find(self, po_id: int, number: str) -> tuple[Shipment, str] | None:
        """The shipment `number` of the order and its status (`posted` or `cancelled`)."""
        row = (
            await t.Shipment.select()
            .where((t.Shipment.number == number) & (t.Shipment.po == po_id))
            .first()
            .run()
        )
        if row is None:
            return None
        shipment = Shipment(
            number=row["number"],
            ship_date=row["ship_date"],
            carrier=row["carrier"],
            tracking_no=row["tracking_no"],
            expected_arrival=row["expected_arrival"],
            lines=tuple(
                ShipmentLine(int(line["line_no"]), Decimal(str(line["quantity"])))
                for line in load(row["lines"])
            ),
        )
        return shipment, row["status"]

    async def add(self, shipment: Shipment, po_id: int, now: datetime) -> None:
        await t.Shipment.insert(
            t.Shipment(
                number=shipment.number,
                po=po_id,
                status=SHIPMENT_POSTED,
                created_at=now,
                updated_at=now,
                **self._values(shipment),
            )
        ).run()

    @staticmethod
    def _values(shipment: Shipment) -> dict[str, Any]:
        return {
            "ship_date": shipment.ship_date,
            "carrier": shipment.carrier,
            "tracking_no": shipment.tracking_no,
            "expected_arrival": shipment.expected_arrival,
            "lines": dump(shipment.to_data()["lines"]),
        }

    async def save(self, shipment: Shipment, po_id: int, now: datetime) -> None:
        values = self._values(shipment) | {"updated_at": now}
        await (
            t.Shipment.update({getattr(t.Shipment, name): value for name, value in values.items()})
            .where((t.Shipment.number == shipment.number) & (t.Shipment.po == po_id))
            .run()
        )

    async def cancel(self, po_id: int, number: str, now: datetime) -> None:
        await (
            t.Shipment.update({t.Shipment.status: SHIPMENT_CANCELLED, t.Shipment.updated_at: now})
            .where((t.Shipment.number == number) & (t.Shipment.po == po_id))
            .run()
        )


class Receipts:
    async def exists(self, number: str) -> bool:
        return bool(await t.Receipt.exists().where(t.Receipt.number == number).run())

    async def name_shipment(self, po_id: int, number: str) -> bool:
        """Whether any receipt of the order counted goods of shipment `number` in."""
        return bool(
            await t.Receipt.exists()
            .where((t.Receipt.shipment == number) & (t.Receipt.po == po_id))
            .run()
        )

    async def add(self, receipt: Receipt, po_id: int, now: datetime) -> None:
        await t.Receipt.insert(
            t.Receipt(
                number=receipt.number,
                po=po_id,
                shipment=receipt.shipment_number,
                received_on=receipt.received_on,
                lines=dump(receipt.to_data()["lines"]),
                created_at=now,
            )
        ).run()


class Organisations:
    async def kind_of(self, code: str) -> str | None:
        row = (
            await t.Organisation.select(t.Organisation.kind)
            .where(t.Organisation.code == code)
            .first()
            .run()
        )
        return row["kind"] if row else None


class Counters:
    async def next(self, prefix: str, on: date) -> str:
        """The next number in `prefix`'s sequence for the year, e.g. PO-2026-00042."""
        name = f"{prefix}-{on.year}"
        await (
            t.Counter.insert(t.Counter(name=name, value=0))
            .on_conflict(target=t.Counter.name, action="DO NOTHING")
            .run()
        )
        bumped = (
            await t.Counter.update({t.Counter.value: t.Counter.value + 1})
            .where(t.Counter.name == name)
            .returning(t.Counter.value)
            .run()
        )
        return f"{name}-{bumped[0]['value']:05d}"
