"""The role x route matrix: every route of the application, called by everyone who could call
it, with the IDs of other tenants' records.

The world: an internal organisation with a user of every internal role, two suppliers, two
customers and one organisation that is both, each with a user of every role it may have and a
machine client (client credentials) per role; each supplier has purchase orders and each
customer sales orders, with distinctive numbers, made through the real service commands, some
sales lines following another tenant's purchase order line. Every user signs in once through
the real sign-in form; every client gets its token once from the real token endpoint.

The routes come from `app.routes`, so a route added later is covered without touching this
file. A path parameter is filled from `resources()` (the kind of record the path segment before
it names) with every record of that kind, in turn: other tenants' ones, which must not exist
for the caller, and its own, which it must be able to read. A route whose records the matrix
cannot name, and which a supplier or customer may call, is reported, not skipped. Bearer
callers call the pages too, and session callers the API: each must be turned away.

`run(database_url)` builds the world in that (migrated) database, makes every call, and returns
a `Matrix` whose checks return the leaks found (empty: none).
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
from asgi_stream import StreamingASGITransport
from auth_support import DEFAULT_PASSWORD, TEST_SECRET_KEY, add_client, sign_in
from litestar import Litestar
from litestar.routes import HTTPRoute

from portal.app import create_app
from portal.auth import guards
from portal.auth import scopes as s
from portal.auth.passwords import hash_password
from portal.db import tables as t
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.changes import ChangeKind, LineChange
from portal.domain.orders import POLine, SalesLine
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge
from portal.services.change_requests import OpenChangeRequest, open_change_request
from portal.services.purchase_orders import IssuePurchaseOrder, issue_purchase_order
from portal.services.sales_orders import (
    CreateSalesOrder,
    LinkSalesLine,
    create_sales_order,
    link_sales_line,
)
from portal.services.unit_of_work import UnitOfWork
from portal.settings import Settings

BASE_URL = "https://testserver.local"
AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
NEED = date(2027, 1, 11)
HOME = "HOME"
ORGANISATIONS = [
    (HOME, "Matrix Home Trading", "internal"),
    ("SUP1", "Northwind Fasteners", "supplier"),
    ("SUP2", "Southwind Metals", "supplier"),
    ("CUS1", "Contoso Retail", "customer"),
    ("CUS2", "Fabrikam Stores", "customer"),
    ("BOTH", "Janus Trading", "both"),
]
PURCHASE_ORDERS = {
    # number: supplier (each "-1" is acknowledged by its supplier, each "-2" only issued)
    "PO-SUP1-1": "SUP1",
    "PO-SUP1-2": "SUP1",
    "PO-SUP2-1": "SUP2",
    "PO-SUP2-2": "SUP2",
    "PO-BOTH-1": "BOTH",
    "PO-BOTH-2": "BOTH",
}
SALES_ORDERS = {
    # number: (customer, the purchase order its line follows)
    "SO-CUS1-1": ("CUS1", "PO-SUP1-1"),
    "SO-CUS2-1": ("CUS2", "PO-BOTH-1"),
    "SO-BOTH-1": ("BOTH", "PO-SUP2-1"),
}
WEBHOOKS: list[tuple[str, str, int]] = []
"""(owner, name, row id) of each organisation's webhook endpoint, filled by `build`."""
NOTIFICATIONS: list[tuple[str, str, int]] = []
"""(owner, name, row id) of each user's in-app notification, filled by `build`."""
MISSING = {str: "NO-SUCH-RECORD", int: 987654}
"""A value naming no record: what another tenant's record must look like."""
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
ANSWER_WITHIN = 20.0
"""Seconds a call may take before the matrix gives up on it."""


def owner_of(number: str) -> str:
    return PURCHASE_ORDERS.get(number) or SALES_ORDERS[number][0]


ORDER_NUMBERS = [*PURCHASE_ORDERS, *SALES_ORDERS]
ORDER_NUMBER = re.compile("|".join(re.escape(number) for number in ORDER_NUMBERS))


