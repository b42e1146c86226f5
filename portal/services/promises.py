"""The supplier keeps its promises current: new delivery schedules for lines, with a reason.

A new promise the order can take (see `changes.promise_changes`) applies at once; the others
of one purchase order become one change request for the buyer. However many orders one
update touches, it is one transaction: all of it happens, or none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from portal.domain import changes
from portal.domain.actors import Actor
from portal.domain.changes import ChangeRequest, LineChange
from portal.domain.errors import Conflict, DomainError, Phrase, check_version, in_context
from portal.domain.orders import PurchaseOrder, require_reason
from portal.domain.schedule import Schedule
from portal.services.propagation import follow_promises
from portal.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class PromiseUpdate:
    po_number: str
    line_no: int
    schedule: Schedule
    reason_code: str
    comment: str = ""


@dataclass(frozen=True, slots=True)
class UpdatePromises:
    updates: tuple[PromiseUpdate, ...]
    versions: dict[str, int]
    """Each purchase order's number -> the version the caller saw."""


@dataclass(frozen=True, slots=True)
class UpdatePromise:
    number: str
    version: int
    line_no: int
    schedule: Schedule
    reason_code: str
    comment: str = ""


@dataclass(frozen=True, slots=True)
class ShiftPromises:
    versions: dict[str, int]
    """The purchase orders to move (number -> the version the caller saw)."""
    days: int
    reason_code: str
    comment: str = ""
    lines: tuple[tuple[str, int], ...] = ()
    """(PO number, line number) to move; empty: every line of every order in `versions` with
    a promise still to come."""


@dataclass(frozen=True, slots=True)
class PromisesUpdated:
    orders: list[PurchaseOrder] = field(default_factory=list)
    """Every order touched, as saved (with its new version)."""
    applied: list[tuple[str, int]] = field(default_factory=list)
    """(PO number, line number) promised anew at once; lines of an automatically approved
    change request included."""
    change_requests: list[ChangeRequest] = field(default_factory=list)
    """One per order that had lines beyond the tolerance rule; `auto_approved` when the
    tolerance policy approved it all the same (a small quantity change, say)."""


async def update_promises(uow: UnitOfWork, actor: Actor, cmd: UpdatePromises) -> PromisesUpdated:
    async with uow:
        orders = await _load(uow, actor, {update.po_number for update in cmd.updates}, cmd.versions)
        result = await _update(uow, actor, cmd.updates, orders)
        await uow.commit()
    return result


async def update_promise(uow: UnitOfWork, actor: Actor, cmd: UpdatePromise) -> PromisesUpdated:
    update = PromiseUpdate(cmd.number, cmd.line_no, cmd.schedule, cmd.reason_code, cmd.comment)
    return await update_promises(uow, actor, UpdatePromises((update,), {cmd.number: cmd.version}))


async def shift_promises(uow: UnitOfWork, actor: Actor, cmd: ShiftPromises) -> PromisesUpdated:
    """Move the promises still to come by `cmd.days` (earlier when negative)."""
    if cmd.days == 0:
        raise DomainError("Say by how many days the promises move.")
    if not cmd.versions:
        raise DomainError("Choose at least one purchase order.")
    async with uow:
        numbers = {number for number, _ in cmd.lines} or set(cmd.versions)
        orders = await _load(uow, actor, numbers, cmd.versions)
        updates: list[PromiseUpdate] = []
        for number, po in orders.items():
            named = [line_no for po_number, line_no in cmd.lines if po_number == number]
            for line_no in named or [line.line_no for line in po.lines if not line.cancelled]:
                promise = po.open_line(line_no).promise_to_come
                if promise is not None:
                    updates.append(
                        PromiseUpdate(
                            number, line_no, promise.shifted(cmd.days), cmd.reason_code, cmd.comment
                        )
                    )
                elif named:
                    raise DomainError(
                        "Line {line_no} of purchase order {number} has no promise still to come.",
                        line_no=line_no,
                        number=number,
                    )
            if not any(update.po_number == number for update in updates):
                raise DomainError(
                    "Purchase order {number} has no promise still to come.", number=number
                )
        result = await _update(uow, actor, tuple(updates), orders)
        await uow.commit()
    return result


