"""The state machine tables: every legal move lands where the table says, every other move is
refused with a message that names the order and says what state it is in."""

from __future__ import annotations

import itertools
from enum import StrEnum

import pytest

from portal.domain.errors import DomainError
from portal.domain.states import (
    CR_TRANSITIONS,
    PO_TRANSITIONS,
    SO_TRANSITIONS,
    CRMove,
    CRStatus,
    POMove,
    POStatus,
    SOMove,
    SOStatus,
    cr_move,
    po_allows,
    po_move,
    so_move,
)

PO_PAIRS = list(itertools.product(POStatus, POMove))
SO_PAIRS = list(itertools.product(SOStatus, SOMove))
CR_PAIRS = list(itertools.product(CRStatus, CRMove))

READABLE = {
    "changes_proposed": "waiting for a decision on proposed changes",
    "in_fulfilment": "in fulfilment",
}


def _readable(status: POStatus | SOStatus | CRStatus) -> str:
    return READABLE.get(status.value, status.value)


def _id(pair: tuple[StrEnum, StrEnum]) -> str:
    status, move = pair
    return f"{status.value}-{move.name.lower()}"


@pytest.mark.parametrize("pair", PO_PAIRS, ids=_id)
def test_purchase_order_moves_follow_the_table(pair: tuple[POStatus, POMove]) -> None:
    status, move = pair
    if pair in PO_TRANSITIONS:
        assert po_move(status, move, "PO-7") == PO_TRANSITIONS[pair]
        assert po_allows(status, move)
    else:
        assert not po_allows(status, move)
        with pytest.raises(DomainError) as caught:
            po_move(status, move, "PO-7")
        assert caught.value.message == (
            f"Cannot {move.value} purchase order PO-7: it is {_readable(status)}."
        )


@pytest.mark.parametrize("pair", SO_PAIRS, ids=_id)
def test_sales_order_moves_follow_the_table(pair: tuple[SOStatus, SOMove]) -> None:
    status, move = pair
    if pair in SO_TRANSITIONS:
        assert so_move(status, move, "SO-7") == SO_TRANSITIONS[pair]
    else:
        with pytest.raises(DomainError) as caught:
            so_move(status, move, "SO-7")
        assert caught.value.message == f"Cannot {move.value} sales order SO-7: it is {status}."


@pytest.mark.parametrize("pair", CR_PAIRS, ids=_id)
def test_change_request_moves_follow_the_table(pair: tuple[CRStatus, CRMove]) -> None:
    status, move = pair
    if pair in CR_TRANSITIONS:
        assert cr_move(status, move, "PO-7-CR1") == CR_TRANSITIONS[pair]
    else:
        with pytest.raises(DomainError) as caught:
            cr_move(status, move, "PO-7-CR1")
        assert caught.value.message == (
            f"Cannot {move.value} change request PO-7-CR1: it is {status}."
        )


def test_a_readable_message_for_states_with_compound_names() -> None:
    with pytest.raises(
        DomainError, match=r"^Cannot issue purchase order PO-7: it is in fulfilment\.$"
    ):
        po_move(POStatus.IN_FULFILMENT, POMove.ISSUE, "PO-7")
    with pytest.raises(DomainError, match="it is waiting for a decision on proposed changes"):
        po_move(POStatus.CHANGES_PROPOSED, POMove.SHIP, "PO-7")


def _reachable(table: dict[tuple[object, object], object], start: object) -> set[object]:
    seen = {start}
    frontier = [start]
    while frontier:
        here = frontier.pop()
        for (status, _move), after in table.items():
            if status == here and after not in seen:
                seen.add(after)
                frontier.append(after)
    return seen


def test_every_purchase_order_status_is_reachable_from_draft() -> None:
    assert _reachable(PO_TRANSITIONS, POStatus.DRAFT) == set(POStatus)


def test_every_sales_order_status_is_reachable_from_open() -> None:
    assert _reachable(SO_TRANSITIONS, SOStatus.OPEN) == set(SOStatus)


@pytest.mark.parametrize("status", [POStatus.CLOSED, POStatus.CANCELLED])
def test_closed_and_cancelled_purchase_orders_are_final(status: POStatus) -> None:
    assert [move for move in POMove if po_allows(status, move)] == []


@pytest.mark.parametrize("status", [SOStatus.CLOSED, SOStatus.CANCELLED])
def test_closed_and_cancelled_sales_orders_are_final(status: SOStatus) -> None:
    assert [move for (s, move) in SO_TRANSITIONS if s == status] == []


def test_only_an_open_change_request_can_be_decided() -> None:
    assert {status for status, _move in CR_TRANSITIONS} == {CRStatus.OPEN}
    assert {CR_TRANSITIONS[(CRStatus.OPEN, move)] for move in CRMove} == {
        CRStatus.APPROVED,
        CRStatus.REJECTED,
        CRStatus.COUNTERED,
        CRStatus.WITHDRAWN,
        CRStatus.CANCELLED,
    }


def test_an_order_cannot_be_cancelled_once_goods_have_shipped() -> None:
    for status in (POStatus.SHIPPED, POStatus.RECEIVED, POStatus.CLOSED):
        assert not po_allows(status, POMove.CANCEL)
    assert not po_allows(POStatus.SHIPPED, POMove.CHANGE_PROMISE)


def test_goods_turned_away_put_a_shipped_order_back_in_fulfilment() -> None:
    assert PO_TRANSITIONS[(POStatus.SHIPPED, POMove.RECEIVE_SHORT)] == POStatus.IN_FULFILMENT
    # Only a shipped order can fall short: before that it is in fulfilment anyway.
    assert [status for status in POStatus if po_allows(status, POMove.RECEIVE_SHORT)] == [
        POStatus.SHIPPED
    ]
    with pytest.raises(DomainError) as caught:
        po_move(POStatus.IN_FULFILMENT, POMove.RECEIVE_SHORT, "PO-7")
    assert caught.value.message == (
        "Cannot turn away goods shipped on purchase order PO-7: it is in fulfilment."
    )


def test_an_order_can_be_closed_short_once_goods_have_started_to_move() -> None:
    assert {status for status in POStatus if po_allows(status, POMove.CLOSE)} == {
        POStatus.IN_FULFILMENT,
        POStatus.SHIPPED,
        POStatus.RECEIVED,
    }
    for status in (POStatus.IN_FULFILMENT, POStatus.SHIPPED, POStatus.RECEIVED):
        assert po_move(status, POMove.CLOSE, "PO-7") == POStatus.CLOSED
    assert not po_allows(POStatus.ACKNOWLEDGED, POMove.CLOSE)


def test_only_an_open_change_request_can_be_cancelled_and_that_is_final() -> None:
    assert cr_move(CRStatus.OPEN, CRMove.CANCEL, "PO-7-CR1") == CRStatus.CANCELLED
    assert [move for (status, move) in CR_TRANSITIONS if status == CRStatus.CANCELLED] == []
    for status in CRStatus:
        if status != CRStatus.OPEN:
            with pytest.raises(
                DomainError, match=f"Cannot cancel change request PO-7-CR1: it is {status}"
            ):
                cr_move(status, CRMove.CANCEL, "PO-7-CR1")