# --- the records a path parameter names -------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """A kind of record a path names: its records as (owner, number, row id)."""

    records: list[tuple[str, str, int]]

    def named(self) -> list[tuple[type, Any, str, str]]:
        """(parameter type, value, order number, owner) for every record, by number (a `str`
        parameter) and by row id (an `int` one)."""
        return [
            (kind, value, number, owner)
            for owner, number, row_id in self.records
            for kind, value in ((str, number), (int, row_id))
        ]


def resources(po_ids: dict[str, int], so_ids: dict[str, int]) -> dict[str, Resource]:
    """The path segment naming a kind of record -> that kind. Extend it when a route with a
    new kind of record that suppliers or customers may reach is added."""
    return {
        "purchase-orders": Resource(
            [(owner, number, po_ids[number]) for number, owner in PURCHASE_ORDERS.items()]
        ),
        "sales-orders": Resource(
            [(owner, number, so_ids[number]) for number, (owner, _) in SALES_ORDERS.items()]
        ),
        # The customer workspace, its live updates and the customer API: /orders/{number}.
        "orders": Resource(
            [(owner, number, so_ids[number]) for number, (owner, _) in SALES_ORDERS.items()]
        ),
        # Each acknowledged ("-1") order has one change request, opened in `build`. Routes name
        # change requests by number only, so the row id given is never used.
        "change-requests": Resource(
            [
                (owner, f"{number}-CR1", po_ids[number])
                for number, owner in PURCHASE_ORDERS.items()
                if number.endswith("-1")
            ]
        ),
        # One webhook endpoint per organisation, made in `build`; named by row id only.
        "webhooks": Resource(list(WEBHOOKS)),
        # One in-app notification per user, made in `build`; named by row id only. It is its
        # user's alone: another user's is 404, within one organisation too.
        "notifications": Resource(list(NOTIFICATIONS)),
        # Supplier scorecards, named by the supplier's code: the page /scorecards/{code} and
        # the API /api/v1/suppliers/{code}/scorecard. No row id names them.
        "scorecards": Resource(
            [(code, code, 0) for code, _, kind in ORGANISATIONS if kind in ("supplier", "both")]
        ),
        "suppliers": Resource(
            [(code, code, 0) for code, _, kind in ORGANISATIONS if kind in ("supplier", "both")]
        ),
    }


# --- the routes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    path: str
    """As declared, e.g. /purchase-orders/{number:str}."""
    method: str
    params: tuple[tuple[str, type], ...]
    scopes: tuple[str, ...]
    public: bool

    @property
    def api(self) -> bool:
        return self.path.startswith(guards.API_PREFIX)

    @property
    def resource(self) -> str:
        """The static path segment right before the first parameter."""
        head = self.path.split("{", 1)[0].rstrip("/")
        return head.rsplit("/", 1)[-1]

    def placeholders(self) -> dict[str, Any]:
        """Path values that name no record (a real file for a `{name:path}` one)."""
        return {
            name: "css/portal.css" if kind is _PathType else MISSING.get(kind, "x")
            for name, kind in self.params
        }

    def url(self, values: dict[str, Any] | None = None) -> str:
        values = self.placeholders() if values is None else values
        url = self.path
        for name, kind in self.params:
            value = str(values[name])
            encoded = value.lstrip("/") if kind is _PathType else quote(value, safe="")
            url = re.sub(r"\{" + re.escape(name) + r":[^}]+\}", encoded, url)
        return url

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


class _PathType:
    """Marks a `{name:path}` parameter (the rest of the path)."""


def endpoints(app: Litestar) -> list[Endpoint]:
    """Every (path, method) the application serves, with what its handler declares. Litestar's
    own OPTIONS answers (method discovery) are left out: they carry no data."""
    found: list[Endpoint] = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        params = tuple(
            (name, _PathType if definition.full.endswith(":path") else definition.type)
            for name, definition in route.path_parameters.items()
        )
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                found.append(
                    Endpoint(
                        path=route.path,
                        method=method,
                        params=params,
                        scopes=tuple(handler.opt.get(guards.SCOPE_KEY) or ()),
                        public=bool(handler.opt.get(guards.PUBLIC_KEY)),
                    )
                )
    return sorted(found, key=call_order)


