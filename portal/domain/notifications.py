"""Which events people hear about, on which channel, and how deliveries are retried.

Pure rules, no database: the dispatcher asks `topic_for` who of a stream's parties hears of an
event, looks up each reader's `Preference`, and schedules retries with `retry_delay`.

A topic is what a user chooses to hear about (the notification centre's preferences list them
per side); an event kind maps to at most one topic per reader side. Nobody is told about their
own change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from portal.domain.actors import Side
from portal.domain.events import EventKind


class Topic(StrEnum):
    # What a customer hears about its sales orders.
    ORDER_CONFIRMED = "order_confirmed"
    EXPECTED_DATE_MOVED = "expected_date_moved"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMMENT = "comment"  # a comment from the other party (for a customer: from us)
    # What a supplier hears about its purchase orders.
    NEW_PURCHASE_ORDER = "new_purchase_order"
    CHANGE_REQUEST = "change_request"  # opened, countered or decided by the other side
    ORDER_CANCELLED = "order_cancelled"
    # What our staff hear: buyers about purchase orders, sales about sales orders.
    ACKNOWLEDGEMENT = "acknowledgement"
    PROMISE_MOVED = "promise_moved"
    SHIPMENT = "shipment"
    WEBHOOK_DISABLED = "webhook_disabled"  # an organisation's admins: an endpoint was disabled
    ALERT = "alert"  # an early warning on an order we own (escalated: the managers too)


class Channel(StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"


TOPICS_BY_SIDE: dict[Side, tuple[Topic, ...]] = {
    Side.CUSTOMER: (
        Topic.ORDER_CONFIRMED,
        Topic.EXPECTED_DATE_MOVED,
        Topic.SHIPPED,
        Topic.DELIVERED,
        Topic.COMMENT,
    ),
    Side.SUPPLIER: (
        Topic.NEW_PURCHASE_ORDER,
        Topic.CHANGE_REQUEST,
        Topic.ORDER_CANCELLED,
        Topic.COMMENT,
    ),
    Side.INTERNAL: (
        Topic.ACKNOWLEDGEMENT,
        Topic.PROMISE_MOVED,
        Topic.CHANGE_REQUEST,
        Topic.SHIPMENT,
        Topic.EXPECTED_DATE_MOVED,
        Topic.COMMENT,
        Topic.ALERT,
    ),
}
"""The topics a user of each side may choose from, in the order the preferences page lists them.
WEBHOOK_DISABLED is not a choice: an organisation's admins are always told."""


@dataclass(frozen=True, slots=True)
class Preference:
    """A user's choice for one topic."""

    in_app: bool = True
    email: bool = True
    digest: bool = False  # e-mail once a day instead of at once

    def wants(self, channel: Channel) -> bool:
        return self.in_app if channel == Channel.IN_APP else self.email


DEFAULT_PREFERENCE = Preference()
"""A topic nobody chose for yet: in the app and by e-mail, at once."""

ROUTED_KINDS = frozenset(
    {EventKind.ALERT_RAISED, EventKind.ALERT_ESCALATED, EventKind.ALERT_RESOLVED}
)
"""Events whose data names their recipients (user ids under "recipients"): the alerts, told
to the order's owner and, once escalated, to the managers, not to everybody of the side."""

_CUSTOMER: dict[str, Topic] = {
    EventKind.LINE_CONFIRMED: Topic.ORDER_CONFIRMED,
    EventKind.EXPECTED_DATE_CHANGED: Topic.EXPECTED_DATE_MOVED,
    EventKind.SO_SHIPPED: Topic.SHIPPED,
    EventKind.SO_DELIVERED: Topic.DELIVERED,
    EventKind.COMMENT_ADDED: Topic.COMMENT,
}
_SUPPLIER: dict[str, Topic] = {
    EventKind.PO_ISSUED: Topic.NEW_PURCHASE_ORDER,
    EventKind.CR_OPENED: Topic.CHANGE_REQUEST,
    EventKind.CR_COUNTERED: Topic.CHANGE_REQUEST,
    EventKind.CR_APPROVED: Topic.CHANGE_REQUEST,
    EventKind.CR_REJECTED: Topic.CHANGE_REQUEST,
    EventKind.PO_CANCELLED: Topic.ORDER_CANCELLED,
    EventKind.COMMENT_ADDED: Topic.COMMENT,
}
_INTERNAL_PO: dict[str, Topic] = {
    EventKind.PO_ACKNOWLEDGED: Topic.ACKNOWLEDGEMENT,
    EventKind.PO_REJECTED: Topic.ACKNOWLEDGEMENT,
    EventKind.PROMISE_CHANGED: Topic.PROMISE_MOVED,
    EventKind.CR_OPENED: Topic.CHANGE_REQUEST,
    EventKind.CR_COUNTERED: Topic.CHANGE_REQUEST,
    EventKind.CR_WITHDRAWN: Topic.CHANGE_REQUEST,
    EventKind.CR_APPROVED: Topic.CHANGE_REQUEST,
    EventKind.CR_REJECTED: Topic.CHANGE_REQUEST,
    EventKind.SHIPMENT_POSTED: Topic.SHIPMENT,
    EventKind.SHIPMENT_CORRECTED: Topic.SHIPMENT,
    EventKind.SHIPMENT_CANCELLED: Topic.SHIPMENT,
    EventKind.COMMENT_ADDED: Topic.COMMENT,
}
_INTERNAL_SO: dict[str, Topic] = {
    EventKind.EXPECTED_DATE_CHANGED: Topic.EXPECTED_DATE_MOVED,
    EventKind.COMMENT_ADDED: Topic.COMMENT,
}


def topic_for(
    kind: str, stream: str, reader: Side, author: Side, audience: tuple[Side, ...]
) -> Topic | None:
    """What a reader of `reader`'s side hears of an event, or None.

    Only events the reader may read at all (its side is in the audience), and, for the outside
    parties, only what the other side did: a supplier is not told of its own acknowledgement.
    Our staff hear of what the outside parties did, and of expected dates the system moved.
    """
    if reader not in audience and reader != Side.INTERNAL:
        return None
    if kind in ROUTED_KINDS:
        return Topic.ALERT if reader == Side.INTERNAL else None
    is_po = stream.startswith("po/")
    if reader == Side.CUSTOMER:
        if is_po or author == Side.CUSTOMER:
            return None
        return _CUSTOMER.get(kind)
    if reader == Side.SUPPLIER:
        if not is_po or author == Side.SUPPLIER:
            return None
        return _SUPPLIER.get(kind)
    if is_po:
        return _INTERNAL_PO.get(kind) if author == Side.SUPPLIER else None
    if kind == EventKind.EXPECTED_DATE_CHANGED:
        return Topic.EXPECTED_DATE_MOVED  # the system moved it: sales must know
    return _INTERNAL_SO.get(kind) if author == Side.CUSTOMER else None


RETRY_DELAYS = (
    timedelta(seconds=10),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
)
"""Waits between tries; after the last, every further try waits the last delay again."""

GIVE_UP_AFTER = 30
"""Tries before a delivery is marked failed: with the delays above, more than a day."""

WEBHOOK_DISABLE_AFTER = 20
"""Consecutive failed deliveries after which a webhook endpoint is disabled and its
organisation's admins are told."""


def retry_delay(attempts: int) -> timedelta:
    """How long to wait before the next try, after `attempts` failed ones (at least 1)."""
    return RETRY_DELAYS[min(max(attempts, 1), len(RETRY_DELAYS)) - 1]
