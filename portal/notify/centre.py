"""One user's notifications and notification preferences, as the centre reads and marks them.

Every query here is confined to one user: a notification is its reader's alone (another user's
id is "not found", also within the same organisation). Marking read is the reader's own
bookkeeping, not a business event, so it writes no timeline entry; changing preferences does
(`portal.services.notification_preferences`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portal.auth.principal import Principal
from portal.db import tables as t
from portal.db.database import Database
from portal.domain.actors import Side
from portal.domain.errors import DomainError, NotFound
from portal.domain.notifications import DEFAULT_PREFERENCE, TOPICS_BY_SIDE, Preference, Topic
from portal.i18n.labels import N_

PER_PAGE = 20
MAX_PER_PAGE = 100


class NoPersonalNotifications(DomainError):
    """An API client acting for its organisation (client credentials) has no inbox."""

    def __init__(self) -> None:
        super().__init__(
            N_(
                "Notifications belong to a user: use a token that acts for one "
                "(authorization code), not client credentials."
            )
        )


def reader_of(principal: Principal) -> int:
    """The user whose notifications these are; refused for a client without a user."""
    if principal.user_id is None:
        raise NoPersonalNotifications()
    return principal.user_id


@dataclass(frozen=True, slots=True)
class Item:
    """One stored notification, not yet put into words (`portal.notify.wording` does that)."""

    id: int
    topic: str
    kind: str
    stream: str
    seq: int
    number: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None

    @property
    def unread(self) -> bool:
        return self.read_at is None


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Item]
    page: int
    per_page: int
    has_next: bool
    unread: int


def _item(row: dict[str, Any]) -> Item:
    data = row["data"]
    if isinstance(data, str):  # SQLite hands JSON back as text
        data = json.loads(data or "{}")
    data = data if isinstance(data, dict) else {}
    stream = str(row["stream"])
    number = str(data.get("number") or stream.partition("/")[2])
    return Item(
        id=row["id"],
        topic=row["topic"],
        kind=row["kind"],
        stream=stream,
        seq=row["seq"],
        number=number,
        data=data,
        created_at=row["created_at"],
        read_at=row["read_at"],
    )


def _mine(user_id: int) -> Any:
    return t.Notification.user_id == user_id


async def unread_count(user_id: int) -> int:
    return int(
        await t.Notification.count().where(_mine(user_id) & t.Notification.read_at.is_null()).run()
    )


async def page(
    user_id: int, *, number: int = 1, per_page: int = PER_PAGE, unread_only: bool = False
) -> Page:
    """The user's notifications, newest first (ties by id, so paging is stable)."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    number = max(1, number)
    query = t.Notification.select().where(_mine(user_id))
    if unread_only:
        query = query.where(t.Notification.read_at.is_null())
    rows = await (
        query.order_by(t.Notification.created_at, ascending=False)
        .order_by(t.Notification.id, ascending=False)
        .offset((number - 1) * per_page)
        .limit(per_page + 1)
        .run()
    )
    return Page(
        items=[_item(row) for row in rows[:per_page]],
        page=number,
        per_page=per_page,
        has_next=len(rows) > per_page,
        unread=await unread_count(user_id),
    )


async def after(
    user_id: int, cursor: int | None, *, limit: int = PER_PAGE, unread_only: bool = False
) -> tuple[list[Item], int | None]:
    """Newest first from below `cursor` (an id; ids only grow, so a page never repeats or skips
    one as new notifications arrive). Returns the items and the next cursor, or None."""
    limit = max(1, min(limit, MAX_PER_PAGE))
    query = t.Notification.select().where(_mine(user_id))
    if cursor is not None:
        query = query.where(t.Notification.id < cursor)
    if unread_only:
        query = query.where(t.Notification.read_at.is_null())
    rows = await query.order_by(t.Notification.id, ascending=False).limit(limit + 1).run()
    items = [_item(row) for row in rows[:limit]]
    return items, (items[-1].id if len(rows) > limit else None)


async def get(user_id: int, notification_id: int) -> Item:
    row = (
        await t.Notification.select()
        .where(_mine(user_id) & (t.Notification.id == notification_id))
        .first()
        .run()
    )
    if row is None:
        raise NotFound("Notification {id} was not found.", id=notification_id)
    return _item(row)


async def mark_read(db: Database, user_id: int, notification_id: int, now: datetime) -> Item:
    """Mark one of the user's notifications read (again: it keeps its first read time)."""
    async with db.write_transaction():
        await (
            t.Notification.update({t.Notification.read_at: now})
            .where(
                _mine(user_id)
                & (t.Notification.id == notification_id)
                & t.Notification.read_at.is_null()
            )
            .run()
        )
        return await get(user_id, notification_id)


async def mark_all_read(db: Database, user_id: int, now: datetime) -> int:
    """Mark every unread notification of the user read; how many were unread."""
    async with db.write_transaction():
        done = (
            await t.Notification.update({t.Notification.read_at: now})
            .where(_mine(user_id) & t.Notification.read_at.is_null())
            .returning(t.Notification.id)
            .run()
        )
    return len(done)


# --- preferences ---------------------------------------------------------------------------


def topics_of(side: Side) -> tuple[Topic, ...]:
    return TOPICS_BY_SIDE[side]


async def stored_preferences(user_id: int) -> dict[str, Preference]:
    rows = (
        await t.NotificationPreference.select()
        .where(t.NotificationPreference.user_id == user_id)
        .run()
    )
    return {
        row["topic"]: Preference(in_app=row["in_app"], email=row["email"], digest=row["digest"])
        for row in rows
    }


async def preferences(user_id: int, side: Side) -> dict[Topic, Preference]:
    """Every topic of the side, in the order the page lists them: the user's choice, or the
    default for a topic never chosen."""
    stored = await stored_preferences(user_id)
    return {topic: stored.get(topic, DEFAULT_PREFERENCE) for topic in topics_of(side)}
