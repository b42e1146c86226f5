"""The order pages: the home page, the order lists, and one order with its timeline.

Pages are for people; they stay out of the OpenAPI schema, which documents the public API."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter

from portal.auth.guards import requires
from portal.auth.principal import Principal
from portal.auth.scopes import ORDER_READ, PO_READ
from portal.db import queries, timeline
from portal.domain.actors import Actor
from portal.domain.events import po_stream, so_stream
from portal.domain.states import POStatus, SOStatus
from portal.web.listing import DEFAULT_SORT, Listing, parse_sort, parse_status
from portal.web.rendering import View
from portal.web.timeline import entries

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
) -> Response[str]:
    rows = await queries.purchase_orders(
        actor,
        status=parse_status(status, POStatus),
        sort=parse_sort(sort),
        page=page,
        per_page=PER_PAGE,
    )
    return view.page(
        "orders/purchase_orders.html",
        {
            "purchase_orders": rows,
            "po_listing": Listing(path=PO_LIST, status=status, sort=sort),
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
) -> Response[str]:
    rows = await queries.sales_orders(
        actor,
        status=parse_status(status, SOStatus),
        sort=parse_sort(sort),
        page=page,
        per_page=PER_PAGE,
    )
    return view.page(
        "orders/sales_orders.html",
        {
            "sales_orders": rows,
            "so_listing": Listing(path=SO_LIST, status=status, sort=sort),
            "so_statuses": SO_STATUSES,
        },
    )


@get(
    PO_LIST + "/{number:str}", name="purchase-order", include_in_schema=False, opt=requires(PO_READ)
)
async def purchase_order(
    view: NamedDependency[View], actor: NamedDependency[Actor], number: FromPath[str]
) -> Response[str]:
    order = await queries.purchase_order(actor, number)
    events = await timeline.read(actor, po_stream(order.number))
    return view.page(
        "orders/purchase_order.html",
        {"po": order, "timeline": entries(events, view.i18n)},
    )


@get(
    SO_LIST + "/{number:str}", name="sales-order", include_in_schema=False, opt=requires(ORDER_READ)
)
async def sales_order(
    view: NamedDependency[View], actor: NamedDependency[Actor], number: FromPath[str]
) -> Response[str]:
    order = await queries.sales_order(actor, number)
    events = await timeline.read(actor, so_stream(order.number))
    return view.page(
        "orders/sales_order.html",
        {"so": order, "timeline": entries(events, view.i18n)},
    )


ROUTES = [home, purchase_orders, sales_orders, purchase_order, sales_order]
