"""The public API v1 for suppliers' systems (and the reads internal staff share): purchase orders,
their timeline, acknowledgements, promises, change requests and shipments.

Each handler parses, checks what the schema cannot (lines that exist, quantities above zero,
promises not in the past), calls one service command and answers with the record as it now
is. The conventions (versions, idempotency, problems, cursors) are `portal.web.api`'s.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from litestar import Response, Router, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, QueryParameter

from portal.auth import scopes as s
from portal.auth.guards import requires
from portal.db import timeline
from portal.db.feed import Position, purchase_order_feed
from portal.db.po_detail import PODetail, purchase_order_detail
from portal.db.repositories import ChangeRequests
from portal.domain.actors import Actor, Side
from portal.domain.errors import Conflict, NotFound
from portal.domain.events import po_stream
from portal.domain.states import POStatus
from portal.services import acknowledgements, change_requests, fulfilment, promises
from portal.supplier import api_input, examples, schemas
from portal.web import api
from portal.web.api import ApiProblem, Checks
from portal.web.i18n import I18n

PREFIX = "/api/v1"
PO_PATH = "/purchase-orders"
ORDER = PO_PATH + "/{number:str}"
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
TIMELINE_LIMIT = 500
TAGS = ["Purchase orders"]


def security(scope: str, *more: str) -> list[dict[str, list[str]]]:
    return [{"oauth2": [name]} for name in (scope, *more)]


def ok(container: type, description: str, status: int = 200) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(
            data_container=container, description=description, generate_examples=False
        )
    }


READ_PROBLEMS = api.problem_responses(400, 401, 403, 404, 422)
WRITE_PROBLEMS = api.problem_responses(400, 401, 403, 404, 409, 422, 428)


# --- Reads -----------------------------------------------------------------------------------


async def _order(actor: Actor, number: str) -> schemas.PurchaseOrder:
    return schemas.purchase_order(await purchase_order_detail(actor, number))


@get(
    PO_PATH,
    operation_id="listPurchaseOrders",
    summary="List purchase orders",
    tags=TAGS,
    security=security(s.PO_READ),
    opt=requires(s.PO_READ),
    responses={
        **ok(schemas.PurchaseOrderPage, "One page, least recently changed first."),
        **READ_PROBLEMS,
    },
)
async def list_purchase_orders(
    actor: NamedDependency[Actor],
    i18n: NamedDependency[I18n],
    status: Annotated[
        str | None,
        QueryParameter(
            description="Only these statuses, comma-separated (e.g. issued,changes_proposed).",
        ),
    ] = None,
    updated_since: Annotated[
        str | None,
        QueryParameter(
            description="Only orders changed at or after this time (RFC 3339, with offset). "
            "Poll with the latest `updated_at` you have seen less a minute: a change stamped "
            "when its transaction began may commit a little after later ones.",
        ),
    ] = None,
    cursor: Annotated[
        str | None, QueryParameter(description="`next_cursor` of the previous page.")
    ] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Response[bytes]:
    """The caller's purchase orders (internal staff: all of them), least recently changed
    first, paged by an opaque cursor (`next_cursor`, or the `next` link). An ERP polls
    cheaply with `updated_since`: an order changed again moves to the end of the feed, so
    every change is seen; compare `version` with what you stored to skip the ones you
    have."""
    checks = Checks(i18n)
    statuses = [part.strip() for part in (status or "").split(",") if part.strip()]
    allowed = tuple(state.value for state in POStatus)
    for name in statuses:
        checks.choice("status", name, allowed)
    since = checks.moment("updated_since", updated_since)
    checks.done()
    after = Position(*api.decode_cursor(cursor, i18n)) if cursor else None
    feed = await purchase_order_feed(
        actor,
        statuses=[POStatus(name) for name in statuses],
        updated_since=since,
        after=after,
        limit=limit,
    )
    next_cursor = api.encode_cursor(feed.next.updated_at, feed.next.row_id) if feed.next else None
    next_url = None
    headers: dict[str, str] = {}
    if next_cursor is not None:
        query = {"status": status, "updated_since": updated_since, "limit": limit}
        kept = {key: value for key, value in query.items() if value not in (None, "")}
        next_url = f"{PREFIX}{PO_PATH}?{urlencode({**kept, 'cursor': next_cursor})}"
        headers["Link"] = f'<{next_url}>; rel="next"'
    return api.json_response(schemas.page(feed, next_cursor, next_url), headers=headers)


@get(
    ORDER,
    operation_id="getPurchaseOrder",
    summary="Read a purchase order",
    tags=TAGS,
    security=security(s.PO_READ),
    opt=requires(s.PO_READ),
    responses={
        **ok(schemas.PurchaseOrder, "The order; ETag is its version."),
        304: ResponseSpec(None, description="Your copy (If-None-Match) is current."),
        **READ_PROBLEMS,
    },
)
async def get_purchase_order(
    actor: NamedDependency[Actor], number: FromPath[str], if_none_match: api.IfNoneMatch = None
) -> Response[bytes]:
    """One purchase order with its lines, change requests and shipments. `ETag` is its
    version: send it as If-None-Match to get 304 while it has not changed, and as If-Match
    (or `version`) with a write."""
    order = await _order(actor, number)
    return api.read_response(order, order.version, if_none_match)


@get(
    ORDER + "/timeline",
    operation_id="getPurchaseOrderTimeline",
    summary="Read a purchase order's timeline",
    tags=TAGS,
    security=security(s.PO_READ, s.TIMELINE_READ),
    opt=requires(s.PO_READ, s.TIMELINE_READ),
    responses={**ok(schemas.Timeline, "Its events, oldest first."), **READ_PROBLEMS},
)
async def get_timeline(
    actor: NamedDependency[Actor],
    number: FromPath[str],
    after: Annotated[int, QueryParameter(ge=0, description="Only events after this `seq`.")] = 0,
    limit: Annotated[int, QueryParameter(ge=1, le=TIMELINE_LIMIT)] = TIMELINE_LIMIT,
) -> Response[bytes]:
    """Every event of the order the caller may read: who did what, when, through which
    channel, and what changed. Suppliers read what concerns them; internal staff read all."""
    events = await timeline.read(actor, po_stream(number), after_seq=after, limit=limit)
    return api.json_response(
        schemas.Timeline(
            po_number=number, events=[schemas.timeline_event(event) for event in events]
        )
    )


@get(
    ORDER + "/shipments/{shipment:str}",
    operation_id="getShipment",
    summary="Read a shipment",
    tags=TAGS,
    security=security(s.PO_READ),
    opt=requires(s.PO_READ),
    responses={
        **ok(schemas.Shipment, "The shipment; ETag is its purchase order's version."),
        304: ResponseSpec(None, description="Your copy (If-None-Match) is current."),
        **READ_PROBLEMS,
    },
)
async def get_shipment(
    actor: NamedDependency[Actor],
    number: FromPath[str],
    shipment: FromPath[str],
    if_none_match: api.IfNoneMatch = None,
) -> Response[bytes]:
    """One shipment of the order. It changes only with its order, so its ETag is the
    order's version, the one to send when correcting or cancelling it."""
    order = await _order(actor, number)
    found = _shipment_of(order, shipment)
    return api.read_response(found, order.version, if_none_match)


