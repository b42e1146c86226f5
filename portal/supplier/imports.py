"""Promise updates from a CSV or XLSX file: the upload page and `POST /api/v1/promise-imports`.

The page previews every row and offers to apply them; the preview is sealed into the apply
form (the rows as read and the version of each order they name, signed with the portal's
secret), so what is applied is exactly what was previewed, against the orders as they were
then, without sending the file twice. The API reads the file on every call instead; its
dry run's ETag stands for those versions, and `If-Match` with it asks for the same
guarantee.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from http import HTTPStatus
from io import BytesIO
from typing import Annotated, Any, Literal, cast

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.params import HeaderParameter
from litestar.plugins.jinja import JinjaTemplateEngine
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation

from portal.auth.guards import is_api, requires
from portal.auth.scopes import PO_PROMISE
from portal.domain.actors import Actor
from portal.domain.errors import Conflict
from portal.domain.orders import REASON_CODES, reason_catalog, reason_codes
from portal.domain.schedule import Schedule
from portal.i18n import LOCALES, labels, translations
from portal.i18n.labels import N_
from portal.services import promise_import as pi
from portal.services.promises import PromiseUpdate
from portal.services.unit_of_work import UnitOfWork
from portal.settings import Settings
from portal.web import api
from portal.web.api import ApiProblem
from portal.web.deps import i18n_for
from portal.web.errors import PROBLEM_JSON
from portal.web.i18n import I18n
from portal.web.rendering import View

UPLOAD = "/supplier/promises/upload"
API_PATH = "/api/v1/promise-imports"
BODY_LIMIT = pi.MAX_BYTES + 64 * 1024
"""The file's own limit plus room for the multipart envelope and the CSRF field: a larger
request is refused before it is read."""
TEMPLATE_NAME = "promise-updates"
PAGE = "supplier/upload.html"


COLUMN_LABELS: dict[pi.Column, str] = {
    pi.Column.PO_NUMBER: N_("PO no."),
    pi.Column.LINE_NO: N_("Line no."),
    pi.Column.DATE: N_("Promised date"),
    pi.Column.QUANTITY: N_("Quantity"),
    pi.Column.REASON_CODE: N_("Reason code"),
    pi.Column.COMMENT: N_("Comment"),
}
"""The template's header, in the reader's language; `pi.HEADERS` reads either back."""

FILE_MESSAGES: dict[pi.FileProblem, str] = {
    pi.FileProblem.TOO_LARGE: N_(
        "%(name)s is larger than 2 MB. Split it into smaller files of at most 2,000 rows."
    ),
    pi.FileProblem.WRONG_TYPE: N_(
        "%(name)s is not a CSV or Excel (.xlsx) file. Upload a .csv or .xlsx file."
    ),
    pi.FileProblem.OLD_EXCEL: N_(
        "%(name)s is an Excel 97-2003 workbook (.xls). Save it as an Excel workbook (.xlsx) "
        "or as CSV UTF-8 and upload it again."
    ),
    pi.FileProblem.ENCODING: N_(
        "%(name)s is not text in UTF-8 or GB18030. In Excel, save it as \u201cCSV UTF-8 "
        "(comma delimited)\u201d and upload it again."
    ),
    pi.FileProblem.UNREADABLE: N_(
        "%(name)s could not be read. Open it in Excel, save it again as .xlsx or CSV UTF-8 "
        "and upload it again."
    ),
    pi.FileProblem.EMPTY: N_(
        "%(name)s has nothing to read: it needs a header row and at least one row below it."
    ),
    pi.FileProblem.MISSING_COLUMNS: N_(
        "The header row of %(name)s lacks these columns: %(columns)s. The template has the "
        "header row to start from."
    ),
    pi.FileProblem.TOO_MANY_ROWS: N_(
        "%(name)s has more than 2,000 rows. Split it into files of at most 2,000 rows."
    ),
}

ROW_MESSAGES: dict[pi.RowProblem, str] = {
    pi.RowProblem.MISSING: N_("The cell \u201c%(column)s\u201d is empty."),
    pi.RowProblem.EXTRA_CELLS: N_("This row has more cells than the header row has columns."),
    pi.RowProblem.BAD_LINE_NO: N_(
        "\u201c%(value)s\u201d is not a line number (a whole number from 1 up)."
    ),
    pi.RowProblem.BAD_DATE: N_("\u201c%(value)s\u201d is not a date; write it as 2027-01-31."),
    pi.RowProblem.BAD_QUANTITY: N_(
        "\u201c%(value)s\u201d is not a quantity (a number with at most 4 decimals)."
    ),
    pi.RowProblem.QUANTITY_NOT_POSITIVE: N_(
        "The quantity must be more than zero (it is %(value)s)."
    ),
    pi.RowProblem.UNKNOWN_REASON: N_(
        "\u201c%(value)s\u201d is not a reason code; use one of: %(codes)s."
    ),
    pi.RowProblem.DUPLICATE: N_("This line is already in row %(row)s; name each line once."),
    pi.RowProblem.PAST_DATE: N_("The date is in the past; promise %(today)s or later."),
    pi.RowProblem.NOT_FOUND: N_("Purchase order %(po_number)s was not found."),
    pi.RowProblem.UNKNOWN_LINE: N_("Purchase order %(po_number)s has no line %(line_no)s."),
}
"""`REFUSED` is not here: its message is the command's own."""

