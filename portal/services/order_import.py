"""Purchase and sales orders from an ERP's export (Kingdee/Yonyou-style Chinese headers or
English): read the sheet, map its columns, check every row, then create every order or none.

The work runs as an `import_job` row taken by a background worker in two phases:

1. Validate: the file is read and every row checked against the database (suppliers or
   customers known, numbers not taken). Progress is written to the job row in short
   transactions, so any process (another worker, the web server) reads it.
2. Apply: every order is created in ONE transaction, with the events the service commands
   record (`po.created`/`po.issued` or `so.created`, via `import`, the requesting user as
   actor) and one `import.completed` on the internal organisation's stream; the job row is
   marked done in the same transaction. On SQLite that transaction holds the file's write
   lock from start to end, so no second write can report progress meanwhile: the apply
   phase's progress is kept in `LIVE_PROGRESS` (memory of the worker's process, read by the
   pages the same process serves — the embedded worker of `portal serve` is the default) and
   the row says only "applying" until the end. A page served by another process shows the
   apply phase without a count, then the final state.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import socket
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Coroutine, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

import anyio
import anyio.lowlevel
from openpyxl import load_workbook

from portal.db import tables as t
from portal.db.codec import dump
from portal.db.database import Database
from portal.db.repositories import PurchaseOrders, SalesOrders
from portal.domain.accounts import OrgRecord
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.errors import DomainError
from portal.domain.events import EventKind
from portal.domain.orders import POLine, PurchaseOrder, SalesLine, SalesOrder
from portal.services.promise_import import (
    FileProblem,
    ImportRefused,
    _decode,
    _kind_of,
    _text,
    expected_kind,
)
from portal.services.promise_import import Kind as FileKind
from portal.services.unit_of_work import UnitOfWork

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
MAX_UNPACKED_BYTES = 400 * 1024 * 1024
LEASE = timedelta(minutes=15)
CHUNK = 500
"""Rows per database round trip (under SQLite's limit of bound variables)."""
PROGRESS_EVERY = 2_000
MAX_ERRORS = 1_000
"""A job keeps the first errors only: a file wrong throughout needs fixing, not listing."""


logger = logging.getLogger(__name__)


class Kind(StrEnum):
    PURCHASE_ORDERS = "purchase_orders"
    SALES_ORDERS = "sales_orders"


class Field(StrEnum):
    NUMBER = "number"
    PARTY = "party"
    CURRENCY = "currency"
    LINE_NO = "line_no"
    ITEM = "item"
    DESCRIPTION = "description"
    QUANTITY = "quantity"
    UNIT = "unit"
    UNIT_PRICE = "unit_price"
    DATE = "date"
    CONTACT_EMAIL = "contact_email"
    CONTACT_PHONE = "contact_phone"


FIELDS: dict[Kind, tuple[Field, ...]] = {
    Kind.PURCHASE_ORDERS: tuple(
        f for f in Field if f not in (Field.CONTACT_EMAIL, Field.CONTACT_PHONE)
    ),
    Kind.SALES_ORDERS: tuple(Field),
}
REQUIRED: tuple[Field, ...] = (
    Field.NUMBER,
    Field.PARTY,
    Field.CURRENCY,
    Field.LINE_NO,
    Field.ITEM,
    Field.QUANTITY,
    Field.UNIT,
    Field.UNIT_PRICE,
    Field.DATE,
)
LONGEST: dict[Field, int] = {
    Field.NUMBER: 40,
    Field.PARTY: 32,
    Field.ITEM: 64,
    Field.UNIT: 16,
    Field.DESCRIPTION: 2000,
    Field.CONTACT_EMAIL: 254,
    Field.CONTACT_PHONE: 64,
}

_ALIASES: dict[Field, tuple[str, ...]] = {
    Field.NUMBER: (
        "order no",
        "order number",
        "number",
        "po",
        "po no",
        "po number",
        "purchase order",
        "so",
        "so no",
        "so number",
        "sales order",
        "document no",
        "bill no",
        "单据编号",
        "订单编号",
        "订单号",
        "采购订单号",
        "销售订单号",
        "单号",
        "采购订单编号",
        "销售订单编号",
    ),
    Field.PARTY: (
        "supplier",
        "supplier code",
        "vendor",
        "vendor code",
        "customer",
        "customer code",
        "供应商",
        "供应商编码",
        "供应商代码",
        "客户",
        "客户编码",
        "客户代码",
    ),
    Field.CURRENCY: ("currency", "curr", "currency code", "币别", "币种", "币别编码"),
    Field.LINE_NO: ("line", "line no", "line number", "seq", "行号", "序号", "分录号"),
    Field.ITEM: (
        "item",
        "item code",
        "item no",
        "material",
        "material code",
        "part",
        "part no",
        "sku",
        "物料编码",
        "物料代码",
        "存货编码",
        "物料",
        "料号",
    ),
    Field.DESCRIPTION: (
        "description",
        "item description",
        "item name",
        "material name",
        "name",
        "物料名称",
        "存货名称",
        "品名",
        "描述",
        "规格型号",
    ),
    Field.QUANTITY: ("quantity", "qty", "order qty", "数量", "采购数量", "销售数量", "订货数量"),
    Field.UNIT: ("unit", "uom", "unit of measure", "单位", "计量单位", "采购单位", "销售单位"),
    Field.UNIT_PRICE: ("unit price", "price", "单价", "含税单价", "采购单价", "销售单价"),
    Field.DATE: (
        "need date",
        "needed date",
        "requested date",
        "request date",
        "delivery date",
        "due date",
        "need by",
        "需求日期",
        "交货日期",
        "要货日期",
        "计划到货日期",
        "交期",
        "预计交货日期",
        "到货日期",
    ),
    Field.CONTACT_EMAIL: ("contact email", "email", "e-mail", "联系邮箱", "邮箱", "电子邮件"),
    Field.CONTACT_PHONE: (
        "contact phone",
        "phone",
        "telephone",
        "mobile",
        "联系电话",
        "电话",
        "手机",
    ),
}


def _key(header: str) -> str:
    return re.sub(r"[\s._\-/():#]", "", unicodedata.normalize("NFKC", header)).casefold()


HEADER_NAMES: dict[str, Field] = {
    _key(name): column for column, names in _ALIASES.items() for name in names
}
HEADER_NAMES.update({_key(column.value): column for column in Field})


class RowProblem(StrEnum):
    MISSING = "missing"
    TOO_LONG = "too_long"
    BAD_LINE_NO = "bad_line_no"
    BAD_DATE = "bad_date"
    BAD_NUMBER = "bad_number"
    QUANTITY_NOT_POSITIVE = "quantity_not_positive"
    PRICE_NEGATIVE = "price_negative"
    BAD_CURRENCY = "bad_currency"
    NO_CONTACT = "no_contact"
    UNKNOWN_PARTY = "unknown_party"
    DUPLICATE_LINE = "duplicate_line"
    ORDER_EXISTS = "order_exists"
    ORDER_DIFFERS = "order_differs"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    code: RowProblem
    params: dict[str, str] = field(default_factory=dict)

    def english(self) -> str:
        return f"{self.code.value} {self.params}" if self.params else self.code.value

    def to_data(self) -> dict[str, Any]:
        return {"row": self.row, "code": self.code.value, "params": self.params}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> RowError:
        return cls(int(data["row"]), RowProblem(data["code"]), dict(data.get("params") or {}))


@dataclass(frozen=True, slots=True)
class Line:
    row: int
    line_no: int
    item: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    on: date


@dataclass(slots=True)
class Order:
    number: str
    party: str
    currency: str
    contact_email: str
    contact_phone: str
    first_row: int
    lines: list[Line] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Sheet:
    headers: list[str]
    rows: list[tuple[int, list[str]]]


@dataclass(frozen=True, slots=True)
class Checked:
    orders: list[Order]
    errors: list[RowError]
    total: int

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.orders)

    @property
    def lines(self) -> int:
        return sum(len(order.lines) for order in self.orders)


