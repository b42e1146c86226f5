"""A user changes which notifications they get, on which channel, at once or as a digest.

The change is an event on the user's organisation's stream (`org/<code>`), as every other
change to a user is, with what it was and what it is now for the topics that changed. Only the
topics of the user's side may be chosen; a bad one refuses the whole change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from portal.db import tables as t
from portal.domain import accounts as rules
from portal.domain.actors import Actor, ActorKind
from portal.domain.errors import DomainError
from portal.domain.events import EventKind
from portal.domain.notifications import DEFAULT_PREFERENCE, TOPICS_BY_SIDE, Preference
from portal.notify.centre import stored_preferences
from portal.services.accounts import lock_organisation, note
from portal.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class SetPreferences:
    """The choices for some topics; topics not named keep what they have."""

    choices: Mapping[str, Preference] = field(default_factory=dict)


def _data(preference: Preference) -> dict[str, bool]:
    return {"in_app": preference.in_app, "email": preference.email, "digest": preference.digest}


def check_topics(actor: Actor, topics: list[str]) -> None:
    allowed = [topic.value for topic in TOPICS_BY_SIDE[actor.side]]
    unknown = [topic for topic in topics if topic not in allowed]
    if unknown:
        raise DomainError(
            "There is no notification topic {topic!r} for you; choose from {allowed}.",
            topic=unknown[0],
            allowed=", ".join(allowed),
        )


async def set_preferences(
    uow: UnitOfWork, actor: Actor, cmd: SetPreferences
) -> dict[str, Preference]:
    """Store the actor's (a signed-in user's) choices; returns what changed, by topic."""
    if actor.kind != ActorKind.USER or actor.id is None or actor.org is None:
        raise DomainError("Only a user has notification preferences.")
    check_topics(actor, list(cmd.choices))
    user_id = int(actor.id)
    async with uow:
        await lock_organisation(actor.org)  # orders the appends to the organisation's stream
        stored = await stored_preferences(user_id)
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        changed: dict[str, Preference] = {}
        for topic, wanted in cmd.choices.items():
            current = stored.get(topic, DEFAULT_PREFERENCE)
            if wanted == current:
                continue
            before[topic], after[topic] = _data(current), _data(wanted)
            changed[topic] = wanted
            values: dict[Any, Any] = {
                t.NotificationPreference.in_app: wanted.in_app,
                t.NotificationPreference.email: wanted.email,
                t.NotificationPreference.digest: wanted.digest,
                t.NotificationPreference.updated_at: uow.now,
            }
            if topic in stored:
                await (
                    t.NotificationPreference.update(values)
                    .where(
                        (t.NotificationPreference.user_id == user_id)
                        & (t.NotificationPreference.topic == topic)
                    )
                    .run()
                )
            else:
                await t.NotificationPreference.insert(
                    t.NotificationPreference(
                        user_id=user_id,
                        topic=topic,
                        in_app=wanted.in_app,
                        email=wanted.email,
                        digest=wanted.digest,
                        updated_at=uow.now,
                    )
                ).run()
        if changed:
            record = rules.OrgRecord(version=0, code=actor.org)
            record.changed(
                actor,
                EventKind.NOTIFICATION_PREFERENCES_CHANGED,
                {"user_id": user_id, "before": before, "after": after},
            )
            note(uow, record)
        await uow.commit()
    return changed
