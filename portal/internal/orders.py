"""Our staff's order pages: issue a purchase order, create a sales order, link a sales line to a
purchase order line, and comment on an order for our staff only or for the other party too.

Every form works without JavaScript (POST, then 303 to the order); a refused one comes back with
what was typed and a message at each field that is wrong, and nothing written. htmx, where it is
loaded, searches purchase order lines as one types and filters the timeline in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from portal.auth.guards import requires
from portal.auth.principal import Principal
from portal.auth.scopes import ORDER_WRITE, PO_WRITE, TIMELINE_READ
from portal.db import link_queries, queries, timeline
from portal.db import tables as t
from portal.domain.actors import Actor, Side
from portal.domain.errors import Conflict, DomainError, NotFound
from portal.domain.events import Event, po_stream, so_stream
from portal.domain.orders import POLine, SalesLine
from portal.internal.audit import TimelineFilter, filtered
from portal.services import comments, purchase_orders, sales_orders
from portal.services.unit_of_work import UnitOfWork
from portal.web.i18n import I18n
from portal.web.rendering import View
from portal.web.timeline import entries

NEW_PO = "/purchase-orders/new"
NEW_SO = "/sales-orders/new"
PO_COMMENTS = "/purchase-orders/{number:str}/comments"
SO_COMMENTS = "/sales-orders/{number:str}/comments"
SO_LINK = "/sales-orders/{number:str}/lines/{line_no:int}/link"
EMPTY_ROWS = 3
"""Empty line rows a new order form offers; "More lines" adds as many again."""
MAX_ROWS = 200
TIMELINE_TARGET = "order-timeline"
CANDIDATES_TARGET = "link-candidates"
MAX_DECIMALS = 4
LARGEST = Decimal("1e14")


def _see_other(path: str) -> Response[Any]:
    return Redirect(path, status_code=303)


def _hx_target(view: View) -> str:
    return view.request.headers.get("hx-target", "") if view.wants_fragment else ""


# --- The order pages' staff parts: timeline filter and comment form ----------------------------


def is_staff(principal: Principal) -> bool:
    return principal.actor.side == Side.INTERNAL and principal.holds(TIMELINE_READ)


def order_page(
    view: View,
    principal: Principal,
    template: str,
    context: Mapping[str, Any],
    events: list[Event],
    kind: str = "",
    author: str = "",
    *,
    comment: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response[str]:
    """An order page. Our staff see every entry (internal-only ones marked), filter them by kind
    and author, and comment; htmx asking for the timeline alone gets only that."""
    staff = is_staff(principal)
    chosen = TimelineFilter(kind=kind, author=author)
    if "po" in context:
        order_path = "/purchase-orders/" + quote(context["po"].number, safe="")
        shared_with = view.i18n.gettext("Shared with the supplier")
    else:
        order_path = "/sales-orders/" + quote(context["so"].number, safe="")
        shared_with = view.i18n.gettext("Shared with the customer")
    full = {
        **context,
        "order_path": order_path,
        "shared_with": shared_with,
        "timeline": entries(events, view.i18n),
        "staff": staff,
        "staff_timeline": filtered(events, view.i18n, chosen) if staff else None,
        "comment": comment or {},
        "timeline_target": TIMELINE_TARGET,
    }
    if staff and _hx_target(view) == TIMELINE_TARGET:
        return view.page("internal/order_timeline.html", full, status_code=status_code)
    return view.page(template, full, status_code=status_code)


@dataclass(frozen=True, slots=True)
class CommentForm:
    text: str
    audience: str


async def _comment(
    request: Request[Any, Any, Any],
    view: View,
    principal: Principal,
    uow: UnitOfWork,
    kind: comments.OrderKind,
    number: str,
) -> Response[Any]:
    form = await request.form()
    text = str(form.get("text", ""))
    audience = str(form.get("audience", "internal"))
    try:
        await comments.add_comment(
            uow,
            principal.actor,
            comments.AddComment(kind, number, text, internal_only=audience != "shared"),
        )
    except NotFound:
        raise
    except DomainError as error:
        return await _refused_comment(view, principal, kind, number, text, audience, error)
    path = "/purchase-orders/" if kind == comments.OrderKind.PURCHASE else "/sales-orders/"
    return _see_other(path + quote(number, safe="") + "#" + TIMELINE_TARGET)


async def _refused_comment(
    view: View,
    principal: Principal,
    kind: comments.OrderKind,
    number: str,
    text: str,
    audience: str,
    error: DomainError,
) -> Response[str]:
    actor = principal.actor
    comment = {"text": text, "audience": audience, "error": view.i18n.explain(error)}
    if kind == comments.OrderKind.PURCHASE:
        po = await queries.purchase_order(actor, number)
        events = await timeline.read(actor, po_stream(po.number))
        return order_page(
            view,
            principal,
            "orders/purchase_order.html",
            {"po": po},
            events,
            comment=comment,
            status_code=422,
        )
    so = await queries.sales_order(actor, number)
    events = await timeline.read(actor, so_stream(so.number))
    return order_page(
        view,
        principal,
        "orders/sales_order.html",
        {"so": so},
        events,
        comment=comment,
        status_code=422,
    )


@post(PO_COMMENTS, name="po-comment", include_in_schema=False, opt=requires(TIMELINE_READ))
async def po_comment(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    uow: NamedDependency[UnitOfWork],
    number: FromPath[str],
) -> Response[Any]:
    return await _comment(request, view, principal, uow, comments.OrderKind.PURCHASE, number)


@post(SO_COMMENTS, name="so-comment", include_in_schema=False, opt=requires(TIMELINE_READ))
async def so_comment(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    uow: NamedDependency[UnitOfWork],
    number: FromPath[str],
) -> Response[Any]:
    return await _comment(request, view, principal, uow, comments.OrderKind.SALES, number)


# --- New order forms ------------------------------------------------------------------------------


@dataclass
class LineRow:
    """One row of a new order's lines, as typed."""

    item: str = ""
    description: str = ""
    quantity: str = ""
    unit: str = ""
    unit_price: str = ""
    date: str = ""

    @property
    def blank(self) -> bool:
        return not any(
            value.strip()
            for value in (
                self.item,
                self.description,
                self.quantity,
                self.unit,
                self.unit_price,
                self.date,
            )
        )


