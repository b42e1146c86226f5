"""A sales order's timeline in a customer's words.

Only events whose audience includes customers are told (`readable`), whoever looks: our staff
opening the customer workspace see what the customer sees. Each kind the customer may read has
its own sentence; a kind this module does not know is left out rather than shown raw, and the
only data used are the keys named here, so a supplier, a purchase order or an internal note can
never reach the page through a field added later.

The guest status page is more limited still (`guest=True`): no comments and no names.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import msgspec

from portal.domain.actors import Side
from portal.domain.events import Event, EventKind
from portal.web.i18n import I18n
from portal.web.timeline import Fact


class CustomerEntry(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    at: datetime
    kind: str
    title: str
    facts: list[Fact]
    author: str = ""
    """Who wrote a comment; empty for everything else (the portal tells those)."""


CUSTOMER_KINDS = frozenset(
    {
        EventKind.SO_CREATED,
        EventKind.LINE_CONFIRMED,
        EventKind.EXPECTED_DATE_CHANGED,
        EventKind.SO_SHIPPED,
        EventKind.SO_DELIVERED,
        EventKind.SO_CLOSED,
        EventKind.SO_CANCELLED,
        EventKind.COMMENT_ADDED,
    }
)
"""What a customer is told about its order; the portal's own bookkeeping (a notification
sent, say) is not part of the order's story."""


def readable(events: list[Event]) -> list[Event]:
    """The events a customer may read and is told about, oldest first."""
    return [
        event
        for event in events
        if Side.CUSTOMER in event.audience and event.kind in CUSTOMER_KINDS
    ]


def customer_entries(
    events: list[Event], i18n: I18n, *, guest: bool = False
) -> list[CustomerEntry]:
    """Newest first, in the reader's language."""
    told = []
    for event in reversed(readable(events)):
        if guest and event.kind == EventKind.COMMENT_ADDED:
            continue
        found = _entry(event, i18n, guest=guest)
        if found is not None:
            told.append(found)
    return told


def _entry(event: Event, i18n: I18n, *, guest: bool) -> CustomerEntry | None:
    _ = i18n.gettext
    data = event.data
    kind = event.kind
    author = ""
    if kind == EventKind.SO_CREATED:
        title, facts = _("Order placed"), list(_placed(data, i18n))
    elif kind == EventKind.LINE_CONFIRMED:
        title = _("Order confirmed")
        facts = [Fact(_line(i18n, data["line_no"]), _expected_on(i18n, data["expected_date"]))]
    elif kind == EventKind.EXPECTED_DATE_CHANGED:
        title = _("Expected date changed")
        facts = [
            Fact(
                _line(i18n, data["line_no"]),
                i18n.date(data["after"]),
                i18n.date(data["before"]) if data.get("before") else None,
            )
        ]
        if data.get("cause"):
            facts.append(Fact(_("Why"), i18n.cause(data["cause"])))
    elif kind == EventKind.SO_SHIPPED:
        title, facts = _("Shipped"), list(_shipped(data, i18n))
    elif kind == EventKind.SO_DELIVERED:
        title = _("Delivered")
        facts = [Fact(_("Delivered on"), i18n.date(data["delivered_on"]))]
    elif kind == EventKind.SO_CLOSED:
        title, facts = _("Order completed"), []
    elif kind == EventKind.SO_CANCELLED:
        title, facts = _("Order cancelled"), []
        if data.get("reason") and not guest:
            facts.append(Fact(_("Reason"), str(data["reason"])))
    elif kind == EventKind.COMMENT_ADDED:
        title = _("Message")
        facts = [Fact(_("Message"), str(data.get("text", "")))]
        author = str(event.actor.get("name") or "")
    else:
        return None
    return CustomerEntry(
        seq=event.seq, at=event.at, kind=kind, title=title, facts=facts, author=author
    )


def _line(i18n: I18n, line_no: Any) -> str:
    return i18n.gettext("Line %(line_no)s") % {"line_no": line_no}


def _expected_on(i18n: I18n, day: str) -> str:
    return i18n.gettext("expected on %(date)s") % {"date": i18n.date(day)}


def _placed(data: dict[str, Any], i18n: I18n) -> Iterator[Fact]:
    for line in data.get("lines") or []:
        yield Fact(
            _line(i18n, line["line_no"]),
            i18n.gettext("%(item)s: %(quantity)s %(unit)s, expected on %(date)s")
            % {
                "item": line["item"],
                "quantity": i18n.number(line["quantity"]),
                "unit": line["unit"],
                "date": i18n.date(line["expected_date"]),
            },
        )


def _shipped(data: dict[str, Any], i18n: I18n) -> Iterator[Fact]:
    _ = i18n.gettext
    yield Fact(_("Carrier"), str(data.get("carrier", "")))
    if data.get("tracking_no"):
        yield Fact(_("Tracking number"), str(data["tracking_no"]))
    if data.get("shipped_on"):
        yield Fact(_("Shipped on"), i18n.date(data["shipped_on"]))
