"""Scorecard figures from a hand-built history (see `scorecard_story`), worked out by hand,
read through the real queries on SQLite and PostgreSQL; and the rule that moving a promise
later never improves on-time delivery against the first confirmed promise."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from scorecard_story import tell_the_story

from portal.db import scorecard_queries as q
from portal.db.database import Database
from portal.domain.scorecard import Figure, Period, ScoreEvent, ranking, replay, score

MARCH = Period.parse("2026-03")
FEBRUARY = Period.parse("2026-02")
AS_OF = date(2026, 11, 1)


async def test_the_figures_of_a_hand_built_history(db: Database) -> None:
    await tell_the_story(db, people=False)
    february, march = await q.supplier_scorecards("ACME", [FEBRUARY, MARCH], AS_OF)

    # Lines due in March by need date: A1 late (13 Mar > 10 Mar), A2 on time (complete 19 Mar
    # <= 20 Mar), B1 on time (24 Mar <= 25 Mar), C1 late (nothing came): 2 of 4.
    assert (march.on_time_need.hits, march.on_time_need.total) == (2, 4)
    assert march.value(Figure.ON_TIME_NEED) == pytest.approx(0.5)
    # Against the first promise: A1 first promised 8 Mar (late, although its current
    # promise, 14 Mar, was kept), A2 20 Mar on time, B1 25 Mar on time; C1 never promised.
    assert (march.on_time_promise.hits, march.on_time_promise.total) == (2, 3)
    # Fill: 100 + 50 + 180 + 0 of 100 + 50 + 180 + 10.
    assert (march.fill_rate.hits, march.fill_rate.total) == (330, 340)
    # Accuracy: received 100 + 50 + 5 + 180 = 335 in March, 5 turned away.
    assert (march.accuracy.hits, march.accuracy.total) == (330, 335)
    assert march.value(Figure.ACCURACY) == pytest.approx(1 - 5 / 335)
    # Promise moves: A1 twice, A2 never, B1 once (resized to the approved 180): 3 over 3 lines.
    assert (march.promise_moves.hits, march.promise_moves.total) == (3, 3)
    assert (march.never_moved.hits, march.never_moved.total) == (1, 3)
    # Nothing was issued or decided in March.
    assert march.value(Figure.ACK_HOURS) is None
    assert march.value(Figure.SUPPLIER_CR_HOURS) is None

    # February: PO-A answered in 6 h, PO-B in 30 h (PO-C never: not counted).
    assert february.ack_hours.count == 2
    assert february.value(Figure.ACK_HOURS) == pytest.approx(18.0)
    assert february.met(Figure.ACK_HOURS) is True
    # Acme decided our request in 3 h; our buyer Acme's in 1.5 h.
    assert february.value(Figure.SUPPLIER_CR_HOURS) == pytest.approx(3.0)
    assert february.met(Figure.SUPPLIER_CR_HOURS) is False
    assert february.value(Figure.BUYER_CR_HOURS) == pytest.approx(1.5)
    assert february.met(Figure.BUYER_CR_HOURS) is True
    # No line is due in February.
    assert february.value(Figure.ON_TIME_NEED) is None

    # Every supplier at once gives the same figures; Bolt is perfect and ranks first.
    cards = await q.all_scorecards([MARCH], AS_OF)
    assert cards["ACME"][0] == march
    bolt = cards["BOLT"][0]
    assert bolt.value(Figure.ON_TIME_NEED) == 1.0
    assert bolt.value(Figure.ON_TIME_PROMISE) == 1.0
    assert [card.supplier for card in ranking(card[0] for card in cards.values())] == [
        "BOLT",
        "ACME",
    ]


def _event(seq: int, when: datetime, kind: str, data: dict[str, Any]) -> ScoreEvent:
    return ScoreEvent("po/PO-X", seq, when, kind, data)


def _history(*moves: str, received_on: str) -> list[ScoreEvent]:
    """One line of 10 needed 10 Mar, first promised 8 Mar, moved to each of `moves`, all
    received on `received_on`."""
    t0 = datetime(2026, 2, 1, tzinfo=UTC)
    events = [
        _event(
            1,
            t0,
            "po.issued",
            {"lines": [{"line_no": 1, "quantity": "10", "need_date": "2026-03-10"}]},
        ),
        _event(
            2,
            t0,
            "po.acknowledged",
            {"lines": [{"line_no": 1, "promise": [{"quantity": "10", "date": "2026-03-08"}]}]},
        ),
    ]
    before = [{"quantity": "10", "date": "2026-03-08"}]
    for seq, day in enumerate(moves, start=3):
        after = [{"quantity": "10", "date": day}]
        events.append(
            _event(
                seq, t0, "line.promise_changed", {"line_no": 1, "before": before, "after": after}
            )
        )
        before = after
    events.append(
        _event(
            99,
            t0,
            "receipt.recorded",
            {
                "receipt": {
                    "received_on": received_on,
                    "lines": [{"line_no": 1, "received": "10", "rejected": "0"}],
                }
            },
        )
    )
    return events


@pytest.mark.parametrize("received_on", ["2026-03-07", "2026-03-09", "2026-03-12"])
def test_moving_a_promise_later_never_improves_on_time_against_the_first_promise(
    received_on: str,
) -> None:
    kept = score("X", replay(_history(received_on=received_on)), MARCH, AS_OF)
    moved = score(
        "X", replay(_history("2026-03-12", "2026-03-20", received_on=received_on)), MARCH, AS_OF
    )
    assert moved.on_time_promise == kept.on_time_promise
    assert moved.value(Figure.ON_TIME_PROMISE) == (1.0 if received_on <= "2026-03-08" else 0.0)
    assert moved.promise_moves.hits == 2 and kept.promise_moves.hits == 0


def test_a_line_not_yet_due_and_not_complete_is_not_counted() -> None:
    history = replay(_history(received_on="2026-03-12")[:-1])
    early = score("X", history, MARCH, date(2026, 3, 5))
    assert early.on_time_need.total == 0
    late = score("X", history, MARCH, date(2026, 3, 11))
    assert (late.on_time_need.hits, late.on_time_need.total) == (0, 1)


def test_periods() -> None:
    assert Period.parse("2026-Q1").end == date(2026, 4, 1)
    assert Period.parse("2026-12").end == date(2027, 1, 1)
    assert [p.code for p in Period.parse("2026-02").last(3)] == ["2025-12", "2026-01", "2026-02"]
    assert [p.code for p in Period.parse("2026-Q1").last(2)] == ["2025-Q4", "2026-Q1"]
    with pytest.raises(ValueError):
        Period.parse("2026-13")
