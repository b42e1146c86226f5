"""Webhook endpoints: an organisation's subscriptions, changed by its own people.

Who may do what:
- a supplier's or customer's users and clients (scope `notify`) read and change their own
  organisation's endpoints;
- our staff read every organisation's endpoints (they read everything of the portal); only our
  administrators change them (for our own organisation, or for a partner that asks).

Every change is an event on the organisation's stream (`org/<CODE>`), read by our staff and by
the organisation's own side, so its people see their endpoints' history. The secret itself
never goes on the timeline: it is shown once, when it is made or rotated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec

from portal.auth.scopes import ROLE_SIDE
from portal.db import outbox
from portal.db import tables as t
from portal.db.database import Database
from portal.db.repositories import for_update
from portal.db.timeline import event_of
from portal.domain import accounts as rules
from portal.domain.actors import Actor, Side
from portal.domain.errors import Conflict, DomainError, NotFound, Phrase
from portal.domain.events import Event, EventKind, PendingEvent, format_time, plain
from portal.domain.notifications import WEBHOOK_DISABLE_AFTER, Topic
from portal.notify import webhooks as delivery
from portal.services.accounts import lock_organisation
from portal.services.unit_of_work import UnitOfWork
from portal.settings import Settings

DELIVERIES_SHOWN = 100


class WebhookInfo(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    org: str
    url: str
    description: str
    kinds: list[str]
    """Empty: every kind the organisation may read."""
    active: bool
    failures: int
    """Consecutive failed deliveries."""
    disabled_at: datetime | None
    disabled_reason: str
    version: int
    created_at: datetime | None
    previous_secret_expires_at: datetime | None
    """During a rotation: when the previous secret stops signing."""


class IssuedWebhookSecret(msgspec.Struct, frozen=True, kw_only=True):
    """An endpoint with its signing secret in clear: the one time anybody sees it."""

    endpoint: WebhookInfo
    secret: str

    def __repr__(self) -> str:
        return f"IssuedWebhookSecret(endpoint={self.endpoint!r}, secret='***')"


class AttemptInfo(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    ok: bool
    status_code: int | None
    detail: str
    duration_ms: int


class DeliveryInfo(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    message_id: str
    """The `webhook-id` header it is sent with."""
    kind: str
    number: str
    status: str
    """pending | sent | failed"""
    attempts: list[AttemptInfo]
    next_at: datetime | None
    last_error: str
    created_at: datetime | None
    sent_at: datetime | None


def _secrets(row: dict[str, Any]) -> list[dict[str, Any]]:
    stored = row["secrets"]
    if isinstance(stored, str):
        stored = msgspec.json.decode(stored or "[]")
    return list(stored or [])


def _info(row: dict[str, Any]) -> WebhookInfo:
    previous = [entry for entry in _secrets(row)[1:] if entry.get("expires_at")]
    return WebhookInfo(
        id=row["id"],
        org=row["org"],
        url=row["url"],
        description=row["description"],
        kinds=row["kinds"].split(),
        active=row["active"],
        failures=row["failures"],
        disabled_at=row["disabled_at"],
        disabled_reason=row["disabled_reason"],
        version=row["version"],
        created_at=row["created_at"],
        previous_secret_expires_at=datetime.fromisoformat(previous[0]["expires_at"])
        if previous
        else None,
    )


# --- Who may read and change -------------------------------------------------------------------


def _may_read(actor: Actor, org: str) -> bool:
    return actor.org is not None and (actor.side == Side.INTERNAL or actor.org == org)


def may_manage(actor: Actor, org: str) -> bool:
    """An outside organisation's people manage their own endpoints; of our staff, only the
    administrators manage any."""
    if actor.org is None:
        return False
    if actor.side == Side.INTERNAL:
        return actor.role == "admin"
    return actor.org == org


def _require_manager(actor: Actor, org: str) -> None:
    if not _may_read(actor, org):
        raise NotFound("That webhook was not found.")
    if not may_manage(actor, org):
        raise DomainError("Only an administrator can change webhooks.")


async def _row(actor: Actor, endpoint_id: int, *, lock: bool = False) -> dict[str, Any]:
    query = t.WebhookEndpoint.select().where(t.WebhookEndpoint.id == endpoint_id)
    row = await (for_update(query) if lock else query).first().run()
    if row is None or not _may_read(actor, row["org"]):
        raise NotFound("That webhook was not found.")
    found: dict[str, Any] = row
    return found


async def endpoints(actor: Actor, org: str | None = None) -> list[WebhookInfo]:
    """The caller's organisation's endpoints; our staff may ask for any organisation's, or for
    all of them (`org` None)."""
    if actor.org is None:
        return []
    query = (
        t.WebhookEndpoint.select().order_by(t.WebhookEndpoint.org).order_by(t.WebhookEndpoint.id)
    )
    if actor.side != Side.INTERNAL:
        query = query.where(t.WebhookEndpoint.org == actor.org)
    elif org:
        query = query.where(t.WebhookEndpoint.org == org.strip().upper())
    return [_info(row) for row in await query.run()]


async def endpoint(actor: Actor, endpoint_id: int) -> WebhookInfo:
    return _info(await _row(actor, endpoint_id))


async def kinds_for(org: str) -> tuple[str, ...]:
    """What an organisation may subscribe to."""
    row = (
        await t.Organisation.select(t.Organisation.kind)
        .where(t.Organisation.code == org)
        .first()
        .run()
    )
    return delivery.KINDS_BY_ORG_KIND.get(row["kind"], ()) if row else ()


async def history(actor: Actor, endpoint_id: int) -> list[Event]:
    """The endpoint's events on its organisation's stream that the caller's side reads,
    newest first."""
    row = await _row(actor, endpoint_id)
    query = t.Event.select().where(
        (t.Event.stream == f"org/{row['org']}") & t.Event.kind.like("webhook.%")
    )
    if actor.side != Side.INTERNAL:
        query = query.where(t.Event.audience.like(f"%{actor.side.value}%"))
    rows = await query.order_by(t.Event.seq, ascending=False).run()
    events = [event_of(found) for found in rows]
    return [event for event in events if event.data.get("endpoint_id") == endpoint_id]


async def deliveries(actor: Actor, endpoint_id: int) -> list[DeliveryInfo]:
    """The endpoint's latest deliveries with every attempt, newest first."""
    await _row(actor, endpoint_id)
    rows = (
        await t.Delivery.select()
        .where((t.Delivery.channel == "webhook") & (t.Delivery.target == str(endpoint_id)))
        .order_by(t.Delivery.id, ascending=False)
        .limit(DELIVERIES_SHOWN)
        .run()
    )
    ids = [row["id"] for row in rows]
    attempts: dict[int, list[AttemptInfo]] = {key: [] for key in ids}
    if ids:
        found = (
            await t.DeliveryAttempt.select()
            .where(t.DeliveryAttempt.delivery.is_in(ids))
            .order_by(t.DeliveryAttempt.id)
            .run()
        )
        for attempt in found:
            attempts[attempt["delivery"]].append(
                AttemptInfo(
                    at=attempt["at"],
                    ok=attempt["ok"],
                    status_code=attempt["status_code"],
                    detail=attempt["detail"],
                    duration_ms=attempt["duration_ms"],
                )
            )
    return [_delivery(row, attempts[row["id"]]) for row in rows]


