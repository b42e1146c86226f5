"""Order imports from ERP files: pages (/imports) and API (/api/v1/imports).

Steps: 1. upload a CSV or XLSX and say what it holds (a draft job keeps the file);
2. map the columns (guessed from the header, English or Chinese); 3. preview: every row
checked, nothing applicable while any error remains; 4. apply: the job is queued and a
background worker creates every order or none (see `portal.services.order_import`), while
/imports/{id} shows its progress (htmx polls it every second; a refresh link without JS).

Only the person who started a job, or an admin, sees it (404 for anyone else).
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, MultipartBody
from litestar.response import Redirect

from portal.auth.guards import requires
from portal.auth.principal import Principal
from portal.auth.scopes import ADMIN, ORDER_WRITE, PO_WRITE
from portal.db import tables as t
from portal.db.database import Database
from portal.domain.errors import NotFound
from portal.i18n.labels import N_
from portal.services import order_import as oi
from portal.services.promise_import import FileProblem, ImportRefused
from portal.supplier.imports import FILE_MESSAGES
from portal.web import api
from portal.web.api import ApiProblem
from portal.web.i18n import I18n
from portal.web.rendering import View

IMPORTS = "/imports"
API_PATH = "/api/v1/imports"
BODY_LIMIT = oi.MAX_BYTES + 64 * 1024
KIND_SCOPES = {oi.Kind.PURCHASE_ORDERS: PO_WRITE, oi.Kind.SALES_ORDERS: ORDER_WRITE}
KIND_LABELS = {
    oi.Kind.PURCHASE_ORDERS: N_("Purchase orders"),
    oi.Kind.SALES_ORDERS: N_("Sales orders"),
}
FIELD_LABELS: dict[oi.Field, str] = {
    oi.Field.NUMBER: N_("Order number"),
    oi.Field.PARTY: N_("Supplier or customer code"),
    oi.Field.CURRENCY: N_("Currency"),
    oi.Field.LINE_NO: N_("Line no."),
    oi.Field.ITEM: N_("Item"),
    oi.Field.DESCRIPTION: N_("Description"),
    oi.Field.QUANTITY: N_("Quantity"),
    oi.Field.UNIT: N_("Unit"),
    oi.Field.UNIT_PRICE: N_("Unit price"),
    oi.Field.DATE: N_("Need date or requested date"),
    oi.Field.CONTACT_EMAIL: N_("Contact e-mail"),
    oi.Field.CONTACT_PHONE: N_("Contact phone"),
}
ROW_MESSAGES: dict[oi.RowProblem, str] = {
    oi.RowProblem.MISSING: N_("The cell \u201c%(field)s\u201d is empty."),
    oi.RowProblem.TOO_LONG: N_("\u201c%(field)s\u201d is longer than %(max)s characters."),
    oi.RowProblem.BAD_LINE_NO: N_(
        "\u201c%(value)s\u201d is not a line number (a whole number from 1 up)."
    ),
    oi.RowProblem.BAD_DATE: N_("\u201c%(value)s\u201d is not a date; write it as 2027-01-31."),
    oi.RowProblem.BAD_NUMBER: N_(
        "\u201c%(value)s\u201d is not a number (at most 4 decimals) for \u201c%(field)s\u201d."
    ),
    oi.RowProblem.QUANTITY_NOT_POSITIVE: N_(
        "The quantity must be more than zero (it is %(value)s)."
    ),
    oi.RowProblem.PRICE_NEGATIVE: N_("The unit price cannot be negative (it is %(value)s)."),
    oi.RowProblem.BAD_CURRENCY: N_(
        "\u201c%(value)s\u201d is not a currency; use a three-letter code such as CNY."
    ),
    oi.RowProblem.NO_CONTACT: N_(
        "Sales order %(number)s needs the customer's contact e-mail or phone."
    ),
    oi.RowProblem.UNKNOWN_PARTY: N_(
        "\u201c%(code)s\u201d is not a supplier or customer known to the portal for this kind "
        "of order."
    ),
    oi.RowProblem.DUPLICATE_LINE: N_(
        "Line %(line_no)s is already in row %(first)s of this order; name each line once."
    ),
    oi.RowProblem.ORDER_EXISTS: N_("Order %(number)s is already in the portal."),
    oi.RowProblem.ORDER_DIFFERS: N_(
        "Order %(number)s is in the file twice with different contents (see row %(first)s)."
    ),
    oi.RowProblem.REFUSED: N_("This row was refused: %(detail)s"),
}
STATUS_LABELS = {
    "draft": N_("Not applied yet"),
    "pending": N_("Waiting for a worker"),
    "running": N_("Running"),
    "done": N_("Done"),
    "failed": N_("Failed: nothing was imported"),
}
NO_FILE = N_("Choose a CSV or XLSX file to upload.")
NO_KIND = N_("Choose what the file holds: purchase orders or sales orders.")
UNMAPPED = N_("Choose a column for: %(fields)s.")


def row_message(error: oi.RowError, i18n: I18n) -> str:
    params = dict(error.params)
    if "field" in params:
        with suppress(ValueError):
            params["field"] = i18n.gettext(FIELD_LABELS[oi.Field(params["field"])])
    try:
        return i18n.gettext(ROW_MESSAGES[error.code]) % params
    except (KeyError, TypeError):
        return str(params)


def file_message(refused: ImportRefused, i18n: I18n) -> str:
    if refused.problem in (FileProblem.TOO_LARGE, FileProblem.TOO_MANY_ROWS):
        return i18n.gettext(
            N_("%(name)s is too large: at most 20 MB and 100,000 rows in one file.")
        ) % {"name": refused.params.get("name", "")}
    return i18n.gettext(FILE_MESSAGES[refused.problem]) % {"columns": "", **refused.params}


def _status(i18n: I18n, status: str) -> str:
    return i18n.gettext(STATUS_LABELS[status]) if status in STATUS_LABELS else status


def _kinds(principal: Principal) -> list[oi.Kind]:
    return [kind for kind, scope in KIND_SCOPES.items() if principal.holds(scope)]


def _kind(text: str, principal: Principal) -> oi.Kind | None:
    try:
        kind = oi.Kind(text)
    except ValueError:
        return None
    return kind if kind in _kinds(principal) else None


async def _job(job_id: int, principal: Principal) -> dict[str, Any]:
    """The job, if the caller started it (or is an admin); else 404."""
    row = await t.ImportJob.select().where(t.ImportJob.id == job_id).first().run()
    if row is None or not _may_see(row, principal):
        raise NotFound("Import {job} was not found.", job=job_id)
    return dict(row)


def _may_see(row: dict[str, Any], principal: Principal) -> bool:
    if principal.holds(ADMIN):
        return True
    if principal.user_id is not None:
        return bool(row["user_id"] == principal.user_id)
    actor = oi._json(row["actor"]) or {}
    return bool(row["user_id"] == 0 and actor.get("id") == principal.actor.id)


async def _form(request: Request[Any, Any, Any]) -> tuple[oi.Kind | None, bytes, str, str]:
    form = await request.form()
    upload = form.get("file")
    kind_text = form.get("kind")
    if isinstance(upload, UploadFile) and upload.filename:
        data, name, media = await upload.read(), upload.filename, upload.content_type
    else:
        data, name, media = b"", "", ""
    return (oi.Kind(kind_text) if kind_text in set(oi.Kind) else None), data, name, media


def _sheet(job: dict[str, Any]) -> oi.Sheet:
    return oi.read_sheet(bytes(job["content"]), job["filename"])


# --- pages ------------------------------------------------------------------------------------


async def _upload_page(
    view: View, principal: Principal, problem: str = "", status_code: int = HTTPStatus.OK
) -> Response[str]:
    i18n = view.i18n
    jobs = (
        await t.ImportJob.select(
            t.ImportJob.id,
            t.ImportJob.kind,
            t.ImportJob.status,
            t.ImportJob.filename,
            t.ImportJob.total,
            t.ImportJob.created_at,
        )
        .where(t.ImportJob.user_id == (principal.user_id or 0))
        .order_by(t.ImportJob.id, ascending=False)
        .limit(20)
        .run()
    )
    return view.page(
        "internal/imports.html",
        {
            "kinds": [(kind.value, i18n.gettext(KIND_LABELS[kind])) for kind in _kinds(principal)],
            "jobs": jobs,
            "kind_label": lambda kind: i18n.gettext(KIND_LABELS[oi.Kind(kind)]),
            "status_label": lambda status: i18n.gettext(
                STATUS_LABELS.get(str(status), str(status))
            ),
            "problem": problem,
        },
        status_code=status_code,
    )


@get(IMPORTS, name="imports", include_in_schema=False, opt=requires(PO_WRITE, ORDER_WRITE))
async def imports_page(
    view: NamedDependency[View], principal: NamedDependency[Principal]
) -> Response[str]:
    return await _upload_page(view, principal)


@post(
    IMPORTS,
    name="imports-upload",
    include_in_schema=False,
    opt=requires(PO_WRITE, ORDER_WRITE),
    request_max_body_size=BODY_LIMIT,
)
async def upload(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> Response[Any]:
    """Step 1: keep the file in a draft job and go on to its column mapping."""
    i18n = view.i18n
    kind, data, name, media = await _form(request)
    if kind is None or kind not in _kinds(principal):
        return await _upload_page(view, principal, i18n.gettext(NO_KIND), 422)
    if not data:
        return await _upload_page(view, principal, i18n.gettext(NO_FILE), 422)
    try:
        sheet = oi.read_sheet(data, name, media)
    except ImportRefused as refused:
        return await _upload_page(view, principal, file_message(refused, i18n), 422)
    job = await oi.create_job(
        db,
        kind=kind,
        filename=name,
        content=data,
        mapping=oi.guess_mapping(sheet.headers, kind),
        user_id=principal.user_id or 0,
        actor=principal.actor,
        total=len(sheet.rows),
    )
    return Redirect(f"{IMPORTS}/{job}/mapping", status_code=303)


def _mapping_page(
    view: View, job: dict[str, Any], sheet: oi.Sheet, problem: str = "", status_code: int = 200
) -> Response[str]:
    i18n = view.i18n
    kind = oi.Kind(job["kind"])
    mapping = oi.mapping_of(job)
    return view.page(
        "internal/import_mapping.html",
        {
            "job": job,
            "kind_label": i18n.gettext(KIND_LABELS[kind]),
            "fields": [
                (
                    field.value,
                    i18n.gettext(FIELD_LABELS[field]),
                    field in oi.REQUIRED,
                    mapping.get(field.value, -1),
                )
                for field in oi.FIELDS[kind]
            ],
            "headers": list(enumerate(sheet.headers)),
            "samples": [cells for _, cells in sheet.rows[:3]],
            "problem": problem,
        },
        status_code=status_code,
    )


@get(
    IMPORTS + "/{job_id:int}/mapping",
    name="import-mapping",
    include_in_schema=False,
    opt=requires(PO_WRITE, ORDER_WRITE),
)
async def mapping_page(
    job_id: FromPath[int], view: NamedDependency[View], principal: NamedDependency[Principal]
) -> Response[Any]:
    job = await _job(job_id, principal)
    if job["status"] != "draft":
        return Redirect(f"{IMPORTS}/{job_id}", status_code=303)
    return _mapping_page(view, job, _sheet(job))


@post(
    IMPORTS + "/{job_id:int}/mapping",
    name="import-mapping-save",
    include_in_schema=False,
    opt=requires(PO_WRITE, ORDER_WRITE),
)
async def save_mapping(
    job_id: FromPath[int],
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> Response[Any]:
    """Step 2: the columns chosen for each field."""
    job = await _job(job_id, principal)
    if job["status"] != "draft":
        return Redirect(f"{IMPORTS}/{job_id}", status_code=303)
    sheet = _sheet(job)
    kind = oi.Kind(job["kind"])
    form = await request.form()
    mapping = oi.clean_mapping(
        {key: value for key, value in form.items() if isinstance(value, str)},
        kind,
        len(sheet.headers),
    )
    await oi.set_mapping(db, job_id, mapping)
    job["mapping"] = msgspec.json.encode(mapping).decode()
    missing = oi.unmapped(mapping, kind)
    if missing:
        fields = ", ".join(view.i18n.gettext(FIELD_LABELS[field]) for field in missing)
        return _mapping_page(
            view, job, sheet, view.i18n.gettext(UNMAPPED) % {"fields": fields}, 422
        )
    return Redirect(f"{IMPORTS}/{job_id}/preview", status_code=303)


async def _preview_page(view: View, job: dict[str, Any], status_code: int = 200) -> Response[str]:
    i18n = view.i18n
    kind = oi.Kind(job["kind"])
    sheet = _sheet(job)
    mapping = oi.mapping_of(job)
    missing = oi.unmapped(mapping, kind)
    checked = await oi.check(sheet, mapping, kind) if not missing else None
    orders, _ = oi.parse(sheet, mapping, kind) if not missing else ([], [])
    return view.page(
        "internal/import_preview.html",
        {
            "job": job,
            "kind_label": i18n.gettext(KIND_LABELS[kind]),
            "missing": ", ".join(i18n.gettext(FIELD_LABELS[field]) for field in missing),
            "checked": checked,
            "orders": orders[:100],
            "more_orders": max(0, len(orders) - 100),
            "order_count": len(orders),
            "line_count": sum(len(order.lines) for order in orders),
            "errors": [
                (error.row, row_message(error, i18n))
                for error in (checked.errors[:500] if checked else [])
            ],
            "error_count": len(checked.errors) if checked else 0,
        },
        status_code=status_code,
    )


@get(
    IMPORTS + "/{job_id:int}/preview",
    name="import-preview",
    include_in_schema=False,
    opt=requires(PO_WRITE, ORDER_WRITE),
)
async def preview_page(
    job_id: FromPath[int], view: NamedDependency[View], principal: NamedDependency[Principal]
) -> Response[Any]:
    """Step 3: every row checked; applying is offered only without errors."""
    job = await _job(job_id, principal)
    if job["status"] != "draft":
        return Redirect(f"{IMPORTS}/{job_id}", status_code=303)
    return await _preview_page(view, job)


@post(
    IMPORTS + "/{job_id:int}/apply",
    name="import-apply",
    include_in_schema=False,
    opt=requires(PO_WRITE, ORDER_WRITE),
)
async def apply(
    job_id: FromPath[int],
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    db: NamedDependency[Database],
) -> Response[Any]:
    """Step 4: checked once more, then queued for a worker."""
    job = await _job(job_id, principal)
    if job["status"] == "draft":
        kind = oi.Kind(job["kind"])
        checked = await oi.check(_sheet(job), oi.mapping_of(job), kind)
        if not checked.ok or oi.unmapped(oi.mapping_of(job), kind):
            return await _preview_page(view, job, HTTPStatus.UNPROCESSABLE_ENTITY)
        await oi.submit(db, job_id)
    return Redirect(f"{IMPORTS}/{job_id}", status_code=303)


def _progress(job: dict[str, Any]) -> dict[str, Any]:
    phase, rows = oi.progress_of(job)
    total = int(job["total"]) or 1
    return {
        "phase": phase,
        "rows": rows,
        "total": int(job["total"]),
        "percent": rows * 100 // total,
    }


@get(
    IMPORTS + "/{job_id:int}",
    name="import-job",
    include_in_schema=False,
    opt=requires(PO_WRITE, ORDER_WRITE),
)
async def job_page(
    job_id: FromPath[int], view: NamedDependency[View], principal: NamedDependency[Principal]
) -> Response[Any]:
    """The job's progress; htmx polls this page every second while the job runs."""
    job = await _job(job_id, principal)
    if job["status"] == "draft":
        return Redirect(f"{IMPORTS}/{job_id}/mapping", status_code=303)
    i18n = view.i18n
    return view.page(
        "internal/import_job.html",
        {
            "job": job,
            "kind_label": i18n.gettext(KIND_LABELS[oi.Kind(job["kind"])]),
            "status_label": i18n.gettext(STATUS_LABELS.get(job["status"], job["status"])),
            "progress": _progress(job),
            "running": job["status"] in ("pending", "running"),
            "errors": [(error.row, row_message(error, i18n)) for error in oi.errors_of(job)],
            "result": oi.result_of(job),
        },
    )