def _shipment_of(order: schemas.PurchaseOrder, number: str) -> schemas.Shipment:
    for found in order.shipments:
        if found.number == number:
            return found
    raise NotFound(
        "Purchase order {number} has no shipment {shipment}.", number=order.number, shipment=number
    )


async def _change_request(actor: Actor, number: str) -> tuple[schemas.ChangeRequest, PODetail]:
    """The request and its order, both as the actor may see them."""
    cr = await ChangeRequests().get(actor, number)
    detail = await purchase_order_detail(actor, cr.po_number)
    for view in detail.change_requests:
        if view.number == number:
            return schemas.change_request(detail.number, view), detail
    raise NotFound("Change request {number} was not found.", number=number)


@get(
    "/change-requests/{number:str}",
    operation_id="getChangeRequest",
    summary="Read a change request",
    tags=["Change requests"],
    security=security(s.PO_READ),
    opt=requires(s.PO_READ),
    responses={
        **ok(schemas.ChangeRequest, "The change request; ETag is its version."),
        304: ResponseSpec(None, description="Your copy (If-None-Match) is current."),
        **READ_PROBLEMS,
    },
)
async def get_change_request(
    actor: NamedDependency[Actor], number: FromPath[str], if_none_match: api.IfNoneMatch = None
) -> Response[bytes]:
    """A change request with its changes, status, round and the time its decision is due
    (`due_at`). Its ETag is the version a decision must be based on."""
    found, _ = await _change_request(actor, number)
    return api.read_response(found, found.version, if_none_match)


# --- Writes ----------------------------------------------------------------------------------


