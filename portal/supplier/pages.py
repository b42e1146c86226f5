"""The supplier workspace's two pages, rendered for every outcome of a form: the inbox and one
purchase order, whole or as the fragment htmx asked for; again with a refused form's message
and what was typed (422); or the conflict page when the order moved meanwhile (409).

Our own staff may open the workspace too: they see an order exactly as its supplier does
(the supplier's part of the timeline only) and no forms, which are the supplier's to use.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Response
from litestar.response import Redirect

from portal.auth import scopes as s
from portal.auth.principal import Principal
from portal.db import timeline
from portal.db.inbox import ACTIVE_STATUSES, at_risk, inbox, left_to_ship
from portal.db.po_detail import CRView, PODetail, purchase_order_detail
from portal.db.queries import DeliveryRow, PurchaseOrderLine
from portal.db.repositories import SHIPMENT_POSTED
from portal.domain.actors import Side
from portal.domain.errors import Conflict
from portal.domain.events import po_stream
from portal.domain.schedule import DeliveryRow as Row
from portal.domain.schedule import Schedule
from portal.domain.states import PO_TRANSITIONS, POMove, POStatus
from portal.supplier.forms import MAX_ROWS, Fields, FormError, LineFacts
from portal.supplier.listing import INBOX, InboxListing
from portal.web.i18n import I18n
from portal.web.rendering import View
from portal.web.timeline import entries

PER_PAGE = 20
NOTICES = frozenset(
    {
        "accepted",
        "rejected",
        "answered",
        "promise_applied",
        "promise_requested",
        "cr_opened",
        "cr_applied",
        "cr_approved",
        "cr_rejected",
        "cr_countered",
        "cr_withdrawn",
        "shipment_posted",
        "shipment_corrected",
        "shipment_cancelled",
        "promises_updated",
    }
)
"""What a finished form can report (templates/supplier/_notice.html has the words)."""


def detail_path(number: str) -> str:
    return f"{INBOX}/{number}"


def today_of(i18n: I18n) -> date:
    """The reader's day: a promise "in the past" is judged where the reader is."""
    return datetime.now(i18n.time_zone).date()


class Notice(msgspec.Struct, frozen=True, kw_only=True):
    """What a form achieved, shown on the page it leads to. Without JavaScript it travels in
    the query of the redirect (`?done=&ref=&line=&applied=&requested=`)."""

    code: str
    ref: str = ""
    """The change request or shipment it made."""
    line_no: int = 0
    applied: int = 0
    requested: int = 0

    def query(self) -> str:
        params = {
            "done": self.code,
            "ref": self.ref,
            "line": self.line_no or "",
            "applied": self.applied or "",
            "requested": self.requested or "",
        }
        return urlencode({key: value for key, value in params.items() if value != ""})

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Notice | None:
        code = query.get("done", "")
        if code not in NOTICES:
            return None

        def count(name: str) -> int:
            text = query.get(name, "")
            return int(text) if text.isdigit() else 0

        return cls(
            code=code,
            ref=query.get("ref", "")[:60],
            line_no=count("line"),
            applied=count("applied"),
            requested=count("requested"),
        )


class Failure(msgspec.Struct, frozen=True, kw_only=True):
    """A form that was refused: which one, why (a form error, or a rule of the business in the
    service's words), and what was typed into it."""

    form: str
    fields: Fields
    error: FormError | None = None
    refused: str | None = None

    def value(self, form: str, name: str, default: str = "", index: int = 0) -> str:
        if form != self.form:
            return default
        values = self.fields.values.get(name)
        return values[index] if values and index < len(values) else default

    def chosen(self, form: str, name: str) -> list[str]:
        """Every value sent for `name` (checkboxes), if `form` is the refused one."""
        return self.fields.all(name) if form == self.form else []


class Can(msgspec.Struct, frozen=True, kw_only=True):
    """The forms the reader gets on this order now."""

    act: bool
    """The reader speaks for the supplier (our staff only look)."""
    acknowledge: bool = False
    promise: bool = False
    change: bool = False
    ship: bool = False
    amend_shipments: bool = False
    decide: bool = False

    def anything(self, open_requests: int) -> bool:
        """Whether any form applies, the answers to open change requests included."""
        return (
            self.acknowledge
            or self.promise
            or self.change
            or self.ship
            or self.amend_shipments
            or (self.decide and open_requests > 0)
        )


def _allowed(status: str, move: POMove) -> bool:
    return (POStatus(status), move) in PO_TRANSITIONS


def can(principal: Principal, po: PODetail) -> Can:
    if principal.actor.side != Side.SUPPLIER:
        return Can(act=False)
    status = po.stored_status
    return Can(
        act=True,
        acknowledge=status == POStatus.ISSUED and principal.holds(s.PO_ACKNOWLEDGE),
        promise=_allowed(status, POMove.CHANGE_PROMISE) and principal.holds(s.PO_PROMISE),
        change=_allowed(status, POMove.OPEN_CHANGE_REQUEST) and principal.holds(s.CR_WRITE),
        ship=_allowed(status, POMove.SHIP) and principal.holds(s.PO_SHIP),
        amend_shipments=_allowed(status, POMove.CORRECT_SHIPMENT)
        and principal.holds(s.PO_SHIP)
        and any(found.status == SHIPMENT_POSTED and not found.received for found in po.shipments),
        decide=principal.holds(s.CR_WRITE),
    )


