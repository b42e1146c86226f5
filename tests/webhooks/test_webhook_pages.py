"""The webhook pages (/notifications/webhooks) as a supplier's person and our staff use them:
subscribe, see the secret once, change, read the history and the delivery log, resend; another
organisation's webhook is a 404. SQLite and PostgreSQL."""

from __future__ import annotations

import re

from auth_support import csrf_token_of
from webhook_support import World, issue, org_events, receiver

from portal.db import tables as t

PAGES = "/notifications/webhooks"


def webhook_id_of(html: str) -> int:
    found = re.search(r'href="/notifications/webhooks/(\d+)"', html)
    assert found, "the page links to the webhook"
    return int(found.group(1))


async def test_a_supplier_subscribes_changes_and_resends_from_the_pages(world: World) -> None:
    sue = await world.browser("sue@northwind.example", "10.2.0.10")
    with receiver() as hook:
        page = await sue.get(PAGES)
        assert page.status_code == 200
        assert "No webhooks yet." in page.text and "Add a webhook" in page.text
        token = csrf_token_of(page.text)

        refused = await sue.post(
            PAGES, data={"url": "ftp://files.example.com/x", "_csrf_token": token}
        )
        assert refused.status_code == 422
        assert "it must start with https:// or http://" in refused.text
        assert 'value="ftp://files.example.com/x"' in refused.text  # what was typed stays

        made = await sue.post(
            PAGES,
            data={
                "url": hook.url,
                "kinds": ["po.issued"],
                "description": "ERP",
                "_csrf_token": token,
            },
        )
        assert made.status_code == 200, made.text
        assert made.headers["cache-control"] == "no-store"
        assert "Copy the secret now: it is shown only this once." in made.text
        secret = re.search(r"whsec_[A-Za-z0-9+/=]+", made.text)
        assert secret
        webhook_id = webhook_id_of(made.text)

        listed = await sue.get(PAGES)
        assert hook.url in listed.text and secret.group(0) not in listed.text
        one = await sue.get(f"{PAGES}/{webhook_id}")
        assert one.status_code == 200
        assert "Webhook added" in one.text and "Rotate secret" in one.text
        assert secret.group(0) not in one.text

        changed = await sue.post(
            f"{PAGES}/{webhook_id}",
            data={
                "url": hook.url,
                "kinds": ["po.issued", "po.cancelled"],
                "description": "ERP v2",
                "version": "1",
                "_csrf_token": csrf_token_of(one.text),
            },
        )
        assert changed.status_code == 303
        one = await sue.get(f"{PAGES}/{webhook_id}")
        assert "Webhook changed" in one.text and "ERP v2" in one.text
        stale = await sue.post(
            f"{PAGES}/{webhook_id}",
            data={
                "url": hook.url,
                "description": "x",
                "version": "1",
                "_csrf_token": csrf_token_of(one.text),
            },
        )
        assert stale.status_code == 422
        assert "Someone changed this webhook since you read it" in stale.text

        await issue(world.uow(), "PO-PAGE-1")
        await world.dispatch()
        log = await sue.get(f"{PAGES}/{webhook_id}/deliveries")
        assert log.status_code == 200
        assert "PO-PAGE-1" in log.text and "Delivered" in log.text and ">200<" in log.text
        [delivery] = await t.Delivery.select().where(t.Delivery.channel == "webhook").run()
        resent = await sue.post(
            f"{PAGES}/{webhook_id}/deliveries/{delivery['id']}/resend",
            data={"_csrf_token": csrf_token_of(log.text)},
        )
        assert resent.status_code == 303
        log = await sue.get(f"{PAGES}/{webhook_id}/deliveries")
        assert "Waiting" in log.text
        await world.dispatch()
        assert len(hook.received) == 2
        assert hook.received[0].headers["webhook-id"] == hook.received[1].headers["webhook-id"]

        disabled = await sue.post(
            f"{PAGES}/{webhook_id}/disable",
            data={"version": "2", "_csrf_token": csrf_token_of(log.text)},
        )
        assert disabled.status_code == 303
        one = await sue.get(f"{PAGES}/{webhook_id}")
        assert "Enable again" in one.text and "Webhook disabled" in one.text
    await sue.aclose()
    kinds = [event.kind for event in await org_events("SUP1")]
    assert kinds == [
        "webhook.created",
        "webhook.updated",
        "webhook.updated",
        "webhook.disabled",
    ]
    assert all(event.via.value == "web" for event in await org_events("SUP1"))


async def test_another_organisations_webhook_pages_do_not_exist(world: World) -> None:
    sue = await world.browser("sue@northwind.example", "10.2.0.11")
    with receiver() as hook:
        page = await sue.get(PAGES)
        made = await sue.post(
            PAGES, data={"url": hook.url, "_csrf_token": csrf_token_of(page.text)}
        )
        webhook_id = webhook_id_of(made.text)
    await sue.aclose()
    sam = await world.browser("sam@southwind.example", "10.2.0.12")
    token = csrf_token_of((await sam.get(PAGES)).text)
    for path in (f"{PAGES}/{webhook_id}", f"{PAGES}/987654"):
        assert (await sam.get(path)).status_code == 404
        assert (await sam.get(f"{path}/deliveries")).status_code == 404
        for action in ("rotate", "disable", "enable", "delete", "deliveries/1/resend"):
            answer = await sam.post(f"{path}/{action}", data={"version": "1", "_csrf_token": token})
            assert answer.status_code == 404, (path, action)
        update = await sam.post(path, data={"url": "https://a.example/", "_csrf_token": token})
        assert update.status_code == 404
    listed = await sam.get(PAGES)
    assert "No webhooks yet." in listed.text
    await sam.aclose()
    assert [e.kind for e in await org_events("SUP1")] == ["webhook.created"]


async def test_our_buyer_reads_a_partners_webhook_but_cannot_change_it(world: World) -> None:
    sue = await world.browser("sue@northwind.example", "10.2.0.13")
    with receiver() as hook:
        page = await sue.get(PAGES)
        made = await sue.post(
            PAGES, data={"url": hook.url, "_csrf_token": csrf_token_of(page.text)}
        )
        webhook_id = webhook_id_of(made.text)
    await sue.aclose()
    bea = await world.browser("bea@home.example", "10.2.0.14")
    listed = await bea.get(PAGES)
    assert "SUP1" in listed.text and "Add a webhook" not in listed.text
    one = await bea.get(f"{PAGES}/{webhook_id}")
    assert one.status_code == 200 and "Rotate secret" not in one.text
    token = csrf_token_of(listed.text)  # the page's own (sign-out) form
    refused = await bea.post(
        f"{PAGES}/{webhook_id}/disable", data={"version": "1", "_csrf_token": token}
    )
    assert refused.status_code == 422
    assert "Only an administrator can change webhooks." in refused.text
    await bea.aclose()
