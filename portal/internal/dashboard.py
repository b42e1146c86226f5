"""The dashboard (/dashboard) for internal staff: big tiles a buyer reads from across the room
— orders by status, open alerts by rule and age, purchase orders awaiting acknowledgement,
change requests awaiting decision (the overdue ones apart), this week's expected receipts and
customer orders at risk — each linking to the list it counts, with the same filters.

Filters (supplier, customer, item, buyer, date range) are a GET form, so the URL says what is
shown. The tiles refresh whenever any purchase or sales order changes: the page listens to
/live/dashboard (server-sent events on the order list channels) and fetches its tiles again.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import FromQuery
from litestar.response import ServerSentEvent

from portal.auth import scopes as s
from portal.auth.guards import requires
from portal.auth.principal import Principal
from portal.db import dashboard_queries as q
from portal.db import tables as t
from portal.domain.actors import Actor, Side
from portal.domain.errors import NotFound
from portal.domain.states import POStatus, SOStatus
from portal.notify import live
from portal.web.rendering import View

DASHBOARD = "/dashboard"
LIVE = "/live/dashboard"


def _day(text: str, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationException(
            f"{name} must be a date like 2026-03-31 (got {text!r})."
        ) from None


def link(path: str, filters: q.Filters, **more: str) -> str:
    query = {**more, **filters.query()}
    return f"{path}?{urlencode(query)}" if query else path


def _internal(actor: Actor) -> None:
    if actor.side != Side.INTERNAL:
        raise NotFound("There is no dashboard for you.")


async def _choices() -> dict[str, list[tuple[str, str]]]:
    orgs = (
        await t.Organisation.select(t.Organisation.code, t.Organisation.name, t.Organisation.kind)
        .order_by(t.Organisation.name)
        .run()
    )
    buyers = await t.PurchaseOrder.select(t.PurchaseOrder.buyer).distinct().run()
    return {
        "suppliers": [(o["code"], o["name"]) for o in orgs if o["kind"] in ("supplier", "both")],
        "customers": [(o["code"], o["name"]) for o in orgs if o["kind"] in ("customer", "both")],
        "buyers": sorted((b["buyer"], b["buyer"]) for b in buyers if b["buyer"]),
    }


@get(DASHBOARD, name="dashboard", include_in_schema=False, opt=requires(s.TIMELINE_READ))
async def dashboard_page(
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    supplier: FromQuery[str] = "",
    customer: FromQuery[str] = "",
    item: FromQuery[str] = "",
    buyer: FromQuery[str] = "",
    date_from: FromQuery[str] = "",
    date_to: FromQuery[str] = "",
) -> Response[str]:
    """The tiles, whole page on a visit; the tiles alone for htmx (the live refresh). A
    reader who may not open the sales order list (a buyer) sees its counts without links."""
    _internal(principal.actor)
    filters = q.Filters(
        supplier=supplier.strip(),
        customer=customer.strip(),
        item=item.strip(),
        buyer=buyer.strip(),
        date_from=_day(date_from.strip(), "From"),
        date_to=_day(date_to.strip(), "To"),
    )
    now = datetime.now(UTC)
    today = now.astimezone(view.i18n.time_zone).date()
    figures = await q.dashboard(filters, now, today)
    context: dict[str, Any] = {
        "d": figures,
        "filters": filters,
        "here": link(DASHBOARD, filters),
        "po_statuses": [status.value for status in POStatus],
        "so_statuses": [status.value for status in SOStatus],
        "links": {
            "po": lambda **more: link("/purchase-orders", filters, **more),
            "so": lambda **more: link("/sales-orders", filters, **more),
            "alerts": lambda **more: link("/alerts", filters, **more),
            "crs": lambda **more: link("/change-requests", filters, **more),
        },
        "live_after": now.isoformat(),
        "sales_links": principal.holds(s.ORDER_READ),
    }
    if not view.wants_fragment:
        context["choices"] = await _choices()
    return view.page("internal/dashboard.html", context)


@get(LIVE, name="live-dashboard", include_in_schema=False, opt=requires(s.TIMELINE_READ))
async def dashboard_live(
    request: Request[Any, Any, Any], actor: NamedDependency[Actor], channels: ChannelsPlugin
) -> ServerSentEvent:
    """`changed` whenever any purchase or sales order changes (catching up from the time the
    page was drawn: `after` or Last-Event-ID)."""
    _internal(actor)
    last = live.last_event_id(request)

    async def catch_up() -> str | None:
        if last is None:
            return None
        try:
            since = datetime.fromisoformat(last)
        except ValueError:
            return None
        newest: list[datetime] = []
        for table in (t.PurchaseOrder, t.SalesOrder):
            row = (
                await table.select(table.updated_at)
                .where(table.updated_at > since)
                .order_by(table.updated_at, ascending=False)
                .first()
                .run()
            )
            if row:
                newest.append(row["updated_at"])
        return max(newest).isoformat() if newest else None

    return ServerSentEvent(
        live.events(
            channels,
            [live.po_list_channel(live.ALL_SUPPLIERS), live.so_list_channel(live.ALL_CUSTOMERS)],
            actor,
            catch_up,
            "at",
        ),
        headers=live.SSE_HEADERS,
    )


ROUTES = [dashboard_page, dashboard_live]