def _delivery(row: dict[str, Any], attempts: list[AttemptInfo]) -> DeliveryInfo:
    stored = row["payload"]
    if isinstance(stored, str):
        stored = msgspec.json.decode(stored or "{}")
    number = str(((stored or {}).get("data") or {}).get("number") or "")
    return DeliveryInfo(
        id=row["id"],
        message_id=delivery.message_id(row["key"]),
        kind=row["kind"],
        number=number,
        status=row["status"],
        attempts=attempts,
        next_at=row["next_at"] if row["status"] == "pending" else None,
        last_error=row["last_error"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
    )


# --- The organisation's record -----------------------------------------------------------------


@dataclass(slots=True)
class _Record(rules.OrgRecord):
    """The organisation's stream, with events its own side reads too."""

    sides: tuple[Side, ...] = field(default=(), kw_only=True)

    def webhook(self, actor: Actor, kind: EventKind, data: dict[str, Any]) -> None:
        audience = (Side.INTERNAL, *(side for side in self.sides if side != Side.INTERNAL))
        self.events.append(PendingEvent(self.stream, kind, actor, plain(data), audience))


def _record(org: dict[str, Any]) -> _Record:
    return _Record(version=0, code=org["code"], sides=delivery.SIDES_BY_ORG_KIND[org["kind"]])


def _check_version(row: dict[str, Any], version: int | None) -> None:
    if version is not None and version != row["version"]:
        raise Conflict(
            "Someone changed this webhook since you read it; it is now at version {version}.",
            row["version"],
            version=row["version"],
        )


async def _lock(actor: Actor, endpoint_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The organisation's row then the endpoint's, locked in that order."""
    row = await _row(actor, endpoint_id)
    _require_manager(actor, row["org"])
    org = await lock_organisation(row["org"])
    return org, await _row(actor, endpoint_id, lock=True)


def _description(text: str) -> str:
    cleaned = text.strip()
    if len(cleaned) > 200:
        raise DomainError(
            "{what} is longer than {longest} characters.",
            what=Phrase("The description"),
            longest=200,
        )
    return cleaned


@dataclass(frozen=True, slots=True)
class CreateWebhook:
    url: str
    kinds: tuple[str, ...] = ()
    description: str = ""
    org: str = ""
    """Empty: the actor's own organisation (only our administrators name another)."""


@dataclass(frozen=True, slots=True)
class UpdateWebhook:
    endpoint_id: int
    version: int | None
    url: str | None = None
    kinds: tuple[str, ...] | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class RotateWebhookSecret:
    endpoint_id: int
    version: int | None = None


@dataclass(frozen=True, slots=True)
class EnableWebhook:
    endpoint_id: int
    version: int | None = None


@dataclass(frozen=True, slots=True)
class DisableWebhook:
    endpoint_id: int
    version: int | None = None


@dataclass(frozen=True, slots=True)
class DeleteWebhook:
    endpoint_id: int
    version: int | None = None


@dataclass(frozen=True, slots=True)
class ResendDelivery:
    endpoint_id: int
    delivery_id: int


async def create_webhook(
    uow: UnitOfWork, settings: Settings, actor: Actor, cmd: CreateWebhook
) -> IssuedWebhookSecret:
    code = (cmd.org or actor.org or "").strip().upper()
    _require_manager(actor, code)
    url = delivery.check_url(cmd.url)
    description = _description(cmd.description)
    await delivery.resolve(url, settings)  # before the transaction: DNS may take a while
    async with uow:
        org = await lock_organisation(code)
        kinds = delivery.check_kinds(cmd.kinds, org["kind"])
        secret = delivery.new_secret()
        inserted = (
            await t.WebhookEndpoint.insert(
                t.WebhookEndpoint(
                    org=org["code"],
                    url=url,
                    description=description,
                    kinds=" ".join(kinds),
                    secrets=msgspec.json.encode(delivery.rotated([], secret, uow.now)).decode(),
                    active=True,
                    failures=0,
                    version=1,
                    created_at=uow.now,
                )
            )
            .returning(t.WebhookEndpoint.id)
            .run()
        )
        endpoint_id = int(inserted[0]["id"])
        record = _record(org)
        record.webhook(
            actor,
            EventKind.WEBHOOK_CREATED,
            {
                "endpoint_id": endpoint_id,
                "after": {
                    "url": delivery.shown_url(url),
                    "description": description,
                    "kinds": " ".join(kinds),
                },
            },
        )
        uow.note(record)
        await uow.commit()
    return IssuedWebhookSecret(endpoint=await endpoint(actor, endpoint_id), secret=secret)


async def update_webhook(
    uow: UnitOfWork, settings: Settings, actor: Actor, cmd: UpdateWebhook
) -> WebhookInfo:
    # Another organisation's endpoint is not there, whatever the request says.
    _require_manager(actor, (await _row(actor, cmd.endpoint_id))["org"])
    url = delivery.check_url(cmd.url) if cmd.url is not None else None
    if url is not None:
        await delivery.resolve(url, settings)
    description = _description(cmd.description) if cmd.description is not None else None
    async with uow:
        org, row = await _lock(actor, cmd.endpoint_id)
        _check_version(row, cmd.version)
        kinds = (
            " ".join(delivery.check_kinds(cmd.kinds, org["kind"]))
            if cmd.kinds is not None
            else row["kinds"]
        )
        after = {
            "url": url if url is not None else row["url"],
            "description": description if description is not None else row["description"],
            "kinds": kinds,
        }
        before = {key: row[key] for key in after}
        changed = rules.changes(before, after)
        if changed["after"]:
            await (
                t.WebhookEndpoint.update(
                    {
                        t.WebhookEndpoint.url: after["url"],
                        t.WebhookEndpoint.description: after["description"],
                        t.WebhookEndpoint.kinds: after["kinds"],
                        t.WebhookEndpoint.version: row["version"] + 1,
                    }
                )
                .where(t.WebhookEndpoint.id == cmd.endpoint_id)
                .run()
            )
            for side in ("before", "after"):
                if "url" in changed[side]:
                    changed[side]["url"] = delivery.shown_url(changed[side]["url"])
            record = _record(org)
            record.webhook(
                actor, EventKind.WEBHOOK_UPDATED, {"endpoint_id": cmd.endpoint_id, **changed}
            )
            uow.note(record)
        await uow.commit()
    return await endpoint(actor, cmd.endpoint_id)


async def rotate_secret(
    uow: UnitOfWork, actor: Actor, cmd: RotateWebhookSecret
) -> IssuedWebhookSecret:
    """A new secret signs from now on; the previous one signs too for 24 hours, so the
    receiver can switch without losing a delivery."""
    async with uow:
        org, row = await _lock(actor, cmd.endpoint_id)
        _check_version(row, cmd.version)
        secret = delivery.new_secret()
        secrets_now = delivery.rotated(row["secrets"], secret, uow.now)
        await (
            t.WebhookEndpoint.update(
                {
                    t.WebhookEndpoint.secrets: msgspec.json.encode(secrets_now).decode(),
                    t.WebhookEndpoint.version: row["version"] + 1,
                }
            )
            .where(t.WebhookEndpoint.id == cmd.endpoint_id)
            .run()
        )
        record = _record(org)
        record.webhook(
            actor,
            EventKind.WEBHOOK_SECRET_ROTATED,
            {
                "endpoint_id": cmd.endpoint_id,
                "url": delivery.shown_url(row["url"]),
                "previous_secret_until": uow.now + delivery.ROTATION_GRACE,
            },
        )
        uow.note(record)
        await uow.commit()
    return IssuedWebhookSecret(endpoint=await endpoint(actor, cmd.endpoint_id), secret=secret)


async def _set_active(
    uow: UnitOfWork, actor: Actor, endpoint_id: int, version: int | None, active: bool
) -> WebhookInfo:
    async with uow:
        org, row = await _lock(actor, endpoint_id)
        _check_version(row, version)
        if row["active"] and active:
            raise DomainError("This webhook is already enabled.")
        if not row["active"] and not active:
            raise DomainError("This webhook is already disabled.")
        await _write_active(row, active, uow.now, "" if active else "disabled by a person")
        record = _record(org)
        kind = EventKind.WEBHOOK_ENABLED if active else EventKind.WEBHOOK_DISABLED
        record.webhook(
            actor,
            kind,
            {
                "endpoint_id": endpoint_id,
                "url": delivery.shown_url(row["url"]),
                "before": {"active": not active},
                "after": {"active": active},
            },
        )
        uow.note(record)
        await uow.commit()
    return await endpoint(actor, endpoint_id)


async def _write_active(
    row: dict[str, Any], active: bool, now: datetime, reason: str, failures: int = 0
) -> None:
    """Enabled (counting failures from zero) or disabled (keeping the count that did it)."""
    await (
        t.WebhookEndpoint.update(
            {
                t.WebhookEndpoint.active: active,
                t.WebhookEndpoint.failures: failures,
                t.WebhookEndpoint.disabled_at: None if active else now,
                t.WebhookEndpoint.disabled_reason: reason,
                t.WebhookEndpoint.version: row["version"] + 1,
            }
        )
        .where(t.WebhookEndpoint.id == row["id"])
        .run()
    )


async def enable_webhook(uow: UnitOfWork, actor: Actor, cmd: EnableWebhook) -> WebhookInfo:
    """Deliveries start again (from zero failures); those that failed meanwhile can be resent
    from the delivery log."""
    return await _set_active(uow, actor, cmd.endpoint_id, cmd.version, True)


async def disable_webhook(uow: UnitOfWork, actor: Actor, cmd: DisableWebhook) -> WebhookInfo:
    return await _set_active(uow, actor, cmd.endpoint_id, cmd.version, False)


async def delete_webhook(uow: UnitOfWork, actor: Actor, cmd: DeleteWebhook) -> None:
    """The endpoint goes; deliveries still waiting for it are given up (their log stays on
    the organisation's history as events, not as a page)."""
    async with uow:
        org, row = await _lock(actor, cmd.endpoint_id)
        _check_version(row, cmd.version)
        await t.WebhookEndpoint.delete().where(t.WebhookEndpoint.id == cmd.endpoint_id).run()
        await (
            t.Delivery.update(
                {t.Delivery.status: "failed", t.Delivery.last_error: "the endpoint was deleted"}
            )
            .where(
                (t.Delivery.channel == "webhook")
                & (t.Delivery.target == str(cmd.endpoint_id))
                & (t.Delivery.status == "pending")
            )
            .run()
        )
        record = _record(org)
        record.webhook(
            actor,
            EventKind.WEBHOOK_DELETED,
            {"endpoint_id": cmd.endpoint_id, "url": delivery.shown_url(row["url"])},
        )
        uow.note(record)
        await uow.commit()


async def resend(uow: UnitOfWork, actor: Actor, cmd: ResendDelivery) -> DeliveryInfo:
    """The delivery is due again now; the dispatcher sends it with the same `webhook-id` and
    logs a new attempt. Recorded on the organisation's stream as a change of the endpoint."""
    async with uow:
        org, row = await _lock(actor, cmd.endpoint_id)
        found = (
            await for_update(
                t.Delivery.select().where(
                    (t.Delivery.id == cmd.delivery_id)
                    & (t.Delivery.channel == "webhook")
                    & (t.Delivery.target == str(cmd.endpoint_id))
                )
            )
            .first()
            .run()
        )
        if found is None:
            raise NotFound("That delivery was not found.")
        if not row["active"]:
            raise DomainError("Enable the webhook before resending its deliveries.")
        await (
            t.Delivery.update(
                {
                    t.Delivery.status: "pending",
                    t.Delivery.next_at: uow.now,
                    t.Delivery.locked_until: None,
                }
            )
            .where(t.Delivery.id == cmd.delivery_id)
            .run()
        )
        record = _record(org)
        record.webhook(
            actor,
            EventKind.WEBHOOK_UPDATED,
            {
                "endpoint_id": cmd.endpoint_id,
                "resent": {"delivery": cmd.delivery_id, "kind": found["kind"]},
            },
        )
        uow.note(record)
        await uow.commit()
    shown = [d for d in await deliveries(actor, cmd.endpoint_id) if d.id == cmd.delivery_id]
    return shown[0] if shown else _delivery({**found, "status": "pending"}, [])


# --- Failures: counted by the dispatcher, disabling at the limit -------------------------------


async def count_failure(db: Database, endpoint_id: int, now: datetime, *, permanent: bool) -> None:
    """One more consecutive failure; at the limit (or a permanent refusal) the endpoint is
    disabled, the event recorded, and the organisation's admins told in the app and by
    e-mail (their rows written in the same transaction)."""
    uow = UnitOfWork(db, clock=lambda: now)
    actor = Actor.system("webhooks")
    async with uow:
        found = (
            await t.WebhookEndpoint.select(t.WebhookEndpoint.org)
            .where(t.WebhookEndpoint.id == endpoint_id)
            .first()
            .run()
        )
        if found is None:
            await uow.commit()
            return
        org = await lock_organisation(found["org"])
        row = (
            await for_update(t.WebhookEndpoint.select().where(t.WebhookEndpoint.id == endpoint_id))
            .first()
            .run()
        )
        if row is None or not row["active"]:
            await uow.commit()
            return
        failures = row["failures"] + 1
        if failures < WEBHOOK_DISABLE_AFTER and not permanent:
            await (
                t.WebhookEndpoint.update({t.WebhookEndpoint.failures: failures})
                .where(t.WebhookEndpoint.id == endpoint_id)
                .run()
            )
            await uow.commit()
            return
        reason = (
            "the receiver answered 410 Gone"
            if permanent
            else f"{failures} deliveries in a row failed"
        )
        await _write_active(row, False, now, reason, failures)
        data = {
            "endpoint_id": endpoint_id,
            "url": delivery.shown_url(row["url"]),
            "failures": failures,
            "reason": reason,
            "before": {"active": True},
            "after": {"active": False},
        }
        record = _record(org)
        record.webhook(actor, EventKind.WEBHOOK_DISABLED, data)
        uow.note(record)
        (disabled,) = await uow.commit()
        await _tell_admins(org, disabled.seq, plain(data), now)


async def _tell_admins(org: dict[str, Any], seq: int, data: dict[str, Any], now: datetime) -> None:
    """Inside the disabling transaction, after its event (`seq` on the organisation's stream)
    is written: an in-app notification and an e-mail delivery for each admin (an outside
    organisation has no admin role: all of its people)."""
    stream = f"org/{org['code']}"
    users = t.AppUser.select(t.AppUser.id, t.AppUser.role).where(
        (t.AppUser.org == org["code"]) & (t.AppUser.active == True)  # noqa: E712
    )
    if org["kind"] == "internal":
        users = users.where(t.AppUser.role == "admin")
    topic = Topic.WEBHOOK_DISABLED.value
    kind = EventKind.WEBHOOK_DISABLED.value
    event = {"kind": kind, "seq": seq, "at": format_time(now), "data": data}
    found = await users.run()
    if not found:
        return
    await t.Notification.insert(
        *[
            outbox.in_app(
                user["id"], topic, stream=stream, seq=seq, kind=kind, number="", data=data, now=now
            )
            for user in found
        ]
    ).run()
    await t.Delivery.insert(
        *[
            outbox.email(
                str(user["id"]),
                org["code"],
                topic,
                stream=stream,
                number="",
                side=ROLE_SIDE.get(user["role"], Side.INTERNAL).value,
                event=event,
                now=now,
            )
            for user in found
        ]
    ).run()
