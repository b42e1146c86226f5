"""Purchase orders and sales orders: the aggregates every command changes.

An aggregate changes only through its methods; each method checks the move with the state
machine, changes the fields and records the events that say what happened.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from portal.domain.actors import Actor, Side
from portal.domain.errors import DomainError, NotFound
from portal.domain.events import (
    EventKind,
    PendingEvent,
    audience_for,
    plain,
    po_stream,
    so_stream,
)
from portal.domain.receipts import Receipt
from portal.domain.schedule import Schedule
from portal.domain.shipments import Shipment
from portal.domain.states import POMove, POStatus, SOMove, SOStatus, po_move, so_move

REASON_CODES: tuple[str, ...] = (
    "material_shortage",
    "capacity",
    "quality",
    "logistics",
    "customer_request",
    "buyer_request",
    "force_majeure",
    "other",
)
"""Why a promise moved or a change was asked for; the UI translates each code."""


def require_side(actor: Actor, sides: Iterable[Side], doing: str) -> None:
    allowed = set(sides)
    if actor.side not in allowed:
        names = " or ".join(sorted(side.value for side in allowed))
        raise DomainError("Only the {names} side can {doing}.", names=names, doing=doing)


@dataclass(frozen=True, slots=True)
class ReasonCatalog:
    """The reason codes in use: the built-in ones less those an admin deactivated, plus those
    an admin added, with the admins' own labels (code -> (English, Chinese))."""

    active: tuple[str, ...] = REASON_CODES
    retired: frozenset[str] = frozenset()
    labels: Mapping[str, tuple[str, str]] = field(default_factory=dict)


REASON_CATALOG: ContextVar[ReasonCatalog | None] = ContextVar("reason_catalog", default=None)
"""The catalog the current command or request obeys, set from the database by whoever runs it
(the unit of work, the web app per request); without one, the built-in codes."""


def reason_catalog() -> ReasonCatalog:
    return REASON_CATALOG.get() or ReasonCatalog()


def reason_codes() -> tuple[str, ...]:
    """The reason codes that may be chosen now."""
    return reason_catalog().active


def require_reason(reason_code: str) -> None:
    catalog = reason_catalog()
    if reason_code in catalog.retired:
        raise DomainError(
            "Reason code {reason_code!r} is no longer in use; use one of: {choices}.",
            reason_code=reason_code,
            choices=", ".join(catalog.active),
        )
    if reason_code not in catalog.active:
        raise DomainError(
            "Unknown reason code {reason_code!r}; use one of: {choices}.",
            reason_code=reason_code,
            choices=", ".join(catalog.active),
        )


def within_tolerance(total: Decimal, ordered: Decimal, tolerance_pct: Decimal) -> bool:
    return total <= ordered * (1 + tolerance_pct / 100)


@dataclass(slots=True)
class Aggregate(ABC):
    version: int
    events: list[PendingEvent] = field(default_factory=list, kw_only=True)

    @property
    @abstractmethod
    def stream(self) -> str: ...

    def record(
        self, actor: Actor, kind: EventKind, data: dict[str, Any], *, external: bool = True
    ) -> None:
        self.events.append(
            PendingEvent(
                stream=self.stream,
                kind=kind,
                actor=actor,
                data=plain(data),
                audience=audience_for(self.stream, external),
            )
        )


# Purchase orders ---------------------------------------------------------------------------


