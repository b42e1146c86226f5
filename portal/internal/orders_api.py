"""The API for our own systems (and staff's tools): issue purchase orders, create sales orders,
link a sales line to a purchase order line, read a sales order with its links, and find the
open purchase order lines of an item.

Conventions as everywhere under /api/v1 (`portal.web.api`): Idempotency-Key on POSTs, 201 with
Location and ETag for a record made, If-Match or `version` on writes to one that exists (428
without, 409 with the current record when stale), RFC 9457 problems.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated
from urllib.parse import quote

import msgspec
from litestar import Response, Router, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, QueryParameter
from msgspec import Meta

from portal.auth import scopes as s
from portal.auth.guards import requires
from portal.db import link_queries, queries
from portal.db.link_queries import LinkCandidate
from portal.db.po_detail import purchase_order_detail
from portal.db.queries import SalesOrderDetail
from portal.domain.actors import Actor, Side
from portal.domain.errors import Conflict, NotFound
from portal.domain.orders import POLine, SalesLine
from portal.services import purchase_orders, sales_orders
from portal.supplier import api as supplier_api
from portal.supplier import schemas as po_schemas
from portal.supplier.api import ok, security
from portal.supplier.schemas import Money, Qty
from portal.web import api
from portal.web.api import ApiProblem, Checks
from portal.web.i18n import I18n

PREFIX = "/api/v1"
SO_PATH = "/sales-orders"
SO_ORDER = SO_PATH + "/{number:str}"
WRITE_PROBLEMS = api.problem_responses(400, 401, 403, 404, 409, 422, 428)
CREATE_PROBLEMS = api.problem_responses(400, 401, 403, 409, 422)
READ_PROBLEMS = api.problem_responses(400, 401, 403, 404, 422)

Text = Annotated[str, Meta(max_length=4000)]
Item = Annotated[str, Meta(min_length=1, max_length=64)]
Unit = Annotated[str, Meta(min_length=1, max_length=16)]
Currency = Annotated[str, Meta(min_length=3, max_length=3, examples=["CNY"])]
OrderNumber = Annotated[str, Meta(min_length=1, max_length=40)]
Party = Annotated[str, Meta(min_length=1, max_length=32)]


class NewPOLine(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    item: Item
    description: Text = ""
    quantity: Qty
    unit: Unit
    unit_price: Money
    need_date: date


class NewPurchaseOrder(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A purchase order to issue to `supplier` (an organisation code). `number` is given by the
    portal when left out; `draft: true` keeps it ours until issued."""

    supplier: Party
    currency: Currency
    lines: Annotated[list[NewPOLine], Meta(min_length=1, max_length=500)]
    number: OrderNumber | None = None
    draft: bool = False


