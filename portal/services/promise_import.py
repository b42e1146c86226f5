"""Promise updates from a file: read a CSV or XLSX sheet into rows, preview what each row would
do, then apply them all or none.

A preview runs the real command (`promises.update_promises`) in a unit of work that is rolled
back at the end, rather than a second copy of its rules: the tolerance rule, the checks and the
grouping of lines into change requests then say in the preview exactly what they will say when
the rows are applied. Only what the file itself gets wrong (a missing cell, a date that is not
one, a line listed twice, an order the supplier does not have) is found before that, so that
each such row gets its own message.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import TracebackType
from typing import Any

from openpyxl import load_workbook

from portal.domain.actors import Actor, Via
from portal.domain.errors import Conflict, DomainError, NotFound
from portal.domain.schedule import Schedule
from portal.services.promises import PromisesUpdated, PromiseUpdate, UpdatePromises, update_promises
from portal.services.unit_of_work import UnitOfWork

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
"""A 2 MB workbook of promise rows unpacks to a few MB; more is a zip bomb, not a sheet."""
QUANTITY_PLACES = 4
"""Quantities are stored with four decimals; more would be rounded away unseen."""
MAX_QUANTITY = Decimal(10) ** 14


class Column(StrEnum):
    PO_NUMBER = "po_number"
    LINE_NO = "line_no"
    DATE = "date"
    QUANTITY = "quantity"
    REASON_CODE = "reason_code"
    COMMENT = "comment"


REQUIRED = (Column.PO_NUMBER, Column.LINE_NO, Column.DATE, Column.QUANTITY, Column.REASON_CODE)
HEADERS: dict[str, tuple[str, ...]] = {
    "en": ("PO no.", "Line no.", "Promised date", "Quantity", "Reason code", "Comment"),
    "zh_CN": ("采购订单号", "行号", "承诺交期", "数量", "原因代码", "备注"),
}
"""The template's header row in each language, in `Column` order; both are read back."""
_ALIASES: dict[Column, tuple[str, ...]] = {
    Column.PO_NUMBER: ("po", "pono", "ponumber", "purchaseorder", "purchaseorderno", "订单号"),
    Column.LINE_NO: ("line", "lineno", "linenumber", "poline"),
    Column.DATE: ("date", "promiseddate", "promisedate", "deliverydate", "交期"),
    Column.QUANTITY: ("qty", "quantity", "promisedqty", "promisedquantity", "承诺数量"),
    Column.REASON_CODE: ("reason", "reasoncode", "原因"),
    Column.COMMENT: ("comment", "comments", "note", "notes", "说明"),
}


def _key(header: str) -> str:
    """A header cell as compared: case, spaces, punctuation and full-width forms (what a
    Chinese input method types) do not matter."""
    return re.sub(r"[\s._\-/():#]", "", unicodedata.normalize("NFKC", header)).casefold()


HEADER_NAMES: dict[str, Column] = {
    _key(name): column
    for column, names in _ALIASES.items()
    for name in (*names, *(header[list(Column).index(column)] for header in HEADERS.values()))
}


class FileProblem(StrEnum):
    TOO_LARGE = "too_large"
    WRONG_TYPE = "wrong_type"
    OLD_EXCEL = "old_excel"
    ENCODING = "encoding"
    UNREADABLE = "unreadable"
    EMPTY = "empty"
    MISSING_COLUMNS = "missing_columns"
    TOO_MANY_ROWS = "too_many_rows"


