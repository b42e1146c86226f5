"""Timeline events: their kinds, who may read them, and the hash chain that seals each stream.

An event is recorded by an aggregate while a command runs (`PendingEvent`); the unit of work
gives it its place in the stream (`seq`), its time and its hash when the transaction commits.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from portal.domain.actors import Actor, Side, Via

GENESIS_HASH = "0" * 64


class EventKind(StrEnum):
    """Past tense: an event says what happened."""

    PO_CREATED = "po.created"
    PO_ISSUED = "po.issued"
    PO_ACKNOWLEDGED = "po.acknowledged"
    PO_REJECTED = "po.rejected"
    PO_CANCELLED = "po.cancelled"
    PO_CLOSED = "po.closed"
    PROMISE_CHANGED = "line.promise_changed"
    CR_OPENED = "cr.opened"
    CR_APPROVED = "cr.approved"
    CR_AUTO_APPROVED = "cr.auto_approved"
    CR_REJECTED = "cr.rejected"
    CR_COUNTERED = "cr.countered"
    CR_WITHDRAWN = "cr.withdrawn"
    SHIPMENT_POSTED = "shipment.posted"
    SHIPMENT_CORRECTED = "shipment.corrected"
    SHIPMENT_CANCELLED = "shipment.cancelled"
    RECEIPT_RECORDED = "receipt.recorded"
    COMMENT_ADDED = "comment.added"
    SO_CREATED = "so.created"
    LINE_LINKED = "line.linked"
    EXPECTED_DATE_CHANGED = "line.expected_date_changed"
    LINE_CONFIRMED = "line.confirmed"  # a linked sales line's supplier acknowledged its order
    SO_SHIPPED = "so.shipped"
    SO_DELIVERED = "so.delivered"
    SO_CLOSED = "so.closed"
    SO_CANCELLED = "so.cancelled"
    ORG_CREATED = "org.created"
    ORG_UPDATED = "org.updated"
    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    USER_DISABLED = "user.disabled"
    USER_ENABLED = "user.enabled"
    CLIENT_REGISTERED = "client.registered"
    CLIENT_SECRET_ROTATED = "client.secret_rotated"
    CLIENT_DISABLED = "client.disabled"
    IDENTITY_PROVIDER_SET = "identity_provider.set"
    IDENTITY_PROVIDER_CLEARED = "identity_provider.cleared"
    NOTIFICATION_SENT = "notification.sent"
    WEBHOOK_CREATED = "webhook.created"
    WEBHOOK_UPDATED = "webhook.updated"
    WEBHOOK_SECRET_ROTATED = "webhook.secret_rotated"
    WEBHOOK_DISABLED = "webhook.disabled"
    WEBHOOK_ENABLED = "webhook.enabled"
    WEBHOOK_DELETED = "webhook.deleted"
    NOTIFICATION_PREFERENCES_CHANGED = "notification.preferences_changed"
    ALERT_RAISED = "alert.raised"
    ALERT_ESCALATED = "alert.escalated"
    ALERT_RESOLVED = "alert.resolved"
    SETTINGS_CHANGED = "settings.changed"  # alert thresholds, tolerance rules (org/<internal>)
    REASON_CODE_ADDED = "reason_code.added"
    REASON_CODE_CHANGED = "reason_code.changed"
    IMPORT_COMPLETED = "import.completed"  # an order import applied (org/<internal>)


def po_stream(number: str) -> str:
    return f"po/{number}"


def so_stream(number: str) -> str:
    return f"so/{number}"


def org_stream(code: str) -> str:
    """An organisation's administration: the organisation, its users, clients and provider."""
    return f"org/{code}"


def audience_for(stream: str, external: bool) -> tuple[Side, ...]:
    """Internal staff read everything; the other party of the stream reads what is external."""
    if not external:
        return (Side.INTERNAL,)
    partner = Side.SUPPLIER if stream.startswith("po/") else Side.CUSTOMER
    return (Side.INTERNAL, partner)


@dataclass(frozen=True, slots=True)
class PendingEvent:
    stream: str
    kind: EventKind
    actor: Actor
    data: dict[str, Any]
    audience: tuple[Side, ...]


@dataclass(frozen=True, slots=True)
class Event:
    """An event as it stands on the timeline."""

    stream: str
    seq: int
    at: datetime
    actor: dict[str, Any]
    via: Via
    kind: str
    data: dict[str, Any]
    audience: tuple[Side, ...]
    prev_hash: str
    hash: str


def plain(value: Any) -> Any:
    """Values as they are written in event data: JSON types only, decimals and dates as text."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def format_time(at: datetime) -> str:
    """UTC, microseconds, `Z`: the one spelling of a time that goes into a hash."""
    if at.tzinfo is None:
        raise ValueError("event times must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def encode_audience(audience: tuple[Side, ...]) -> str:
    return ",".join(side.value for side in audience)


def decode_audience(text: str) -> tuple[Side, ...]:
    return tuple(Side(part) for part in text.split(",") if part)


def canonical(
    *,
    stream: str,
    seq: int,
    at: datetime,
    actor: dict[str, Any],
    via: str,
    kind: str,
    data: dict[str, Any],
    audience: str,
    prev_hash: str,
) -> bytes:
    """The bytes that are hashed: sorted keys, no spaces, UTF-8, times in one spelling."""
    body = {
        "stream": stream,
        "seq": seq,
        "at": format_time(at),
        "actor": actor,
        "via": via,
        "kind": kind,
        "data": data,
        "audience": audience,
        "prev_hash": prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(**fields: Any) -> str:
    return hashlib.sha256(canonical(**fields)).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainBreak:
    stream: str
    seq: int
    reason: str


def verify_stream(
    stream: str, rows: list[Event], head_seq: int | None, head_hash: str | None
) -> ChainBreak | None:
    """The first place where a stream's history no longer matches its seals, if any.

    `rows` are in storage order by seq; `head_*` is what the stream table says its last
    event is, so that deleting the newest events is caught too.
    """
    prev = GENESIS_HASH
    for expected_seq, event in enumerate(rows, start=1):
        if event.seq != expected_seq:
            return ChainBreak(stream, expected_seq, f"event {expected_seq} is missing")
        if event.prev_hash != prev:
            return ChainBreak(stream, event.seq, "does not follow the event before it")
        computed = chain_hash(
            stream=event.stream,
            seq=event.seq,
            at=event.at,
            actor=event.actor,
            via=event.via.value,
            kind=event.kind,
            data=event.data,
            audience=encode_audience(event.audience),
            prev_hash=event.prev_hash,
        )
        if computed != event.hash:
            return ChainBreak(stream, event.seq, "its content was altered")
        prev = event.hash
    last_seq = len(rows)
    if head_seq is not None and head_seq != last_seq:
        return ChainBreak(stream, last_seq + 1, f"event {last_seq + 1} is missing")
    if head_hash is not None and head_hash != prev:
        return ChainBreak(stream, last_seq, "is not the last event the stream recorded")
    return None
