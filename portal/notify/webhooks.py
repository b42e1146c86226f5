"""Webhook deliveries by the Standard Webhooks specification (https://www.standardwebhooks.com).

The dispatcher (contract 1) asks `endpoints_for` which endpoints hear of an event, stores
`payload` in each webhook Delivery row, and later calls `send` then `after_attempt`.

- Headers: `webhook-id` (stable per delivery: a retry or a resend carries the same id, so the
  receiver can drop duplicates), `webhook-timestamp` (seconds, at sending) and
  `webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`; during a secret
  rotation one entry per live secret, separated by spaces, as the specification allows).
- Signing uses the `standardwebhooks` package: it is the specification's own reference
  implementation, tiny and without dependencies, so the portal signs exactly as receivers'
  libraries verify; the tests also check it against the specification's published vector.
- Server-side request forgery: the URL's host is resolved and every address must be public
  (not loopback, private, link-local, multicast, reserved or unspecified) unless
  `settings.webhook_allow_private`; the request then goes to the very address checked (the
  name kept for the Host header and TLS), so a DNS answer that changes in between is no way in.
- Redirects are not followed; 2xx is success; 410 Gone is permanent (the receiver says the
  endpoint is gone: it is disabled at once); anything else is retried by the dispatcher.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ipaddress
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import msgspec
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from standardwebhooks import Webhook

from portal.db import tables as t
from portal.db.database import Database
from portal.domain.actors import Side
from portal.domain.errors import DomainError
from portal.domain.events import Event, EventKind, format_time
from portal.settings import Settings

TIMEOUT = 10.0
"""Seconds a receiver has to answer one delivery."""
ROTATION_GRACE = timedelta(hours=24)
"""How long the previous secret keeps signing after a rotation."""
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
"""The specification asks for 24 to 64 random bytes."""
DETAIL_LENGTH = 300
"""How much of a receiver's answer the delivery log keeps."""
USER_AGENT = "Portal-Webhooks/1"

# --- What may be subscribed to ----------------------------------------------------------------

_PO_KINDS = (
    EventKind.PO_ISSUED,
    EventKind.PO_ACKNOWLEDGED,
    EventKind.PO_REJECTED,
    EventKind.PO_CANCELLED,
    EventKind.PO_CLOSED,
    EventKind.PROMISE_CHANGED,
    EventKind.CR_OPENED,
    EventKind.CR_COUNTERED,
    EventKind.CR_WITHDRAWN,
    EventKind.CR_APPROVED,
    EventKind.CR_AUTO_APPROVED,
    EventKind.CR_REJECTED,
    EventKind.SHIPMENT_POSTED,
    EventKind.SHIPMENT_CORRECTED,
    EventKind.SHIPMENT_CANCELLED,
    EventKind.RECEIPT_RECORDED,
    EventKind.COMMENT_ADDED,
)
_SO_KINDS = (
    EventKind.SO_CREATED,
    EventKind.LINE_CONFIRMED,
    EventKind.EXPECTED_DATE_CHANGED,
    EventKind.SO_SHIPPED,
    EventKind.SO_DELIVERED,
    EventKind.SO_CLOSED,
    EventKind.SO_CANCELLED,
    EventKind.COMMENT_ADDED,
)
_INTERNAL_ONLY = (EventKind.PO_CREATED, EventKind.LINE_LINKED)
"""Order events no outside party ever reads (a draft; which supplier order a line follows)."""


def _unique(kinds: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(kind) for kind in kinds))


KINDS_BY_ORG_KIND: dict[str, tuple[str, ...]] = {
    "supplier": _unique(_PO_KINDS),
    "customer": _unique(_SO_KINDS),
    "both": _unique((*_PO_KINDS, *_SO_KINDS)),
    "internal": _unique((EventKind.PO_CREATED, *_PO_KINDS, EventKind.LINE_LINKED, *_SO_KINDS)),
}
"""The order event kinds an organisation of each kind may subscribe to: those of the orders
it reads (a supplier its purchase orders, a customer its sales orders, our staff all)."""

SIDES_BY_ORG_KIND: dict[str, tuple[Side, ...]] = {
    "supplier": (Side.SUPPLIER,),
    "customer": (Side.CUSTOMER,),
    "both": (Side.SUPPLIER, Side.CUSTOMER),
    "internal": (Side.INTERNAL,),
}


