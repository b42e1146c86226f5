"""An admin adds reason codes, relabels them (English and Chinese) and deactivates or
reactivates them. The built-in codes stay the defaults: changing one stores a row for it.

Each change is an event on our organisation's stream (`org/<CODE>`): `reason_code.added` with
the new code and its labels, `reason_code.changed` with what it was and what it is now. A
code's version (0 for a built-in code never changed) guards against stale forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from portal.db import reason_store
from portal.db import tables as t
from portal.domain import accounts as org_records
from portal.domain.actors import Actor
from portal.domain.errors import DomainError, NotFound, Phrase, check_version
from portal.domain.events import EventKind
from portal.domain.orders import REASON_CODES
from portal.services.accounts import lock_organisation, note, require_admin
from portal.services.unit_of_work import UnitOfWork

CODE = re.compile(r"[a-z0-9_]{1,32}")
MAX_LABEL = 200


@dataclass(frozen=True, slots=True)
class ReasonCodeView:
    code: str
    label_en: str
    label_zh: str
    active: bool
    built_in: bool
    version: int

    def data(self) -> dict[str, Any]:
        return {"label_en": self.label_en, "label_zh": self.label_zh, "active": self.active}


@dataclass(frozen=True, slots=True)
class AddReasonCode:
    code: str
    label_en: str
    label_zh: str


@dataclass(frozen=True, slots=True)
class ChangeReasonCode:
    code: str
    version: int
    label_en: str | None = None
    label_zh: str | None = None
    active: bool | None = None
    """None keeps what the code has."""


def _labels(label_en: str, label_zh: str) -> tuple[str, str]:
    english, chinese = label_en.strip(), label_zh.strip()
    if not english or not chinese:
        raise DomainError("A reason code needs both an English and a Chinese label.")
    if len(english) > MAX_LABEL or len(chinese) > MAX_LABEL:
        raise DomainError("A reason code's label is at most {most} characters.", most=MAX_LABEL)
    return english, chinese


async def all_codes(default_labels: dict[str, tuple[str, str]]) -> list[ReasonCodeView]:
    """Every code, built-in ones first, each with its labels (the stored ones, or
    `default_labels`: code -> (English, Chinese) from the catalogs) and whether it is in use."""
    stored = {row["code"]: row for row in await reason_store.rows()}
    found: list[ReasonCodeView] = []
    for code in REASON_CODES:
        row = stored.get(code)
        english, chinese = default_labels.get(code, (code, code))
        found.append(
            ReasonCodeView(
                code=code,
                label_en=row["label_en"] if row else english,
                label_zh=row["label_zh"] if row else chinese,
                active=bool(row["active"]) if row else True,
                built_in=True,
                version=int(row["version"]) if row else 0,
            )
        )
    for code, row in stored.items():
        if code in REASON_CODES:
            continue
        found.append(
            ReasonCodeView(
                code=code,
                label_en=row["label_en"],
                label_zh=row["label_zh"],
                active=bool(row["active"]),
                built_in=False,
                version=int(row["version"]),
            )
        )
    return found


async def add_reason_code(uow: UnitOfWork, actor: Actor, cmd: AddReasonCode) -> ReasonCodeView:
    await require_admin(actor)
    code = cmd.code.strip()
    if not CODE.fullmatch(code):
        raise DomainError(
            "A reason code is 1 to 32 lowercase letters, digits or '_' (got {code!r}).",
            code=cmd.code,
        )
    english, chinese = _labels(cmd.label_en, cmd.label_zh)
    async with uow:
        org = actor.org or ""
        await lock_organisation(org)
        taken = await t.ReasonCode.exists().where(t.ReasonCode.code == code).run()
        if taken or code in REASON_CODES:
            raise DomainError("The reason code {code!r} already exists.", code=code)
        last = (
            await t.ReasonCode.select(t.ReasonCode.position)
            .order_by(t.ReasonCode.position, ascending=False)
            .first()
            .run()
        )
        await t.ReasonCode.insert(
            t.ReasonCode(
                code=code,
                label_en=english,
                label_zh=chinese,
                active=True,
                position=(int(last["position"]) + 1) if last else 1,
                version=1,
                updated_at=uow.now,
            )
        ).run()
        record = org_records.OrgRecord(version=0, code=org)
        record.changed(
            actor,
            EventKind.REASON_CODE_ADDED,
            {"code": code, "label_en": english, "label_zh": chinese, "active": True},
        )
        note(uow, record)
        await uow.commit()
    return ReasonCodeView(code, english, chinese, True, False, 1)


async def change_reason_code(
    uow: UnitOfWork,
    actor: Actor,
    cmd: ChangeReasonCode,
    default_labels: dict[str, tuple[str, str]],
) -> ReasonCodeView:
    """Relabel, deactivate or reactivate a code; `default_labels` are a built-in code's
    labels while no admin changed them."""
    await require_admin(actor)
    async with uow:
        org = actor.org or ""
        await lock_organisation(org)
        row = await t.ReasonCode.select().where(t.ReasonCode.code == cmd.code).first().run()
        if row is None and cmd.code not in REASON_CODES:
            raise NotFound("There is no reason code {code!r}.", code=cmd.code)
        if row is None:
            english, chinese = default_labels.get(cmd.code, (cmd.code, cmd.code))
            before = ReasonCodeView(cmd.code, english, chinese, True, True, 0)
        else:
            before = ReasonCodeView(
                cmd.code,
                row["label_en"],
                row["label_zh"],
                bool(row["active"]),
                cmd.code in REASON_CODES,
                int(row["version"]),
            )
        check_version(Phrase("Reason code {code}", code=cmd.code), before.version, cmd.version)
        english, chinese = _labels(
            before.label_en if cmd.label_en is None else cmd.label_en,
            before.label_zh if cmd.label_zh is None else cmd.label_zh,
        )
        active = before.active if cmd.active is None else cmd.active
        after = ReasonCodeView(cmd.code, english, chinese, active, before.built_in, before.version)
        if after.data() == before.data():
            await uow.commit()
            return before
        after = ReasonCodeView(
            cmd.code, english, chinese, active, before.built_in, before.version + 1
        )
        if row is None:
            await t.ReasonCode.insert(
                t.ReasonCode(
                    code=cmd.code,
                    label_en=english,
                    label_zh=chinese,
                    active=active,
                    position=0,
                    version=1,
                    updated_at=uow.now,
                )
            ).run()
        else:
            await (
                t.ReasonCode.update(
                    {
                        t.ReasonCode.label_en: english,
                        t.ReasonCode.label_zh: chinese,
                        t.ReasonCode.active: active,
                        t.ReasonCode.version: t.ReasonCode.version + 1,
                        t.ReasonCode.updated_at: uow.now,
                    }
                )
                .where(t.ReasonCode.code == cmd.code)
                .run()
            )
        changes = org_records.changes(before.data(), after.data())
        record = org_records.OrgRecord(version=0, code=org)
        record.changed(actor, EventKind.REASON_CODE_CHANGED, {"code": cmd.code, **changes})
        note(uow, record)
        await uow.commit()
    return after
