"""The buyers' change-request review: the queue of open requests with what each would do to our
customers and its SLA clock, one request with its decision forms, approving several low-impact
ones at once, and a buyer's own change order to a supplier; and the queue and the bulk
approval in the API.

Forms post plain fields and work without JavaScript (POST, then 303 to the page it leads to);
htmx gets the page's fragment in place. A form from a version that is no longer current gets
the request as it is now, with 409. The form fields are the supplier workspace's (see
portal/supplier/forms.py), so both sides propose changes the same way.

Pages are for people; they stay out of the OpenAPI schema, which documents the public API.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal
from http import HTTPStatus
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect
from litestar.types import ControllerRouterHandler

from portal.auth import scopes as s
from portal.auth.guards import requires
from portal.auth.principal import Principal
from portal.db import review_queries as rq
from portal.db.po_detail import PODetail, purchase_order_detail
from portal.db.queries import Page
from portal.domain.actors import Side
from portal.domain.errors import Conflict, DomainError, NotFound
from portal.domain.impact import CustomerEffect
from portal.domain.states import PO_TRANSITIONS, POMove, POStatus
from portal.services import change_requests
from portal.services.unit_of_work import UnitOfWork
from portal.supplier import forms, pages
from portal.supplier import schemas as supplier_schemas
from portal.supplier.forms import Fields, FormError
from portal.supplier.pages import Failure
from portal.web import api
from portal.web.api import ApiProblem, Checks
from portal.web.i18n import I18n
from portal.web.rendering import View

QUEUE = "/change-requests"
ONE = QUEUE + "/{number:str}"
BULK = QUEUE + "/bulk-approval"
NEW = "/purchase-orders/{number:str}/change-requests/new"
PER_PAGE = 20
API_PREFIX = "/api/v1"
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
NOTICES = frozenset({"approved", "rejected", "countered", "withdrawn", "bulk", "opened"})


def now() -> datetime:
    return datetime.now(UTC)


def one_path(number: str) -> str:
    return f"{QUEUE}/{quote(number, safe='')}"


# --- the queue -----------------------------------------------------------------------------


class Queue(msgspec.Struct, frozen=True, kw_only=True):
    """The queue's filters and page, as its URL says them."""

    due: str = ""
    opened_by: str = ""
    supplier: str = ""
    buyer: str = ""
    page: int = 1

    @classmethod
    def from_query(cls, query: dict[str, str]) -> Queue:
        page = query.get("page", "")
        return cls(
            due="overdue" if query.get("due") == "overdue" else "",
            opened_by=query.get("opened_by", "")
            if query.get("opened_by") in ("supplier", "internal")
            else "",
            supplier=query.get("supplier", "")[:32],
            buyer=query.get("buyer", "")[:200],
            page=int(page) if page.isdigit() and int(page) > 0 else 1,
        )

    def filters(self) -> rq.Filters:
        return rq.Filters(
            overdue=self.due == "overdue",
            opened_by=self.opened_by,
            supplier=self.supplier,
            buyer=self.buyer,
        )

    def url(self, **changed: Any) -> str:
        values = {**msgspec.structs.asdict(self), **changed}
        kept = {key: value for key, value in values.items() if value not in ("", 1, None)}
        return QUEUE + (f"?{urlencode(kept)}" if kept else "")


def sla(item: rq.ReviewItem, at: datetime) -> tuple[bool, int]:
    """(overdue, whole hours): hours left until it is due, or hours it is overdue by."""
    hours = item.hours_left(at)
    return hours < 0, math.ceil(abs(hours)) if hours >= 0 else math.floor(abs(hours))


def change_rows(item: rq.ReviewItem) -> list[dict[str, Any]]:
    """Each change with the line's value now (`before`) and the one proposed (`after`)."""
    rows = []
    for change in item.changes:
        line = item.lines.get(int(change["line_no"]))
        kind = change["kind"]
        before: Any = None
        after: Any = None
        if line is not None:
            if kind == "quantity":
                before, after = line.quantity, Decimal(change["quantity"])
            elif kind == "date":
                before = line.promise.to_data() if line.promise else None
                after = change["schedule"]
            elif kind == "price":
                before, after = line.unit_price, Decimal(change["unit_price"])
            elif kind == "item":
                before, after = line.item, change["item"]
        rows.append(
            {
                "line_no": change["line_no"],
                "kind": kind,
                "before": before,
                "after": after,
                "need_date": line.need_date if line else None,
            }
        )
    return rows