NO_FILE = N_("Choose a CSV or XLSX file to upload.")
BAD_PLAN = N_("This preview cannot be applied any more. Upload the file again.")
CHANGED = N_(
    "Some of these purchase orders changed after the preview, so nothing was applied. "
    "Upload the file again to see a fresh preview."
)
HAS_ERRORS = N_("Rows with errors: %(count)s. Nothing was applied.")
THE_FILE = N_("The file")
"""Names a file refused before it was read, its name unknown."""


def reason_names() -> dict[str, str]:
    """Every spelling of a reason code a file may use, folded: the code itself and its words
    in each language (a Chinese sheet says 产能, not capacity), admins' codes and words too."""
    names = dict(builtin_reason_names())
    catalog = reason_catalog()
    for code, own in catalog.labels.items():
        for word in (code, *own):
            if word.strip():
                names[word.strip().casefold()] = code
    return names


@cache
def builtin_reason_names() -> dict[str, str]:
    names = {code.casefold(): code for code in REASON_CODES}
    for locale in LOCALES:
        words = translations(locale)
        for code in REASON_CODES:
            names[words.gettext(labels.REASONS[code]).casefold()] = code
    return names


def file_message(refused: pi.ImportRefused, i18n: I18n) -> str:
    params = dict(refused.params)
    if "columns" in params:
        params["columns"] = ", ".join(
            i18n.gettext(COLUMN_LABELS[pi.Column(column)])
            for column in params["columns"].split(", ")
        )
    return i18n.gettext(FILE_MESSAGES[refused.problem]) % params


def row_message(problem: pi.Problem, i18n: I18n) -> str:
    if problem.code == pi.RowProblem.REFUSED:
        return i18n.explain(problem.error) if problem.error else problem.params["detail"]
    params = dict(problem.params)
    if "column" in params:
        params["column"] = i18n.gettext(COLUMN_LABELS[pi.Column(params["column"])])
    if "today" in params:
        params["today"] = i18n.date(params["today"])
    params["codes"] = ", ".join(reason_codes())
    return i18n.gettext(ROW_MESSAGES[problem.code]) % params


def status_of(refused: pi.ImportRefused) -> int:
    if refused.problem == pi.FileProblem.TOO_LARGE:
        return HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    return HTTPStatus.UNPROCESSABLE_ENTITY


# --- the sealed preview ---------------------------------------------------------------------


class _Plan(msgspec.Struct, array_like=True, frozen=True):
    """What the apply form carries: who previewed, the versions seen, and each row as read
    (number, PO, line, date, quantity, reason code, comment)."""

    actor: str
    versions: dict[str, int]
    rows: list[tuple[int, str, int, str, str, str, str]]


