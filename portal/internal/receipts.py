"""Goods receipts for the warehouse (receipt:write): a phone-first page and the API.

- ``/receipts``: one big field, "PO or shipment number" (a scanner types into it and presses
  Enter); a shipment number leads to its order with that shipment chosen.
- ``/receipts/{po_number}?shipment=<ASN>``: each line with what was ordered, shipped in that
  shipment and already received, and inputs for the quantity received and rejected
  (prefilled with the shipment's quantities); posting it records the receipt through
  `fulfilment.record_receipt` (version-checked) and leads (303) to the order's page.
- ``POST /api/v1/purchase-orders/{number}/receipts``: the same for a warehouse system.

A refused receipt (over the tolerance, a cancelled shipment, a bad number) changes nothing and
says why; an over-receipt names the line, how much more may still be accepted and the
tolerance.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect
from msgspec import Meta

from portal.auth import scopes as s
from portal.auth.guards import requires
from portal.db import tables as t
from portal.db.po_detail import PODetail, purchase_order_detail
from portal.domain.actors import Actor
from portal.domain.errors import Conflict, DomainError, NotFound
from portal.domain.orders import PurchaseOrder
from portal.domain.receipts import Receipt, ReceiptLine
from portal.services import fulfilment
from portal.services.unit_of_work import UnitOfWork
from portal.supplier import schemas
from portal.supplier.forms import Fields
from portal.web import api
from portal.web.api import ApiProblem
from portal.web.rendering import View

RECEIPTS = "/receipts"
API_PREFIX = "/api/v1"
MAX_QTY = Decimal("1000000000")

OVER_RECEIPT = (
    "Line {line_no}: accepting {more} more would make {total} of {ordered} "
    "ordered, beyond the {tolerance} over-receipt tolerance."
)
"""The domain's refusal (portal/domain/orders.py), told again with what may still come in."""


def order_path(number: str) -> str:
    return f"/purchase-orders/{quote(number, safe='')}"


def receipt_path(number: str, shipment: str = "") -> str:
    path = f"{RECEIPTS}/{quote(number, safe='')}"
    return f"{path}?{urlencode({'shipment': shipment})}" if shipment else path


def _explained(error: DomainError) -> DomainError:
    """The over-receipt refusal with the quantity still allowed on the line."""
    if error.template != OVER_RECEIPT:
        return error
    params = error.params
    try:
        ordered = Decimal(str(params["ordered"]))
        already = Decimal(str(params["total"])) - Decimal(str(params["more"]))
        tolerance = Decimal(str(params["tolerance"]).rstrip("%"))
    except (KeyError, InvalidOperation):
        return error
    allowed = max(Decimal(0), ordered * (1 + tolerance / 100) - already)
    return DomainError(
        "Line {line_no}: at most {allowed} more can be accepted ({ordered} ordered, "
        "{received} already received, {tolerance} over-receipt tolerance); {more} is too many.",
        line_no=params["line_no"],
        allowed=allowed.normalize(),
        ordered=ordered.normalize(),
        received=already.normalize(),
        tolerance=params["tolerance"],
        more=params["more"],
    )


async def record(
    uow: UnitOfWork, actor: Actor, number: str, version: int, receipt: Receipt
) -> PurchaseOrder:
    try:
        return await fulfilment.record_receipt(
            uow, actor, fulfilment.RecordReceipt(number, version, receipt)
        )
    except Conflict:
        raise
    except NotFound:
        raise
    except DomainError as error:
        raise _explained(error) from error


async def _find_order(text: str) -> tuple[str, str] | None:
    """(PO number, shipment number or "") for what was typed or scanned."""
    po = (
        await t.PurchaseOrder.select(t.PurchaseOrder.number)
        .where(t.PurchaseOrder.number == text)
        .first()
        .run()
    )
    if po is not None:
        return str(po["number"]), ""
    shipment = (
        await t.Shipment.select(t.Shipment.number, t.Shipment.po.number)
        .where(t.Shipment.number == text)
        .first()
        .run()
    )
    if shipment is not None:
        return str(shipment["po.number"]), str(shipment["number"])
    return None


# --- pages -------------------------------------------------------------------------------------


