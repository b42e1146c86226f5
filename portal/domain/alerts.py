"""Early warnings: which rules exist, when a tripped condition raises an alert and when it
escalates to a manager. Pure rules, no database: `portal/db/alert_queries.py` finds what is
tripped, `portal/services/alerts.py` writes the alerts and their timeline events.

An alert is about one *subject* (an order, one of its lines, a change request or a shipment) and
one rule. Its `due_at` is when the awaited thing was due (the acknowledgement, the need date, the
promise, the arrival, the decision); its age is now - due_at. A rule's thresholds are hours after
`due_at`: the first before raising, the second before escalating to a manager.

Dates (need, promised, expected, requested, arrival) are days: a promise for 20 March is broken
from the end of that day (midnight UTC after it, `end_of`). The two forecast rules
(promise_after_need, so_late) look ahead: their lateness is how far the promised (expected) date
lies after the date needed, so they raise as soon as a promise slips and escalate when it slips
by more than the escalate hours, long before the day itself comes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any


class Rule(StrEnum):
    PO_UNACKNOWLEDGED = "po_unacknowledged"  # issued, not acknowledged N hours after issue
    PROMISE_AFTER_NEED = "promise_after_need"  # a line's promise later than its need date
    PROMISE_PASSED_UNSHIPPED = "promise_passed_unshipped"  # promise passed, quantity unshipped
    SHIPMENT_OVERDUE = "shipment_overdue"  # past its expected arrival, nothing received
    CR_OVERDUE = "cr_overdue"  # a change request open past its SLA due time
    SO_LATE = "so_late"  # a sales line expected later than the customer asked


class Level(StrEnum):
    RAISED = "raised"
    ESCALATED = "escalated"


DEFAULT_THRESHOLDS: dict[str, tuple[int, int]] = {
    Rule.PO_UNACKNOWLEDGED.value: (24, 72),
    Rule.PROMISE_AFTER_NEED.value: (0, 48),
    Rule.PROMISE_PASSED_UNSHIPPED.value: (0, 48),
    Rule.SHIPMENT_OVERDUE.value: (0, 48),
    Rule.CR_OVERDUE.value: (0, 24),
    Rule.SO_LATE.value: (0, 48),
}
"""rule -> (hours after due before raising, hours after due before escalating to a manager).
An admin overrides them (keys "alert.<rule>.hours" and "alert.<rule>.escalate_hours")."""


@dataclass(frozen=True, slots=True)
class Threshold:
    hours: int
    escalate_hours: int

    @classmethod
    def of(cls, pair: tuple[int, int]) -> Threshold:
        hours, escalate = max(0, int(pair[0])), max(0, int(pair[1]))
        return cls(hours, max(hours, escalate))


def thresholds_from(values: dict[str, tuple[int, int]] | None = None) -> dict[Rule, Threshold]:
    """Every rule's threshold: the given values where present, the defaults elsewhere."""
    given = values or {}
    return {
        rule: Threshold.of(given.get(rule.value, DEFAULT_THRESHOLDS[rule.value])) for rule in Rule
    }


FORECASTS = frozenset({Rule.PROMISE_AFTER_NEED, Rule.SO_LATE})
"""Rules about a date still to come: how late the promise (or the expected date) is, not how
long ago something was due. Their hours are the slip tolerated (promise minus need date)."""


def end_of(day: date) -> datetime:
    """When a day has passed (midnight UTC after it): a promise for `day` is broken from here."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def lateness(rule: Rule, now: datetime, due_at: datetime, forecast: date | None = None) -> float:
    """How late the subject is, in hours: for a forecast rule how far the promised (expected)
    date lies after the date needed (`due_at` is the end of that day); for the others how long
    ago the awaited thing was due."""
    if rule in FORECASTS:
        if forecast is None:
            return 0.0
        return (end_of(forecast) - due_at).total_seconds() / 3600
    return (now - due_at).total_seconds() / 3600


def trips(late_hours: float, threshold: Threshold) -> bool:
    """Whether a condition this late raises an alert: late at all, and by the rule's hours."""
    return late_hours > 0 and late_hours >= threshold.hours


def level_of(late_hours: float, threshold: Threshold) -> Level:
    """The level a tripped condition has reached: a manager hears of it from escalate_hours."""
    return Level.ESCALATED if late_hours >= threshold.escalate_hours else Level.RAISED


def hours_late(late_hours: float) -> int:
    return max(0, int(late_hours))


def recipients_for(kind_escalated: bool, owner_id: int | None, managers: list[int]) -> list[int]:
    """Whom an alert event is routed to: the order's owner; on escalation the managers too.
    An order nobody owns (made by an import or a client) goes to the managers."""
    owner = [owner_id] if owner_id is not None else []
    if kind_escalated or not owner:
        return sorted(set(owner + managers))
    return owner


def subject_of(rule: Rule, number: str, *, line: int | None = None, ref: str = "") -> str:
    """The subject an alert is about: "po/<N>", "po/<N>/line/<n>", "so/<N>/line/<n>",
    "cr/<CR number>" or "shipment/<ASN number>"."""
    if rule == Rule.CR_OVERDUE:
        return f"cr/{ref}"
    if rule == Rule.SHIPMENT_OVERDUE:
        return f"shipment/{ref}"
    if rule == Rule.SO_LATE:
        return f"so/{number}/line/{line}"
    if line is None:
        return f"po/{number}"
    return f"po/{number}/line/{line}"


def event_data(
    rule: Rule,
    subject: str,
    *,
    due_at: datetime,
    late_hours: float,
    facts: dict[str, Any],
    recipients: list[int],
    level: Level = Level.RAISED,
) -> dict[str, Any]:
    """What an alert event says on the order's timeline: the rule, its subject, when the awaited
    thing was due and how late it is, the facts that tripped it and whom it is routed to."""
    return {
        "rule": rule.value,
        "subject": subject,
        "level": level.value,
        "due_at": due_at.isoformat(),
        "hours_late": hours_late(late_hours),
        **{key: value for key, value in facts.items() if key not in _RESERVED},
        "recipients": sorted(set(recipients)),
    }


_RESERVED = frozenset({"rule", "subject", "level", "due_at", "hours_late", "recipients"})