class ImportRefused(DomainError):
    """The file as a whole cannot be read; no row of it was looked at."""

    def __init__(self, problem: FileProblem, message: str, **params: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.params = params


class RowProblem(StrEnum):
    MISSING = "missing"
    EXTRA_CELLS = "extra_cells"
    BAD_LINE_NO = "bad_line_no"
    BAD_DATE = "bad_date"
    BAD_QUANTITY = "bad_quantity"
    QUANTITY_NOT_POSITIVE = "quantity_not_positive"
    UNKNOWN_REASON = "unknown_reason"
    DUPLICATE = "duplicate"
    PAST_DATE = "past_date"
    NOT_FOUND = "not_found"
    UNKNOWN_LINE = "unknown_line"
    REFUSED = "refused"
    """The command refused the row; `detail` says why, in the domain's words."""


@dataclass(frozen=True, slots=True)
class Problem:
    code: RowProblem
    params: dict[str, str] = field(default_factory=dict)
    error: DomainError | None = None
    """The command's own refusal (`REFUSED`), kept whole so it is told in the reader's
    language; `params["detail"]` holds its English text."""


@dataclass(frozen=True, slots=True)
class Cells:
    """A row's cells as written in the file, to show it back to its author."""

    po_number: str = ""
    line_no: str = ""
    date: str = ""
    quantity: str = ""
    reason_code: str = ""
    comment: str = ""


@dataclass(frozen=True, slots=True)
class Row:
    number: int
    """The row's number in the sheet (the header is row 1 or later)."""
    cells: Cells
    update: PromiseUpdate | None = None
    """What the row asks for; None when the row cannot be read."""
    problem: Problem | None = None


class Outcome(StrEnum):
    APPLY = "apply"
    """Promised anew at once (before applying: will be)."""
    CHANGE_REQUEST = "change_request"
    """Beyond the tolerance rule: goes to the buyer in a change request."""
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class RowResult:
    row: Row
    outcome: Outcome
    problem: Problem | None = None
    change_request: str = ""
    """After applying: the change request the row went into (automatically approved ones too)."""


@dataclass(frozen=True, slots=True)
class Preview:
    results: list[RowResult]
    versions: dict[str, int]
    """The version of each purchase order the rows name, as the preview saw it."""

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(r.outcome != Outcome.ERROR for r in self.results)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for result in self.results if result.outcome == outcome)

    @property
    def rows(self) -> list[Row]:
        return [result.row for result in self.results]


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying did: `done` is None when a row was refused, and then nothing was applied
    and `preview` says which row and why."""

    preview: Preview
    done: PromisesUpdated | None

    @property
    def orders(self) -> list[str]:
        return sorted({po.number for po in self.done.orders}) if self.done else []


# --- reading the file -------------------------------------------------------------------------


class Kind(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""The container of Excel 97-2003 workbooks (.xls)."""


def expected_kind(filename: str, media_type: str) -> Kind | None:
    """What the name (or, without one, the media type) says the file is; None: neither."""
    name = filename.strip().lower()
    if name:
        return next((kind for kind in Kind if name.endswith("." + kind.value)), None)
    media = media_type.split(";")[0].strip().lower()
    return {"text/csv": Kind.CSV, XLSX_MEDIA_TYPE: Kind.XLSX}.get(media)


def read_rows(
    data: bytes, filename: str, media_type: str, reasons: Mapping[str, str]
) -> tuple[list[Row], list[str]]:
    """The data rows of an uploaded file, each read or with the problem found, and the header
    cells that name no column (left out). `reasons` maps every accepted spelling of a reason
    code (folded with `casefold`) to the code."""
    shown = filename or media_type or "?"
    if len(data) > MAX_BYTES:
        raise ImportRefused(FileProblem.TOO_LARGE, "The file is larger than 2 MB.", name=shown)
    if not data.strip():
        raise ImportRefused(FileProblem.EMPTY, "The file is empty.", name=shown)
    kind = _kind_of(data, shown)
    if expected_kind(filename, media_type) != kind:
        raise ImportRefused(FileProblem.WRONG_TYPE, "Upload a .csv or .xlsx file.", name=shown)
    sheet = _xlsx_rows(data, shown) if kind == Kind.XLSX else _csv_rows(data, shown)
    return _rows(sheet, reasons, shown)


def _kind_of(data: bytes, shown: str) -> Kind:
    """What the content is, whatever its name says."""
    if data.startswith(_OLE2):
        raise ImportRefused(FileProblem.OLD_EXCEL, "Save the workbook as .xlsx.", name=shown)
    if data.startswith(_ZIP):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "xl/workbook.xml" in archive.namelist():
                    return Kind.XLSX
        except zipfile.BadZipFile:
            pass
        raise ImportRefused(FileProblem.WRONG_TYPE, "Upload a .csv or .xlsx file.", name=shown)
    return Kind.CSV


