"""An order's timeline as our staff read it (every audience's entries, filtered by kind and
author) and its audit report: every event as CSV, and a printable page that says whether the
hash chain of its stream is intact or where it first breaks.

The check is `portal verify-timeline`'s, run on one stream. The report reads the stored rows
as they are, so a row edited behind the portal's back still shows — with the break it causes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from portal.auth.guards import requires
from portal.auth.scopes import TIMELINE_READ
from portal.db import queries
from portal.db import tables as t
from portal.db import timeline as stored
from portal.db.codec import load
from portal.domain.actors import Actor, Side
from portal.domain.events import Event, po_stream, so_stream
from portal.i18n.labels import N_
from portal.web.i18n import I18n
from portal.web.rendering import View
from portal.web.timeline import Entry, entry

PO_AUDIT = "/purchase-orders/{number:str}/audit"
SO_AUDIT = "/sales-orders/{number:str}/audit"
BOM = "\ufeff"
"""Excel reads a CSV as UTF-8 (and so shows Chinese) only when it starts with this mark."""

AUDIENCE_LABELS = {
    Side.INTERNAL.value: N_("our staff"),
    Side.SUPPLIER.value: N_("the supplier"),
    Side.CUSTOMER.value: N_("the customer"),
}


# --- The timeline, filtered ---------------------------------------------------------------------


class TimelineRow(msgspec.Struct, frozen=True, kw_only=True):
    """One timeline entry as our staff see it: the entry, and whether only we can read it."""

    entry: Entry
    internal_only: bool
    author: str


@dataclass(frozen=True, slots=True)
class TimelineFilter:
    kind: str = ""
    author: str = ""

    @property
    def active(self) -> bool:
        return bool(self.kind or self.author)


@dataclass(frozen=True, slots=True)
class FilteredTimeline:
    rows: list[TimelineRow]
    kinds: list[tuple[str, str]]
    """(kind, its label) of every kind on the stream, for the filter's choices."""
    authors: list[str]
    chosen: TimelineFilter
    total: int


def author_of(event: Event, i18n: I18n) -> str:
    name = str(event.actor.get("name") or "")
    if event.actor.get("kind") == "system":
        return i18n.gettext("Portal (automatic)")
    return name


def internal_only(event: Event) -> bool:
    return tuple(event.audience) == (Side.INTERNAL,)


def filtered(events: list[Event], i18n: I18n, chosen: TimelineFilter) -> FilteredTimeline:
    """Newest first, only the chosen kind and author (either may be empty: any)."""
    kinds = sorted({event.kind for event in events})
    authors = sorted({author_of(event, i18n) for event in events})
    rows = [
        TimelineRow(
            entry=entry(event, i18n),
            internal_only=internal_only(event),
            author=author_of(event, i18n),
        )
        for event in reversed(events)
        if (not chosen.kind or event.kind == chosen.kind)
        and (not chosen.author or author_of(event, i18n) == chosen.author)
    ]
    return FilteredTimeline(
        rows=rows,
        kinds=[(kind, i18n.event_kind(kind)) for kind in kinds],
        authors=authors,
        chosen=chosen,
        total=len(events),
    )


# --- The report ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditRow:
    seq: int
    at_utc: str
    at_local: str
    kind: str
    kind_label: str
    author: str
    organisation: str
    via: str
    audience: str
    internal_only: bool
    data: str
    prev_hash: str
    hash: str


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _audience(text: str, i18n: I18n) -> str:
    sides = [part for part in str(text or "").split(",") if part]
    return ", ".join(i18n.gettext(AUDIENCE_LABELS.get(side, side)) for side in sides)


