"""The state machine: the one place that says which move is legal from which state.

Aggregates ask `move(...)` before they change status; nothing else assigns a status.
"""

from __future__ import annotations

from enum import StrEnum

from portal.domain.errors import DomainError


class POStatus(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"
    CHANGES_PROPOSED = "changes_proposed"
    IN_FULFILMENT = "in_fulfilment"
    SHIPPED = "shipped"
    RECEIVED = "received"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class SOStatus(StrEnum):
    OPEN = "open"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class CRStatus(StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"
    COUNTERED = "countered"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"


class POMove(StrEnum):
    ISSUE = "issue"
    ACCEPT = "accept"
    REJECT = "reject"
    PROPOSE_CHANGES = "propose changes to"
    CHANGES_AGREED = "agree changes on"
    CHANGES_DECLINED = "decline changes on"
    CHANGE_PROMISE = "change a promise on"
    OPEN_CHANGE_REQUEST = "open a change request on"
    SHIP = "post a shipment on"
    SHIP_ALL = "ship the rest of"
    CORRECT_SHIPMENT = "correct a shipment on"
    TAKE_BACK = "take back goods shipped on"
    TAKE_BACK_ALL = "take back every shipment of"
    RECEIVE = "record a receipt on"
    RECEIVE_ALL = "receive the rest of"
    RECEIVE_SHORT = "turn away goods shipped on"
    CANCEL = "cancel"
    CLOSE = "close"


class SOMove(StrEnum):
    LINK = "link a line of"
    SHIP = "ship"
    DELIVER = "deliver"
    CLOSE = "close"
    CANCEL = "cancel"


class CRMove(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    COUNTER = "counter"
    WITHDRAW = "withdraw"
    CANCEL = "cancel"


_PO = POStatus
PO_TRANSITIONS: dict[tuple[POStatus, POMove], POStatus] = {
    (_PO.DRAFT, POMove.ISSUE): _PO.ISSUED,
    (_PO.DRAFT, POMove.CANCEL): _PO.CANCELLED,
    (_PO.ISSUED, POMove.ACCEPT): _PO.ACKNOWLEDGED,
    (_PO.ISSUED, POMove.REJECT): _PO.REJECTED,
    (_PO.ISSUED, POMove.PROPOSE_CHANGES): _PO.CHANGES_PROPOSED,
    (_PO.ISSUED, POMove.CANCEL): _PO.CANCELLED,
    (_PO.REJECTED, POMove.CANCEL): _PO.CANCELLED,
    (_PO.CHANGES_PROPOSED, POMove.CHANGES_AGREED): _PO.ACKNOWLEDGED,
    (_PO.CHANGES_PROPOSED, POMove.CHANGES_DECLINED): _PO.ISSUED,
    (_PO.CHANGES_PROPOSED, POMove.PROPOSE_CHANGES): _PO.CHANGES_PROPOSED,
    (_PO.CHANGES_PROPOSED, POMove.CANCEL): _PO.CANCELLED,
    (_PO.ACKNOWLEDGED, POMove.CHANGE_PROMISE): _PO.ACKNOWLEDGED,
    (_PO.ACKNOWLEDGED, POMove.OPEN_CHANGE_REQUEST): _PO.ACKNOWLEDGED,
    (_PO.ACKNOWLEDGED, POMove.CHANGES_AGREED): _PO.ACKNOWLEDGED,
    (_PO.ACKNOWLEDGED, POMove.SHIP): _PO.IN_FULFILMENT,
    (_PO.ACKNOWLEDGED, POMove.SHIP_ALL): _PO.SHIPPED,
    (_PO.ACKNOWLEDGED, POMove.RECEIVE): _PO.IN_FULFILMENT,
    (_PO.ACKNOWLEDGED, POMove.RECEIVE_ALL): _PO.RECEIVED,
    (_PO.ACKNOWLEDGED, POMove.CANCEL): _PO.CANCELLED,
    (_PO.IN_FULFILMENT, POMove.CHANGE_PROMISE): _PO.IN_FULFILMENT,
    (_PO.IN_FULFILMENT, POMove.OPEN_CHANGE_REQUEST): _PO.IN_FULFILMENT,
    (_PO.IN_FULFILMENT, POMove.CHANGES_AGREED): _PO.IN_FULFILMENT,
    (_PO.IN_FULFILMENT, POMove.SHIP): _PO.IN_FULFILMENT,
    (_PO.IN_FULFILMENT, POMove.SHIP_ALL): _PO.SHIPPED,
    (_PO.IN_FULFILMENT, POMove.CORRECT_SHIPMENT): _PO.IN_FULFILMENT,
    (_PO.IN_FULFILMENT, POMove.TAKE_BACK_ALL): _PO.ACKNOWLEDGED,
    (_PO.IN_FULFILMENT, POMove.RECEIVE): _PO.IN_FULFILMENT,
    (_PO.IN_FULFILMENT, POMove.RECEIVE_ALL): _PO.RECEIVED,
    (_PO.IN_FULFILMENT, POMove.CANCEL): _PO.CANCELLED,
    (_PO.IN_FULFILMENT, POMove.CLOSE): _PO.CLOSED,
    (_PO.SHIPPED, POMove.CORRECT_SHIPMENT): _PO.SHIPPED,
    (_PO.SHIPPED, POMove.TAKE_BACK): _PO.IN_FULFILMENT,
    (_PO.SHIPPED, POMove.TAKE_BACK_ALL): _PO.ACKNOWLEDGED,
    (_PO.SHIPPED, POMove.RECEIVE): _PO.SHIPPED,
    (_PO.SHIPPED, POMove.RECEIVE_SHORT): _PO.IN_FULFILMENT,
    (_PO.SHIPPED, POMove.RECEIVE_ALL): _PO.RECEIVED,
    (_PO.SHIPPED, POMove.CLOSE): _PO.CLOSED,
    (_PO.RECEIVED, POMove.CLOSE): _PO.CLOSED,
}
"""(status, move) -> status after it. `CANCEL` from acknowledged or in fulfilment is only
reached through an approved change request, which the supplier has agreed to. Goods turned
away at receipt (`RECEIVE_SHORT`) put a shipped order back in fulfilment until the supplier
replaces them; `CLOSE` before everything arrived is the buyer settling for what came.
A shipment corrected or cancelled before receipt may leave lines short again (`TAKE_BACK`: a
shipped order is back in fulfilment) or leave nothing shipped or received at all
(`TAKE_BACK_ALL`: the order is acknowledged, as before its first shipment)."""

_SO = SOStatus
SO_TRANSITIONS: dict[tuple[SOStatus, SOMove], SOStatus] = {
    (_SO.OPEN, SOMove.LINK): _SO.OPEN,
    (_SO.OPEN, SOMove.SHIP): _SO.SHIPPED,
    (_SO.OPEN, SOMove.CANCEL): _SO.CANCELLED,
    (_SO.SHIPPED, SOMove.DELIVER): _SO.DELIVERED,
    (_SO.DELIVERED, SOMove.CLOSE): _SO.CLOSED,
}

_CR = CRStatus
CR_TRANSITIONS: dict[tuple[CRStatus, CRMove], CRStatus] = {
    (_CR.OPEN, CRMove.APPROVE): _CR.APPROVED,
    (_CR.OPEN, CRMove.REJECT): _CR.REJECTED,
    (_CR.OPEN, CRMove.COUNTER): _CR.COUNTERED,
    (_CR.OPEN, CRMove.WITHDRAW): _CR.WITHDRAWN,
    (_CR.OPEN, CRMove.CANCEL): _CR.CANCELLED,
}

_STATUS_WORDS = {
    "changes_proposed": "waiting for a decision on proposed changes",
    "in_fulfilment": "in fulfilment",
}


def _word(status: StrEnum) -> str:
    return _STATUS_WORDS.get(status.value, status.value)


def po_move(status: POStatus, move: POMove, number: str) -> POStatus:
    after = PO_TRANSITIONS.get((status, move))
    if after is None:
        raise DomainError(
            "Cannot {move} purchase order {number}: it is {status}.",
            move=move.value,
            number=number,
            status=_word(status),
        )
    return after


def so_move(status: SOStatus, move: SOMove, number: str) -> SOStatus:
    after = SO_TRANSITIONS.get((status, move))
    if after is None:
        raise DomainError(
            "Cannot {move} sales order {number}: it is {status}.",
            move=move.value,
            number=number,
            status=_word(status),
        )
    return after


def cr_move(status: CRStatus, move: CRMove, number: str) -> CRStatus:
    after = CR_TRANSITIONS.get((status, move))
    if after is None:
        raise DomainError(
            "Cannot {move} change request {number}: it is {status}.",
            move=move.value,
            number=number,
            status=_word(status),
        )
    return after


def po_allows(status: POStatus, move: POMove) -> bool:
    return (status, move) in PO_TRANSITIONS
