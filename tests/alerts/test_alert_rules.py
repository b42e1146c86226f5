"""The alert rules without a database: the rules and their defaults, when a tripped condition
raises and escalates, what an alert event says and whom it goes to."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from portal.domain.alerts import (
    DEFAULT_THRESHOLDS,
    Level,
    Rule,
    Threshold,
    end_of,
    event_data,
    lateness,
    level_of,
    recipients_for,
    subject_of,
    thresholds_from,
    trips,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_the_rules_and_their_defaults() -> None:
    assert [rule.value for rule in Rule] == [
        "po_unacknowledged",
        "promise_after_need",
        "promise_passed_unshipped",
        "shipment_overdue",
        "cr_overdue",
        "so_late",
    ]
    assert set(DEFAULT_THRESHOLDS) == {rule.value for rule in Rule}
    assert DEFAULT_THRESHOLDS["po_unacknowledged"] == (24, 72)
    assert all(hours <= escalate for hours, escalate in DEFAULT_THRESHOLDS.values())


def test_thresholds_from_an_admins_values_fall_back_to_the_defaults() -> None:
    limits = thresholds_from({"po_unacknowledged": (8, 4), "cr_overdue": (-5, 12)})
    # Escalating never comes before raising, and hours are never negative.
    assert limits[Rule.PO_UNACKNOWLEDGED] == Threshold(8, 8)
    assert limits[Rule.CR_OVERDUE] == Threshold(0, 12)
    assert limits[Rule.SO_LATE] == Threshold(*DEFAULT_THRESHOLDS["so_late"])


def test_a_time_rule_raises_after_its_hours_and_escalates_after_its_escalate_hours() -> None:
    limit = Threshold(24, 72)
    issued = NOW - timedelta(hours=23)
    assert not trips(lateness(Rule.PO_UNACKNOWLEDGED, NOW, issued), limit)
    issued = NOW - timedelta(hours=24)
    late = lateness(Rule.PO_UNACKNOWLEDGED, NOW, issued)
    assert late == 24 and trips(late, limit) and level_of(late, limit) == Level.RAISED
    late = lateness(Rule.PO_UNACKNOWLEDGED, NOW, NOW - timedelta(hours=72))
    assert level_of(late, limit) == Level.ESCALATED


def test_a_promise_is_broken_once_its_day_is_over() -> None:
    limit = Threshold(0, 48)
    due = end_of(date(2026, 3, 10))
    assert due == datetime(2026, 3, 11, tzinfo=UTC)
    assert not trips(lateness(Rule.PROMISE_PASSED_UNSHIPPED, NOW, due), limit)
    assert trips(lateness(Rule.PROMISE_PASSED_UNSHIPPED, due + timedelta(minutes=1), due), limit)


def test_a_forecast_rule_measures_the_slip_not_the_clock() -> None:
    limit = Threshold(0, 48)
    due = end_of(date(2026, 4, 15))  # the need (requested) date
    assert lateness(Rule.SO_LATE, NOW, due, date(2026, 4, 15)) == 0
    assert not trips(lateness(Rule.SO_LATE, NOW, due, date(2026, 4, 15)), limit)
    one_day = lateness(Rule.SO_LATE, NOW, due, date(2026, 4, 16))
    assert one_day == 24 and trips(one_day, limit) and level_of(one_day, limit) == Level.RAISED
    three = lateness(Rule.PROMISE_AFTER_NEED, NOW, due, date(2026, 4, 18))
    assert level_of(three, limit) == Level.ESCALATED
    # A tolerance: a day late is fine when the admin allows 48 hours.
    assert not trips(one_day, Threshold(48, 96))


def test_subjects() -> None:
    assert subject_of(Rule.PO_UNACKNOWLEDGED, "PO-1") == "po/PO-1"
    assert subject_of(Rule.PROMISE_AFTER_NEED, "PO-1", line=2) == "po/PO-1/line/2"
    assert subject_of(Rule.SO_LATE, "SO-1", line=1) == "so/SO-1/line/1"
    assert subject_of(Rule.CR_OVERDUE, "PO-1", ref="PO-1-CR1") == "cr/PO-1-CR1"
    assert subject_of(Rule.SHIPMENT_OVERDUE, "PO-1", ref="ASN-7") == "shipment/ASN-7"


def test_routing_and_event_data() -> None:
    assert recipients_for(False, 7, [1, 2]) == [7]
    assert recipients_for(True, 7, [1, 2]) == [1, 2, 7]
    assert recipients_for(False, None, [1, 2]) == [1, 2], "nobody owns it: the managers"
    data = event_data(
        Rule.CR_OVERDUE,
        "cr/PO-1-CR1",
        due_at=NOW - timedelta(hours=30),
        late_hours=30.5,
        facts={"change_request": "PO-1-CR1", "rule": "forged"},
        recipients=[7, 7],
        level=Level.ESCALATED,
    )
    assert data == {
        "rule": "cr_overdue",
        "subject": "cr/PO-1-CR1",
        "level": "escalated",
        "due_at": "2026-03-09T06:00:00+00:00",
        "hours_late": 30,
        "change_request": "PO-1-CR1",
        "recipients": [7],
    }
