"""A webhook receiver for the tests: a real HTTP server on 127.0.0.1 (an ephemeral port, in a
thread of the test process) that records every request and answers with the status codes it is
told to, in turn; and a small world of organisations, people and OAuth clients.

Imported by the tests of this folder as `webhook_support` (pytest puts the folder on the path).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import msgspec
from auth_support import (
    DEFAULT_PASSWORD,
    TEST_SECRET_KEY,
    add_client,
    add_org,
    add_user,
    sign_in,
)
from litestar import Litestar

from portal.auth import scopes as s
from portal.db import tables as t
from portal.db.codec import load
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.events import Event, decode_audience
from portal.domain.orders import POLine
from portal.notify.dispatcher import Dispatcher
from portal.services.purchase_orders import IssuePurchaseOrder, issue_purchase_order
from portal.services.unit_of_work import UnitOfWork
from portal.settings import Settings

BASE_URL = "https://testserver.local"
NEED = date.today() + timedelta(days=60)
CLIENT_SCOPES = {
    "supplier": s.render(s.ROLE_SCOPES["supplier"]),
    "customer": s.render(s.ROLE_SCOPES["customer"]),
    "admin": s.render(s.ROLE_SCOPES["admin"]),
    "buyer": s.render(s.ROLE_SCOPES["buyer"]),
}
CLIENTS = {
    # client id: (organisation, role)
    "sup1-erp": ("SUP1", "supplier"),
    "sup2-erp": ("SUP2", "supplier"),
    "cus1-erp": ("CUS1", "customer"),
    "home-admin": ("HOME", "admin"),
    "home-buyer": ("HOME", "buyer"),
}
BUYER = Actor(ActorKind.USER, "u-buyer", "HOME", Side.INTERNAL, "Bea Buyer", Via.WEB, "buyer")
SUE = Actor(ActorKind.USER, "u-sue", "SUP1", Side.SUPPLIER, "Sue Supplier", Via.WEB, "supplier")
SAM = Actor(ActorKind.USER, "u-sam", "SUP2", Side.SUPPLIER, "Sam", Via.WEB, "supplier")
ADMIN = Actor(ActorKind.USER, "u-ada", "HOME", Side.INTERNAL, "Ada Admin", Via.WEB, "admin")


def secret_of(client_id: str) -> str:
    return f"secret-of-{client_id}-0123456789"


def settings(database_url: str, **values: Any) -> Settings:
    defaults: dict[str, Any] = {
        "database_url": database_url,
        "base_url": BASE_URL,
        "secret_key": TEST_SECRET_KEY,
        "default_locale": "en",
        "time_zone": "UTC",
        "dispatcher": False,  # the tests run the dispatcher themselves, step by step
        "webhook_allow_private": True,  # the receiver listens on 127.0.0.1
        "retry_scale": Decimal(0),  # a retry is due at once
    }
    return Settings(**(defaults | values))


async def seed() -> dict[str, int]:
    """Our company, two suppliers and a customer, their people and their systems; returns the
    users' ids by first name."""
    await add_org("HOME", "internal", "Our Company")
    await add_org("SUP1", "supplier", "Northwind Fasteners")
    await add_org("SUP2", "supplier", "Southwind Metals")
    await add_org("CUS1", "customer", "Contoso Retail")
    ids = {
        "ada": await add_user("ada@home.example", org="HOME", role="admin"),
        "bea": await add_user("bea@home.example", org="HOME", role="buyer"),
        "sue": await add_user("sue@northwind.example", org="SUP1", role="supplier"),
        "sid": await add_user("sid@northwind.example", org="SUP1", role="supplier"),
        "sam": await add_user("sam@southwind.example", org="SUP2", role="supplier"),
    }
    for client_id, (org, role) in CLIENTS.items():
        await add_client(
            client_id, org=org, role=role, scope=CLIENT_SCOPES[role], secret=secret_of(client_id)
        )
    return ids


async def issue(uow: UnitOfWork, number: str, supplier: str = "SUP1") -> None:
    line = POLine(1, "BOLT-M8", "Hex bolt", Decimal(100), "pcs", Decimal("0.35"), NEED)
    await issue_purchase_order(
        uow, BUYER, IssuePurchaseOrder(supplier, "CNY", [line], number=number)
    )


async def org_events(code: str, kind_prefix: str = "webhook.") -> list[Event]:
    """The organisation's stream, oldest first."""
    rows = (
        await t.Event.select()
        .where((t.Event.stream == f"org/{code}") & t.Event.kind.like(f"{kind_prefix}%"))
        .order_by(t.Event.seq)
        .run()
    )
    return [
        Event(
            stream=row["stream"],
            seq=row["seq"],
            at=row["at"],
            actor=load(row["actor"]),
            via=Via(row["via"]),
            kind=row["kind"],
            data=load(row["data"]),
            audience=decode_audience(row["audience"]),
            prev_hash=row["prev_hash"],
            hash=row["hash"],
        )
        for row in rows
    ]


@dataclass
class World:
    app: Litestar
    http: httpx.AsyncClient
    db: Database
    settings: Settings
    ids: dict[str, int]

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db)

    async def bearer(self, client_id: str) -> dict[str, str]:
        answer = await self.http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, secret_of(client_id)),
        )
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}", "Accept-Language": "en"}

    async def browser(self, email: str, address: str) -> httpx.AsyncClient:
        """A signed-in browser (its own address: rate limits count per address)."""
        transport = httpx.ASGITransport(app=self.app, client=(address, 50000))
        client = httpx.AsyncClient(transport=transport, base_url=BASE_URL)
        reached = await sign_in(client, email, DEFAULT_PASSWORD)
        assert reached.status_code == 200, reached.text
        return client

    async def dispatch(self, rounds: int = 1) -> int:
        done = 0
        for _ in range(rounds):
            done += await Dispatcher(self.settings, self.db).run_once()
        return done


# --- The receiver ------------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return msgspec.json.decode(self.body)


@dataclass
class Receiver:
    url: str
    answers: list[int] = field(default_factory=list)
    """Status codes to answer with, in turn; when they run out, 200."""
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        with self.lock:
            return self.answers.pop(0) if self.answers else 200


@contextmanager
def receiver(*answers: int) -> Iterator[Receiver]:
    """A real HTTP server on 127.0.0.1; `answers` as in `Receiver.answers`."""
    found = Receiver(url="", answers=list(answers))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            with found.lock:
                found.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
            status = found.answer()
            text = b"ok" if status < 300 else b"receiver says no"
            self.send_response(status)
            self.send_header("content-type", "text/plain")
            self.send_header("content-length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/portal"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