class LineView(msgspec.Struct, frozen=True, kw_only=True):
    line: PurchaseOrderLine
    at_risk: bool
    left_to_ship: Decimal
    to_come: list[DeliveryRow]
    """The promise still to come, or what is left on the need date while nothing is promised:
    what a new promise starts from."""


def to_come(line: PurchaseOrderLine) -> list[DeliveryRow]:
    left = left_to_ship(line)
    if left == 0:
        return []
    if not line.promise:
        return [DeliveryRow(left, line.need_date)]
    promise = Schedule(tuple(Row(row.quantity, row.date) for row in line.promise))
    rest = promise.still_to_come(left)
    return [DeliveryRow(row.quantity, row.date) for row in rest.rows] if rest else []


def line_facts(po: PODetail) -> list[LineFacts]:
    return [
        LineFacts(
            line_no=line.line_no,
            quantity=line.quantity,
            net_shipped=line.shipped_qty - line.rejected_qty,
            open=not line.cancelled,
        )
        for line in po.lines
    ]


async def detail(
    view: View,
    principal: Principal,
    number: str,
    *,
    notice: Notice | None = None,
    failure: Failure | None = None,
) -> Response[str]:
    """The order page; with a refused form it answers 422."""
    actor = principal.actor
    po = await purchase_order_detail(actor, number)
    events = [
        event
        for event in await timeline.read(actor, po_stream(po.number))
        if Side.SUPPLIER in event.audience
    ]
    today = today_of(view.i18n)
    active = POStatus(po.stored_status) in ACTIVE_STATUSES
    lines = [
        LineView(
            line=line,
            at_risk=active and at_risk(line, today),
            left_to_ship=left_to_ship(line),
            to_come=to_come(line),
        )
        for line in po.lines
    ]
    return view.page(
        "supplier/purchase_order.html",
        {
            "po": po,
            "lines": lines,
            "open_lines": [view_ for view_ in lines if not view_.line.cancelled],
            "open_requests": po.open_change_requests,
            "closed_requests": [cr for cr in po.change_requests if not cr.is_open],
            "timeline": entries(events, view.i18n),
            "live_after": events[-1].seq if events else 0,
            "can": can(principal, po),
            "reasons": view.i18n.reasons(),
            "today": today,
            "max_rows": MAX_ROWS,
            "notice": notice,
            "failure": failure,
            "decides": _decides,
            "now": datetime.now(UTC),
        },
        status_code=HTTPStatus.UNPROCESSABLE_ENTITY if failure else HTTPStatus.OK,
    )


def _decides(cr: CRView) -> str:
    """What the supplier may do with an open request: answer our side's, withdraw its own."""
    return "answer" if cr.opened_by == Side.INTERNAL.value else "withdraw"


async def inbox_page(
    view: View,
    principal: Principal,
    listing: InboxListing,
    *,
    notice: Notice | None = None,
    failure: Failure | None = None,
) -> Response[str]:
    today = today_of(view.i18n)
    found = await inbox(
        principal.actor,
        listing.filters(),
        today=today,
        sort=listing.order(),
        page=listing.page,
        per_page=PER_PAGE,
    )
    return view.page(
        "supplier/inbox.html",
        {
            "inbox": found,
            "listing": listing,
            "statuses": [status.value for status in POStatus],
            "live_after": found.latest_change.isoformat() if found.latest_change else "",
            "can_bulk": principal.actor.side == Side.SUPPLIER and principal.holds(s.PO_PROMISE),
            "all_suppliers": principal.actor.side == Side.INTERNAL,
            "reasons": view.i18n.reasons(),
            "today": today,
            "notice": notice,
            "failure": failure,
        },
        status_code=HTTPStatus.UNPROCESSABLE_ENTITY if failure else HTTPStatus.OK,
    )


def conflict(view: View, error: Conflict, *, reload: str, target: str) -> Response[str]:
    """A form sent from a version that is no longer current: nothing was changed; the reader
    reloads (`reload`) and decides again. `target` is the id of the part htmx replaces."""
    return view.page(
        "supplier/conflict.html",
        {"error": error, "reload": reload, "target": target},
        status_code=HTTPStatus.CONFLICT,
    )


def done(view: View, path: str, notice: Notice) -> Response[Any] | None:
    """Without JavaScript a finished form redirects (303) to the page it leads to, the notice
    in its query; htmx gets None, and the caller renders that page's fragment in place."""
    if view.wants_fragment:
        return None
    separator = "&" if "?" in path else "?"
    return Redirect(f"{path}{separator}{notice.query()}", status_code=303)
