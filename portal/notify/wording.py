"""The words of one notification: a title, a body and the reader's page for it.

A notification stores only codes and the event's data (`t.Notification.topic`, `kind`, `data`);
its words are written when it is read — in the notification centre, in an e-mail, in a digest —
in the reader's language and time zone. Everything here is written for one side: a customer
reads of "the order", never of the supplier behind it or of its people, and reads why a date
moved in the general words of `labels.CAUSES` only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from portal.domain.actors import Side
from portal.domain.errors import Phrase
from portal.domain.events import EventKind
from portal.domain.notifications import Topic
from portal.i18n import labels
from portal.web.i18n import I18n


@dataclass(frozen=True, slots=True)
class Described:
    title: str
    body: str
    path: str  # the reader's page for it, e.g. /orders/SO-2026-00012


Words = tuple[Phrase, Phrase | str | None]
"""A title and a body, still to be said in the reader's language (a str is said as it is)."""


def describe(
    topic: str,
    kind: str,
    number: str,
    data: Mapping[str, Any],
    i18n: I18n,
    side: Side,
    *,
    stream: str | None = None,
) -> Described:
    """What a reader of `side` reads of one notification, in `i18n`'s language and time zone.

    `data` is the event's data as recorded, or a notification's data (`{"number", "event"}`, as
    the dispatcher stores it). `stream` (po/... or so/...), when the caller knows it, picks our
    staff's page where the topic alone does not tell a purchase from a sales order (comments).
    """
    event = data.get("event")
    facts: Mapping[str, Any] = event if isinstance(event, Mapping) else data
    number = number or str(data.get("number") or "")
    write = _WRITERS.get(kind)
    if write is None:
        # A kind this module has no words for yet: its label, never its data (the data may
        # hold what this reader must not read).
        title, body = _any_event(kind, number, i18n), None
    else:
        title, body = write(facts, number, i18n, side)
    return Described(
        title=i18n.explain(title),
        body=body if isinstance(body, str) else i18n.explain(body) if body else "",
        path=page_for(topic, kind, number, side, stream),
    )


def page_for(topic: str, kind: str, number: str, side: Side, stream: str | None = None) -> str:
    """The reader's own page for the order (or, for a disabled webhook, for its webhooks)."""
    if topic == Topic.WEBHOOK_DISABLED or kind == EventKind.WEBHOOK_DISABLED or not number:
        return "/notifications/webhooks"
    key = quote(number, safe="")
    if side == Side.CUSTOMER:
        return f"/orders/{key}"
    if side == Side.SUPPLIER:
        return f"/supplier/purchase-orders/{key}"
    if _is_sales(topic, kind, number, stream):
        return f"/sales-orders/{key}"
    return f"/purchase-orders/{key}"


def _is_sales(topic: str, kind: str, number: str, stream: str | None) -> bool:
    if stream:
        return stream.startswith("so/")
    if kind.startswith("so.") or kind in (
        EventKind.EXPECTED_DATE_CHANGED,
        EventKind.LINE_CONFIRMED,
    ):
        return True
    if topic in (Topic.EXPECTED_DATE_MOVED, Topic.SHIPPED, Topic.DELIVERED, Topic.ORDER_CONFIRMED):
        return True
    # A comment: the topic does not say which order; numbers are SO-... / PO-... by default.
    return number.upper().startswith("SO")


# --- one writer per event kind -------------------------------------------------------------

Writer = Callable[[Mapping[str, Any], str, I18n, Side], Words]


def _line_confirmed(data: Mapping[str, Any], number: str, i18n: I18n, side: Side) -> Words:
    title = Phrase("Order {number} confirmed", number=number)
    line_no, expected = data.get("line_no"), data.get("expected_date") or data.get("after")
    if line_no and expected:
        return title, Phrase(
            "Line {line_no} is confirmed; expected on {date}.",
            line_no=line_no,
            date=i18n.date(str(expected)),
        )
    if line_no:
        return title, Phrase("Line {line_no} is confirmed.", line_no=line_no)
    return title, Phrase("Your order is confirmed.")