@dataclass(slots=True)
class POLine:
    line_no: int
    item: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    need_date: date
    first_promise: Schedule | None = None
    promise: Schedule | None = None
    shipped_qty: Decimal = Decimal(0)
    received_qty: Decimal = Decimal(0)
    rejected_qty: Decimal = Decimal(0)
    cancelled: bool = False

    def __post_init__(self) -> None:
        if self.line_no < 1:
            raise DomainError("Line numbers start at 1.")
        if not self.item.strip():
            raise DomainError("Line {line_no} needs an item code.", line_no=self.line_no)
        if self.quantity <= 0:
            raise DomainError(
                "Quantity on line {line_no} must be more than zero.", line_no=self.line_no
            )
        if self.unit_price < 0:
            raise DomainError("Price on line {line_no} cannot be negative.", line_no=self.line_no)

    @property
    def net_shipped(self) -> Decimal:
        """What the supplier has shipped and we kept: goods turned away are to be replaced."""
        return self.shipped_qty - self.rejected_qty

    @property
    def left_to_ship(self) -> Decimal:
        return max(self.quantity - self.net_shipped, Decimal(0))

    @property
    def fully_shipped(self) -> bool:
        return self.cancelled or self.net_shipped >= self.quantity

    @property
    def fully_received(self) -> bool:
        return self.cancelled or self.received_qty >= self.quantity

    @property
    def promised_date(self) -> date | None:
        return self.promise.last_date if self.promise else None

    @property
    def promise_to_come(self) -> Schedule | None:
        """The part of the promise still to be shipped (None once nothing is left)."""
        return self.promise.still_to_come(self.left_to_ship) if self.promise else None

    @property
    def late(self) -> bool:
        """Promised for after we need it: the line to chase."""
        return (
            not self.cancelled
            and self.promised_date is not None
            and self.promised_date > self.need_date
        )

    def confirm(self, schedule: Schedule) -> None:
        """The supplier commits to `schedule`; the first commitment is kept for ever."""
        if self.first_promise is None:
            self.first_promise = schedule
        self.promise = schedule

    def to_data(self) -> dict[str, Any]:
        return {
            "line_no": self.line_no,
            "item": self.item,
            "description": self.description,
            "quantity": self.quantity,
            "unit": self.unit,
            "unit_price": self.unit_price,
            "need_date": self.need_date,
        }


def display_status(status: POStatus, lines: list[POLine]) -> str:
    """The stored status, refined by what the lines say (partial shipment or receipt)."""
    live = [line for line in lines if not line.cancelled]
    if status in (POStatus.IN_FULFILMENT, POStatus.SHIPPED) and any(
        line.received_qty > 0 for line in live
    ):
        return "partially_received"
    if status == POStatus.IN_FULFILMENT and any(line.shipped_qty > 0 for line in live):
        return "partially_shipped"
    return status.value