def call_order(endpoint: Endpoint) -> tuple[int, str]:
    """Reads first, then writes; signing out last of all (it ends the caller's session)."""
    if endpoint.path.startswith("/sign-out"):
        return (2, str(endpoint))
    return (0 if endpoint.method == "GET" else 1, str(endpoint))


def undeclared(app: Litestar) -> list[str]:
    """Handlers that declare neither a scope nor public (Litestar's own OPTIONS ones aside)."""
    return [
        f"{sorted(handler.http_methods)} {route.path}"
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        if handler.http_methods != {"OPTIONS"}
        and not handler.opt.get(guards.PUBLIC_KEY)
        and not handler.opt.get(guards.SCOPE_KEY)
    ]


# --- the callers -----------------------------------------------------------------------------


@dataclass
class Caller:
    name: str
    org: str | None
    role: str | None
    kind: str
    """anonymous | session | bearer"""
    client: httpx.AsyncClient
    token: str = ""
    requests: int = 0

    @property
    def internal(self) -> bool:
        return self.org == HOME

    @property
    def scopes(self) -> frozenset[str]:
        return s.ROLE_SCOPES[self.role] if self.role else frozenset()

    def forbidden(self) -> set[str]:
        """Order numbers this caller must never read: every one its organisation does not own
        (all of them for an anonymous caller, none for internal staff)."""
        if self.internal:
            return set()
        return {number for number in ORDER_NUMBERS if owner_of(number) != self.org}


@dataclass
class Call:
    caller: Caller
    endpoint: Endpoint
    url: str
    status: int
    headers: httpx.Headers
    body: str
    record: str | None = None
    """The order named in the path, if any."""
    own: bool = False
    """The caller's own order (internal staff: any order), which it may read."""
    missing_status: int | None = None
    """What the same call answered for a record that does not exist."""
    htmx: bool = False

    @property
    def stranger(self) -> bool:
        """The caller does not bring what this route takes: pages take only the session
        cookie, the API only a bearer token."""
        kind = self.caller.kind
        return kind == "anonymous" or (kind == "session") == self.endpoint.api

    def __str__(self) -> str:
        return f"{self.caller.name}: {self.endpoint.method} {self.url} -> {self.status}"


@dataclass
class Matrix:
    endpoints: list[Endpoint]
    callers: list[Caller]
    calls: list[Call] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Routes the matrix could not fill, and callers that could not sign in."""

    # --- the checks; each returns what went wrong, one line per leak ---

    def strangers_are_turned_away(self) -> list[str]:
        """Anonymous callers, bearer tokens on pages and session cookies on the API: 401 (API),
        or sent to sign in (pages; htmx is told so in HX-Redirect)."""
        wrong = []
        for call in self.calls:
            if not call.stranger or call.endpoint.public:
                continue
            if call.endpoint.api:
                ok = call.status == 401
            elif call.htmx:
                ok = call.status == 401 and call.headers.get("hx-redirect", "").startswith(
                    guards.SIGN_IN_PATH + "?next="
                )
            else:
                ok = call.status == 303 and call.headers.get("location", "").startswith(
                    guards.SIGN_IN_PATH + "?next="
                )
            if not ok:
                wrong.append(str(call))
        return wrong

    def other_tenants_records_do_not_exist(self) -> list[str]:
        """A supplier's or customer's call naming another tenant's record answers exactly as
        for a record that does not exist: 404, or the same refusal whatever the record (a
        scope the caller lacks, a body it did not send) — never a success or a redirect."""
        wrong = []
        for call in self.calls:
            if call.record is None or call.own or call.stranger:
                continue
            refused_alike = call.status == call.missing_status and call.status >= 400
            if call.status >= 500 or not refused_alike:
                wrong.append(f"{call} (a missing record: {call.missing_status})")
            elif call.endpoint.method == "GET":
                # 403 only for a scope the caller lacks: the route, not the record, refuses.
                expected = 404 if call.caller.scopes & set(call.endpoint.scopes) else 403
                if call.status != expected:
                    wrong.append(f"{call} (a read of another tenant's record: {expected})")
        return wrong

    def no_response_shows_other_tenants_orders(self) -> list[str]:
        wrong = []
        for call in self.calls:
            # A record's number may hold its order's (a change request's does): the caller
            # named that itself.
            named = set(ORDER_NUMBER.findall(call.record or ""))
            seen = set(ORDER_NUMBER.findall(call.body)) - named
            leaked = sorted(seen & call.caller.forbidden())
            if leaked:
                wrong.append(f"{call} shows {', '.join(leaked)}")
        return wrong

    def nothing_breaks(self) -> list[str]:
        return [str(call) for call in self.calls if call.status >= 500 or call.status < 0]

    def owners_read_their_orders(self) -> list[str]:
        """The other side of the matrix: it is not passing by refusing everyone. Whoever holds
        the route's scope reads its own orders (internal staff: any order) by number or id."""
        return [
            str(call)
            for call in self.calls
            if call.own
            and call.endpoint.method == "GET"
            and len(call.endpoint.params) == 1  # more would name parts that do not exist
            and not call.stranger
            and call.caller.scopes & set(call.endpoint.scopes)
            and call.status != 200
        ]


