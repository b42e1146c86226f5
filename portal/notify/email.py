"""Notification e-mails: one delivery (or one user's due digest) as a multipart mail in the
recipient's language and time zone, sent through SMTP or written to the mail folder.

Each mail carries the id of what it delivers, so a mail sent twice (a worker killed after the
SMTP server took it but before the delivery was marked sent) is recognisable as the same one:
`X-Portal-Delivery` names the delivery keys and `Message-ID` is derived from them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiosmtplib
import anyio

from portal.db import tables as t
from portal.db.codec import load
from portal.domain.actors import Side
from portal.domain.notifications import Topic
from portal.i18n import LOCALES
from portal.notify import mail, wording
from portal.notify.recipients import CONTACT_PREFIX
from portal.settings import Settings
from portal.web.i18n import I18n


class PermanentFailure(Exception):
    """Retrying cannot help: the recipient is gone or the server refused the address."""


@dataclass(frozen=True, slots=True)
class Recipient:
    address: str
    name: str
    locale: str
    time_zone: str
    side: Side
    user_id: int | None


@dataclass(frozen=True, slots=True)
class Sent:
    subject: str
    eml: str  # the file written in the mail folder, or "" when the mail went by SMTP
    message_id: str


def key_digest(key: str) -> str:
    """A short, stable id for a delivery key: the Message-ID's local part, an action link's
    token id."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def payload_of(row: Mapping[str, Any]) -> dict[str, Any]:
    value = row["payload"]
    loaded = load(value) if isinstance(value, str) else value
    return dict(loaded or {})


async def recipient(settings: Settings, target: str, payload: Mapping[str, Any]) -> Recipient:
    """Who a delivery goes to, read now: a user's current address, language and time zone."""
    if target.startswith(CONTACT_PREFIX):
        address = target.removeprefix(CONTACT_PREFIX)
        return Recipient(
            address, address, settings.default_locale, settings.time_zone, Side.CUSTOMER, None
        )
    row = (
        await t.AppUser.select().where(t.AppUser.id == int(target)).first().run()
        if target.isdigit()
        else None
    )
    if row is None or not row["active"]:
        raise PermanentFailure(f"user {target} no longer exists or is disabled")
    return Recipient(
        row["email"],
        row["display_name"],
        row["locale"] if row["locale"] in LOCALES else settings.default_locale,
        row["time_zone"] or settings.time_zone,
        Side(payload.get("side", Side.INTERNAL)),
        row["id"],
    )


def _item(
    settings: Settings, row: Mapping[str, Any], who: Recipient, i18n: I18n, now: datetime
) -> dict[str, Any]:
    payload = payload_of(row)
    event = payload.get("event") or {}
    number = str(payload.get("number", ""))
    described = wording.describe(
        str(payload.get("topic", "")),
        str(row["kind"]),
        number,
        {"number": number, "event": event.get("data") or {}},
        i18n,
        who.side,
        stream=str(row["stream"]) or None,
    )
    item: dict[str, Any] = {
        "title": described.title,
        "body": described.body,
        "link": settings.base_url.rstrip("/") + described.path,
        "at": event.get("at") or "",
        "number": number,
        "tracking": "",
        "accept": "",
    }
    if who.side == Side.CUSTOMER and number:
        from portal.customer.tracking import tracking_url

        item["tracking"] = tracking_url(settings, number, now)
    if (
        who.side == Side.SUPPLIER
        and who.user_id is not None
        and payload.get("topic") == Topic.NEW_PURCHASE_ORDER
    ):
        from portal.notify.email_actions import action_links

        links = action_links(
            settings,
            number,
            who.user_id,
            int(payload.get("version", 1)),
            key_digest(str(row["key"])),
            now,
        )
        item["accept"], item["link"] = links.accept, links.view
    return item


def compose(
    settings: Settings, rows: Sequence[Mapping[str, Any]], who: Recipient, now: datetime
) -> EmailMessage:
    """One delivery as a notification mail, or several (a digest) as one list."""
    i18n = I18n(who.locale, who.time_zone)
    items = [_item(settings, row, who, i18n, now) for row in rows]
    digest = len(rows) > 1 or bool(payload_of(rows[0]).get("digest"))
    message = mail.compose(
        settings,
        to=who.address,
        template="digest" if digest else "notification",
        locale=who.locale,
        time_zone=who.time_zone,
        context={"name": who.name, "items": items, "item": items[0], "count": len(items)},
    )
    keys = [str(row["key"]) for row in rows]
    host = urlsplit(settings.base_url).hostname or "portal.invalid"
    del message["Message-ID"]
    message["Message-ID"] = f"<{key_digest(' '.join(keys))}@{host}>"
    message["X-Portal-Delivery"] = ", ".join(keys)
    return message


async def send(settings: Settings, rows: Sequence[Mapping[str, Any]], now: datetime) -> Sent:
    """Compose and send; raises PermanentFailure when retrying cannot help, any other error
    when it may."""
    who = await recipient(settings, str(rows[0]["target"]), payload_of(rows[0]))
    message = compose(settings, rows, who, now)
    subject, message_id = str(message["Subject"]), str(message["Message-ID"])
    if not settings.smtp_url:
        path: Path = await anyio.to_thread.run_sync(
            mail._write_eml, Path(settings.mail_dir), message
        )
        return Sent(subject, path.name, message_id)
    try:
        await mail.send(settings, message)
    except aiosmtplib.SMTPRecipientsRefused as error:
        raise PermanentFailure(f"the server refused {who.address}: {error}") from error
    except aiosmtplib.SMTPResponseException as error:
        if error.code >= 500:
            raise PermanentFailure(f"the server refused the mail: {error}") from error
        raise
    return Sent(subject, "", message_id)
