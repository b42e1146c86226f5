"""The notification outbox (/admin/outbox): every e-mail and webhook delivery, newest first,
with its attempts; the mail as it was written when no SMTP server is configured; and "resend".

Only our administrators: deliveries name every organisation's people and endpoints.

Resend puts a sent or failed delivery back in the queue, due now, with its retry count reset
(the backoff starts over). It is recorded in the delivery's own attempt log (who asked, when),
next to the tries it causes: the log is where an admin looks for what happened to a delivery,
and a resend changes no order and no organisation, so it writes no timeline event.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import anyio
from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from portal.auth import scopes as s
from portal.auth.guards import requires
from portal.db import tables as t
from portal.db.codec import load
from portal.db.database import Database
from portal.domain.actors import Actor
from portal.domain.errors import NotFound
from portal.services.accounts import require_admin
from portal.services.unit_of_work import utc_now
from portal.settings import Settings
from portal.web.rendering import View

OUTBOX = "/admin/outbox"
PER_PAGE = 50
CHANNELS = ("email", "webhook")
STATUSES = ("pending", "sent", "failed")


@dataclass(frozen=True, slots=True)
class Listing:
    channel: str
    status: str

    def url(self) -> str:
        query = {
            name: value
            for name, value in (("channel", self.channel), ("status", self.status))
            if value
        }
        return f"{OUTBOX}?{urlencode(query)}" if query else OUTBOX


def _row(row: dict[str, Any]) -> dict[str, Any]:
    payload = load(row["payload"]) or {}
    return {**row, "payload": payload if isinstance(payload, dict) else {}}


async def _attempts(ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = (
        await t.DeliveryAttempt.select()
        .where(t.DeliveryAttempt.delivery.is_in(ids))
        .order_by(t.DeliveryAttempt.id)
        .run()
    )
    for row in rows:
        found[row["delivery"]].append(row)
    return found


@get(OUTBOX, name="admin-outbox", include_in_schema=False, opt=requires(s.ADMIN))
async def outbox(
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    channel: FromQuery[str] = "",
    status: FromQuery[str] = "",
) -> Response[str]:
    await require_admin(actor)
    listing = Listing(channel if channel in CHANNELS else "", status if status in STATUSES else "")
    query = t.Delivery.select().order_by(t.Delivery.id, ascending=False).limit(PER_PAGE)
    if listing.channel:
        query = query.where(t.Delivery.channel == listing.channel)
    if listing.status:
        query = query.where(t.Delivery.status == listing.status)
    rows = [_row(row) for row in await query.run()]
    attempts = await _attempts([row["id"] for row in rows])
    return view.page(
        "internal/admin/outbox.html",
        {
            "deliveries": [{**row, "tries": attempts[row["id"]]} for row in rows],
            "listing": listing,
            "channels": CHANNELS,
            "statuses": STATUSES,
        },
    )


def _read_eml(folder: Path, name: str) -> EmailMessage | None:
    """The mail as written into the mail folder; only a plain file name inside it."""
    if not name or Path(name).name != name or not name.endswith(".eml"):
        return None
    path = folder / name
    if not path.is_file():
        return None
    parser = BytesParser(_class=EmailMessage, policy=policy.default)
    return parser.parsebytes(path.read_bytes())


@get(
    f"{OUTBOX}/{{delivery_id:int}}",
    name="admin-outbox-delivery",
    include_in_schema=False,
    opt=requires(s.ADMIN),
)
async def delivery(
    delivery_id: FromPath[int],
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    settings: NamedDependency[Settings],
) -> Response[str]:
    await require_admin(actor)
    row = await t.Delivery.select().where(t.Delivery.id == delivery_id).first().run()
    if row is None:
        raise NotFound("Delivery {id} was not found.", id=delivery_id)
    found = _row(row)
    message = await anyio.to_thread.run_sync(
        _read_eml, Path(settings.mail_dir), str(found["payload"].get("eml", ""))
    )
    text = message.get_body(("plain",)) if message is not None else None
    return view.page(
        "internal/admin/outbox_delivery.html",
        {
            "delivery": found,
            "tries": (await _attempts([delivery_id]))[delivery_id],
            "mail": message,
            "mail_text": text.get_content() if text is not None else "",
        },
    )


@post(
    f"{OUTBOX}/{{delivery_id:int}}/resend",
    name="admin-outbox-resend",
    include_in_schema=False,
    opt=requires(s.ADMIN),
)
async def resend(
    delivery_id: FromPath[int], actor: NamedDependency[Actor], db: NamedDependency[Database]
) -> Response[Any]:
    await require_admin(actor)
    async with db.write_transaction():
        now = utc_now()
        moved = (
            await t.Delivery.update(
                {
                    t.Delivery.status: "pending",
                    t.Delivery.next_at: now,
                    t.Delivery.attempts: 0,
                    t.Delivery.locked_until: None,
                }
            )
            .where(t.Delivery.id == delivery_id)
            .returning(t.Delivery.id)
            .run()
        )
        if not moved:
            raise NotFound("Delivery {id} was not found.", id=delivery_id)
        await t.DeliveryAttempt.insert(
            t.DeliveryAttempt(
                delivery=delivery_id,
                at=now,
                ok=False,
                detail=f"resend requested by {actor.name}",
                worker="admin",
            )
        ).run()
    return Redirect(f"{OUTBOX}/{delivery_id}", status_code=303)


ROUTES = [outbox, delivery, resend]