def _require_versions(numbers: set[str], versions: dict[str, int]) -> None:
    missing = sorted(numbers - versions.keys())
    if missing:
        raise DomainError("Give the version of purchase order {number} you saw.", number=missing[0])


async def _load(
    uow: UnitOfWork, actor: Actor, numbers: set[str], versions: dict[str, int]
) -> dict[str, PurchaseOrder]:
    """The orders, locked and checked against the versions the caller saw. In number order,
    so that two updates of the same orders take their locks in the same order."""
    _require_versions(numbers, versions)
    orders: dict[str, PurchaseOrder] = {}
    for number in sorted(numbers):
        po = await uow.purchase_orders.get(actor, number)
        check_version(
            Phrase("Purchase order {number}", number=po.number), po.version, versions[number]
        )
        orders[number] = po
    return orders


async def _update(
    uow: UnitOfWork,
    actor: Actor,
    updates: tuple[PromiseUpdate, ...],
    orders: dict[str, PurchaseOrder],
) -> PromisesUpdated:
    if not updates:
        raise DomainError("There is no promise to update.")
    result = PromisesUpdated()
    for number, po in orders.items():
        mine = [update for update in updates if update.po_number == number]
        try:
            cr = _promise(uow, actor, po, mine, result)
        except DomainError as error:
            if isinstance(error, Conflict) or number in error.message:
                raise
            # An update may span several orders, and "line 2" alone would not say which.
            raise in_context(error, "Purchase order {number}: {error}", number=number) from error
        await uow.save(po)
        if cr is not None:
            await uow.change_requests.add(cr, uow.purchase_orders.ids[po.number], uow.now)
        await follow_promises(uow, po, cause="promise_changed")
        result.orders.append(po)
    return result


def _promise(
    uow: UnitOfWork,
    actor: Actor,
    po: PurchaseOrder,
    updates: list[PromiseUpdate],
    result: PromisesUpdated,
) -> ChangeRequest | None:
    asked: list[tuple[PromiseUpdate, tuple[LineChange, ...]]] = []
    seen: set[int] = set()
    for update in updates:
        if update.line_no in seen:
            raise DomainError("Line {line_no} is updated twice.", line_no=update.line_no)
        seen.add(update.line_no)
        update.schedule.require_from(uow.now.date(), update.line_no)
        needs = changes.promise_changes(po, update.line_no, update.schedule, uow.rules.tolerance)
        if needs:
            asked.append((update, needs))
            continue
        po.change_promise(
            actor, update.line_no, update.schedule, update.reason_code, update.comment
        )
        result.applied.append((po.number, update.line_no))
    if not asked:
        return None
    reason_code, comment = _reason([update for update, _ in asked])
    cr = changes.open_change_request(
        po,
        actor,
        changes=tuple(change for _, needs in asked for change in needs),
        reason_code=reason_code,
        comment=comment,
        due_at=uow.now + timedelta(hours=uow.rules.cr_sla_hours),
        policy=uow.rules.tolerance,
    )
    if cr.auto_approved:
        result.applied.extend((po.number, update.line_no) for update, _ in asked)
    result.change_requests.append(cr)
    return cr


def _reason(updates: list[PromiseUpdate]) -> tuple[str, str]:
    """One change request carries one reason code: the lines' own when they share it; when
    they differ, `other`, and the comment says which line moved for what reason."""
    codes = {update.reason_code for update in updates}
    if len(codes) == 1:
        comments = dict.fromkeys(update.comment.strip() for update in updates)
        return codes.pop(), "\n".join(text for text in comments if text)
    for code in codes:
        require_reason(code)
    return "other", "\n".join(
        f"Line {update.line_no}: {update.reason_code}"
        + (f" ({update.comment.strip()})" if update.comment.strip() else "")
        for update in updates
    )


def _about(number: str, error: DomainError) -> DomainError:
    """The error, naming the order it is about when the message does not already: an update
    may span several orders, and "line 2" alone would not say which."""
    if number in error.message:
        return error
    return in_context(error, "Purchase order {number}: {error}", number=number)