# --- building the world ----------------------------------------------------------------------


BUYER = Actor(ActorKind.USER, "u-buyer", HOME, Side.INTERNAL, "Matrix Buyer", Via.WEB, "buyer")


def users() -> list[tuple[str, str, str]]:
    """(e-mail, organisation, role): one user of every role each organisation may have."""
    return [
        (f"{role}@{code.lower()}.example", code, role)
        for code, _, kind in ORGANISATIONS
        for role in s.ORG_ROLES[kind]
    ]


def client_secret(client_id: str) -> str:
    return f"secret-of-{client_id}-0123456789"


def machine_clients() -> list[tuple[str, str, str]]:
    """(client id, organisation, role): one client-credentials client per external role."""
    return [
        (f"{code.lower()}-{role}-erp", code, role)
        for code, _, kind in ORGANISATIONS
        if kind != "internal"
        for role in s.ORG_ROLES[kind]
    ]


async def empty(db: Database) -> None:
    names = [table._meta.tablename for table in reversed(t.TABLES)]
    if db.is_sqlite:
        for name in names:
            await db.engine.run_ddl(f"DELETE FROM {name}")
    else:
        await db.engine.run_ddl(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE")


async def build(db: Database) -> tuple[dict[str, int], dict[str, int]]:
    """Organisations, people, clients and orders; returns the row ids of the orders."""
    uow = UnitOfWork(db, clock=lambda: AT)
    await t.Organisation.insert(
        *[t.Organisation(code=code, name=name, kind=kind) for code, name, kind in ORGANISATIONS]
    ).run()
    password_hash = hash_password(DEFAULT_PASSWORD)
    await t.AppUser.insert(
        *[
            t.AppUser(
                email=email,
                display_name=f"{role.title()} of {org}",
                org=org,
                role=role,
                password_hash=password_hash,
            )
            for email, org, role in users()
        ]
    ).run()
    for client_id, org, role in machine_clients():
        await add_client(
            client_id,
            org=org,
            role=role,
            scope=s.render(s.ROLE_SCOPES[role]),
            secret=client_secret(client_id),
        )
    for number, supplier in PURCHASE_ORDERS.items():
        line = POLine(1, "BOLT-M8", "Hex bolt", Decimal(100), "pcs", Decimal("0.35"), NEED)
        po = await issue_purchase_order(
            uow, BUYER, IssuePurchaseOrder(supplier, "CNY", [line], number=number)
        )
        if number.endswith("-1"):
            actor = Actor(
                ActorKind.USER, f"u-{supplier}", supplier, Side.SUPPLIER, supplier, Via.WEB
            )
            done = await acknowledge(uow, actor, Acknowledge(number, po.version, Decision.ACCEPT))
            # Its change request: `{number}-CR1` (see `resources`).
            price = LineChange(1, ChangeKind.PRICE, unit_price=Decimal("0.40"))
            await open_change_request(
                uow, actor, OpenChangeRequest(number, done.po.version, (price,), "other")
            )
    for number, (customer, po_number) in SALES_ORDERS.items():
        line = SalesLine(1, "BOLT-M8", "Hex bolt", Decimal(100), "pcs", Decimal("0.80"), NEED, NEED)
        so = await create_sales_order(
            uow,
            BUYER,
            CreateSalesOrder(customer, "CNY", [line], contact_email="x@example.com", number=number),
        )
        await link_sales_line(uow, BUYER, LinkSalesLine(number, so.version, 1, po_number, 1))
    po_ids = {row["number"]: row["id"] for row in await t.PurchaseOrder.select().run()}
    so_ids = {row["number"]: row["id"] for row in await t.SalesOrder.select().run()}
    WEBHOOKS.clear()
    for code, _, _ in ORGANISATIONS:
        # A documentation address (192.0.2.0/24): never public, so nothing is ever sent.
        made = await t.WebhookEndpoint.insert(
            t.WebhookEndpoint(org=code, url=f"https://192.0.2.1/{code}", secrets="[]")
        ).run()
        WEBHOOKS.append((code, f"WH-{code}", int(made[0]["id"])))
    NOTIFICATIONS.clear()
    for email, org, role in users():
        number = {Side.CUSTOMER: f"SO-{org}-1", Side.SUPPLIER: f"PO-{org}-1"}.get(
            s.ROLE_SIDE[role], "PO-SUP1-1"
        )
        user = await t.AppUser.select(t.AppUser.id).where(t.AppUser.email == email).first().run()
        assert user is not None
        made = await t.Notification.insert(
            t.Notification(
                user_id=user["id"],
                topic="comment",
                stream=f"{number[:2].lower()}/{number}",
                seq=1,
                kind="comment.added",
                data={"number": number, "event": {"text": f"A comment for {email}"}},
            )
        ).run()
        NOTIFICATIONS.append((org, f"N-{email}", int(made[0]["id"])))
    return po_ids, so_ids


def settings(database_url: str) -> Settings:
    # The app's own dispatcher writes the orders' notification mails: not into the work tree.
    mail_dir = tempfile.mkdtemp(prefix="portal-matrix-mail-")
    return Settings(
        database_url=database_url,
        base_url=BASE_URL,
        secret_key=TEST_SECRET_KEY,
        mail_dir=mail_dir,
        # The GET routes must change nothing: no dispatcher writing in the background.
        dispatcher=False,
    )


def browser(app: Litestar, address: str) -> httpx.AsyncClient:
    """A client of the in-process app from its own address (rate limits count per address),
    over https so the `__Host-` cookies flow. Streamed, so a live stream answers too."""
    transport = StreamingASGITransport(app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL)


async def callers(app: Litestar, problems: list[str]) -> list[Caller]:
    found = [Caller("anonymous", None, None, "anonymous", browser(app, "10.0.0.1"))]
    for n, (email, org, role) in enumerate(users(), start=2):
        client = browser(app, f"10.0.0.{n}")
        reached = await sign_in(client, email, DEFAULT_PASSWORD)
        if reached.url.path != "/" or reached.status_code != 200:
            problems.append(f"{email} could not sign in: {reached.status_code} {reached.url}")
            continue
        found.append(Caller(f"{org}/{role}", org, role, "session", client))
    for n, (client_id, org, role) in enumerate(machine_clients(), start=100):
        client = browser(app, f"10.0.1.{n}")
        answer = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": s.render(s.ROLE_SCOPES[role])},
            auth=(client_id, client_secret(client_id)),
        )
        if answer.status_code != 200:
            problems.append(f"{client_id} got no token: {answer.status_code} {answer.text}")
            continue
        token = answer.json()["access_token"]
        found.append(Caller(f"{org}/{role} (API)", org, role, "bearer", client, token))
    return found


