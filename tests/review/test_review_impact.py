"""What a change request would do to our customers, worked out without a database: the expected
date of each linked sales line before and after, exactly as an approval derives it, and which
requests are low impact (may be approved together with others)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from portal.domain.changes import ChangeKind, LineChange
from portal.domain.impact import LinkedLine, customer_effects, is_low_impact, not_low_impact
from portal.domain.orders import POLine
from portal.domain.schedule import Schedule

NEED = date(2027, 3, 1)


def po_line(promise_days: int | None = 0, quantity: int = 100) -> POLine:
    line = POLine(1, "BOLT", "Bolt", Decimal(quantity), "pcs", Decimal("0.35"), NEED)
    if promise_days is not None:
        line.confirm(Schedule.single(Decimal(quantity), NEED + timedelta(promise_days)))
    return line


def linked(
    requested_days: int, quantity: int = 100, so: str = "SO-1", expected_days: int = 2
) -> LinkedLine:
    return LinkedLine(
        so_number=so,
        customer="CUST",
        customer_name="Contoso",
        line_no=1,
        po_line_no=1,
        quantity=Decimal(quantity),
        requested_date=NEED + timedelta(requested_days),
        expected_date=NEED + timedelta(expected_days),
        handling_days=2,
    )


def date_change(days: int, quantity: int = 100) -> LineChange:
    return LineChange(
        1, ChangeKind.DATE, schedule=Schedule.single(Decimal(quantity), NEED + timedelta(days))
    )


def test_a_later_promise_moves_the_customer_line_by_as_many_days() -> None:
    [effect] = customer_effects({1: po_line()}, [date_change(3)], [linked(10)])
    assert (effect.expected_before, effect.expected_after) == (
        NEED + timedelta(2),
        NEED + timedelta(5),
    )
    assert effect.days == 3
    assert not effect.late_after and not effect.pushed_past_requested
    assert is_low_impact([date_change(3)], [effect])


def test_past_the_requested_date_is_not_low_impact() -> None:
    effects = customer_effects({1: po_line()}, [date_change(3)], [linked(4)])
    assert effects[0].late_after and effects[0].pushed_past_requested
    assert not_low_impact([date_change(3)], effects) == ["customer_late"]


def test_an_earlier_date_helps_a_line_that_stays_late() -> None:
    line = po_line(promise_days=10)
    effects = customer_effects({1: line}, [date_change(5)], [linked(0, expected_days=12)])
    assert effects[0].days == -5 and effects[0].late_after
    assert not effects[0].pushed_past_requested
    assert is_low_impact([date_change(5)], effects)


def test_a_split_schedule_counts_when_the_customers_quantity_is_covered() -> None:
    split = LineChange(
        1,
        ChangeKind.DATE,
        schedule=Schedule(
            (
                *Schedule.single(Decimal(60), NEED).rows,
                *Schedule.single(Decimal(40), NEED + timedelta(6)).rows,
            )
        ),
    )
    small, large = customer_effects(
        {1: po_line()}, [split], [linked(30, quantity=50, so="SO-A"), linked(30, so="SO-B")]
    )
    assert small.expected_after == NEED + timedelta(2)
    assert large.expected_after == NEED + timedelta(8)


def test_a_smaller_quantity_keeps_the_promised_date() -> None:
    cut = LineChange(1, ChangeKind.QUANTITY, quantity=Decimal(80))
    [effect] = customer_effects({1: po_line()}, [cut], [linked(10, quantity=80)])
    assert effect.days == 0
    assert is_low_impact([cut], [effect])


def test_cancel_price_and_item_always_need_their_own_decision() -> None:
    cancel = LineChange(1, ChangeKind.CANCEL)
    [effect] = customer_effects({1: po_line()}, [cancel], [linked(10)])
    assert effect.cancelled and effect.pushed_past_requested
    assert not_low_impact([cancel], [effect]) == ["cancel", "customer_late"]
    price = LineChange(1, ChangeKind.PRICE, unit_price=Decimal("0.30"))
    item = LineChange(1, ChangeKind.ITEM, item="BOLT-2")
    assert not_low_impact([price, item], []) == ["item", "price"]


def test_lines_the_request_does_not_touch_have_no_effect() -> None:
    other = LineChange(2, ChangeKind.QUANTITY, quantity=Decimal(5))
    assert customer_effects({1: po_line()}, [other], [linked(10)]) == []