def _context(view: View, queue_page: Page[rq.ReviewItem], at: datetime) -> dict[str, Any]:
    return {
        "sla": lambda item: sla(item, at),
        "change_rows": change_rows,
        "now": at,
        "page": queue_page,
    }


def _review_principal(principal: Principal) -> None:
    """Only our staff review; anyone else learns nothing of the queue (404)."""
    if principal.actor.side != Side.INTERNAL:
        raise NotFound("Change request {number} was not found.", number="")


async def queue_page(
    view: View,
    principal: Principal,
    queue: Queue,
    *,
    notice: str = "",
    refused: str = "",
    status_code: int = HTTPStatus.OK,
) -> Response[str]:
    _review_principal(principal)
    at = now()
    found = await rq.review_page(
        principal.actor, queue.filters(), at, page=queue.page, per_page=PER_PAGE
    )
    suppliers, buyers = await rq.suppliers_and_buyers()
    return view.page(
        "internal/review_queue.html",
        {
            **_context(view, found, at),
            "queue": queue,
            "bulk_url": BULK + queue.url().removeprefix(QUEUE),
            "awaiting_us": [item for item in found.items if item.opened_by == Side.SUPPLIER],
            "awaiting_supplier": [item for item in found.items if item.opened_by == Side.INTERNAL],
            "suppliers": suppliers,
            "buyers": buyers,
            "notice": notice if notice in NOTICES else "",
            "refused": refused,
            "can_decide": principal.holds(s.CR_REVIEW),
        },
        status_code=status_code,
    )


@get(QUEUE, name="change-review-queue", include_in_schema=False, opt=requires(s.CR_REVIEW))
async def review_queue(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
) -> Response[str]:
    """Every open change request: those awaiting our decision first, each with its changes,
    its effect on our customers' orders and its SLA clock; filtered and paged on the server."""
    query = dict(request.query_params.items())
    return await queue_page(view, principal, Queue.from_query(query), notice=query.get("done", ""))


# --- one request ---------------------------------------------------------------------------


async def detail(
    view: View,
    principal: Principal,
    number: str,
    *,
    notice: str = "",
    failure: Failure | None = None,
    conflict: Conflict | None = None,
) -> Response[str]:
    _review_principal(principal)
    at = now()
    item = await rq.review_item(principal.actor, number, at)
    if item is None:
        raise NotFound("Change request {number} was not found.", number=number)
    po = await purchase_order_detail(principal.actor, item.po_number)
    cr = next(found for found in po.change_requests if found.number == number)
    status = HTTPStatus.OK
    if failure is not None:
        status = HTTPStatus.UNPROCESSABLE_ENTITY
    if conflict is not None:
        status = HTTPStatus.CONFLICT
    return view.page(
        "internal/review_one.html",
        {
            **_context(view, Page(items=[item], number=1, size=1, total=1), at),
            "item": item,
            "cr": cr,
            "po": po,
            "open_lines": [{"line": line} for line in po.lines if not line.cancelled],
            "reasons": view.i18n.reasons(),
            "today": pages.today_of(view.i18n),
            "failure": failure,
            "conflict": conflict,
            "notice": notice if notice in NOTICES else "",
            "decides": cr.is_open and cr.opened_by == Side.SUPPLIER,
            "withdraws": cr.is_open
            and cr.opened_by == Side.INTERNAL
            and principal.holds(s.CR_WRITE),
            "can_decide": principal.holds(s.CR_REVIEW),
        },
        status_code=status,
    )