def fillings(
    endpoint: Endpoint, caller: Caller, kinds: dict[str, Resource], problems: list[str]
) -> tuple[list[tuple[dict[str, Any], str | None, bool]], dict[str, Any] | None]:
    """The calls to make: (path values, the order they name, whether it is the caller's own),
    and the values naming no record (None when the path names no record)."""
    if not endpoint.params:
        return [({}, None, False)], None
    missing = endpoint.placeholders()
    resource = kinds.get(endpoint.resource)
    if resource is None or endpoint.public:
        externals_may_call = any(
            s.ROLE_SCOPES[role] & set(endpoint.scopes) for role in ("supplier", "customer")
        )
        problem = (
            f"{endpoint}: the matrix does not know which records '{endpoint.resource}' names; "
            "add them to matrix_support.resources()"
        )
        if externals_may_call and not endpoint.public and problem not in problems:
            problems.append(problem)
        return [(missing, None, False)], None
    # The record is named by the first parameter, right after the segment naming its kind.
    name, kind = endpoint.params[0]
    return [
        ({**missing, name: value}, number, caller.internal or owner == caller.org)
        for value_kind, value, number, owner in resource.named()
        if value_kind is kind
    ], missing


async def call(
    caller: Caller, endpoint: Endpoint, url: str, *, htmx: bool = False
) -> tuple[int, httpx.Headers, str]:
    headers = {"Accept-Language": "en"}
    if htmx:
        headers["HX-Request"] = "true"
    if caller.token:
        headers["Authorization"] = f"Bearer {caller.token}"
    if endpoint.method in STATE_CHANGING:
        csrf = caller.client.cookies.get("__Host-csrftoken")
        if csrf:
            headers["x-csrftoken"] = csrf
    caller.requests += 1
    request = caller.client.build_request(endpoint.method, url, headers=headers)
    try:
        response = await asyncio.wait_for(caller.client.send(request, stream=True), ANSWER_WITHIN)
    except TimeoutError:
        return -1, httpx.Headers(), ""
    try:
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            # A live stream never ends: that it opened (or was refused) is the answer.
            return response.status_code, response.headers, ""
        await asyncio.wait_for(response.aread(), ANSWER_WITHIN)
    except TimeoutError:
        return -1, httpx.Headers(), ""
    finally:
        await response.aclose()
    return response.status_code, response.headers, response.text