def _key(settings: Settings) -> bytes:
    # A key of its own, so that a seal can never pass for another of the portal's signatures.
    return hashlib.sha256(b"portal promise import\x00" + settings.secret().encode()).digest()


def _who(actor: Actor) -> str:
    return f"{actor.org}/{actor.kind.value}/{actor.id}"


def seal(preview: pi.Preview, actor: Actor, settings: Settings) -> str:
    rows = []
    for row in preview.rows:
        assert row.update is not None
        (delivery,) = row.update.schedule.rows
        rows.append(
            (
                row.number,
                row.update.po_number,
                row.update.line_no,
                delivery.date.isoformat(),
                format(delivery.quantity, "f"),
                row.update.reason_code,
                row.update.comment,
            )
        )
    payload = zlib.compress(msgspec.json.encode(_Plan(_who(actor), preview.versions, rows)))
    mac = hmac.new(_key(settings), payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac)}"


def unseal(sealed: str, actor: Actor, settings: Settings) -> tuple[list[pi.Row], dict[str, int]]:
    """The rows and versions of a sealed preview; ValueError when it was not sealed here for
    this actor."""
    payload_text, _, mac_text = sealed.partition(".")
    try:
        payload, mac = _unb64(payload_text), _unb64(mac_text)
    except (ValueError, TypeError) as error:
        raise ValueError("not a sealed preview") from error
    if not hmac.compare_digest(mac, hmac.new(_key(settings), payload, hashlib.sha256).digest()):
        raise ValueError("not a sealed preview")
    plan = msgspec.json.decode(zlib.decompress(payload), type=_Plan)
    if plan.actor != _who(actor):
        raise ValueError("sealed for someone else")
    rows = []
    for number, po_number, line_no, on, quantity, reason_code, comment in plan.rows:
        cells = pi.Cells(po_number, str(line_no), on, quantity, reason_code, comment)
        schedule = Schedule.single(Decimal(quantity), date.fromisoformat(on))
        update = PromiseUpdate(po_number, line_no, schedule, reason_code, comment)
        rows.append(pi.Row(number, cells, update))
    return rows, plan.versions


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def versions_tag(versions: Mapping[str, int]) -> str:
    """The ETag of a dry run: it stands for the version of every order the rows name."""
    text = "\n".join(f"{number}\x00{version}" for number, version in sorted(versions.items()))
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


# --- reading what was sent --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sent:
    data: bytes
    filename: str
    media_type: str


async def sent_file(request: Request[Any, Any, Any]) -> Sent | None:
    """The file of a multipart form (field `file`), or the whole body of an API call sent as
    text/csv or XLSX; None when there is none."""
    content_type, _ = request.content_type
    if content_type in (RequestEncodingType.MULTI_PART, RequestEncodingType.URL_ENCODED):
        upload = (await request.form()).get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return None
        return Sent(await upload.read(), upload.filename, upload.content_type)
    if is_api(request):
        body = await request.body()
        return Sent(body, "", content_type) if body else None
    return None


def read(sent: Sent) -> tuple[list[pi.Row], list[str]]:
    return pi.read_rows(sent.data, sent.filename, sent.media_type, reason_names())


# --- pages ------------------------------------------------------------------------------------


def page(
    view: View,
    *,
    status_code: int = HTTPStatus.OK,
    problem: str = "",
    preview: pi.Preview | None = None,
    plan: str = "",
    ignored: list[str] | None = None,
    applied: pi.Applied | None = None,
) -> Response[str]:
    i18n = view.i18n
    return view.page(
        PAGE,
        {
            "upload_path": UPLOAD,
            "columns": [(i18n.gettext(label), column) for column, label in COLUMN_LABELS.items()],
            "reason_codes": reason_codes(),
            "problem": problem,
            "preview": preview,
            "plan": plan,
            "ignored": ignored or [],
            "applied": applied,
            "outcomes": pi.Outcome,
            "message": lambda problem: row_message(problem, i18n),
        },
        status_code=status_code,
    )