# --- reading ----------------------------------------------------------------------------------


def read_sheet(data: bytes, filename: str, media_type: str = "") -> Sheet:
    """The header row and the data rows (number in the sheet, cells as text)."""
    shown = filename or media_type or "?"
    if len(data) > MAX_BYTES:
        raise ImportRefused(FileProblem.TOO_LARGE, "The file is too large.", name=shown)
    if not data.strip():
        raise ImportRefused(FileProblem.EMPTY, "The file is empty.", name=shown)
    kind = _kind_of(data, shown)
    if expected_kind(filename, media_type) not in (kind, None) or (
        not filename and expected_kind(filename, media_type) is None and kind != FileKind.CSV
    ):
        raise ImportRefused(FileProblem.WRONG_TYPE, "Upload a .csv or .xlsx file.", name=shown)
    raw = _xlsx(data, shown) if kind == FileKind.XLSX else _csv(data, shown)
    rows: list[tuple[int, list[str]]] = []
    headers: list[str] | None = None
    for number, values in raw:
        cells = [_text(value) for value in values]
        if not any(cells):
            continue
        if headers is None:
            headers = cells
            continue
        rows.append((number, cells))
        if len(rows) > MAX_ROWS:
            raise ImportRefused(FileProblem.TOO_MANY_ROWS, "Too many rows.", name=shown)
    if headers is None or not rows:
        raise ImportRefused(FileProblem.EMPTY, "Nothing to read.", name=shown)
    return Sheet(headers, rows)


