"""The supplier workspace (/supplier): the purchase order inbox and one order, and the forms
that answer, promise, change and ship.

Every form works without JavaScript (it posts, then is redirected, 303, to the order) and
better with htmx (the same post answers with the order's fragment, swapped in place). Each
handler reads its form, calls one service, and renders; forms.py checks the input first, so a
bad form changes nothing and is shown again (422) with its message and what was typed. A form
sent from a version of the order that is no longer current gets the conflict page (409).

Pages are for people; they stay out of the OpenAPI schema, which documents the public API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from portal.auth import scopes as s
from portal.auth.guards import requires
from portal.auth.principal import Principal
from portal.db.po_detail import PODetail, purchase_order_detail
from portal.domain.errors import Conflict, DomainError, NotFound
from portal.services import acknowledgements, change_requests, fulfilment, promises
from portal.services.acknowledgements import Acknowledge
from portal.services.promises import PromisesUpdated
from portal.services.unit_of_work import UnitOfWork
from portal.supplier import forms, pages
from portal.supplier.forms import Fields, FormError
from portal.supplier.listing import INBOX, InboxListing
from portal.supplier.pages import Failure, Notice, detail_path
from portal.web.rendering import View

ORDER = INBOX + "/{number:str}"
BULK = "/supplier/promises"

Action = Callable[[PODetail], Awaitable[Notice]]
"""Runs one service command for the order as read, and says what it achieved."""


async def _fields(request: Request[Any, Any, Any]) -> Fields:
    return Fields((await request.form()).multi_items())


async def _act(
    view: View, principal: Principal, number: str, form: str, fields: Fields, action: Action
) -> Response[Any]:
    """Read the order (404 for one the reader may not see, before anything else), run the
    form's command and answer: the order with its notice, the form again with what is wrong
    (422), or the conflict page (409)."""
    po = await purchase_order_detail(principal.actor, number)
    try:
        notice = await action(po)
    except FormError as error:
        failure = Failure(form=form, fields=fields, error=error)
        return await pages.detail(view, principal, po.number, failure=failure)
    except Conflict as error:
        return pages.conflict(view, error, reload=detail_path(po.number), target="supplier-po")
    except NotFound:
        raise
    except DomainError as error:
        failure = Failure(form=form, fields=fields, refused=view.i18n.explain(error))
        return await pages.detail(view, principal, po.number, failure=failure)
    redirect = pages.done(view, detail_path(po.number), notice)
    return redirect or await pages.detail(view, principal, po.number, notice=notice)


# --- reading -----------------------------------------------------------------------------------


@get(INBOX, name="supplier-inbox", include_in_schema=False, opt=requires(s.PO_READ))
async def inbox(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
) -> Response[str]:
    """The supplier's purchase orders: filtered, sorted and paged on the server; the table is
    fetched again whenever one of them changes."""
    query = dict(request.query_params.items())
    return await pages.inbox_page(
        view, principal, InboxListing.from_query(query), notice=Notice.from_query(query)
    )


@get(ORDER, name="supplier-purchase-order", include_in_schema=False, opt=requires(s.PO_READ))
async def purchase_order(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    number: FromPath[str],
) -> Response[str]:
    notice = Notice.from_query(dict(request.query_params.items()))
    return await pages.detail(view, principal, number, notice=notice)


# --- acknowledge -------------------------------------------------------------------------------


@post(ORDER + "/acknowledgement", include_in_schema=False, opt=requires(s.PO_ACKNOWLEDGE))
async def acknowledgement(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    uow: NamedDependency[UnitOfWork],
    number: FromPath[str],
) -> Response[Any]:
    """Accept every line, reject with a reason, or answer line by line."""
    fields = await _fields(request)
    decision = fields.text("decision")

    async def run(po: PODetail) -> Notice:
        command = forms.acknowledgement(
            fields, po.number, pages.line_facts(po), pages.today_of(view.i18n)
        )
        if isinstance(command, Acknowledge):
            await acknowledgements.acknowledge(uow, principal.actor, command)
            return Notice(code="accepted" if decision == "accept" else "rejected")
        answered = await acknowledgements.acknowledge_lines(uow, principal.actor, command)
        cr = answered.change_request
        if cr is None:
            return Notice(code="accepted")
        return Notice(code="cr_applied" if cr.auto_approved else "answered", ref=cr.number)

    return await _act(view, principal, number, f"acknowledge-{decision}", fields, run)


# --- promises ----------------------------------------------------------------------------------


@post(ORDER + "/lines/{line_no:int}/promise", include_in_schema=False, opt=requires(s.PO_PROMISE))
async def promise(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    uow: NamedDependency[UnitOfWork],
    number: FromPath[str],
    line_no: FromPath[int],
) -> Response[Any]:
    """A new promise for one line: applied at once within the tolerance rule, else a change
    request for the buyer."""
    fields = await _fields(request)

    async def run(po: PODetail) -> Notice:
        command = forms.promise(
            fields, po.number, line_no, pages.line_facts(po), pages.today_of(view.i18n)
        )
        updated = await promises.update_promise(uow, principal.actor, command)
        if (po.number, line_no) in updated.applied:
            return Notice(code="promise_applied", line_no=line_no)
        return Notice(
            code="promise_requested", line_no=line_no, ref=updated.change_requests[0].number
        )

    return await _act(view, principal, number, f"promise-{line_no}", fields, run)


@post(BULK, include_in_schema=False, opt=requires(s.PO_PROMISE))
async def bulk_promises(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    uow: NamedDependency[UnitOfWork],
) -> Response[Any]:
    """Move the promises of the lines or orders picked in the inbox by some days, or set them
    all to one date; all of it happens, or none."""
    fields = await _fields(request)
    listing = InboxListing.from_query(_inbox_state(fields.text("return_to")))
    try:
        picked = forms.selection(fields)
        details = {
            number: await purchase_order_detail(principal.actor, number)
            for number in picked.versions
        }
        if fields.text("how") == "date":
            updated = await promises.update_promises(
                uow,
                principal.actor,
                forms.set_date(
                    fields, picked, _left_to_promise(details), pages.today_of(view.i18n)
                ),
            )
        else:
            updated = await promises.shift_promises(
                uow, principal.actor, forms.shift(fields, picked, _still_to_come(details))
            )
    except FormError as error:
        failure = Failure(form="bulk", fields=fields, error=error)
        return await pages.inbox_page(view, principal, listing, failure=failure)
    except Conflict as error:
        return pages.conflict(view, error, reload=listing.url(page=listing.page), target="inbox")
    except NotFound:
        raise
    except DomainError as error:
        failure = Failure(form="bulk", fields=fields, refused=view.i18n.explain(error))
        return await pages.inbox_page(view, principal, listing, failure=failure)
    notice = _bulk_notice(updated)
    redirect = pages.done(view, listing.url(page=listing.page), notice)
    return redirect or await pages.inbox_page(view, principal, listing, notice=notice)


def _inbox_state(return_to: str) -> dict[str, str]:
    """The inbox the bulk form was sent from (its own URL, in a hidden field): only its query
    is read, so the form can never send the reader elsewhere."""
    return dict(parse_qsl(urlsplit(return_to).query))


def _left_to_promise(details: dict[str, PODetail]) -> dict[tuple[str, int], Decimal]:
    """Per open line with goods still to ship: how much a new promise covers (the promise
    still to come, or what is left to ship)."""
    found = {}
    for number, po in details.items():
        for line in po.lines:
            if line.cancelled:
                continue
            rows = pages.to_come(line)
            if rows:
                found[number, line.line_no] = sum((row.quantity for row in rows), Decimal(0))
    return found


def _still_to_come(details: dict[str, PODetail]) -> dict[str, list[int]]:
    """Per order, its lines with a promise still to come (what a shift moves)."""
    return {
        number: [
            line.line_no
            for line in po.lines
            if not line.cancelled and line.promise and pages.to_come(line)
        ]
        for number, po in details.items()
    }


def _bulk_notice(updated: PromisesUpdated) -> Notice:
    requested = [cr for cr in updated.change_requests if not cr.auto_approved]
    return Notice(code="promises_updated", applied=len(updated.applied), requested=len(requested))


# --- change requests ---------------------------------------------------------------------------


@post(ORDER + "/change-requests", include_in_schema=False, opt=requires(s.CR_WRITE))
async def open_change_request(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    uow: NamedDependency[UnitOfWork],
    number: FromPath[str],
) -> Response[Any]:
    """Propose changes to the order: quantities, dates, prices, items, lines to cancel."""
    fields = await _fields(request)

    async def run(po: PODetail) -> Notice:
        command = forms.change_request(
            fields, po.number, pages.line_facts(po), pages.today_of(view.i18n)
        )
        cr = await change_requests.open_change_request(uow, principal.actor, command)
        return Notice(code="cr_applied" if cr.auto_approved else "cr_opened", ref=cr.number)

    return await _act(view, principal, number, "change-request", fields, run)


@post(
    ORDER + "/change-requests/{cr_number:str}/decision",
    include_in_schema=False,
    opt=requires(s.CR_WRITE),
)
async def decide(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    uow: NamedDependency[UnitOfWork],
    number: FromPath[str],
    cr_number: FromPath[str],
) -> Response[Any]:
    """Approve, reject or counter the buyer's request; withdraw one's own."""
    fields = await _fields(request)

    async def run(po: PODetail) -> Notice:
        if not any(cr.number == cr_number for cr in po.change_requests):
            raise NotFound(
                "Purchase order {number} has no change request {cr_number}.",
                number=po.number,
                cr_number=cr_number,
            )
        command = forms.decision(fields, cr_number, pages.line_facts(po), pages.today_of(view.i18n))
        decided = await change_requests.decide_change_request(uow, principal.actor, command)
        if decided.counter is not None:
            return Notice(code="cr_countered", ref=decided.counter.number)
        return Notice(code=f"cr_{decided.change_request.status.value}", ref=cr_number)

    return await _act(view, principal, number, f"decision-{cr_number}", fields, run)


# --- shipments ---------------------------------------------------------------------------------


@post(ORDER + "/shipments", include_in_schema=False, opt=requires(s.PO_SHIP))
async def post_shipment(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    uow: NamedDependency[UnitOfWork],
    number: FromPath[str],
) -> Response[Any]:
    fields = await _fields(request)

    async def run(po: PODetail) -> Notice:
        command = forms.shipment(fields, po.number, pages.line_facts(po))
        shipped = await fulfilment.post_shipment(uow, principal.actor, command)
        return Notice(code="shipment_posted", ref=shipped.shipment.number)

    return await _act(view, principal, number, "shipment", fields, run)


def _posted(po: PODetail, shipment: str) -> None:
    if not any(found.number == shipment for found in po.shipments):
        raise NotFound(
            "Purchase order {number} has no shipment {shipment}.",
            number=po.number,
            shipment=shipment,
        )


@post(
    ORDER + "/shipments/{shipment:str}/correction",
    include_in_schema=False,
    opt=requires(s.PO_SHIP),
)
async def correct_shipment(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    uow: NamedDependency[UnitOfWork],
    number: FromPath[str],
    shipment: FromPath[str],
) -> Response[Any]:
    """Say what was really sent, before any of it was received."""
    fields = await _fields(request)

    async def run(po: PODetail) -> Notice:
        _posted(po, shipment)
        command = forms.correction(fields, po.number, shipment, pages.line_facts(po))
        await fulfilment.correct_shipment(uow, principal.actor, command)
        return Notice(code="shipment_corrected", ref=shipment)

    return await _act(view, principal, number, f"correction-{shipment}", fields, run)


@post(
    ORDER + "/shipments/{shipment:str}/cancellation",
    include_in_schema=False,
    opt=requires(s.PO_SHIP),
)
async def cancel_shipment(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    uow: NamedDependency[UnitOfWork],
    number: FromPath[str],
    shipment: FromPath[str],
) -> Response[Any]:
    """Take back a shipment that did not leave, before any of it was received."""
    fields = await _fields(request)

    async def run(po: PODetail) -> Notice:
        _posted(po, shipment)
        await fulfilment.cancel_shipment(
            uow, principal.actor, forms.cancellation(fields, po.number, shipment)
        )
        return Notice(code="shipment_cancelled", ref=shipment)

    return await _act(view, principal, number, f"cancellation-{shipment}", fields, run)


ROUTES = [
    inbox,
    purchase_order,
    acknowledgement,
    promise,
    bulk_promises,
    open_change_request,
    decide,
    post_shipment,
    correct_shipment,
    cancel_shipment,
]
