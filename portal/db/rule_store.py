"""The business settings an admin changed, read from the `rule_setting` table.

A key with no row follows the defaults: the process's `Settings` (through the `Rules` a unit
of work is made with) and, for the alert thresholds, `portal.domain.alerts.DEFAULT_THRESHOLDS`.
Values are JSON numbers. The keys:

- ``alert.<rule>.hours`` / ``alert.<rule>.escalate_hours``: raise an alert after N hours,
  escalate it after M hours;
- ``tolerance.max_date_move_days``, ``tolerance.max_qty_change_pct``: what a supplier may
  change without review;
- ``over_delivery_pct``: how much more than ordered may be shipped or received;
- ``cr_sla_hours``: how long a change request may wait for a decision;
- ``handling_days``: days between receiving goods and shipping them on to the customer.

Read inside the caller's transaction when there is one (Piccolo's current transaction), so a
unit of work sees the settings as they are when its transaction begins, in every process.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from portal.db import codec
from portal.db import tables as t
from portal.domain.changes import TolerancePolicy

if TYPE_CHECKING:
    from portal.services.unit_of_work import Rules

TOLERANCE_DAYS = "tolerance.max_date_move_days"
TOLERANCE_QTY_PCT = "tolerance.max_qty_change_pct"
OVER_DELIVERY_PCT = "over_delivery_pct"
CR_SLA_HOURS = "cr_sla_hours"
HANDLING_DAYS = "handling_days"
RULE_KEYS = (TOLERANCE_DAYS, TOLERANCE_QTY_PCT, OVER_DELIVERY_PCT, CR_SLA_HOURS, HANDLING_DAYS)


def alert_hours_key(rule: str) -> str:
    return f"alert.{rule}.hours"


def alert_escalate_key(rule: str) -> str:
    return f"alert.{rule}.escalate_hours"


def default_thresholds() -> dict[str, tuple[int, int]]:
    """The alert rules and their default (hours, escalate_hours), as the alerts domain says."""
    try:
        from portal.domain.alerts import DEFAULT_THRESHOLDS
    except ImportError:  # the alerts domain not there yet: no rules to set
        return {}
    return dict(DEFAULT_THRESHOLDS)


async def stored() -> dict[str, Any]:
    """Every stored setting: key -> its value (decoded JSON)."""
    rows = await t.RuleSetting.select(t.RuleSetting.key, t.RuleSetting.value).run()
    return {row["key"]: codec.load(row["value"]) for row in rows}


async def stored_rows() -> dict[str, dict[str, Any]]:
    """Every stored setting row: key -> {value, version, updated_by, updated_at}."""
    rows = await t.RuleSetting.select().run()
    return {row["key"]: {**row, "value": codec.load(row["value"])} for row in rows}


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return default
    try:
        return int(Decimal(str(value)))
    except ArithmeticError:
        return default


def _decimal(value: Any, default: Decimal) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return default
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return default


def thresholds_from(values: dict[str, Any]) -> dict[str, tuple[int, int]]:
    result: dict[str, tuple[int, int]] = {}
    for rule, (hours, escalate) in default_thresholds().items():
        result[rule] = (
            _int(values.get(alert_hours_key(rule)), hours),
            _int(values.get(alert_escalate_key(rule)), escalate),
        )
    return result


async def alert_thresholds() -> dict[str, tuple[int, int]]:
    """rule -> (raise after hours, escalate after hours): the admin's or the default."""
    return thresholds_from(await stored())


def rules_from(base: Rules, values: dict[str, Any]) -> Rules:
    if not values:
        return base
    tolerance = TolerancePolicy(
        max_date_move_days=_int(values.get(TOLERANCE_DAYS), base.tolerance.max_date_move_days),
        max_qty_change_pct=_decimal(
            values.get(TOLERANCE_QTY_PCT), base.tolerance.max_qty_change_pct
        ),
    )
    return dataclasses.replace(
        base,
        tolerance=tolerance,
        over_delivery_pct=_decimal(values.get(OVER_DELIVERY_PCT), base.over_delivery_pct),
        cr_sla_hours=_int(values.get(CR_SLA_HOURS), base.cr_sla_hours),
        handling_days=_int(values.get(HANDLING_DAYS), base.handling_days),
    )


async def load_rules(base: Rules) -> Rules:
    """`base` (the process's settings) with the admin's stored rules laid over it."""
    rows = (
        await t.RuleSetting.select(t.RuleSetting.key, t.RuleSetting.value)
        .where(t.RuleSetting.key.is_in(list(RULE_KEYS)))
        .run()
    )
    return rules_from(base, {row["key"]: codec.load(row["value"]) for row in rows})