def too_large(request: Request[Any, Any, Any], exc: RequestEntityTooLarge) -> Response[Any]:
    """A request over the limit is refused before it is read (so not by `read_rows`): the
    same message, as the page or as problem details."""
    settings = cast(Settings, request.app.state.settings)
    i18n = i18n_for(request, settings)
    refused = pi.ImportRefused(pi.FileProblem.TOO_LARGE, "too large", name=i18n.gettext(THE_FILE))
    message = file_message(refused, i18n)
    if is_api(request):
        return api.render(request, ApiProblem(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, message))
    env = cast(JinjaTemplateEngine, request.app.template_engine).engine
    return page(
        View(request, env, i18n), status_code=HTTPStatus.REQUEST_ENTITY_TOO_LARGE, problem=message
    )


@get(UPLOAD, name="promise-upload", include_in_schema=False, opt=requires(PO_PROMISE))
async def upload_form(view: NamedDependency[View]) -> Response[str]:
    return page(view)


@get(
    UPLOAD + "/template.csv",
    name="promise-upload-template-csv",
    include_in_schema=False,
    opt=requires(PO_PROMISE),
)
async def csv_template(i18n: NamedDependency[I18n]) -> Response[bytes]:
    # With the byte order mark Excel opens UTF-8 as UTF-8; without it, a Chinese header
    # turns to mojibake on a Chinese Windows.
    header = ",".join(pi.HEADERS[i18n.code]) + "\r\n"
    return _download(("\ufeff" + header).encode(), "csv", "text/csv; charset=utf-8")


@get(
    UPLOAD + "/template.xlsx",
    name="promise-upload-template-xlsx",
    include_in_schema=False,
    opt=requires(PO_PROMISE),
)
async def xlsx_template(i18n: NamedDependency[I18n]) -> Response[bytes]:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(pi.HEADERS[i18n.code]))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEF", (16, 10, 16, 12, 20, 40), strict=True):
        sheet.column_dimensions[letter].width = width
    last = pi.MAX_ROWS + 1
    for row in sheet.iter_rows(min_row=2, max_row=last, min_col=3, max_col=3):
        row[0].number_format = "yyyy-mm-dd"
    # A drop-down of the reason codes: a typo in one is a row refused.
    reasons = DataValidation(type="list", formula1='"' + ",".join(reason_codes()) + '"')
    reasons.add(f"E2:E{last}")
    sheet.add_data_validation(reasons)
    sheet.freeze_panes = "A2"
    out = BytesIO()
    workbook.save(out)
    return _download(out.getvalue(), "xlsx", pi.XLSX_MEDIA_TYPE)


def _download(body: bytes, extension: str, media_type: str) -> Response[bytes]:
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{TEMPLATE_NAME}.{extension}"',
            "Vary": "Accept-Language, Cookie",
        },
    )


@post(
    UPLOAD,
    name="promise-upload-preview",
    include_in_schema=False,
    opt=requires(PO_PROMISE),
    request_max_body_size=BODY_LIMIT,
    exception_handlers={RequestEntityTooLarge: too_large},
)
async def upload_preview(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    uow: NamedDependency[UnitOfWork],
    settings: NamedDependency[Settings],
) -> Response[str]:
    """Read the file and show what each row would do; nothing is written."""
    sent = await sent_file(request)
    if sent is None:
        return page(
            view, status_code=HTTPStatus.UNPROCESSABLE_ENTITY, problem=view.i18n.gettext(NO_FILE)
        )
    try:
        rows, ignored = read(sent)
    except pi.ImportRefused as refused:
        return page(view, status_code=status_of(refused), problem=file_message(refused, view.i18n))
    preview = await pi.preview(uow, actor, rows)
    plan = seal(preview, actor, settings) if preview.ok else ""
    return page(view, preview=preview, plan=plan, ignored=ignored)


