"""Lists as files: `export_response` writes rows as CSV (UTF-8 with a byte order mark, so
Excel opens Chinese text right) or XLSX (bold header, dates as dates, numbers as numbers,
column widths), and the export routes of the order lists, each reading its filters with the
same code as its list page and confined to what the reader may see.
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.response import Stream
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from portal.auth import scopes as s
from portal.auth.guards import requires
from portal.auth.principal import Principal
from portal.customer.listing import OrdersListing
from portal.db import customer_queries, dashboard_queries, queries
from portal.db.inbox import inbox
from portal.domain.states import POStatus, SOStatus
from portal.i18n import labels
from portal.i18n.labels import N_
from portal.supplier.listing import INBOX, InboxListing
from portal.web import orders as lists
from portal.web.i18n import I18n
from portal.web.listing import DEFAULT_SORT, parse_sort, parse_status

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")
MAX_ROWS = 100_000
BATCH = 500

Columns = list[tuple[str, str]]


def export_response(
    fmt: str,
    filename: str,
    columns: Columns,
    rows: Iterable[Mapping[str, Any]],
    i18n: I18n | None = None,
) -> Response[Any]:
    """`rows` as a download named `filename` (without extension). `columns`: (key, header
    already translated). CSV streams row by row; XLSX is written by openpyxl's write-only
    workbook (rows go to disk-backed XML as they come)."""
    if fmt not in FORMATS:
        raise ValidationException(f"Unknown format {fmt!r}; use csv or xlsx.")
    name = f"{filename}.{fmt}"
    disposition = f"attachment; filename=\"{_ascii(name)}\"; filename*=UTF-8''{quote(name)}"
    headers = {"Content-Disposition": disposition, "Cache-Control": "no-store"}
    if fmt == "csv":
        return Stream(
            _csv_chunks(columns, rows), media_type="text/csv; charset=utf-8", headers=headers
        )
    return Response(_xlsx(columns, rows), media_type=XLSX_MEDIA_TYPE, headers=headers)


def _ascii(name: str) -> str:
    return "".join(char if char.isascii() and char not in '"\\' else "_" for char in name)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return (
            format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
        )
    return str(value)


def _csv_chunks(columns: Columns, rows: Iterable[Mapping[str, Any]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([header for _, header in columns])
    for count, row in enumerate(rows, start=1):
        writer.writerow([_cell_text(row.get(key)) for key, _ in columns])
        if count % 200 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _xlsx(columns: Columns, rows: Iterable[Mapping[str, Any]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    widths = [
        max(10, len(header) * 2 if not header.isascii() else len(header) + 2)
        for _, header in columns
    ]
    bold = Font(bold=True)
    header_cells = []
    for _, header in columns:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = bold
        header_cells.append(cell)
    body: list[list[Any]] = []
    for row in rows:
        values: list[Any] = []
        for index, (key, _) in enumerate(columns):
            value = row.get(key)
            if isinstance(value, datetime):
                value = value.replace(tzinfo=None)
            if isinstance(value, Decimal):
                value = float(value) if value != value.to_integral() else int(value)
            if isinstance(value, bool):
                value = int(value)
            widths[index] = min(60, max(widths[index], len(_cell_text(value)) + 2))
            values.append(value)
        body.append(values)
    letters = [_letter(index) for index in range(len(columns))]
    for letter, width in zip(letters, widths, strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    sheet.append(header_cells)
    for values in body:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book.save(out)
    return out.getvalue()


def _letter(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


# --- the order lists ----------------------------------------------------------------------------

NUMBER = N_("Number")
STATUS = N_("Status")
SUPPLIER = N_("Supplier")
SUPPLIER_NAME = N_("Supplier name")
CUSTOMER = N_("Customer")
CUSTOMER_NAME = N_("Customer name")
NEED_DATE = N_("Need date")
PROMISED_DATE = N_("Promised date")
REQUESTED_DATE = N_("Requested date")
EXPECTED_DATE = N_("Expected date")
LATE = N_("Late")
UPDATED = N_("Last change")
CARRIER = N_("Carrier")
TRACKING = N_("Tracking number")
LINES = N_("Lines")

PO_FILTERS = (
    "supplier",
    "customer",
    "item",
    "buyer",
    "date_from",
    "date_to",
    "arrival_from",
    "arrival_to",
)
SO_FILTERS = ("supplier", "customer", "item", "buyer", "date_from", "date_to", "late")


def _columns(i18n: I18n, *pairs: tuple[str, str]) -> Columns:
    return [(key, i18n.gettext(label)) for key, label in pairs]


def _status(i18n: I18n, names: Mapping[str, str], status: str) -> str:
    return i18n.gettext(names[status]) if status in names else status


def _query(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {key: value for key, value in request.query_params.items()}


async def _pages(fetch: Callable[[int], Awaitable[Any]]) -> AsyncIterator[Any]:
    """Every item of a paged list, a batch at a time, up to MAX_ROWS."""
    page, seen = 1, 0
    while seen < MAX_ROWS:
        found = await fetch(page)
        for item in found.items:
            yield item
        seen += len(found.items)
        if len(found.items) < BATCH:
            return
        page += 1


async def _collect(
    items: AsyncIterator[Any], row: Callable[[Any], dict[str, Any]]
) -> list[dict[str, Any]]:
    return [row(item) async for item in items]


@get(
    lists.PO_LIST + "/export",
    name="purchase-orders-export",
    include_in_schema=False,
    opt=requires(s.PO_READ),
)
async def purchase_orders_export(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    i18n: NamedDependency[I18n],
) -> Response[Any]:
    """The purchase order list as the page shows it, under the same filters, every page."""
    query = _query(request)
    actor = principal.actor
    given = lists.list_filters(actor, **{name: query.get(name, "") for name in PO_FILTERS})
    only = await dashboard_queries.purchase_order_ids(
        lists.filters_of(given),
        lists.day(given.get("arrival_from")),
        lists.day(given.get("arrival_to")),
    )
    status = parse_status(query.get("status", ""), POStatus)
    sort = parse_sort(query.get("sort", DEFAULT_SORT))

    async def fetch(page: int) -> Any:
        return await queries.purchase_orders(
            actor, status=status, sort=sort, page=page, per_page=BATCH, only=only
        )

    rows = await _collect(
        _pages(fetch),
        lambda po: {
            "number": po.number,
            "supplier": po.supplier,
            "supplier_name": po.supplier_name,
            "status": _status(i18n, labels.PO_STATUSES, po.status),
            "need_date": po.need_date,
            "promised_date": po.promised_date,
            "late": po.late,
            "updated_at": po.updated_at,
        },
    )
    columns = _columns(
        i18n,
        ("number", NUMBER),
        ("supplier", SUPPLIER),
        ("supplier_name", SUPPLIER_NAME),
        ("status", STATUS),
        ("need_date", NEED_DATE),
        ("promised_date", PROMISED_DATE),
        ("late", LATE),
        ("updated_at", UPDATED),
    )
    return export_response(_format(query), "purchase-orders", columns, rows, i18n)


@get(
    lists.SO_LIST + "/export",
    name="sales-orders-export",
    include_in_schema=False,
    opt=requires(s.ORDER_READ),
)
async def sales_orders_export(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    i18n: NamedDependency[I18n],
) -> Response[Any]:
    query = _query(request)
    actor = principal.actor
    wanted = {name: query.get(name, "") for name in SO_FILTERS}
    wanted["late"] = "1" if wanted["late"] else ""
    given = lists.list_filters(actor, **wanted)
    only = await dashboard_queries.sales_order_ids(
        lists.filters_of(given), late=bool(given.get("late"))
    )
    status = parse_status(query.get("status", ""), SOStatus)
    sort = parse_sort(query.get("sort", DEFAULT_SORT))

    async def fetch(page: int) -> Any:
        return await queries.sales_orders(
            actor, status=status, sort=sort, page=page, per_page=BATCH, only=only
        )

    rows = await _collect(
        _pages(fetch),
        lambda so: {
            "number": so.number,
            "customer": so.customer,
            "customer_name": so.customer_name,
            "status": _status(i18n, labels.SO_STATUSES, so.status),
            "requested_date": so.requested_date,
            "expected_date": so.expected_date,
            "late": so.late,
            "updated_at": so.updated_at,
        },
    )
    columns = _columns(
        i18n,
        ("number", NUMBER),
        ("customer", CUSTOMER),
        ("customer_name", CUSTOMER_NAME),
        ("status", STATUS),
        ("requested_date", REQUESTED_DATE),
        ("expected_date", EXPECTED_DATE),
        ("late", LATE),
        ("updated_at", UPDATED),
    )
    return export_response(_format(query), "sales-orders", columns, rows, i18n)


@get(INBOX + "/export", name="supplier-export", include_in_schema=False, opt=requires(s.PO_READ))
async def supplier_export(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    i18n: NamedDependency[I18n],
) -> Response[Any]:
    """The supplier's own purchase orders (the inbox's filters), one row per open line."""
    query = _query(request)
    listing = InboxListing.from_query(query)
    today = datetime.now(i18n.time_zone).date()

    async def fetch(page: int) -> Any:
        found = await inbox(
            principal.actor,
            listing.filters(),
            today=today,
            sort=listing.order(),
            page=page,
            per_page=BATCH,
        )
        return found.page

    rows: list[dict[str, Any]] = []
    async for po in _pages(fetch):
        for line in po.lines:
            rows.append(
                {
                    "number": po.number,
                    "supplier": po.supplier,
                    "status": _status(i18n, labels.PO_STATUSES, po.status),
                    "line_no": line.line_no,
                    "item": line.item,
                    "description": line.description,
                    "quantity": line.quantity,
                    "unit": line.unit,
                    "need_date": line.need_date,
                    "promised_date": line.promised_date,
                    "shipped_qty": line.shipped_qty,
                    "late": line.late,
                }
            )
    columns = _columns(
        i18n,
        ("number", NUMBER),
        ("supplier", SUPPLIER),
        ("status", STATUS),
        ("line_no", N_("Line no.")),
        ("item", N_("Item")),
        ("description", N_("Description")),
        ("quantity", N_("Quantity")),
        ("unit", N_("Unit")),
        ("need_date", NEED_DATE),
        ("promised_date", PROMISED_DATE),
        ("shipped_qty", N_("Shipped")),
        ("late", LATE),
    )
    return export_response(_format(query), "purchase-orders", columns, rows, i18n)


@get("/orders/export", name="customer-export", include_in_schema=False, opt=requires(s.ORDER_READ))
async def customer_export(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    i18n: NamedDependency[I18n],
) -> Response[Any]:
    """The customer's own orders (the list's filters), one row per line."""
    query = _query(request)
    listing = OrdersListing.from_query(query)

    async def fetch(page: int) -> Any:
        return await customer_queries.orders(
            principal.actor, listing.filters(), page=page, per_page=BATCH
        )

    rows: list[dict[str, Any]] = []
    async for order in _pages(fetch):
        for line in order.lines:
            rows.append(
                {
                    "number": order.number,
                    "status": _status(i18n, labels.SO_STATUSES, order.status),
                    "line_no": line.line_no,
                    "item": line.item,
                    "description": line.description,
                    "quantity": line.quantity,
                    "unit": line.unit,
                    "requested_date": line.requested_date,
                    "expected_date": line.expected_date,
                    "shipped_qty": line.shipped_qty,
                    "late": line.late,
                    "carrier": order.carrier,
                    "tracking_no": order.tracking_no,
                }
            )
    columns = _columns(
        i18n,
        ("number", NUMBER),
        ("status", STATUS),
        ("line_no", N_("Line no.")),
        ("item", N_("Item")),
        ("description", N_("Description")),
        ("quantity", N_("Quantity")),
        ("unit", N_("Unit")),
        ("requested_date", REQUESTED_DATE),
        ("expected_date", EXPECTED_DATE),
        ("shipped_qty", N_("Shipped")),
        ("late", LATE),
        ("carrier", CARRIER),
        ("tracking_no", TRACKING),
    )
    return export_response(_format(query), "orders", columns, rows, i18n)


def _format(query: Mapping[str, str]) -> str:
    return query.get("format", "csv") or "csv"


ROUTES = [purchase_orders_export, sales_orders_export, supplier_export, customer_export]