def _decode(data: bytes, shown: str) -> str:
    """UTF-8 (with or without the byte order mark Excel writes), else GB18030 (what Chinese
    Excel saves as "CSV"). UTF-8 goes first: Chinese text in GB18030 is almost never valid
    UTF-8, while UTF-8 bytes would often pass for (wrong) GB18030 characters."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # UTF-16, as Excel's "Unicode text" is: text, but not in an encoding we read.
        raise ImportRefused(FileProblem.ENCODING, "Save the file as CSV UTF-8.", name=shown)
    if b"\x00" in data:
        raise ImportRefused(FileProblem.WRONG_TYPE, "Upload a .csv or .xlsx file.", name=shown)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused(FileProblem.ENCODING, "Save the file as CSV UTF-8.", name=shown)


def _csv_rows(data: bytes, shown: str) -> Iterator[tuple[int, list[Any]]]:
    text = _decode(data, shown)
    first = text.split("\n", 1)[0]
    # Excel writes the list separator of the machine's region: a semicolon in much of Europe.
    delimiter = max(",;\t", key=first.count)
    try:
        yield from enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1)
    except csv.Error as error:  # a cell of more than 128 KB, say
        raise ImportRefused(
            FileProblem.UNREADABLE, "The CSV file could not be read.", name=shown
        ) from error


def _xlsx_rows(data: bytes, shown: str) -> Iterator[tuple[int, list[Any]]]:
    """The first sheet's rows, read up to one row more than a file may have (the header and
    MAX_ROWS rows): enough to refuse a longer one without reading all of it."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > MAX_UNPACKED_BYTES:
        raise ImportRefused(FileProblem.UNREADABLE, "The workbook is too large.", name=shown)
    rows: list[tuple[int, list[Any]]] = []
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it skips; values are all we read.
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                cells = workbook.worksheets[0].iter_rows(values_only=True)
                for number, values in enumerate(cells, start=1):
                    if any(_text(value) for value in values):
                        rows.append((number, list(values)))
                        if len(rows) > MAX_ROWS + 1:
                            break
            finally:
                workbook.close()
    except Exception as error:  # openpyxl raises many kinds for a damaged workbook
        raise ImportRefused(
            FileProblem.UNREADABLE, "The workbook could not be read.", name=shown
        ) from error
    return iter(rows)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows(
    sheet: Iterator[tuple[int, list[Any]]], reasons: Mapping[str, str], shown: str
) -> tuple[list[Row], list[str]]:
    columns: list[Column | None] = []
    ignored: list[str] = []
    rows: list[Row] = []
    for number, values in sheet:
        if not any(_text(value) for value in values):
            continue  # blank rows: Excel keeps them at the end of many sheets
        if not columns:
            columns, ignored = _header([_text(value) for value in values], shown)
            continue
        if len(rows) == MAX_ROWS:
            raise ImportRefused(
                FileProblem.TOO_MANY_ROWS, "The file has more than 2,000 rows.", name=shown
            )
        rows.append(_row(number, columns, values, reasons))
    if not rows:
        raise ImportRefused(FileProblem.EMPTY, "The file has no rows below its header.", name=shown)
    return _mark_duplicates(rows), ignored


def _header(cells: list[str], shown: str) -> tuple[list[Column | None], list[str]]:
    columns = [HEADER_NAMES.get(_key(cell)) for cell in cells]
    missing = [column for column in REQUIRED if column not in columns]
    if missing:
        raise ImportRefused(
            FileProblem.MISSING_COLUMNS,
            "The header row lacks columns.",
            name=shown,
            columns=", ".join(column.value for column in missing),
        )
    ignored = [cell for cell, column in zip(cells, columns, strict=True) if cell and not column]
    return columns, ignored


def _row(
    number: int, columns: list[Column | None], values: list[Any], reasons: Mapping[str, str]
) -> Row:
    read: dict[Column, Any] = {}
    for column, value in zip(columns, values, strict=False):
        if column is not None and column not in read:
            read[column] = value
    cells = Cells(**{column.value: _text(value) for column, value in read.items()})
    extra = [value for value in values[len(columns) :] if _text(value)]
    if extra:
        return Row(number, cells, problem=Problem(RowProblem.EXTRA_CELLS))
    for column in REQUIRED:
        if not _text(read.get(column)):
            return Row(number, cells, problem=Problem(RowProblem.MISSING, {"column": column.value}))
    try:
        line_no = _line_no(read[Column.LINE_NO])
        on = _date(read[Column.DATE])
        quantity = _quantity(read[Column.QUANTITY])
        reason_code = _reason(read[Column.REASON_CODE], reasons)
    except _Unreadable as error:
        return Row(number, cells, problem=error.problem)
    update = PromiseUpdate(
        cells.po_number,
        line_no,
        Schedule.single(quantity, on),
        reason_code,
        cells.comment,
    )
    return Row(number, cells, update)


