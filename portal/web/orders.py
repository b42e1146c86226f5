"""The order pages: the home page, the order lists, and one order with its timeline.

Pages are for people; they stay out of the OpenAPI schema, which documents the public API."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import FromPath, FromQuery, QueryParameter

from portal.auth.guards import requires
from portal.auth.principal import Principal
from portal.auth.scopes import ORDER_READ, PO_READ
from portal.db import dashboard_queries, queries, timeline
from portal.domain.actors import Actor, Side
from portal.domain.events import po_stream, so_stream
from portal.domain.states import POStatus, SOStatus
from portal.internal import orders as staff_view
from portal.web.listing import DEFAULT_SORT, Listing, parse_sort, parse_status
from portal.web.rendering import View

PER_PAGE = 20
PageNumber = Annotated[int, QueryParameter(ge=1)]

PO_LIST = "/purchase-orders"
SO_LIST = "/sales-orders"
PO_STATUSES = [status.value for status in POStatus]
SO_STATUSES = [status.value for status in SOStatus]


@get("/", name="home", include_in_schema=False, opt=requires(PO_READ, ORDER_READ))
async def home(view: NamedDependency[View], principal: NamedDependency[Principal]) -> Response[str]:
    """The order lists the caller may read, at a glance; each filters, sorts and pages in
    place."""
    actor = principal.actor
    return view.page(
        "orders/home.html",
        {
            "purchase_orders": await queries.purchase_orders(actor, per_page=PER_PAGE)
            if principal.holds(PO_READ)
            else None,
            "po_listing": Listing(path=PO_LIST),
            "po_statuses": PO_STATUSES,
            "sales_orders": await queries.sales_orders(actor, per_page=PER_PAGE)
            if principal.holds(ORDER_READ)
            else None,
            "so_listing": Listing(path=SO_LIST),
            "so_statuses": SO_STATUSES,
        },
    )


@get(PO_LIST, name="purchase-orders", include_in_schema=False, opt=requires(PO_READ))
async def purchase_orders(
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    page: PageNumber = 1,
    sort: FromQuery[str] = DEFAULT_SORT,
    status: FromQuery[str] = "",
    supplier: FromQuery[str] = "",
    customer: FromQuery[str] = "",
    item: FromQuery[str] = "",
    buyer: FromQuery[str] = "",
    date_from: FromQuery[str] = "",
    date_to: FromQuery[str] = "",
    arrival_from: FromQuery[str] = "",
    arrival_to: FromQuery[str] = "",
) -> Response[str]:
    """The purchase orders; our staff may narrow them further (supplier, customer, item,
    buyer, need dates, expected arrival of unreceived shipments), as the dashboard links do."""
    given = list_filters(
        actor,
        supplier=supplier,
        customer=customer,
        item=item,
        buyer=buyer,
        date_from=date_from,
        date_to=date_to,
        arrival_from=arrival_from,
        arrival_to=arrival_to,
    )
    only = await dashboard_queries.purchase_order_ids(
        filters_of(given), day(given.get("arrival_from")), day(given.get("arrival_to"))
    )
    rows = await queries.purchase_orders(
        actor,
        status=parse_status(status, POStatus),
        sort=parse_sort(sort),
        page=page,
        per_page=PER_PAGE,
        only=only,
    )
    return view.page(
        "orders/purchase_orders.html",
        {
            "purchase_orders": rows,
            "po_listing": Listing(
                path=PO_LIST, status=status, sort=sort, filters=tuple(given.items())
            ),
            "po_statuses": PO_STATUSES,
        },
    )


@get(SO_LIST, name="sales-orders", include_in_schema=False, opt=requires(ORDER_READ))
async def sales_orders(
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    page: PageNumber = 1,
    sort: FromQuery[str] = DEFAULT_SORT,
    status: FromQuery[str] = "",
    supplier: FromQuery[str] = "",
    customer: FromQuery[str] = "",
    item: FromQuery[str] = "",
    buyer: FromQuery[str] = "",
    date_from: FromQuery[str] = "",
    date_to: FromQuery[str] = "",
    late: FromQuery[str] = "",
) -> Response[str]:
    """The sales orders; our staff may narrow them further (customer, supplier or buyer of
    the purchase orders their lines follow, item, requested dates, at risk: `late=1`)."""
    given = list_filters(
        actor,
        supplier=supplier,
        customer=customer,
        item=item,
        buyer=buyer,
        date_from=date_from,
        date_to=date_to,
        late="1" if late else "",
    )
    only = await dashboard_queries.sales_order_ids(filters_of(given), late=bool(given.get("late")))
    rows = await queries.sales_orders(
        actor,
        status=parse_status(status, SOStatus),
        sort=parse_sort(sort),
        page=page,
        per_page=PER_PAGE,
        only=only,
    )
    return view.page(
        "orders/sales_orders.html",
        {
            "sales_orders": rows,
            "so_listing": Listing(
                path=SO_LIST, status=status, sort=sort, filters=tuple(given.items())
            ),
            "so_statuses": SO_STATUSES,
        },
    )


def day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationException(f"Use a date like 2026-03-31 (got {text!r}).") from None


def list_filters(actor: Actor, **given: str) -> dict[str, str]:
    """The further list filters given, only for our staff: a supplier or customer sees its
    own orders already, and must not learn how they link to anyone else's."""
    if actor.side != Side.INTERNAL:
        return {}
    kept = {name: value.strip() for name, value in given.items() if value.strip()}
    for name in ("date_from", "date_to", "arrival_from", "arrival_to"):
        day(kept.get(name))
    return kept


def filters_of(given: dict[str, str]) -> dashboard_queries.Filters:
    return dashboard_queries.Filters(
        supplier=given.get("supplier", ""),
        customer=given.get("customer", ""),
        item=given.get("item", ""),
        buyer=given.get("buyer", ""),
        date_from=day(given.get("date_from")),
        date_to=day(given.get("date_to")),
    )


@get(
    PO_LIST + "/{number:str}", name="purchase-order", include_in_schema=False, opt=requires(PO_READ)
)
async def purchase_order(
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    number: FromPath[str],
    kind: FromQuery[str] = "",
    author: FromQuery[str] = "",
) -> Response[str]:
    order = await queries.purchase_order(principal.actor, number)
    events = await timeline.read(principal.actor, po_stream(order.number))
    return staff_view.order_page(
        view, principal, "orders/purchase_order.html", {"po": order}, events, kind, author
    )


@get(
    SO_LIST + "/{number:str}", name="sales-order", include_in_schema=False, opt=requires(ORDER_READ)
)
async def sales_order(
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    number: FromPath[str],
    kind: FromQuery[str] = "",
    author: FromQuery[str] = "",
) -> Response[str]:
    order = await queries.sales_order(principal.actor, number)
    events = await timeline.read(principal.actor, so_stream(order.number))
    return staff_view.order_page(
        view, principal, "orders/sales_order.html", {"so": order}, events, kind, author
    )


ROUTES = [home, purchase_orders, sales_orders, purchase_order, sales_order]