@post(
    UPLOAD + "/apply",
    name="promise-upload-apply",
    include_in_schema=False,
    opt=requires(PO_PROMISE),
)
async def upload_apply(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    uow: NamedDependency[UnitOfWork],
    settings: NamedDependency[Settings],
) -> Response[str]:
    """Apply a sealed preview, all rows or none."""
    sealed = (await request.form()).get("plan")
    try:
        rows, versions = unseal(sealed if isinstance(sealed, str) else "", actor, settings)
    except (ValueError, zlib.error, msgspec.DecodeError):
        return page(view, status_code=HTTPStatus.BAD_REQUEST, problem=view.i18n.gettext(BAD_PLAN))
    try:
        applied = await pi.apply(uow, actor, rows, versions)
    except Conflict:
        return page(view, status_code=HTTPStatus.CONFLICT, problem=view.i18n.gettext(CHANGED))
    if applied.done is None:
        return page(
            view,
            status_code=HTTPStatus.UNPROCESSABLE_ENTITY,
            preview=applied.preview,
            plan=seal(applied.preview, actor, settings) if applied.preview.ok else "",
        )
    return page(view, applied=applied)


# --- the API ----------------------------------------------------------------------------------


class RowError(msgspec.Struct, frozen=True):
    code: str
    """`missing`, `extra_cells`, `bad_line_no`, `bad_date`, `bad_quantity`,
    `quantity_not_positive`, `unknown_reason`, `duplicate`, `past_date`, `not_found`,
    `unknown_line`, or `refused` (the command's own message)."""
    message: str


class ImportedRow(msgspec.Struct, frozen=True, kw_only=True):
    row: int
    """The row's number in the sheet (the header row is 1)."""
    po_number: str
    line_no: str
    date: str
    quantity: str
    reason_code: str
    comment: str
    """The cells as read."""
    outcome: Literal["apply", "change_request", "error"]
    change_request: str | None = None
    """Once applied: the change request the row went into."""
    error: RowError | None = None


class PromiseImport(msgspec.Struct, frozen=True, kw_only=True):
    dry_run: bool
    applied: bool
    rows: list[ImportedRow]
    apply: int
    """Rows promised anew at once (in a dry run: that would be)."""
    change_request: int
    """Rows beyond the tolerance rule, for the buyer to decide."""
    error: int
    ignored_columns: list[str]
    versions: dict[str, int]
    """The version of each purchase order the rows name, as read."""


def imported(
    preview: pi.Preview, i18n: I18n, *, dry_run: bool, applied: bool, ignored: list[str]
) -> PromiseImport:
    return PromiseImport(
        dry_run=dry_run,
        applied=applied,
        rows=[_imported_row(result, i18n) for result in preview.results],
        apply=preview.count(pi.Outcome.APPLY),
        change_request=preview.count(pi.Outcome.CHANGE_REQUEST),
        error=preview.count(pi.Outcome.ERROR),
        ignored_columns=ignored,
        versions=preview.versions,
    )


def _imported_row(result: pi.RowResult, i18n: I18n) -> ImportedRow:
    cells = result.row.cells
    problem = result.problem
    return ImportedRow(
        row=result.row.number,
        po_number=cells.po_number,
        line_no=cells.line_no,
        date=cells.date,
        quantity=cells.quantity,
        reason_code=cells.reason_code,
        comment=cells.comment,
        outcome=result.outcome.value,
        change_request=result.change_request or None,
        error=RowError(problem.code.value, row_message(problem, i18n)) if problem else None,
    )


def rows_refused(preview: pi.Preview, i18n: I18n) -> ApiProblem:
    """Nothing applied: problem details naming each row in error (`row 7`) and why."""
    return ApiProblem(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        i18n.gettext(HAS_ERRORS) % {"count": preview.count(pi.Outcome.ERROR)},
        type=api.INVALID,
        errors=[
            api.FieldError(f"row {result.row.number}", row_message(result.problem, i18n))
            for result in preview.results
            if result.problem is not None
        ],
    )