@dataclass
class OrderForm:
    party: str = ""
    currency: str = "CNY"
    number: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    rows: list[LineRow] = field(default_factory=lambda: [LineRow() for _ in range(EMPTY_ROWS)])
    errors: dict[str, str] = field(default_factory=dict)
    error: str = ""


def _rows(form: FormMultiDict) -> list[LineRow]:
    """The rows posted as `lines-<i>-<field>`, in the order of i."""
    indexes: set[int] = set()
    for key in form:
        parts = key.split("-")
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
            indexes.add(int(parts[1]))
    rows = []
    for index in sorted(indexes)[:MAX_ROWS]:

        def value(name: str, i: int = index) -> str:
            return str(form.get(f"lines-{i}-{name}", "")).strip()

        rows.append(
            LineRow(
                item=value("item"),
                description=value("description"),
                quantity=value("quantity"),
                unit=value("unit"),
                unit_price=value("unit_price"),
                date=value("date"),
            )
        )
    return rows


def _order_form(form: FormMultiDict, party_field: str) -> OrderForm:
    return OrderForm(
        party=str(form.get(party_field, "")).strip(),
        currency=str(form.get("currency", "")).strip().upper(),
        number=str(form.get("number", "")).strip(),
        contact_email=str(form.get("contact_email", "")).strip(),
        contact_phone=str(form.get("contact_phone", "")).strip(),
        rows=_rows(form) or [LineRow() for _ in range(EMPTY_ROWS)],
    )


class _Checker:
    def __init__(self, i18n: I18n, form: OrderForm) -> None:
        self._ = i18n.gettext
        self.form = form

    def fail(self, name: str, message: str) -> None:
        self.form.errors.setdefault(name, message)

    def decimal(self, name: str, text: str, *, positive: bool) -> Decimal | None:
        _ = self._
        if not text:
            self.fail(name, _("Enter a number."))
            return None
        try:
            value = Decimal(text.replace(",", ""))
        except InvalidOperation:
            self.fail(name, _("Enter a number, such as 12.5."))
            return None
        if not value.is_finite():
            self.fail(name, _("Enter a number, such as 12.5."))
            return None
        if positive and value <= 0:
            self.fail(name, _("Enter a quantity above zero."))
            return None
        if value < 0:
            self.fail(name, _("A price cannot be negative."))
            return None
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < -MAX_DECIMALS:
            self.fail(name, _("Use at most four decimal places."))
            return None
        if value >= LARGEST:
            self.fail(name, _("This number is too large."))
            return None
        return value

    def day(self, name: str, text: str) -> date | None:
        if not text:
            self.fail(name, self._("Enter a date."))
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.fail(name, self._("Enter a date as YYYY-MM-DD."))
            return None

    def text(self, name: str, text: str, longest: int) -> None:
        if not text:
            self.fail(name, self._("This is required."))
        elif len(text) > longest:
            self.fail(name, self._("This is too long."))

    def header(self, parties: Mapping[str, str], party_field: str) -> None:
        form, _ = self.form, self._
        if form.party not in parties:
            self.fail(party_field, _("Choose one from the list."))
        if len(form.currency) != 3 or not form.currency.isalpha():
            self.fail("currency", _("Enter a three-letter currency code, such as CNY."))
        if len(form.number) > 40:
            self.fail("number", _("This is too long."))

    def lines(self) -> list[tuple[int, LineRow, Decimal, Decimal, date]]:
        """Every row that is not blank, numbered from 1, checked."""
        found: list[tuple[int, LineRow, Decimal, Decimal, date]] = []
        for index, row in enumerate(self.form.rows):
            if row.blank:
                continue
            prefix = f"lines-{index}-"
            self.text(prefix + "item", row.item, 64)
            self.text(prefix + "unit", row.unit, 16)
            quantity = self.decimal(prefix + "quantity", row.quantity, positive=True)
            price = self.decimal(prefix + "unit_price", row.unit_price, positive=False)
            day = self.day(prefix + "date", row.date)
            if quantity is not None and price is not None and day is not None:
                found.append((len(found) + 1, row, quantity, price, day))
        if not any(not row.blank for row in self.form.rows):
            self.fail("lines", self._("Add at least one line."))
        return found