class _Unreadable(Exception):
    def __init__(self, code: RowProblem, value: Any) -> None:
        super().__init__(code.value)
        self.problem = Problem(code, {"value": _text(value)})


def _line_no(value: Any) -> int:
    text = _text(value)
    if not text.isdigit() or int(text) < 1:
        raise _Unreadable(RowProblem.BAD_LINE_NO, value)
    return int(text)


_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")


def _date(value: Any) -> date:
    """An Excel date cell, or the year first: 2027-01-20 (ISO), or 2027/1/20 as Chinese Excel
    writes dates into CSV. Day-first and month-first spellings are refused: 03/04 would be
    a guess."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    found = _DATE.fullmatch(_text(value))
    try:
        if found:
            return date(*(int(part) for part in found.groups()))
    except ValueError:
        pass
    raise _Unreadable(RowProblem.BAD_DATE, value)


def _quantity(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise _Unreadable(RowProblem.BAD_QUANTITY, value)
    try:
        quantity = Decimal(_text(value))
    except InvalidOperation:
        raise _Unreadable(RowProblem.BAD_QUANTITY, value) from None
    if (
        not quantity.is_finite()
        or abs(quantity) >= MAX_QUANTITY
        or quantity != round(quantity, QUANTITY_PLACES)
    ):
        raise _Unreadable(RowProblem.BAD_QUANTITY, value)
    if quantity <= 0:
        raise _Unreadable(RowProblem.QUANTITY_NOT_POSITIVE, value)
    return quantity


def _reason(value: Any, reasons: Mapping[str, str]) -> str:
    code = reasons.get(_text(value).casefold())
    if code is None:
        raise _Unreadable(RowProblem.UNKNOWN_REASON, value)
    return code


def _mark_duplicates(rows: list[Row]) -> list[Row]:
    """A line may be named once: which of two rows would win is anybody's guess."""
    first: dict[tuple[str, int], int] = {}
    marked = []
    for row in rows:
        if row.update is not None:
            key = (row.update.po_number, row.update.line_no)
            if key in first:
                row = replace(
                    row,
                    update=None,
                    problem=Problem(RowProblem.DUPLICATE, {"row": str(first[key])}),
                )
            else:
                first[key] = row.number
        marked.append(row)
    return marked


# --- preview and apply ------------------------------------------------------------------------


class _Rehearsal(UnitOfWork):
    """A unit of work whose every transaction is rolled back, even after `commit()`: the
    command runs for real (reads, checks, writes, events) and leaves nothing behind. Nothing is
    announced either: the after-commit hook runs only for a transaction that committed."""

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            exc_type, exc, tb = _Rehearsed, _Rehearsed(), None
        await super().__aexit__(exc_type, exc, tb)


class _Rehearsed(Exception):
    """Given to the transaction in place of success, so that it rolls back."""


def importer(actor: Actor) -> Actor:
    """The actor as the timeline records an import: the same person, through a file."""
    return replace(actor, via=Via.IMPORT)


async def preview(uow: UnitOfWork, actor: Actor, rows: Sequence[Row]) -> Preview:
    """Each row's outcome, as applying the rows now would have it. Writes nothing."""
    problems = {row.number: row.problem for row in rows if row.problem is not None}
    by_order: dict[str, list[tuple[Row, PromiseUpdate]]] = {}
    for row in rows:
        if row.update is not None:
            by_order.setdefault(row.update.po_number, []).append((row, row.update))
    versions = await _look_up(uow, actor, by_order, problems)
    batches = [
        [row for row, _ in named if row.number not in problems] for named in by_order.values()
    ]
    batches = [batch for batch in batches if batch]
    outcomes: dict[int, RowResult] = {}
    if batches:
        await _rehearse(uow, importer(actor), batches, versions, outcomes)
    results = [
        outcomes.get(row.number) or RowResult(row, Outcome.ERROR, problems[row.number])
        for row in rows
    ]
    named = sorted({row.update.po_number for batch in batches for row in batch if row.update})
    return Preview(results, {number: versions[number] for number in named})