def _expected_date(data: Mapping[str, Any], number: str, i18n: I18n, side: Side) -> Words:
    before, after, line_no = data.get("before"), data.get("after"), data.get("line_no")
    if before and after:
        body = Phrase(
            "Order {number}: expected date moved from {before} to {after} (line {line_no}).",
            number=number,
            before=i18n.date(str(before)),
            after=i18n.date(str(after)),
            line_no=line_no,
        )
    elif after:
        body = Phrase(
            "Order {number}: expected on {after} (line {line_no}).",
            number=number,
            after=i18n.date(str(after)),
            line_no=line_no,
        )
    else:
        body = Phrase(
            "Order {number}: the expected date of line {line_no} is not known any more "
            "(it was {before}).",
            number=number,
            before=i18n.date(str(before or "")),
            line_no=line_no,
        )
    cause = data.get("cause")
    if cause:
        # labels.CAUSES are written for customers; any other code is not shown to them.
        body = Phrase("{text} Reason: {cause}.", text=body, cause=i18n.cause(str(cause)))
    return Phrase("Order {number}: expected date moved", number=number), body


def _so_shipped(data: Mapping[str, Any], number: str, i18n: I18n, side: Side) -> Words:
    title = Phrase("Order {number} shipped", number=number)
    carrier, tracking = str(data.get("carrier") or ""), str(data.get("tracking_no") or "")
    shipped_on = i18n.date(str(data.get("shipped_on") or ""))
    if tracking:
        body = Phrase(
            "Shipped on {date} with {carrier}, tracking number {tracking_no}.",
            date=shipped_on,
            carrier=carrier,
            tracking_no=tracking,
        )
    else:
        body = Phrase("Shipped on {date} with {carrier}.", date=shipped_on, carrier=carrier)
    return title, body


def _so_delivered(data: Mapping[str, Any], number: str, i18n: I18n, side: Side) -> Words:
    return Phrase("Order {number} delivered", number=number), Phrase(
        "Delivered on {date}.", date=i18n.date(str(data.get("delivered_on") or ""))
    )


def _so_cancelled(data: Mapping[str, Any], number: str, i18n: I18n, side: Side) -> Words:
    return Phrase("Order {number} cancelled", number=number), _reason(data.get("reason"))


def _comment(data: Mapping[str, Any], number: str, i18n: I18n, side: Side) -> Words:
    # The text is what the other party wrote; nobody is named, so a customer reads "us".
    return Phrase("New comment on order {number}", number=number), str(data.get("text") or "")


def _po_issued(data: Mapping[str, Any], number: str, i18n: I18n, side: Side) -> Words:
    lines = [line for line in data.get("lines") or [] if isinstance(line, Mapping)]
    needed = sorted(str(line["need_date"]) for line in lines if line.get("need_date"))
    title = Phrase("New purchase order {number}", number=number)
    if not lines:
        return title, Phrase("Please acknowledge it.")
    count = i18n.ngettext(
        "{count} line, needed from {date}.", "{count} lines, needed from {date}.", len(lines)
    )
    return title, Phrase(
        "{lines} Please acknowledge it.",
        lines=_said(count, count=len(lines), date=i18n.date(needed[0]) if needed else "—"),
    )


def _po_cancelled(data: Mapping[str, Any], number: str, i18n: I18n, side: Side) -> Words:
    return Phrase("Purchase order {number} cancelled", number=number), _reason(data.get("reason"))


def _acknowledged(data: Mapping[str, Any], number: str, i18n: I18n, side: Side) -> Words:
    decision = str(data.get("decision") or "accepted")
    title = Phrase(
        "Purchase order {number}: {decision}", number=number, decision=i18n.decision(decision)
    )
    changed = data.get("changed_lines") or []
    if decision == "accepted_with_changes" and changed:
        return title, Phrase(
            "The supplier changed lines {lines}.", lines=", ".join(str(n) for n in changed)
        )
    return title, Phrase("The supplier accepted the order as issued.")


def _po_rejected(data: Mapping[str, Any], number: str, i18n: I18n, side: Side) -> Words:
    title = Phrase(
        "Purchase order {number}: {decision}", number=number, decision=i18n.decision("rejected")
    )
    return title, _reason(data.get("reason"))


def _promise_changed(data: Mapping[str, Any], number: str, i18n: I18n, side: Side) -> Words:
    line_no = data.get("line_no")
    title = Phrase(
        "Purchase order {number}: promise moved (line {line_no})", number=number, line_no=line_no
    )
    after = _schedule(data.get("after"), i18n)
    if data.get("before"):
        body = Phrase(
            "Promised {before}, now {after}.", before=_schedule(data["before"], i18n), after=after
        )
    else:
        body = Phrase("Promised {after}.", after=after)
    if data.get("reason_code"):
        body = Phrase(
            "{text} Reason: {reason}.", text=body, reason=i18n.reason(str(data["reason_code"]))
        )
    if data.get("comment"):
        body = Phrase("{text} “{comment}”", text=body, comment=str(data["comment"]))
    return title, body


