"""The customer workspace's pages: "My orders" (/orders) and one order (/orders/{number}), for
signed-in customers; and the guest lookup (/track) with its limited status page
(/track/{token}), for anyone holding an order's number and contact, or a tracking link.

What a customer reads is the customer's part of an order only (customer_queries.py and
timeline.py): never who supplies it, under which purchase order, or what was said internally.
Our own staff may open these pages too and see an order exactly as its customer does.

Pages are for people; they stay out of the OpenAPI schema, which documents the public API.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from portal.auth import audit
from portal.auth import scopes as s
from portal.auth.guards import client_address, public, requires
from portal.customer import tracking
from portal.customer.listing import ORDERS, STATUSES, OrdersListing
from portal.customer.timeline import customer_entries
from portal.db import customer_queries, timeline
from portal.domain.actors import Actor
from portal.domain.events import so_stream
from portal.i18n.labels import N_
from portal.settings import Settings
from portal.web.ratelimit import LIMITS, limiter_of
from portal.web.rendering import View

PER_PAGE = 20
ORDER = ORDERS + "/{number:str}"
TRACK = tracking.TRACK_PATH
NOT_FOUND_WORDS = N_(
    "We could not find an order with that number and contact. Check both, as written on your "
    "order confirmation."
)
_NO_CONTACT = "\x00no-contact-on-this-order\x00"
"""What an order without an e-mail (or phone) is compared with: nothing typed can match it."""


def order_path(number: str) -> str:
    return f"{ORDERS}/{number}"


# --- My orders ---------------------------------------------------------------------------------


@get(ORDERS, name="customer-orders", include_in_schema=False, opt=requires(s.ORDER_READ))
async def my_orders(
    request: Request[Any, Any, Any], view: NamedDependency[View], actor: NamedDependency[Actor]
) -> Response[str]:
    """The organisation's sales orders, filtered and paged on the server; the list is fetched
    again whenever one of them changes."""
    listing = OrdersListing.from_query(dict(request.query_params.items()))
    page = await customer_queries.orders(
        actor, listing.filters(), page=listing.page, per_page=PER_PAGE
    )
    return view.page(
        "customer/orders.html",
        {
            "page": page,
            "listing": listing,
            "statuses": STATUSES,
            "live_after": datetime.now(UTC).isoformat(),
        },
    )


@get(ORDER, name="customer-order", include_in_schema=False, opt=requires(s.ORDER_READ))
async def my_order(
    view: NamedDependency[View], actor: NamedDependency[Actor], number: FromPath[str]
) -> Response[str]:
    order = await customer_queries.order(actor, number)
    events = await timeline.read(actor, so_stream(order.number))
    return view.page(
        "customer/order.html",
        {
            "order": order,
            "timeline": customer_entries(events, view.i18n),
            "live_after": events[-1].seq if events else 0,
        },
    )


# --- Guest lookup ------------------------------------------------------------------------------


def _email(text: str) -> bytes:
    return text.strip().casefold().encode()


def _digits(text: str) -> bytes:
    return "".join(char for char in text if char.isascii() and char.isdigit()).encode()


def _matches(typed: str, stored: tuple[str, str] | None) -> bool:
    """Whether `typed` is the order's e-mail or phone. Both are compared every time, against a
    value that cannot match when the order (or that contact) does not exist, so a wrong
    number costs what a wrong contact costs."""
    email, phone = stored if stored is not None else ("", "")
    email_ok = hmac.compare_digest(
        _email(typed), _email(email) if email.strip() else _NO_CONTACT.encode()
    )
    digits = _digits(phone)
    phone_ok = hmac.compare_digest(
        _digits(typed), digits if len(digits) >= 5 else _NO_CONTACT.encode()
    )
    return stored is not None and (email_ok or phone_ok)


def _lookup_page(
    view: View, *, error: str | None, status: int, wait: int | None = None
) -> Response[str]:
    response = view.page("customer/track.html", {"error": error}, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    if wait is not None:
        response.headers["Retry-After"] = str(wait)
    return response


async def _too_many(request: Request[Any, Any, Any], number: str) -> int | None:
    """Counts one lookup per address and number, per address, and per number from anywhere
    (the "guest_lookup" bucket); the seconds to wait when one was too many."""
    address = client_address(request)
    limiter = limiter_of(request)
    wait = await limiter.retry_after("guest_lookup", number, address)
    if wait is None:
        _, per_number = LIMITS["guest_lookup"]
        identifiers = ("guest_lookup", "number", number.lower())
        if not await limiter.strategy.hit(per_number, *identifiers):
            stats = await limiter.strategy.get_window_stats(per_number, *identifiers)
            wait = max(1, int(stats.reset_time - datetime.now(UTC).timestamp()) + 1)
    if wait is not None:
        await audit.record(
            "rate_limited",
            "denied",
            ip=address,
            path=request.url.path,
            detail={"bucket": "guest_lookup"},
        )
    return wait


@get(TRACK, name="track", include_in_schema=False, opt=public())
async def track_form(view: NamedDependency[View]) -> Response[str]:
    return _lookup_page(view, error=None, status=HTTPStatus.OK)


@post(TRACK, include_in_schema=False, opt=public())
async def track_lookup(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """An order number and its contact lead to the order's status page. Any other pair gets
    the same answer, whether the number or the contact was wrong, after the same work."""
    form = await request.form()
    number = str(form.get("number", "")).strip()[:60]
    contact = str(form.get("contact", ""))[:254]
    wait = await _too_many(request, number)
    if wait is not None:
        return _lookup_page(
            view,
            error=view.i18n.gettext("Too many attempts. Please wait before trying again."),
            status=HTTPStatus.TOO_MANY_REQUESTS,
            wait=wait,
        )
    stored = await customer_queries.contact_of(number)
    if not _matches(contact, stored):
        return _lookup_page(
            view, error=view.i18n.gettext(NOT_FOUND_WORDS), status=HTTPStatus.NOT_FOUND
        )
    return Redirect(tracking.tracking_path(settings, number, datetime.now(UTC)), status_code=303)


@get(TRACK + "/{token:str}", name="track-status", include_in_schema=False, opt=public())
async def track_status(
    view: NamedDependency[View], settings: NamedDependency[Settings], token: FromPath[str]
) -> Response[str]:
    """The limited status page a tracking link opens: status, lines, shipment and what
    happened, without comments or anyone's name."""
    try:
        number = tracking.order_of(settings, token, datetime.now(UTC))
    except tracking.BadLink as bad:
        status = HTTPStatus.GONE if bad.expired else HTTPStatus.NOT_FOUND
        response = view.page(
            "customer/track_invalid.html", {"expired": bad.expired}, status_code=status
        )
        response.headers["Cache-Control"] = "no-store"
        return response
    order = await customer_queries.any_order(number)
    if order is None:
        response = view.page(
            "customer/track_invalid.html", {"expired": False}, status_code=HTTPStatus.NOT_FOUND
        )
        response.headers["Cache-Control"] = "no-store"
        return response
    events = await timeline.read(Actor.system(), so_stream(number))
    response = view.page(
        "customer/track_status.html",
        {"order": order, "timeline": customer_entries(events, view.i18n, guest=True)},
    )
    # The link is the key: keep it out of caches and of the Referer of links on the page.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


ROUTES = [my_orders, my_order, track_form, track_lookup, track_status]
