"""A purchase order driven by random sequences of every command, from every side, with
arguments that are often wrong. Each command either does its work or raises DomainError and
changes nothing; the invariants below hold after every step."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from domain_builders import BUYER, CUSTOMER, DUE, OTHER_SUPPLIER, SUPPLIER, SUPPLIER_API
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from portal.domain import changes as cr_commands
from portal.domain.actors import Actor
from portal.domain.changes import (
    ChangeKind,
    ChangeRequest,
    LineChange,
    TolerancePolicy,
)
from portal.domain.errors import DomainError
from portal.domain.events import EventKind, plain
from portal.domain.orders import POLine, PurchaseOrder
from portal.domain.receipts import Receipt, ReceiptLine
from portal.domain.schedule import DeliveryRow, Schedule
from portal.domain.shipments import Shipment, ShipmentLine
from portal.domain.states import PO_TRANSITIONS, CRStatus, POMove, POStatus

D = Decimal
OVER_DELIVERY_PCT = D(5)
POLICY = TolerancePolicy(max_date_move_days=2, max_qty_change_pct=D(10))

# Mostly arguments a real user would give, and now and then one that is wrong: a customer
# acting on a purchase order, a line the order does not have, an unknown reason code.
actors = st.sampled_from([BUYER, SUPPLIER, SUPPLIER_API, CUSTOMER])
buyer_mostly = st.one_of(st.just(BUYER), actors)
supplier_mostly = st.one_of(st.just(SUPPLIER), actors)
either_party = st.one_of(st.just(SUPPLIER), st.just(BUYER), actors)
line_nos = st.sampled_from([1, 2, 3, 1, 2, 4])  # there is no line 4
quantities = st.sampled_from([D(1), D("2.5"), D(10), D(40), D(42), D(60), D(100), D(104), D(0)])
small_quantities = st.sampled_from([D(1), D("2.5"), D(5), D(10), D(30)])
dates = st.sampled_from(
    [date(2026, 12, d) for d in (8, 10, 11, 12, 20, 22)] + [date(2027, 1, 5), date(2027, 1, 30)]
)
schedule_specs = st.one_of(
    st.tuples(small_quantities, dates).map(lambda row: [row]),
    st.lists(st.tuples(quantities, dates), min_size=1, max_size=3),
)
reason_codes = st.sampled_from(["capacity", "material_shortage", "buyer_request", "weather"])
reasons = st.sampled_from(["Stock ran out.", "Not needed.", "  "])
rejected_quantities = st.sampled_from([D(0), D(1), D(10), D(200)])
# Promises that an acceptance can give (each line's full quantity, by its need date: line 1
# by 10 Dec, line 2 by 20 Dec, line 3 by 5 Jan) and some it cannot (a day late, too little).
full_promises = st.sampled_from(
    [
        {1: [(D(60), date(2026, 12, 8)), (D(40), date(2026, 12, 10))]},
        {
            2: [(D(10), date(2026, 12, 11)), (D(30), date(2026, 12, 20))],
            3: [(D("2.5"), date(2026, 12, 22))],
        },
        {1: [(D(60), date(2026, 12, 8)), (D(40), date(2026, 12, 11))]},
        {2: [(D(40), date(2026, 12, 22))], 3: [(D("2.5"), date(2027, 1, 5))]},
    ]
)
change_specs = st.lists(
    st.tuples(
        line_nos,
        st.sampled_from(list(ChangeKind)),
        quantities,
        schedule_specs,
        st.sampled_from([D(0), D("0.25"), D(3), D("0.120")]),  # 0.12 is line 1's price
        st.sampled_from(["BOLT-M8-A2", "NUT-M10", "", " BOLT-M8 "]),  # line 1 is BOLT-M8
    ),
    min_size=1,
    max_size=2,
)


def build_schedule(spec: list[tuple[Decimal, date]]) -> Schedule:
    return Schedule(tuple(DeliveryRow(quantity, on) for quantity, on in spec))


def build_changes(specs: list[Any]) -> tuple[LineChange, ...]:
    built = []
    for line_no, kind, quantity, schedule_spec, price, item in specs:
        if kind == ChangeKind.QUANTITY:
            built.append(LineChange(line_no, kind, quantity=quantity))
        elif kind == ChangeKind.DATE:
            built.append(LineChange(line_no, kind, schedule=build_schedule(schedule_spec)))
        elif kind == ChangeKind.PRICE:
            built.append(LineChange(line_no, kind, unit_price=price))
        elif kind == ChangeKind.ITEM:
            built.append(LineChange(line_no, kind, item=item))
        else:
            built.append(LineChange(line_no, kind))
    return tuple(built)


def lines() -> list[POLine]:
    return [
        POLine(1, "BOLT-M8", "", D(100), "ea", D("0.12"), date(2026, 12, 10)),
        POLine(2, "NUT-M8", "", D(40), "ea", D("0.05"), date(2026, 12, 20)),
        POLine(3, "WASHER-M8", "", D("2.5"), "kg", D(4), date(2027, 1, 5)),
    ]


def shift_days(before: Schedule, after: Schedule) -> int:
    """How far a new schedule moves any quantity, worked out differently from the domain:
    the n-th unit arrives with row i before and with row j after whenever their spans of the
    running total overlap, so the largest move is over the rows whose spans overlap."""

    def spans(schedule: Schedule) -> list[tuple[Decimal, Decimal, date]]:
        out, running = [], D(0)
        for row in schedule.rows:
            out.append((running, running + row.quantity, row.date))
            running += row.quantity
        return out

    return max(
        abs((day_after - day_before).days)
        for low_b, high_b, day_before in spans(before)
        for low_a, high_a, day_after in spans(after)
        if max(low_b, low_a) < min(high_b, high_a)
    )


def policy_allows(po: PurchaseOrder, changes: tuple[LineChange, ...]) -> bool:
    """The tolerance policy as the business wrote it down, for a request `_validate` took."""
    if POLICY.max_date_move_days == 0 and POLICY.max_qty_change_pct == 0:
        return False
    for change in changes:
        line = po.line(change.line_no)
        if change.kind == ChangeKind.DATE and change.schedule is not None:
            left = line.quantity - kept(line)
            if left <= 0:
                return False
            current = still_due(line.promise, left) or Schedule.single(left, line.need_date)
            if change.schedule.total != current.total:
                return False
            if shift_days(current, change.schedule) > POLICY.max_date_move_days:
                return False
        elif change.kind == ChangeKind.QUANTITY and change.quantity is not None:
            if (
                abs(change.quantity - line.quantity) * 100
                > POLICY.max_qty_change_pct * line.quantity
            ):
                return False
        else:
            return False
    return True


def still_due(promise: Schedule | None, left: Decimal) -> Schedule | None:
    """The promise less what has shipped: shipped goods fill the earliest rows first."""
    if promise is None:
        return None
    shipped = max(promise.total - left, D(0))
    rows = []
    for row in promise.rows:
        filled = min(row.quantity, shipped)
        shipped -= filled
        if row.quantity > filled:
            rows.append((row.quantity - filled, row.date))
    return build_schedule(rows)


def changes_nothing(line: POLine, change: LineChange) -> bool:
    """A change that would leave the line exactly as it is."""
    if change.kind == ChangeKind.QUANTITY:
        return change.quantity == line.quantity
    if change.kind == ChangeKind.DATE:
        return change.schedule == line.promise
    if change.kind == ChangeKind.PRICE:
        return change.unit_price == line.unit_price
    if change.kind == ChangeKind.ITEM:
        return change.item is not None and change.item.strip() == line.item
    return False


def kept(line: POLine) -> Decimal:
    """What the supplier shipped and we did not turn away, worked out here from the counts."""
    return line.shipped_qty - line.rejected_qty


def shipped_in_full(line: POLine) -> bool:
    return line.cancelled or kept(line) >= line.quantity


def received_in_full(line: POLine) -> bool:
    return line.cancelled or line.received_qty >= line.quantity


def not_fully_received(po: PurchaseOrder) -> list[dict[str, Any]]:
    return [
        {
            "line_no": line.line_no,
            "quantity": plain(line.quantity),
            "received": plain(line.received_qty),
        }
        for line in po.lines
        if not received_in_full(line)
    ]


def one_command_from(status: POStatus) -> set[POStatus]:
    """Where one command can take the order: one move of the table, or two when an approved
    request cancels every line (changes agreed, then cancel)."""
    after = {after for (before, _move), after in PO_TRANSITIONS.items() if before == status}
    agreed = PO_TRANSITIONS.get((status, POMove.CHANGES_AGREED))
    if agreed is not None and (agreed, POMove.CANCEL) in PO_TRANSITIONS:
        after.add(PO_TRANSITIONS[(agreed, POMove.CANCEL)])
    return after


NOTHING_MOVED_YET = {
    POStatus.DRAFT,
    POStatus.ISSUED,
    POStatus.REJECTED,
    POStatus.CHANGES_PROPOSED,
    POStatus.CANCELLED,
}


class PurchaseOrderMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.po = PurchaseOrder.create(
            BUYER, number="PO-9", supplier="acme", currency="EUR", lines=lines(), issue=False
        )
        self.crs: list[ChangeRequest] = []
        self.shipments: list[Shipment] = []
        self.last_status = self.told_status = self.po.status
        self.seen_events = list(self.po.events)
        self.first_promises: dict[int, Schedule] = {}
        self.promise_changes = 0
        self.counters = 0
        self.po_before = copy.deepcopy(self.po)

    @initialize(
        start=st.sampled_from(
            ["acknowledged", "in_fulfilment", "shipped", "changes_proposed", "draft", "issued"]
        )
    )
    def bring_the_order_to(self, start: str) -> None:
        """Start most runs further along, so that short runs reach the later states too."""
        if start != "draft":
            self.po.issue(BUYER)
        if start in ("acknowledged", "in_fulfilment", "shipped"):
            self.po.accept(SUPPLIER)
        if start == "changes_proposed":
            self.po.accept_with_changes(SUPPLIER, {1})
            cr = cr_commands.open_change_request(
                self.po,
                SUPPLIER,
                changes=(
                    LineChange(
                        1, ChangeKind.DATE, schedule=Schedule.single(D(100), date(2027, 1, 5))
                    ),
                ),
                reason_code="capacity",
                comment="",
                due_at=DUE,
                policy=POLICY,
                from_acknowledgement=True,
            )
            self.crs.append(cr)
        if start == "in_fulfilment":
            notice = Shipment(
                "ASN-0", date(2026, 12, 1), "DHL", "", None, (ShipmentLine(1, D(30)),)
            )
            self.po.post_shipment(SUPPLIER, notice, OVER_DELIVERY_PCT)
            self.shipments.append(notice)
        if start == "shipped":
            everything = tuple(ShipmentLine(line.line_no, line.quantity) for line in self.po.lines)
            notice = Shipment("ASN-0", date(2026, 12, 1), "DHL", "", None, everything)
            self.po.post_shipment(SUPPLIER, notice, OVER_DELIVERY_PCT)
            self.shipments.append(notice)
        self.seen_events = list(self.po.events)
        self.last_status = self.told_status = self.po.status

    # The one way every command is run ---------------------------------------------------

    def attempt(self, command: Callable[[], Any]) -> tuple[bool, Any]:
        before = copy.deepcopy((self.po, self.crs))
        self.po_before = before[0]
        try:
            result = command()
        except DomainError as error:
            assert error.message.strip(), "a refusal explains itself"
            assert (self.po, self.crs) == before, f"refused ({error}) but changed the order"
            return False, None
        return True, result

    def last_kind(self) -> EventKind:
        return self.po.events[-1].kind

    def check_applied(self, cr: ChangeRequest) -> None:
        """An approved request's changes are all on the order, and on its timeline: its own
        changes in its order, then each promise a quantity change resized to what is left."""
        dated = {change.line_no for change in cr.changes if change.kind == ChangeKind.DATE}
        resized = []
        for change in cr.changes:
            if change.kind != ChangeKind.QUANTITY or change.line_no in dated:
                continue
            line, old = self.po.line(change.line_no), self.po_before.line(change.line_no).promise
            if old is None:
                # Nothing to resize; an agreed acknowledgement promises the line's need date.
                agreed = Schedule.single(line.quantity, line.need_date)
                assert line.promise == (agreed if cr.from_acknowledgement else None)
                continue
            if line.left_to_ship == 0:
                assert line.promise == old, "nothing left to promise: the promise stays"
                continue
            assert line.promise == Schedule.single(line.left_to_ship, old.last_date)
            if line.promise != old:
                resized.append(
                    {
                        "line_no": line.line_no,
                        "kind": "promise",
                        "before": old.to_data(),
                        "after": line.promise.to_data(),
                    }
                )
        for change in cr.changes:
            line = self.po.line(change.line_no)
            if change.kind == ChangeKind.QUANTITY:
                assert line.quantity == change.quantity
            elif change.kind == ChangeKind.DATE:
                assert line.promise == change.schedule
            elif change.kind == ChangeKind.PRICE:
                assert line.unit_price == change.unit_price
            elif change.kind == ChangeKind.ITEM:
                assert change.item is not None
                assert line.item == change.item.strip()
            else:
                assert line.cancelled
        approval = self.po.events[-1]
        assert approval.data["number"] == cr.number
        applied = approval.data["applied"]
        assert [(a["line_no"], a["kind"]) for a in applied[: len(cr.changes)]] == [
            (c.line_no, c.kind.value) for c in cr.changes
        ]
        assert applied[len(cr.changes) :] == resized

    # Acknowledgement ----------------------------------------------------------------------

    @rule(actor=buyer_mostly)
    def issue(self, actor: Actor) -> None:
        done, _ = self.attempt(lambda: self.po.issue(actor))
        if done:
            assert self.po.status == POStatus.ISSUED
            assert self.last_kind() == EventKind.PO_ISSUED

    @rule(
        actor=supplier_mostly,
        promises=st.none()
        | full_promises
        | st.dictionaries(line_nos, schedule_specs, min_size=1, max_size=2),
    )
    def accept(self, actor: Actor, promises: dict[int, list[Any]] | None) -> None:
        def command() -> None:
            built = {no: build_schedule(spec) for no, spec in (promises or {}).items()}
            self.po.accept(actor, built)

        done, _ = self.attempt(command)
        if done:
            assert self.po.status == POStatus.ACKNOWLEDGED
            for line in self.po.lines:
                assert line.cancelled or (
                    line.promise is not None
                    and line.promise.total == line.quantity
                    and line.promise.last_date <= line.need_date
                )

    @rule(actor=supplier_mostly, reason=reasons)
    def reject(self, actor: Actor, reason: str) -> None:
        done, _ = self.attempt(lambda: self.po.reject(actor, reason))
        if done:
            assert self.po.status == POStatus.REJECTED

    @rule(actor=supplier_mostly, changed=st.sets(line_nos, max_size=3))
    def accept_with_changes(self, actor: Actor, changed: set[int]) -> None:
        done, _ = self.attempt(lambda: self.po.accept_with_changes(actor, changed))
        if done:
            assert self.po.status == POStatus.CHANGES_PROPOSED

    # Promises and change requests ---------------------------------------------------------

    @rule(actor=supplier_mostly, line_no=line_nos, spec=schedule_specs, code=reason_codes)
    def change_promise(self, actor: Actor, line_no: int, spec: list[Any], code: str) -> None:
        def command() -> Schedule:
            schedule = build_schedule(spec)
            self.po.change_promise(actor, line_no, schedule, code, "random")
            return schedule

        done, schedule = self.attempt(command)
        if done:
            self.promise_changes += 1
            assert self.po.line(line_no).promise == schedule
            assert self.last_kind() == EventKind.PROMISE_CHANGED
            assert self.po.events[-1].data["after"] == schedule.to_data()

    @rule(actor=either_party, specs=change_specs, code=reason_codes, ack=st.booleans())
    def open_change_request(
        self,
        actor: Actor,
        specs: list[Any],
        code: str,
        ack: bool,
        built: tuple[LineChange, ...] = (),
    ) -> None:
        def command() -> ChangeRequest:
            return cr_commands.open_change_request(
                self.po,
                actor,
                changes=built or build_changes(specs),
                reason_code=code,
                comment="",
                due_at=DUE,
                policy=POLICY,
                from_acknowledgement=ack,
            )

        done, cr = self.attempt(command)
        if done:
            self.crs.append(cr)
            assert cr.opened_by == actor.side
            for change in cr.changes:
                line = self.po_before.line(change.line_no)
                assert not changes_nothing(line, change), f"{change} changes nothing"
            expected = actor.side == SUPPLIER.side and policy_allows(self.po_before, cr.changes)
            assert cr.auto_approved == expected
            if cr.auto_approved:
                assert actor.side.value == "supplier"
                assert cr.status == CRStatus.APPROVED
                assert self.last_kind() == EventKind.CR_AUTO_APPROVED
                assert self.po.events[-1].actor == Actor.system()
                self.check_applied(cr)
            else:
                assert cr.status == CRStatus.OPEN
                assert self.last_kind() == EventKind.CR_OPENED

    @rule(
        actor=either_party,
        line_no=st.sampled_from([1, 2, 3]),
        kind=st.sampled_from(
            [ChangeKind.DATE, ChangeKind.QUANTITY, ChangeKind.PRICE, ChangeKind.ITEM]
        ),
        on=dates,
        factor=st.sampled_from([D("1.05"), D("0.95"), D("1.5"), D("0.5"), D(1), D(0)]),
        wrong_ack=st.booleans(),
    )
    def propose_a_likely_change(
        self,
        actor: Actor,
        line_no: int,
        kind: ChangeKind,
        on: date,
        factor: Decimal,
        wrong_ack: bool,
    ) -> None:
        """What people usually ask for: a line's remainder on another date, a little more or
        less of it, cut to what already came (`factor` 0), another price or item (so that
        requests get decided, not only refused); `factor` 1 asks for what the line has."""
        line = self.po.line(line_no)
        if kind == ChangeKind.DATE:
            left = max(line.left_to_ship, D(1))
            change = LineChange(line_no, kind, schedule=Schedule.single(left, on))
        elif kind == ChangeKind.QUANTITY:
            new = line.quantity * factor if factor else max(line.net_shipped, line.received_qty)
            change = LineChange(line_no, kind, quantity=max(new, D(1)))
        elif kind == ChangeKind.PRICE:
            change = LineChange(line_no, kind, unit_price=line.unit_price * factor)
        else:
            item = line.item if factor == 1 else f"{line.item}-{factor}"
            change = LineChange(line_no, kind, item=item)
        ack = (self.po.status == POStatus.CHANGES_PROPOSED) != wrong_ack
        self.open_change_request(actor, [], "capacity", ack, built=(change,))

    @rule(
        actor=supplier_mostly,
        line_no=st.sampled_from([1, 2, 3]),
        days=st.sampled_from([-3, -2, -1, 1, 2, 3, 12]),
        first_row_only=st.booleans(),
        wrong_ack=st.booleans(),
    )
    def nudge_the_promise(
        self, actor: Actor, line_no: int, days: int, first_row_only: bool, wrong_ack: bool
    ) -> None:
        """The supplier asks to move its current promise (the need date if there is none) by a
        few days, all of it or only its first row: the requests the tolerance policy is for."""
        line = self.po.line(line_no)
        current = line.promise or Schedule.single(max(line.left_to_ship, D(1)), line.need_date)
        moved = [(row.quantity, row.date) for row in current.rows]
        if first_row_only and len(moved) > 1:
            first_quantity, first_date = moved[0]
            moved[0] = (first_quantity, first_date + timedelta(days=days))
        if not first_row_only or len({on for _, on in moved}) < len(moved):
            moved = [(row.quantity, row.date + timedelta(days=days)) for row in current.rows]
        ack = (self.po.status == POStatus.CHANGES_PROPOSED) != wrong_ack
        change = LineChange(line_no, ChangeKind.DATE, schedule=build_schedule(moved))
        self.open_change_request(actor, [], "capacity", ack, built=(change,))

    @precondition(lambda self: self.crs)
    @rule(
        as_party=st.booleans(),
        anyone=actors,
        pick=st.integers(min_value=0, max_value=63),
        verdict=st.sampled_from(["approve", "reject", "withdraw", "counter"]),
        reason=reasons,
        specs=change_specs,
        code=reason_codes,
    )
    def decide(
        self,
        as_party: bool,
        anyone: Actor,
        pick: int,
        verdict: str,
        reason: str,
        specs: list[Any],
        code: str,
    ) -> None:
        cr = self.crs[pick % len(self.crs)]
        status_before = self.po.status
        # Mostly the side whose turn it is (the opener, for a withdrawal); sometimes anyone.
        side = cr.opened_by if verdict == "withdraw" else cr.deciding_side
        actor = (BUYER if side == BUYER.side else SUPPLIER) if as_party else anyone

        def command() -> ChangeRequest | None:
            if verdict == "approve":
                cr_commands.approve(self.po, cr, actor, reason)
            elif verdict == "reject":
                cr_commands.reject(self.po, cr, actor, reason)
            elif verdict == "withdraw":
                cr_commands.withdraw(self.po, cr, actor, reason)
            else:
                return cr_commands.counter(
                    self.po,
                    cr,
                    actor,
                    changes=build_changes(specs),
                    reason_code=code,
                    comment=reason,
                    due_at=DUE,
                )
            return None

        done, new = self.attempt(command)
        if not done:
            return
        if verdict == "withdraw":
            assert actor.side == cr.opened_by
            assert cr.status == CRStatus.WITHDRAWN
        else:
            assert actor.side == cr.deciding_side
        if verdict == "approve":
            assert cr.status == CRStatus.APPROVED
            assert self.last_kind() == EventKind.CR_APPROVED
            assert not any(
                changes_nothing(self.po_before.line(c.line_no), c) for c in cr.changes
            ), "an approval applied a change that changes nothing"
            self.check_applied(cr)
        elif verdict == "reject":
            assert cr.status == CRStatus.REJECTED
        declined = verdict in ("reject", "withdraw") and cr.from_acknowledgement
        if declined and status_before == POStatus.CHANGES_PROPOSED:
            assert self.po.status == POStatus.ISSUED
        if verdict == "counter":
            assert not any(changes_nothing(self.po_before.line(c.line_no), c) for c in new.changes)
            self.counters += 1
            self.crs.append(new)
            assert cr.status == CRStatus.COUNTERED
            assert cr.superseded_by == new.number
            assert (new.round, new.supersedes) == (cr.round + 1, cr.number)
            assert new.opened_by == actor.side
            assert new.from_acknowledgement == cr.from_acknowledgement

    # Fulfilment ---------------------------------------------------------------------------

    @rule(
        actor=supplier_mostly,
        shipped=st.dictionaries(line_nos, quantities, min_size=1, max_size=3),
    )
    def post_shipment(self, actor: Actor, shipped: dict[int, Decimal]) -> None:
        def command() -> Shipment:
            notice = Shipment(
                f"ASN-{len(self.shipments) + 1}",
                date(2026, 12, 9),
                "DHL",
                "",
                None,
                tuple(ShipmentLine(no, qty) for no, qty in shipped.items()),
            )
            self.po.post_shipment(actor, notice, OVER_DELIVERY_PCT)
            return notice

        done, notice = self.attempt(command)
        if done:
            self.shipments.append(notice)
            assert self.last_kind() == EventKind.SHIPMENT_POSTED
            everything = all(shipped_in_full(line) for line in self.po.lines)
            assert self.po.status == (POStatus.SHIPPED if everything else POStatus.IN_FULFILMENT)

    @rule(actor=supplier_mostly)
    def ship_the_rest(self, actor: Actor) -> None:
        # What is left includes goods turned away at receipt: they are shipped again.
        left = [
            ShipmentLine(line.line_no, line.quantity - kept(line))
            for line in self.po.lines
            if not shipped_in_full(line)
        ]
        status = self.po.status

        def command() -> Shipment:
            number = f"ASN-{len(self.shipments) + 1}"
            notice = Shipment(number, date(2026, 12, 9), "DHL", "", None, tuple(left))
            self.po.post_shipment(actor, notice, OVER_DELIVERY_PCT)
            return notice

        done, notice = self.attempt(command)
        if done:
            self.shipments.append(notice)
            assert self.po.status == POStatus.SHIPPED
        # Whoever may ship can always ship exactly what is left, replacements included.
        can_ship = status in (POStatus.ACKNOWLEDGED, POStatus.IN_FULFILMENT)
        if left and can_ship and actor.side.value in ("internal", "supplier"):
            assert done, "shipping what is left was refused"

    @precondition(lambda self: self.shipments)
    @rule(
        actor=supplier_mostly,
        pick=st.integers(min_value=0, max_value=63),
        share=st.sampled_from([D(0), D("0.5"), D(1), D("1.5")]),
        reason=reasons,
    )
    def take_back_a_shipment(self, actor: Actor, pick: int, share: Decimal, reason: str) -> None:
        """Cancel a posted shipment (`share` 0) or correct it to a share of what it said;
        the goods the warehouse counted in were shipped, whichever shipment brought them."""
        notice = self.shipments[pick % len(self.shipments)]
        lines = tuple(ShipmentLine(ln.line_no, ln.quantity * share) for ln in notice.lines)
        corrected = replace(notice, lines=lines) if share else notice

        def command() -> None:
            if share == 0:
                self.po.cancel_shipment(actor, notice, reason, received=False)
            else:
                self.po.correct_shipment(
                    actor, notice, corrected, reason, OVER_DELIVERY_PCT, received=False
                )

        before = {line.line_no: line.shipped_qty for line in self.po.lines}
        done, _ = self.attempt(command)
        if not done:
            return
        self.shipments.remove(notice)
        if share == 0:
            assert self.last_kind() == EventKind.SHIPMENT_CANCELLED
            assert self.po.events[-1].data["after"] is None
        else:
            self.shipments.append(corrected)
            assert self.last_kind() == EventKind.SHIPMENT_CORRECTED
            assert self.po.events[-1].data["after"] == corrected.to_data()
        assert self.po.events[-1].data["before"] == notice.to_data()
        assert reason.strip()
        for shipped in notice.lines:
            line = self.po.line(shipped.line_no)
            assert line.shipped_qty == before[line.line_no] + shipped.quantity * (share - 1)
        after = self.po.lines
        if all(ln.shipped_qty == ln.received_qty == ln.rejected_qty == 0 for ln in after):
            expected = POStatus.ACKNOWLEDGED
        elif all(shipped_in_full(line) for line in after):
            expected = POStatus.SHIPPED
        else:
            expected = POStatus.IN_FULFILMENT
        assert self.po.status == expected

    @rule(
        actor=buyer_mostly,
        counted=st.dictionaries(
            line_nos, st.tuples(quantities, rejected_quantities), min_size=1, max_size=3
        ),
    )
    def record_receipt(self, actor: Actor, counted: dict[int, tuple[Decimal, Decimal]]) -> None:
        def command() -> None:
            lines = tuple(ReceiptLine(no, got, bad) for no, (got, bad) in counted.items())
            self.po.record_receipt(
                actor, Receipt("GR", date(2026, 12, 12), None, lines), OVER_DELIVERY_PCT
            )

        status_before = self.po.status
        done, _ = self.attempt(command)
        if done:
            assert self.last_kind() == EventKind.RECEIPT_RECORDED
            lines = self.po.lines
            if all(received_in_full(line) for line in lines):
                expected = POStatus.RECEIVED
            elif status_before == POStatus.SHIPPED:
                # Goods turned away put a shipped order back in fulfilment until replaced.
                still = all(shipped_in_full(line) for line in lines)
                expected = POStatus.SHIPPED if still else POStatus.IN_FULFILMENT
            else:
                expected = POStatus.IN_FULFILMENT
            assert self.po.status == expected

    @rule(actor=buyer_mostly, bad=st.sampled_from(["none", "one", "half", "all"]))
    def count_in_what_arrived(self, actor: Actor, bad: str) -> None:
        """Count in what was shipped and not yet counted, turning some of it away."""
        counted: dict[int, tuple[Decimal, Decimal]] = {}
        for line in self.po.lines:
            arrived = line.shipped_qty - line.received_qty - line.rejected_qty
            if arrived > 0:
                rejected = {
                    "none": D(0),
                    "one": min(D(1), arrived),
                    "half": arrived / 2,
                    "all": arrived,
                }[bad]
                counted[line.line_no] = (arrived, rejected)
        if counted:
            self.record_receipt(actor, counted)

    @rule(actor=buyer_mostly)
    def receive_the_rest(self, actor: Actor) -> None:
        left = [
            ReceiptLine(line.line_no, line.quantity - line.received_qty)
            for line in self.po.lines
            if not received_in_full(line)
        ]
        status = self.po.status

        def command() -> None:
            self.po.record_receipt(
                actor, Receipt("GR", date(2026, 12, 12), None, tuple(left)), OVER_DELIVERY_PCT
            )

        done, _ = self.attempt(command)
        if done:
            assert self.po.status == POStatus.RECEIVED
        can_receive = status in (POStatus.ACKNOWLEDGED, POStatus.IN_FULFILMENT, POStatus.SHIPPED)
        if left and can_receive and actor.side.value == "internal":
            assert done, "receiving what is left was refused"

    @rule(actor=buyer_mostly, reason=reasons, stale=st.booleans())
    def cancel(self, actor: Actor, reason: str, stale: bool) -> None:
        """Cancel the order with every request still open on it, now and then passing one
        already decided too (which must refuse the whole cancellation)."""
        still_open = [cr for cr in self.crs if cr.status == CRStatus.OPEN]
        decided = [cr for cr in self.crs if cr.status != CRStatus.OPEN]
        passed = still_open + (decided[-1:] if stale else [])
        done, _ = self.attempt(lambda: cr_commands.cancel_order(self.po, actor, reason, passed))
        if done:
            assert passed == still_open, "a request no longer open cannot be cancelled"
            assert self.po.status == POStatus.CANCELLED
            assert self.last_kind() == EventKind.PO_CANCELLED
            assert self.po.events[-1].data["change_requests_closed"] == [
                cr.number for cr in still_open
            ]
            for cr in still_open:
                assert cr.status == CRStatus.CANCELLED
                assert (cr.decided_by_name, cr.decision_comment) == (actor.name, reason)

    @rule(actor=buyer_mostly)
    def close(self, actor: Actor) -> None:
        short = not_fully_received(self.po)
        done, _ = self.attempt(lambda: self.po.close(actor))
        if done:
            assert self.po.status == POStatus.CLOSED
            assert self.last_kind() == EventKind.PO_CLOSED
            assert self.po.events[-1].data["short"] == short

    @rule(
        actor=st.one_of(actors, st.just(OTHER_SUPPLIER)),
        text=st.sampled_from(["", " ", "When?", "x" * 4001]),
        internal_only=st.booleans(),
    )
    def comment(self, actor: Actor, text: str, internal_only: bool) -> None:
        status = self.po.status
        done, _ = self.attempt(lambda: self.po.comment(actor, text, internal_only=internal_only))
        if done:
            assert self.last_kind() == EventKind.COMMENT_ADDED
            assert self.po.status == status
            # Only our staff and the order's own supplier write on it.
            assert actor.side.value == "internal" or actor.org == self.po.supplier

    # Invariants ---------------------------------------------------------------------------

    @invariant()
    def status_moves_only_as_the_table_allows(self) -> None:
        status = self.po.status
        assert isinstance(status, POStatus)
        if status != self.last_status:
            assert status in one_command_from(self.last_status), (
                f"{self.last_status} -> {status} is not in the state machine"
            )
        self.last_status = status

    @invariant()
    def quantities_stay_within_bounds(self) -> None:
        for line in self.po.lines:
            assert line.quantity > 0
            assert line.shipped_qty >= 0
            assert line.received_qty >= 0
            assert line.rejected_qty >= 0
            ceiling = line.quantity * (1 + OVER_DELIVERY_PCT / 100)
            # Goods turned away are shipped again: what was shipped and kept stays in bounds.
            assert line.shipped_qty - line.rejected_qty <= ceiling
            assert line.received_qty <= ceiling
            assert line.left_to_ship == max(line.quantity - kept(line), 0)
            if line.cancelled:
                assert line.shipped_qty == line.received_qty == line.rejected_qty == 0

    @invariant()
    def status_agrees_with_the_lines(self) -> None:
        status, lines = self.po.status, self.po.lines
        for line in lines:
            assert line.net_shipped == kept(line)
            assert line.fully_shipped == shipped_in_full(line)
            assert line.fully_received == received_in_full(line)
        if status == POStatus.SHIPPED:
            assert all(shipped_in_full(line) for line in lines)
        if status == POStatus.RECEIVED:
            assert all(received_in_full(line) for line in lines)
        if status == POStatus.CLOSED:
            # Closed short or not, the closing event says what never arrived.
            (closing,) = [e for e in self.po.events if e.kind == EventKind.PO_CLOSED]
            assert closing.data["short"] == not_fully_received(self.po)
        if status in NOTHING_MOVED_YET:
            assert all(
                line.shipped_qty == line.received_qty == line.rejected_qty == 0 for line in lines
            )
        if all(line.cancelled for line in lines):
            assert status == POStatus.CANCELLED

    @invariant()
    def first_promise_never_changes(self) -> None:
        for line in self.po.lines:
            if line.line_no in self.first_promises:
                assert line.first_promise == self.first_promises[line.line_no]
            elif line.first_promise is not None:
                assert line.promise is not None
                self.first_promises[line.line_no] = line.first_promise

    @invariant()
    def the_timeline_only_grows_and_tells_every_status_change(self) -> None:
        events = self.po.events
        assert events[: len(self.seen_events)] == self.seen_events
        assert all(event.stream == "po/PO-9" for event in events)
        new = events[len(self.seen_events) :]
        if self.po.status != self.told_status:
            told = [
                event
                for event in new
                if event.data.get("status", {}).get("after") == self.po.status.value
            ]
            assert told, f"nothing on the timeline says the order is now {self.po.status}"
        self.told_status = self.po.status
        self.seen_events = list(events)

    @invariant()
    def every_change_is_on_the_timeline(self) -> None:
        kinds = [event.kind for event in self.po.events]
        assert kinds.count(EventKind.PROMISE_CHANGED) == self.promise_changes
        assert kinds.count(EventKind.CR_OPENED) == len(self.crs)
        assert kinds.count(EventKind.CR_COUNTERED) == self.counters
        assert self.po.cr_count == len(self.crs)
        approvals = {
            event.data["number"]: event
            for event in self.po.events
            if event.kind in (EventKind.CR_APPROVED, EventKind.CR_AUTO_APPROVED)
        }
        approved = [cr for cr in self.crs if cr.status == CRStatus.APPROVED]
        assert sorted(approvals) == sorted(cr.number for cr in approved)
        for cr in approved:
            event = approvals[cr.number]
            if cr.auto_approved:
                assert event.kind == EventKind.CR_AUTO_APPROVED
                assert event.actor == Actor.system()
            else:
                assert event.kind == EventKind.CR_APPROVED

    @invariant()
    def change_requests_are_consistent(self) -> None:
        numbers = [cr.number for cr in self.crs]
        assert len(set(numbers)) == len(numbers)
        for cr in self.crs:
            assert (cr.status == CRStatus.COUNTERED) == (cr.superseded_by is not None)
            assert cr.opened_by != cr.deciding_side
        # A request is cancelled only with its order, and the cancellation names it.
        cancelled = [cr.number for cr in self.crs if cr.status == CRStatus.CANCELLED]
        if cancelled:
            assert self.po.status == POStatus.CANCELLED
            (cancelling,) = [e for e in self.po.events if e.kind == EventKind.PO_CANCELLED]
            assert cancelling.data["change_requests_closed"] == cancelled


PurchaseOrderMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_purchase_order_commands = PurchaseOrderMachine.TestCase