@dataclass(slots=True)
class PurchaseOrder(Aggregate):
    number: str
    supplier: str
    currency: str
    status: POStatus
    lines: list[POLine]
    buyer: str = ""
    cr_count: int = 0

    @property
    def stream(self) -> str:
        return po_stream(self.number)

    @classmethod
    def create(
        cls,
        actor: Actor,
        *,
        number: str,
        supplier: str,
        currency: str,
        lines: list[POLine],
        issue: bool = True,
    ) -> PurchaseOrder:
        require_side(actor, [Side.INTERNAL], "create purchase orders")
        if not number.strip():
            raise DomainError("A purchase order needs a number.")
        if not lines:
            raise DomainError("A purchase order needs at least one line.")
        line_numbers = [line.line_no for line in lines]
        if len(set(line_numbers)) != len(line_numbers):
            raise DomainError("Each line of a purchase order needs its own line number.")
        if len(currency) != 3 or not currency.isalpha():
            raise DomainError(
                "Currency must be a three-letter ISO code (got {currency!r}).", currency=currency
            )
        po = cls(
            version=1,
            number=number,
            supplier=supplier,
            currency=currency.upper(),
            status=POStatus.DRAFT,
            lines=sorted(lines, key=lambda line: line.line_no),
            buyer=actor.name,
        )
        po.record(
            actor,
            EventKind.PO_CREATED,
            {"supplier": supplier, "currency": po.currency, "lines": po.lines_data()},
            external=False,
        )
        if issue:
            po.issue(actor)
        return po

    def lines_data(self) -> list[dict[str, Any]]:
        return [line.to_data() for line in self.lines]

    def line(self, line_no: int) -> POLine:
        for line in self.lines:
            if line.line_no == line_no:
                return line
        raise NotFound(
            "Purchase order {number} has no line {line_no}.", number=self.number, line_no=line_no
        )

    def open_line(self, line_no: int) -> POLine:
        line = self.line(line_no)
        if line.cancelled:
            raise DomainError(
                "Line {line_no} of purchase order {number} is cancelled.",
                line_no=line_no,
                number=self.number,
            )
        return line

    @property
    def display_status(self) -> str:
        return display_status(self.status, self.lines)

    def _move(self, move: POMove) -> POStatus:
        before = self.status
        self.status = po_move(self.status, move, self.number)
        return before

    def issue(self, actor: Actor) -> None:
        require_side(actor, [Side.INTERNAL], "issue purchase orders")
        before = self._move(POMove.ISSUE)
        self.record(
            actor,
            EventKind.PO_ISSUED,
            {
                "supplier": self.supplier,
                "currency": self.currency,
                "lines": self.lines_data(),
                "status": {"before": before, "after": self.status},
            },
        )

    def accept(self, actor: Actor, promises: dict[int, Schedule] | None = None) -> None:
        """The supplier accepts every line, on the need date unless it promises otherwise."""
        require_side(actor, [Side.SUPPLIER, Side.INTERNAL], "acknowledge purchase orders")
        promises = promises or {}
        self._check_acceptance(promises)
        before = self._move(POMove.ACCEPT)
        self.record(
            actor,
            EventKind.PO_ACKNOWLEDGED,
            {
                "decision": "accepted",
                "status": {"before": before, "after": self.status},
                "lines": self._confirm_lines(self._accepted(promises, set())),
            },
        )

    def _check_acceptance(self, promises: dict[int, Schedule]) -> None:
        """Accepting a line means its full quantity by its need date, in as many deliveries as
        the supplier likes; anything else changes the order and is for the buyer to agree."""
        for line_no, schedule in promises.items():
            line = self.open_line(line_no)
            if schedule.total != line.quantity:
                raise DomainError(
                    "Accepting line {line_no} means promising its full quantity "
                    "({quantity}); propose a change to promise {total}.",
                    line_no=line_no,
                    quantity=line.quantity,
                    total=schedule.total,
                )
            if schedule.last_date > line.need_date:
                # Later than we need it is a change to the order: the buyer has to agree.
                raise DomainError(
                    "Line {line_no} is needed by {need_date}; to promise {last_date}, "
                    "accept with changes.",
                    line_no=line_no,
                    need_date=line.need_date.isoformat(),
                    last_date=schedule.last_date.isoformat(),
                )

    def _accepted(self, promises: dict[int, Schedule], changed: set[int]) -> dict[int, Schedule]:
        return {
            line.line_no: promises.get(line.line_no)
            or Schedule.single(line.quantity, line.need_date)
            for line in self.lines
            if not line.cancelled and line.line_no not in changed
        }

    def _confirm_lines(self, schedules: dict[int, Schedule]) -> list[dict[str, Any]]:
        for line_no, schedule in schedules.items():
            self.line(line_no).confirm(schedule)
        return [
            {"line_no": line_no, "promise": schedule.to_data()}
            for line_no, schedule in sorted(schedules.items())
        ]

    def reject(self, actor: Actor, reason: str) -> None:
        require_side(actor, [Side.SUPPLIER, Side.INTERNAL], "reject purchase orders")
        if not reason.strip():
            raise DomainError("Say why the purchase order is rejected.")
        before = self._move(POMove.REJECT)
        self.record(
            actor,
            EventKind.PO_REJECTED,
            {
                "decision": "rejected",
                "reason": reason,
                "status": {"before": before, "after": self.status},
            },
        )

    def accept_with_changes(
        self,
        actor: Actor,
        changed_lines: set[int],
        promises: dict[int, Schedule] | None = None,
    ) -> None:
        """The supplier accepts the lines it does not change (with the deliveries it promises
        for them, as in `accept`); the rest wait for the buyer's decision on the change request
        that follows this event."""
        require_side(actor, [Side.SUPPLIER, Side.INTERNAL], "acknowledge purchase orders")
        if not changed_lines:
            raise DomainError("Accepting with changes needs at least one changed line.")
        for line_no in changed_lines:
            self.open_line(line_no)
        promises = promises or {}
        both = sorted(changed_lines & promises.keys())
        if both:
            raise DomainError(
                "Line {line_no} is changed; its delivery schedule belongs in the change.",
                line_no=both[0],
            )
        self._check_acceptance(promises)
        before = self._move(POMove.PROPOSE_CHANGES)
        self.record(
            actor,
            EventKind.PO_ACKNOWLEDGED,
            {
                "decision": "accepted_with_changes",
                "changed_lines": sorted(changed_lines),
                "status": {"before": before, "after": self.status},
                "lines": self._confirm_lines(self._accepted(promises, changed_lines)),
            },
        )

    def next_cr_number(self) -> str:
        self.cr_count += 1
        return f"{self.number}-CR{self.cr_count}"

    def change_promise(
        self,
        actor: Actor,
        line_no: int,
        schedule: Schedule,
        reason_code: str,
        comment: str = "",
    ) -> None:
        require_side(actor, [Side.SUPPLIER, Side.INTERNAL], "change a promise")
        require_reason(reason_code)
        po_move(self.status, POMove.CHANGE_PROMISE, self.number)
        line = self.open_line(line_no)
        if line.fully_shipped:
            raise DomainError(
                "Line {line_no} is fully shipped; its promise can no longer move.", line_no=line_no
            )
        if schedule.total > line.left_to_ship:
            raise DomainError(
                "Line {line_no} has {left_to_ship} left to ship; the promise ({total}) "
                "cannot be for more.",
                line_no=line_no,
                left_to_ship=line.left_to_ship,
                total=schedule.total,
            )
        before = line.promise
        if before == schedule:
            raise DomainError(
                "Line {line_no} is already promised exactly like that.", line_no=line_no
            )
        line.confirm(schedule)
        self.record(
            actor,
            EventKind.PROMISE_CHANGED,
            {
                "line_no": line_no,
                "before": before.to_data() if before else None,
                "after": schedule.to_data(),
                "reason_code": reason_code,
                "comment": comment,
            },
        )

    def post_shipment(self, actor: Actor, shipment: Shipment, tolerance_pct: Decimal) -> None:
        require_side(actor, [Side.SUPPLIER, Side.INTERNAL], "post shipments")
        for shipped in shipment.lines:
            line = self.open_line(shipped.line_no)
            if not within_tolerance(
                line.net_shipped + shipped.quantity, line.quantity, tolerance_pct
            ):
                raise DomainError(
                    "Line {line_no}: shipping {more} more would make {total} of {ordered} "
                    "ordered, beyond the {tolerance_pct}% tolerance.",
                    line_no=line.line_no,
                    more=shipped.quantity,
                    total=line.net_shipped + shipped.quantity,
                    ordered=line.quantity,
                    tolerance_pct=tolerance_pct,
                )
        adding = {shipped.line_no: shipped.quantity for shipped in shipment.lines}
        all_shipped = all(
            line.cancelled or line.net_shipped + adding.get(line.line_no, 0) >= line.quantity
            for line in self.lines
        )
        # The move is checked before any line changes, so a refused shipment changes nothing.
        after = po_move(self.status, POMove.SHIP_ALL if all_shipped else POMove.SHIP, self.number)
        for shipped in shipment.lines:
            self.line(shipped.line_no).shipped_qty += shipped.quantity
        before, self.status = self.status, after
        self.record(
            actor,
            EventKind.SHIPMENT_POSTED,
            {"shipment": shipment.to_data(), "status": {"before": before, "after": self.status}},
        )

    def correct_shipment(
        self,
        actor: Actor,
        before: Shipment,
        after: Shipment,
        reason: str,
        tolerance_pct: Decimal,
        *,
        received: bool,
    ) -> None:
        """Replace a posted shipment by what was really sent (`received`: goods of it have
        been counted in, and what was counted cannot be unsent)."""
        self._check_retraction(actor, before, reason, "corrected", received=received)
        if after.number != before.number:
            raise DomainError(
                "A correction keeps the shipment's number ({number}, not {other}).",
                number=before.number,
                other=after.number,
            )
        if after == before:
            raise DomainError("Shipment {number} already says exactly that.", number=before.number)
        deltas = _quantities(after)
        for line_no, quantity in _quantities(before).items():
            deltas[line_no] = deltas.get(line_no, Decimal(0)) - quantity
        for line_no, delta in deltas.items():
            line = self.open_line(line_no)
            # Only more than before can break the tolerance: less is always allowed to stand.
            if delta > 0 and not within_tolerance(
                line.net_shipped + delta, line.quantity, tolerance_pct
            ):
                raise DomainError(
                    "Line {line_no}: {shipment} would make {total} of {ordered} ordered "
                    "shipped, beyond the {tolerance_pct}% tolerance.",
                    line_no=line_no,
                    shipment=after.number,
                    total=line.net_shipped + delta,
                    ordered=line.quantity,
                    tolerance_pct=tolerance_pct,
                )
        status = self._reship(deltas)
        self.record(
            actor,
            EventKind.SHIPMENT_CORRECTED,
            {
                "number": before.number,
                "reason": reason,
                "before": before.to_data(),
                "after": after.to_data(),
                "status": status,
            },
        )

    def cancel_shipment(
        self, actor: Actor, shipment: Shipment, reason: str, *, received: bool
    ) -> None:
        """Take a posted shipment back as if it was never sent (`after` is None on the
        timeline); its number stays taken."""
        self._check_retraction(actor, shipment, reason, "cancelled", received=received)
        status = self._reship({no: -quantity for no, quantity in _quantities(shipment).items()})
        self.record(
            actor,
            EventKind.SHIPMENT_CANCELLED,
            {
                "number": shipment.number,
                "reason": reason,
                "before": shipment.to_data(),
                "after": None,
                "status": status,
            },
        )

    def _check_retraction(
        self, actor: Actor, shipment: Shipment, reason: str, done: str, *, received: bool
    ) -> None:
        require_side(actor, [Side.SUPPLIER, Side.INTERNAL], f"have shipments {done}")
        if not reason.strip():
            raise DomainError(
                "Say why shipment {number} is {done}.", number=shipment.number, done=done
            )
        if received:
            raise DomainError(
                "Goods of shipment {number} were received; it can no longer be {done}.",
                number=shipment.number,
                done=done,
            )

    def _reship(self, deltas: dict[int, Decimal]) -> dict[str, POStatus]:
        """Change the lines' shipped quantities by `deltas` and move the order to what they
        say now; checked in full before anything changes."""
        for line_no, delta in deltas.items():
            line = self.line(line_no)
            counted = line.received_qty + line.rejected_qty
            if line.shipped_qty + delta < counted:
                raise DomainError(
                    "Line {line_no} has {counted} received or turned away; it cannot have "
                    "shipped only {shipped}.",
                    line_no=line_no,
                    counted=counted,
                    shipped=line.shipped_qty + delta,
                )
        shipped = {
            line.line_no: line.shipped_qty + deltas.get(line.line_no, Decimal(0))
            for line in self.lines
        }
        nothing_left = all(
            shipped[line.line_no] == 0 and line.received_qty == 0 and line.rejected_qty == 0
            for line in self.lines
        )
        all_shipped = all(
            line.cancelled or shipped[line.line_no] - line.rejected_qty >= line.quantity
            for line in self.lines
        )
        if nothing_left:
            move = POMove.TAKE_BACK_ALL
        elif all_shipped:
            move = POMove.CORRECT_SHIPMENT if self.status == POStatus.SHIPPED else POMove.SHIP_ALL
        else:
            move = POMove.TAKE_BACK if self.status == POStatus.SHIPPED else POMove.CORRECT_SHIPMENT
        after = po_move(self.status, move, self.number)
        for line in self.lines:
            line.shipped_qty = shipped[line.line_no]
        before, self.status = self.status, after
        return {"before": before, "after": after}

    def record_receipt(self, actor: Actor, receipt: Receipt, tolerance_pct: Decimal) -> None:
        require_side(actor, [Side.INTERNAL], "record receipts")
        for received in receipt.lines:
            line = self.open_line(received.line_no)
            if not within_tolerance(
                line.received_qty + received.accepted, line.quantity, tolerance_pct
            ):
                # The percent sign goes with the value: "% o" in a msgid reads as a printf
                # placeholder to the catalog tools, which then refuse its translation.
                raise DomainError(
                    "Line {line_no}: accepting {more} more would make {total} of {ordered} "
                    "ordered, beyond the {tolerance} over-receipt tolerance.",
                    line_no=line.line_no,
                    more=received.accepted,
                    total=line.received_qty + received.accepted,
                    ordered=line.quantity,
                    tolerance=f"{tolerance_pct}%",
                )
        accepting = {received.line_no: received.accepted for received in receipt.lines}
        turning_away = {received.line_no: received.rejected for received in receipt.lines}
        all_received = all(
            line.cancelled or line.received_qty + accepting.get(line.line_no, 0) >= line.quantity
            for line in self.lines
        )
        all_still_shipped = all(
            line.cancelled or line.net_shipped - turning_away.get(line.line_no, 0) >= line.quantity
            for line in self.lines
        )
        if all_received:
            move = POMove.RECEIVE_ALL
        elif self.status == POStatus.SHIPPED and not all_still_shipped:
            move = POMove.RECEIVE_SHORT
        else:
            move = POMove.RECEIVE
        # The move is checked before any line changes, so a refused receipt changes nothing.
        after = po_move(self.status, move, self.number)
        for received in receipt.lines:
            line = self.line(received.line_no)
            line.received_qty += received.accepted
            line.rejected_qty += received.rejected
        before, self.status = self.status, after
        self.record(
            actor,
            EventKind.RECEIPT_RECORDED,
            {"receipt": receipt.to_data(), "status": {"before": before, "after": self.status}},
        )

    def cancel(self, actor: Actor, reason: str, open_requests: tuple[str, ...] = ()) -> None:
        """The buyer withdraws the order before the supplier has committed to it; the change
        requests still open on it (`changes.cancel_order` closes them) are named."""
        require_side(actor, [Side.INTERNAL], "cancel purchase orders")
        if not reason.strip():
            raise DomainError("Say why the purchase order is cancelled.")
        if self.status in (POStatus.ACKNOWLEDGED, POStatus.IN_FULFILMENT):
            raise DomainError(
                "Purchase order {number} is acknowledged by the supplier; open a change "
                "request to cancel it.",
                number=self.number,
            )
        before = self._move(POMove.CANCEL)
        self.record(
            actor,
            EventKind.PO_CANCELLED,
            {
                "reason": reason,
                "status": {"before": before, "after": self.status},
                "change_requests_closed": list(open_requests),
            },
        )

    def close(self, actor: Actor) -> None:
        """Close the order; before everything arrived, the buyer settles for what came, and
        the event says which lines fell short."""
        require_side(actor, [Side.INTERNAL], "close purchase orders")
        before = self._move(POMove.CLOSE)
        short = [
            {"line_no": line.line_no, "quantity": line.quantity, "received": line.received_qty}
            for line in self.lines
            if not line.fully_received
        ]
        self.record(
            actor,
            EventKind.PO_CLOSED,
            {"status": {"before": before, "after": self.status}, "short": short},
        )

    def comment(self, actor: Actor, text: str, *, internal_only: bool = False) -> None:
        require_party(actor, Side.SUPPLIER, self.supplier, f"purchase order {self.number}")
        add_comment(self, actor, text, internal_only=internal_only)