@get(ONE, name="change-review-one", include_in_schema=False, opt=requires(s.CR_REVIEW))
async def review_one(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    number: FromPath[str],
) -> Response[str]:
    return await detail(view, principal, number, notice=request.query_params.get("done", ""))


def _done(view: View, path: str, notice: str) -> Response[Any] | None:
    """Without JavaScript a finished form redirects (303); htmx gets the fragment in place."""
    if view.wants_fragment:
        return None
    separator = "&" if "?" in path else "?"
    return Redirect(f"{path}{separator}done={notice}", status_code=303)


@post(
    ONE + "/decision",
    name="change-review-decide",
    include_in_schema=False,
    opt=requires(s.CR_REVIEW, s.CR_WRITE),
)
async def decide(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    uow: NamedDependency[UnitOfWork],
    number: FromPath[str],
) -> Response[Any]:
    """Approve, reject (with a reason) or counter a supplier's request; withdraw our own."""
    _review_principal(principal)
    fields = Fields((await request.form()).multi_items())
    item = await rq.review_item(principal.actor, number, now())
    if item is None:
        raise NotFound("Change request {number} was not found.", number=number)
    verdict = fields.text("verdict")
    needed = s.CR_WRITE if verdict == "withdraw" else s.CR_REVIEW
    form = f"decision-{number}"
    if not principal.holds(needed):
        failure = Failure(form=form, fields=fields, error=FormError("verdict"))
        return await detail(view, principal, number, failure=failure)
    po = await purchase_order_detail(principal.actor, item.po_number)
    try:
        command = forms.decision(fields, number, pages.line_facts(po), pages.today_of(view.i18n))
        decided = await change_requests.decide_change_request(uow, principal.actor, command)
    except FormError as error:
        return await detail(
            view, principal, number, failure=Failure(form=form, fields=fields, error=error)
        )
    except Conflict as error:
        return await detail(view, principal, number, conflict=error)
    except NotFound:
        raise
    except DomainError as error:
        failure = Failure(form=form, fields=fields, refused=view.i18n.explain(error))
        return await detail(view, principal, number, failure=failure)
    shown = decided.counter.number if decided.counter else number
    code = "countered" if decided.counter else decided.change_request.status.value
    redirect = _done(view, one_path(shown), code)
    if redirect is not None:
        return redirect
    page = await detail(view, principal, shown, notice=code)
    # A counter shows the new request in place: the address bar names it too.
    page.headers["HX-Push-Url"] = one_path(shown)
    return page


def _picked(fields: Fields) -> tuple[tuple[str, int], ...]:
    """The requests ticked in the queue, each with the version its row was rendered from."""
    picked = []
    for number in fields.all("cr"):
        version = fields.text(f"version-{number}")
        if not number or not version.isdigit():
            raise FormError("selection")
        picked.append((number, int(version)))
    if not picked:
        raise FormError("nothing_picked")
    return tuple(picked)


@post(BULK, name="change-review-bulk", include_in_schema=False, opt=requires(s.CR_REVIEW))
async def bulk_approval(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    uow: NamedDependency[UnitOfWork],
) -> Response[Any]:
    """Approve the ticked requests together: all of them, or (one stale or not low impact)
    none, with a message naming the ones to decide alone."""
    _review_principal(principal)
    fields = Fields((await request.form()).multi_items())
    queue = Queue.from_query(dict(request.query_params.items()))
    try:
        picked = _picked(fields)
        await change_requests.bulk_approve(
            uow,
            principal.actor,
            change_requests.BulkApprove(picked, forms.free_text(fields, "comment")),
        )
    except FormError as error:
        words = {
            "selection": view.i18n.gettext(
                "The selection could not be read. Reload the page and try again."
            ),
            "nothing_picked": view.i18n.gettext("Tick at least one change request to approve."),
            "too_long": view.i18n.gettext("The comment is too long."),
        }
        return await queue_page(
            view,
            principal,
            queue,
            refused=words.get(error.code, words["selection"]),
            status_code=HTTPStatus.UNPROCESSABLE_ENTITY,
        )
    except Conflict as error:
        return await queue_page(
            view,
            principal,
            queue,
            refused=view.i18n.explain(error),
            status_code=HTTPStatus.CONFLICT,
        )
    except NotFound:
        raise
    except DomainError as error:
        return await queue_page(
            view,
            principal,
            queue,
            refused=view.i18n.explain(error),
            status_code=HTTPStatus.UNPROCESSABLE_ENTITY,
        )
    redirect = _done(view, queue.url(), "bulk")
    return redirect or await queue_page(view, principal, queue, notice="bulk")


