"""Change requests: one side proposes per-line changes to a purchase order, the other decides.

A decision is approve (the changes are applied to the order at once, all or none), reject, or
counter (a new request from the deciding side supersedes the old one; rounds go on until one
side approves, rejects or withdraws). A supplier's request small enough to pass the tolerance
policy is approved without review and recorded as auto-approved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from portal.domain.actors import Actor, Side
from portal.domain.errors import DomainError
from portal.domain.events import EventKind, format_time
from portal.domain.orders import PurchaseOrder, require_reason, require_side
from portal.domain.schedule import Schedule
from portal.domain.states import CRMove, CRStatus, POMove, POStatus, cr_move, po_move


class ChangeKind(StrEnum):
    QUANTITY = "quantity"
    DATE = "date"
    PRICE = "price"
    ITEM = "item"
    CANCEL = "cancel"


@dataclass(frozen=True, slots=True)
class LineChange:
    """One proposed change to one line; exactly the field its kind needs is set."""

    line_no: int
    kind: ChangeKind
    quantity: Decimal | None = None
    schedule: Schedule | None = None
    unit_price: Decimal | None = None
    item: str | None = None

    def __post_init__(self) -> None:
        needs = {
            ChangeKind.QUANTITY: self.quantity is not None,
            ChangeKind.DATE: self.schedule is not None,
            ChangeKind.PRICE: self.unit_price is not None,
            ChangeKind.ITEM: bool(self.item and self.item.strip()),
            ChangeKind.CANCEL: True,
        }
        if not needs[self.kind]:
            field_name = {"date": "delivery schedule", "price": "unit price"}.get(
                self.kind.value, self.kind.value
            )
            raise DomainError(
                "A {kind} change on line {line_no} needs the new {field_name}.",
                kind=self.kind.value,
                line_no=self.line_no,
                field_name=field_name,
            )
        given = {
            ChangeKind.QUANTITY: self.quantity is not None,
            ChangeKind.DATE: self.schedule is not None,
            ChangeKind.PRICE: self.unit_price is not None,
            ChangeKind.ITEM: self.item is not None,
        }
        extra = [kind.value for kind, is_set in given.items() if is_set and kind != self.kind]
        if extra:
            # A stray field would be checked by `_validate` but never applied (or the reverse).
            raise DomainError(
                "A {kind} change on line {line_no} cannot also set {extra}; propose "
                "each as its own change.",
                kind=self.kind.value,
                line_no=self.line_no,
                extra=" and ".join(extra),
            )
        if self.quantity is not None and self.quantity <= 0:
            raise DomainError(
                "New quantity on line {line_no} must be more than zero; to drop the "
                "line, propose a cancel.",
                line_no=self.line_no,
            )
        if self.unit_price is not None and self.unit_price < 0:
            raise DomainError(
                "New price on line {line_no} cannot be negative.", line_no=self.line_no
            )

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"line_no": self.line_no, "kind": self.kind.value}
        if self.quantity is not None:
            data["quantity"] = format(self.quantity.normalize(), "f")
        if self.schedule is not None:
            data["schedule"] = self.schedule.to_data()
        if self.unit_price is not None:
            data["unit_price"] = format(self.unit_price.normalize(), "f")
        if self.item is not None:
            data["item"] = self.item
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> LineChange:
        return cls(
            line_no=int(data["line_no"]),
            kind=ChangeKind(data["kind"]),
            quantity=Decimal(data["quantity"]) if "quantity" in data else None,
            schedule=Schedule.from_data(data["schedule"]) if "schedule" in data else None,
            unit_price=Decimal(data["unit_price"]) if "unit_price" in data else None,
            item=data.get("item"),
        )


@dataclass(frozen=True, slots=True)
class TolerancePolicy:
    """Changes a supplier may make without review: delivery dates that move no quantity by more
    than `max_date_move_days`, and quantity changes within `max_qty_change_pct` percent.
    Anything else (price, item, cancel, a promise for more or less) needs a buyer; with both
    limits at zero nothing is approved without review."""

    max_date_move_days: int = 0
    max_qty_change_pct: Decimal = Decimal(0)

    def allows(self, po: PurchaseOrder, changes: tuple[LineChange, ...]) -> bool:
        if self.max_date_move_days == 0 and self.max_qty_change_pct == 0:
            return False
        for change in changes:
            line = po.line(change.line_no)
            if change.kind == ChangeKind.DATE and change.schedule is not None:
                if line.left_to_ship == 0:
                    # Nothing left to ship: there is no schedule to measure the move from
                    # (and an empty one cannot be built).
                    return False
                # Measured against what is still to come: goods shipped are off the promise.
                current = line.promise_to_come or Schedule.single(line.left_to_ship, line.need_date)
                if change.schedule.total != current.total:
                    return False
                if date_shift_days(current, change.schedule) > self.max_date_move_days:
                    return False
            elif change.kind == ChangeKind.QUANTITY and change.quantity is not None:
                moved_pct = abs(change.quantity - line.quantity) / line.quantity * 100
                if moved_pct > self.max_qty_change_pct:
                    return False
            else:
                return False
        return True


def require_dates_from(changes: tuple[LineChange, ...], today: date) -> None:
    """Every delivery date a change proposes is today or later: a day gone cannot be kept."""
    for change in changes:
        if change.schedule is not None:
            change.schedule.require_from(today, change.line_no)


def promise_changes(
    po: PurchaseOrder, line_no: int, schedule: Schedule, policy: TolerancePolicy
) -> tuple[LineChange, ...]:
    """What a supplier's new promise for a line asks of the buyer: nothing (empty) when the
    order can take it at once, else the changes of a change request.

    At once: the promise covers exactly what is left to ship, and either delivers all of it by
    the need date (the order as written, as an acceptance may promise) or moves no quantity
    further than the tolerance policy allows. A promise for more or less than is left is a
    change of the line's quantity as well: the buyer agrees to receive that much (what has
    shipped plus the new schedule) with the date change, or the line would stay open for
    goods nobody promised, or be promised goods nobody ordered; `_validate` checks the
    schedule against the new quantity, and `_apply` sets the quantity, then the schedule."""
    line = po.open_line(line_no)
    if line.fully_shipped:
        raise DomainError(
            "Line {line_no} is fully shipped; its promise can no longer move.", line_no=line_no
        )
    moved = LineChange(line_no, ChangeKind.DATE, schedule=schedule)
    if schedule.total != line.left_to_ship:
        quantity = LineChange(
            line_no, ChangeKind.QUANTITY, quantity=line.net_shipped + schedule.total
        )
        return (quantity, moved)
    if schedule.last_date <= line.need_date or policy.allows(po, (moved,)):
        return ()
    return (moved,)


def date_shift_days(before: Schedule, after: Schedule) -> int:
    """How far, in days, the new schedule moves any unit of quantity: at every running total of
    either schedule, the date by which that much arrives is compared. Splitting "500 on 1 Dec"
    into "300 on 1 Dec, 200 on 3 Dec" moves 200 units by 2 days."""
    # Both cover dates are step functions of the quantity that change only at a running
    # total, so comparing them at every running total of either schedule finds the largest move.
    marks = set()
    for schedule in (before, after):
        running = Decimal(0)
        for row in schedule.rows:
            running += row.quantity
            marks.add(running)
    return max(abs((after.cover_date(mark) - before.cover_date(mark)).days) for mark in marks)


@dataclass(slots=True)
class ChangeRequest:
    number: str
    po_number: str
    status: CRStatus
    opened_by: Side
    opened_by_name: str
    reason_code: str
    comment: str
    changes: tuple[LineChange, ...]
    due_at: datetime
    round: int = 1
    supersedes: str | None = None
    from_acknowledgement: bool = False
    auto_approved: bool = False
    decided_by_name: str = ""
    decision_comment: str = ""
    version: int = 1
    superseded_by: str | None = field(default=None)

    @property
    def deciding_side(self) -> Side:
        return Side.INTERNAL if self.opened_by == Side.SUPPLIER else Side.SUPPLIER

    def summary(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "round": self.round,
            "opened_by": self.opened_by.value,
            "reason_code": self.reason_code,
            "comment": self.comment,
            "changes": [change.to_data() for change in self.changes],
            "supersedes": self.supersedes,
            "due_at": format_time(self.due_at),
        }


def _side_of(actor: Actor) -> Side:
    require_side(actor, [Side.SUPPLIER, Side.INTERNAL], "take part in change requests")
    return actor.side


def _validate(po: PurchaseOrder, changes: tuple[LineChange, ...]) -> None:
    if not changes:
        raise DomainError("A change request needs at least one change.")
    seen: set[tuple[int, ChangeKind]] = set()
    for change in changes:
        if (change.line_no, change.kind) in seen:
            raise DomainError(
                "Line {line_no} has two {kind} changes.",
                line_no=change.line_no,
                kind=change.kind.value,
            )
        seen.add((change.line_no, change.kind))
        line = po.open_line(change.line_no)
        if change.kind == ChangeKind.QUANTITY and change.quantity is not None:
            if change.quantity == line.quantity:
                raise DomainError(
                    "Line {line_no} already has quantity {quantity}.",
                    line_no=line.line_no,
                    quantity=line.quantity,
                )
            if change.quantity < line.net_shipped:
                raise DomainError(
                    "Line {line_no} has already shipped {net_shipped}; its quantity cannot "
                    "drop to {quantity}.",
                    line_no=line.line_no,
                    net_shipped=line.net_shipped,
                    quantity=change.quantity,
                )
            if change.quantity < line.received_qty:
                raise DomainError(
                    "Line {line_no} has already received {received_qty}; its quantity "
                    "cannot drop to {quantity}.",
                    line_no=line.line_no,
                    received_qty=line.received_qty,
                    quantity=change.quantity,
                )
        elif change.kind == ChangeKind.CANCEL:
            if line.shipped_qty > 0:
                raise DomainError(
                    "Line {line_no} has already shipped {shipped_qty}; it can no longer be "
                    "cancelled.",
                    line_no=line.line_no,
                    shipped_qty=line.shipped_qty,
                )
            if line.received_qty > 0 or line.rejected_qty > 0:
                raise DomainError(
                    "Line {line_no} has already been received; it can no longer be cancelled.",
                    line_no=line.line_no,
                )
            if len([c for c in changes if c.line_no == change.line_no]) > 1:
                raise DomainError(
                    "Line {line_no} is cancelled; it needs no other change.", line_no=line.line_no
                )
        elif change.kind == ChangeKind.DATE and change.schedule is not None:
            quantity = next(
                (c.quantity for c in changes if c.line_no == line.line_no and c.quantity),
                line.quantity,
            )
            if change.schedule.total + line.net_shipped > quantity:
                raise DomainError(
                    "Line {line_no}: the delivery schedule ({total}) is for more than the "
                    "{left} left to ship.",
                    line_no=line.line_no,
                    total=change.schedule.total,
                    left=quantity - line.net_shipped,
                )
            if change.schedule == line.promise:
                raise DomainError(
                    "Line {line_no} is already promised exactly like that.", line_no=line.line_no
                )
        elif change.kind == ChangeKind.PRICE and change.unit_price == line.unit_price:
            raise DomainError(
                "Line {line_no} already has price {unit_price}.",
                line_no=line.line_no,
                unit_price=line.unit_price,
            )
        elif change.kind == ChangeKind.ITEM and change.item and change.item.strip() == line.item:
            raise DomainError(
                "Line {line_no} is already for item {item}.", line_no=line.line_no, item=line.item
            )


def open_change_request(
    po: PurchaseOrder,
    actor: Actor,
    *,
    changes: tuple[LineChange, ...],
    reason_code: str,
    comment: str,
    due_at: datetime,
    policy: TolerancePolicy,
    from_acknowledgement: bool = False,
) -> ChangeRequest:
    side = _side_of(actor)
    require_reason(reason_code)
    _check_can_propose(po, from_acknowledgement)
    _validate(po, changes)
    auto = side == Side.SUPPLIER and policy.allows(po, changes)
    if auto:
        # Checked before the request is numbered or recorded: a refusal changes nothing.
        po_move(po.status, POMove.CHANGES_AGREED, po.number)
    cr = ChangeRequest(
        number=po.next_cr_number(),
        po_number=po.number,
        status=CRStatus.OPEN,
        opened_by=side,
        opened_by_name=actor.name,
        reason_code=reason_code,
        comment=comment,
        changes=changes,
        due_at=due_at,
        from_acknowledgement=from_acknowledgement,
    )
    po.record(actor, EventKind.CR_OPENED, cr.summary())
    if auto:
        cr.status = cr_move(cr.status, CRMove.APPROVE, cr.number)
        cr.auto_approved = True
        cr.decided_by_name = "system"
        before = po.status
        applied = _apply(po, cr)
        po.record(
            Actor.system(),
            EventKind.CR_AUTO_APPROVED,
            {
                "number": cr.number,
                "applied": applied,
                "policy": _policy_data(policy),
                "status": {"before": before, "after": po.status},
            },
        )
    return cr


def _check_can_propose(po: PurchaseOrder, from_acknowledgement: bool) -> None:
    """A request follows either an acknowledgement with changes (the order waits for the
    decision) or an acknowledged order that is still open to changes."""
    if not from_acknowledgement:
        po_move(po.status, POMove.OPEN_CHANGE_REQUEST, po.number)
    elif po.status != POStatus.CHANGES_PROPOSED:
        raise DomainError(
            "Purchase order {number} is {status}; only accepting it with changes "
            "opens a change request as part of the acknowledgement.",
            number=po.number,
            status=po.status.value.replace("_", " "),
        )


def _policy_data(policy: TolerancePolicy) -> dict[str, Any]:
    return {
        "max_date_move_days": policy.max_date_move_days,
        "max_qty_change_pct": format(policy.max_qty_change_pct.normalize(), "f"),
    }


def _decider(cr: ChangeRequest, actor: Actor, doing: str) -> None:
    if _side_of(actor) != cr.deciding_side:
        raise DomainError(
            "Change request {number} was opened by the {opened_by} side; only the "
            "{deciding_side} side can {doing} it.",
            number=cr.number,
            opened_by=cr.opened_by.value,
            deciding_side=cr.deciding_side.value,
            doing=doing,
        )


def approve(po: PurchaseOrder, cr: ChangeRequest, actor: Actor, comment: str = "") -> None:
    _decider(cr, actor, "approve")
    after = cr_move(cr.status, CRMove.APPROVE, cr.number)
    before = po.status
    # `_apply` checks everything before it changes the order; the request changes only after.
    applied = _apply(po, cr)
    cr.status = after
    cr.decided_by_name, cr.decision_comment = actor.name, comment
    # The order's status moves too when an acknowledgement is agreed or every line cancelled.
    po.record(
        actor,
        EventKind.CR_APPROVED,
        {
            "number": cr.number,
            "comment": comment,
            "applied": applied,
            "status": {"before": before, "after": po.status},
        },
    )


def reject(po: PurchaseOrder, cr: ChangeRequest, actor: Actor, reason: str) -> None:
    _decider(cr, actor, "reject")
    if not reason.strip():
        raise DomainError("Say why the change request is rejected.")
    cr.status = cr_move(cr.status, CRMove.REJECT, cr.number)
    cr.decided_by_name, cr.decision_comment = actor.name, reason
    before = _fall_back_to_issued(po, cr)
    po.record(
        actor,
        EventKind.CR_REJECTED,
        {"number": cr.number, "reason": reason, "status": {"before": before, "after": po.status}},
    )


def withdraw(po: PurchaseOrder, cr: ChangeRequest, actor: Actor, comment: str = "") -> None:
    if _side_of(actor) != cr.opened_by:
        raise DomainError(
            "Only the {opened_by} side, which opened change request {number}, can withdraw it.",
            opened_by=cr.opened_by.value,
            number=cr.number,
        )
    cr.status = cr_move(cr.status, CRMove.WITHDRAW, cr.number)
    cr.decided_by_name, cr.decision_comment = actor.name, comment
    before = _fall_back_to_issued(po, cr)
    po.record(
        actor,
        EventKind.CR_WITHDRAWN,
        {"number": cr.number, "comment": comment, "status": {"before": before, "after": po.status}},
    )


def counter(
    po: PurchaseOrder,
    cr: ChangeRequest,
    actor: Actor,
    *,
    changes: tuple[LineChange, ...],
    reason_code: str,
    comment: str,
    due_at: datetime,
) -> ChangeRequest:
    """The deciding side answers with changes of its own; they supersede the request."""
    _decider(cr, actor, "counter")
    require_reason(reason_code)
    cr_move(cr.status, CRMove.COUNTER, cr.number)
    # The counter proposal must be one the order can still take.
    if cr.from_acknowledgement:
        po_move(po.status, POMove.CHANGES_AGREED, po.number)
    else:
        po_move(po.status, POMove.OPEN_CHANGE_REQUEST, po.number)
    _validate(po, changes)
    cr.status = cr_move(cr.status, CRMove.COUNTER, cr.number)
    cr.decided_by_name, cr.decision_comment = actor.name, comment
    new = ChangeRequest(
        number=po.next_cr_number(),
        po_number=po.number,
        status=CRStatus.OPEN,
        opened_by=actor.side,
        opened_by_name=actor.name,
        reason_code=reason_code,
        comment=comment,
        changes=changes,
        due_at=due_at,
        round=cr.round + 1,
        supersedes=cr.number,
        from_acknowledgement=cr.from_acknowledgement,
    )
    cr.superseded_by = new.number
    po.record(actor, EventKind.CR_COUNTERED, {"number": cr.number, "countered_by": new.number})
    po.record(actor, EventKind.CR_OPENED, new.summary())
    return new


def _fall_back_to_issued(po: PurchaseOrder, cr: ChangeRequest) -> POStatus:
    """An acknowledgement whose changes are not agreed leaves the order waiting for a new one.

    Only an order still waiting for that decision falls back: one cancelled, or acknowledged
    since (another acknowledgement was agreed), stays as it is, and the request can still be
    rejected or withdrawn. Never raises, so the caller may change the request first."""
    before = po.status
    if cr.from_acknowledgement and po.status == POStatus.CHANGES_PROPOSED:
        po.status = po_move(po.status, POMove.CHANGES_DECLINED, po.number)
    return before


def _apply(po: PurchaseOrder, cr: ChangeRequest) -> list[dict[str, Any]]:
    """Apply every change of `cr` or none: all are checked against the order as it is now
    before the first one is made."""
    _validate(po, cr.changes)
    status_after = po_move(po.status, POMove.CHANGES_AGREED, po.number)
    applied: list[dict[str, Any]] = []
    resized_promises: list[dict[str, Any]] = []
    dated = {c.line_no for c in cr.changes if c.kind == ChangeKind.DATE}
    for change in cr.changes:
        line = po.line(change.line_no)
        if change.kind == ChangeKind.QUANTITY and change.quantity is not None:
            before: Any = line.quantity
            line.quantity = change.quantity
            after: Any = line.quantity
            if line.line_no not in dated and line.promise is not None and line.left_to_ship > 0:
                # Keep the promise in step with the new quantity, on its last date (a line
                # cut to what has shipped keeps its last promise: nothing is left to promise).
                # Written down as a change of its own, so promise stability counts it.
                resized = Schedule.single(line.left_to_ship, line.promise.last_date)
                if resized != line.promise:
                    resized_promises.append(
                        {
                            "line_no": line.line_no,
                            "kind": "promise",
                            "before": line.promise.to_data(),
                            "after": resized.to_data(),
                        }
                    )
                    line.confirm(resized)
        elif change.kind == ChangeKind.DATE and change.schedule is not None:
            before = line.promise.to_data() if line.promise else None
            line.confirm(change.schedule)
            after = change.schedule.to_data()
        elif change.kind == ChangeKind.PRICE and change.unit_price is not None:
            before, line.unit_price = line.unit_price, change.unit_price
            after = line.unit_price
        elif change.kind == ChangeKind.ITEM and change.item is not None:
            before, line.item = line.item, change.item.strip()
            after = line.item
        else:
            before, line.cancelled, after = False, True, True
        applied.append(
            {"line_no": line.line_no, "kind": change.kind.value, "before": before, "after": after}
        )
    applied.extend(resized_promises)
    if cr.from_acknowledgement:
        # Lines the acknowledgement changed are now agreed: they are promised too.
        for line_no in {c.line_no for c in cr.changes} - dated:
            line = po.line(line_no)
            if not line.cancelled and line.promise is None:
                line.confirm(Schedule.single(line.quantity, line.need_date))
    po.status = status_after
    if all(line.cancelled for line in po.lines):
        po.status = po_move(po.status, POMove.CANCEL, po.number)
    return applied


def cancel_order(
    po: PurchaseOrder, actor: Actor, reason: str, open_requests: list[ChangeRequest]
) -> None:
    """Cancel the order and close the change requests still open on it: nobody can decide
    a change to an order that no longer exists."""
    moves = [cr_move(cr.status, CRMove.CANCEL, cr.number) for cr in open_requests]
    po.cancel(actor, reason, tuple(cr.number for cr in open_requests))
    for cr, after in zip(open_requests, moves, strict=True):
        cr.status = after
        cr.decided_by_name, cr.decision_comment = actor.name, reason
