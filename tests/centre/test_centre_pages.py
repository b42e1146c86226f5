# ruff: noqa: RUF001  (the Chinese a reader reads has full-width punctuation)
"""The notification centre as a signed-in person uses it: the bell's count, the list (newest
first, unread marked, paged), opening one (marks it read, goes to the order), marking all read,
and the preferences table; nobody ever reaches another user's notification. SQLite and
PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from auth_support import csrf_token_of
from centre_support import World, count_of, running, seed_orders

from portal.db import tables as t
from portal.db.database import Database
from portal.domain.actors import Actor
from portal.services.accounts import CLI_ACTOR_NAME, history

T0 = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)


async def three_for_ann(world: World) -> dict[str, int]:
    ids = {
        "moved": await world.notify(
            "ann@cus.test",
            "line.expected_date_changed",
            "expected_date_moved",
            "SO-CUS-1",
            {
                "line_no": 1,
                "before": "2026-12-03",
                "after": "2026-12-10",
                "cause": "promise_changed",
            },
            at=T0,
        ),
        "comment": await world.notify(
            "ann@cus.test",
            "comment.added",
            "comment",
            "SO-CUS-1",
            {"text": "Your pallets are ready."},
            at=T0 + timedelta(hours=1),
        ),
        "shipped": await world.notify(
            "ann@cus.test",
            "so.shipped",
            "shipped",
            "SO-CUS-1",
            {"carrier": "SF Express", "tracking_no": "SF100", "shipped_on": "2026-12-09"},
            at=T0 + timedelta(hours=2),
        ),
    }
    ids["bobs"] = await world.notify(
        "bob@cus.test",
        "so.delivered",
        "delivered",
        "SO-CUS-1",
        {"delivered_on": "2026-12-11"},
        at=T0 + timedelta(hours=3),
    )
    return ids


def titles(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", found).strip()
        for found in re.findall(r'<button type="submit" class="link">(.*?)</button>', html, re.S)
    ]


async def test_the_bell_and_the_list_newest_first_with_unread_marked(
    db: Database, database_url: str
) -> None:
    async with running(database_url) as world:
        await three_for_ann(world)
        ann = await world.signed_in("ann@cus.test")

        home = await ann.get("/")
        assert 'id="notification-bell"' in home.text
        assert 'sse-connect="/live/notifications"' in home.text
        bell = await ann.get("/notifications/bell")
        assert bell.status_code == 200
        assert count_of(bell.text) == "3"

        page = await ann.get("/notifications")
        assert page.status_code == 200
        assert titles(page.text) == [
            "Order SO-CUS-1 shipped",
            "New comment on order SO-CUS-1",
            "Order SO-CUS-1: expected date moved",
        ]
        assert "Shipped on Dec 9, 2026 with SF Express, tracking number SF100." in page.text
        assert "Your pallets are ready." in page.text
        assert "3 unread" in page.text
        assert page.text.count('class="event unread"') == 3
        # In Ann's time zone (Asia/Shanghai): 01:30 UTC is 9:30 AM there.
        assert "Nov 20, 2026, 9:30" in page.text
        # Bob's notification is Bob's.
        assert "delivered" not in page.text.lower()


async def test_opening_one_marks_it_read_and_goes_to_the_order(
    db: Database, database_url: str
) -> None:
    async with running(database_url) as world:
        ids = await three_for_ann(world)
        ann = await world.signed_in("ann@cus.test")
        page = await ann.get("/notifications")

        opened = await ann.post(
            f"/notifications/{ids['comment']}/open",
            data={"_csrf_token": csrf_token_of(page.text)},
        )
        assert opened.status_code == 303
        assert opened.headers["location"] == "/orders/SO-CUS-1"

        assert count_of((await ann.get("/notifications/bell")).text) == "2"
        page = await ann.get("/notifications")
        assert "2 unread" in page.text
        item = re.search(rf'<li id="notification-{ids["comment"]}" class="([^"]+)"', page.text)
        assert item is not None and item.group(1) == "event"

        # Opening it again keeps the first time it was read.
        first = (
            await t.Notification.select(t.Notification.read_at)
            .where(t.Notification.id == ids["comment"])
            .first()
            .run()
        )
        await ann.post(
            f"/notifications/{ids['comment']}/read", data={"_csrf_token": csrf_token_of(page.text)}
        )
        again = (
            await t.Notification.select(t.Notification.read_at)
            .where(t.Notification.id == ids["comment"])
            .first()
            .run()
        )
        assert first is not None and again is not None and again["read_at"] == first["read_at"]


async def test_mark_all_read(db: Database, database_url: str) -> None:
    async with running(database_url) as world:
        ids = await three_for_ann(world)
        ann = await world.signed_in("ann@cus.test")
        page = await ann.get("/notifications")
        done = await ann.post(
            "/notifications/read-all", data={"_csrf_token": csrf_token_of(page.text)}
        )
        assert done.status_code == 303 and done.headers["location"] == "/notifications"

        page = await ann.get("/notifications")
        assert "0 unread" in page.text
        assert "Mark all as read" not in page.text
        assert count_of((await ann.get("/notifications/bell")).text) == "0"
        # Bob's is untouched.
        bobs = (
            await t.Notification.select(t.Notification.read_at)
            .where(t.Notification.id == ids["bobs"])
            .first()
            .run()
        )
        assert bobs is not None and bobs["read_at"] is None


async def test_another_users_notification_does_not_exist_even_in_the_same_organisation(
    db: Database, database_url: str
) -> None:
    async with running(database_url) as world:
        ids = await three_for_ann(world)
        ann = await world.signed_in("ann@cus.test")
        token = csrf_token_of((await ann.get("/notifications")).text)
        for action in ("open", "read"):
            refused = await ann.post(
                f"/notifications/{ids['bobs']}/{action}", data={"_csrf_token": token}
            )
            assert refused.status_code == 404
            missing = await ann.post(f"/notifications/987654/{action}", data={"_csrf_token": token})
            assert missing.status_code == 404
        bob = await world.signed_in("bob@cus.test")
        assert count_of((await bob.get("/notifications/bell")).text) == "1"


async def test_the_list_pages_by_twenty(db: Database, database_url: str) -> None:
    async with running(database_url) as world:
        for n in range(25):
            await world.notify(
                "ann@cus.test",
                "comment.added",
                "comment",
                "SO-CUS-1",
                {"text": f"Message number {n:02d}."},
                at=T0 + timedelta(minutes=n),
                seq=n + 1,
            )
        ann = await world.signed_in("ann@cus.test")
        first = await ann.get("/notifications")
        assert first.text.count('class="event unread"') == 20
        assert "Message number 24." in first.text and "Message number 05." in first.text
        assert "Message number 04." not in first.text
        assert 'href="/notifications?page=2"' in first.text
        second = await ann.get("/notifications?page=2")
        assert second.text.count('class="event unread"') == 5
        assert "Message number 04." in second.text and "Message number 00." in second.text
        assert 'href="/notifications?page=3"' not in second.text


async def test_a_shipment_reaches_the_customers_bell_and_list_through_the_dispatcher(
    db: Database, database_url: str
) -> None:
    async with running(database_url) as world:
        await seed_orders(world.db)
        assert await world.ship("SO-CUS-1", "SF Express", "SF777", date(2026, 12, 9)) > 0
        for email in ("ann@cus.test", "bob@cus.test"):
            browser = await world.signed_in(email)
            page = await browser.get("/notifications")
            assert "Order SO-CUS-1 shipped" in page.text
            assert "Shipped on Dec 9, 2026 with SF Express, tracking number SF777." in page.text
            assert "Order SO-CUS-1: expected date moved" in page.text  # when it was linked
            assert count_of((await browser.get("/notifications/bell")).text) == "2"
        eve = await world.signed_in("eve@cus2.test")
        assert "SO-CUS-1" not in (await eve.get("/notifications")).text


async def test_preferences_defaults_then_saved_with_the_change_on_the_timeline(
    db: Database, database_url: str
) -> None:
    async with running(database_url) as world:
        ann = await world.signed_in("ann@cus.test")
        page = await ann.get("/notifications/preferences")
        assert page.status_code == 200
        rows = re.findall(r'<tr id="preference-([a-z_]+)"', page.text)
        assert rows == ["order_confirmed", "expected_date_moved", "shipped", "delivered", "comment"]
        # Defaults: in the app and by e-mail, at once.
        assert page.text.count(" checked") == 10
        assert "New purchase orders" not in page.text

        form = {"_csrf_token": csrf_token_of(page.text), "topic": rows}
        for topic in rows:
            form[f"{topic}.in_app"] = "1"
            form[f"{topic}.email"] = "1"
            form[f"{topic}.when"] = "immediately"
        del form["shipped.email"]
        form["comment.when"] = "digest"
        saved = await ann.post("/notifications/preferences", data=form)
        assert saved.status_code == 303
        assert saved.headers["location"] == "/notifications/preferences?saved=1"

        page = await ann.get(saved.headers["location"])
        assert "Your notification preferences are saved." in page.text
        shipped = re.search(r'<tr id="preference-shipped">.*?</tr>', page.text, re.S)
        assert shipped is not None
        assert 'name="shipped.in_app" value="1"\n' in shipped.group(
            0
        ) or "checked" in shipped.group(0)
        assert 'name="shipped.email"' in shipped.group(0)
        assert shipped.group(0).count("checked") == 1  # in the app only
        comment = re.search(r'<tr id="preference-comment">.*?</tr>', page.text, re.S)
        assert comment is not None and '<option value="digest" selected>' in comment.group(0)

        events = await history(Actor.system(CLI_ACTOR_NAME), "CUS")
        changed = [event for event in events if event.kind == "notification.preferences_changed"]
        assert len(changed) == 1
        assert changed[0].data == {
            "user_id": world.users["ann@cus.test"],
            "before": {
                "shipped": {"in_app": True, "email": True, "digest": False},
                "comment": {"in_app": True, "email": True, "digest": False},
            },
            "after": {
                "shipped": {"in_app": True, "email": False, "digest": False},
                "comment": {"in_app": True, "email": True, "digest": True},
            },
        }
        assert changed[0].actor["name"] == "ann@cus.test"

        # Saving the same again changes nothing and records nothing.
        again = await ann.post(
            "/notifications/preferences", data={**form, "_csrf_token": csrf_token_of(page.text)}
        )
        assert again.status_code == 303
        events = await history(Actor.system(CLI_ACTOR_NAME), "CUS")
        assert [e.kind for e in events].count("notification.preferences_changed") == 1


async def test_a_topic_of_another_side_is_refused_and_nothing_changes(
    db: Database, database_url: str
) -> None:
    async with running(database_url) as world:
        ann = await world.signed_in("ann@cus.test")
        page = await ann.get("/notifications/preferences")
        refused = await ann.post(
            "/notifications/preferences",
            data={
                "_csrf_token": csrf_token_of(page.text),
                "topic": ["shipped", "new_purchase_order"],
                "new_purchase_order.in_app": "1",
            },
        )
        assert refused.status_code == 422
        assert "There is no notification topic &#39;new_purchase_order&#39; for you" in refused.text
        assert await t.NotificationPreference.count().run() == 0
        events = await history(Actor.system(CLI_ACTOR_NAME), "CUS")
        assert "notification.preferences_changed" not in [e.kind for e in events]


async def test_the_pages_in_chinese_for_a_supplier(db: Database, database_url: str) -> None:
    async with running(database_url) as world:
        await world.notify(
            "li@acme.test",
            "po.issued",
            "new_purchase_order",
            "PO-ACME-1",
            {"lines": [{"line_no": 1, "need_date": "2026-12-03"}]},
            at=T0,
        )
        li = await world.signed_in("li@acme.test")
        page = await li.get("/notifications")
        assert "新采购订单 PO-ACME-1" in page.text
        assert "共 1 行，最早需求日期 2026年12月3日。请确认该订单。" in page.text
        assert "全部标为已读" in page.text
        prefs = await li.get("/notifications/preferences")
        assert re.findall(r'<tr id="preference-([a-z_]+)"', prefs.text) == [
            "new_purchase_order",
            "change_request",
            "order_cancelled",
            "comment",
        ]
        assert "通知偏好" in prefs.text and "每日摘要" in prefs.text
        token = csrf_token_of(page.text)
        notification = await t.Notification.select(t.Notification.id).first().run()
        assert notification is not None
        opened = await li.post(
            f"/notifications/{notification['id']}/open", data={"_csrf_token": token}
        )
        assert opened.headers["location"] == "/supplier/purchase-orders/PO-ACME-1"