def _order_now(write: api.Write, number: str) -> api.Current:
    """A stale write to the order gets the order as it is now."""

    async def current(conflict: Conflict) -> ApiProblem:
        order = await _order(write.actor, number)
        return api.stale(write.i18n, conflict, order, version=order.version)

    return current


def _cr_in(order: schemas.PurchaseOrder, number: str | None) -> schemas.ChangeRequest | None:
    if number is None:
        return None
    return next(cr for cr in order.change_requests if cr.number == number)


def _cr_location(number: str) -> str:
    return f"{PREFIX}/change-requests/{quote(number, safe='')}"


def _shipment_location(po_number: str, number: str) -> str:
    return f"{PREFIX}{PO_PATH}/{quote(po_number, safe='')}/shipments/{quote(number, safe='')}"


@post(
    ORDER + "/acknowledgement",
    operation_id="acknowledgePurchaseOrder",
    summary="Acknowledge a purchase order",
    tags=TAGS,
    security=security(s.PO_ACKNOWLEDGE),
    opt=requires(s.PO_ACKNOWLEDGE),
    status_code=200,
    responses={
        **ok(
            schemas.Acknowledged,
            "Acknowledged; `change_request` holds what the buyer must agree to, if anything.",
        ),
        **WRITE_PROBLEMS,
    },
)
async def acknowledge(
    write: NamedDependency[api.Write],
    number: FromPath[str],
    data: Annotated[schemas.Acknowledgement, examples.ACKNOWLEDGEMENT],
    if_match: api.IfMatch = None,
    idempotency_key: api.IdempotencyKey = None,
) -> Response[bytes]:
    """Accept every line as ordered, reject the order with a reason, or answer line by line:
    accept, reject, or change (a delivery schedule and/or quantity). Whatever differs from the
    order becomes one change request for the buyer, unless the tolerance rule lets it apply
    at once. Lines not answered are accepted as ordered."""
    version = write.version(data.version, if_match)
    actor, uow = write.actor, write.uow

    async def run() -> Response[bytes]:
        checks = write.checks()
        api_input.check_acknowledgement(checks, data, await purchase_order_detail(actor, number))
        checks.done()
        if data.decision == "per_line":
            answers = api_input.line_answers(data)
            command = acknowledgements.AcknowledgeLines(
                number, version, answers, data.reason_code, data.comment
            )
            done = await acknowledgements.acknowledge_lines(uow, actor, command)
        else:
            decision = acknowledgements.Decision(data.decision)
            whole = acknowledgements.Acknowledge(number, version, decision, reason=data.reason)
            done = await acknowledgements.acknowledge(uow, actor, whole)
        order = await _order(actor, number)
        cr = _cr_in(order, done.change_request.number if done.change_request else None)
        return api.json_response(schemas.Acknowledged(purchase_order=order, change_request=cr))

    return await write.answer(
        run, key=idempotency_key, on_conflict=_order_now(write, number), based_on=version
    )


@put(
    ORDER + "/lines/{line_no:int}/promise",
    operation_id="updatePromise",
    summary="Update a line's promise",
    tags=TAGS,
    security=security(s.PO_PROMISE),
    opt=requires(s.PO_PROMISE),
    responses={
        **ok(schemas.PromiseChanged, "The new promise applied at once."),
        **ok(
            schemas.PromiseChanged,
            "Beyond the tolerance rule: proposed to the buyer as a change request (Location).",
            202,
        ),
        **WRITE_PROBLEMS,
    },
)
async def update_promise(
    write: NamedDependency[api.Write],
    number: FromPath[str],
    line_no: FromPath[int],
    data: Annotated[schemas.Promise, examples.PROMISE],
    if_match: api.IfMatch = None,
) -> Response[bytes]:
    """A new promised date and/or quantity for one line, with a reason code. Within the
    tolerance rule it applies at once (200); beyond it, it becomes a change request for the
    buyer (202, Location names it). Based on the order's version (If-Match or `version`)."""
    version = write.version(data.version, if_match)
    actor = write.actor

    async def run() -> Response[bytes]:
        detail = await purchase_order_detail(actor, number)
        if line_no not in api_input.known_lines(detail):
            raise NotFound(
                "Purchase order {number} has no line {line_no}.", number=number, line_no=line_no
            )
        checks = write.checks()
        api_input.check_promise(checks, "", data.schedule, data.date, data.quantity)
        checks.reason_code("reason_code", data.reason_code)
        checks.done()
        new = api_input.promise(detail, line_no, data.schedule, data.date, data.quantity)
        command = promises.UpdatePromise(
            number, version, line_no, new, data.reason_code, data.comment
        )
        done = await promises.update_promise(write.uow, actor, command)
        order = await _order(actor, number)
        cr = _cr_in(order, done.change_requests[0].number if done.change_requests else None)
        if cr is not None and cr.status == "open":
            return api.json_response(
                schemas.PromiseChanged(
                    outcome="change_request_opened", purchase_order=order, change_request=cr
                ),
                status=202,
                version=order.version,
                location=_cr_location(cr.number),
            )
        return api.json_response(
            schemas.PromiseChanged(outcome="applied", purchase_order=order, change_request=cr),
            version=order.version,
        )

    return await write.answer(run, on_conflict=_order_now(write, number), based_on=version)


