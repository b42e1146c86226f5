"""The transactional outbox: each committed order event, written in the same transaction as the
event itself, waits here until the dispatcher has turned it into notifications.

Only order events go in (purchase and sales orders): they are what people are told about. The
dispatcher's own `notification.sent` entries never do, or telling would never end.
"""

from __future__ import annotations

from portal.db import tables as t
from portal.domain.events import Event, EventKind

NOTIFIED_STREAMS = ("po/", "so/")


def notifiable(event: Event) -> bool:
    return event.stream.startswith(NOTIFIED_STREAMS) and event.kind != EventKind.NOTIFICATION_SENT


async def add(events: list[Event]) -> None:
    """Inside the command's transaction: one outbox row per notifiable event."""
    rows = [
        t.Outbox(stream=event.stream, seq=event.seq, kind=event.kind, created_at=event.at)
        for event in events
        if notifiable(event)
    ]
    if rows:
        await t.Outbox.insert(*rows).run()