async def _parties(kinds: tuple[str, ...]) -> dict[str, str]:
    rows = (
        await t.Organisation.select(t.Organisation.code, t.Organisation.name)
        .where(t.Organisation.kind.is_in(list(kinds)))
        .order_by(t.Organisation.name)
        .run()
    )
    return {row["code"]: row["name"] for row in rows}


def _more_rows(form: OrderForm) -> None:
    form.rows.extend(LineRow() for _ in range(EMPTY_ROWS))
    del form.rows[MAX_ROWS:]


async def _new_po_page(view: View, form: OrderForm, status_code: int = 200) -> Response[str]:
    return view.page(
        "internal/order_new_po.html",
        {"form": form, "suppliers": await _parties(("supplier", "both"))},
        status_code=status_code,
    )


async def _new_so_page(view: View, form: OrderForm, status_code: int = 200) -> Response[str]:
    return view.page(
        "internal/order_new_so.html",
        {"form": form, "customers": await _parties(("customer", "both"))},
        status_code=status_code,
    )


@get(NEW_PO, name="new-purchase-order", include_in_schema=False, opt=requires(PO_WRITE))
async def new_purchase_order(
    view: NamedDependency[View], supplier: FromQuery[str] = ""
) -> Response[str]:
    return await _new_po_page(view, OrderForm(party=supplier))


@post(NEW_PO, name="issue-purchase-order", include_in_schema=False, opt=requires(PO_WRITE))
async def issue_purchase_order(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    uow: NamedDependency[UnitOfWork],
) -> Response[Any]:
    posted = await request.form()
    form = _order_form(posted, "supplier")
    action = str(posted.get("action", "issue"))
    if action == "more":
        _more_rows(form)
        return await _new_po_page(view, form)
    checker = _Checker(view.i18n, form)
    checker.header(await _parties(("supplier", "both")), "supplier")
    checked = checker.lines()
    if form.errors:
        return await _new_po_page(view, form, 422)
    lines = [
        POLine(no, row.item, row.description, quantity, row.unit, price, day)
        for no, row, quantity, price, day in checked
    ]
    try:
        po = await purchase_orders.issue_purchase_order(
            uow,
            actor,
            purchase_orders.IssuePurchaseOrder(
                form.party,
                form.currency,
                lines,
                number=form.number or None,
                draft=action == "draft",
            ),
        )
    except DomainError as error:
        form.error = view.i18n.explain(error)
        return await _new_po_page(view, form, 422)
    return _see_other("/purchase-orders/" + quote(po.number, safe=""))


@get(NEW_SO, name="new-sales-order", include_in_schema=False, opt=requires(ORDER_WRITE))
async def new_sales_order(
    view: NamedDependency[View], customer: FromQuery[str] = ""
) -> Response[str]:
    return await _new_so_page(view, OrderForm(party=customer))