@post(
    "/promise-updates",
    operation_id="updatePromises",
    summary="Update many promises at once",
    tags=TAGS,
    security=security(s.PO_PROMISE),
    opt=requires(s.PO_PROMISE),
    status_code=200,
    responses={
        **ok(schemas.PromisesChanged, "Every update applied or proposed, all together."),
        **WRITE_PROBLEMS,
    },
)
async def update_promises(
    write: NamedDependency[api.Write],
    data: Annotated[schemas.PromiseUpdates, examples.PROMISE_UPDATES],
    idempotency_key: api.IdempotencyKey = None,
) -> Response[bytes]:
    """Several promises in one go, all or nothing: `updates` line by line, or every open
    promised line of `po_numbers` (only `lines`, if given) moved by `shift_days`. Within the
    tolerance rule a new promise applies at once; beyond it, the lines of one order become
    one change request. `versions` gives the version read of every order involved."""
    checks = write.checks()
    forms = (data.updates is not None) + (data.shift_days is not None)
    checks.exactly_one("updates", ("updates", "shift_days"), forms)
    checks.done()
    if data.updates is not None:
        numbers = sorted({update.po_number for update in data.updates})
    else:
        numbers = sorted(set(data.po_numbers or ()))
    missing = [number for number in numbers if number not in data.versions]
    if missing:
        raise api.version_required(write.i18n, missing[0])
    versions = {number: data.versions[number] for number in numbers}
    actor, uow = write.actor, write.uow

    async def run() -> Response[bytes]:
        details = {number: await purchase_order_detail(actor, number) for number in numbers}
        checks = write.checks()
        if data.updates is not None:
            api_input.check_updates(checks, data.updates, details)
            checks.done()
            updates = tuple(
                promises.PromiseUpdate(
                    update.po_number,
                    update.line_no,
                    api_input.promise(
                        details[update.po_number],
                        update.line_no,
                        update.schedule,
                        update.date,
                        update.quantity,
                    ),
                    update.reason_code,
                    update.comment,
                )
                for update in data.updates
            )
            command = promises.UpdatePromises(updates, versions)
            done = await promises.update_promises(uow, actor, command)
        else:
            api_input.check_shift(checks, data, details)
            checks.done()
            lines = tuple((line.po_number, line.line_no) for line in data.lines or ())
            shift = promises.ShiftPromises(
                versions, data.shift_days or 0, data.reason_code or "", data.comment, lines
            )
            done = await promises.shift_promises(uow, actor, shift)
        orders = [await _order(actor, number) for number in numbers]
        opened = {cr.number for cr in done.change_requests}
        return api.json_response(
            schemas.PromisesChanged(
                applied=[schemas.LineRef(number, line_no) for number, line_no in done.applied],
                change_requests=[
                    cr for order in orders for cr in order.change_requests if cr.number in opened
                ],
                purchase_orders=orders,
            )
        )

    async def current(conflict: Conflict) -> ApiProblem:
        orders = [await _order(actor, number) for number in numbers]
        return api.stale(write.i18n, conflict, orders)

    return await write.answer(run, key=idempotency_key, on_conflict=current, based_on=versions)