def check_kinds(asked: Sequence[str], org_kind: str) -> tuple[str, ...]:
    """The kinds asked for, in a stable order; empty means every kind."""
    allowed = KINDS_BY_ORG_KIND.get(org_kind, ())
    chosen = _unique([kind.strip() for kind in asked if kind.strip()])
    for kind in chosen:
        if kind not in allowed:
            raise DomainError(
                "Unknown event kind {kind!r} for this organisation; use some of: {choices}.",
                kind=kind,
                choices=", ".join(allowed),
            )
    return tuple(kind for kind in allowed if kind in chosen)


# --- URLs and the addresses they reach ---------------------------------------------------------


def check_url(text: str) -> str:
    """The URL's shape: http(s), a host, no user name or password (they would be written on the
    timeline), at most 2000 characters."""
    url = text.strip()
    if not url:
        raise DomainError("The webhook's URL is required.")
    if len(url) > 2000:
        raise DomainError("The webhook's URL is longer than 2000 characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise DomainError("{url!r} is not a valid URL.", url=url) from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise DomainError(
            "{url!r} is not a web address: it must start with https:// or http:// and name a host.",
            url=url,
        )
    if parts.username is not None or parts.password is not None:
        raise DomainError(
            "Put no user name or password in the webhook's URL; verify the signature instead."
        )
    if port == 0:
        raise DomainError("{url!r} is not a valid URL.", url=url)
    return url


def shown_url(url: str) -> str:
    """The URL as events and logs show it: without its query, which may hold a token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def forbidden_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


async def resolve(url: str, settings: Settings) -> list[str]:
    """The addresses the URL's host resolves to, all allowed; DomainError otherwise."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    loop = asyncio.get_running_loop()
    try:
        found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise DomainError("The host {host!r} could not be found.", host=host) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        raise DomainError("The host {host!r} could not be found.", host=host)
    if not settings.webhook_allow_private:
        refused = [address for address in addresses if forbidden_address(address)]
        if refused:
            raise DomainError(
                "{host!r} resolves to {address}, a loopback, private or otherwise non-public "
                "address: webhooks may only call public addresses.",
                host=host,
                address=refused[0],
            )
    return addresses


# --- Secrets and signatures --------------------------------------------------------------------


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def live_secrets(stored: Any, now: datetime) -> list[str]:
    """The secrets that sign now: the newest, and a previous one until its grace ends."""
    entries = _entries(stored)
    return [
        entry["secret"]
        for entry in entries
        if not entry.get("expires_at") or datetime.fromisoformat(entry["expires_at"]) > now
    ]


def _entries(stored: Any) -> list[dict[str, Any]]:
    if isinstance(stored, str):
        stored = msgspec.json.decode(stored or "[]")
    return list(stored or [])


def rotated(stored: Any, secret: str, now: datetime) -> list[dict[str, Any]]:
    """The secrets after a rotation: the new one first, the current one signing until the grace
    ends (any older one is dropped: one rotation at a time)."""
    entries = _entries(stored)
    fresh = {"secret": secret, "created_at": now.isoformat(), "expires_at": None}
    if not entries:
        return [fresh]
    current = dict(entries[0])
    current["expires_at"] = (now + ROTATION_GRACE).isoformat()
    return [fresh, current]


def message_id(key: str) -> str:
    """`webhook-id`: derived from the delivery's unique key, so it never changes for one
    delivery (retries and resends alike) and never repeats across deliveries."""
    return "msg_" + hashlib.sha256(key.encode()).hexdigest()[:32]