@get(RECEIPTS, name="receipts", include_in_schema=False, opt=requires(s.RECEIPT_WRITE))
async def start(view: NamedDependency[View], q: FromQuery[str] = "") -> Response[Any]:
    """The scan field; with `q`, straight to the order (and shipment) it names."""
    text = q.strip()
    if text:
        found = await _find_order(text)
        if found is not None:
            return Redirect(receipt_path(*found), status_code=303)
        return view.page(
            "internal/receipts.html",
            {"q": text, "missing": True},
            status_code=404,
        )
    return view.page("internal/receipts.html", {"q": "", "missing": False})


def _lines(po: PODetail, shipment: str) -> list[dict[str, Any]]:
    chosen = next((found for found in po.shipments if found.number == shipment), None)
    shipped = {line.line_no: line.quantity for line in chosen.lines} if chosen else {}
    return [
        {
            "line": line,
            "shipped": shipped.get(line.line_no),
            "prefill": shipped.get(line.line_no, ""),
        }
        for line in po.lines
        if not line.cancelled
    ]


async def _form_page(
    view: View,
    po: PODetail,
    shipment: str,
    *,
    fields: Fields | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response[str]:
    chosen = next((found for found in po.shipments if found.number == shipment), None)
    return view.page(
        "internal/receipt.html",
        {
            "po": po,
            "shipment": chosen,
            "shipments": [found for found in po.shipments if found.status == "posted"],
            "rows": _lines(po, shipment),
            "fields": fields,
            "error": error,
        },
        status_code=status_code,
    )


@get(
    RECEIPTS + "/{number:str}",
    name="receipt-form",
    include_in_schema=False,
    opt=requires(s.RECEIPT_WRITE),
)
async def receipt_form(
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    number: FromPath[str],
    shipment: FromQuery[str] = "",
) -> Response[str]:
    po = await purchase_order_detail(actor, number)
    return await _form_page(view, po, shipment.strip())


def _quantity(text: str) -> Decimal | None:
    """The number typed (zero when empty); None when it is not a quantity."""
    if not text:
        return Decimal(0)
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value > MAX_QTY or value != round(value, 4):
        return None
    return value


def receipt_of(fields: Fields, po: PODetail, today: date) -> tuple[int, Receipt]:
    """The version the form was read at and the receipt it describes."""
    version_text = fields.text("version")
    if not version_text.isdigit():
        raise DomainError("The form is missing the order's version; open it again.")
    note = fields.text("note")[:2000]
    lines: list[ReceiptLine] = []
    for line in po.lines:
        if line.cancelled:
            continue
        received = _quantity(fields.text(f"received-{line.line_no}"))
        if received is None:
            raise DomainError(
                "The received quantity on line {line_no} must be a number of zero or more.",
                line_no=line.line_no,
            )
        rejected = _quantity(fields.text(f"rejected-{line.line_no}"))
        if rejected is None:
            raise DomainError(
                "The rejected quantity on line {line_no} must be a number of zero or more.",
                line_no=line.line_no,
            )
        if received == 0 and rejected == 0:
            continue
        lines.append(ReceiptLine(line.line_no, received, rejected, note))
    if not lines:
        raise DomainError("Enter the quantity received on at least one line.")
    shipment = fields.text("shipment") or None
    return int(version_text), Receipt("", today, shipment, tuple(lines))


@post(
    RECEIPTS + "/{number:str}",
    name="receipt-record",
    include_in_schema=False,
    opt=requires(s.RECEIPT_WRITE),
)
async def record_page(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    uow: NamedDependency[UnitOfWork],
    number: FromPath[str],
) -> Response[Any]:
    po = await purchase_order_detail(actor, number)
    fields = Fields((await request.form()).multi_items())
    shipment = fields.text("shipment")
    today = datetime.now(view.i18n.time_zone).date()
    try:
        version, receipt = receipt_of(fields, po, today)
        await record(uow, actor, po.number, version, receipt)
    except Conflict:
        current = await purchase_order_detail(actor, number)
        message = view.i18n.gettext(
            "The order changed since you opened this form; check the quantities and save again."
        )
        return await _form_page(
            view, current, shipment, fields=None, error=message, status_code=409
        )
    except NotFound:
        raise
    except DomainError as error:
        return await _form_page(
            view, po, shipment, fields=fields, error=view.i18n.explain(error), status_code=422
        )
    return Redirect(f"{order_path(po.number)}?{urlencode({'received': '1'})}", status_code=303)


# --- API ---------------------------------------------------------------------------------------

Qty = Annotated[Decimal, Meta(description="A decimal string with up to four decimals.")]


class NewReceiptLine(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    line_no: Annotated[int, Meta(ge=1)]
    received: Qty
    """What arrived of the line, rejected goods included."""
    rejected: Qty = Decimal(0)
    """Of what arrived, what was turned away (damaged, wrong)."""
    note: Annotated[str, Meta(max_length=2000)] = ""


class NewReceipt(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    version: Annotated[int, Meta(ge=1)] | None = None
    """The order's version (or send If-Match)."""
    number: Annotated[str, Meta(min_length=1, max_length=60)] | None = None
    """Your own goods receipt number; one is given when left out."""
    received_on: date | None = None
    """The day the goods arrived; today when left out."""
    shipment: Annotated[str, Meta(min_length=1, max_length=60)] | None = None
    """The shipment (ASN) the goods came with, if known."""
    lines: Annotated[list[NewReceiptLine], Meta(min_length=1)]


class ReceiptRecorded(msgspec.Struct, frozen=True, kw_only=True):
    receipt: str
    """The goods receipt number."""
    purchase_order: schemas.PurchaseOrder


NEW_RECEIPT = Body(
    media_type=RequestEncodingType.JSON,
    description="What arrived at the warehouse against the order.",
    examples=[
        Example(
            summary="A shipment received, two damaged",
            value={
                "version": 6,
                "shipment": "ASN-0001",
                "received_on": "2027-01-10",
                "lines": [{"line_no": 1, "received": "60", "rejected": "2", "note": "2 dented"}],
            },
        )
    ],
)


@post(
    API_PREFIX + "/purchase-orders/{number:str}/receipts",
    operation_id="recordReceipt",
    summary="Record a goods receipt",
    tags=["Receipts"],
    security=[{"oauth2": [s.RECEIPT_WRITE]}],
    opt=requires(s.RECEIPT_WRITE),
    responses={
        201: ResponseSpec(
            data_container=ReceiptRecorded,
            description="Recorded; Location names the order.",
            generate_examples=False,
        ),
        **api.problem_responses(400, 401, 403, 404, 409, 422, 428),
    },
)
async def post_receipt(
    write: NamedDependency[api.Write],
    number: FromPath[str],
    data: Annotated[NewReceipt, NEW_RECEIPT],
    if_match: api.IfMatch = None,
    idempotency_key: api.IdempotencyKey = None,
) -> Response[bytes]:
    """Record goods received against the order: per line what arrived and what was rejected.
    More than ordered beyond the over-receipt tolerance is refused, as is a cancelled
    shipment. Send an Idempotency-Key so that a retry never receives twice."""
    version = write.version(data.version, if_match)
    actor = write.actor

    async def run() -> Response[bytes]:
        detail = await purchase_order_detail(actor, number)
        received_on = data.received_on or datetime.now(write.i18n.time_zone).date()
        lines = tuple(
            ReceiptLine(line.line_no, line.received, line.rejected, line.note)
            for line in data.lines
        )
        receipt = Receipt(data.number or "", received_on, data.shipment, lines)
        await record(write.uow, actor, detail.number, version, receipt)
        order = schemas.purchase_order(await purchase_order_detail(actor, number))
        number_given = await _latest_receipt(detail.number)
        return api.json_response(
            ReceiptRecorded(receipt=number_given, purchase_order=order),
            status=201,
            location=f"{API_PREFIX}/purchase-orders/{quote(detail.number, safe='')}",
        )

    async def current(conflict: Conflict) -> ApiProblem:
        order = schemas.purchase_order(await purchase_order_detail(actor, number))
        return api.stale(write.i18n, conflict, order, version=order.version)

    return await write.answer(run, key=idempotency_key, on_conflict=current, based_on=version)


async def _latest_receipt(po_number: str) -> str:
    row = (
        await t.Receipt.select(t.Receipt.number)
        .where(t.Receipt.po.number == po_number)
        .order_by(t.Receipt.id, ascending=False)
        .first()
        .run()
    )
    return str(row["number"]) if row else ""


API_ROUTER = Router(
    "/",
    route_handlers=[post_receipt],
    dependencies={"write": Provide(api.provide_write, sync_to_thread=False)},
    exception_handlers=api.exception_handlers(),
)

ROUTES: list[HTTPRouteHandler | Router] = [start, receipt_form, record_page, API_ROUTER]
"""The warehouse's receipt pages and the receipt API."""