@post(
    ORDER + "/change-requests",
    operation_id="openChangeRequest",
    summary="Open a change request",
    tags=["Change requests"],
    security=security(s.CR_WRITE),
    opt=requires(s.CR_WRITE),
    responses={
        **ok(schemas.ChangeRequestOpened, "Opened (Location names it).", 201),
        **WRITE_PROBLEMS,
    },
)
async def open_change_request(
    write: NamedDependency[api.Write],
    number: FromPath[str],
    data: Annotated[schemas.NewChangeRequest, examples.NEW_CHANGE_REQUEST],
    if_match: api.IfMatch = None,
    idempotency_key: api.IdempotencyKey = None,
) -> Response[bytes]:
    """Propose changes to an order: quantity, delivery schedule, price, item substitution or
    cancelling a line. The other side decides by the time in `due_at`; a supplier's change
    within the tolerance rule is approved at once (`auto_approved`)."""
    version = write.version(data.version, if_match)
    actor = write.actor

    async def run() -> Response[bytes]:
        checks = write.checks()
        detail = await purchase_order_detail(actor, number)
        api_input.check_changes(checks, "", data.changes, detail)
        checks.reason_code("reason_code", data.reason_code)
        checks.done()
        changes = api_input.line_changes(data.changes)
        command = change_requests.OpenChangeRequest(
            number, version, changes, data.reason_code, data.comment
        )
        cr = await change_requests.open_change_request(write.uow, actor, command)
        order = await _order(actor, number)
        opened = _cr_in(order, cr.number)
        assert opened is not None
        return api.json_response(
            schemas.ChangeRequestOpened(change_request=opened, purchase_order=order),
            status=201,
            location=_cr_location(cr.number),
        )

    return await write.answer(
        run, key=idempotency_key, on_conflict=_order_now(write, number), based_on=version
    )


@post(
    "/change-requests/{number:str}/decision",
    operation_id="decideChangeRequest",
    summary="Decide a change request",
    tags=["Change requests"],
    security=security(s.CR_WRITE, s.CR_REVIEW),
    opt=requires(s.CR_WRITE, s.CR_REVIEW),
    status_code=200,
    responses={**ok(schemas.Decided, "Decided."), **WRITE_PROBLEMS},
)
async def decide_change_request(
    write: NamedDependency[api.Write],
    number: FromPath[str],
    data: Annotated[schemas.Decision, examples.DECISION],
    if_match: api.IfMatch = None,
    idempotency_key: api.IdempotencyKey = None,
) -> Response[bytes]:
    """Approve, reject (say why in `comment`) or counter (with `changes`) a change request the
    other side opened, or withdraw one's own. A counter proposal supersedes the request and
    starts the next round. Based on the change request's version (its ETag). Buyers need
    cr:review to approve, reject or counter; suppliers cr:write."""
    actor = write.actor
    reviewing = actor.side == Side.INTERNAL and data.verdict != "withdraw"
    needed = s.CR_REVIEW if reviewing else s.CR_WRITE
    if not write.principal.holds(needed):
        raise api.missing_scope(write.i18n, needed)
    version = write.version(data.version, if_match)

    async def run() -> Response[bytes]:
        found, detail = await _change_request(actor, number)
        checks = write.checks()
        if data.verdict == "counter":
            api_input.check_changes(checks, "", data.changes, detail)
            checks.reason_code("reason_code", data.reason_code)
        elif data.changes:
            checks.fail("changes", checks._("only a counter proposal carries changes."))
        if data.verdict == "reject":
            checks.required("comment", bool(data.comment.strip()))
        checks.done()
        command = change_requests.DecideChangeRequest(
            number,
            version,
            change_requests.Verdict(data.verdict),
            data.comment,
            api_input.line_changes(data.changes),
            data.reason_code,
        )
        decided = await change_requests.decide_change_request(write.uow, actor, command)
        order = await _order(actor, found.po_number)
        now = _cr_in(order, number)
        assert now is not None
        counter = _cr_in(order, decided.counter.number if decided.counter else None)
        return api.json_response(
            schemas.Decided(change_request=now, counter=counter, purchase_order=order),
            version=now.version,
        )

    async def current(conflict: Conflict) -> ApiProblem:
        found, _ = await _change_request(actor, number)
        return api.stale(write.i18n, conflict, found, version=found.version)

    return await write.answer(run, key=idempotency_key, on_conflict=current, based_on=version)