async def calls_of(
    caller: Caller, endpoint: Endpoint, kinds: dict[str, Resource], problems: list[str]
) -> list[Call]:
    made = []
    filled, missing = fillings(endpoint, caller, kinds, problems)
    missing_status = None
    if missing is not None and caller.kind != "anonymous" and not caller.internal:
        # What "does not exist" looks like to this caller on this route.
        missing_status, _, _ = await call(caller, endpoint, endpoint.url(missing))
    for values, record, own in filled:
        url = endpoint.url(values)
        status, headers, body = await call(caller, endpoint, url)
        made.append(Call(caller, endpoint, url, status, headers, body, record, own, missing_status))
        if caller.kind == "anonymous" and endpoint.method == "GET" and not endpoint.public:
            # htmx asks too: it must be told where to sign in, not handed a redirect.
            status, headers, body = await call(caller, endpoint, url, htmx=True)
            made.append(Call(caller, endpoint, url, status, headers, body, record, htmx=True))
    return made


async def run_async(database_url: str) -> Matrix:
    db = Database(database_url)
    await db.start()
    try:
        await empty(db)
        po_ids, so_ids = await build(db)
        kinds = resources(po_ids, so_ids)
        app = create_app(settings(database_url))
        async with app.lifespan():
            problems: list[str] = []
            everyone = await callers(app, problems)
            matrix = Matrix(endpoints(app), everyone, problems=problems)
            for caller in everyone:
                if caller.kind == "anonymous":
                    await caller.client.get("/health")  # its CSRF cookie, as a browser gets it
                for endpoint in matrix.endpoints:
                    matrix.calls.extend(await calls_of(caller, endpoint, kinds, problems))
            for caller in everyone:
                await caller.client.aclose()
        return matrix
    finally:
        await db.close()


def run(database_url: str) -> Matrix:
    return asyncio.run(run_async(database_url))
