"""A story tells one plot: each step is one service command, made by the person whose job it
is, at a simulated time when that person is at work. Nothing here writes a row itself: orders,
change requests, shipments, receipts and their timelines all come from the commands."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from random import Random

from portal.db.database import Database
from portal.db.repositories import PurchaseOrders, SalesOrders
from portal.demo.catalog import (
    BUYER,
    BUYER_EN,
    CNY_PER,
    CUSTOMER_PEOPLE,
    DOMESTIC_CARRIERS,
    INTERNAL,
    INTERNATIONAL_CARRIERS,
    ITEMS,
    ITEMS_BY_CODE,
    ORGS_BY_CODE,
    OUR_PRODUCTS,
    SALES,
    SUPPLIER_CARRIERS,
    SUPPLIER_PEOPLE,
    WAREHOUSE,
    Carrier,
    Desk,
    Item,
    Org,
    Person,
)
from portal.demo.clock import SimulatedClock, Timing
from portal.demo.plots import Plot
from portal.demo.texts import (
    CHANGE_REASONS,
    COMMENTS,
    DECISIONS,
    PROMISE_REASONS,
    RECEIPT_NOTE,
    REJECT_PO,
    Said,
)
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.changes import ChangeKind, ChangeRequest, LineChange
from portal.domain.orders import POLine, PurchaseOrder, SalesLine, SalesOrder
from portal.domain.receipts import Receipt, ReceiptLine
from portal.domain.schedule import DeliveryRow, Schedule
from portal.domain.shipments import Shipment, ShipmentLine
from portal.domain.states import CRStatus
from portal.services import (
    acknowledgements,
    change_requests,
    comments,
    fulfilment,
    promises,
    purchase_orders,
    sales_orders,
)
from portal.services.unit_of_work import Rules, UnitOfWork

SIDES = {"internal": Side.INTERNAL, "supplier": Side.SUPPLIER, "customer": Side.CUSTOMER}
FOREIGN = {"KRAFT", "NORTHWIND"}
"""Partners we write to in English, whoever writes."""
EXPORT_HANDLING_DAYS = 5
"""Export packing and air freight to an overseas customer take longer than our usual handling."""


@dataclass
class World:
    """What every story shares: the database, the rules, the clock and the cast."""

    db: Database
    rules: Rules
    clock: SimulatedClock
    timing: Timing
    user_ids: dict[str, int]

    def actor(self, person: Person, via: Via) -> Actor:
        return Actor(
            ActorKind.USER,
            str(self.user_ids[person.email]),
            person.org,
            SIDES[ORGS_BY_CODE[person.org].kind],
            person.display_name,
            via,
            person.role,
        )

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db, self.rules, clock=self.clock)


READER = Actor.system("demo")
"""Reads the current state (versions, quantities) between commands; internal, so it sees all."""


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01") if value >= 1 else Decimal("0.001"), ROUND_HALF_UP)


def _quantity(rng: Random, item: Item) -> Decimal:
    low, high, step = item.lot
    return Decimal(rng.randrange(low, high + 1, step))


def _whole(value: Decimal) -> Decimal:
    return Decimal(math.floor(value))


Step = Callable[["Story"], Awaitable[None]]


class Story:
    """One plot told step by step; it remembers what its commands returned (numbers, the
    order's latest version) so the next step can refer to them."""

    def __init__(self, world: World, plot: Plot, seed: str) -> None:
        self.world = world
        self.plot = plot
        self.rng = Random(seed)
        # Timing draws from its own source: how many draws working hours take depends on the
        # hour the demo is loaded, and that must not change what happens in the stories.
        self.pace = Random(f"{seed}/pace")
        self.supplier: Org | None = ORGS_BY_CODE[plot.supplier] if plot.supplier else None
        self.customer: Org | None = ORGS_BY_CODE[plot.customer] if plot.customer else None
        foreign = bool({plot.supplier, plot.customer} & FOREIGN)
        self.buyer = BUYER_EN if foreign and self.rng.random() < 0.7 else BUYER
        self.po_number = ""
        self.so_number = ""
        self.latest_po: PurchaseOrder | None = None
        self.latest_cr: ChangeRequest | None = None
        self.first_changes: tuple[LineChange, ...] = ()
        self.shipment_number: str | None = None
        self.arrival: date | None = None
        self.po_plan: list[POLine] = []
        self.linked_lines = 0

    # Telling ------------------------------------------------------------------------------

    def start(self, today: datetime) -> datetime:
        days = self.pace.uniform(*self.plot.days_ago)
        return self.world.timing.first(today - timedelta(days=days), self.pace, INTERNAL.desk)

    async def tell(self) -> AsyncIterator[datetime]:
        """Run the plot's steps; between two, yield when the next one happens."""
        for index, name in enumerate(self.plot.steps):
            if index:
                yield await self.when(name)
            await STEPS[name](self)

    async def when(self, name: str) -> datetime:
        timing, rng = self.world.timing, self.pace
        if name in ("ship_part", "ship_line1", "ship_rest"):
            return timing.not_before(await self._ship_day(name), rng, self.supplier_desk)
        if name.startswith("receive"):
            arrival = self.arrival or self.world.clock.now.date()
            on = arrival + timedelta(days=rng.choice((0, 0, 0, 1, 2)))
            return timing.not_before(self._morning(on, INTERNAL.desk), rng, INTERNAL.desk)
        if name == "so_ship" and not self.plot.buys:
            return timing.not_before(await self._so_ship_day(), rng, INTERNAL.desk)
        who, hours = WHEN[name]
        if who in ("decider", "opener"):
            person = await (self._decider() if who == "decider" else self._opener())
            return timing.after(rng, hours, self.desk_of(person))
        return timing.after(rng, hours, self.desk_for(who))

    # Who acts ---------------------------------------------------------------------------

    @property
    def supplier_person(self) -> Person:
        assert self.supplier is not None
        return SUPPLIER_PEOPLE[self.supplier.code]

    @property
    def customer_person(self) -> Person:
        assert self.customer is not None
        return CUSTOMER_PEOPLE[self.customer.code]

    @property
    def supplier_desk(self) -> Desk:
        assert self.supplier is not None
        return self.supplier.desk

    def desk_of(self, person: Person) -> Desk:
        return ORGS_BY_CODE[person.org].desk

    def desk_for(self, who: str) -> Desk:
        if who == "supplier":
            return self.supplier_desk
        if who == "customer":
            assert self.customer is not None
            return self.customer.desk
        return INTERNAL.desk

    def via(self, person: Person) -> Via:
        """Kraftwerk's ERP talks to our API; Xinda uses it for part of its work."""
        share = {"KRAFT": 0.85, "XINDA": 0.4, "HENGDA": 0.15}.get(person.org, 0.0)
        return Via.API if self.rng.random() < share else Via.WEB

    def act(self, person: Person) -> Actor:
        return self.world.actor(person, self.via(person))

    def say(self, person: Person, said: Said) -> str:
        partner = {self.plot.supplier, self.plot.customer}
        english = not person.writes_chinese or (person.org == INTERNAL.code and partner & FOREIGN)
        return said[1] if english else said[0]

    def _morning(self, on: date, desk: Desk) -> datetime:
        """Some time during the morning of `on` at `desk`."""
        opens = datetime.combine(on, desk.opens, tzinfo=desk.zone)
        return opens + timedelta(minutes=self.pace.uniform(5, 180))

    # Reading the state between commands --------------------------------------------------

    async def po(self) -> PurchaseOrder:
        """The purchase order as the last command left it (only this story changes it)."""
        if self.latest_po is None:
            self.latest_po = await PurchaseOrders().get(READER, self.po_number)
        return self.latest_po

    async def so(self) -> SalesOrder:
        """Always read afresh: a supplier's promise moves the sales order (and its version)
        behind the story's back."""
        return await SalesOrders().get(READER, self.so_number)

    async def cr(self) -> ChangeRequest:
        """The change request in play: the one the last step opened, answered or countered."""
        assert self.latest_cr is not None, f"{self.plot.steps}: no change request in play"
        return self.latest_cr

    async def _ship_day(self, name: str) -> datetime:
        po = await self.po()
        live = [line for line in po.lines if not line.cancelled]
        promised = [line.promised_date or line.need_date for line in live]
        day = min(promised) if name != "ship_rest" else max(promised)
        early = 4 if name == "ship_part" else 0
        transit = 5 if self.plot.supplier in FOREIGN else 2
        on = day - timedelta(days=transit + early + self.pace.choice((0, 0, 1, 2)))
        return self._morning(on, self.supplier_desk)

    async def _so_ship_day(self) -> datetime:
        so = await self.so()
        transit = 5 if self.plot.customer in FOREIGN else 2
        on = min(line.expected_date for line in so.lines) - timedelta(days=transit)
        return self._morning(on, INTERNAL.desk)

    # Planning lines ------------------------------------------------------------------------

    def plan_po_lines(self, today: date) -> list[POLine]:
        assert self.supplier is not None
        catalog = ITEMS[self.supplier.code]
        count = self.rng.randint(*self.plot.lines)
        items = self.rng.sample(catalog, count)
        if "propose_item" in self.plot.steps and not items[0].substitute:
            items[0] = next(item for item in catalog if item.substitute)
        lines = []
        for line_no, item in enumerate(items, start=1):
            lines.append(
                POLine(
                    line_no=line_no,
                    item=item.code,
                    description=item.description,
                    quantity=_quantity(self.rng, item),
                    unit=item.unit,
                    unit_price=_money(item.price * Decimal(str(self.rng.uniform(0.95, 1.05)))),
                    need_date=today + timedelta(days=self.rng.randint(*item.lead_days)),
                )
            )
        return lines

    def resale_price(self, price: Decimal, bought_in: str) -> Decimal:
        assert self.customer is not None
        margin = Decimal(str(self.rng.uniform(1.18, 1.45)))
        return _money(price * CNY_PER[bought_in] / CNY_PER[self.customer.currency] * margin)

    def handling_days(self) -> int:
        return (
            EXPORT_HANDLING_DAYS
            if self.plot.customer in FOREIGN
            else self.world.rules.handling_days
        )

    def plan_so_lines(self, today: date) -> list[SalesLine]:
        lines: list[SalesLine] = []
        if self.plot.buys:
            assert self.supplier is not None
            self.po_plan = self.plan_po_lines(today)
            for po_line in self.po_plan:
                requested = po_line.need_date + timedelta(
                    days=self.handling_days() + self.rng.randint(0, 3)
                )
                lines.append(
                    SalesLine(
                        line_no=po_line.line_no,
                        item=po_line.item,
                        description=po_line.description,
                        quantity=po_line.quantity,
                        unit=po_line.unit,
                        unit_price=self.resale_price(po_line.unit_price, self.supplier.currency),
                        requested_date=requested,
                        expected_date=requested,
                    )
                )
            self.linked_lines = len(lines)
            extra = 1 if self.rng.random() < 0.35 else 0
        else:
            extra = self.rng.randint(*self.plot.lines)
        for item in self.rng.sample(OUR_PRODUCTS, extra):
            requested = today + timedelta(days=self.rng.randint(*item.lead_days))
            lines.append(
                SalesLine(
                    line_no=len(lines) + 1,
                    item=item.code,
                    description=item.description,
                    quantity=_quantity(self.rng, item),
                    unit=item.unit,
                    unit_price=self.resale_price(item.price, "CNY"),
                    requested_date=requested,
                    expected_date=requested + timedelta(days=self.rng.choice((0, 0, 0, 2, 5))),
                )
            )
        return lines

    # Sales orders ----------------------------------------------------------------------------

    async def step_so(self) -> None:
        assert self.customer is not None
        contact = self.customer_person
        created = await sales_orders.create_sales_order(
            self.world.uow(),
            self.act(SALES),
            sales_orders.CreateSalesOrder(
                customer=self.customer.code,
                currency=self.customer.currency,
                lines=self.plan_so_lines(self.world.clock.now.date()),
                contact_email=contact.email,
                contact_phone=self.customer.phone,
            ),
        )
        self.so_number = created.number

    async def step_link(self) -> None:
        for line_no in range(1, self.linked_lines + 1):
            so = await self.so()
            await sales_orders.link_sales_line(
                self.world.uow(),
                self.act(SALES),
                sales_orders.LinkSalesLine(
                    number=so.number,
                    version=so.version,
                    line_no=line_no,
                    po_number=self.po_number,
                    po_line_no=line_no,
                    handling_days=self.handling_days(),
                ),
            )

    async def _advance(
        self,
        progress: sales_orders.Progress,
        *,
        carrier: str = "",
        tracking_no: str = "",
        reason: str = "",
    ) -> None:
        so = await self.so()
        await sales_orders.advance_sales_order(
            self.world.uow(),
            self.act(SALES),
            sales_orders.AdvanceSalesOrder(
                number=so.number,
                version=so.version,
                step=progress,
                carrier=carrier,
                tracking_no=tracking_no,
                reason=reason,
            ),
        )

    async def step_so_ship(self) -> None:
        carriers = INTERNATIONAL_CARRIERS if self.plot.customer in FOREIGN else DOMESTIC_CARRIERS
        carrier = self.rng.choice(carriers)
        await self._advance(
            sales_orders.Progress.SHIP, carrier=carrier.name, tracking_no=self.tracking(carrier)
        )

    async def step_so_deliver(self) -> None:
        await self._advance(sales_orders.Progress.DELIVER)

    async def step_so_close(self) -> None:
        await self._advance(sales_orders.Progress.CLOSE)

    async def step_so_cancel(self) -> None:
        await self._advance(
            sales_orders.Progress.CANCEL,
            reason=self.say(SALES, ("客户取消订单。", "Cancelled at the customer's request.")),
        )

    # Purchase orders -------------------------------------------------------------------------

    async def _create_po(self, *, draft: bool) -> None:
        assert self.supplier is not None
        lines = self.po_plan or self.plan_po_lines(self.world.clock.now.date())
        po = await purchase_orders.issue_purchase_order(
            self.world.uow(),
            self.act(self.buyer),
            purchase_orders.IssuePurchaseOrder(
                supplier=self.supplier.code,
                currency=self.supplier.currency,
                lines=lines,
                draft=draft,
            ),
        )
        self.po_number, self.latest_po = po.number, po

    async def step_draft(self) -> None:
        await self._create_po(draft=True)

    async def step_issue(self) -> None:
        await self._create_po(draft=False)

    async def step_release(self) -> None:
        po = await self.po()
        self.latest_po = await purchase_orders.issue_draft(
            self.world.uow(),
            self.act(self.buyer),
            purchase_orders.IssueDraft(po.number, po.version),
        )

    async def step_close(self) -> None:
        po = await self.po()
        self.latest_po = await purchase_orders.close_purchase_order(
            self.world.uow(),
            self.act(self.buyer),
            purchase_orders.ClosePurchaseOrder(po.number, po.version),
        )

    async def step_cancel(self) -> None:
        po = await self.po()
        self.latest_po = await purchase_orders.cancel_purchase_order(
            self.world.uow(),
            self.act(self.buyer),
            purchase_orders.CancelPurchaseOrder(
                po.number, po.version, self.say(self.buyer, DECISIONS["cancel"])
            ),
        )

    # The supplier's acknowledgement ----------------------------------------------------------

    async def _acknowledge(
        self,
        decision: acknowledgements.Decision,
        *,
        reason: str = "",
        change: LineChange | None = None,
        reason_code: str = "other",
        comment: str = "",
    ) -> acknowledgements.Acknowledged:
        po = await self.po()
        answered = await acknowledgements.acknowledge(
            self.world.uow(),
            self.act(self.supplier_person),
            acknowledgements.Acknowledge(
                number=po.number,
                version=po.version,
                decision=decision,
                reason=reason,
                changes=(change,) if change else (),
                reason_code=reason_code,
                comment=comment,
            ),
        )
        self.latest_po = answered.po
        return answered

    async def step_accept(self) -> None:
        await self._acknowledge(acknowledgements.Decision.ACCEPT)

    async def step_reject(self) -> None:
        reason = self.say(self.supplier_person, self.rng.choice(REJECT_PO))
        await self._acknowledge(acknowledgements.Decision.REJECT, reason=reason)

    async def _propose(self, step: str, change: LineChange, reason_code: str) -> None:
        answered = await self._acknowledge(
            acknowledgements.Decision.ACCEPT_WITH_CHANGES,
            change=change,
            reason_code=reason_code,
            comment=self.say(self.supplier_person, CHANGE_REASONS[step]),
        )
        assert answered.change_request is not None
        self.latest_cr = answered.change_request
        self.first_changes = (change,)

    async def step_propose_date(self) -> None:
        line = (await self.po()).line(1)
        later = line.need_date + timedelta(days=self.rng.randint(8, 15))
        change = LineChange(1, ChangeKind.DATE, schedule=Schedule.single(line.quantity, later))
        await self._propose("propose_date", change, "capacity")

    async def step_propose_qty(self) -> None:
        line = (await self.po()).line(1)
        step = Decimal(ITEMS_BY_CODE[line.item].lot[2])
        wanted = line.quantity * Decimal(str(self.rng.uniform(1.2, 1.4)))
        quantity = (wanted / step).to_integral_value(rounding=ROUND_CEILING) * step
        await self._propose(
            "propose_qty", LineChange(1, ChangeKind.QUANTITY, quantity=quantity), "other"
        )

    async def step_propose_item(self) -> None:
        line = (await self.po()).line(1)
        change = LineChange(1, ChangeKind.ITEM, item=ITEMS_BY_CODE[line.item].substitute)
        await self._propose("propose_item", change, "other")

    # Change requests -------------------------------------------------------------------------

    async def _open(
        self, person: Person, step: str, changes: tuple[LineChange, ...], reason: str
    ) -> None:
        po = await self.po()
        cr = await change_requests.open_change_request(
            self.world.uow(),
            self.act(person),
            change_requests.OpenChangeRequest(
                po_number=po.number,
                version=po.version,
                changes=changes,
                reason_code=reason,
                comment=self.say(person, CHANGE_REASONS[step]),
            ),
        )
        # The request changed the order's version; the order is read afresh when next needed.
        self.latest_cr, self.latest_po = cr, None
        self.first_changes = changes

    async def _later_promise(self, days: tuple[int, int]) -> tuple[LineChange, ...]:
        po = await self.po()
        line = next(line for line in po.lines if not line.fully_shipped)
        reference = line.promised_date or line.need_date
        later = reference + timedelta(days=self.rng.randint(*days))
        schedule = Schedule.single(line.left_to_ship, later)
        return (LineChange(line.line_no, ChangeKind.DATE, schedule=schedule),)

    async def step_cr_small(self) -> None:
        changes = await self._later_promise((1, 3))
        await self._open(self.supplier_person, "cr_small", changes, "logistics")

    async def step_cr_late(self) -> None:
        changes = await self._later_promise((9, 18))
        await self._open(self.supplier_person, "cr_late", changes, "capacity")

    async def step_cr_price(self) -> None:
        line = (await self.po()).line(1)
        price = _money(line.unit_price * Decimal("1.12"))
        await self._open(
            self.supplier_person,
            "cr_price",
            (LineChange(1, ChangeKind.PRICE, unit_price=price),),
            "other",
        )

    async def step_buyer_qty(self) -> None:
        line = (await self.po()).line(1)
        more = _whole(line.quantity * Decimal(str(self.rng.uniform(1.15, 1.3))))
        await self._open(
            self.buyer,
            "buyer_qty",
            (LineChange(1, ChangeKind.QUANTITY, quantity=more),),
            "customer_request",
        )

    async def step_cancel_by_cr(self) -> None:
        po = await self.po()
        changes = tuple(
            LineChange(line.line_no, ChangeKind.CANCEL) for line in po.lines if not line.cancelled
        )
        await self._open(self.buyer, "cancel_by_cr", changes, "customer_request")

    async def _decide(
        self,
        person: Person,
        verdict: change_requests.Verdict,
        comment: str,
        changes: tuple[LineChange, ...] = (),
    ) -> change_requests.Decided:
        cr = await self.cr()
        decided = await change_requests.decide_change_request(
            self.world.uow(),
            self.act(person),
            change_requests.DecideChangeRequest(
                number=cr.number,
                version=cr.version,
                verdict=verdict,
                comment=comment,
                changes=changes,
                reason_code=cr.reason_code,
            ),
        )
        self.latest_cr, self.latest_po = decided.counter or decided.change_request, None
        return decided

    async def _decider(self) -> Person:
        cr = await self.cr()
        return self.buyer if cr.opened_by == Side.SUPPLIER else self.supplier_person

    async def _opener(self) -> Person:
        cr = await self.cr()
        return self.supplier_person if cr.opened_by == Side.SUPPLIER else self.buyer

    async def step_approve(self) -> None:
        person = await self._decider()
        await self._decide(
            person, change_requests.Verdict.APPROVE, self.say(person, DECISIONS["approve"])
        )

    async def step_reject_cr(self) -> None:
        person = await self._decider()
        await self._decide(
            person, change_requests.Verdict.REJECT, self.say(person, DECISIONS["reject_cr"])
        )

    async def step_withdraw(self) -> None:
        person = await self._opener()
        await self._decide(
            person, change_requests.Verdict.WITHDRAW, self.say(person, DECISIONS["withdraw"])
        )

    async def step_counter(self) -> None:
        """Meet in the middle: the buyer offers part of the delay first asked for, the
        supplier comes back with a bit more."""
        person = await self._decider()
        share = 0.4 if person.org == INTERNAL.code else 0.7
        po = await self.po()
        changes = tuple(self._toward(po, change, share) for change in self.first_changes)
        await self._decide(
            person, change_requests.Verdict.COUNTER, self.say(person, DECISIONS["counter"]), changes
        )

    @staticmethod
    def _toward(po: PurchaseOrder, change: LineChange, share: float) -> LineChange:
        if change.kind != ChangeKind.DATE or change.schedule is None:
            return change
        line = po.line(change.line_no)
        reference = line.promised_date or line.need_date
        asked = (change.schedule.last_date - reference).days
        days = max(1, round(asked * share))
        schedule = Schedule.single(line.left_to_ship, reference + timedelta(days=days))
        return LineChange(change.line_no, ChangeKind.DATE, schedule=schedule)

    # Promises ---------------------------------------------------------------------------------

    async def _change_promise(self, line: POLine, schedule: Schedule, reason: str) -> None:
        """The supplier moves its promise; beyond the tolerance rule that asks the buyer, who
        agrees (the stories that argue about dates do it through change requests)."""
        po = await self.po()
        comment = self.say(self.supplier_person, PROMISE_REASONS[reason])
        updated = await promises.update_promise(
            self.world.uow(),
            self.act(self.supplier_person),
            promises.UpdatePromise(po.number, po.version, line.line_no, schedule, reason, comment),
        )
        self.latest_po = updated.orders[0]
        for cr in updated.change_requests:
            if cr.status == CRStatus.OPEN:
                self.latest_cr = cr
                await self.step_approve()

    async def step_promise_late(self) -> None:
        po = await self.po()
        line = next(line for line in reversed(po.lines) if not line.fully_shipped)
        promised = line.promised_date or line.need_date
        later = promised + timedelta(days=self.rng.randint(5, 12))
        reason = self.rng.choice(sorted(PROMISE_REASONS))
        await self._change_promise(line, Schedule.single(line.left_to_ship, later), reason)

    async def step_promise_split(self) -> None:
        po = await self.po()
        line = max(po.lines, key=lambda line: line.left_to_ship)
        promised = line.promised_date or line.need_date
        first = _whole(line.left_to_ship * Decimal(str(self.rng.uniform(0.5, 0.7))))
        schedule = Schedule(
            (
                DeliveryRow(first, promised),
                DeliveryRow(
                    line.left_to_ship - first, promised + timedelta(days=self.rng.randint(7, 14))
                ),
            )
        )
        await self._change_promise(line, schedule, "capacity")

    # Goods ------------------------------------------------------------------------------------

    def tracking(self, carrier: Carrier) -> str:
        digits = "".join(str(self.rng.randint(0, 9)) for _ in range(carrier.digits))
        return carrier.prefix + digits

    async def _ship(self, quantities: dict[int, Decimal]) -> None:
        po = await self.po()
        assert self.supplier is not None
        carrier = self.rng.choice(SUPPLIER_CARRIERS[self.supplier.code])
        today = self.world.clock.now.date()
        self.arrival = today + timedelta(days=self.rng.randint(*carrier.transit_days))
        shipment = Shipment(
            number="",
            ship_date=today,
            carrier=carrier.name,
            tracking_no=self.tracking(carrier),
            expected_arrival=self.arrival,
            lines=tuple(ShipmentLine(no, qty) for no, qty in sorted(quantities.items()) if qty > 0),
        )
        shipped = await fulfilment.post_shipment(
            self.world.uow(),
            self.act(self.supplier_person),
            fulfilment.PostShipment(po.number, po.version, shipment),
        )
        self.latest_po = shipped.po
        # The service numbers the shipment; the receipt that follows refers to that number.
        self.shipment_number = shipped.shipment.number

    async def step_ship_part(self) -> None:
        po = await self.po()
        share = Decimal(str(self.rng.uniform(0.4, 0.7)))
        await self._ship(
            {
                line.line_no: _whole(line.left_to_ship * share)
                for line in po.lines
                if not line.fully_shipped
            }
        )

    async def step_ship_line1(self) -> None:
        line = (await self.po()).line(1)
        await self._ship({1: line.left_to_ship})

    async def step_ship_rest(self) -> None:
        """Everything still to ship: what was never sent, and replacements for what the
        warehouse turned away (goods turned away count as not shipped)."""
        po = await self.po()
        await self._ship(
            {line.line_no: line.left_to_ship for line in po.lines if not line.cancelled}
        )

    async def _receive(self, *, rejects: bool) -> None:
        po = await self.po()
        in_transit = {
            line.line_no: line.shipped_qty - line.received_qty - line.rejected_qty
            for line in po.lines
            if line.shipped_qty - line.received_qty - line.rejected_qty > 0
        }
        rejected: dict[int, Decimal] = {}
        if rejects:
            # A few of the largest delivery fail inspection; the supplier has to replace them.
            line_no = max(in_transit, key=lambda no: in_transit[no])
            share = Decimal(str(self.rng.uniform(0.005, 0.02)))
            rejected[line_no] = max(Decimal(1), _whole(in_transit[line_no] * share))
        note = self.say(WAREHOUSE, RECEIPT_NOTE)
        receipt = Receipt(
            number="",
            received_on=self.world.clock.now.date(),
            shipment_number=self.shipment_number,
            lines=tuple(
                ReceiptLine(
                    line_no,
                    quantity,
                    rejected.get(line_no, Decimal(0)),
                    note if rejected.get(line_no) else "",
                )
                for line_no, quantity in sorted(in_transit.items())
            ),
        )
        self.latest_po = await fulfilment.record_receipt(
            self.world.uow(),
            self.act(WAREHOUSE),
            fulfilment.RecordReceipt(po.number, po.version, receipt),
        )

    async def step_receive(self) -> None:
        await self._receive(rejects=False)

    async def step_receive_rejects(self) -> None:
        await self._receive(rejects=True)

    # Comments ---------------------------------------------------------------------------------

    async def _comment(
        self, person: Person, topic: str, kind: comments.OrderKind, *, internal_only: bool = False
    ) -> None:
        number = self.po_number if kind == comments.OrderKind.PURCHASE else self.so_number
        order = await comments.add_comment(
            self.world.uow(),
            self.act(person),
            comments.AddComment(
                kind=kind,
                number=number,
                text=self.say(person, self.rng.choice(COMMENTS[topic])),
                internal_only=internal_only,
            ),
        )
        if isinstance(order, PurchaseOrder):
            self.latest_po = order

    async def step_note(self) -> None:
        await self._comment(self.buyer, "note", comments.OrderKind.PURCHASE, internal_only=True)

    async def step_chase(self) -> None:
        await self._comment(self.buyer, "chase", comments.OrderKind.PURCHASE)

    async def step_supplier_note(self) -> None:
        await self._comment(self.supplier_person, "supplier_note", comments.OrderKind.PURCHASE)

    async def step_resource_note(self) -> None:
        await self._comment(
            self.buyer, "resource_note", comments.OrderKind.PURCHASE, internal_only=True
        )

    async def step_warehouse_note(self) -> None:
        await self._comment(
            WAREHOUSE, "warehouse_note", comments.OrderKind.PURCHASE, internal_only=True
        )

    async def step_ship_note(self) -> None:
        await self._comment(self.supplier_person, "ship_note", comments.OrderKind.PURCHASE)

    async def step_inspect_note(self) -> None:
        await self._comment(
            self.buyer, "inspect_note", comments.OrderKind.PURCHASE, internal_only=True
        )

    async def step_so_note(self) -> None:
        await self._comment(SALES, "so_note", comments.OrderKind.SALES)

    async def step_customer_ask(self) -> None:
        await self._comment(self.customer_person, "customer_ask", comments.OrderKind.SALES)

    async def step_customer_cancel(self) -> None:
        await self._comment(self.customer_person, "customer_cancel", comments.OrderKind.SALES)

    async def step_thanks(self) -> None:
        await self._comment(self.customer_person, "thanks", comments.OrderKind.SALES)

    async def step_replace_note(self) -> None:
        await self._comment(self.supplier_person, "replace_note", comments.OrderKind.PURCHASE)

    async def step_short_note(self) -> None:
        await self._comment(self.buyer, "short_note", comments.OrderKind.PURCHASE)


STEPS: dict[str, Step] = {
    name.removeprefix("step_"): getattr(Story, name)
    for name in dir(Story)
    if name.startswith("step_")
}

WHEN: dict[str, tuple[str, tuple[float, float]]] = {
    "draft": ("buyer", (1, 6)),
    "issue": ("buyer", (1, 6)),
    "release": ("buyer", (20, 50)),
    "link": ("sales", (0.2, 2)),
    "accept": ("supplier", (3, 30)),
    "reject": ("supplier", (3, 40)),
    "propose_date": ("supplier", (3, 30)),
    "propose_qty": ("supplier", (3, 30)),
    "propose_item": ("supplier", (3, 30)),
    "cr_small": ("supplier", (24, 96)),
    "cr_late": ("supplier", (24, 120)),
    "cr_price": ("supplier", (24, 120)),
    "buyer_qty": ("buyer", (24, 96)),
    "cancel_by_cr": ("buyer", (2, 24)),
    "approve": ("decider", (2, 20)),
    "reject_cr": ("decider", (2, 20)),
    "counter": ("decider", (2, 26)),
    "withdraw": ("opener", (20, 50)),
    "promise_late": ("supplier", (48, 150)),
    "promise_split": ("supplier", (24, 120)),
    "close": ("buyer", (24, 96)),
    "cancel": ("buyer", (4, 60)),
    "so_ship": ("sales", (20, 60)),
    "so_deliver": ("sales", (24, 96)),
    "so_close": ("sales", (72, 200)),
    "so_cancel": ("sales", (2, 24)),
    "note": ("buyer", (0.5, 8)),
    "chase": ("buyer", (44, 60)),
    "supplier_note": ("supplier", (1, 8)),
    "resource_note": ("buyer", (1, 8)),
    "warehouse_note": ("warehouse", (0.3, 4)),
    "ship_note": ("supplier", (0.1, 2)),
    "inspect_note": ("buyer", (1, 24)),
    "so_note": ("sales", (1, 30)),
    "customer_ask": ("customer", (4, 60)),
    "customer_cancel": ("customer", (24, 200)),
    "thanks": ("customer", (2, 30)),
    "replace_note": ("supplier", (2, 20)),
    "short_note": ("buyer", (24, 72)),
}
"""Who takes each step (its desk decides the working hours) and how many hours after the step
before it. Shipping and receiving follow the promised dates and arrivals instead."""
