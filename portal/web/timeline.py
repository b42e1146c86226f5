"""A timeline event as a reader sees it: when, who, through which channel, what happened, and
what changed from what to what — in the reader's language.

Event data is what the domain recorded (see portal/domain); this module knows its keys. A key it
does not know is left out rather than shown raw, so an internal detail never leaks by accident.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import msgspec

from portal.domain.events import Event
from portal.web.i18n import I18n


class Fact(msgspec.Struct, frozen=True):
    label: str
    value: str
    before: str | None = None
    """Set when the fact is a change: `before` → `value`."""


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    at: datetime
    actor: str
    via: str
    kind: str
    title: str
    facts: list[Fact]


def entries(events: list[Event], i18n: I18n) -> list[Entry]:
    """Newest first: the latest change is what a reader opens the page for."""
    return [entry(event, i18n) for event in reversed(events)]


def entry(event: Event, i18n: I18n) -> Entry:
    name = str(event.actor.get("name") or "")
    if event.actor.get("kind") == "system":
        name = i18n.gettext("Portal (automatic)")
    return Entry(
        seq=event.seq,
        at=event.at,
        actor=name,
        via=i18n.via(event.via.value),
        kind=event.kind,
        title=i18n.event_kind(event.kind),
        facts=list(_Describer(i18n).facts(event.data)),
    )


class _Describer:
    def __init__(self, i18n: I18n) -> None:
        self.i18n = i18n
        self._ = i18n.gettext

    def facts(self, data: dict[str, Any]) -> Iterator[Fact]:
        """What identifies the change, then what changed, then why and anything said."""
        yield from self._texts(data, self._head())
        status = data.get("status")
        # A partial shipment or receipt leaves the status as it was: nothing to tell.
        if isinstance(status, dict) and status["before"] != status["after"]:
            yield Fact(
                self._("Status"),
                self.i18n.status(status["after"]),
                self.i18n.status(status["before"]),
            )
        if "line_no" in data and "after" in data:
            yield self._line_change(data)
        for line in data.get("lines") or []:
            yield self._line(line)
        if data.get("changed_lines"):
            yield Fact(
                self._("Lines with changes"), ", ".join(str(no) for no in data["changed_lines"])
            )
        for change in data.get("changes") or []:
            yield self._change(change)
        for change in data.get("applied") or []:
            yield self._applied(change)
        if isinstance(data.get("shipment"), dict):
            yield from self._shipment(data["shipment"])
        if isinstance(data.get("receipt"), dict):
            yield from self._receipt(data["receipt"])
        for line in data.get("short") or []:
            yield self._short(line)
        if data.get("change_requests_closed"):
            yield Fact(self._("Change requests closed"), ", ".join(data["change_requests_closed"]))
        yield from self._texts(data, self._tail())

    def _texts(
        self, data: dict[str, Any], keys: dict[str, tuple[str, Callable[[Any], str]]]
    ) -> Iterator[Fact]:
        for key, (label, write) in keys.items():
            value = data.get(key)
            if value not in (None, ""):
                yield Fact(label, write(value))

    def _head(self) -> dict[str, tuple[str, Callable[[Any], str]]]:
        _ = self._
        return {
            "number": (_("Change request"), str),
            "supplier": (_("Supplier"), str),
            "customer": (_("Customer"), str),
            "currency": (_("Currency"), str),
            "decision": (_("Decision"), self.i18n.decision),
        }

    def _tail(self) -> dict[str, tuple[str, Callable[[Any], str]]]:
        _ = self._
        return {
            "carrier": (_("Carrier"), str),
            "tracking_no": (_("Tracking number"), str),
            "shipped_on": (_("Shipped on"), self.i18n.date),
            "delivered_on": (_("Delivered on"), self.i18n.date),
            "handling_days": (_("Handling days"), str),
            "countered_by": (_("Countered by"), str),
            "supersedes": (_("Supersedes"), str),
            "due_at": (_("Decision due"), self.i18n.datetime),
            "cause": (_("Because"), self.i18n.cause),
            "reason_code": (_("Reason"), self.i18n.reason),
            "reason": (_("Reason"), str),
            "comment": (_("Comment"), str),
            "text": (_("Comment"), str),
        }

    def line_label(self, line_no: Any, what: str | None = None) -> str:
        """`Line 2`, or `Line 2: Promised date` when it is about one thing on the line."""
        if what is None:
            return self._("Line %(line_no)s") % {"line_no": line_no}
        return self._("Line %(line_no)s: %(what)s") % {"line_no": line_no, "what": what}

    def schedule(self, rows: list[dict[str, Any]] | None) -> str:
        if not rows:
            return self._("none yet")
        return "; ".join(
            self._("%(quantity)s on %(date)s")
            % {"quantity": self.i18n.number(row["quantity"]), "date": self.i18n.date(row["date"])}
            for row in rows
        )

    def _line_change(self, data: dict[str, Any]) -> Fact:
        """A promise, an expected date or a link that moved on one line."""
        _ = self._
        after, before = data["after"], data.get("before")
        if isinstance(after, list):
            return Fact(
                self.line_label(data["line_no"], _("Promised date")),
                self.schedule(after),
                self.schedule(before),
            )
        if isinstance(after, dict):

            def linked(ref: dict[str, Any]) -> str:
                return _("%(number)s line %(line_no)s") % {
                    "number": ref["po_number"],
                    "line_no": ref["line_no"],
                }

            return Fact(
                self.line_label(data["line_no"], _("Purchase order line")),
                linked(after),
                linked(before) if before else None,
            )
        return Fact(
            self.line_label(data["line_no"], _("Expected date")),
            self.i18n.date(after),
            self.i18n.date(before),
        )

    def _line(self, line: dict[str, Any]) -> Fact:
        """A line as issued, created or acknowledged."""
        _ = self._
        if "promise" in line:
            return Fact(
                self.line_label(line["line_no"], _("Promised date")),
                self.schedule(line["promise"]),
            )
        parts = [
            _("%(item)s: %(quantity)s %(unit)s")
            % {
                "item": line["item"],
                "quantity": self.i18n.number(line["quantity"]),
                "unit": line["unit"],
            }
        ]
        if line.get("need_date"):
            parts.append(_("need date %(date)s") % {"date": self.i18n.date(line["need_date"])})
        if line.get("requested_date"):
            parts.append(_("requested %(date)s") % {"date": self.i18n.date(line["requested_date"])})
        return Fact(self.line_label(line["line_no"]), _(", ").join(parts))

    def _value(self, kind: str, value: Any) -> str:
        if value is None:
            return self._("none yet")
        if kind in ("date", "promise"):
            return self.schedule(value)
        if kind in ("quantity", "price"):
            return self.i18n.number(value)
        if kind == "cancel":
            return self._("cancelled") if value else self._("open")
        return str(value)

    def _change(self, change: dict[str, Any]) -> Fact:
        """One change a change request proposes."""
        kind = change.get("kind", "")
        value = {
            "quantity": change.get("quantity"),
            "date": change.get("schedule"),
            "price": change.get("unit_price"),
            "item": change.get("item"),
            "cancel": True,
        }.get(kind)
        return Fact(
            self.line_label(change["line_no"], self.i18n.change_kind(kind)),
            self._value(kind, value),
        )

    def _applied(self, change: dict[str, Any]) -> Fact:
        """One change an approved request made, from what to what."""
        kind = change.get("kind", "")
        return Fact(
            self.line_label(change["line_no"], self.i18n.change_kind(kind)),
            self._value(kind, change.get("after")),
            self._value(kind, change.get("before")),
        )

    def _short(self, line: dict[str, Any]) -> Fact:
        """A line closed before all of it arrived."""
        return Fact(
            self.line_label(line["line_no"], self._("Closed short")),
            self._("%(received)s of %(quantity)s received")
            % {
                "received": self.i18n.number(line["received"]),
                "quantity": self.i18n.number(line["quantity"]),
            },
        )

    def _shipment(self, shipment: dict[str, Any]) -> Iterator[Fact]:
        _ = self._
        yield Fact(_("Shipment"), shipment["number"])
        yield Fact(_("Carrier"), shipment["carrier"])
        if shipment.get("tracking_no"):
            yield Fact(_("Tracking number"), shipment["tracking_no"])
        yield Fact(_("Ship date"), self.i18n.date(shipment["ship_date"]))
        if shipment.get("expected_arrival"):
            yield Fact(_("Expected arrival"), self.i18n.date(shipment["expected_arrival"]))
        for line in shipment.get("lines", []):
            yield Fact(
                self.line_label(line["line_no"], _("Shipped")),
                self.i18n.number(line["quantity"]),
            )

    def _receipt(self, receipt: dict[str, Any]) -> Iterator[Fact]:
        _ = self._
        yield Fact(_("Receipt"), receipt["number"])
        yield Fact(_("Received on"), self.i18n.date(receipt["received_on"]))
        if receipt.get("shipment"):
            yield Fact(_("Shipment"), receipt["shipment"])
        for line in receipt.get("lines", []):
            counted = _("%(received)s received, %(rejected)s rejected") % {
                "received": self.i18n.number(line["received"]),
                "rejected": self.i18n.number(line["rejected"]),
            }
            if line.get("note"):
                counted = _("%(counted)s (%(note)s)") % {"counted": counted, "note": line["note"]}
            yield Fact(self.line_label(line["line_no"]), counted)