def _cr_opened(data: Mapping[str, Any], number: str, i18n: I18n, side: Side) -> Words:
    title = Phrase(
        "Change request {request} on order {number}",
        request=str(data.get("number") or ""),
        number=number,
    )
    changes = ", ".join(
        _said(
            i18n.gettext("line {line_no}: {kind}"),
            line_no=change.get("line_no"),
            kind=i18n.change_kind(str(change.get("kind") or "")),
        )
        for change in data.get("changes") or []
        if isinstance(change, Mapping)
    )
    body = Phrase("Proposed: {changes}.", changes=changes or "—")
    if data.get("reason_code"):
        body = Phrase(
            "{text} Reason: {reason}.", text=body, reason=i18n.reason(str(data["reason_code"]))
        )
    if data.get("comment"):
        body = Phrase("{text} “{comment}”", text=body, comment=str(data["comment"]))
    return title, body


def _cr_countered(data: Mapping[str, Any], number: str, i18n: I18n, side: Side) -> Words:
    return Phrase(
        "Change request {request} countered",
        request=str(data.get("number") or ""),
    ), Phrase(
        "Order {number}: change request {request} is answered with {counter}.",
        number=number,
        request=str(data.get("number") or ""),
        counter=str(data.get("countered_by") or ""),
    )


def _cr_decided(verdict: str) -> Writer:
    def title_of(request: str) -> Phrase:
        # Each template literal, so the catalogue extracts it.
        if verdict == "approved":
            return Phrase("Change request {request} approved", request=request)
        if verdict == "auto_approved":
            return Phrase("Change request {request} approved automatically", request=request)
        if verdict == "rejected":
            return Phrase("Change request {request} rejected", request=request)
        return Phrase("Change request {request} withdrawn", request=request)

    def write(data: Mapping[str, Any], number: str, i18n: I18n, side: Side) -> Words:
        request = str(data.get("number") or "")
        title = title_of(request)
        note = data.get("reason") or data.get("comment")
        if note:
            return title, Phrase("Order {number}: “{note}”", number=number, note=str(note))
        return title, Phrase("Order {number}.", number=number)

    return write


def _shipment_posted(data: Mapping[str, Any], number: str, i18n: I18n, side: Side) -> Words:
    shipment = data.get("shipment") or {}
    title = Phrase(
        "Purchase order {number}: shipment {shipment} posted",
        number=number,
        shipment=str(shipment.get("number") or ""),
    )
    return title, _shipment_body(shipment, i18n)


def _shipment_corrected(data: Mapping[str, Any], number: str, i18n: I18n, side: Side) -> Words:
    title = Phrase(
        "Purchase order {number}: shipment {shipment} corrected",
        number=number,
        shipment=str(data.get("number") or ""),
    )
    body = _shipment_body(data.get("after") or {}, i18n)
    if data.get("reason"):
        body = Phrase("{text} Reason: {reason}.", text=body, reason=str(data["reason"]))
    return title, body


def _shipment_cancelled(data: Mapping[str, Any], number: str, i18n: I18n, side: Side) -> Words:
    title = Phrase(
        "Purchase order {number}: shipment {shipment} cancelled",
        number=number,
        shipment=str(data.get("number") or ""),
    )
    return title, _reason(data.get("reason"))


def _webhook_disabled(data: Mapping[str, Any], number: str, i18n: I18n, side: Side) -> Words:
    body = Phrase(
        "Deliveries to {url} failed too often, so they were stopped.",
        url=str(data.get("url") or ""),
    )
    if data.get("reason"):
        body = Phrase("{text} Last error: {reason}", text=body, reason=str(data["reason"]))
    return Phrase("Webhook disabled"), body