# --- a buyer's change order -------------------------------------------------------------------


async def new_page(
    view: View, principal: Principal, number: str, *, failure: Failure | None = None
) -> Response[str]:
    if principal.actor.side != Side.INTERNAL:
        raise NotFound("Purchase order {number} was not found.", number=number)
    po = await purchase_order_detail(principal.actor, number)
    return view.page(
        "internal/review_new.html",
        {
            "po": po,
            "can_open": (POStatus(po.stored_status), POMove.OPEN_CHANGE_REQUEST) in PO_TRANSITIONS,
            "open_lines": [{"line": line} for line in po.lines if not line.cancelled],
            "reasons": view.i18n.reasons(),
            "today": pages.today_of(view.i18n),
            "failure": failure,
        },
        status_code=HTTPStatus.UNPROCESSABLE_ENTITY if failure else HTTPStatus.OK,
    )


@get(NEW, name="change-review-new", include_in_schema=False, opt=requires(s.PO_WRITE))
async def new_change_request(
    view: NamedDependency[View], principal: NamedDependency[Principal], number: FromPath[str]
) -> Response[str]:
    """The form a buyer asks the supplier for changes with: quantity, date, price, item,
    cancelling a line, a reason and a comment. Read with po:write, which only our staff hold
    (a supplier holds cr:write too, and proposes its changes in its own workspace); sending
    it takes cr:write, the scope of opening a change request."""
    return await new_page(view, principal, number)


@post(NEW, name="change-review-open", include_in_schema=False, opt=requires(s.CR_WRITE))
async def open_change_request(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    uow: NamedDependency[UnitOfWork],
    number: FromPath[str],
) -> Response[Any]:
    if principal.actor.side != Side.INTERNAL:
        raise NotFound("Purchase order {number} was not found.", number=number)
    fields = Fields((await request.form()).multi_items())
    po = await purchase_order_detail(principal.actor, number)
    try:
        command = forms.change_request(
            fields, po.number, pages.line_facts(po), pages.today_of(view.i18n)
        )
        cr = await change_requests.open_change_request(uow, principal.actor, command)
    except FormError as error:
        failure = Failure(form="change-request", fields=fields, error=error)
        return await new_page(view, principal, number, failure=failure)
    except Conflict as error:
        failure = Failure(form="change-request", fields=fields, refused=view.i18n.explain(error))
        page = await new_page(view, principal, number, failure=failure)
        page.status_code = HTTPStatus.CONFLICT
        return page
    except NotFound:
        raise
    except DomainError as error:
        failure = Failure(form="change-request", fields=fields, refused=view.i18n.explain(error))
        return await new_page(view, principal, number, failure=failure)
    redirect = _done(view, one_path(cr.number), "opened")
    return redirect or await detail(view, principal, cr.number, notice="opened")


# --- API -------------------------------------------------------------------------------------


class Effect(msgspec.Struct, frozen=True, kw_only=True):
    """A customer's sales line that follows a changed line, as the request would leave it."""

    customer: str
    customer_name: str
    so_number: str
    so_line_no: int
    po_line_no: int
    requested_date: date
    expected_date_before: date
    expected_date_after: date
    days_later: int
    """Negative when earlier."""
    late_for_customer: bool
    """After the change the line is expected after the customer's requested date (or its
    purchase order line is cancelled)."""
    line_cancelled: bool


