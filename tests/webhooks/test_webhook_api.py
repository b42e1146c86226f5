"""The webhooks API (/api/v1/webhooks) as a supplier's ERP uses it: subscribe, read, change with
versions, rotate, disable and enable, read the delivery log, resend, delete; each change on the
organisation's timeline; another organisation's endpoint does not exist. SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from standardwebhooks import Webhook
from webhook_support import SUE, World, issue, org_events, receiver

from portal.db import tables as t
from portal.services import webhooks as service

API = "/api/v1/webhooks"


async def test_an_erp_manages_its_webhook_and_every_change_is_on_the_timeline(
    world: World,
) -> None:
    erp = await world.bearer("sup1-erp")
    with receiver() as hook:
        made = await world.http.post(
            API,
            json={"url": hook.url, "kinds": ["po.issued"], "description": "ERP inbound"},
            headers=erp,
        )
        assert made.status_code == 201, made.text
        body = made.json()
        webhook_id = body["webhook"]["id"]
        assert made.headers["location"] == f"{API}/{webhook_id}"
        assert made.headers["etag"] == '"1"'
        assert made.headers["cache-control"] == "no-store"
        assert body["secret"].startswith("whsec_")
        assert body["webhook"]["kinds"] == ["po.issued"]
        assert body["webhook"]["org"] == "SUP1"
        secret = body["secret"]

        read = await world.http.get(made.headers["location"], headers=erp)
        assert read.status_code == 200 and read.headers["etag"] == '"1"'
        assert "secret" not in read.json() and secret not in read.text
        listed = await world.http.get(API, headers=erp)
        assert [item["id"] for item in listed.json()["items"]] == [webhook_id]

        one = f"{API}/{webhook_id}"
        blind = await world.http.patch(one, json={"kinds": ["po.cancelled"]}, headers=erp)
        assert blind.status_code == 428
        changed = await world.http.patch(
            one, json={"kinds": ["po.cancelled", "po.issued"]}, headers={**erp, "If-Match": '"1"'}
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["kinds"] == ["po.issued", "po.cancelled"]
        assert changed.headers["etag"] == '"2"'
        stale = await world.http.patch(
            one, json={"description": "late"}, headers={**erp, "If-Match": '"1"'}
        )
        assert stale.status_code == 409
        assert stale.json()["current_version"] == 2
        assert stale.json()["current"]["kinds"] == ["po.issued", "po.cancelled"]
        wrong_kind = await world.http.patch(
            one, json={"kinds": ["so.shipped"], "version": 2}, headers=erp
        )
        assert wrong_kind.status_code == 422
        assert "Unknown event kind 'so.shipped'" in wrong_kind.json()["detail"]
        wrong_url = await world.http.patch(
            one, json={"url": "ftp://files.example.com/in", "version": 2}, headers=erp
        )
        assert wrong_url.status_code == 422
        assert "must start with https:// or http://" in wrong_url.json()["detail"]
        replaced = await world.http.put(one, json={"url": hook.url, "version": 2}, headers=erp)
        assert replaced.status_code == 200, replaced.text
        assert replaced.json()["kinds"] == [] and replaced.json()["description"] == ""

        unversioned = await world.http.post(f"{one}/rotate-secret", headers=erp)
        assert unversioned.status_code == 428
        rotated = await world.http.post(f"{one}/rotate-secret", headers={**erp, "If-Match": '"3"'})
        assert rotated.status_code == 200, rotated.text
        new_secret = rotated.json()["secret"]
        assert new_secret.startswith("whsec_") and new_secret != secret
        assert rotated.json()["webhook"]["previous_secret_expires_at"] is not None

        disabled = await world.http.post(f"{one}/disable", headers={**erp, "If-Match": '"4"'})
        assert disabled.status_code == 200 and disabled.json()["active"] is False
        again = await world.http.post(f"{one}/disable", headers={**erp, "If-Match": '"5"'})
        assert again.status_code == 422
        assert again.json()["detail"] == "This webhook is already disabled."
        enabled = await world.http.post(f"{one}/enable", headers={**erp, "If-Match": '"5"'})
        assert enabled.status_code == 200 and enabled.json()["active"] is True

        # The delivery log, and a resend that goes out with the same webhook-id.
        empty = await world.http.get(f"{one}/deliveries", headers=erp)
        assert empty.status_code == 200 and empty.json()["items"] == []
        await issue(world.uow(), "PO-API-1")
        await world.dispatch()
        log = (await world.http.get(f"{one}/deliveries", headers=erp)).json()["items"]
        delivered = [item for item in log if item["number"] == "PO-API-1"]
        assert {item["kind"] for item in delivered} == {"po.issued"}
        [first] = delivered
        assert first["status"] == "sent"
        assert [(a["ok"], a["status_code"]) for a in first["attempts"]] == [(True, 200)]
        resent = await world.http.post(f"{one}/deliveries/{first['id']}/resend", headers=erp)
        assert resent.status_code == 202, resent.text
        assert resent.json()["status"] == "pending"
        await world.dispatch()
        after = (await world.http.get(f"{one}/deliveries", headers=erp)).json()["items"]
        [again_delivered] = [item for item in after if item["id"] == first["id"]]
        assert [a["status_code"] for a in again_delivered["attempts"]] == [200, 200]
        ids = [got.headers["webhook-id"] for got in hook.received]
        assert ids == [first["message_id"]] * 2
        for got in hook.received:
            assert Webhook(new_secret).verify(got.body, got.headers)["data"]["number"] == "PO-API-1"

        assert (await world.http.delete(one, headers=erp)).status_code == 428
        gone = await world.http.delete(one, headers={**erp, "If-Match": '"6"'})
        assert gone.status_code == 204
        assert (await world.http.get(one, headers=erp)).status_code == 404

    events = await org_events("SUP1")
    assert [event.kind for event in events] == [
        "webhook.created",
        "webhook.updated",
        "webhook.updated",
        "webhook.secret_rotated",
        "webhook.disabled",
        "webhook.enabled",
        "webhook.updated",  # the resend
        "webhook.deleted",
    ]
    assert all([side.value for side in e.audience] == ["internal", "supplier"] for e in events)
    assert all(e.actor["id"] == "sup1-erp" and e.via.value == "api" for e in events)
    assert events[1].data["after"] == {"kinds": "po.issued po.cancelled"}
    assert events[6].data["resent"]["delivery"] == first["id"]
    assert not any(secret in str(e.data) or new_secret in str(e.data) for e in events)


async def test_another_organisations_webhook_does_not_exist_on_any_route(world: World) -> None:
    with receiver() as hook:
        issued = await service.create_webhook(
            world.uow(), world.settings, SUE, service.CreateWebhook(url=hook.url)
        )
    theirs = f"{API}/{issued.endpoint.id}"
    missing = f"{API}/987654"
    other = await world.bearer("sup2-erp")
    versioned = {**other, "If-Match": '"1"'}
    for path in (theirs, missing):
        answers = [
            await world.http.get(path, headers=other),
            await world.http.patch(path, json={"description": "x"}, headers=versioned),
            await world.http.put(path, json={"url": "https://a.example/"}, headers=versioned),
            await world.http.post(f"{path}/rotate-secret", headers=versioned),
            await world.http.post(f"{path}/disable", headers=versioned),
            await world.http.post(f"{path}/enable", headers=versioned),
            await world.http.get(f"{path}/deliveries", headers=other),
            await world.http.post(f"{path}/deliveries/1/resend", headers=other),
            await world.http.delete(path, headers=versioned),
        ]
        assert [answer.status_code for answer in answers] == [404] * len(answers), path
    assert (await world.http.get(API, headers=other)).json()["items"] == []
    row = await t.WebhookEndpoint.select().where(t.WebhookEndpoint.id == issued.endpoint.id)
    assert (row[0]["version"], row[0]["active"]) == (1, True)
    assert [event.kind for event in await org_events("SUP1")] == ["webhook.created"]
    assert await org_events("SUP2") == []


async def test_our_staff_read_every_webhook_and_only_admins_change_them(world: World) -> None:
    with receiver() as hook:
        issued = await service.create_webhook(
            world.uow(), world.settings, SUE, service.CreateWebhook(url=hook.url)
        )
        one = f"{API}/{issued.endpoint.id}"
        buyer = await world.bearer("home-buyer")
        assert (await world.http.get(one, headers=buyer)).status_code == 200
        refused = await world.http.post(f"{one}/disable", headers={**buyer, "If-Match": '"1"'})
        assert refused.status_code == 422
        assert refused.json()["detail"] == "Only an administrator can change webhooks."
        admin = await world.bearer("home-admin")
        disabled = await world.http.post(f"{one}/disable", headers={**admin, "If-Match": '"1"'})
        assert disabled.status_code == 200 and disabled.json()["active"] is False
        for_partner = await world.http.post(
            API, json={"url": hook.url, "org": "CUS1", "kinds": ["so.shipped"]}, headers=admin
        )
        assert for_partner.status_code == 201, for_partner.text
        assert for_partner.json()["webhook"]["org"] == "CUS1"
        # A customer's endpoint cannot ask for a purchase order's kinds.
        wrong = await world.http.post(
            API, json={"url": hook.url, "org": "CUS1", "kinds": ["po.issued"]}, headers=admin
        )
        assert wrong.status_code == 422
    [disabled_event] = [e for e in await org_events("SUP1") if e.kind == "webhook.disabled"]
    assert disabled_event.actor["id"] == "home-admin"
    [created] = await org_events("CUS1")
    assert [side.value for side in created.audience] == ["internal", "customer"]


@pytest.mark.parametrize("allow_private", [False])
async def test_a_loopback_url_is_refused_with_a_clear_message(world: World) -> None:
    erp = await world.bearer("sup1-erp")
    with receiver() as hook:
        refused = await world.http.post(API, json={"url": hook.url}, headers=erp)
    assert refused.status_code == 422
    assert "127.0.0.1" in refused.json()["detail"]
    assert "webhooks may only call public addresses" in refused.json()["detail"]
    assert await t.WebhookEndpoint.count() == 0
    assert await org_events("SUP1") == []
