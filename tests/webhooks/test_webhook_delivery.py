"""Webhook deliveries end to end: an order event, the dispatcher, a real HTTP receiver on
127.0.0.1, and the signature checked with the `standardwebhooks` package as a subscriber would.
On SQLite and PostgreSQL (the `world` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from webhook_support import ADMIN, SAM, SUE, World, issue, org_events, receiver, settings

from portal.db import tables as t
from portal.domain.actors import Actor
from portal.domain.errors import DomainError
from portal.domain.notifications import WEBHOOK_DISABLE_AFTER
from portal.notify import webhooks
from portal.services import webhooks as service


async def subscribe(
    world: World, url: str, kinds: tuple[str, ...] = (), actor: Actor = SUE
) -> service.IssuedWebhookSecret:
    return await service.create_webhook(
        world.uow(), world.settings, actor, service.CreateWebhook(url=url, kinds=kinds)
    )


async def endpoint_row(endpoint_id: int) -> dict[str, Any]:
    row = await t.WebhookEndpoint.select().where(t.WebhookEndpoint.id == endpoint_id).first().run()
    assert row is not None
    found: dict[str, Any] = row
    return found


async def attempts_of(endpoint_id: int) -> list[dict[str, object]]:
    deliveries = (
        await t.Delivery.select(t.Delivery.id)
        .where((t.Delivery.channel == "webhook") & (t.Delivery.target == str(endpoint_id)))
        .run()
    )
    ids = [row["id"] for row in deliveries]
    rows = (
        await t.DeliveryAttempt.select()
        .where(t.DeliveryAttempt.delivery.is_in(ids or [0]))
        .order_by(t.DeliveryAttempt.id)
        .run()
    )
    return list(rows)


def test_signatures_follow_the_specifications_published_example() -> None:
    # The test vector of the Standard Webhooks specification.
    signed = webhooks.sign(
        ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        '{"test": 2432232314}',
    )
    assert signed == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


async def test_an_order_event_reaches_the_receiver_signed_and_verifiable(world: World) -> None:
    with receiver() as hook, receiver() as other:
        issued = await subscribe(world, hook.url, ("po.issued",))
        # Another supplier listening to everything hears nothing of SUP1's order.
        await subscribe(world, other.url, actor=SAM)
        await issue(world.uow(), "PO-WH-1")
        await world.dispatch()

        assert len(hook.received) == 1
        got = hook.received[0]
        assert got.path == "/hooks/portal"
        assert got.headers["content-type"] == "application/json"
        body = Webhook(issued.secret).verify(got.body, got.headers)
        assert got.headers["webhook-id"].startswith("msg_")
        assert body["type"] == "po.issued"
        data = body["data"]
        assert (data["order_type"], data["number"], data["kind"]) == (
            "purchase_order",
            "PO-WH-1",
            "po.issued",
        )
        assert data["seq"] >= 1 and data["at"].endswith("Z")
        assert "actor" not in data and "Bea Buyer" not in got.body.decode()
        assert other.received == []
        # A wrong secret does not verify.
        with pytest.raises(WebhookVerificationError):
            Webhook(webhooks.new_secret()).verify(got.body, got.headers)
    [attempt] = await attempts_of(issued.endpoint.id)
    assert (attempt["ok"], attempt["status_code"]) == (True, 200)


async def test_during_a_rotation_both_secrets_verify_then_only_the_new_one(world: World) -> None:
    with receiver() as hook:
        first = await subscribe(world, hook.url)
        second = await service.rotate_secret(
            world.uow(), SUE, service.RotateWebhookSecret(first.endpoint.id)
        )
        assert second.secret != first.secret
        await issue(world.uow(), "PO-WH-2")
        await world.dispatch()
        [got] = hook.received
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    assert Webhook(first.secret).verify(got.body, got.headers)["data"]["number"] == "PO-WH-2"
    assert Webhook(second.secret).verify(got.body, got.headers)["data"]["number"] == "PO-WH-2"

    row = await endpoint_row(first.endpoint.id)
    now = datetime.now(UTC)
    assert webhooks.live_secrets(row["secrets"], now) == [second.secret, first.secret]
    assert webhooks.live_secrets(row["secrets"], now + timedelta(hours=25)) == [second.secret]
    [event] = [e for e in await org_events("SUP1") if e.kind == "webhook.secret_rotated"]
    assert first.secret not in str(event.data) and second.secret not in str(event.data)


async def test_a_receiver_answering_500_then_200_gets_it_once_more_with_the_same_id(
    world: World,
) -> None:
    with receiver(500) as hook:
        issued = await subscribe(world, hook.url, ("po.issued",))
        await issue(world.uow(), "PO-WH-3")
        await world.dispatch()
        assert len(hook.received) == 1
        row = await t.WebhookEndpoint.select().where(t.WebhookEndpoint.id == issued.endpoint.id)
        assert row[0]["failures"] == 1
        await world.dispatch()  # the retry is due at once (retry_scale 0)
        await world.dispatch()  # nothing more to do
        first, second = hook.received
    assert len(hook.received) == 2
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    attempts = await attempts_of(issued.endpoint.id)
    assert [(a["ok"], a["status_code"]) for a in attempts] == [(False, 500), (True, 200)]
    assert "receiver says no" in str(attempts[0]["detail"])
    [delivery] = await t.Delivery.select().where(t.Delivery.channel == "webhook").run()
    assert delivery["status"] == "sent"
    row = await t.WebhookEndpoint.select().where(t.WebhookEndpoint.id == issued.endpoint.id)
    assert row[0]["failures"] == 0


async def test_repeated_failures_disable_the_endpoint_and_tell_the_organisation(
    world: World,
) -> None:
    with receiver(*([500] * (WEBHOOK_DISABLE_AFTER + 5))) as hook:
        issued = await subscribe(world, hook.url)
        await issue(world.uow(), "PO-WH-4")
        for _ in range(WEBHOOK_DISABLE_AFTER + 2):
            await world.dispatch()
        tried = len(hook.received)
    assert tried == WEBHOOK_DISABLE_AFTER  # then it stopped calling
    row = await endpoint_row(issued.endpoint.id)
    assert row["active"] is False and row["disabled_at"] is not None
    assert f"{WEBHOOK_DISABLE_AFTER} deliveries in a row failed" in row["disabled_reason"]
    [disabled] = [e for e in await org_events("SUP1") if e.kind == "webhook.disabled"]
    assert disabled.actor["kind"] == "system"
    assert disabled.data["endpoint_id"] == issued.endpoint.id
    assert [side.value for side in disabled.audience] == ["internal", "supplier"]
    # SUP1 has no admin role: all its people are told, in the app and by e-mail; nobody else.
    told = await t.Notification.select().where(t.Notification.topic == "webhook_disabled").run()
    assert sorted(n["user_id"] for n in told) == sorted([world.ids["sue"], world.ids["sid"]])
    assert all(n["stream"] == "org/SUP1" and n["seq"] == disabled.seq for n in told)
    mails = (
        await t.Delivery.select()
        .where((t.Delivery.channel == "email") & (t.Delivery.kind == "webhook.disabled"))
        .run()
    )
    assert sorted(m["target"] for m in mails) == sorted(
        [str(world.ids["sue"]), str(world.ids["sid"])]
    )
    assert [(m["stream"], m["status"], m["last_error"]) for m in mails] == [
        ("org/SUP1", "sent", "")
    ] * 2  # the dispatcher's later rounds mailed them
    assert all("Webhook disabled" in m["subject"] for m in mails)
    [delivery] = await t.Delivery.select().where(t.Delivery.channel == "webhook").run()
    assert delivery["status"] == "failed"  # the last try found the endpoint disabled


async def test_410_gone_disables_at_once_and_tells_only_our_admins(world: World) -> None:
    with receiver(410) as hook:
        issued = await subscribe(world, hook.url, ("po.issued",), actor=ADMIN)
        await issue(world.uow(), "PO-WH-5")
        await world.dispatch()  # fans out (HOME reads every order) and tries once
        [got] = hook.received
        assert got.headers["webhook-id"].startswith("msg_")
    # The dispatcher passes no `permanent`; a subscriber's own sender does:
    attempt = webhooks.Attempt(False, 410, "gone", permanent=True)
    await webhooks.after_attempt(
        issued.endpoint.id, attempt.ok, datetime.now(UTC), world.db, permanent=attempt.permanent
    )
    row = await t.WebhookEndpoint.select().where(t.WebhookEndpoint.id == issued.endpoint.id)
    assert row[0]["active"] is False
    assert "410" in row[0]["disabled_reason"]
    told = await t.Notification.select().where(t.Notification.topic == "webhook_disabled").run()
    assert [n["user_id"] for n in told] == [world.ids["ada"]]  # not Bea, a buyer


async def test_send_reports_a_410_as_permanent(world: World) -> None:
    with receiver(410) as hook:
        issued = await subscribe(world, hook.url)
        delivery = {"key": "test:1", "target": str(issued.endpoint.id), "payload": {"a": 1}}
        attempt = await webhooks.send(world.settings, delivery)
        assert (attempt.ok, attempt.status_code, attempt.permanent) == (False, 410, True)
        assert Webhook(issued.secret).verify(hook.received[0].body, hook.received[0].headers)


@pytest.mark.parametrize("allow_private", [False])
async def test_loopback_and_private_addresses_are_refused_unless_allowed(world: World) -> None:
    assert world.settings.webhook_allow_private is False
    with receiver() as hook:
        for url in (hook.url, "http://localhost:8080/x", "http://10.1.2.3/x", "http://[::1]/x"):
            with pytest.raises(DomainError) as refused:
                await subscribe(world, url)
            assert "webhooks may only call public addresses" in refused.value.message
        assert await org_events("SUP1") == []
        # Allowed by the setting, then refused again at delivery when it is turned off.
        allowing = settings(world.settings.database_url, webhook_allow_private=True)
        issued = await service.create_webhook(
            world.uow(), allowing, SUE, service.CreateWebhook(url=hook.url)
        )
        delivery = {"key": "test:2", "target": str(issued.endpoint.id), "payload": {}}
        attempt = await webhooks.send(world.settings, delivery)
        assert attempt.ok is False and "127.0.0.1" in attempt.detail
        assert hook.received == []


def test_which_addresses_are_not_public() -> None:
    for address in (
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "::ffff:127.0.0.1",
        "fe80::1",
        "fc00::1",
        "::",
    ):
        assert webhooks.forbidden_address(address), address
    for address in ("93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"):
        assert not webhooks.forbidden_address(address), address


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "The webhook's URL is required."),
        ("ftp://files.example.com/x", "it must start with https:// or http://"),
        ("https://user:pw@hooks.example.com/", "no user name or password"),
        ("https:///nohost", "it must start with https:// or http://"),
    ],
)
def test_urls_that_are_not_web_addresses_are_refused(url: str, message: str) -> None:
    with pytest.raises(DomainError) as refused:
        webhooks.check_url(url)
    assert message in refused.value.message


def test_kinds_are_those_of_the_orders_the_organisation_reads() -> None:
    assert webhooks.check_kinds(["so.shipped"], "customer") == ("so.shipped",)
    assert webhooks.check_kinds([], "supplier") == ()
    with pytest.raises(DomainError) as refused:
        webhooks.check_kinds(["so.shipped"], "supplier")
    assert "Unknown event kind 'so.shipped'" in refused.value.message
    with pytest.raises(DomainError):
        webhooks.check_kinds(["po.created"], "supplier")  # a draft: never a supplier's
    assert "po.created" in webhooks.KINDS_BY_ORG_KIND["internal"]