async def _look_up(
    uow: UnitOfWork,
    actor: Actor,
    by_order: dict[str, list[tuple[Row, PromiseUpdate]]],
    problems: dict[int, Problem],
) -> dict[str, int]:
    """The version of each order the rows name, marking the rows whose order the actor does
    not have (another supplier's looks exactly the same), whose line it has not, or whose date
    is gone. Read in a unit of work left without commit: nothing is written."""
    versions: dict[str, int] = {}
    async with UnitOfWork(uow.db, uow.rules, uow.clock) as reading:
        today = reading.now.date()
        for number in sorted(by_order):
            try:
                po = await reading.purchase_orders.get(actor, number)
            except NotFound:
                for row, _ in by_order[number]:
                    problems[row.number] = Problem(RowProblem.NOT_FOUND, {"po_number": number})
                continue
            versions[number] = po.version
            lines = {line.line_no for line in po.lines}
            for row, update in by_order[number]:
                if update.line_no not in lines:
                    problems[row.number] = Problem(
                        RowProblem.UNKNOWN_LINE,
                        {"po_number": number, "line_no": str(update.line_no)},
                    )
                elif update.schedule.rows[0].date < today:
                    # The command's own rule (Schedule.require_from), with a message per row.
                    problems[row.number] = Problem(
                        RowProblem.PAST_DATE, {"today": today.isoformat()}
                    )
    return versions


async def _rehearse(
    uow: UnitOfWork,
    actor: Actor,
    batches: list[list[Row]],
    versions: dict[str, int],
    outcomes: dict[int, RowResult],
) -> None:
    """Run the command over the rows of `batches` (one batch per order) and roll it back.
    When it refuses, halve the batches until the refused order is alone, then its lines, so
    that the message lands on the row it is about: a handful of runs for a bad row among
    thousands."""
    rows = [row for batch in batches for row in batch]
    try:
        done = await update_promises(
            _Rehearsal(uow.db, uow.rules, uow.clock),
            actor,
            _command(rows, versions),
        )
    except Conflict:
        raise
    except DomainError as error:
        if len(batches) > 1:
            half = len(batches) // 2
            await _rehearse(uow, actor, batches[:half], versions, outcomes)
            await _rehearse(uow, actor, batches[half:], versions, outcomes)
        elif len(rows) > 1:
            await _rehearse(uow, actor, [[row] for row in rows], versions, outcomes)
            if not any(outcomes[row.number].outcome == Outcome.ERROR for row in rows):
                # Each line alone would do; together they do not.
                for row in rows:
                    outcomes[row.number] = _refused(row, error)
        else:
            outcomes[rows[0].number] = _refused(rows[0], error)
        return
    outcomes.update({result.row.number: result for result in _results(rows, done)})


def _refused(row: Row, error: DomainError) -> RowResult:
    return RowResult(
        row, Outcome.ERROR, Problem(RowProblem.REFUSED, {"detail": error.message}, error)
    )


def _command(rows: Sequence[Row], versions: Mapping[str, int]) -> UpdatePromises:
    updates = tuple(row.update for row in rows if row.update is not None)
    return UpdatePromises(
        updates, {update.po_number: versions[update.po_number] for update in updates}
    )


def _results(rows: Sequence[Row], done: PromisesUpdated) -> list[RowResult]:
    """What the command did with each row: every line it did not promise anew at once is in a
    change request."""
    applied = set(done.applied)
    requests = {
        (cr.po_number, change.line_no): cr.number
        for cr in done.change_requests
        for change in cr.changes
    }
    results = []
    for row in rows:
        assert row.update is not None
        key = (row.update.po_number, row.update.line_no)
        outcome = Outcome.APPLY if key in applied else Outcome.CHANGE_REQUEST
        results.append(RowResult(row, outcome, change_request=requests.get(key, "")))
    return results


async def apply(
    uow: UnitOfWork, actor: Actor, rows: Sequence[Row], versions: Mapping[str, int]
) -> Applied:
    """Apply every row, or none: against the versions the preview saw (Conflict when an order
    moved since). When the command refuses a row (a date that has passed since the preview,
    say) nothing is applied, and the preview taken again says which row and why."""
    try:
        done = await update_promises(uow, importer(actor), _command(rows, versions))
    except Conflict:
        raise
    except DomainError:
        return Applied(await preview(uow, actor, rows), None)
    return Applied(Preview(_results(rows, done), dict(versions)), done)