def _csv(data: bytes, shown: str) -> Iterator[tuple[int, list[Any]]]:
    text = _decode(data, shown)
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    try:
        yield from enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1)
    except csv.Error as error:
        raise ImportRefused(FileProblem.UNREADABLE, "Unreadable CSV.", name=shown) from error


def _xlsx(data: bytes, shown: str) -> Iterator[tuple[int, list[Any]]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > MAX_UNPACKED_BYTES:
        raise ImportRefused(FileProblem.UNREADABLE, "The workbook is too large.", name=shown)
    rows: list[tuple[int, list[Any]]] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                for number, values in enumerate(
                    workbook.worksheets[0].iter_rows(values_only=True), start=1
                ):
                    rows.append((number, list(values)))
                    if len(rows) > MAX_ROWS + 2:
                        break
            finally:
                workbook.close()
    except Exception as error:  # openpyxl raises many kinds for a damaged workbook
        raise ImportRefused(FileProblem.UNREADABLE, "Unreadable workbook.", name=shown) from error
    return iter(rows)


def guess_mapping(headers: Sequence[str], kind: Kind) -> dict[str, int]:
    """Each field the kind knows -> the column (index) whose header names it."""
    mapping: dict[str, int] = {}
    for index, header in enumerate(headers):
        column = HEADER_NAMES.get(_key(header))
        if column is not None and column in FIELDS[kind] and column.value not in mapping:
            mapping[column.value] = index
    return mapping


def clean_mapping(raw: Mapping[str, Any], kind: Kind, width: int) -> dict[str, int]:
    mapping: dict[str, int] = {}
    for column in FIELDS[kind]:
        value = raw.get(column.value)
        try:
            index = int(value) if value not in (None, "") else -1
        except (TypeError, ValueError):
            index = -1
        if 0 <= index < width:
            mapping[column.value] = index
    return mapping


def unmapped(mapping: Mapping[str, int], kind: Kind) -> list[Field]:
    """Required fields without a column."""
    return [column for column in REQUIRED if column.value not in mapping]


# --- checking ---------------------------------------------------------------------------------

_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y-%m-%d %H:%M:%S")


def _date(text: str) -> date | None:
    text = re.sub(r"(\d+)年(\d+)月(\d+)日?", r"\1-\2-\3", text.strip())
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or value.as_tuple().exponent < -4 or abs(value) >= 10**14:  # type: ignore[operator]
        return None
    return value


def parse(
    sheet: Sheet, mapping: Mapping[str, int], kind: Kind
) -> tuple[list[Order], list[RowError]]:
    """The rows grouped into orders (by number), and what is wrong with each row as written."""
    errors: list[RowError] = []
    orders: dict[str, Order] = {}

    def cell(cells: list[str], column: Field) -> str:
        index = mapping.get(column.value)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    for number, cells in sheet.rows:
        found: list[RowError] = []
        values = {column: cell(cells, column) for column in FIELDS[kind]}
        for column in REQUIRED:
            if not values[column]:
                found.append(RowError(number, RowProblem.MISSING, {"field": column.value}))
        for column, longest in LONGEST.items():
            if column in values and len(values[column]) > longest:
                found.append(
                    RowError(
                        number, RowProblem.TOO_LONG, {"field": column.value, "max": str(longest)}
                    )
                )
        line_no = 0
        if values[Field.LINE_NO]:
            try:
                line_no = int(_decimal(values[Field.LINE_NO]) or 0)
                if Decimal(line_no) != _decimal(values[Field.LINE_NO]) or line_no < 1:
                    raise ValueError
            except ValueError:
                found.append(
                    RowError(number, RowProblem.BAD_LINE_NO, {"value": values[Field.LINE_NO]})
                )
        quantity = _decimal(values[Field.QUANTITY]) if values[Field.QUANTITY] else None
        if values[Field.QUANTITY] and quantity is None:
            found.append(
                RowError(
                    number,
                    RowProblem.BAD_NUMBER,
                    {"field": "quantity", "value": values[Field.QUANTITY]},
                )
            )
        elif quantity is not None and quantity <= 0:
            found.append(
                RowError(
                    number, RowProblem.QUANTITY_NOT_POSITIVE, {"value": values[Field.QUANTITY]}
                )
            )
        price = _decimal(values[Field.UNIT_PRICE]) if values[Field.UNIT_PRICE] else None
        if values[Field.UNIT_PRICE] and price is None:
            found.append(
                RowError(
                    number,
                    RowProblem.BAD_NUMBER,
                    {"field": "unit_price", "value": values[Field.UNIT_PRICE]},
                )
            )
        elif price is not None and price < 0:
            found.append(
                RowError(number, RowProblem.PRICE_NEGATIVE, {"value": values[Field.UNIT_PRICE]})
            )
        on = _date(values[Field.DATE]) if values[Field.DATE] else None
        if values[Field.DATE] and on is None:
            found.append(RowError(number, RowProblem.BAD_DATE, {"value": values[Field.DATE]}))
        currency = values[Field.CURRENCY].upper()
        if currency and not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
            found.append(
                RowError(number, RowProblem.BAD_CURRENCY, {"value": values[Field.CURRENCY]})
            )
        email = values.get(Field.CONTACT_EMAIL, "")
        phone = values.get(Field.CONTACT_PHONE, "")
        order_no = values[Field.NUMBER]
        party = values[Field.PARTY].upper()
        if order_no:
            order = orders.get(order_no)
            if order is None:
                order = orders[order_no] = Order(order_no, party, currency, email, phone, number)
            elif (order.party, order.currency) != (party, currency) or (
                kind == Kind.SALES_ORDERS
                and (order.contact_email, order.contact_phone) != (email, phone)
            ):
                found.append(
                    RowError(
                        number,
                        RowProblem.ORDER_DIFFERS,
                        {"number": order_no, "first": str(order.first_row)},
                    )
                )
            if line_no and any(line.line_no == line_no for line in order.lines):
                first = next(line.row for line in order.lines if line.line_no == line_no)
                found.append(
                    RowError(
                        number,
                        RowProblem.DUPLICATE_LINE,
                        {"line_no": str(line_no), "first": str(first)},
                    )
                )
            if not found:
                assert quantity is not None and price is not None and on is not None
                order.lines.append(
                    Line(
                        number,
                        line_no,
                        values[Field.ITEM],
                        values[Field.DESCRIPTION],
                        quantity,
                        values[Field.UNIT],
                        price,
                        on,
                    )
                )
        errors.extend(found)
    if kind == Kind.SALES_ORDERS:
        for order in orders.values():
            if not (order.contact_email or order.contact_phone):
                errors.append(
                    RowError(order.first_row, RowProblem.NO_CONTACT, {"number": order.number})
                )
    return list(orders.values()), errors


async def check(
    sheet: Sheet,
    mapping: Mapping[str, int],
    kind: Kind,
    progress: Any = None,
) -> Checked:
    """`parse`, then what only the database knows: the suppliers or customers, and numbers
    already in the portal. `progress(rows_checked)` is awaited now and then."""
    orders, errors = parse(sheet, mapping, kind)
    total = len(sheet.rows)
    if progress is not None:
        await progress(total // 2)
    parties = sorted({order.party for order in orders if order.party})
    allowed = ("supplier", "both") if kind == Kind.PURCHASE_ORDERS else ("customer", "both")
    known: set[str] = set()
    for chunk in _chunks(parties):
        rows = (
            await t.Organisation.select(t.Organisation.code, t.Organisation.kind)
            .where(t.Organisation.code.is_in(chunk))
            .run()
        )
        known.update(row["code"] for row in rows if row["kind"] in allowed)
    table = t.PurchaseOrder if kind == Kind.PURCHASE_ORDERS else t.SalesOrder
    numbers = [order.number for order in orders]
    taken: set[str] = set()
    done = 0
    for chunk in _chunks(numbers):
        rows = await table.select(table.number).where(table.number.is_in(chunk)).run()
        taken.update(row["number"] for row in rows)
        done += len(chunk)
        if progress is not None and numbers:
            await progress(total // 2 + (total - total // 2) * done // len(numbers))
    for order in orders:
        if order.party and order.party not in known:
            errors.append(
                RowError(order.first_row, RowProblem.UNKNOWN_PARTY, {"code": order.party})
            )
        if order.number in taken:
            errors.append(
                RowError(order.first_row, RowProblem.ORDER_EXISTS, {"number": order.number})
            )
    errors.sort(key=lambda error: error.row)
    return Checked(orders if not errors else [], errors, total)


def _chunks(items: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield list(items[start : start + CHUNK])


# --- applying ---------------------------------------------------------------------------------

LIVE_PROGRESS: dict[int, tuple[str, int]] = {}
"""job id -> (phase, rows) while this process works on it (see the module's docstring)."""


def importer(actor: Actor) -> Actor:
    return Actor(actor.kind, actor.id, actor.org, actor.side, actor.name, Via.IMPORT, actor.role)


def actor_data(actor: Actor) -> dict[str, Any]:
    return {**actor.to_data(), "via": Via.IMPORT.value}


def actor_from(data: Mapping[str, Any]) -> Actor:
    return Actor(
        ActorKind(data["kind"]),
        data.get("id"),
        data.get("org"),
        Side(data["side"]),
        str(data.get("name") or ""),
        Via.IMPORT,
        data.get("role"),
    )


@dataclass(frozen=True, slots=True)
class Imported:
    numbers: list[str]
    lines: int


async def create_orders(
    uow: UnitOfWork,
    actor: Actor,
    kind: Kind,
    orders: Sequence[Order],
    *,
    job_id: int | None = None,
    on_progress: Any = None,
) -> Imported:
    """The bulk variant of `issue_purchase_order` / `create_sales_order`: every order built by
    the same aggregate (`PurchaseOrder.create` / `SalesOrder.create`, so the same checks and
    events), all written in one transaction with one `import.completed` on the internal
    organisation's stream. Any refusal raises `DomainError` with the row, nothing written."""
    actor = importer(actor)
    built: list[PurchaseOrder | SalesOrder] = []
    async with uow:
        for order in orders:
            try:
                built.append(_build(actor, kind, order))
            except DomainError as error:
                raise RowRefused(order.first_row, error) from error
        table = t.PurchaseOrder if kind == Kind.PURCHASE_ORDERS else t.SalesOrder
        existing: set[str] = set()
        for chunk in _chunks([order.number for order in built]):
            rows = await table.select(table.number).where(table.number.is_in(chunk)).run()
            existing.update(row["number"] for row in rows)
        if existing:
            first = next(order for order in orders if order.number in existing)
            raise RowRefused(
                first.first_row,
                DomainError("Order {number} already exists.", number=first.number),
            )
        applied = 0
        for start in range(0, len(built), 200):
            part = built[start : start + 200]
            await _insert(kind, part, uow.now)
            applied += sum(len(order.lines) for order in part)
            if on_progress is not None:
                await on_progress(applied)
        for made in built:
            uow.note(made)
        record = OrgRecord(version=0, code=actor.org or "")
        numbers = [order.number for order in built]
        record.changed(
            actor,
            EventKind.IMPORT_COMPLETED,
            {
                "kind": kind.value,
                "job": job_id,
                "orders": len(numbers),
                "lines": applied,
                "numbers": numbers[:50],
            },
        )
        uow.note(record)
        if job_id is not None:
            result = {"orders": len(numbers), "lines": applied, "numbers": numbers[:1000]}
            uow.also(_finished(job_id, applied, result))
        await uow.commit()
    return Imported(numbers, applied)


def _finished(job_id: int, rows: int, result: dict[str, Any]) -> Any:
    async def write(uow: UnitOfWork) -> None:
        await (
            t.ImportJob.update(
                {
                    t.ImportJob.status: "done",
                    t.ImportJob.processed: rows,
                    t.ImportJob.result: dump(result),
                    t.ImportJob.finished_at: uow.now,
                    t.ImportJob.locked_until: None,
                }
            )
            .where(t.ImportJob.id == job_id)
            .run()
        )

    return write


class RowRefused(Exception):
    def __init__(self, row: int, error: DomainError) -> None:
        super().__init__(str(error))
        self.row = row
        self.error = error


def _build(actor: Actor, kind: Kind, order: Order) -> PurchaseOrder | SalesOrder:
    if kind == Kind.PURCHASE_ORDERS:
        return PurchaseOrder.create(
            actor,
            number=order.number,
            supplier=order.party,
            currency=order.currency,
            lines=[
                POLine(
                    ln.line_no, ln.item, ln.description, ln.quantity, ln.unit, ln.unit_price, ln.on
                )
                for ln in order.lines
            ],
        )
    return SalesOrder.create(
        actor,
        number=order.number,
        customer=order.party,
        currency=order.currency,
        lines=[
            SalesLine(
                ln.line_no,
                ln.item,
                ln.description,
                ln.quantity,
                ln.unit,
                ln.unit_price,
                ln.on,
                ln.on,
            )
            for ln in order.lines
        ],
        contact_email=order.contact_email,
        contact_phone=order.contact_phone,
    )


async def _insert(kind: Kind, orders: Sequence[PurchaseOrder | SalesOrder], now: datetime) -> None:
    """The orders' rows and their lines, as the repositories write them, a chunk at a time."""
    if kind == Kind.PURCHASE_ORDERS:
        pos = [o for o in orders if isinstance(o, PurchaseOrder)]
        await t.PurchaseOrder.insert(
            *[
                t.PurchaseOrder(
                    number=po.number,
                    supplier=po.supplier,
                    currency=po.currency,
                    status=po.status.value,
                    buyer=po.buyer,
                    version=po.version,
                    cr_count=po.cr_count,
                    created_at=now,
                    updated_at=now,
                )
                for po in pos
            ]
        ).run()
        ids = await _ids(t.PurchaseOrder, [po.number for po in pos])
        lines = [
            t.POLine(po=ids[po.number], **PurchaseOrders._line_values(line))
            for po in pos
            for line in po.lines
        ]
        for start in range(0, len(lines), 50):
            await t.POLine.insert(*lines[start : start + 50]).run()
        return
    sos = [o for o in orders if isinstance(o, SalesOrder)]
    repository = SalesOrders()
    for so in sos:
        await repository.add(so, now)


async def _ids(table: Any, numbers: list[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk in _chunks(numbers):
        rows = await table.select(table.id, table.number).where(table.number.is_in(chunk)).run()
        ids.update({row["number"]: row["id"] for row in rows})
    return ids


# --- jobs -------------------------------------------------------------------------------------


async def create_job(
    db: Database,
    *,
    kind: Kind,
    filename: str,
    content: bytes,
    mapping: Mapping[str, int],
    user_id: int,
    actor: Actor,
    total: int,
    status: str = "draft",
) -> int:
    async with db.write_transaction():
        rows = (
            await t.ImportJob.insert(
                t.ImportJob(
                    kind=kind.value,
                    status=status,
                    filename=filename[:255],
                    content=content,
                    mapping=dump(dict(mapping)),
                    user_id=user_id,
                    actor=dump(actor_data(actor)),
                    total=total,
                    created_at=datetime.now(UTC),
                )
            )
            .returning(t.ImportJob.id)
            .run()
        )
    return int(rows[0]["id"])


async def set_mapping(db: Database, job_id: int, mapping: Mapping[str, int]) -> None:
    async with db.write_transaction():
        await (
            t.ImportJob.update({t.ImportJob.mapping: dump(dict(mapping))})
            .where((t.ImportJob.id == job_id) & (t.ImportJob.status == "draft"))
            .run()
        )


async def submit(db: Database, job_id: int) -> bool:
    """A draft job queued for a worker; False if it was not a draft any more."""
    async with db.write_transaction():
        rows = (
            await t.ImportJob.update({t.ImportJob.status: "pending"})
            .where((t.ImportJob.id == job_id) & (t.ImportJob.status == "draft"))
            .returning(t.ImportJob.id)
            .run()
        )
    return bool(rows)


async def lease(db: Database, worker: str, now: datetime | None = None) -> int | None:
    """Take one pending job (or one whose worker's lease ran out) for `worker`, or None.
    On PostgreSQL the row is picked with FOR UPDATE SKIP LOCKED, so workers never wait for
    or take each other's; on SQLite the write transaction (BEGIN IMMEDIATE) serialises them."""
    now = now or datetime.now(UTC)
    until = now + LEASE
    job = t.ImportJob
    takeable = (job.status == "pending") | ((job.status == "running") & (job.locked_until < now))
    # Look before taking the write lock: an idle worker polls every second, and on SQLite each
    # write transaction would hold off every other writer of the file.
    if not await job.exists().where(takeable).run():
        return None
    async with db.write_transaction():
        query = job.select(job.id).where(takeable).order_by(job.id).limit(1)
        if not db.is_sqlite:
            query = query.lock_rows("UPDATE", skip_locked=True)
        rows = await query.run()
        if not rows:
            return None
        job_id = int(rows[0]["id"])
        await (
            job.update(
                {
                    job.status: "running",
                    job.worker: worker,
                    job.locked_until: until,
                    job.started_at: now,
                    job.processed: 0,
                }
            )
            .where(job.id == job_id)
            .run()
        )
    return job_id


async def _progress(db: Database, job_id: int, worker: str, rows: int) -> None:
    async with db.write_transaction():
        await (
            t.ImportJob.update(
                {
                    t.ImportJob.processed: rows,
                    t.ImportJob.locked_until: datetime.now(UTC) + LEASE,
                }
            )
            .where((t.ImportJob.id == job_id) & (t.ImportJob.worker == worker))
            .run()
        )


async def _failed(db: Database, job_id: int, errors: list[dict[str, Any]], processed: int) -> None:
    async with db.write_transaction():
        await (
            t.ImportJob.update(
                {
                    t.ImportJob.status: "failed",
                    t.ImportJob.errors: dump(errors),
                    t.ImportJob.processed: processed,
                    t.ImportJob.finished_at: datetime.now(UTC),
                    t.ImportJob.locked_until: None,
                }
            )
            .where(t.ImportJob.id == job_id)
            .run()
        )


async def run_job(db: Database, job_id: int, worker: str) -> str:
    """Validate, then apply, one leased job; its final status."""
    job = await t.ImportJob.select().where(t.ImportJob.id == job_id).first().run()
    assert job is not None
    kind = Kind(job["kind"])
    mapping = _json(job["mapping"])
    actor = actor_from(_json(job["actor"]))
    LIVE_PROGRESS[job_id] = ("validate", 0)
    try:
        try:
            sheet = read_sheet(bytes(job["content"]), job["filename"])
        except ImportRefused as refused:
            await _failed(
                db,
                job_id,
                [{"row": 0, "code": "file", "params": {"problem": refused.problem.value}}],
                0,
            )
            return "failed"
        last = [0]

        async def validated(rows: int) -> None:
            LIVE_PROGRESS[job_id] = ("validate", rows)
            if rows - last[0] >= PROGRESS_EVERY or rows == len(sheet.rows):
                last[0] = rows
                await _progress(db, job_id, worker, rows)

        checked = await check(
            sheet, clean_mapping(mapping, kind, len(sheet.headers)), kind, validated
        )
        if not checked.ok:
            errors = checked.errors or [RowError(0, RowProblem.MISSING, {"field": "number"})]
            await _failed(
                db, job_id, [error.to_data() for error in errors[:MAX_ERRORS]], checked.total
            )
            return "failed"
        LIVE_PROGRESS[job_id] = ("apply", 0)

        async def applied(rows: int) -> None:
            LIVE_PROGRESS[job_id] = ("apply", rows)
            await anyio.lowlevel.checkpoint()  # let the pages this process serves read it

        try:
            await create_orders(
                UnitOfWork(db), actor, kind, checked.orders, job_id=job_id, on_progress=applied
            )
        except RowRefused as refused:
            await _failed(
                db,
                job_id,
                [{"row": refused.row, "code": "refused", "params": {"detail": str(refused.error)}}],
                0,
            )
            return "failed"
        except Exception as error:
            await _failed(
                db,
                job_id,
                [{"row": 0, "code": "refused", "params": {"detail": repr(error)[:500]}}],
                0,
            )
            return "failed"
        return "done"
    finally:
        LIVE_PROGRESS.pop(job_id, None)


def _json(value: Any) -> Any:
    if isinstance(value, str):
        return json.loads(value or "null")
    return value


async def work_once(db: Database, worker: str) -> str | None:
    job_id = await lease(db, worker)
    if job_id is None:
        return None
    return await run_job(db, job_id, worker)


def runner(
    db: Database, worker: str | None = None, idle: float = 1.0
) -> Callable[[anyio.Event], Coroutine[Any, Any, None]]:
    """The background task: take and run jobs until `stop` is set. `worker` names this
    process in the job's lease (host and process id unless given)."""
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"

    async def run_forever(stop: anyio.Event) -> None:
        while not stop.is_set():
            try:
                status = await work_once(db, worker)
            except Exception:
                # A worker must not die of one bad job or a database away for a moment; the
                # job's lease runs out and it is taken again.
                logger.exception("the import worker's round failed; trying again")
                status = None
            if status is None:
                with anyio.move_on_after(idle):
                    await stop.wait()

    return run_forever


def progress_of(job: Mapping[str, Any]) -> tuple[str, int]:
    """(phase, rows) of a job as this process knows it best: the live count while it runs
    here, else the row's."""
    live = LIVE_PROGRESS.get(int(job["id"]))
    if live is not None:
        return live
    status = job["status"]
    if status == "done":
        return ("done", int(job["total"]))
    return (
        "validate" if status in ("running", "pending", "draft") else status,
        int(job["processed"]),
    )


def errors_of(job: Mapping[str, Any]) -> list[RowError]:
    found = []
    for item in _json(job["errors"]) or []:
        try:
            found.append(RowError.from_data(item))
        except (KeyError, ValueError):
            found.append(
                RowError(int(item.get("row", 0)), RowProblem.REFUSED, {"detail": str(item)})
            )
    return found


def mapping_of(job: Mapping[str, Any]) -> dict[str, int]:
    return {str(k): int(v) for k, v in (_json(job["mapping"]) or {}).items()}


def result_of(job: Mapping[str, Any]) -> dict[str, Any]:
    return dict(_json(job["result"]) or {})


def iter_numbers(orders: Iterable[Order]) -> list[str]:
    return [order.number for order in orders]