@post(NEW_SO, name="create-sales-order", include_in_schema=False, opt=requires(ORDER_WRITE))
async def create_sales_order(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    uow: NamedDependency[UnitOfWork],
) -> Response[Any]:
    posted = await request.form()
    form = _order_form(posted, "customer")
    if str(posted.get("action", "")) == "more":
        _more_rows(form)
        return await _new_so_page(view, form)
    checker = _Checker(view.i18n, form)
    checker.header(await _parties(("customer", "both")), "customer")
    if len(form.contact_email) > 254:
        checker.fail("contact_email", view.i18n.gettext("This is too long."))
    if len(form.contact_phone) > 40:
        checker.fail("contact_phone", view.i18n.gettext("This is too long."))
    if not (form.contact_email or form.contact_phone):
        checker.fail(
            "contact_email", view.i18n.gettext("Enter the customer's contact e-mail or phone.")
        )
    checked = checker.lines()
    if form.errors:
        return await _new_so_page(view, form, 422)
    lines = [
        SalesLine(no, row.item, row.description, quantity, row.unit, price, day, day)
        for no, row, quantity, price, day in checked
    ]
    try:
        so = await sales_orders.create_sales_order(
            uow,
            actor,
            sales_orders.CreateSalesOrder(
                form.party,
                form.currency,
                lines,
                contact_email=form.contact_email,
                contact_phone=form.contact_phone,
                number=form.number or None,
            ),
        )
    except DomainError as error:
        form.error = view.i18n.explain(error)
        return await _new_so_page(view, form, 422)
    return _see_other("/sales-orders/" + quote(so.number, safe=""))


# --- Linking a sales line ------------------------------------------------------------------


async def _link_page(
    view: View,
    actor: Actor,
    number: str,
    line_no: int,
    search: str,
    *,
    error: str = "",
    status_code: int = 200,
) -> Response[str]:
    so = await queries.sales_order(actor, number)
    line = next((line for line in so.lines if line.line_no == line_no), None)
    if line is None:
        raise NotFound(
            "Sales order {number} has no line {line_no}.", number=so.number, line_no=line_no
        )
    candidates = await link_queries.open_po_lines(actor, line.item, search)
    context = {
        "so": so,
        "line": line,
        "search": search,
        "candidates": candidates,
        "error": error,
        "candidates_target": CANDIDATES_TARGET,
    }
    if _hx_target(view) == CANDIDATES_TARGET:
        return view.page("internal/order_link_candidates.html", context, status_code=status_code)
    return view.page("internal/order_link.html", context, status_code=status_code)


@get(SO_LINK, name="link-sales-line", include_in_schema=False, opt=requires(ORDER_WRITE))
async def link_sales_line_page(
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    number: FromPath[str],
    line_no: FromPath[int],
    q: FromQuery[str] = "",
) -> Response[str]:
    return await _link_page(view, actor, number, line_no, q)


@post(SO_LINK, name="link-sales-line-post", include_in_schema=False, opt=requires(ORDER_WRITE))
async def link_sales_line(
    request: Request[Any, Any, Any],
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    uow: NamedDependency[UnitOfWork],
    number: FromPath[str],
    line_no: FromPath[int],
) -> Response[Any]:
    posted = await request.form()
    _ = view.i18n.gettext
    po_number = str(posted.get("po_number", "")).strip()
    po_line_text = str(posted.get("po_line_no", "")).strip()
    version_text = str(posted.get("version", "")).strip()
    handling_text = str(posted.get("handling_days", "")).strip()
    search = str(posted.get("q", ""))
    if not (po_line_text.isdigit() and version_text.isdigit() and po_number):
        return await _link_page(
            view,
            actor,
            number,
            line_no,
            search,
            error=_("Choose a purchase order line from the list."),
            status_code=422,
        )
    if handling_text and not handling_text.isdigit():
        return await _link_page(
            view,
            actor,
            number,
            line_no,
            search,
            error=_("Handling days must be a whole number, zero or more."),
            status_code=422,
        )
    try:
        await sales_orders.link_sales_line(
            uow,
            actor,
            sales_orders.LinkSalesLine(
                number,
                int(version_text),
                line_no,
                po_number,
                int(po_line_text),
                int(handling_text) if handling_text else None,
            ),
        )
    except Conflict as conflict:
        return await _link_page(
            view, actor, number, line_no, search, error=view.i18n.explain(conflict), status_code=409
        )
    except NotFound as missing:
        if missing.template.startswith("Sales order"):
            raise
        return await _link_page(
            view, actor, number, line_no, search, error=view.i18n.explain(missing), status_code=422
        )
    except DomainError as error:
        return await _link_page(
            view, actor, number, line_no, search, error=view.i18n.explain(error), status_code=422
        )
    return _see_other("/sales-orders/" + quote(number, safe=""))


ROUTES = [
    new_purchase_order,
    issue_purchase_order,
    new_sales_order,
    create_sales_order,
    link_sales_line_page,
    link_sales_line,
    po_comment,
    so_comment,
]