def _alert(state: str) -> Writer:
    def title_of(number: str, rule: str) -> Phrase:
        # Each template literal, so the catalogue extracts it.
        if state == "raised":
            return Phrase("Alert on order {number}: {rule}", number=number, rule=rule)
        if state == "escalated":
            return Phrase("Alert escalated on order {number}: {rule}", number=number, rule=rule)
        return Phrase("Alert resolved on order {number}: {rule}", number=number, rule=rule)

    def write(data: Mapping[str, Any], number: str, i18n: I18n, side: Side) -> Words:
        code = str(data.get("rule") or "")
        label = labels.ALERT_RULES.get(code)
        title = title_of(number, i18n.gettext(label) if label else code)
        subject = str(data.get("subject") or "")
        if state == "resolved":
            return title, Phrase("{subject}: the condition has cleared.", subject=subject)
        return title, Phrase(
            "{subject}: {hours} hours late, due {due}.",
            subject=subject,
            hours=int(data.get("hours_late") or 0),
            due=i18n.datetime(str(data.get("due_at") or "")) if data.get("due_at") else "—",
        )

    return write


def _any_event(kind: str, number: str, i18n: I18n) -> Phrase:
    # The label is a catalogue message already (labels.EVENT_KINDS): translated here; an
    # unknown kind is shown as it is.
    label = labels.EVENT_KINDS.get(kind)
    what = i18n.gettext(label) if label else kind
    if number:
        return Phrase("Order {number}: {what}", number=number, what=what)
    return Phrase("{what}", what=what)


_WRITERS: dict[str, Writer] = {
    EventKind.LINE_CONFIRMED: _line_confirmed,
    EventKind.EXPECTED_DATE_CHANGED: _expected_date,
    EventKind.SO_SHIPPED: _so_shipped,
    EventKind.SO_DELIVERED: _so_delivered,
    EventKind.SO_CANCELLED: _so_cancelled,
    EventKind.COMMENT_ADDED: _comment,
    EventKind.PO_ISSUED: _po_issued,
    EventKind.PO_CANCELLED: _po_cancelled,
    EventKind.PO_ACKNOWLEDGED: _acknowledged,
    EventKind.PO_REJECTED: _po_rejected,
    EventKind.PROMISE_CHANGED: _promise_changed,
    EventKind.CR_OPENED: _cr_opened,
    EventKind.CR_COUNTERED: _cr_countered,
    EventKind.CR_APPROVED: _cr_decided("approved"),
    EventKind.CR_AUTO_APPROVED: _cr_decided("auto_approved"),
    EventKind.CR_REJECTED: _cr_decided("rejected"),
    EventKind.CR_WITHDRAWN: _cr_decided("withdrawn"),
    EventKind.SHIPMENT_POSTED: _shipment_posted,
    EventKind.SHIPMENT_CORRECTED: _shipment_corrected,
    EventKind.SHIPMENT_CANCELLED: _shipment_cancelled,
    EventKind.WEBHOOK_DISABLED: _webhook_disabled,
    EventKind.ALERT_RAISED: _alert("raised"),
    EventKind.ALERT_ESCALATED: _alert("escalated"),
    EventKind.ALERT_RESOLVED: _alert("resolved"),
}


# --- pieces --------------------------------------------------------------------------------


def _reason(reason: object) -> Phrase | None:
    return Phrase("Reason: {reason}", reason=str(reason)) if reason else None


def _shipment_body(shipment: Mapping[str, Any], i18n: I18n) -> Phrase:
    ship_date = i18n.date(str(shipment.get("ship_date") or ""))
    carrier, tracking = str(shipment.get("carrier") or ""), str(shipment.get("tracking_no") or "")
    if tracking:
        return Phrase(
            "Shipped on {date} with {carrier}, tracking number {tracking_no}.",
            date=ship_date,
            carrier=carrier,
            tracking_no=tracking,
        )
    return Phrase("Shipped on {date} with {carrier}.", date=ship_date, carrier=carrier)


def _schedule(rows: object, i18n: I18n) -> str:
    """A delivery schedule in a few words: one date, or "10 on 3 Dec, 5 on 10 Dec"."""
    if not isinstance(rows, list) or not rows:
        return "—"
    if len(rows) == 1:
        return i18n.date(str(rows[0].get("date") or ""))
    return ", ".join(
        _said(
            i18n.gettext("{quantity} on {date}"),
            quantity=i18n.number(str(row.get("quantity") or "0")),
            date=i18n.date(str(row.get("date") or "")),
        )
        for row in rows
    )


def _said(translated: str, **values: Any) -> str:
    """Fill an already translated template; a translator's broken placeholder shows the
    values rather than failing the page or the e-mail."""
    try:
        return translated.format(**values)
    except (KeyError, IndexError, ValueError):
        return " ".join(str(value) for value in values.values())