def _quantities(shipment: Shipment) -> dict[int, Decimal]:
    return {line.line_no: line.quantity for line in shipment.lines}


def require_party(actor: Actor, partner: Side, org: str, order: str) -> None:
    """Only our staff and the order's own supplier or customer take part in its timeline."""
    if actor.side == Side.INTERNAL:
        return
    if actor.side != partner or actor.org != org:
        raise DomainError(
            "Only our staff and the {partner} of {order} can write on it.",
            partner=partner.value,
            order=order,
        )


def add_comment(order: Aggregate, actor: Actor, text: str, *, internal_only: bool) -> None:
    if not text.strip():
        raise DomainError("A comment cannot be empty.")
    if len(text) > 4000:
        raise DomainError("A comment can be at most 4000 characters.")
    if internal_only:
        require_side(actor, [Side.INTERNAL], "write internal notes")
    order.record(actor, EventKind.COMMENT_ADDED, {"text": text}, external=not internal_only)


# Sales orders ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineRef:
    """A purchase order line, as a sales line points at it."""

    po_number: str
    line_no: int


def expected_date(po_line: POLine, quantity: Decimal, handling_days: int) -> date:
    """When our customer can expect a linked line: when the supplier's promise covers the
    quantity (the need date until there is a promise), plus our handling and transit days."""
    base = po_line.promise.cover_date(quantity) if po_line.promise else po_line.need_date
    return base + timedelta(days=handling_days)