class NewSOLine(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    item: Item
    description: Text = ""
    quantity: Qty
    unit: Unit
    unit_price: Money
    requested_date: date


class NewSalesOrder(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A customer's order. `contact_email` or `contact_phone` is required."""

    customer: Party
    currency: Currency
    lines: Annotated[list[NewSOLine], Meta(min_length=1, max_length=500)]
    contact_email: Annotated[str, Meta(max_length=254)] = ""
    contact_phone: Annotated[str, Meta(max_length=40)] = ""
    number: OrderNumber | None = None


class LineLink(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The purchase order line a sales line follows; its expected date is the line's promise
    (or need date) plus `handling_days` (by default the portal's setting)."""

    po_number: OrderNumber
    po_line_no: Annotated[int, Meta(ge=1)]
    handling_days: Annotated[int, Meta(ge=0, le=365)] | None = None
    version: Annotated[int, Meta(ge=1)] | None = None


class LinkCandidates(msgspec.Struct, frozen=True, kw_only=True):
    item: str
    lines: list[LinkCandidate]


NEW_PO_BODY = Body(
    description="The purchase order to issue.",
    examples=[
        Example(
            summary="Issue at once, numbered by the portal",
            value={
                "supplier": "ACME",
                "currency": "CNY",
                "lines": [
                    {
                        "item": "BOLT-M8",
                        "description": "Hex bolt M8",
                        "quantity": "500",
                        "unit": "pcs",
                        "unit_price": "0.35",
                        "need_date": "2027-01-11",
                    }
                ],
            },
        ),
        Example(
            summary="A draft with our own number",
            value={
                "supplier": "ACME",
                "currency": "CNY",
                "number": "PO-2026-90001",
                "draft": True,
                "lines": [
                    {
                        "item": "NUT-M8",
                        "quantity": "1000",
                        "unit": "pcs",
                        "unit_price": "0.08",
                        "need_date": "2027-02-01",
                    }
                ],
            },
        ),
    ],
)
NEW_SO_BODY = Body(
    description="The sales order to create.",
    examples=[
        Example(
            summary="One line",
            value={
                "customer": "CUST",
                "currency": "CNY",
                "contact_email": "buyer@contoso.example",
                "lines": [
                    {
                        "item": "BOLT-M8",
                        "description": "Hex bolt M8",
                        "quantity": "100",
                        "unit": "pcs",
                        "unit_price": "0.80",
                        "requested_date": "2027-01-15",
                    }
                ],
            },
        )
    ],
)
LINK_BODY = Body(
    description="The purchase order line to follow.",
    examples=[
        Example(
            summary="Link, with the default handling days",
            value={"po_number": "PO-2026-00042", "po_line_no": 1, "version": 2},
        ),
        Example(
            summary="Link, with three handling days",
            value={"po_number": "PO-2026-00042", "po_line_no": 1, "handling_days": 3},
        ),
    ],
)


def _internal(actor: Actor, i18n: I18n) -> None:
    """Only our staff's tokens write orders (the scopes say so too; this says it again)."""
    if actor.side != Side.INTERNAL:
        raise api.missing_scope(i18n, s.ORDER_WRITE)


def _po_location(number: str) -> str:
    return f"{PREFIX}/purchase-orders/{quote(number, safe='')}"


def _so_location(number: str) -> str:
    return f"{PREFIX}{SO_PATH}/{quote(number, safe='')}"


def _check_lines(checks: Checks, lines: Sequence[NewPOLine | NewSOLine]) -> None:
    for index, line in enumerate(lines):
        checks.quantity(f"lines[{index}].quantity", line.quantity)
        checks.price(f"lines[{index}].unit_price", line.unit_price)


async def _no_conflict(conflict: Conflict) -> ApiProblem:
    raise AssertionError("a new record has no version to be stale")  # pragma: no cover


@post(
    "/purchase-orders",
    operation_id="issuePurchaseOrder",
    summary="Issue a purchase order",
    tags=["Purchase orders"],
    security=security(s.PO_WRITE),
    opt=requires(s.PO_WRITE),
    status_code=201,
    responses={
        **ok(po_schemas.PurchaseOrder, "Issued (or saved as a draft); Location names it.", 201),
        **CREATE_PROBLEMS,
    },
)
async def issue_purchase_order(
    write: NamedDependency[api.Write],
    data: Annotated[NewPurchaseOrder, NEW_PO_BODY],
    idempotency_key: api.IdempotencyKey = None,
) -> Response[bytes]:
    """Issue a purchase order to a supplier (internal staff: scope po:write). Lines are
    numbered from 1 in the order given. The answer is the order as the supplier now sees it,
    with `ETag` (its version) and `Location`."""
    actor = write.actor
    _internal(actor, write.i18n)

    async def run() -> Response[bytes]:
        checks = write.checks()
        _check_lines(checks, data.lines)
        checks.done()
        lines = [
            POLine(
                no,
                line.item,
                line.description,
                line.quantity,
                line.unit,
                line.unit_price,
                line.need_date,
            )
            for no, line in enumerate(data.lines, start=1)
        ]
        command = purchase_orders.IssuePurchaseOrder(
            data.supplier, data.currency, lines, number=data.number, draft=data.draft
        )
        po = await purchase_orders.issue_purchase_order(write.uow, actor, command)
        order = po_schemas.purchase_order(await purchase_order_detail(actor, po.number))
        return api.json_response(
            order, status=201, version=order.version, location=_po_location(order.number)
        )

    return await write.answer(run, key=idempotency_key, on_conflict=_no_conflict, based_on=None)


@post(
    SO_PATH,
    operation_id="createSalesOrder",
    summary="Create a sales order",
    tags=["Sales orders"],
    security=security(s.ORDER_WRITE),
    opt=requires(s.ORDER_WRITE),
    status_code=201,
    responses={**ok(SalesOrderDetail, "Created; Location names it.", 201), **CREATE_PROBLEMS},
)
async def create_sales_order(
    write: NamedDependency[api.Write],
    data: Annotated[NewSalesOrder, NEW_SO_BODY],
    idempotency_key: api.IdempotencyKey = None,
) -> Response[bytes]:
    """Create a customer's sales order (internal staff: scope order:write). Each line is
    expected on its requested date until it is linked to a purchase order line."""
    actor = write.actor
    _internal(actor, write.i18n)

    async def run() -> Response[bytes]:
        checks = write.checks()
        _check_lines(checks, data.lines)
        checks.done()
        lines = [
            SalesLine(
                no,
                line.item,
                line.description,
                line.quantity,
                line.unit,
                line.unit_price,
                line.requested_date,
                line.requested_date,
            )
            for no, line in enumerate(data.lines, start=1)
        ]
        command = sales_orders.CreateSalesOrder(
            data.customer,
            data.currency,
            lines,
            contact_email=data.contact_email,
            contact_phone=data.contact_phone,
            number=data.number,
        )
        so = await sales_orders.create_sales_order(write.uow, actor, command)
        order = await queries.sales_order(actor, so.number)
        return api.json_response(
            order, status=201, version=order.version, location=_so_location(order.number)
        )

    return await write.answer(run, key=idempotency_key, on_conflict=_no_conflict, based_on=None)


@get(
    SO_ORDER,
    operation_id="getInternalSalesOrder",
    summary="Read a sales order with its links",
    tags=["Sales orders"],
    security=security(s.ORDER_WRITE),
    opt=requires(s.ORDER_WRITE),
    responses={**ok(SalesOrderDetail, "The order; ETag is its version."), **READ_PROBLEMS},
)
async def get_sales_order(
    write: NamedDependency[api.Write],
    number: FromPath[str],
    if_none_match: api.IfNoneMatch = None,
) -> Response[bytes]:
    """A sales order as our staff see it: each line with the purchase order line it follows
    (`po_number`, `po_line_no`). Its ETag is the version a link must be based on."""
    _internal(write.actor, write.i18n)
    order = await queries.sales_order(write.actor, number)
    return api.read_response(order, order.version, if_none_match)


@put(
    SO_ORDER + "/lines/{line_no:int}/link",
    operation_id="linkSalesLine",
    summary="Link a sales line to a purchase order line",
    tags=["Sales orders"],
    security=security(s.ORDER_WRITE),
    opt=requires(s.ORDER_WRITE),
    responses={**ok(SalesOrderDetail, "Linked; the line's expected date moved."), **WRITE_PROBLEMS},
)
async def link_sales_line(
    write: NamedDependency[api.Write],
    number: FromPath[str],
    line_no: FromPath[int],
    data: Annotated[LineLink, LINK_BODY],
    if_match: api.IfMatch = None,
) -> Response[bytes]:
    """Make the sales line follow a purchase order line of the same item: its expected date
    becomes when the supplier's promise covers it, plus handling days, and moves with it from
    now on. Based on the sales order's version (If-Match or `version`)."""
    actor = write.actor
    _internal(actor, write.i18n)
    version = write.version(data.version, if_match)

    async def current(conflict: Conflict) -> ApiProblem:
        order = await queries.sales_order(actor, number)
        return api.stale(write.i18n, conflict, order, version=order.version)

    async def run() -> Response[bytes]:
        order = await queries.sales_order(actor, number)
        if line_no not in {line.line_no for line in order.lines}:
            raise NotFound(
                "Sales order {number} has no line {line_no}.", number=number, line_no=line_no
            )
        command = sales_orders.LinkSalesLine(
            number, version, line_no, data.po_number, data.po_line_no, data.handling_days
        )
        await sales_orders.link_sales_line(write.uow, actor, command)
        order = await queries.sales_order(actor, number)
        return api.json_response(order, version=order.version)

    return await write.answer(run, on_conflict=current, based_on=version)


@get(
    "/purchase-order-lines",
    operation_id="listOpenPurchaseOrderLines",
    summary="Find open purchase order lines of an item",
    tags=["Sales orders"],
    security=security(s.ORDER_WRITE),
    opt=requires(s.ORDER_WRITE),
    responses={**ok(LinkCandidates, "Soonest promised first."), **READ_PROBLEMS},
)
async def open_purchase_order_lines(
    write: NamedDependency[api.Write],
    item: Annotated[str, QueryParameter(min_length=1, max_length=64, description="Item code.")],
    q: Annotated[
        str, QueryParameter(max_length=100, description="Part of a PO number or supplier.")
    ] = "",
    open: Annotated[
        bool, QueryParameter(description="Only open lines (the only kind listed).")
    ] = True,
) -> Response[bytes]:
    """The lines a sales line of `item` can be linked to: open lines of open purchase orders,
    with the supplier, promised date and the quantity still to come."""
    _internal(write.actor, write.i18n)
    lines = await link_queries.open_po_lines(write.actor, item, q)
    return api.json_response(LinkCandidates(item=item, lines=lines))


# POST /purchase-orders shares its path with the suppliers' listing (GET): one path takes its
# handlers from one router, so this one joins that router (same prefix, `write` dependency and
# problem handlers) rather than clash with it over the path's OPTIONS.
supplier_api.ROUTER.register(issue_purchase_order)

ROUTER = Router(
    PREFIX,
    route_handlers=[
        create_sales_order,
        get_sales_order,
        link_sales_line,
        open_purchase_order_lines,
    ],
    dependencies={"write": Provide(api.provide_write, sync_to_thread=False)},
    exception_handlers=api.exception_handlers(),
)
ROUTES = [ROUTER]
"""Our staff's order API routes, under /api/v1."""
