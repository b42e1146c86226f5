"""The transactional outbox: each committed order event, written in the same transaction as the
event itself, waits here until the dispatcher has turned it into notifications.

Only order events go in (purchase and sales orders): they are what people are told about. The
dispatcher's own `notification.sent` entries never do, or telling would never end.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from portal.db import tables as t
from portal.db.codec import dump
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


# --- What the outbox becomes -------------------------------------------------------------------
# The rows a notification is made of, built in one place for the dispatcher's fan-out and for the
# notices the system writes itself (a disabled webhook), so both read the same to the centre and
# to the e-mail sender.


def _address_id(address: str) -> str:
    return hashlib.sha256(address.lower().encode()).hexdigest()[:16]


def delivery_key(stream: str, seq: int, channel: str, reader: str) -> str:
    """Unique per event and recipient: the same event never becomes two deliveries to one
    target. A contact address is hashed (the key column is short, and it is not a secret)."""
    if reader.startswith("contact:"):
        reader = "contact:" + _address_id(reader.removeprefix("contact:"))
    return f"{stream}:{seq}:{channel}:{reader}"


def in_app(
    user_id: int,
    topic: str,
    *,
    stream: str,
    seq: int,
    kind: str,
    number: str,
    data: dict[str, Any],
    now: datetime,
) -> t.Notification:
    """One user's in-app notification of one event."""
    return t.Notification(
        user_id=user_id,
        topic=topic,
        stream=stream,
        seq=seq,
        kind=kind,
        data=dump({"number": number, "event": data}),
        created_at=now,
    )


def email(
    target: str,
    org: str,
    topic: str,
    *,
    stream: str,
    number: str,
    side: str,
    event: dict[str, Any],
    now: datetime,
    next_at: datetime | None = None,
    **extra: Any,
) -> t.Delivery:
    """One e-mail to send about `event` ({"kind", "seq", "at", "data"}) of `stream`; `extra`
    goes into the payload too (the order's version, whether it waits for the digest)."""
    return t.Delivery(
        key=delivery_key(stream, event["seq"], "email", target),
        channel="email",
        target=target,
        org=org,
        stream=stream,
        seq=event["seq"],
        kind=event["kind"],
        payload=dump({"topic": topic, "number": number, "side": side, **extra, "event": event}),
        next_at=next_at or now,
        created_at=now,
    )