def sign(secrets_now: Sequence[str], msg_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` header: one `v1,<signature>` per secret, space-separated."""
    at = datetime.fromtimestamp(timestamp, UTC)
    return " ".join(Webhook(secret).sign(msg_id, at, body) for secret in secrets_now)


# --- Contract 3: what the dispatcher calls ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attempt:
    ok: bool
    status_code: int | None
    detail: str
    permanent: bool


async def endpoints_for(orgs: Sequence[str], kind: str) -> dict[int, str]:
    """The active endpoints of these organisations that subscribed to `kind` (or to every
    kind), oldest first, each with the organisation it belongs to."""
    if not orgs:
        return {}
    rows = (
        await t.WebhookEndpoint.select(
            t.WebhookEndpoint.id, t.WebhookEndpoint.org, t.WebhookEndpoint.kinds
        )
        .where(t.WebhookEndpoint.org.is_in(list(orgs)) & (t.WebhookEndpoint.active == True))  # noqa: E712
        .order_by(t.WebhookEndpoint.id)
        .run()
    )
    return {
        row["id"]: row["org"] for row in rows if not row["kinds"] or kind in row["kinds"].split()
    }


def payload(event: Event, number: str) -> dict[str, Any]:
    """The JSON body: `type` is the event kind, `timestamp` when it happened, `data` the order
    and the event as its reader's side reads it (the dispatcher chose the event by audience).
    Who acted is left out: a customer must not learn our supplier's people, nor anyone our
    staff's names."""
    order_type = "purchase_order" if event.stream.startswith("po/") else "sales_order"
    return {
        "type": event.kind,
        "timestamp": format_time(event.at),
        "data": {
            "order_type": order_type,
            "number": number,
            "seq": event.seq,
            "kind": event.kind,
            "at": format_time(event.at),
            "event": event.data,
        },
    }


def _body(delivery: dict[str, Any]) -> str:
    stored = delivery.get("payload") or {}
    if isinstance(stored, str):
        stored = msgspec.json.decode(stored or "{}")
    return msgspec.json.encode(stored).decode()


async def send(settings: Settings, delivery: dict[str, Any]) -> Attempt:
    """One POST of a webhook Delivery row to its endpoint, signed with its live secrets."""
    try:
        endpoint_id = int(delivery["target"])
    except (KeyError, ValueError):
        return Attempt(False, None, "not a webhook endpoint", permanent=True)
    endpoint = (
        await t.WebhookEndpoint.select().where(t.WebhookEndpoint.id == endpoint_id).first().run()
    )
    if endpoint is None:
        return Attempt(False, None, "the endpoint was deleted", permanent=True)
    if not endpoint["active"]:
        return Attempt(False, None, "the endpoint is disabled", permanent=True)
    url = endpoint["url"]
    try:
        addresses = await resolve(url, settings)
    except DomainError as refused:
        return Attempt(False, None, refused.message[:DETAIL_LENGTH], permanent=False)
    now = datetime.now(UTC)
    timestamp = int(now.timestamp())
    msg_id = message_id(str(delivery["key"]))
    body = _body(delivery)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(live_secrets(endpoint["secrets"], now), msg_id, timestamp, body),
    }
    target = httpx.URL(url)
    headers["host"] = target.netloc.decode("ascii")
    # Connect to the address just checked; the name stays in Host and in TLS (SNI and the
    # certificate check), so the receiver sees an ordinary request.
    pinned = target.copy_with(host=addresses[0].split("%", 1)[0])
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as client:
            response = await client.post(
                pinned,
                content=body.encode(),
                headers=headers,
                extensions={"sni_hostname": target.host},
            )
    except httpx.HTTPError as error:
        detail = f"{type(error).__name__}: {error}".strip()
        return Attempt(False, None, detail[:DETAIL_LENGTH], permanent=False)
    text = response.text[:DETAIL_LENGTH]
    code = response.status_code
    if 200 <= code < 300:
        return Attempt(True, code, text, permanent=False)
    return Attempt(False, code, text or response.reason_phrase, permanent=code == 410)


class _TablesDatabase(Database):
    """The database the tables are bound to, for a caller that passes none (the worker's
    `Database` is better: it shares that one's SQLite write lock)."""

    def __init__(self) -> None:
        self.url = ""
        self.engine = t.WebhookEndpoint._meta.db
        self.is_sqlite = isinstance(self.engine, SQLiteEngine)
        self._postgres = self.engine if isinstance(self.engine, PostgresEngine) else None
        self._write_lock = asyncio.Lock()


async def after_attempt(
    endpoint_id: int,
    ok: bool,
    now: datetime,
    db: Database | None = None,
    *,
    permanent: bool = False,
) -> None:
    """Count consecutive failures (a success starts again from zero); at WEBHOOK_DISABLE_AFTER,
    or at once after a permanent refusal (410 Gone), disable the endpoint and tell its
    organisation's admins."""
    from portal.services import webhooks as service

    if ok:
        await (
            t.WebhookEndpoint.update({t.WebhookEndpoint.failures: 0})
            .where((t.WebhookEndpoint.id == endpoint_id) & (t.WebhookEndpoint.failures != 0))
            .run()
        )
        return
    await service.count_failure(db or _TablesDatabase(), endpoint_id, now, permanent=permanent)
