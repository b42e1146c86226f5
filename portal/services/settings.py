"""An admin changes the business settings: alert thresholds, tolerance rules, the change
request SLA and the handling days (stored in `rule_setting`, read by `portal.db.rule_store`).

One change is one `settings.changed` event on our organisation's stream (`org/<CODE>`), with
what each changed setting was and is now. The settings as a whole carry one version (the sum of
their rows' versions, 0 while none is stored): a form or an API call made from an older one is
refused (409) and nothing is saved. Bad values refuse the whole change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from portal.db import codec, rule_store
from portal.db import tables as t
from portal.domain import accounts as org_records
from portal.domain.actors import Actor
from portal.domain.errors import DomainError, Phrase, check_version
from portal.domain.events import EventKind
from portal.services.accounts import lock_organisation, note, require_admin
from portal.services.unit_of_work import Rules, UnitOfWork

PERCENT_KEYS = frozenset({rule_store.TOLERANCE_QTY_PCT, rule_store.OVER_DELIVERY_PCT})
MAX_VALUE = 100_000


@dataclass(frozen=True, slots=True)
class ChangeSettings:
    version: int
    """The settings' version the change was made from."""
    values: Mapping[str, int] = field(default_factory=dict)
    """key -> new value; keys not named keep theirs."""


@dataclass(frozen=True, slots=True)
class Current:
    version: int
    values: dict[str, int]
    """Every setting as it applies now (stored or default)."""
    defaults: dict[str, int]


def setting_keys() -> list[str]:
    """Every setting's key, alert thresholds first (in the alerts domain's order)."""
    alert = [
        key
        for rule in rule_store.default_thresholds()
        for key in (rule_store.alert_hours_key(rule), rule_store.alert_escalate_key(rule))
    ]
    return [*alert, *rule_store.RULE_KEYS]


def _flat(rules: Rules, thresholds: Mapping[str, tuple[int, int]]) -> dict[str, int]:
    values = {
        rule_store.TOLERANCE_DAYS: int(rules.tolerance.max_date_move_days),
        rule_store.TOLERANCE_QTY_PCT: int(rules.tolerance.max_qty_change_pct),
        rule_store.OVER_DELIVERY_PCT: int(rules.over_delivery_pct),
        rule_store.CR_SLA_HOURS: int(rules.cr_sla_hours),
        rule_store.HANDLING_DAYS: int(rules.handling_days),
    }
    for rule, (hours, escalate) in thresholds.items():
        values[rule_store.alert_hours_key(rule)] = hours
        values[rule_store.alert_escalate_key(rule)] = escalate
    return {key: values[key] for key in setting_keys()}


async def current(base: Rules) -> Current:
    """The settings as they apply now over `base` (the process's own), with their version."""
    rows = await rule_store.stored_rows()
    stored = {key: row["value"] for key, row in rows.items()}
    return Current(
        version=sum(int(row["version"]) for row in rows.values()),
        values=_flat(rule_store.rules_from(base, stored), rule_store.thresholds_from(stored)),
        defaults=_flat(base, rule_store.default_thresholds()),
    )


def setting_name(key: str) -> Phrase:
    """How a setting is named in a message."""
    if key == rule_store.TOLERANCE_DAYS:
        return Phrase("Date moves without review (days)")
    if key == rule_store.TOLERANCE_QTY_PCT:
        return Phrase("Quantity changes without review (percent)")
    if key == rule_store.OVER_DELIVERY_PCT:
        return Phrase("Over-delivery and over-receipt tolerance (percent)")
    if key == rule_store.CR_SLA_HOURS:
        return Phrase("Change request decision time (hours)")
    if key == rule_store.HANDLING_DAYS:
        return Phrase("Handling days")
    rule = key.split(".")[1] if key.count(".") == 2 else key
    if key.endswith(".escalate_hours"):
        return Phrase("Escalate after (hours) for alert {rule}", rule=rule)
    if key.endswith(".hours"):
        return Phrase("Raise after (hours) for alert {rule}", rule=rule)
    return Phrase("Setting {key}", key=key)


def problems(values: Mapping[str, Any]) -> dict[str, DomainError]:
    """What is wrong with a full set of settings, by key (empty when they are fine)."""
    found: dict[str, DomainError] = {}
    known = set(setting_keys())
    for key, value in values.items():
        if key not in known:
            found[key] = DomainError("There is no setting {key!r}.", key=key)
        elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
            found[key] = DomainError(
                "{setting} must be a whole number of zero or more.", setting=setting_name(key)
            )
        elif key in PERCENT_KEYS and value > 100:
            found[key] = DomainError(
                "{setting} is a percentage from 0 to 100.", setting=setting_name(key)
            )
        elif value > MAX_VALUE:
            found[key] = DomainError(
                "{setting} must be at most {most}.", setting=setting_name(key), most=MAX_VALUE
            )
    for rule in rule_store.default_thresholds():
        hours_key = rule_store.alert_hours_key(rule)
        escalate_key = rule_store.alert_escalate_key(rule)
        if hours_key in found or escalate_key in found:
            continue
        hours, escalate = values.get(hours_key), values.get(escalate_key)
        if isinstance(hours, int) and isinstance(escalate, int) and escalate < hours:
            found[escalate_key] = DomainError(
                "Alert {rule}: escalate after {escalate} hours cannot come before raising it "
                "after {hours} hours.",
                rule=rule,
                escalate=escalate,
                hours=hours,
            )
    return found


class InvalidSettings(DomainError):
    """Some values are wrong: `problems` says which (by key); nothing was saved."""

    def __init__(self, found: dict[str, DomainError]) -> None:
        first = next(iter(found.values()))
        super().__init__(first.template, **first.params)
        self.problems = found


async def change_settings(uow: UnitOfWork, actor: Actor, cmd: ChangeSettings) -> Current:
    """Store the changed settings and record what changed; returns the settings as they now
    are. Refused when the actor is no admin, the version is stale or a value is wrong."""
    await require_admin(actor)
    async with uow:
        org = actor.org or ""
        await lock_organisation(org)  # orders the appends to the stream, and the settings
        now = await current(uow.base_rules)
        check_version(Phrase("The settings"), now.version, cmd.version)
        merged = {**now.values, **cmd.values}
        found = problems(merged)
        if found:
            raise InvalidSettings(found)
        changed = {key: value for key, value in cmd.values.items() if now.values[key] != value}
        if changed:
            rows = await rule_store.stored_rows()
            for key, value in changed.items():
                if key in rows:
                    await (
                        t.RuleSetting.update(
                            {
                                t.RuleSetting.value: codec.dump(value),
                                t.RuleSetting.version: t.RuleSetting.version + 1,
                                t.RuleSetting.updated_by: actor.name[:200],
                                t.RuleSetting.updated_at: uow.now,
                            }
                        )
                        .where(t.RuleSetting.key == key)
                        .run()
                    )
                else:
                    await t.RuleSetting.insert(
                        t.RuleSetting(
                            key=key,
                            value=codec.dump(value),
                            version=1,
                            updated_by=actor.name[:200],
                            updated_at=uow.now,
                        )
                    ).run()
            record = org_records.OrgRecord(version=0, code=org)
            record.changed(
                actor,
                EventKind.SETTINGS_CHANGED,
                {
                    "before": {key: now.values[key] for key in changed},
                    "after": dict(changed),
                },
            )
            note(uow, record)
        await uow.commit()
    return await current(uow.base_rules)