class QueueItem(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    po_number: str
    supplier: str
    supplier_name: str
    buyer: str
    opened_by: Literal["supplier", "internal"]
    """The side that opened it; the other side decides."""
    opened_by_name: str
    reason_code: str
    comment: str
    changes: list[supplier_schemas.Change]
    round: int
    due_at: datetime
    overdue: bool
    created_at: datetime
    version: int
    """The version a decision (or the bulk approval) must be based on."""
    low_impact: bool
    """May be approved together with others (`POST /change-requests/bulk-approval`)."""
    not_low_impact: list[str]
    """Why not: cancel, price, item (such a change) or customer_late."""
    effects: list[Effect]


class QueuePage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[QueueItem]
    """Earliest due first."""
    next_cursor: str | None
    """Pass it as `cursor` for the next page; null on the last page."""
    next: str | None


class BulkItem(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    number: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    version: Annotated[int, msgspec.Meta(ge=1)]


class BulkApproval(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    change_requests: Annotated[list[BulkItem], msgspec.Meta(min_length=1, max_length=100)]
    comment: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class BulkApproved(msgspec.Struct, frozen=True, kw_only=True):
    approved: list[supplier_schemas.ChangeRequest]


BULK_EXAMPLE = Body(
    description="The change requests to approve together, each with the version you read.",
    examples=[
        Example(
            summary="Two requests",
            value={
                "change_requests": [
                    {"number": "PO-1001-CR1", "version": 1},
                    {"number": "PO-1002-CR2", "version": 3},
                ],
                "comment": "Fine by us",
            },
        )
    ],
)


def _effect(effect: CustomerEffect) -> Effect:
    return Effect(
        customer=effect.customer,
        customer_name=effect.customer_name,
        so_number=effect.so_number,
        so_line_no=effect.line_no,
        po_line_no=effect.po_line_no,
        requested_date=effect.requested_date,
        expected_date_before=effect.expected_before,
        expected_date_after=effect.expected_after,
        days_later=effect.days,
        late_for_customer=effect.late_after,
        line_cancelled=effect.cancelled,
    )


def queue_item(item: rq.ReviewItem, at: datetime) -> QueueItem:
    return QueueItem(
        number=item.number,
        po_number=item.po_number,
        supplier=item.supplier,
        supplier_name=item.supplier_name,
        buyer=item.buyer,
        opened_by=msgspec.convert(item.opened_by, Literal["supplier", "internal"]),
        opened_by_name=item.opened_by_name,
        reason_code=item.reason_code,
        comment=item.comment,
        changes=msgspec.convert(item.changes, list[supplier_schemas.Change]),
        round=item.round,
        due_at=item.due_at,
        overdue=item.overdue(at),
        created_at=item.created_at,
        version=item.version,
        low_impact=item.low_impact,
        not_low_impact=item.not_low_impact,
        effects=[_effect(effect) for effect in item.effects],
    )


@get(
    QUEUE,
    operation_id="listChangeRequests",
    summary="List open change requests (review queue)",
    tags=["Change requests"],
    security=[{"oauth2": [s.CR_REVIEW]}],
    opt=requires(s.CR_REVIEW),
    responses={**api.problem_responses(400, 401, 403, 422)},
)
async def list_change_requests(
    principal: NamedDependency[Principal],
    i18n: NamedDependency[I18n],
    due: Annotated[
        str | None, QueryParameter(description="`overdue`: only those past their due time.")
    ] = None,
    opened_by: Annotated[
        str | None,
        QueryParameter(
            description="`supplier` (awaiting our decision) or `internal` (awaiting the "
            "supplier's)."
        ),
    ] = None,
    supplier: Annotated[str | None, QueryParameter(description="A supplier's code.")] = None,
    buyer: Annotated[str | None, QueryParameter(description="The buyer's name.")] = None,
    cursor: Annotated[
        str | None, QueryParameter(description="`next_cursor` of the previous page.")
    ] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Response[bytes]:
    """Our staff's review queue: every open change request, earliest due first, with its
    changes, due time (`due_at`, `overdue`), whether it is low impact, and what it would do to
    our customers' orders (`effects`: each linked sales line's expected date before and
    after). Paged by an opaque cursor."""
    if principal.actor.side != Side.INTERNAL:
        raise NotFound("Change request {number} was not found.", number="")
    checks = Checks(i18n)
    if due is not None:
        checks.choice("due", due, ("overdue",))
    if opened_by is not None:
        checks.choice("opened_by", opened_by, ("supplier", "internal"))
    checks.done()
    after = api.decode_cursor(cursor, i18n) if cursor else None
    at = now()
    filters = rq.Filters(
        overdue=due == "overdue",
        opened_by=opened_by or "",
        supplier=supplier or "",
        buyer=buyer or "",
    )
    found = await rq.review_after(principal.actor, filters, at, after=after, limit=limit + 1)
    more = len(found) > limit
    found = found[:limit]
    next_cursor = api.encode_cursor(found[-1].due_at, found[-1].id) if more else None
    next_url = None
    headers: dict[str, str] = {}
    if next_cursor is not None:
        query = {
            "due": due,
            "opened_by": opened_by,
            "supplier": supplier,
            "buyer": buyer,
            "limit": limit,
        }
        kept = {key: value for key, value in query.items() if value not in (None, "")}
        next_url = f"{API_PREFIX}{QUEUE}?{urlencode({**kept, 'cursor': next_cursor})}"
        headers["Link"] = f'<{next_url}>; rel="next"'
    body = QueuePage(
        items=[queue_item(item, at) for item in found], next_cursor=next_cursor, next=next_url
    )
    return api.json_response(body, headers=headers)


@post(
    BULK,
    operation_id="bulkApproveChangeRequests",
    summary="Approve several low-impact change requests at once",
    tags=["Change requests"],
    security=[{"oauth2": [s.CR_REVIEW]}],
    opt=requires(s.CR_REVIEW),
    status_code=200,
    responses={
        200: ResponseSpec(
            data_container=BulkApproved, description="All approved.", generate_examples=False
        ),
        **api.problem_responses(400, 401, 403, 404, 409, 422),
    },
)
async def bulk_approve(
    write: NamedDependency[api.Write],
    data: Annotated[BulkApproval, BULK_EXAMPLE],
    idempotency_key: api.IdempotencyKey = None,
) -> Response[bytes]:
    """Approve every listed change request, or none: a stale version (409, with the queue's
    entries as they are now), a request no longer open, or one that is not low impact (it
    cancels a line, changes a price or an item, or makes a customer's line late; 422 naming
    them) leaves everything as it was."""
    actor = write.actor
    if actor.side != Side.INTERNAL:
        raise NotFound("Change request {number} was not found.", number="")
    versions = tuple((item.number, item.version) for item in data.change_requests)

    async def run() -> Response[bytes]:
        approved = await change_requests.bulk_approve(
            write.uow, actor, change_requests.BulkApprove(versions, data.comment)
        )
        answer = []
        for cr in approved:
            po = await purchase_order_detail(actor, cr.po_number)
            answer.append(_api_cr(po, cr.number))
        return api.json_response(BulkApproved(approved=answer))

    async def current(conflict: Conflict) -> ApiProblem:
        numbers = tuple(number for number, _ in versions)
        found = await rq.review_after(
            actor, rq.Filters(numbers=numbers), now(), after=None, limit=len(numbers)
        )
        at = now()
        return api.stale(write.i18n, conflict, [queue_item(item, at) for item in found])

    return await write.answer(
        run, key=idempotency_key, on_conflict=current, based_on=list(versions)
    )


def _api_cr(po: PODetail, number: str) -> supplier_schemas.ChangeRequest:
    view = next(found for found in po.change_requests if found.number == number)
    return supplier_schemas.change_request(po.number, view)


API = Router(
    API_PREFIX,
    route_handlers=[list_change_requests, bulk_approve],
    dependencies={"write": Provide(api.provide_write, sync_to_thread=False)},
    exception_handlers=api.exception_handlers(),
)

ROUTES: list[ControllerRouterHandler] = [
    review_queue,
    bulk_approval,
    review_one,
    decide,
    new_change_request,
    open_change_request,
    API,
]
"""The review pages and the review API (under /api/v1)."""