def _at(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def audit_row(row: dict[str, Any], i18n: I18n) -> AuditRow:
    """A stored event row as the report shows it; fields that no longer read are shown as
    stored rather than left out (they are what the report is for)."""
    try:
        actor = load(row["actor"])
    except ValueError:
        actor = {}
    if not isinstance(actor, dict):
        actor = {}
    try:
        data = _text(load(row["data"]))
    except ValueError:
        data = str(row["data"])
    moment = _at(row["at"])
    kind = str(row["kind"])
    name = str(actor.get("name") or "")
    if actor.get("kind") == "system":
        name = i18n.gettext("Portal (automatic)")
    try:
        via = i18n.via(str(row["via"]))
    except (KeyError, ValueError):
        via = str(row["via"])
    return AuditRow(
        seq=int(row["seq"]),
        at_utc=moment.astimezone(UTC).isoformat() if moment else str(row["at"]),
        at_local=moment.astimezone(i18n.time_zone).isoformat() if moment else "",
        kind=kind,
        kind_label=i18n.event_kind(kind),
        author=name,
        organisation=str(actor.get("org") or ""),
        via=via,
        audience=_audience(row["audience"], i18n),
        internal_only=str(row["audience"]) == Side.INTERNAL.value,
        data=data,
        prev_hash=str(row["prev_hash"]),
        hash=str(row["hash"]),
    )


async def audit_rows(stream: str, i18n: I18n) -> list[AuditRow]:
    rows = await t.Event.select().where(t.Event.stream == stream).order_by(t.Event.seq).run()
    return [audit_row(row, i18n) for row in rows]


def csv_columns(i18n: I18n) -> list[str]:
    _ = i18n.gettext
    return [
        _("Seq"),
        _("Time (UTC)"),
        _("Time (%(zone)s)") % {"zone": i18n.time_zone.key},
        _("Event"),
        _("Author"),
        _("Organisation"),
        _("Via"),
        _("Audience"),
        _("Data (JSON)"),
        _("Previous hash"),
        _("Hash"),
    ]


def to_csv(rows: Iterable[AuditRow], i18n: I18n) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_columns(i18n))
    for row in rows:
        writer.writerow(
            [
                row.seq,
                row.at_utc,
                row.at_local,
                row.kind_label,
                row.author,
                row.organisation,
                row.via,
                row.audience,
                row.data,
                row.prev_hash,
                row.hash,
            ]
        )
    return (BOM + out.getvalue()).encode("utf-8")


def _download(body: bytes, filename: str) -> Response[bytes]:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "no-store",
        },
    )


async def _po_stream(actor: Actor, number: str) -> str:
    order = await queries.purchase_order(actor, number)  # NotFound (404) if not visible
    return po_stream(order.number)


async def _so_stream(actor: Actor, number: str) -> str:
    order = await queries.sales_order(actor, number)
    return so_stream(order.number)


@get(PO_AUDIT + ".csv", name="po-audit-csv", include_in_schema=False, opt=requires(TIMELINE_READ))
async def po_audit_csv(
    view: NamedDependency[View], actor: NamedDependency[Actor], number: FromPath[str]
) -> Response[bytes]:
    stream = await _po_stream(actor, number)
    rows = await audit_rows(stream, view.i18n)
    return _download(to_csv(rows, view.i18n), f"audit-{number}.csv")


@get(SO_AUDIT + ".csv", name="so-audit-csv", include_in_schema=False, opt=requires(TIMELINE_READ))
async def so_audit_csv(
    view: NamedDependency[View], actor: NamedDependency[Actor], number: FromPath[str]
) -> Response[bytes]:
    stream = await _so_stream(actor, number)
    rows = await audit_rows(stream, view.i18n)
    return _download(to_csv(rows, view.i18n), f"audit-{number}.csv")


async def _audit_page(view: View, kind: str, number: str, stream: str) -> Response[str]:
    rows = await audit_rows(stream, view.i18n)
    found = await stored.verify_one(stream)
    return view.page(
        "internal/audit.html",
        {
            "order_kind": kind,
            "number": number,
            "rows": rows,
            "chain_break": found,
            "columns": csv_columns(view.i18n),
            "generated_at": datetime.now(UTC),
        },
    )


@get(PO_AUDIT, name="po-audit", include_in_schema=False, opt=requires(TIMELINE_READ))
async def po_audit(
    view: NamedDependency[View], actor: NamedDependency[Actor], number: FromPath[str]
) -> Response[str]:
    return await _audit_page(view, "purchase", number, await _po_stream(actor, number))


@get(SO_AUDIT, name="so-audit", include_in_schema=False, opt=requires(TIMELINE_READ))
async def so_audit(
    view: NamedDependency[View], actor: NamedDependency[Actor], number: FromPath[str]
) -> Response[str]:
    return await _audit_page(view, "sales", number, await _so_stream(actor, number))


ROUTES = [po_audit_csv, so_audit_csv, po_audit, so_audit]