# --- the API ----------------------------------------------------------------------------------


class ImportRowError(msgspec.Struct, frozen=True):
    row: int
    """The row's number in the sheet (the header row is 1)."""
    code: str
    message: str


class ImportPreview(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    total: int
    """Data rows read."""
    orders: int
    lines: int
    mapping: dict[str, str]
    """Each field -> the header of the column read for it."""
    errors: list[ImportRowError]


class ImportJobState(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    kind: str
    status: str
    """pending, running, done or failed (failed: nothing imported)."""
    phase: str
    total: int
    processed: int
    errors: list[ImportRowError]
    result: dict[str, Any]


def _state(job: dict[str, Any], i18n: I18n) -> ImportJobState:
    phase, rows = oi.progress_of(job)
    return ImportJobState(
        id=int(job["id"]),
        kind=job["kind"],
        status=job["status"],
        phase=phase,
        total=int(job["total"]),
        processed=rows,
        errors=[
            ImportRowError(error.row, error.code.value, row_message(error, i18n))
            for error in oi.errors_of(job)
        ],
        result=oi.result_of(job),
    )


@dataclass
class ImportUpload:
    file: UploadFile
    kind: str
    mapping: str = ""


@post(
    API_PATH,
    name="api-imports",
    opt=requires(PO_WRITE, ORDER_WRITE),
    operation_id="importOrders",
    tags=["Imports"],
    summary="Import purchase or sales orders from an ERP file",
    description=(
        "A multipart form: `file` (CSV in UTF-8 or GB18030, or XLSX), `kind` (purchase_orders "
        "or sales_orders) and optionally `mapping` (JSON: field -> header text or column "
        "index; guessed from English or Chinese headers otherwise). With `dry_run=true` "
        "nothing is written and the answer lists each row in error. Otherwise the rows are "
        "checked, then the import is queued (202, Location of the job); every order is "
        "created or none."
    ),
    status_code=HTTPStatus.ACCEPTED,
    request_max_body_size=BODY_LIMIT,
    dependencies={"write": Provide(api.provide_write, sync_to_thread=False)},
    exception_handlers={**api.exception_handlers()},
    responses={
        HTTPStatus.OK: ResponseSpec(ImportPreview, description="The dry run."),
        HTTPStatus.ACCEPTED: ResponseSpec(ImportJobState, description="Queued."),
        **api.problem_responses(401, 403, 422),
    },
)
async def api_import(
    write: NamedDependency[api.Write],
    db: NamedDependency[Database],
    data: MultipartBody[ImportUpload],
    dry_run: bool = False,
    idempotency_key: api.IdempotencyKey = None,
) -> Response[bytes]:
    i18n, principal = write.i18n, write.principal
    kind = _kind(data.kind, principal)
    if kind is None:
        raise ApiProblem(HTTPStatus.UNPROCESSABLE_ENTITY, i18n.gettext(NO_KIND), type=api.INVALID)
    content = await data.file.read()
    if not content:
        raise ApiProblem(HTTPStatus.UNPROCESSABLE_ENTITY, i18n.gettext(NO_FILE), type=api.INVALID)
    try:
        sheet = oi.read_sheet(content, data.file.filename or "", data.file.content_type)
    except ImportRefused as refused:
        raise ApiProblem(
            HTTPStatus.UNPROCESSABLE_ENTITY, file_message(refused, i18n), type=api.INVALID
        ) from None
    mapping = _api_mapping(data.mapping, sheet, kind)
    missing = oi.unmapped(mapping, kind)
    if missing:
        fields = ", ".join(i18n.gettext(FIELD_LABELS[field]) for field in missing)
        raise ApiProblem(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            i18n.gettext(UNMAPPED) % {"fields": fields},
            type=api.INVALID,
        )
    checked = await oi.check(sheet, mapping, kind)
    errors = [ImportRowError(e.row, e.code.value, row_message(e, i18n)) for e in checked.errors]
    if dry_run:
        orders, _ = oi.parse(sheet, mapping, kind)
        return api.json_response(
            ImportPreview(
                kind=kind.value,
                total=len(sheet.rows),
                orders=len(orders),
                lines=sum(len(order.lines) for order in orders),
                mapping={key: sheet.headers[index] for key, index in mapping.items()},
                errors=errors,
            )
        )
    if not checked.ok:
        raise ApiProblem(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            i18n.gettext(N_("Rows with errors: %(count)s. Nothing was imported."))
            % {"count": len(errors)},
            type=api.INVALID,
            errors=[api.FieldError(f"row {error.row}", error.message) for error in errors[:500]],
        )

    async def run() -> Response[bytes]:
        job_id = await oi.create_job(
            db,
            kind=kind,
            filename=data.file.filename or "",
            content=content,
            mapping=mapping,
            user_id=principal.user_id or 0,
            actor=principal.actor,
            total=len(sheet.rows),
            status="pending",
        )
        job = await _job(job_id, principal)
        return api.json_response(
            _state(job, i18n),
            status=HTTPStatus.ACCEPTED,
            location=f"{API_PATH}/{job_id}",
        )

    async def no_conflict(conflict: Any) -> ApiProblem:
        raise conflict

    return await write.answer(
        run, key=idempotency_key, on_conflict=no_conflict, based_on=kind.value
    )


def _api_mapping(text: str, sheet: oi.Sheet, kind: oi.Kind) -> dict[str, int]:
    guessed = oi.guess_mapping(sheet.headers, kind)
    if not text.strip():
        return guessed
    try:
        given = msgspec.json.decode(text.encode())
    except msgspec.DecodeError:
        return guessed
    if not isinstance(given, dict):
        return guessed
    for key, value in given.items():
        if isinstance(value, str) and value in sheet.headers:
            given[key] = sheet.headers.index(value)
    return {**guessed, **oi.clean_mapping(given, kind, len(sheet.headers))}


@get(
    API_PATH + "/{job_id:int}",
    name="api-import",
    opt=requires(PO_WRITE, ORDER_WRITE),
    operation_id="getImport",
    tags=["Imports"],
    summary="An import job's status, progress, errors and result",
    exception_handlers={**api.exception_handlers()},
    responses={
        HTTPStatus.OK: ResponseSpec(ImportJobState, description="The job."),
        **api.problem_responses(401, 403, 404),
    },
)
async def api_job(
    job_id: FromPath[int], i18n: NamedDependency[I18n], principal: NamedDependency[Principal]
) -> Response[bytes]:
    job = await _job(job_id, principal)
    return api.json_response(_state(job, i18n), headers={"Cache-Control": "no-store"})


ROUTES = [
    imports_page,
    upload,
    mapping_page,
    save_mapping,
    preview_page,
    apply,
    job_page,
    api_import,
    api_job,
]