@dataclass
class _ImportOperation(Operation):
    """The request body as the API takes it: the file in a form, or the file as the body."""

    def __post_init__(self) -> None:
        example = ",".join(pi.HEADERS["en"]) + "\nPO-1001,1,2027-01-20,100,capacity,Line 3 down\n"
        self.request_body = RequestBody(
            required=True,
            description=(
                "A CSV (UTF-8 or GB18030) or XLSX file of at most 2 MB and 2,000 rows: "
                "PO no., line no., promised date, quantity, reason code, comment (optional). "
                "The header row may be in English or Chinese."
            ),
            content={
                RequestEncodingType.MULTI_PART: OpenAPIMediaType(
                    schema=Schema(
                        type=OpenAPIType.OBJECT,
                        properties={
                            "file": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
                        },
                        required=["file"],
                    )
                ),
                "text/csv": OpenAPIMediaType(
                    schema=Schema(type=OpenAPIType.STRING), example=example
                ),
                pi.XLSX_MEDIA_TYPE: OpenAPIMediaType(
                    schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
                ),
            },
        )


@post(
    API_PATH,
    name="api-promise-imports",
    opt=requires(PO_PROMISE),
    operation_id="importPromises",
    tags=["Purchase orders"],
    security=[{"oauth2": [PO_PROMISE]}],
    summary="Update promises from a CSV or XLSX file",
    description=(
        "Every row names a purchase order line and its new promise. With `dry_run=true`, "
        "nothing is written: the answer says what each row would do (apply at once, become a "
        "change request, or an error) and its ETag stands for the orders as read. Without it, "
        "the rows are applied all or none (201); one row in error applies nothing (422). Send "
        "the dry run's ETag in `If-Match` to apply only if no order named has changed since "
        "(else 409)."
    ),
    status_code=HTTPStatus.CREATED,
    request_max_body_size=BODY_LIMIT,
    exception_handlers={**api.exception_handlers(), RequestEntityTooLarge: too_large},
    operation_class=_ImportOperation,
    responses={
        HTTPStatus.OK: ResponseSpec(
            PromiseImport, description="The dry run: what each row would do; nothing written."
        ),
        HTTPStatus.CREATED: ResponseSpec(
            PromiseImport, description="Every row applied, or sent to the buyer."
        ),
        **api.problem_responses(401, 403, 409, 422),
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE: ResponseSpec(
            api.ProblemDetails, description="The file is over 2 MB.", media_type=PROBLEM_JSON
        ),
    },
)
async def api_promise_import(
    request: Request[Any, Any, Any],
    i18n: NamedDependency[I18n],
    actor: NamedDependency[Actor],
    uow: NamedDependency[UnitOfWork],
    dry_run: bool = False,
    if_match: Annotated[
        str | None,
        HeaderParameter(
            name="If-Match",
            description="The ETag of a dry run of this file: apply only if no order it "
            "names has changed since.",
        ),
    ] = None,
) -> Response[bytes]:
    sent = await sent_file(request)
    if sent is None:
        raise ApiProblem(HTTPStatus.UNPROCESSABLE_ENTITY, i18n.gettext(NO_FILE), type=api.INVALID)
    try:
        rows, ignored = read(sent)
    except pi.ImportRefused as refused:
        raise ApiProblem(
            status_of(refused), file_message(refused, i18n), type=api.INVALID
        ) from None
    preview = await pi.preview(uow, actor, rows)
    tag = versions_tag(preview.versions)
    if dry_run:
        body = imported(preview, i18n, dry_run=True, applied=False, ignored=ignored)
        return api.json_response(body, headers={"ETag": tag})
    if not preview.ok:
        raise rows_refused(preview, i18n)
    if if_match is not None and if_match.strip() != tag:
        raise ApiProblem(HTTPStatus.CONFLICT, i18n.gettext(CHANGED), type=api.STALE)
    try:
        applied = await pi.apply(uow, actor, preview.rows, preview.versions)
    except Conflict:
        raise ApiProblem(HTTPStatus.CONFLICT, i18n.gettext(CHANGED), type=api.STALE) from None
    if applied.done is None:
        raise rows_refused(applied.preview, i18n)
    body = imported(applied.preview, i18n, dry_run=False, applied=True, ignored=ignored)
    return api.json_response(body, status=HTTPStatus.CREATED)


ROUTES = [
    upload_form,
    csv_template,
    xlsx_template,
    upload_preview,
    upload_apply,
    api_promise_import,
]