@post(
    ORDER + "/shipments",
    operation_id="postShipment",
    summary="Post a shipment",
    tags=["Shipments"],
    security=security(s.PO_SHIP),
    opt=requires(s.PO_SHIP),
    responses={
        **ok(schemas.ShipmentPosted, "Posted; Location names the shipment.", 201),
        **WRITE_PROBLEMS,
    },
)
async def post_shipment(
    write: NamedDependency[api.Write],
    number: FromPath[str],
    data: Annotated[schemas.NewShipment, examples.NEW_SHIPMENT],
    if_match: api.IfMatch = None,
    idempotency_key: api.IdempotencyKey = None,
) -> Response[bytes]:
    """Post a shipment (ASN) against the order: lines and quantities, ship date, carrier,
    tracking number, expected arrival. Partial shipments are fine; more than the open
    quantity beyond the tolerance is refused. Send an Idempotency-Key so that a retry never
    ships twice."""
    version = write.version(data.version, if_match)
    actor = write.actor

    async def run() -> Response[bytes]:
        checks = write.checks()
        api_input.check_shipment(checks, data.lines, await purchase_order_detail(actor, number))
        checks.done()
        command = fulfilment.PostShipment(
            number, version, api_input.shipment(data.number or "", data)
        )
        shipped = await fulfilment.post_shipment(write.uow, actor, command)
        order = await _order(actor, number)
        posted = _shipment_of(order, shipped.shipment.number)
        return api.json_response(
            schemas.ShipmentPosted(shipment=posted, purchase_order=order),
            status=201,
            location=_shipment_location(number, posted.number),
        )

    return await write.answer(
        run, key=idempotency_key, on_conflict=_order_now(write, number), based_on=version
    )


@put(
    ORDER + "/shipments/{shipment:str}",
    operation_id="correctShipment",
    summary="Correct a shipment",
    tags=["Shipments"],
    security=security(s.PO_SHIP),
    opt=requires(s.PO_SHIP),
    responses={**ok(schemas.ShipmentPosted, "Corrected."), **WRITE_PROBLEMS},
)
async def correct_shipment(
    write: NamedDependency[api.Write],
    number: FromPath[str],
    shipment: FromPath[str],
    data: Annotated[schemas.ShipmentCorrection, examples.SHIPMENT_CORRECTION],
    if_match: api.IfMatch = None,
) -> Response[bytes]:
    """Replace what a posted shipment says, before any of it is received; the timeline keeps
    what it said before, and why it changed. Based on the order's version."""
    version = write.version(data.version, if_match)
    actor = write.actor

    async def run() -> Response[bytes]:
        checks = write.checks()
        api_input.check_shipment(checks, data.lines, await purchase_order_detail(actor, number))
        checks.done()
        command = fulfilment.CorrectShipment(
            number, version, api_input.shipment(shipment, data), data.reason
        )
        await fulfilment.correct_shipment(write.uow, actor, command)
        order = await _order(actor, number)
        return api.json_response(
            schemas.ShipmentPosted(shipment=_shipment_of(order, shipment), purchase_order=order),
            version=order.version,
        )

    return await write.answer(run, on_conflict=_order_now(write, number), based_on=version)


@post(
    ORDER + "/shipments/{shipment:str}/cancellation",
    operation_id="cancelShipment",
    summary="Cancel a shipment",
    tags=["Shipments"],
    security=security(s.PO_SHIP),
    opt=requires(s.PO_SHIP),
    status_code=200,
    responses={**ok(schemas.ShipmentPosted, "Cancelled."), **WRITE_PROBLEMS},
)
async def cancel_shipment(
    write: NamedDependency[api.Write],
    number: FromPath[str],
    shipment: FromPath[str],
    data: Annotated[schemas.ShipmentCancellation, examples.SHIPMENT_CANCELLATION],
    if_match: api.IfMatch = None,
    idempotency_key: api.IdempotencyKey = None,
) -> Response[bytes]:
    """Take a posted shipment back, before any of it is received: its quantities are open
    again, and its number stays taken. Based on the order's version."""
    version = write.version(data.version, if_match)
    actor = write.actor

    async def run() -> Response[bytes]:
        command = fulfilment.CancelShipment(number, version, shipment, data.reason)
        await fulfilment.cancel_shipment(write.uow, actor, command)
        order = await _order(actor, number)
        return api.json_response(
            schemas.ShipmentPosted(shipment=_shipment_of(order, shipment), purchase_order=order)
        )

    return await write.answer(
        run, key=idempotency_key, on_conflict=_order_now(write, number), based_on=version
    )


ROUTER = Router(
    PREFIX,
    route_handlers=[
        list_purchase_orders,
        get_purchase_order,
        get_timeline,
        get_shipment,
        get_change_request,
        acknowledge,
        update_promise,
        update_promises,
        open_change_request,
        decide_change_request,
        post_shipment,
        correct_shipment,
        cancel_shipment,
    ],
    dependencies={"write": Provide(api.provide_write, sync_to_thread=False)},
    exception_handlers=api.exception_handlers(),
)
ROUTES = [ROUTER]
"""The API's routes, under /api/v1."""