@dataclass(slots=True)
class SalesLine:
    line_no: int
    item: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    requested_date: date
    expected_date: date
    link: LineRef | None = None
    handling_days: int = 0

    def __post_init__(self) -> None:
        if self.line_no < 1:
            raise DomainError("Line numbers start at 1.")
        if not self.item.strip():
            raise DomainError("Line {line_no} needs an item code.", line_no=self.line_no)
        if self.quantity <= 0:
            raise DomainError(
                "Quantity on line {line_no} must be more than zero.", line_no=self.line_no
            )
        if self.unit_price < 0:
            raise DomainError("Price on line {line_no} cannot be negative.", line_no=self.line_no)

    def to_data(self) -> dict[str, Any]:
        return {
            "line_no": self.line_no,
            "item": self.item,
            "description": self.description,
            "quantity": self.quantity,
            "unit": self.unit,
            "unit_price": self.unit_price,
            "requested_date": self.requested_date,
            "expected_date": self.expected_date,
        }


@dataclass(slots=True)
class SalesOrder(Aggregate):
    number: str
    customer: str
    currency: str
    status: SOStatus
    lines: list[SalesLine]
    contact_email: str = ""
    contact_phone: str = ""
    carrier: str = ""
    tracking_no: str = ""

    @property
    def stream(self) -> str:
        return so_stream(self.number)

    @classmethod
    def create(
        cls,
        actor: Actor,
        *,
        number: str,
        customer: str,
        currency: str,
        lines: list[SalesLine],
        contact_email: str = "",
        contact_phone: str = "",
    ) -> SalesOrder:
        require_side(actor, [Side.INTERNAL], "create sales orders")
        if not number.strip():
            raise DomainError("A sales order needs a number.")
        if not lines:
            raise DomainError("A sales order needs at least one line.")
        line_numbers = [line.line_no for line in lines]
        if len(set(line_numbers)) != len(line_numbers):
            raise DomainError("Each line of a sales order needs its own line number.")
        if len(currency) != 3 or not currency.isalpha():
            raise DomainError(
                "Currency must be a three-letter ISO code (got {currency!r}).", currency=currency
            )
        if not (contact_email.strip() or contact_phone.strip()):
            raise DomainError("A sales order needs the customer's contact e-mail or phone.")
        so = cls(
            version=1,
            number=number,
            customer=customer,
            currency=currency.upper(),
            status=SOStatus.OPEN,
            lines=sorted(lines, key=lambda line: line.line_no),
            contact_email=contact_email.strip(),
            contact_phone=contact_phone.strip(),
        )
        so.record(
            actor,
            EventKind.SO_CREATED,
            {
                "customer": customer,
                "currency": so.currency,
                "lines": [line.to_data() for line in so.lines],
            },
        )
        return so

    def line(self, line_no: int) -> SalesLine:
        for line in self.lines:
            if line.line_no == line_no:
                return line
        raise NotFound(
            "Sales order {number} has no line {line_no}.", number=self.number, line_no=line_no
        )

    def _move(self, move: SOMove) -> SOStatus:
        before = self.status
        self.status = so_move(self.status, move, self.number)
        return before

    def link_line(
        self,
        actor: Actor,
        line_no: int,
        ref: LineRef,
        po_line: POLine,
        handling_days: int,
    ) -> None:
        require_side(actor, [Side.INTERNAL], "link sales lines to purchase order lines")
        so_move(self.status, SOMove.LINK, self.number)
        if handling_days < 0:
            raise DomainError("Handling days cannot be negative.")
        if po_line.cancelled:
            raise DomainError(
                "Line {line_no} of purchase order {number} is cancelled.",
                line_no=ref.line_no,
                number=ref.po_number,
            )
        line = self.line(line_no)
        if line.item != po_line.item:
            raise DomainError(
                "Sales line {line_no} is for item {item}, but purchase order line "
                "{po_number}/{po_line_no} is for {po_item}.",
                line_no=line_no,
                item=line.item,
                po_number=ref.po_number,
                po_line_no=ref.line_no,
                po_item=po_line.item,
            )
        before = line.link
        line.link = ref
        line.handling_days = handling_days
        # The link itself names our supplier's order, which the customer must not learn.
        self.record(
            actor,
            EventKind.LINE_LINKED,
            {
                "line_no": line_no,
                "before": {"po_number": before.po_number, "line_no": before.line_no}
                if before
                else None,
                "after": {"po_number": ref.po_number, "line_no": ref.line_no},
                "handling_days": handling_days,
            },
            external=False,
        )
        self.follow(actor, line_no, po_line, cause="linked")

    def follow(self, actor: Actor, line_no: int, po_line: POLine, *, cause: str) -> bool:
        """Re-derive a linked line's expected date from its purchase order line.

        Returns whether the date moved; the customer reads why in general words only.
        """
        line = self.line(line_no)
        if self.status != SOStatus.OPEN:
            return False
        after = expected_date(po_line, line.quantity, line.handling_days)
        before = line.expected_date
        if after == before:
            return False
        line.expected_date = after
        self.record(
            actor,
            EventKind.EXPECTED_DATE_CHANGED,
            {"line_no": line_no, "before": before, "after": after, "cause": cause},
        )
        return True

    def confirm_line(self, actor: Actor, line_no: int) -> bool:
        """Tell the customer a linked line is confirmed: its supplier acknowledged the order.

        This is what "order confirmed" means to a customer; the event carries the date the
        line is now expected on, and names neither the supplier nor its order. Returns whether
        it was recorded (an order already on its way needs no confirmation)."""
        line = self.line(line_no)
        if self.status != SOStatus.OPEN:
            return False
        self.record(
            actor,
            EventKind.LINE_CONFIRMED,
            {"line_no": line_no, "expected_date": line.expected_date},
        )
        return True

    def ship(self, actor: Actor, carrier: str, tracking_no: str, shipped_on: date) -> None:
        require_side(actor, [Side.INTERNAL], "ship sales orders")
        if not carrier.strip():
            raise DomainError("A shipment needs the carrier's name.")
        before = self._move(SOMove.SHIP)
        self.carrier, self.tracking_no = carrier.strip(), tracking_no.strip()
        self.record(
            actor,
            EventKind.SO_SHIPPED,
            {
                "carrier": self.carrier,
                "tracking_no": self.tracking_no,
                "shipped_on": shipped_on,
                "status": {"before": before, "after": self.status},
            },
        )

    def deliver(self, actor: Actor, delivered_on: date) -> None:
        require_side(actor, [Side.INTERNAL], "confirm deliveries")
        before = self._move(SOMove.DELIVER)
        self.record(
            actor,
            EventKind.SO_DELIVERED,
            {"delivered_on": delivered_on, "status": {"before": before, "after": self.status}},
        )

    def close(self, actor: Actor) -> None:
        require_side(actor, [Side.INTERNAL], "close sales orders")
        before = self._move(SOMove.CLOSE)
        self.record(
            actor, EventKind.SO_CLOSED, {"status": {"before": before, "after": self.status}}
        )

    def cancel(self, actor: Actor, reason: str) -> None:
        require_side(actor, [Side.INTERNAL], "cancel sales orders")
        if not reason.strip():
            raise DomainError("Say why the sales order is cancelled.")
        before = self._move(SOMove.CANCEL)
        self.record(
            actor,
            EventKind.SO_CANCELLED,
            {"reason": reason, "status": {"before": before, "after": self.status}},
        )

    def comment(self, actor: Actor, text: str, *, internal_only: bool = False) -> None:
        require_party(actor, Side.CUSTOMER, self.customer, f"sales order {self.number}")
        add_comment(self, actor, text, internal_only=internal_only)
