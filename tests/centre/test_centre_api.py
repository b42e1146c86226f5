"""The notification centre through the API v1, as a user's app (authorization code token) uses
it: list (newest first, `unread_only`, cursor), mark one read, mark all read, preferences read
and written (the change on the organisation's timeline; a bad topic refused with nothing
changed). Another user's notification is 404; a client acting for its organisation has no
notifications and is told so. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from centre_support import API, World, running

from portal.db import tables as t
from portal.db.database import Database
from portal.domain.actors import Actor
from portal.services.accounts import CLI_ACTOR_NAME, history

T0 = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}


async def four_for_ann(world: World) -> list[int]:
    ids = []
    for n, day in enumerate(("2026-12-10", "2026-12-11", "2026-12-12", "2026-12-13")):
        ids.append(
            await world.notify(
                "ann@cus.test",
                "line.expected_date_changed",
                "expected_date_moved",
                "SO-CUS-1",
                {"line_no": 1, "before": "2026-12-03", "after": day, "cause": "promise_changed"},
                at=T0 + timedelta(hours=n),
                seq=n + 1,
            )
        )
    return ids


async def as_ann(world: World) -> tuple[httpx.AsyncClient, dict[str, str]]:
    browser = await world.signed_in("ann@cus.test")
    return browser, bearer(await world.user_token(browser))


async def test_list_newest_first_by_cursor_and_unread_only(db: Database, database_url: str) -> None:
    async with running(database_url) as world:
        ids = await four_for_ann(world)
        bobs = await world.notify(
            "bob@cus.test",
            "so.delivered",
            "delivered",
            "SO-CUS-1",
            {"delivered_on": "2026-12-11"},
            at=T0,
        )
        http, headers = await as_ann(world)

        first = await http.get(f"{API}/notifications", params={"limit": 3}, headers=headers)
        assert first.status_code == 200, first.text
        body = first.json()
        assert [item["id"] for item in body["items"]] == [ids[3], ids[2], ids[1]]
        assert body["unread_count"] == 4
        newest = body["items"][0]
        assert newest == {
            "id": ids[3],
            "topic": "expected_date_moved",
            "kind": "line.expected_date_changed",
            "number": "SO-CUS-1",
            "title": "Order SO-CUS-1: expected date moved",
            "body": "Order SO-CUS-1: expected date moved from Dec 3, 2026 to Dec 13, 2026 "
            "(line 1). Reason: Our supply schedule changed.",
            "path": "/orders/SO-CUS-1",
            "created_at": "2026-11-20T04:30:00Z",
            "read_at": None,
            "unread": True,
        }
        assert body["next_cursor"] == str(ids[1])
        assert first.headers["link"] == f'<{body["next"]}>; rel="next"'

        rest = await http.get(body["next"], headers=headers)
        assert [item["id"] for item in rest.json()["items"]] == [ids[0]]
        assert rest.json()["next_cursor"] is None
        assert bobs not in [item["id"] for item in rest.json()["items"]]

        read = await http.post(f"{API}/notifications/{ids[2]}/read", headers=headers)
        assert read.status_code == 200
        assert read.json()["unread"] is False and read.json()["read_at"] is not None
        unread = await http.get(
            f"{API}/notifications", params={"unread_only": "true"}, headers=headers
        )
        assert [item["id"] for item in unread.json()["items"]] == [ids[3], ids[1], ids[0]]
        assert unread.json()["unread_count"] == 3

        bad = await http.get(f"{API}/notifications", params={"cursor": "abc"}, headers=headers)
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "cursor"


async def test_mark_all_read(db: Database, database_url: str) -> None:
    async with running(database_url) as world:
        await four_for_ann(world)
        bobs = await world.notify(
            "bob@cus.test",
            "so.delivered",
            "delivered",
            "SO-CUS-1",
            {"delivered_on": "2026-12-11"},
            at=T0,
        )
        http, headers = await as_ann(world)
        done = await http.post(f"{API}/notifications/read-all", headers=headers)
        assert done.status_code == 200
        assert done.json() == {"marked": 4, "unread_count": 0}
        again = await http.post(f"{API}/notifications/read-all", headers=headers)
        assert again.json() == {"marked": 0, "unread_count": 0}
        listed = await http.get(f"{API}/notifications", headers=headers)
        assert all(item["unread"] is False for item in listed.json()["items"])
        row = (
            await t.Notification.select(t.Notification.read_at)
            .where(t.Notification.id == bobs)
            .first()
            .run()
        )
        assert row is not None and row["read_at"] is None


async def test_another_users_notification_is_not_found_even_in_the_same_organisation(
    db: Database, database_url: str
) -> None:
    async with running(database_url) as world:
        bobs = await world.notify(
            "bob@cus.test",
            "so.delivered",
            "delivered",
            "SO-CUS-1",
            {"delivered_on": "2026-12-11"},
            at=T0,
        )
        http, headers = await as_ann(world)
        for target in (bobs, 987654):
            refused = await http.post(f"{API}/notifications/{target}/read", headers=headers)
            assert refused.status_code == 404
            assert refused.headers["content-type"].startswith("application/problem+json")
        row = (
            await t.Notification.select(t.Notification.read_at)
            .where(t.Notification.id == bobs)
            .first()
            .run()
        )
        assert row is not None and row["read_at"] is None


async def test_a_client_acting_for_its_organisation_has_no_notifications(
    db: Database, database_url: str
) -> None:
    async with running(database_url) as world:
        ids = await four_for_ann(world)
        http = world.browser()
        headers = bearer(await world.client_token())
        for method, path in (
            ("GET", f"{API}/notifications"),
            ("POST", f"{API}/notifications/{ids[0]}/read"),
            ("POST", f"{API}/notifications/read-all"),
            ("GET", f"{API}/notification-preferences"),
        ):
            answer = await http.request(method, path, headers=headers)
            assert answer.status_code == 403, (path, answer.text)
            problem = answer.json()
            assert problem["type"] == "urn:portal:problem:no-personal-notifications"
            assert "client credentials" in problem["detail"]
        refused = await http.put(
            f"{API}/notification-preferences",
            json={"preferences": [{"topic": "shipped", "email": False}]},
            headers=headers,
        )
        assert refused.status_code == 403
        assert await t.Notification.count().where(t.Notification.read_at.is_not_null()).run() == 0
        assert await t.NotificationPreference.count().run() == 0


def topics(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["topic"]: row for row in body["preferences"]}


async def test_preferences_round_trip_with_the_change_on_the_timeline(
    db: Database, database_url: str
) -> None:
    async with running(database_url) as world:
        http, headers = await as_ann(world)
        url = f"{API}/notification-preferences"
        defaults = await http.get(url, headers=headers)
        assert defaults.status_code == 200
        assert list(topics(defaults.json())) == [
            "order_confirmed",
            "expected_date_moved",
            "shipped",
            "delivered",
            "comment",
        ]
        assert all(
            row == {**row, "in_app": True, "email": True, "delivery": "immediately"}
            for row in defaults.json()["preferences"]
        )

        changed = await http.put(
            url,
            json={
                "preferences": [
                    {"topic": "shipped", "in_app": True, "email": False},
                    {"topic": "comment", "in_app": False, "email": True, "delivery": "digest"},
                ]
            },
            headers=headers,
        )
        assert changed.status_code == 200, changed.text
        now = topics(changed.json())
        assert now["shipped"] == {
            "topic": "shipped",
            "in_app": True,
            "email": False,
            "delivery": "immediately",
        }
        assert now["comment"] == {
            "topic": "comment",
            "in_app": False,
            "email": True,
            "delivery": "digest",
        }
        assert now["delivered"]["email"] is True
        assert topics((await http.get(url, headers=headers)).json()) == now

        events = await history(Actor.system(CLI_ACTOR_NAME), "CUS")
        recorded = [event for event in events if event.kind == "notification.preferences_changed"]
        assert len(recorded) == 1
        assert recorded[0].data["user_id"] == world.users["ann@cus.test"]
        assert recorded[0].data["after"] == {
            "shipped": {"in_app": True, "email": False, "digest": False},
            "comment": {"in_app": False, "email": True, "digest": True},
        }
        assert recorded[0].via.value == "api"

        # Bob's preferences are his own.
        bob = await world.signed_in("bob@cus.test")
        bobs = await world.user_token(bob)
        assert topics((await http.get(url, headers=bearer(bobs))).json())["shipped"]["email"]


async def test_a_topic_of_another_side_is_refused_and_nothing_changes(
    db: Database, database_url: str
) -> None:
    async with running(database_url) as world:
        http, headers = await as_ann(world)
        url = f"{API}/notification-preferences"
        for body in (
            {
                "preferences": [
                    {"topic": "shipped", "email": False},
                    {"topic": "new_purchase_order"},
                ]
            },
            {"preferences": [{"topic": "shipped"}, {"topic": "shipped", "email": False}]},
            {"preferences": [{"topic": "shipped", "delivery": "weekly"}]},
        ):
            refused = await http.put(url, json=body, headers=headers)
            assert refused.status_code == 422, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
        first = (
            await http.put(
                url, json={"preferences": [{"topic": "new_purchase_order"}]}, headers=headers
            )
        ).json()
        assert first["errors"][0]["field"] == "preferences[0].topic"
        assert "Not a topic you can choose" in first["errors"][0]["message"]
        assert await t.NotificationPreference.count().run() == 0
        events = await history(Actor.system(CLI_ACTOR_NAME), "CUS")
        assert "notification.preferences_changed" not in [event.kind for event in events]


async def test_the_schema_documents_the_routes_with_examples(
    db: Database, database_url: str
) -> None:
    async with running(database_url) as world:
        schema = (await world.browser().get("/schema/openapi.json")).json()
        paths = schema["paths"]
        listed = paths["/api/v1/notifications"]["get"]
        assert listed["security"] == [{"oauth2": ["notify"]}]
        example = next(
            iter(listed["responses"]["200"]["content"]["application/json"]["examples"].values())
        )
        assert example["value"]["items"][0]["path"] == "/orders/SO-2026-00012"
        put = paths["/api/v1/notification-preferences"]["put"]
        body = put["requestBody"]["content"]["application/json"]["schema"]
        assert body["examples"][0]["preferences"][2] == {
            "topic": "comment",
            "in_app": True,
            "email": True,
            "delivery": "digest",
        }
        assert "422" in put["responses"]
        assert "post" in paths["/api/v1/notifications/{notification_id}/read"]
        assert "post" in paths["/api/v1/notifications/read-all"]
